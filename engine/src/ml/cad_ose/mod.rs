//! `cad_ose`: a port of CAD OSE, the Contextual Anomaly Detector — open-source edition
//! (M. Smirnov, 2016; 69.9 standard on the full NAB corpus as `contextOSE`), written from
//! its published description. Each value is quantised to `2^bits` levels of `[min, max]`
//! and becomes `bits` sensor facts (one per bit position and value); the context memory
//! (`memory`) learns which facts follow which. The raw score is high when few of the
//! contexts whose left side matched became active and many new contexts had to be
//! learnt, and zero when the memory predicted every fact of the value; a score is reported
//! only if no score of the previous `rest` steps reached `threshold` (one alarm per
//! episode), and the first `rest` steps report 0.
//!
//! Without `min`/`max` the range is that of the first `learning` values, which are held
//! and then fed in order (NAB's harness gives the file's range instead; `weir bench nab`
//! does the same for the reproduction run). Values outside the range go to the end levels.
//!
//! State per key: the context memory, at most `contexts` contexts (each ≈ 160 bytes with
//! its semi-contexts and fact index: 64 Ki contexts ≈ 10 MiB); the last `rest` scores; up
//! to `learning` values while learning the range.

mod memory;
pub mod reference_order;

use std::collections::VecDeque;

use hashbrown::HashSet;
use serde::{Deserialize, Serialize};

use self::memory::{ContextMemory, Facts};
use super::{Detector, Verdict};

/// Facts offsets of the reference: sensor facts start at 2^16, neuron facts at 2^31.
const SENSOR_BASE: u64 = 1 << 16;
const NEURON_BASE: u64 = 1 << 31;
/// The reference's `maxLeftSemiContextsLenght`.
const MAX_LEFT: usize = 7;

/// Parameters of `cad_ose(…)`; defaults are the reference's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CadOseParams {
    /// Lower end of the value range (learnt when absent).
    pub min: Option<f64>,
    /// Upper end of the value range (learnt when absent).
    pub max: Option<f64>,
    /// Values used to learn the range when `min`/`max` are not given.
    pub learning: usize,
    /// Steps after a score of `threshold` during which scores are reported as 0.
    pub rest: usize,
    /// The alarm level (the reference's `baseThreshold`).
    pub threshold: f64,
    /// Bits per quantised value (`2^bits` levels).
    pub bits: usize,
    /// Most active contexts fed back as "neuron" facts.
    pub neurons: usize,
    /// Most contexts stored per key.
    pub contexts: usize,
}

