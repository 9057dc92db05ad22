//! `distinct_count` (exact: a multiset of the values) and `approx_distinct_count`
//! (HyperLogLog++ from the hyperloglogplus crate).
//!
//! The exact count keeps each distinct value with its multiplicity, so retractions and
//! session merges stay exact. The estimate keeps at most 2^14 one-byte registers per
//! group (16 KiB; fewer while sparse) with a standard error of 1.04/√2^14 ≈ 0.81%; it is
//! a function of the set of values only (register maxima, hashed with fixed keys), so it
//! is the same on any number of workers. Over a retracting input, where a sketch cannot
//! forget, the approximate count is computed exactly.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasherDefault, DefaultHasher};

use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};

use crate::retraction::Ordered;
use crate::value::Value;

/// HyperLogLog++ precision: 2^14 registers.
pub const HLL_PRECISION: u8 = 14;

/// Distinct values with their multiplicities.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValueCounts(BTreeMap<Ordered, i64>);

impl ValueCounts {
    /// Adds (`sign` 1) or withdraws (`sign` −1) one occurrence; nulls are not values.
    pub fn apply(&mut self, v: &Value, sign: i64) {
        if v.is_null() {
            return;
        }
        let n = self.0.entry(Ordered(v.clone())).or_insert(0);
        *n += sign;
        if *n == 0 {
            self.0.remove(&Ordered(v.clone()));
        }
    }

    /// Folds another multiset into this one.
    pub fn merge(&mut self, other: &ValueCounts) {
        for (v, n) in &other.0 {
            self.apply_n(&v.0, *n);
        }
    }

    fn apply_n(&mut self, v: &Value, by: i64) {
        let n = self.0.entry(Ordered(v.clone())).or_insert(0);
        *n += by;
        if *n == 0 {
            self.0.remove(&Ordered(v.clone()));
        }
    }

    /// Number of distinct live values.
    pub fn distinct(&self) -> i64 {
        self.0.len() as i64
    }

    /// Number of live values counted with multiplicity.
    pub fn total(&self) -> i64 {
        self.0.values().sum()
    }

    /// Values in ascending order with their multiplicities.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Value, i64)> {
        self.0.iter().map(|(v, n)| (&v.0, *n))
    }
}

type Hasher = BuildHasherDefault<DefaultHasher>;

/// A HyperLogLog++ sketch of one group's values.
#[derive(Clone)]
pub struct DistinctSketch(HyperLogLogPlus<Value, Hasher>);

impl Default for DistinctSketch {
    fn default() -> DistinctSketch {
        // `DefaultHasher` has fixed keys: every worker and process hashes alike.
        let hll = HyperLogLogPlus::new(HLL_PRECISION, Hasher::default())
            .unwrap_or_else(|_| unreachable!("invariant: precision 14 is in 4..=18"));
        DistinctSketch(hll)
    }
}

impl DistinctSketch {
    /// Adds a value; nulls are not values.
    pub fn add(&mut self, v: &Value) {
        if !v.is_null() {
            self.0.insert(v);
        }
    }

    /// Folds another group's sketch into this one.
    pub fn merge(&mut self, other: &DistinctSketch) {
        // Both have HLL_PRECISION, the only way to fail.
        let _ = self.0.merge(&other.0);
    }

    /// The estimate, rounded to a whole number.
    pub fn estimate(&self) -> i64 {
        // Counting folds pending sparse entries in, so it needs a mutable copy.
        self.0.clone().count().round() as i64
    }
}

impl fmt::Debug for DistinctSketch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistinctSketch(~{})", self.estimate())
    }
}

impl PartialEq for DistinctSketch {
    fn eq(&self, other: &DistinctSketch) -> bool {
        self.estimate() == other.estimate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_withdraw_and_merge() {
        let (mut a, mut b) = (ValueCounts::default(), ValueCounts::default());
        for v in [1, 2, 2, 3] {
            a.apply(&Value::Int(v), 1);
        }
        b.apply(&Value::Int(3), 1);
        b.apply(&Value::Int(4), 1);
        a.merge(&b);
        assert_eq!(a.distinct(), 4);
        a.apply(&Value::Int(4), -1);
        a.apply(&Value::Int(2), -1);
        assert_eq!(a.distinct(), 3, "one 2 is still live");
        a.apply(&Value::Null, 1);
        assert_eq!(a.distinct(), 3);
    }

    #[test]
    fn the_estimate_is_within_its_error_and_independent_of_order() {
        let n = 50_000i64;
        let (mut fwd, mut halves, mut second) = (
            DistinctSketch::default(),
            DistinctSketch::default(),
            DistinctSketch::default(),
        );
        for i in 0..n {
            fwd.add(&Value::Int(i));
            fwd.add(&Value::Int(i)); // duplicates change nothing
        }
        for i in (0..n / 2).rev() {
            halves.add(&Value::Int(i));
        }
        for i in n / 2..n {
            second.add(&Value::Int(i));
        }
        halves.merge(&second);
        let (a, b) = (fwd.estimate(), halves.estimate());
        assert_eq!(a, b, "the same set gives the same estimate");
        let error = (a - n).abs() as f64 / n as f64;
        assert!(error < 3.0 * 0.0081, "{a} vs {n}: {error}");
        let mut small = DistinctSketch::default();
        for i in 0..100 {
            small.add(&Value::str(&format!("device-{i}")));
        }
        assert_eq!(small.estimate(), 100, "sparse: exact for small sets");
    }
}
