//! Accumulators of the `aggregate` stage: one per aggregate per (window, key) group.
//!
//! The simple ones live here; families with state of their own have a file each:
//! [`moments`] (stddev, variance), [`distinct`] (exact and HyperLogLog counts),
//! [`quantile`] (percentile), [`collect`] (lists), [`arg_extreme`] (`arg_max`),
//! [`top`] (`top`/`bottom`, ranked lists). Every accumulator can withdraw what it added (over a
//! retracting input) and merge with another (sessions).
//!
//! Checkpoints save each [`Acc`] with serde as it is, nothing rounded: float sums as
//! their exact partials, `percentile` as its value counts or its DDSketch's bins,
//! `approx_distinct_count` as the HyperLogLog++ registers, sparse list and pending hashes.
//! A restored accumulator updates, merges (sessions) and finishes exactly as the saved
//! one would have. [`AggregateFn`] is not state: it is compiled again from the plan.

use serde::{Deserialize, Serialize};
pub mod arg_extreme;
pub mod collect;
pub mod distinct;
pub mod moments;
pub mod quantile;
pub mod top;

pub use quantile::EXACT_PERCENTILE_LIMIT;

use arg_extreme::ArgExtreme;
use collect::Collected;
use distinct::{DistinctSketch, ValueCounts};
use moments::Moments;
use quantile::Quantile;
use top::TopN;

use crate::exact_sum::ExactSum;
use crate::expression::{self, Compiled};
use crate::plan::{AggFunc, Aggregate};
use crate::retraction::LiveValues;
use crate::schema::Type;
use crate::time::EventTime;
use crate::value::Value;

/// How an aggregate reads its argument: straight from a slot (no clone) or by evaluation.
enum Arg {
    None,
    Slot(usize),
    Expr(Compiled),
}

/// A compiled aggregate: knows how to create, update and finish its accumulator.
pub struct AggregateFn {
    func: AggFunc,
    arg: Arg,
    int_sum: bool,
    /// The input retracts earlier records: keep what can be withdrawn.
    retracting: bool,
    /// Slots `arg_max`/`arg_min` keep from the winning record.
    keep: Vec<usize>,
}

impl AggregateFn {
    /// Compiles an aggregate of the plan.
    pub fn compile(agg: &Aggregate) -> AggregateFn {
        let arg = match &agg.arg {
            None => Arg::None,
            Some(crate::plan::Expr::Field { slot, .. }) => Arg::Slot(*slot),
            Some(e) => Arg::Expr(expression::compile(e)),
        };
        AggregateFn {
            func: agg.func,
            arg,
            int_sum: agg.arg_type == Some(Type::Int),
            retracting: false,
            keep: agg.keep.iter().map(|k| k.slot).collect(),
        }
    }

    /// Compiles an aggregate over a retracting input (see [`crate::retraction`]).
    pub fn compile_retracting(agg: &Aggregate) -> AggregateFn {
        AggregateFn {
            retracting: true,
            ..AggregateFn::compile(agg)
        }
    }

    /// Compiles a window's `aggregates`, as retracting ones when its input carries
    /// `pane.retraction` (at slot `retraction`).
    pub fn compile_all(aggregates: &[Aggregate], retraction: Option<usize>) -> Vec<AggregateFn> {
        let compile = match retraction {
            Some(_) => AggregateFn::compile_retracting,
            None => AggregateFn::compile,
        };
        aggregates.iter().map(compile).collect()
    }