impl Default for CadOseParams {
    fn default() -> Self {
        CadOseParams {
            min: None,
            max: None,
            learning: 750,
            rest: 150,
            threshold: 0.75,
            bits: 3,
            neurons: 15,
            contexts: 1 << 16,
        }
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CadOse {
    params: CadOseParams,
    /// `(min, step)` once the range is known.
    scale: Option<(f64, f64)>,
    held: Vec<f64>,
    memory: ContextMemory,
    left: Facts,
    predicted: HashSet<u64>,
    /// The last `rest` raw scores (starting with the reference's 1.0).
    history: VecDeque<f64>,
}

impl CadOse {
    /// A detector with nothing learnt.
    pub fn new(params: CadOseParams) -> CadOse {
        let params = CadOseParams {
            bits: params.bits.clamp(1, 16),
            rest: params.rest.max(1),
            ..params
        };
        let mut history = VecDeque::with_capacity(params.rest + 1);
        history.push_back(1.0);
        let mut d = CadOse {
            scale: None,
            held: Vec::new(),
            memory: ContextMemory::new(MAX_LEFT, params.contexts),
            left: Vec::new(),
            predicted: HashSet::new(),
            history,
            params,
        };
        if let (Some(lo), Some(hi)) = (d.params.min, d.params.max) {
            d.scale = Some(d.scale_of(lo, hi));
        }
        d
    }

    /// Number of contexts stored.
    pub fn context_count(&self) -> usize {
        self.memory.context_count()
    }

    fn scale_of(&self, lo: f64, hi: f64) -> (f64, f64) {
        let levels = ((1u64 << self.params.bits) - 1) as f64;
        let range = if hi - lo == 0.0 { levels } else { hi - lo };
        (lo, range / levels)
    }

    /// The sensor facts of `x`: one per bit of its level, `SENSOR_BASE + 2·bit + value`.
    fn facts_of(&self, x: f64, (lo, step): (f64, f64)) -> Facts {
        let top = (1i64 << self.params.bits) - 1;
        // `as` truncates towards zero, as the reference's `int()` does.
        let level = (((x - lo) / step) as i64).clamp(0, top);
        (0..self.params.bits as u64)
            .map(|b| SENSOR_BASE + 2 * b + ((level >> b) & 1) as u64)
            .collect()
    }

    fn score(&mut self, x: f64, scale: (f64, f64)) -> f64 {
        let sensors = self.facts_of(x, scale);
        let surprised = sensors.iter().any(|f| !self.predicted.contains(f));
        let (active_share, new_share) = self.step(&sensors);
        let raw = if surprised {
            (1.0 - active_share + new_share) / 2.0
        } else {
            0.0
        };
        let resting = self.history.iter().any(|&s| s >= self.params.threshold);
        self.history.push_back(raw);
        if self.history.len() > self.params.rest {
            self.history.pop_front();
        }
        if resting {
            0.0
        } else {
            raw
        }
    }

    /// One step of the memory; returns the share of selected contexts that became active
    /// and the share of proposed contexts that were new.
    fn step(&mut self, sensors: &Facts) -> (f64, f64) {
        let mut proposals: HashSet<(Facts, Facts)> = HashSet::new();
        let new_step = !self.left.is_empty() && self.memory.remember_step(&self.left, sensors);
        if !self.left.is_empty() {
            proposals.insert((self.left.clone(), sensors.clone()));
        }
        let mut found = self.memory.activate(sensors, new_step);
        let proposed = std::mem::take(&mut found.proposed);
        proposals.extend(proposed.iter().cloned());
        let active_share = if found.selected > 0 {
            found.active.len() as f64 / found.selected as f64
        } else {
            0.0
        };
        // The most activated contexts (ties broken as the reference's sort does) become
        // the "neuron" facts of the next left side.
        found.active.sort_unstable();
        let skip = found.active.len().saturating_sub(self.params.neurons);
        self.left = sensors.clone();
        self.left.extend(
            found.active[skip..]
                .iter()
                .map(|a| NEURON_BASE + u64::from(a.3)),
        );
        self.left.sort_unstable();
        self.left.dedup();
        let mut added = self.memory.remember(&proposed);
        self.predicted = self.memory.predict(&self.left);
        added += usize::from(new_step);
        let new_share = if new_step && !proposals.is_empty() {
            added as f64 / proposals.len() as f64
        } else {
            0.0
        };
        (active_share, new_share)
    }
}

impl Detector for CadOse {
    fn saved(&self) -> Option<super::SavedDetectorRef<'_>> {
        Some(super::SavedDetectorRef::CadOse(self))
    }

    fn update(&mut self, x: f64) -> Verdict {
        let scale = match self.scale {
            Some(s) => s,
            None => {
                self.held.push(x);
                if self.held.len() < self.params.learning.max(2) {
                    return Verdict::NORMAL;
                }
                let lo = self.held.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = self.held.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let scale =
                    self.scale_of(self.params.min.unwrap_or(lo), self.params.max.unwrap_or(hi));
                self.scale = Some(scale);
                for v in std::mem::take(&mut self.held) {
                    self.score(v, scale);
                }
                return Verdict::NORMAL;
            }
        };
        let score = self.score(x, scale);
        Verdict {
            score,
            is_anomaly: score >= self.params.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> CadOseParams {
        CadOseParams {
            min: Some(0.0),
            max: Some(7.0),
            rest: 20,
            ..CadOseParams::default()
        }
    }

    #[test]
    fn a_learnt_cycle_scores_zero_and_a_break_alarms_once() {
        let mut d = CadOse::new(params());
        let cycle = [0.0, 3.0, 5.0, 7.0, 2.0];
        let mut late_max: f64 = 0.0;
        for i in 0..2000 {
            let v = d.update(cycle[i % cycle.len()]);
            if i > 1000 {
                late_max = late_max.max(v.score);
            }
        }
        assert!(late_max < 0.5, "a learnt cycle scores {late_max}");
        // A level never seen after these contexts: one alarm, then rest.
        let alarms: Vec<bool> = (0..10).map(|_| d.update(6.0).is_anomaly).collect();
        assert!(alarms[0], "{alarms:?}");
        assert_eq!(alarms.iter().filter(|a| **a).count(), 1, "{alarms:?}");
        assert!(d.context_count() > 0);
    }

    #[test]
    fn the_range_is_learnt_when_not_given_and_memory_is_capped() {
        let mut d = CadOse::new(CadOseParams {
            learning: 50,
            contexts: 64,
            ..CadOseParams::default()
        });
        for i in 0..49 {
            assert_eq!(d.update((i % 9) as f64).score, 0.0);
        }
        for i in 0..3000 {
            d.update(((i * 7) % 13) as f64 * 1.5);
        }
        assert!(d.context_count() <= 64, "{}", d.context_count());
    }
}
