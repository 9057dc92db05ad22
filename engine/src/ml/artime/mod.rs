//! `artime`: a port of ARTime (M. Hampton, 2021; NAB's top entry, 74.9 standard on the full
//! corpus), written from its public description and open-source edition: adaptive
//! resonance theory over wavelet features of a downsampled, quantised series.
//!
//! The first `probation` values are the warm-up: their downsampled feature vectors set the
//! starting vigilance and are then classified in one batch; every later feature vector is
//! classified as it arrives (`classify`). Values are downsampled by
//! `step = probation / 104` (even `probation`, at least 1), so the warm-up spans
//! `probation / step` feature vectors (the trend window). Scores are non-zero only for
//! anomalies, and the first `probation` values score 0.
//!
//! Without `min`/`max` the range is that of the `probation` warm-up values, which are held
//! and then fed in order (NAB's harness gives the file's range; `weir bench nab` does the
//! same for the reproduction run). Values outside the range go to the end levels.
//!
//! State per key: at most `categories` categories of 32 f64 (4096: 1 MiB), plus, during
//! the warm-up only, up to `probation` values and the trend window's feature vectors.

mod classify;
mod features;
mod resonance;

use serde::{Deserialize, Serialize};

use self::classify::Classifier;
use self::features::{Encoder, FEATURES, WINDOW};
use super::{Detector, Verdict};

/// Feature windows per warm-up (the reference's `windows_per_pb`).
const WINDOWS_PER_WARMUP: usize = 13;

/// Parameters of `artime(…)`; defaults are the reference's where it has them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtimeParams {
    /// Lower end of the value range (learnt from the warm-up when absent).
    pub min: Option<f64>,
    /// Upper end of the value range (learnt from the warm-up when absent).
    pub max: Option<f64>,
    /// Warm-up length in values (NAB's probationary period: 15% of a file, at most 750).
    pub probation: usize,
    /// Most categories kept per key.
    pub categories: usize,
    /// Scores at or above this are flagged (NAB's optimised standard threshold for ARTime).
    pub threshold: f64,
}

impl Default for ArtimeParams {
    fn default() -> Self {
        ArtimeParams {
            min: None,
            max: None,
            probation: 750,
            categories: 4096,
            threshold: 0.317486,
        }
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Artime {
    params: ArtimeParams,
    step: usize,
    trend: usize,
    /// Raw values held while the range is unknown.
    held: Vec<f64>,
    encoder: Option<Encoder>,
    /// Warm-up feature vectors, until the trend window is complete.
    warmup: Vec<[f64; FEATURES]>,
    classifier: Classifier,
}

impl Artime {
    /// A detector with nothing learnt.
    pub fn new(params: ArtimeParams) -> Artime {
        let probation = params.probation.max(2 * WINDOW * 2);
        let probation = probation - probation % 2;
        let step = (probation / (WINDOW * WINDOWS_PER_WARMUP)).max(1);
        let trend = probation / step;
        let mut d = Artime {
            step,
            trend,
            held: Vec::new(),
            encoder: None,
            warmup: Vec::with_capacity(trend),
            classifier: Classifier::new(trend, params.categories),
            params: ArtimeParams {
                probation,
                ..params
            },
        };
        if let (Some(lo), Some(hi)) = (d.params.min, d.params.max) {
            d.encoder = Some(Encoder::new(lo, hi, step));
        }
        d
    }

    /// Number of categories learnt.
    pub fn category_count(&self) -> usize {
        self.classifier.memory.categories()
    }

    /// The downsampling step and the trend window (in downsampled steps).
    pub fn step_and_trend(&self) -> (usize, usize) {
        (self.step, self.trend)
    }

    /// Feeds one value to a detector whose range is known; the raw anomaly score.
    fn feed(&mut self, x: f64) -> f64 {
        let Some(encoder) = self.encoder.as_mut() else {
            return 0.0;
        };
        let Some((dsi, f)) = encoder.push(x) else {
            return 0.0;
        };
        if dsi <= self.trend {
            self.warmup.push(f);
            if dsi == self.trend {
                self.classifier.start(&self.warmup, self.params.categories);
                for (k, f) in std::mem::take(&mut self.warmup).iter().enumerate() {
                    self.classifier.detect(f, k as i64 + 1);
                }
            }
            return 0.0;
        }
        self.classifier.detect(&f, dsi as i64)
    }
}

impl Detector for Artime {
    fn saved(&self) -> Option<super::SavedDetectorRef<'_>> {
        Some(super::SavedDetectorRef::Artime(self))
    }

    fn update(&mut self, x: f64) -> Verdict {
        if self.encoder.is_none() {
            self.held.push(x);
            if self.held.len() < self.params.probation {
                return Verdict::NORMAL;
            }
            let lo = self.held.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = self.held.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            self.encoder = Some(Encoder::new(lo, hi, self.step));
            // Every warm-up value scores 0, so replaying them changes no output.
            for v in std::mem::take(&mut self.held) {
                self.feed(v);
            }
            return Verdict::NORMAL;
        }
        let score = self.feed(x);
        Verdict {
            score,
            is_anomaly: score >= self.params.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let base = (i as f64 / 20.0).sin() * 10.0 + 50.0;
                if (1500..1510).contains(&i) {
                    base + 60.0
                } else {
                    base
                }
            })
            .collect()
    }

    #[test]
    fn a_jump_after_the_warm_up_scores_and_the_warm_up_does_not() {
        let mut d = Artime::new(ArtimeParams {
            min: Some(40.0),
            max: Some(110.0),
            ..ArtimeParams::default()
        });
        assert_eq!(d.step_and_trend(), (7, 107));
        let scores: Vec<f64> = series(2000).iter().map(|&x| d.update(x).score).collect();
        assert!(scores[..750].iter().all(|s| *s == 0.0));
        let peak = scores[1500..1530].iter().copied().fold(0.0, f64::max);
        assert!(peak > 0.5, "{peak}");
        assert!(d.category_count() > 1);
    }

    #[test]
    fn a_learnt_range_gives_the_same_scores_as_that_range_given() {
        let xs = series(2000);
        let lo = xs[..750].iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs[..750].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut given = Artime::new(ArtimeParams {
            min: Some(lo),
            max: Some(hi),
            ..ArtimeParams::default()
        });
        let mut learnt = Artime::new(ArtimeParams::default());
        for x in xs {
            assert_eq!(given.update(x), learnt.update(x));
        }
    }
}
