//! `contextual`: a sequence-memory detector aimed at the top of the NAB scoreboard, in the
//! spirit of HTM (Ahmad et al. 2017): values are quantised at a resolution learnt from the
//! first `learning` events; a bounded hashed table counts how often each quantum occurred
//! (spatial memory) and which quantum followed each context of the `order` previous quanta
//! (sequence memory). The raw score is `exp(-count)` of the less familiar of the two (1 for
//! a never-seen value or transition, fading as it repeats); the reported score is the HTM
//! anomaly likelihood of the raw score on NAB's log scale, halved for `quiet` events after
//! an alarm (HTM filters repeated alarms of one episode the same way).
//!
//! State per key: a `table`-entry f32 count table (16 KiB by default), the last `order`
//! quanta, the likelihood's `short + long` f64 values (≈ 40 KiB by default), and up to
//! `learning` values while learning.

use serde::{Deserialize, Serialize};

use super::likelihood::{log_likelihood, AnomalyLikelihood};
use super::{Detector, Verdict};

/// Parameters of `contextual(…)`. Defaults chosen by two-fold cross-validation over the 12
/// NAB files (`weir bench nab --cross-validate`): the set whose threshold transfers best.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContextualParams {
    /// Quanta across the range seen while learning.
    pub bins: usize,
    /// Previous quanta that form a context.
    pub order: usize,
    /// Events used to learn the resolution (no anomalies are reported before).
    pub learning: usize,
    /// Raw scores averaged in the likelihood's short window.
    pub short: usize,
    /// Averages in the likelihood's long-term distribution.
    pub long: usize,
    /// Entries of the transition count table.
    pub table: usize,
    /// `is_anomaly` when the score reaches this (0.5 is a likelihood of 0.99999).
    pub threshold: f64,
    /// Events after an anomaly during which scores are halved: one episode, one alarm.
    pub quiet: usize,
}

impl Default for ContextualParams {
    fn default() -> Self {
        ContextualParams {
            bins: 20,
            order: 1,
            learning: 300,
            short: 5,
            long: 5000,
            table: 4096,
            threshold: 0.5,
            quiet: 200,
        }
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Contextual {
    params: ContextualParams,
    learning_values: Vec<f64>,
    origin: f64,
    resolution: f64,
    counts: Vec<f32>,
    context: Vec<i64>,
    likelihood: AnomalyLikelihood,
    /// Events since the last anomaly (`usize::MAX`: none yet).
    since_alarm: usize,
}

impl Contextual {
    /// A detector with nothing learnt.
    pub fn new(params: ContextualParams) -> Contextual {
        let params = ContextualParams {
            bins: params.bins.max(2),
            table: params.table.max(64),
            ..params
        };
        Contextual {
            learning_values: Vec::new(),
            origin: 0.0,
            resolution: 0.0,
            counts: vec![0.0; params.table],
            context: Vec::with_capacity(params.order + 1),
            likelihood: AnomalyLikelihood::new(params.short, params.long, params.learning),
            since_alarm: usize::MAX,
            params,
        }
    }

    fn slot(&self, quantum: i64) -> usize {
        self.slot_in(&self.context, quantum)
    }

    fn slot_in(&self, context: &[i64], quantum: i64) -> usize {
        // FxHash-style mixing of the context and the quantum; deterministic everywhere.
        let mut h: u64 = 0x9E37_79B9_7F4A_7C15 ^ (context.len() as u64);
        for &q in context.iter().chain(std::iter::once(&quantum)) {
            h = (h.rotate_left(5) ^ (q as u64)).wrapping_mul(0x517C_C1B7_2722_0A95);
        }
        (h % self.counts.len() as u64) as usize
    }

    fn quantum(&self, x: f64) -> i64 {
        ((x - self.origin) / self.resolution).floor() as i64
    }
}

impl Detector for Contextual {
    fn saved(&self) -> Option<super::SavedDetectorRef<'_>> {
        Some(super::SavedDetectorRef::Contextual(self))
    }

    fn update(&mut self, x: f64) -> Verdict {
        if self.resolution == 0.0 {
            self.learning_values.push(x);
            if self.learning_values.len() < self.params.learning.max(2) {
                return Verdict::NORMAL;
            }
            let lo = self
                .learning_values
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min);
            let hi = self
                .learning_values
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
            self.origin = lo;
            self.resolution = span / self.params.bins as f64;
            let values = std::mem::take(&mut self.learning_values);
            for v in values {
                self.observe(v);
            }
            return Verdict::NORMAL;
        }
        let raw = self.observe(x);
        let mut score = log_likelihood(self.likelihood.update(raw));
        // Like HTM's redundancy filter: an alarm's own episode does not raise new alarms.
        let quiet = self.since_alarm < self.params.quiet;
        if quiet {
            score *= 0.5;
        }
        // A high score inside the quiet period extends it rather than raising a new alarm.
        if score >= self.params.threshold {
            self.since_alarm = 0;
        } else {
            self.since_alarm = self.since_alarm.saturating_add(1);
        }
        Verdict {
            score,
            is_anomaly: !quiet && score >= self.params.threshold,
        }
    }
}

impl Contextual {
    /// Scores the transition to `x`'s quantum, learns it and moves the context on.
    fn observe(&mut self, x: f64) -> f64 {
        let q = self.quantum(x);
        let temporal = if self.context.len() < self.params.order {
            0.0
        } else {
            let seen = self.counts[self.slot(q)]
                + 0.5 * (self.counts[self.slot(q - 1)] + self.counts[self.slot(q + 1)]);
            (-f64::from(seen)).exp()
        };
        // How new the value itself is, whatever came before it.
        let spatial_slot = self.slot_in(&[], q);
        let spatial = (-f64::from(self.counts[spatial_slot])).exp();
        self.counts[spatial_slot] += 1.0;
        let raw = temporal.max(spatial);
        if self.context.len() == self.params.order {
            let s = self.slot(q);
            self.counts[s] += 1.0;
            self.context.remove(0);
        }
        if self.params.order > 0 {
            self.context.push(q);
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pattern_raises_the_score() {
        let mut d = Contextual::new(ContextualParams {
            learning: 100,
            long: 1000,
            ..ContextualParams::default()
        });
        let pattern = [1.0, 5.0, 3.0, 8.0, 2.0, 6.0];
        let mut max_normal: f64 = 0.0;
        for i in 0..3000 {
            let v = d.update(pattern[i % pattern.len()]);
            if i > 1000 {
                max_normal = max_normal.max(v.score);
            }
        }
        assert!(max_normal < 0.5, "regular pattern peaks at {max_normal}");
        let mut peak: f64 = 0.0;
        for i in 0..30 {
            peak = peak.max(d.update(pattern[(i * 5) % pattern.len()] * 0.5 + 9.0).score);
        }
        assert!(peak >= 0.5, "broken pattern peaks at {peak}");
    }

    #[test]
    fn one_episode_raises_one_alarm() {
        let mut d = Contextual::new(ContextualParams {
            learning: 100,
            long: 1000,
            quiet: 50,
            ..ContextualParams::default()
        });
        for i in 0..2000 {
            d.update(((i % 7) as f64) * 2.0);
        }
        // A long run of never-seen values: one alarm, then quiet while it lasts.
        let alarms = (0..40).filter(|_| d.update(500.0).is_anomaly).count();
        assert_eq!(alarms, 1);
    }
}