    /// A fresh accumulator.
    pub fn init(&self) -> Acc {
        match self.func {
            AggFunc::Min | AggFunc::Max | AggFunc::First | AggFunc::Last if self.retracting => {
                Acc::Live {
                    func: self.func,
                    values: LiveValues::default(),
                }
            }
            AggFunc::Stddev | AggFunc::StddevPop | AggFunc::Variance | AggFunc::VariancePop => {
                Acc::Moments(self.func, Moments::default())
            }
            AggFunc::DistinctCount => Acc::Distinct(ValueCounts::default()),
            // A sketch cannot forget: over a retracting input the count is exact.
            AggFunc::ApproxDistinctCount if self.retracting => {
                Acc::Distinct(ValueCounts::default())
            }
            AggFunc::ApproxDistinctCount => Acc::ApproxDistinct(Box::default()),
            AggFunc::Percentile(ppm) if self.retracting => {
                Acc::Percentile(ppm, Box::new(Quantile::retracting()))
            }
            AggFunc::Percentile(ppm) => Acc::Percentile(ppm, Box::default()),
            AggFunc::ArgMax | AggFunc::ArgMin => {
                let want = if self.func == AggFunc::ArgMax {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                };
                Acc::Arg(Box::new(ArgExtreme::new(
                    want,
                    self.keep.len(),
                    self.retracting,
                )))
            }
            AggFunc::Collect => Acc::Collect(Box::default()),
            AggFunc::Top(n) | AggFunc::Bottom(n) => {
                let want = if matches!(self.func, AggFunc::Top(_)) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                };
                Acc::Top(Box::new(TopN::new(
                    n,
                    want,
                    self.keep.len(),
                    self.retracting,
                )))
            }
            AggFunc::Count => Acc::Count(0),
            AggFunc::Sum if self.int_sum => Acc::SumInt(0),
            AggFunc::Sum => Acc::SumFloat(ExactSum::default()),
            AggFunc::Avg => Acc::Avg {
                sum: ExactSum::default(),
                n: 0,
            },
            AggFunc::Min => Acc::Min(Value::Null),
            AggFunc::Max => Acc::Max(Value::Null),
            AggFunc::First => Acc::First {
                time: EventTime::MAX,
                value: Value::Null,
            },
            AggFunc::Last => Acc::Last {
                time: EventTime::MIN,
                value: Value::Null,
            },
        }
    }

    /// Adds one record (with its event time) to `acc`.
    #[inline]
    pub fn update(&self, acc: &mut Acc, record: &[Value], time: EventTime) {
        match acc {
            Acc::Arg(a) => return a.apply(&self.value(record), time, self.kept(record), 1),
            Acc::Top(t) => return t.apply(&self.value(record), time, self.kept(record), 1),
            _ => {}
        }
        match &self.arg {
            Arg::None => acc.add(&Value::Null, time),
            Arg::Slot(slot) => acc.add(&record[*slot], time),
            Arg::Expr(e) => acc.add(&e(record), time),
        }
    }

    /// Withdraws one record added before (a retraction).
    pub fn withdraw(&self, acc: &mut Acc, record: &[Value], time: EventTime) {
        let v = self.value(record);
        match acc {
            Acc::Arg(a) => a.apply(&v, time, self.kept(record), -1),
            Acc::Top(t) => t.apply(&v, time, self.kept(record), -1),
            _ => acc.remove(&v, time),
        }
    }

    /// The `keep {…}` fields of `record`.
    fn kept(&self, record: &[Value]) -> Vec<Value> {
        self.keep.iter().map(|&s| record[s].clone()).collect()
    }

    fn value(&self, record: &[Value]) -> Value {
        match &self.arg {
            Arg::None => Value::Null,
            Arg::Slot(slot) => record[*slot].clone(),
            Arg::Expr(e) => e(record),
        }
    }
}

/// The running state of one aggregate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Acc {
    /// `count()`
    Count(i64),
    /// `sum` of i64
    SumInt(i64),
    /// `sum` of f64, exact so that it does not depend on arrival order
    SumFloat(ExactSum),
    /// `avg`
    Avg {
        /// Sum of values seen.
        sum: ExactSum,
        /// Number of values seen.
        n: i64,
    },
    /// `min`
    Min(Value),
    /// `max`
    Max(Value),
    /// `first`: the non-null value with the least event time (the least value on ties).
    First {
        /// Its event time.
        time: EventTime,
        /// The value.
        value: Value,
    },
    /// `last`: the non-null value with the greatest event time (the greatest value on
    /// ties).
    Last {
        /// Its event time.
        time: EventTime,
        /// The value.
        value: Value,
    },
    /// `stddev`, `stddev_pop`, `variance` or `variance_pop`.
    Moments(AggFunc, Moments),
    /// `distinct_count` (and `approx_distinct_count` over a retracting input).
    Distinct(ValueCounts),
    /// `approx_distinct_count`.
    ApproxDistinct(Box<DistinctSketch>),
    /// `percentile` with p in parts per million.
    Percentile(u32, Box<Quantile>),
    /// `arg_max` / `arg_min` with the kept fields of the winner.
    Arg(Box<ArgExtreme>),
    /// `collect`: the values in event-time order.
    Collect(Box<Collected>),
    /// `top` / `bottom`: the best records, ranked.
    Top(Box<TopN>),
    /// `min`, `max`, `first` or `last` over a retracting input: every live value.
    Live {
        /// Which of the four.
        func: AggFunc,
        /// The values not withdrawn.
        values: LiveValues,
    },
}

