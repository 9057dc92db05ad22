//! `window tumbling|sliding <d> on processing time` + `aggregate`: windows by arrival.
//! Each record joins the windows that contain the run's clock when it reaches this
//! operator (after the exchange by key), and a window fires once, final, when the clock
//! passes its end — a processing-time timer, on the wall clock or a test's `clock`.
//! Nothing is ever late. A pane's event time is the latest event time of its records,
//! or the watermark when it fires if that is later, so it is never late downstream; its
//! `window.start`/`window.end` are the processing-time bounds. When the input ends, the
//! windows still open fire (not final if the input was cut short). With checkpoints the
//! open windows are part of each snapshot, and a window whose end passed while the run
//! was down fires when it resumes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::{send_runs, EventOutput, EventStream};
use crate::aggregate::{Acc, AggregateFn};
use crate::checkpoint::cut::{epoch_of, EpochCut};
use crate::checkpoint::keyed::or_fail;
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::plan::{Aggregate, WindowKind};
use crate::time::EventTime;
use crate::value::{Record, Value};
use crate::window::assign::{Assigner, Window};
use crate::worker::WorkerContext;

/// One key's share of one window.
#[derive(Serialize, Deserialize)]
struct Open {
    start: EventTime,
    accs: Vec<Acc>,
    /// The latest event time among its records.
    latest: EventTime,
}

/// The open processing-time windows of one operator instance.
pub struct ProcessingWindows {
    keys: Arc<[usize]>,
    assigner: Assigner,
    aggs: Vec<AggregateFn>,
    /// Slot of the input's `pane.retraction`, when it retracts earlier records.
    retraction: Option<usize>,
    /// By window end (every window of one end has the same start): per key, its state.
    open: BTreeMap<EventTime, HashMap<GroupKey, Open>>,
}

/// How a window fires: final unless the input was cut short.
#[derive(Clone, Copy)]
struct Firing {
    /// The watermark when it fires: the least event time the pane may carry.
    watermark: EventTime,
    is_final: bool,
}

impl ProcessingWindows {
    /// Windows of `kind` (tumbling or sliding) per key of `keys`, aggregating
    /// `aggregates`; `retraction` is the input's `pane.retraction` slot, if any.
    pub fn new(
        kind: &WindowKind,
        keys: &[usize],
        aggregates: &[Aggregate],
        retraction: Option<usize>,
    ) -> ProcessingWindows {
        ProcessingWindows {
            keys: keys.into(),
            assigner: Assigner::new(kind),
            aggs: AggregateFn::compile_all(aggregates, retraction),
            retraction,
            open: BTreeMap::new(),
        }
    }

    /// Adds `event`, which arrived at processing time `now`, to its windows.
    pub fn add(&mut self, event: &Event, now: EventTime) {
        let mut windows: Vec<Window> = Vec::with_capacity(1);
        self.assigner.assign(now, |w| windows.push(w));
        let view = KeyView {
            record: &event.record,
            slots: &self.keys,
        };
        let withdraws = self
            .retraction
            .is_some_and(|slot| event.record.get(slot) == Some(&Value::Bool(true)));
        for w in windows {
            let by_key = self.open.entry(w.end).or_default();
            let open = match by_key.get_mut(&view) {
                Some(o) => o,
                None => by_key.entry(view.to_owned()).or_insert_with(|| Open {
                    start: w.start,
                    accs: self.aggs.iter().map(AggregateFn::init).collect(),
                    latest: EventTime::MIN,
                }),
            };
            for (agg, acc) in self.aggs.iter().zip(open.accs.iter_mut()) {
                if withdraws {
                    agg.withdraw(acc, &event.record, event.time);
                } else {
                    agg.update(acc, &event.record, event.time);
                }
            }
            open.latest = open.latest.max(event.time);
        }
    }

    /// The end of the window that closes next, if any is open.
    pub fn next_end(&self) -> Option<EventTime> {
        self.open.keys().next().copied()
    }

    /// Emits every window whose end is at or before `now` (all of them for `MAX`).
    fn fire_due(&mut self, now: EventTime, firing: Firing, out: &mut Vec<Event>) {
        let later = match now.checked_add(1) {
            Some(after) => self.open.split_off(&after),
            None => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut self.open, later);
        for (end, by_key) in due {
            let mut panes: Vec<(GroupKey, Open)> = by_key.into_iter().collect();
            // Keys in a stable order, so a run's output does not depend on hashing.
            panes.sort_by(|a, b| compare_keys(&a.0, &b.0));
            for (key, open) in panes {
                out.push(self.pane(key, end, open, firing));
            }
        }
    }

