//! `zscore`: how far a value lies from the mean of the last `window` values, as a
//! two-sided Gaussian tail probability (NAB's "windowed Gaussian" baseline).
//!
//! State per key: the last `window` values (8 bytes each) and two sums.

use serde::{Deserialize, Serialize};

use super::normal::upper_tail;
use super::rolling::Rolling;
use super::{Detector, Verdict};

/// Parameters of `zscore(window: <n>, threshold: <sigmas>)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZscoreParams {
    /// Number of past values the mean and deviation are taken over.
    pub window: usize,
    /// `is_anomaly` when the value is at least this many deviations from the mean.
    pub threshold: f64,
}

impl Default for ZscoreParams {
    fn default() -> Self {
        ZscoreParams {
            window: 6400,
            threshold: 3.0,
        }
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Zscore {
    params: ZscoreParams,
    history: Rolling,
}

impl Zscore {
    /// A detector with no history.
    pub fn new(params: ZscoreParams) -> Zscore {
        Zscore {
            history: Rolling::new(params.window),
            params,
        }
    }
}

impl Detector for Zscore {
    fn saved(&self) -> Option<super::SavedDetectorRef<'_>> {
        Some(super::SavedDetectorRef::Zscore(self))
    }

    fn update(&mut self, x: f64) -> Verdict {
        let verdict = if self.history.len() < 2 {
            Verdict::NORMAL
        } else {
            let sd = self.history.std_dev();
            // Below this, the deviation is rounding noise of a constant history.
            let floor = 1e-9 * self.history.mean().abs().max(1e-9);
            let z = if sd > floor {
                (x - self.history.mean()).abs() / sd
            } else if x == self.history.mean() {
                0.0
            } else {
                f64::INFINITY
            };
            Verdict {
                score: (1.0 - 2.0 * upper_tail(z)).clamp(0.0, 1.0),
                is_anomaly: z >= self.params.threshold,
            }
        };
        self.history.push(x);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_scores_near_one_and_normal_values_low() {
        let mut d = Zscore::new(ZscoreParams {
            window: 100,
            threshold: 3.0,
        });
        for i in 0..200 {
            let v = d.update(10.0 + (i % 5) as f64 * 0.1);
            assert!(i < 20 || !v.is_anomaly);
        }
        let spike = d.update(50.0);
        assert!(spike.score > 0.999 && spike.is_anomaly);
        let normal = d.update(10.2);
        assert!(normal.score < 0.9 && !normal.is_anomaly);
    }

    #[test]
    fn constant_history_is_not_anomalous_for_the_same_value() {
        let mut d = Zscore::new(ZscoreParams::default());
        for _ in 0..10 {
            assert!(d.update(1.0).score < 1e-6);
        }
        assert!(d.update(2.0).is_anomaly);
    }
}