impl Acc {
    /// Withdraws `v` (added before at `time`).
    fn remove(&mut self, v: &Value, time: EventTime) {
        match self {
            Acc::Count(n) => *n -= 1,
            Acc::SumInt(s) => {
                if let Value::Int(i) = v {
                    *s = s.wrapping_sub(*i)
                }
            }
            Acc::SumFloat(s) => {
                if let Some(x) = v.as_f64() {
                    s.add(-x)
                }
            }
            Acc::Avg { sum, n } => {
                if let Some(x) = v.as_f64() {
                    sum.add(-x);
                    *n -= 1;
                }
            }
            Acc::Live { values, .. } => values.apply(v, time, -1),
            Acc::Moments(_, m) => m.apply(v, -1),
            Acc::Distinct(d) => d.apply(v, -1),
            Acc::Percentile(_, q) => q.apply(v, -1),
            Acc::Collect(c) => c.apply(v, time, -1),
            // Built only for inputs that never retract.
            Acc::Min(_)
            | Acc::Max(_)
            | Acc::First { .. }
            | Acc::Last { .. }
            | Acc::ApproxDistinct(_)
            | Acc::Arg(_)
            | Acc::Top(_) => {}
        }
    }

    #[inline]
    fn add(&mut self, v: &Value, time: EventTime) {
        match self {
            Acc::Live { values, .. } => values.apply(v, time, 1),
            Acc::Moments(_, m) => m.apply(v, 1),
            Acc::Distinct(d) => d.apply(v, 1),
            Acc::ApproxDistinct(s) => s.add(v),
            Acc::Percentile(_, q) => q.apply(v, 1),
            Acc::Collect(c) => c.apply(v, time, 1),
            // Fed with their record by `AggregateFn::update`.
            Acc::Arg(_) | Acc::Top(_) => {}
            Acc::Count(n) => *n += 1,
            Acc::SumInt(s) => {
                if let Value::Int(i) = v {
                    *s = s.wrapping_add(*i)
                }
            }
            Acc::SumFloat(s) => {
                if let Some(x) = v.as_f64() {
                    s.add(x)
                }
            }
            Acc::Avg { sum, n } => {
                if let Some(x) = v.as_f64() {
                    sum.add(x);
                    *n += 1;
                }
            }
            Acc::Min(m) => {
                if !v.is_null() && (m.is_null() || v.total_cmp(m).is_lt()) {
                    *m = v.clone()
                }
            }
            Acc::Max(m) => {
                if !v.is_null() && (m.is_null() || v.total_cmp(m).is_gt()) {
                    *m = v.clone()
                }
            }
            // Ties go by value, so the answer never depends on arrival order or workers
            // (the same rule as `LiveValues` over a retracting input).
            Acc::First { time: t, value } => {
                let earlier = time < *t || (time == *t && v.total_cmp(value).is_lt());
                if !v.is_null() && (value.is_null() || earlier) {
                    *t = time;
                    *value = v.clone();
                }
            }
            Acc::Last { time: t, value } => {
                let later = time > *t || (time == *t && v.total_cmp(value).is_gt());
                if !v.is_null() && (value.is_null() || later) {
                    *t = time;
                    *value = v.clone();
                }
            }
        }
    }

