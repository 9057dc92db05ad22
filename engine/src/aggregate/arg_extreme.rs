//! `arg_max(x) keep {a, b}` and `arg_min`: the extreme value with fields of the record
//! that holds it.
//!
//! Ties on the value go to the earliest event time, then to the least kept values, so
//! the winner depends only on the set of records (never on arrival order, bundling or
//! the number of workers). Over a retracting input every live candidate is kept, so a
//! withdrawn winner hands over to the next best.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::time::EventTime;
use crate::value::Value;

/// A candidate record, ordered so that the best one is the greatest (also the ranking
/// of `top` and `bottom`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Candidate {
    pub(crate) value: Value,
    pub(crate) time: EventTime,
    pub(crate) kept: Vec<Value>,
    /// `Greater` for `arg_max`, `Less` for `arg_min`.
    #[serde(with = "want")]
    pub(crate) want: Ordering,
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_value = self.value.total_cmp(&other.value);
        let by_value = if self.want == Ordering::Less {
            by_value.reverse()
        } else {
            by_value
        };
        let by_kept = || {
            // Least kept values win, so compare the other way round.
            other
                .kept
                .iter()
                .zip(&self.kept)
                .map(|(a, b)| a.total_cmp(b))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        };
        by_value.then(other.time.cmp(&self.time)).then_with(by_kept)
    }
}

/// The running state of one group's `arg_max` / `arg_min`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArgExtreme {
    #[serde(with = "want")]
    want: Ordering,
    keep_len: usize,
    best: Option<Candidate>,
    /// Over a retracting input: every live candidate with its multiplicity.
    live: Option<BTreeMap<Candidate, i64>>,
}

impl ArgExtreme {
    /// A state for `arg_max` (`want` = `Greater`) or `arg_min` (`Less`) keeping
    /// `keep_len` fields; `retracting` keeps every candidate.
    pub fn new(want: Ordering, keep_len: usize, retracting: bool) -> ArgExtreme {
        ArgExtreme {
            want,
            keep_len,
            best: None,
            live: retracting.then(BTreeMap::new),
        }
    }

    /// Adds (`sign` 1) or withdraws (`sign` −1) a record; a null value is no candidate.
    pub fn apply(&mut self, value: &Value, time: EventTime, kept: Vec<Value>, sign: i64) {
        if value.is_null() {
            return;
        }
        let c = Candidate {
            value: value.clone(),
            time,
            kept,
            want: self.want,
        };
        match &mut self.live {
            Some(live) => {
                let n = live.entry(c.clone()).or_insert(0);
                *n += sign;
                if *n == 0 {
                    live.remove(&c);
                }
            }
            None => self.offer(c),
        }
    }

    fn offer(&mut self, c: Candidate) {
        if self.best.as_ref().is_none_or(|b| c > *b) {
            self.best = Some(c);
        }
    }

    /// Folds another group's state into this one.
    pub fn merge(&mut self, other: &ArgExtreme) {
        match (&mut self.live, &other.live) {
            (Some(mine), Some(theirs)) => {
                for (c, n) in theirs {
                    *mine.entry(c.clone()).or_insert(0) += n;
                }
                mine.retain(|_, n| *n != 0);
            }
            _ => {
                if let Some(c) = other.best.clone() {
                    self.offer(c);
                }
            }
        }
    }

    fn winner(&self) -> Option<&Candidate> {
        match &self.live {
            Some(live) => live.keys().next_back(),
            None => self.best.as_ref(),
        }
    }

    /// Pushes the winning value, then its kept fields (nulls when there is none).
    pub fn finish_into(&self, out: &mut Vec<Value>) {
        match self.winner() {
            Some(c) => {
                out.push(c.value.clone());
                out.extend(c.kept.iter().cloned());
            }
            None => out.extend(std::iter::repeat_n(Value::Null, 1 + self.keep_len)),
        }
    }

    /// The winning value alone.
    pub fn value(&self) -> Value {
        self.winner().map_or(Value::Null, |c| c.value.clone())
    }
}

/// `Ordering` as the `i8` it is (`-1`, `0`, `1`), which serde has no impl for.
pub(crate) mod want {
    use std::cmp::Ordering;

    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(o: &Ordering, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i8(*o as i8)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ordering, D::Error> {
        match i8::deserialize(d)? {
            -1 => Ok(Ordering::Less),
            0 => Ok(Ordering::Equal),
            1 => Ok(Ordering::Greater),
            n => Err(de::Error::custom(format!("not an ordering: {n}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bids() -> Vec<(f64, EventTime, i64)> {
        vec![
            (5.0, 30, 1),
            (9.0, 20, 2),
            (9.0, 10, 3),
            (9.0, 10, 4),
            (1.0, 5, 5),
        ]
    }

    fn winner(state: &ArgExtreme) -> Vec<Value> {
        let mut out = Vec::new();
        state.finish_into(&mut out);
        out
    }

    #[test]
    fn ties_go_to_the_earliest_then_the_least_kept_in_any_order() {
        let mut expected = None;
        for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 3, 1]] {
            let mut s = ArgExtreme::new(Ordering::Greater, 1, false);
            for i in order {
                let (v, t, bidder) = bids()[i];
                s.apply(&Value::Float(v), t, vec![Value::Int(bidder)], 1);
            }
            let got = winner(&s);
            assert_eq!(got, vec![Value::Float(9.0), Value::Int(3)]);
            assert!(expected.replace(got.clone()).is_none_or(|e| e == got));
        }
        let mut min = ArgExtreme::new(Ordering::Less, 1, false);
        for (v, t, b) in bids() {
            min.apply(&Value::Float(v), t, vec![Value::Int(b)], 1);
        }
        assert_eq!(winner(&min), vec![Value::Float(1.0), Value::Int(5)]);
        assert_eq!(
            winner(&ArgExtreme::new(Ordering::Greater, 2, false)),
            vec![Value::Null; 3]
        );
    }

    #[test]
    fn a_withdrawn_winner_hands_over_and_merges_keep_the_best() {
        let mut s = ArgExtreme::new(Ordering::Greater, 1, true);
        for (v, t, b) in bids() {
            s.apply(&Value::Float(v), t, vec![Value::Int(b)], 1);
        }
        s.apply(&Value::Float(9.0), 10, vec![Value::Int(3)], -1);
        assert_eq!(winner(&s), vec![Value::Float(9.0), Value::Int(4)]);
        let (mut a, mut b) = (
            ArgExtreme::new(Ordering::Greater, 1, false),
            ArgExtreme::new(Ordering::Greater, 1, false),
        );
        a.apply(&Value::Float(2.0), 1, vec![Value::Int(1)], 1);
        b.apply(&Value::Float(7.0), 2, vec![Value::Int(2)], 1);
        a.merge(&b);
        assert_eq!(a.value(), Value::Float(7.0));
    }
}
