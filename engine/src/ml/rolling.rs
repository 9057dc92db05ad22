//! Mean and variance of the last `n` values, in O(1) per update and O(n) memory.

use std::collections::VecDeque;

/// A bounded window of recent values with running sums.
///
/// Sums are re-computed from the window every `n` updates so rounding drift stays bounded.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Rolling {
    capacity: usize,
    values: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    since_refresh: usize,
}

impl Rolling {
    /// An empty window holding at most `capacity` (≥ 1) values.
    pub fn new(capacity: usize) -> Rolling {
        let capacity = capacity.max(1);
        Rolling {
            capacity,
            values: VecDeque::with_capacity(capacity),
            sum: 0.0,
            sum_sq: 0.0,
            since_refresh: 0,
        }
    }

    /// Adds `x`, evicting the oldest value when full.
    pub fn push(&mut self, x: f64) {
        if self.values.len() == self.capacity {
            if let Some(old) = self.values.pop_front() {
                self.sum -= old;
                self.sum_sq -= old * old;
            }
        }
        self.values.push_back(x);
        self.sum += x;
        self.sum_sq += x * x;
        self.since_refresh += 1;
        if self.since_refresh >= self.capacity {
            self.sum = self.values.iter().sum();
            self.sum_sq = self.values.iter().map(|v| v * v).sum();
            self.since_refresh = 0;
        }
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True once `capacity` values are held.
    pub fn is_full(&self) -> bool {
        self.values.len() == self.capacity
    }

    /// Mean (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.values.is_empty() {
            0.0
        } else {
            self.sum / self.values.len() as f64
        }
    }

    /// Population variance (0 when empty).
    pub fn variance(&self) -> f64 {
        let n = self.values.len() as f64;
        if n == 0.0 {
            return 0.0;
        }
        let m = self.sum / n;
        (self.sum_sq / n - m * m).max(0.0)
    }

    /// Standard deviation.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// The values, oldest first.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n() {
        let mut r = Rolling::new(3);
        for x in [1.0, 2.0, 3.0, 4.0] {
            r.push(x);
        }
        assert_eq!(r.len(), 3);
        assert!((r.mean() - 3.0).abs() < 1e-12);
        assert!((r.variance() - 2.0 / 3.0).abs() < 1e-12);
    }
}
