//! Aggregating a retracting stream: records with `pane.retraction: true` withdraw a record
//! seen before, so downstream aggregates subtract them and stay exact. `count`, `sum` and
//! `avg` are inverted arithmetically; `min`, `max`, `first` and `last` keep a multiset of
//! what is live.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::time::EventTime;
use crate::value::Value;

/// The name of the field that marks a retraction, as retracting windows append it.
pub const RETRACTION_FIELD_NAME: &str = "pane.retraction";

/// A value ordered by [`Value::total_cmp`], for multisets.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Ordered(pub Value);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0) == Ordering::Equal
    }
}
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Live values with their multiplicities, keyed by (event time, value) so it answers
/// `min`/`max` by value and `first`/`last` by time.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LiveValues {
    by_value: BTreeMap<Ordered, i64>,
    by_time: BTreeMap<(EventTime, Ordered), i64>,
}

impl LiveValues {
    /// Adds (`sign` 1) or withdraws (`sign` −1) one occurrence of `v` at `time`.
    pub fn apply(&mut self, v: &Value, time: EventTime, sign: i64) {
        if v.is_null() {
            return;
        }
        bump(&mut self.by_value, Ordered(v.clone()), sign);
        bump(&mut self.by_time, (time, Ordered(v.clone())), sign);
    }

    /// Folds another multiset into this one.
    pub fn merge(&mut self, other: &LiveValues) {
        for (k, n) in &other.by_value {
            bump(&mut self.by_value, k.clone(), *n);
        }
        for (k, n) in &other.by_time {
            bump(&mut self.by_time, k.clone(), *n);
        }
    }

    /// The least live value.
    pub fn min(&self) -> Value {
        self.by_value
            .keys()
            .next()
            .map_or(Value::Null, |k| k.0.clone())
    }

    /// The greatest live value.
    pub fn max(&self) -> Value {
        self.by_value
            .keys()
            .next_back()
            .map_or(Value::Null, |k| k.0.clone())
    }

    /// The live value with the least event time.
    pub fn first(&self) -> Value {
        self.by_time
            .keys()
            .next()
            .map_or(Value::Null, |k| k.1 .0.clone())
    }

    /// The live value with the greatest event time.
    pub fn last(&self) -> Value {
        self.by_time
            .keys()
            .next_back()
            .map_or(Value::Null, |k| k.1 .0.clone())
    }
}

fn bump<K: Ord>(map: &mut BTreeMap<K, i64>, key: K, by: i64) {
    use std::collections::btree_map::Entry;
    match map.entry(key) {
        Entry::Occupied(mut e) => {
            *e.get_mut() += by;
            // Dropping zero counts keeps the answers exact. A withdrawal that overtakes
            // its addition leaves a negative count until the addition arrives.
            if *e.get() == 0 {
                e.remove();
            }
        }
        Entry::Vacant(e) => {
            if by != 0 {
                e.insert(by);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdrawn_values_stop_counting() {
        let mut live = LiveValues::default();
        live.apply(&Value::Float(3.0), 10, 1);
        live.apply(&Value::Float(1.0), 20, 1);
        live.apply(&Value::Float(5.0), 5, 1);
        assert_eq!(
            (live.min(), live.max()),
            (Value::Float(1.0), Value::Float(5.0))
        );
        assert_eq!(
            (live.first(), live.last()),
            (Value::Float(5.0), Value::Float(1.0))
        );
        live.apply(&Value::Float(5.0), 5, -1);
        live.apply(&Value::Float(1.0), 20, -1);
        assert_eq!(
            (live.min(), live.max()),
            (Value::Float(3.0), Value::Float(3.0))
        );
        assert_eq!(
            (live.first(), live.last()),
            (Value::Float(3.0), Value::Float(3.0))
        );
        live.apply(&Value::Float(3.0), 10, -1);
        assert_eq!(live.min(), Value::Null);
    }
}