    /// Folds `other` (the accumulator of a merged window) into `self`.
    pub fn merge(&mut self, other: &Acc) {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Moments(_, a), Acc::Moments(_, b)) => a.merge(b),
            (Acc::Distinct(a), Acc::Distinct(b)) => a.merge(b),
            (Acc::ApproxDistinct(a), Acc::ApproxDistinct(b)) => a.merge(b),
            (Acc::Percentile(_, a), Acc::Percentile(_, b)) => a.merge(b),
            (Acc::Arg(a), Acc::Arg(b)) => a.merge(b),
            (Acc::Collect(a), Acc::Collect(b)) => a.merge(b),
            (Acc::Top(a), Acc::Top(b)) => a.merge(b),
            (Acc::Live { values: a, .. }, Acc::Live { values: b, .. }) => a.merge(b),
            (Acc::SumInt(a), Acc::SumInt(b)) => *a = a.wrapping_add(*b),
            (Acc::SumFloat(a), Acc::SumFloat(b)) => a.merge(b),
            (Acc::Avg { sum, n }, Acc::Avg { sum: s2, n: n2 }) => {
                sum.merge(s2);
                *n += n2;
            }
            (acc @ (Acc::Min(_) | Acc::Max(_)), Acc::Min(v) | Acc::Max(v)) => acc.add(v, 0),
            (acc @ (Acc::First { .. } | Acc::Last { .. }), Acc::First { time, value })
            | (acc @ (Acc::First { .. } | Acc::Last { .. }), Acc::Last { time, value }) => {
                // An untouched accumulator's sentinel time never wins.
                acc.add(value, *time)
            }
            _ => {}
        }
    }

    /// Pushes the output values: one, or for `arg_max … keep` also the kept fields.
    pub fn finish_into(&self, out: &mut Vec<Value>) {
        match self {
            Acc::Arg(a) => a.finish_into(out),
            Acc::Top(t) => t.finish_into(out),
            acc => out.push(acc.finish()),
        }
    }

    /// The aggregate's output value.
    pub fn finish(&self) -> Value {
        match self {
            Acc::Count(n) => Value::Int(*n),
            Acc::Moments(func, m) => m.finish(*func),
            Acc::Distinct(d) => Value::Int(d.distinct()),
            Acc::ApproxDistinct(s) => Value::Int(s.estimate()),
            Acc::Percentile(ppm, q) => q.finish(f64::from(*ppm) / 1e6),
            Acc::Arg(a) => a.value(),
            Acc::Collect(c) => c.finish(),
            Acc::Top(t) => t.value(),
            Acc::SumInt(s) => Value::Int(*s),
            Acc::SumFloat(s) => Value::Float(s.value()),
            Acc::Avg { n: 0, .. } => Value::Null,
            Acc::Avg { sum, n } => Value::Float(sum.value() / *n as f64),
            Acc::Min(v) | Acc::Max(v) => v.clone(),
            Acc::First { value, .. } | Acc::Last { value, .. } => value.clone(),
            Acc::Live { func, values } => match func {
                AggFunc::Min => values.min(),
                AggFunc::Max => values.max(),
                AggFunc::First => values.first(),
                _ => values.last(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Expr;

    fn agg(func: AggFunc, ty: Type) -> AggregateFn {
        AggregateFn::compile(&Aggregate {
            name: "x".into(),
            func,
            arg: Some(Expr::Field {
                slot: 0,
                name: "v".into(),
            }),
            arg_type: Some(ty),
            keep: Vec::new(),
        })
    }

    #[test]
    fn accumulators_finish_to_the_batch_answer() {
        let values = [(3.0, 30), (1.0, 10), (2.0, 20), (5.0, 5)];
        let cases = [
            (AggFunc::Sum, Value::Float(11.0)),
            (AggFunc::Avg, Value::Float(2.75)),
            (AggFunc::Min, Value::Float(1.0)),
            (AggFunc::Max, Value::Float(5.0)),
            (AggFunc::First, Value::Float(5.0)),
            (AggFunc::Last, Value::Float(3.0)),
        ];
        for (func, expected) in cases {
            let f = agg(func, Type::Float);
            let mut acc = f.init();
            for (v, t) in values {
                f.update(&mut acc, &[Value::Float(v)], t);
            }
            assert_eq!(acc.finish(), expected, "{func:?}");
        }
    }

    #[test]
    fn first_and_last_break_ties_by_value_not_arrival() {
        for order in [
            [(7.0, 5), (2.0, 5), (9.0, 9), (4.0, 9)],
            [(4.0, 9), (9.0, 9), (2.0, 5), (7.0, 5)],
        ] {
            for (func, expected) in [(AggFunc::First, 2.0), (AggFunc::Last, 9.0)] {
                let f = agg(func, Type::Float);
                let mut acc = f.init();
                f.update(&mut acc, &[Value::Null], 0);
                for (v, t) in order {
                    f.update(&mut acc, &[Value::Float(v)], t);
                }
                assert_eq!(acc.finish(), Value::Float(expected), "{func:?} {order:?}");
            }
        }
    }

    #[test]
    fn nulls_are_skipped_and_empty_avg_is_null() {
        let f = agg(AggFunc::Avg, Type::Float);
        let mut acc = f.init();
        f.update(&mut acc, &[Value::Null], 1);
        assert_eq!(acc.finish(), Value::Null);
        let s = agg(AggFunc::Sum, Type::Int);
        let mut acc = s.init();
        s.update(&mut acc, &[Value::Int(4)], 1);
        s.update(&mut acc, &[Value::Null], 2);
        assert_eq!(acc.finish(), Value::Int(4));
    }
}
