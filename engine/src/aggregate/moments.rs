//! `stddev`, `stddev_pop`, `variance`, `variance_pop` from exact running sums.
//!
//! Count, Σx and Σx² are kept exactly ([`ExactSum`]), so the result does not depend on
//! arrival order or bundling, a retraction subtracts exactly, and merging two sessions
//! adds the sums; only the final division rounds.

use crate::exact_sum::ExactSum;
use crate::plan::AggFunc;
use crate::value::Value;

/// The running sums of one group.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Moments {
    n: i64,
    sum: ExactSum,
    sum_sq: ExactSum,
}

impl Moments {
    /// Adds (`sign` 1) or withdraws (`sign` −1) a value; nulls are skipped.
    pub fn apply(&mut self, v: &Value, sign: i64) {
        let Some(x) = v.as_f64() else {
            return;
        };
        let s = sign as f64;
        self.n += sign;
        self.sum.add(s * x);
        self.sum_sq.add(s * x * x);
    }

    /// Folds another group's sums into these.
    pub fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum.merge(&other.sum);
        self.sum_sq.merge(&other.sum_sq);
    }

    /// The statistic `func` asks for; null without enough values.
    pub fn finish(&self, func: AggFunc) -> Value {
        let sample = matches!(func, AggFunc::Stddev | AggFunc::Variance);
        let denominator = if sample { self.n - 1 } else { self.n };
        if denominator <= 0 {
            return Value::Null;
        }
        let n = self.n as f64;
        let mean = self.sum.value() / n;
        // Σ(x − mean)² = Σx² − n·mean²; clamped, as rounding can leave a tiny negative.
        let squares = (self.sum_sq.value() - n * mean * mean).max(0.0);
        let variance = squares / denominator as f64;
        Value::Float(match func {
            AggFunc::Stddev | AggFunc::StddevPop => variance.sqrt(),
            _ => variance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_and_population_statistics() {
        let mut m = Moments::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.apply(&Value::Float(x), 1);
        }
        assert_eq!(m.finish(AggFunc::VariancePop), Value::Float(4.0));
        assert_eq!(m.finish(AggFunc::StddevPop), Value::Float(2.0));
        assert_eq!(m.finish(AggFunc::Variance), Value::Float(32.0 / 7.0));
        let mut one = Moments::default();
        one.apply(&Value::Int(3), 1);
        assert_eq!(one.finish(AggFunc::Stddev), Value::Null, "sample needs two");
        assert_eq!(one.finish(AggFunc::StddevPop), Value::Float(0.0));
    }

    #[test]
    fn withdrawing_and_merging_equal_the_batch() {
        let (mut a, mut b, mut all) = (Moments::default(), Moments::default(), Moments::default());
        for x in [1.5, 2.5, 10.0] {
            a.apply(&Value::Float(x), 1);
        }
        for x in [3.0, -4.0] {
            b.apply(&Value::Float(x), 1);
        }
        a.merge(&b);
        a.apply(&Value::Float(10.0), -1);
        for x in [1.5, 2.5, 3.0, -4.0] {
            all.apply(&Value::Float(x), 1);
        }
        assert_eq!(a.finish(AggFunc::Variance), all.finish(AggFunc::Variance));
    }
}