    /// The output record of one key's window: the key, the aggregates and the window
    /// fields every windowed aggregate has.
    fn pane(&self, key: GroupKey, end: EventTime, open: Open, firing: Firing) -> Event {
        let time = open.latest.max(firing.watermark);
        let mut record: Record = Vec::with_capacity(key.0.len() + open.accs.len() + 7);
        record.extend(key.0);
        for acc in &open.accs {
            acc.finish_into(&mut record);
        }
        record.extend([
            Value::Time(open.start),
            Value::Time(end),
            Value::str("on_time"),
            Value::Int(0),
            Value::Int(0),
            Value::Bool(firing.is_final),
            Value::Time(time),
        ]);
        Event::new(time, record)
    }

    /// Keys and an estimate of their bytes (in-line sizes).
    fn size(&self) -> StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<Open>();
        let acc = std::mem::size_of::<Acc>();
        let (keys, bytes) = self.open.values().fold((0, 0), |(k, b), by_key| {
            (
                k + by_key.len(),
                b + by_key.len() * (entry + self.aggs.len() * acc),
            )
        });
        StateSize {
            keys: keys as u64,
            bytes: bytes as u64,
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, bincode::Error> {
        let open: Vec<(EventTime, Vec<(&GroupKey, &Open)>)> = self
            .open
            .iter()
            .map(|(end, by_key)| (*end, by_key.iter().collect()))
            .collect();
        bincode::serialize(&open)
    }

    /// Adds one old worker's snapshot, keeping the keys `owns` accepts.
    fn restore(
        &mut self,
        bytes: &[u8],
        owns: impl Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        let old: Vec<(EventTime, Vec<(GroupKey, Open)>)> = bincode::deserialize(bytes)?;
        for (end, by_key) in old {
            let into = self.open.entry(end).or_default();
            into.extend(by_key.into_iter().filter(|(k, _)| owns(k)));
        }
        self.open.retain(|_, by_key| !by_key.is_empty());
        Ok(())
    }
}

/// Orders keys by their values (`Value::total_cmp`), field by field.
fn compare_keys(a: &GroupKey, b: &GroupKey) -> std::cmp::Ordering {
    a.0.iter()
        .zip(&b.0)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Where a processing-time window sits.
pub struct Placement {
    /// Slot of the input's `pane.retraction` field, when it has one.
    pub retraction: Option<usize>,
    /// Its index in the per-operator metrics.
    pub operator: Option<usize>,
}

/// Builds the processing-time window operator.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    kind: &WindowKind,
    aggregates: &[Aggregate],
    placement: Placement,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let mut windows = ProcessingWindows::new(kind, keys, aggregates, placement.retraction);
    let scope = stream.scope();
    stream.unary_frontier(Pipeline, "ProcessingWindow", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        let mut report = super::state_report::StateReport::new(placement.operator);
        let mut cap = cap;
        let mut epochs: EpochCut<Event> =
            EpochCut::resume(&ctx, "window", &mut cap, |b, owns| windows.restore(b, owns));
        let mut held: Option<Capability<Stamp>> = Some(cap);
        move |(input, frontier), output| {
            let Some(cap) = held.as_mut() else {
                input.for_each_stamp(|_, _| {});
                return;
            };
            let now = ctx.clock.now();
            input.for_each_stamp(|message, containers| {
                windows.take(message.stamp().elements(), containers, &mut epochs, now);
            });
            let frontier = frontier.frontier();
            windows.send_due(now, Firing::at(cap), cap, output);
            let ending = epochs.ending(&frontier, ctx.stop.is_requested());
            windows.close_epochs(&frontier, ending, &mut epochs, cap, output, &ctx);
            let done = frontier.is_empty();
            if done {
                windows.finish(ending, &mut epochs, cap, output, &ctx);
            } else if let Some(w) = stamp::watermark(&frontier) {
                if let Some(next) = stamp::advanced_to(cap.time(), w) {
                    cap.downgrade(&next);
                }
            }
            if let Some(later) = report.report(&ctx, done, || windows.size()) {
                activator.activate_after(later);
            }
            if done {
                held = None;
            } else if let Some(end) = windows.next_end() {
                let wait = end.saturating_sub(ctx.clock.now()).max(1);
                activator.activate_after(Duration::from_millis(wait as u64));
            }
        }
    })
}

impl Firing {
    /// A final firing at the watermark `cap` holds.
    fn at(cap: &Capability<Stamp>) -> Firing {
        Firing {
            watermark: cap.time().outer,
            is_final: true,
        }
    }
}

/// The operator's side of its input, its epochs and its output.
impl ProcessingWindows {
    /// Adds one message's records (`elements` its stamp), which arrived at processing
    /// time `now`, or stashes them for a later epoch.
    fn take(
        &mut self,
        elements: &[Stamp],
        containers: std::slice::IterMut<'_, Vec<Event>>,
        epochs: &mut EpochCut<Event>,
        now: EventTime,
    ) {
        let seen = stamp::least_time(elements).unwrap_or(EventTime::MIN);
        let epoch = epoch_of(elements);
        for container in containers {
            for event in container.drain(..) {
                if let Some(event) = epochs.admit(epoch, seen, event) {
                    self.add(&event, now);
                }
            }
        }
    }

