//! `collect(x)`: every non-null value of a group, as a list in event-time order.
//!
//! The values are kept as a multiset ordered by (event time, value), so the list is the
//! same whatever the arrival order, the bundling or the number of workers: values at the
//! same event time come in ascending value order. Withdrawing a value (a retraction)
//! removes one occurrence; merging two sessions adds the multisets.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::retraction::Ordered;
use crate::time::EventTime;
use crate::value::Value;

/// The values of one group with their multiplicities, in (event time, value) order.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Collected {
    by_time: BTreeMap<(EventTime, Ordered), i64>,
}

impl Collected {
    /// Adds (`sign` 1) or withdraws (`sign` −1) one occurrence of `v` at `time`; nulls
    /// are skipped, as every aggregate skips them.
    pub fn apply(&mut self, v: &Value, time: EventTime, sign: i64) {
        if v.is_null() {
            return;
        }
        match self.by_time.entry((time, Ordered(v.clone()))) {
            Entry::Occupied(mut e) => {
                *e.get_mut() += sign;
                // A withdrawal that overtakes its addition leaves a negative count until
                // the addition arrives; zero means gone.
                if *e.get() == 0 {
                    e.remove();
                }
            }
            Entry::Vacant(e) => {
                e.insert(sign);
            }
        }
    }

    /// Folds the values of a merged window into these.
    pub fn merge(&mut self, other: &Collected) {
        for ((time, v), n) in &other.by_time {
            self.apply(&v.0, *time, *n);
        }
    }

    /// The list: each value as many times as it is live, in event-time order.
    pub fn finish(&self) -> Value {
        let mut items = Vec::new();
        for ((_, v), n) in &self.by_time {
            for _ in 0..(*n).max(0) {
                items.push(v.0.clone());
            }
        }
        Value::List(items.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &Value) -> Vec<i64> {
        match v {
            Value::List(items) => items.iter().filter_map(Value::as_i64).collect(),
            other => panic!("not a list: {other}"),
        }
    }

    #[test]
    fn the_list_is_in_event_time_order_whatever_the_arrival_order() {
        let mut a = Collected::default();
        for (v, t) in [(3, 30), (1, 10), (9, 20), (2, 20), (5, 5)] {
            a.apply(&Value::Int(v), t, 1);
        }
        a.apply(&Value::Null, 1, 1);
        // Ties at t = 20 come in value order.
        assert_eq!(ints(&a.finish()), vec![5, 1, 2, 9, 3]);
        a.apply(&Value::Int(9), 20, -1);
        assert_eq!(ints(&a.finish()), vec![5, 1, 2, 3]);
    }

    #[test]
    fn merging_adds_the_multisets() {
        let mut a = Collected::default();
        let mut b = Collected::default();
        a.apply(&Value::Int(1), 10, 1);
        b.apply(&Value::Int(1), 10, 1);
        b.apply(&Value::Int(0), 0, 1);
        a.merge(&b);
        assert_eq!(ints(&a.finish()), vec![0, 1, 1]);
    }
}
