//! `top(x, n) keep {a, b}` and `bottom`: the `n` best records of a group, ranked.
//!
//! Records rank as `arg_max` ranks them (by value, ties to the earliest event time, then
//! to the least kept values), so the ranking depends only on the set of records, never
//! on arrival order, bundling or the number of workers. An input that never retracts
//! keeps at most `n` candidates (a record that falls out can never come back); over a
//! retracting input every live candidate is kept, so a withdrawn record hands its rank
//! to the next.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::arg_extreme::{want, Candidate};
use crate::time::EventTime;
use crate::value::Value;

/// The running state of one group's `top` / `bottom`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopN {
    n: usize,
    #[serde(with = "want")]
    want: Ordering,
    keep_len: usize,
    retracting: bool,
    /// Candidates with their multiplicity; the best is the last.
    ranked: BTreeMap<Candidate, i64>,
    /// Sum of the multiplicities (at most `n` when not retracting).
    held: i64,
}

impl TopN {
    /// A state for `top` (`want` = `Greater`) or `bottom` (`Less`) of `n` records keeping
    /// `keep_len` fields; `retracting` keeps every candidate.
    pub fn new(n: u32, want: Ordering, keep_len: usize, retracting: bool) -> TopN {
        TopN {
            n: n as usize,
            want,
            keep_len,
            retracting,
            ranked: BTreeMap::new(),
            held: 0,
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
        self.add(c, sign);
    }

    fn add(&mut self, c: Candidate, count: i64) {
        if !self.retracting && self.held >= self.n as i64 {
            // Full: a record no better than the worst kept one cannot enter.
            if self.ranked.keys().next().is_some_and(|worst| c <= *worst) {
                return;
            }
        }
        let entry = self.ranked.entry(c.clone()).or_insert(0);
        *entry += count;
        if *entry == 0 {
            self.ranked.remove(&c);
        }
        self.held += count;
        if !self.retracting {
            self.trim();
        }
    }

    /// Drops the worst candidates beyond `n`.
    fn trim(&mut self) {
        while self.held > self.n as i64 {
            let Some(mut worst) = self.ranked.first_entry() else {
                return;
            };
            let over = (self.held - self.n as i64).min(*worst.get());
            *worst.get_mut() -= over;
            self.held -= over;
            if *worst.get() <= 0 {
                worst.remove();
            }
        }
    }

    /// Folds another group's state into this one.
    pub fn merge(&mut self, other: &TopN) {
        for (c, count) in &other.ranked {
            self.add(c.clone(), *count);
        }
    }

    /// The best `n` live candidates, best first, each as often as it is live.
    fn best(&self) -> impl Iterator<Item = &Candidate> {
        self.ranked
            .iter()
            .rev()
            .flat_map(|(c, count)| std::iter::repeat_n(c, (*count).max(0) as usize))
            .take(self.n)
    }

    /// Pushes the list of ranked values, then a list per kept field.
    pub fn finish_into(&self, out: &mut Vec<Value>) {
        out.push(self.value());
        for i in 0..self.keep_len {
            let items: Vec<Value> = self.best().map(|c| c.kept[i].clone()).collect();
            out.push(Value::List(items.into()));
        }
    }

    /// The ranked values alone, best first.
    pub fn value(&self) -> Value {
        let items: Vec<Value> = self.best().map(|c| c.value.clone()).collect();
        Value::List(items.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (price, time, bidder)
    const BIDS: [(i64, EventTime, i64); 6] = [
        (5, 30, 1),
        (9, 20, 2),
        (9, 10, 3),
        (9, 10, 4),
        (1, 5, 5),
        (7, 40, 6),
    ];

    fn ranked(state: &TopN) -> Vec<Value> {
        let mut out = Vec::new();
        state.finish_into(&mut out);
        out
    }

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|i| Value::Int(*i)).collect())
    }

    #[test]
    fn the_best_n_in_rank_order_whatever_the_arrival_order() {
        for order in [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 0, 4, 5, 3, 1]] {
            let mut top = TopN::new(4, Ordering::Greater, 1, false);
            let mut bottom = TopN::new(2, Ordering::Less, 1, false);
            for i in order {
                let (v, t, b) = BIDS[i];
                top.apply(&Value::Int(v), t, vec![Value::Int(b)], 1);
                bottom.apply(&Value::Int(v), t, vec![Value::Int(b)], 1);
            }
            // Ties at 9: earliest first, then the least bidder.
            assert_eq!(ranked(&top), vec![ints(&[9, 9, 9, 7]), ints(&[3, 4, 2, 6])]);
            assert_eq!(ranked(&bottom), vec![ints(&[1, 5]), ints(&[5, 1])]);
            assert!(top.ranked.len() <= 4);
        }
        let empty = TopN::new(3, Ordering::Greater, 1, false);
        assert_eq!(ranked(&empty), vec![ints(&[]), ints(&[])]);
    }

    #[test]
    fn duplicates_count_and_withdrawals_hand_over_the_rank() {
        let mut s = TopN::new(2, Ordering::Greater, 0, true);
        for (v, t, _) in BIDS {
            s.apply(&Value::Int(v), t, vec![], 1);
        }
        // Without kept fields the two 9s at time 10 are one candidate, held twice.
        s.apply(&Value::Int(9), 10, vec![], 1);
        assert_eq!(s.value(), ints(&[9, 9]));
        for _ in 0..3 {
            s.apply(&Value::Int(9), 10, vec![], -1);
        }
        assert_eq!(s.value(), ints(&[9, 7]));
        s.apply(&Value::Int(9), 20, vec![], -1);
        assert_eq!(s.value(), ints(&[7, 5]));
    }

    #[test]
    fn merging_keeps_the_best_of_both() {
        let (mut a, mut b) = (
            TopN::new(3, Ordering::Greater, 0, false),
            TopN::new(3, Ordering::Greater, 0, false),
        );
        for (i, (v, t, _)) in BIDS.iter().enumerate() {
            let side = if i % 2 == 0 { &mut a } else { &mut b };
            side.apply(&Value::Int(*v), *t, vec![], 1);
        }
        a.merge(&b);
        assert_eq!(a.value(), ints(&[9, 9, 9]));
    }
}
