//! `percentile(x, p)`: exact nearest-rank quantiles for small groups, a DDSketch (the
//! sketches-ddsketch crate) with 1% relative error past [`EXACT_PERCENTILE_LIMIT`] values.
//!
//! Nearest rank: the smallest value with at least ⌈p·n⌉ values at or below it (p = 0
//! gives the minimum), so the exact answer is always one of the values. Past the limit
//! the values move into the sketch, whose answer is within 1% of a value of that rank.
//! Both forms depend only on the multiset of values, so the result is the same on any
//! number of workers. A retracting input stays exact (a sketch cannot forget).

use serde::{Deserialize, Serialize};
use std::fmt;

use sketches_ddsketch::{Config, DDSketch};

use super::distinct::ValueCounts;
use crate::value::Value;

/// Values per group kept exactly before `percentile` switches to its sketch.
pub const EXACT_PERCENTILE_LIMIT: i64 = 10_000;

/// Relative error of the sketch (DDSketch's α).
pub const SKETCH_RELATIVE_ERROR: f64 = 0.01;

/// The running state of one group's `percentile`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    exact: ValueCounts,
    sketch: Option<QuantileSketch>,
    /// Never switch to the sketch: values may be withdrawn.
    retracting: bool,
}

impl Quantile {
    /// A state for an input that may withdraw values.
    pub fn retracting() -> Quantile {
        Quantile {
            retracting: true,
            ..Quantile::default()
        }
    }

    /// Adds (`sign` 1) or withdraws (`sign` −1) a value; nulls are skipped.
    pub fn apply(&mut self, v: &Value, sign: i64) {
        let Some(x) = v.as_f64() else {
            return;
        };
        match &mut self.sketch {
            Some(sketch) => sketch.0.add(x),
            None => {
                self.exact.apply(&Value::Float(x), sign);
                self.spill_if_large();
            }
        }
    }

    /// Folds another group's state into this one.
    pub fn merge(&mut self, other: &Quantile) {
        if self.sketch.is_none() && other.sketch.is_none() {
            self.exact.merge(&other.exact);
        } else {
            let mine = std::mem::take(&mut self.exact);
            let sketch = self.sketch.get_or_insert_with(QuantileSketch::default);
            sketch.add_counts(&mine);
            if let Some(theirs) = &other.sketch {
                sketch.merge(theirs);
            }
            sketch.add_counts(&other.exact);
        }
        self.spill_if_large();
    }

    fn spill_if_large(&mut self) {
        if self.retracting || self.sketch.is_some() || self.exact.total() <= EXACT_PERCENTILE_LIMIT
        {
            return;
        }
        let mut sketch = QuantileSketch::default();
        sketch.add_counts(&std::mem::take(&mut self.exact));
        self.sketch = Some(sketch);
    }

    /// The `p`-quantile (0 ≤ p ≤ 1); null without values.
    pub fn finish(&self, p: f64) -> Value {
        if let Some(sketch) = &self.sketch {
            return match sketch.0.quantile(p) {
                Ok(Some(x)) => Value::Float(x),
                _ => Value::Null,
            };
        }
        let n = self.exact.total();
        if n <= 0 {
            return Value::Null;
        }
        let rank = ((p * n as f64).ceil() as i64).clamp(1, n);
        let mut seen = 0;
        for (v, count) in self.exact.iter() {
            seen += count;
            if seen >= rank {
                return Value::Float(v.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::Null
    }
}

/// A DDSketch; compared by count only (its bins are private to the crate).
#[derive(Clone, Serialize, Deserialize)]
pub struct QuantileSketch(DDSketch);

impl Default for QuantileSketch {
    fn default() -> QuantileSketch {
        // Default bins (2048) span 17 orders of magnitude at 1%: no collapsing in practice.
        let config = Config::new(SKETCH_RELATIVE_ERROR, 2048, 1.0e-9);
        QuantileSketch(DDSketch::new(config))
    }
}

impl QuantileSketch {
    fn add_counts(&mut self, counts: &ValueCounts) {
        for (v, n) in counts.iter() {
            if let (Some(x), Ok(n)) = (v.as_f64(), u64::try_from(n)) {
                self.0.add_with_count(x, n);
            }
        }
    }

    fn merge(&mut self, other: &QuantileSketch) {
        // Same configuration on both sides, the only way to fail.
        let _ = self.0.merge(&other.0);
    }
}

impl fmt::Debug for QuantileSketch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QuantileSketch({} values)", self.0.count())
    }
}

impl PartialEq for QuantileSketch {
    fn eq(&self, other: &QuantileSketch) -> bool {
        self.0.count() == other.0.count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: impl IntoIterator<Item = f64>) -> Quantile {
        let mut q = Quantile::default();
        for x in values {
            q.apply(&Value::Float(x), 1);
        }
        q
    }

    #[test]
    fn nearest_rank_on_small_groups() {
        let q = of([15.0, 20.0, 35.0, 40.0, 50.0]);
        assert_eq!(q.finish(0.0), Value::Float(15.0));
        assert_eq!(q.finish(0.3), Value::Float(20.0));
        assert_eq!(q.finish(0.4), Value::Float(20.0));
        assert_eq!(q.finish(0.5), Value::Float(35.0));
        assert_eq!(q.finish(1.0), Value::Float(50.0));
        assert_eq!(Quantile::default().finish(0.5), Value::Null);
    }

    #[test]
    fn large_groups_are_within_the_stated_error_and_merge() {
        let n = 3 * EXACT_PERCENTILE_LIMIT;
        let values: Vec<f64> = (1..=n).map(|i| i as f64 * 0.5).collect();
        let whole = of(values.iter().copied());
        let mut left = of(values[..5_000].iter().copied());
        left.merge(&of(values[5_000..].iter().copied()));
        for p in [0.5, 0.9, 0.99] {
            let exact = values[((p * n as f64).ceil() as usize) - 1];
            for q in [&whole, &left] {
                let Value::Float(got) = q.finish(p) else {
                    panic!("a value")
                };
                assert!(
                    (got - exact).abs() <= SKETCH_RELATIVE_ERROR * exact,
                    "p{p}: {got} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn a_retracting_group_stays_exact() {
        let mut q = Quantile::retracting();
        for i in 0..=EXACT_PERCENTILE_LIMIT + 10 {
            q.apply(&Value::Int(i), 1);
        }
        for i in 0..=10 {
            q.apply(&Value::Int(i), -1);
        }
        assert_eq!(q.finish(0.0), Value::Float(11.0));
    }
}
