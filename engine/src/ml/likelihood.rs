//! HTM-style anomaly likelihood (Ahmad, Lavin, Purdy, Agha 2017): turns a noisy raw
//! anomaly score into the probability that its recent short-term average is unusually high
//! compared with the long-term distribution of that average, reported on a log scale.
//!
//! State: the last `short` raw scores and the last `long` averages (8 bytes each).

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use super::normal::upper_tail;
use super::rolling::Rolling;

/// Floor of the long-term mean and variance so a perfectly predictable history does not
/// make every small raw score look like a catastrophe.
const MIN_MEAN: f64 = 0.03;
const MIN_VARIANCE: f64 = 0.0003;

/// The running likelihood of one stream of raw scores.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AnomalyLikelihood {
    short: VecDeque<f64>,
    short_len: usize,
    short_sum: f64,
    long: Rolling,
    learning: usize,
    seen: usize,
}

impl AnomalyLikelihood {
    /// Averages over `short` raw scores compared against the last `long` averages, reporting
    /// 0.5 (no opinion) for the first `learning` updates.
    pub fn new(short: usize, long: usize, learning: usize) -> AnomalyLikelihood {
        AnomalyLikelihood {
            short: VecDeque::with_capacity(short.max(1)),
            short_len: short.max(1),
            short_sum: 0.0,
            long: Rolling::new(long),
            learning,
            seen: 0,
        }
    }

    /// Feeds a raw score in [0, 1]; returns the likelihood `L` in [0, 1].
    pub fn update(&mut self, raw: f64) -> f64 {
        if self.short.len() == self.short_len {
            if let Some(old) = self.short.pop_front() {
                self.short_sum -= old;
            }
        }
        self.short.push_back(raw);
        self.short_sum += raw;
        let average = self.short_sum / self.short.len() as f64;
        self.seen += 1;
        let likelihood = if self.seen <= self.learning || self.long.len() < 2 {
            0.5
        } else {
            let mean = self.long.mean().max(MIN_MEAN);
            let sd = self.long.variance().max(MIN_VARIANCE).sqrt();
            1.0 - upper_tail((average - mean) / sd)
        };
        self.long.push(average);
        likelihood
    }
}

/// NAB's log scale for likelihoods: 0.5 → ~0.03, 0.99999 → 0.5, 0.9999999999 → 1.
pub fn log_likelihood(likelihood: f64) -> f64 {
    ((1.000_000_000_1 - likelihood).ln() / (1.0f64 - 0.999_999_999_9).ln()).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_surprise_is_likely_anomalous_and_isolated_noise_is_not() {
        let mut l = AnomalyLikelihood::new(10, 500, 50);
        let mut last = 0.0;
        for i in 0..1000 {
            last = l.update(if i % 50 == 0 { 1.0 } else { 0.05 });
        }
        assert!(last < 0.9, "steady noise gives {last}");
        let mut peak: f64 = 0.0;
        for _ in 0..10 {
            peak = peak.max(l.update(1.0));
        }
        assert!(peak > 0.9999, "burst gives {peak}");
        assert!(log_likelihood(peak) > 0.4);
        assert!(log_likelihood(0.5) < 0.05);
    }
}
