//! `window count <n> [every <m>]` + `aggregate`: per key, in event-time order (the keyed
//! ordering operator, `ops::ordered`), every `m`-th record closes a window over the key's
//! last `n` records (fewer before the key has `n`). `every` defaults to `n`: tumbling
//! count windows. Each window is emitted at once, at its last record's event time, with
//! the window fields every windowed aggregate has.

use std::collections::VecDeque;
use std::sync::Arc;

use hashbrown::HashMap;

use serde::{Deserialize, Serialize};

use super::EventStream;
use crate::aggregate::AggregateFn;
use crate::checkpoint::keyed;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::plan::Aggregate;
use crate::value::Value;
use crate::worker::WorkerContext;

/// One key's last records and how many it has had.
#[derive(Default, Serialize, Deserialize)]
struct KeyState {
    last: VecDeque<Event>,
    seen: u64,
}

/// The count windows of one operator instance.
pub struct CountWindows {
    size: usize,
    every: u64,
    keys: Arc<[usize]>,
    aggs: Vec<AggregateFn>,
    states: HashMap<GroupKey, KeyState>,
}

impl CountWindows {
    /// Windows of `size` records, one every `every` records, per key of `keys`.
    pub fn new(size: u64, every: u64, keys: &[usize], aggregates: &[Aggregate]) -> CountWindows {
        CountWindows {
            size: usize::try_from(size.max(1)).unwrap_or(usize::MAX),
            every: every.max(1),
            keys: keys.into(),
            aggs: aggregates.iter().map(AggregateFn::compile).collect(),
            states: HashMap::new(),
        }
    }

    /// Adds `event` (the next of its key in event-time order); when it closes a window,
    /// turns it into the window's output record and returns true.
    pub fn apply(&mut self, event: &mut Event) -> bool {
        let view = KeyView {
            record: &event.record,
            slots: &self.keys,
        };
        let state = match self.states.get_mut(&view) {
            Some(s) => s,
            None => self.states.entry(view.to_owned()).or_default(),
        };
        state.last.push_back(event.clone());
        if state.last.len() > self.size {
            state.last.pop_front();
        }
        let index = state.seen;
        state.seen += 1;
        if state.seen % self.every != 0 {
            return false;
        }
        let mut out: Vec<Value> = self.keys.iter().map(|&s| event.record[s].clone()).collect();
        for f in &self.aggs {
            let mut acc = f.init();
            for e in &state.last {
                f.update(&mut acc, &e.record, e.time);
            }
            acc.finish_into(&mut out);
        }
        let start = state.last.front().map_or(event.time, |e| e.time);
        out.extend([
            Value::Time(start),
            Value::Time(event.time.saturating_add(1)),
            Value::str("on_time"),
            Value::Int(i64::try_from(index / self.every).unwrap_or(i64::MAX)),
            Value::Int(i64::try_from(index / self.every).unwrap_or(i64::MAX)),
            Value::Bool(true),
            Value::Time(event.time),
        ]);
        event.record = out;
        true
    }
}

/// Builds the count-window operator.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    size: u64,
    every: u64,
    aggregates: &[Aggregate],
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let windows = CountWindows::new(size, every, keys, aggregates);
    super::ordered::build(stream, "CountWindow", keys, windows, operator, ctx)
}

impl super::ordered::KeyedModel for CountWindows {
    /// Each key's entry and the records of its last window, in-line.
    fn size(&self) -> StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<KeyState>();
        let event = std::mem::size_of::<Event>();
        let value = std::mem::size_of::<Value>();
        let bytes: usize = (self.states.values())
            .map(|s| {
                entry
                    + s.last
                        .iter()
                        .map(|e| event + e.record.len() * value)
                        .sum::<usize>()
            })
            .sum();
        StateSize {
            keys: self.states.len() as u64,
            bytes: bytes as u64,
        }
    }

    fn apply(&mut self, event: &mut Event) -> bool {
        CountWindows::apply(self, event)
    }
    fn save(&self) -> Result<Vec<u8>, bincode::Error> {
        keyed::save_map(&self.states)
    }
    fn load(
        &mut self,
        bytes: &[u8],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        keyed::load_map(bytes, owns, &mut self.states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AggFunc, Expr};
    use crate::schema::Type;

    fn sum() -> Aggregate {
        Aggregate {
            name: "s".into(),
            func: AggFunc::Sum,
            arg: Some(Expr::Field {
                slot: 1,
                name: "v".into(),
            }),
            arg_type: Some(Type::Int),
            keep: Vec::new(),
        }
    }

    fn feed(w: &mut CountWindows, key: i64, v: i64, t: i64) -> Option<Vec<Value>> {
        let mut e = Event::new(t, vec![Value::Int(key), Value::Int(v)]);
        w.apply(&mut e).then_some(e.record)
    }

    #[test]
    fn sliding_count_windows_sum_each_keys_last_records() {
        let mut w = CountWindows::new(3, 1, &[0], &[sum()]);
        let sums: Vec<Value> = (1..=5)
            .filter_map(|i| feed(&mut w, 0, i, i * 10))
            .map(|r| r[1].clone())
            .collect();
        assert_eq!(sums, [1, 3, 6, 9, 12].map(Value::Int));
        let other = feed(&mut w, 1, 100, 60).expect("every record fires");
        assert_eq!(other[1], Value::Int(100), "keys do not share windows");
    }

    #[test]
    fn tumbling_count_windows_fire_every_nth_record() {
        let mut w = CountWindows::new(2, 2, &[0], &[sum()]);
        let out: Vec<Vec<Value>> = (1..=5).filter_map(|i| feed(&mut w, 0, i, i)).collect();
        assert_eq!(out.len(), 2);
        // key, sum, window.start, window.end, timing, index, nonspeculative, final, timestamp
        assert_eq!(
            out[0][1..4],
            [Value::Int(3), Value::Time(1), Value::Time(3)]
        );
        assert_eq!(out[1][1], Value::Int(7));
        assert_eq!(out[1][5], Value::Int(1));
    }
}