    /// Fires every window due at `now` and sends the panes, each at its event time in
    /// the held epoch.
    fn send_due(
        &mut self,
        now: EventTime,
        firing: Firing,
        cap: &Capability<Stamp>,
        output: &mut EventOutput<'_>,
    ) {
        let mut out = Vec::new();
        self.fire_due(now, firing, &mut out);
        send_runs(output, cap, &out);
    }

    /// Each epoch closed (or, at the end of input, each stashed one): snapshot, move
    /// the output to the next epoch, take in what was stashed for it.
    fn close_epochs(
        &mut self,
        frontier: &[Stamp],
        ending: bool,
        epochs: &mut EpochCut<Event>,
        cap: &mut Capability<Stamp>,
        output: &mut EventOutput<'_>,
        ctx: &WorkerContext,
    ) {
        while epochs.closing(frontier) || (ending && epochs.stashed()) {
            let Some(bytes) = or_fail("window", self.snapshot(), ctx) else {
                break;
            };
            let next = epochs.save(bytes);
            epochs.enter(cap);
            let now = ctx.clock.now();
            for event in next {
                self.add(&event, now);
            }
            self.send_due(now, Firing::at(cap), cap, output);
        }
    }

    /// The input ended: nothing more will arrive, so what is open fires now, unless the
    /// run was stopped (open windows are discarded) or cut short (not final).
    fn finish(
        &mut self,
        ending: bool,
        epochs: &mut EpochCut<Event>,
        cap: &Capability<Stamp>,
        output: &mut EventOutput<'_>,
        ctx: &WorkerContext,
    ) {
        if !ctx.stop.discards_open_windows() {
            let firing = Firing {
                is_final: !ctx.stop.input_cut(),
                ..Firing::at(cap)
            };
            self.send_due(EventTime::MAX, firing, cap, output);
        }
        self.open.clear();
        if ending {
            if let Some(bytes) = or_fail("window", self.snapshot(), ctx) {
                epochs.end(&bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AggFunc, Expr};
    use crate::schema::Type;

    fn windows() -> ProcessingWindows {
        let sum = Aggregate {
            name: "s".into(),
            func: AggFunc::Sum,
            arg: Some(Expr::Field {
                slot: 1,
                name: "v".into(),
            }),
            arg_type: Some(Type::Int),
            keep: Vec::new(),
        };
        let kind = WindowKind::Tumbling {
            size_ms: 10,
            offset_ms: 0,
        };
        ProcessingWindows::new(&kind, &[0], &[sum], None)
    }

    fn fire(w: &mut ProcessingWindows, now: EventTime) -> Vec<Vec<Value>> {
        let mut out = Vec::new();
        let firing = Firing {
            watermark: EventTime::MIN,
            is_final: true,
        };
        w.fire_due(now, firing, &mut out);
        out.into_iter().map(|e| e.record).collect()
    }

    #[test]
    fn records_join_the_window_of_their_arrival_whatever_their_event_time() {
        let mut w = windows();
        let e = |k: i64, v: i64, t: i64| Event::new(t, vec![Value::Int(k), Value::Int(v)]);
        w.add(&e(1, 5, 1_000), 3);
        w.add(&e(1, 7, 0), 9);
        w.add(&e(2, 1, 500), 9);
        w.add(&e(1, 100, 2), 10);
        assert!(fire(&mut w, 9).is_empty(), "the clock has not passed 10");
        let first = fire(&mut w, 10);
        // key, sum, window.start, window.end, timing, index, nonspec, final, timestamp
        assert_eq!(first.len(), 2);
        assert_eq!(
            first[0][..4],
            [
                Value::Int(1),
                Value::Int(12),
                Value::Time(0),
                Value::Time(10)
            ]
        );
        assert_eq!(first[0][8], Value::Time(1_000), "the latest event time");
        assert_eq!(first[1][1], Value::Int(1));
        let second = fire(&mut w, 25);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0][1], Value::Int(100));
        assert_eq!(w.next_end(), None);
    }

    #[test]
    fn open_windows_survive_a_snapshot_on_their_owner() {
        let mut w = windows();
        let e = |k: i64| Event::new(0, vec![Value::Int(k), Value::Int(k)]);
        for k in 0..4 {
            w.add(&e(k), 5);
        }
        let bytes = w.snapshot().expect("snapshot");
        let mut resumed = windows();
        resumed
            .restore(&bytes, |k| k.0[0] != Value::Int(2))
            .expect("restore");
        let keys: Vec<Value> = fire(&mut resumed, 10)
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(keys, [0, 1, 3].map(Value::Int));
    }
}
