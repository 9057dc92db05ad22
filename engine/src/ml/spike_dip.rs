//! `spike_dip`: an adaptive spike-and-dip detector in the manner of Azure Stream Analytics'
//! `AnomalyDetection_SpikeAndDip`: the p-value of the current value under a kernel density
//! estimate of the last `history` values; an anomaly when the p-value is below
//! `1 - confidence` on the side(s) chosen by `mode`.
//!
//! State per key: the last `history` values (8 bytes each).

use serde::{Deserialize, Serialize};

use super::normal::upper_tail;
use super::rolling::Rolling;
use super::{Detector, Verdict};

/// Which side of the distribution counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpikeMode {
    /// Only unusually high values.
    Spikes,
    /// Only unusually low values.
    Dips,
    /// Both.
    Both,
}

/// Parameters of `spike_dip(confidence: 95%, history: 120, mode: both)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpikeDipParams {
    /// Confidence in (0, 1): `is_anomaly` when the p-value is below `1 - confidence`.
    pub confidence: f64,
    /// Number of past values the density is estimated from.
    pub history: usize,
    /// Spikes, dips or both.
    pub mode: SpikeMode,
}

impl Default for SpikeDipParams {
    fn default() -> Self {
        SpikeDipParams {
            confidence: 0.95,
            history: 120,
            mode: SpikeMode::Both,
        }
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpikeDip {
    params: SpikeDipParams,
    history: Rolling,
}

impl SpikeDip {
    /// A detector with no history.
    pub fn new(params: SpikeDipParams) -> SpikeDip {
        SpikeDip {
            history: Rolling::new(params.history),
            params,
        }
    }

    /// `P(X >= x)` under a Gaussian kernel density of the history (Silverman's bandwidth).
    fn upper_p(&self, x: f64) -> f64 {
        let n = self.history.len() as f64;
        let sd = self.history.std_dev();
        let bandwidth = 1.06 * sd * n.powf(-0.2);
        if bandwidth <= 0.0 {
            let mean = self.history.mean();
            return if x > mean {
                0.0
            } else if x < mean {
                1.0
            } else {
                0.5
            };
        }
        self.history
            .values()
            .map(|h| upper_tail((x - h) / bandwidth))
            .sum::<f64>()
            / n
    }
}

impl Detector for SpikeDip {
    fn saved(&self) -> Option<super::SavedDetectorRef<'_>> {
        Some(super::SavedDetectorRef::SpikeDip(self))
    }

    fn update(&mut self, x: f64) -> Verdict {
        let verdict = if self.history.len() < 2 {
            Verdict::NORMAL
        } else {
            let up = self.upper_p(x);
            let p = match self.params.mode {
                SpikeMode::Spikes => up,
                SpikeMode::Dips => 1.0 - up,
                SpikeMode::Both => 2.0 * up.min(1.0 - up),
            }
            .clamp(0.0, 1.0);
            Verdict {
                score: 1.0 - p,
                is_anomaly: p < 1.0 - self.params.confidence,
            }
        };
        self.history.push(x);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mode: SpikeMode, last: f64) -> Verdict {
        let mut d = SpikeDip::new(SpikeDipParams {
            confidence: 0.99,
            history: 50,
            mode,
        });
        for i in 0..100 {
            d.update(20.0 + ((i * 7) % 11) as f64 * 0.2);
        }
        d.update(last)
    }

    #[test]
    fn spikes_and_dips_follow_the_mode() {
        assert!(run(SpikeMode::Spikes, 40.0).is_anomaly);
        assert!(!run(SpikeMode::Spikes, 0.0).is_anomaly);
        assert!(run(SpikeMode::Dips, 0.0).is_anomaly);
        assert!(!run(SpikeMode::Dips, 40.0).is_anomaly);
        assert!(run(SpikeMode::Both, 0.0).is_anomaly);
        assert!(run(SpikeMode::Both, 40.0).is_anomaly);
        let typical = run(SpikeMode::Both, 21.0);
        assert!(!typical.is_anomaly && typical.score < 0.9);
    }

    #[test]
    fn adapts_to_a_new_level() {
        let mut d = SpikeDip::new(SpikeDipParams::default());
        for _ in 0..200 {
            d.update(1.0);
        }
        assert!(d.update(5.0).is_anomaly);
        for _ in 0..200 {
            d.update(5.0);
        }
        assert!(!d.update(5.0).is_anomaly);
    }
}
