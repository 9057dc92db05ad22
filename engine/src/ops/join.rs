//! `join`: pairs the records of two streams with equal keys. Both inputs arrive exchanged
//! by a hash of their key fields (the exchanges in front of it, see `plan::physical`; the
//! same hash for equal values), so each key's records of both sides meet on one worker.
//!
//! - Interval (incremental) join: each record probes the other side's kept records and
//!   is then kept itself, so every pair is emitted exactly once, when its second record
//!   arrives, at event time `max(t_left, t_right)`. With `within d` only pairs with
//!   `|t_left − t_right| ≤ d` match; a record is dropped once the *other* input's
//!   watermark passes `t + d` (no record that can still arrive on time could pair with
//!   it), and a record behind the watermark it travels under is late: it might have
//!   missed partners already dropped, so it is counted as late-dropped instead — the same
//!   rule on every layout, which keeps the output a pure function of the on-time input.
//!   Without `within` nothing is dropped and nothing is late.
//! - Windowed join: each record goes to its windows (tumbling or sliding) per key; when
//!   the watermark of both inputs passes a window's end, every left × right pair of each
//!   key is emitted at the window's last instant (`end − 1`) with `window.start` and
//!   `window.end`. A record whose window had already ended by the watermark it travels
//!   under is late-dropped (counted once per window).
//!
//! Records whose key has a null field match nothing (as in SQL) and are not kept.
//!
//! Checkpointed like the window operator (`checkpoint::cut`); the operator holds one
//! capability (in the current epoch) at the least of both watermarks. Once the run is
//! stopped it closes no more epochs: a stopped source drops its capability as if its
//! input had ended, and the other input may still be closing epochs.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;
use timely::progress::frontier::MutableAntichain;

use serde::{Deserialize, Serialize};

use super::state_report::StateReport;
use super::{EventOutput, EventStream};
use crate::checkpoint::cut::{epoch_of, EpochCut};
use crate::checkpoint::keyed::or_fail;
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::plan::{JoinMode, JoinSpec};
use crate::time::EventTime;
use crate::value::{Record, Value};
use crate::window::assign::{Assigner, Window};
use crate::worker::WorkerContext;

/// Builds the join of `left` (this pipeline) with `right` for pipeline number `pipeline`
/// (whose late counter it feeds); it reports its state as operator `operator`.
pub fn build<'scope>(
    left: EventStream<'scope>,
    right: EventStream<'scope>,
    spec: &JoinSpec,
    pipeline: usize,
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let keys: [Arc<[usize]>; 2] = [
        spec.left_keys.as_slice().into(),
        spec.right_keys.as_slice().into(),
    ];
    let mut state = JoinState::new(&spec.mode);
    let scope = left.scope();
    left.binary_frontier(right, Pipeline, Pipeline, "Join", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        let mut report = StateReport::new(operator);
        let mut held: Capability<Stamp> = cap;
        let epochs: EpochCut<Stashed> = EpochCut::new(&ctx);
        epochs.enter(&mut held);
        epochs.restore(|bytes| {
            if let Err(e) = state.restore(bytes, &held, &|k| epochs.owns(k)) {
                ctx.fail(format!("join: cannot resume from the checkpoint: {e}"));
            }
        });
        let mut op = JoinOp {
            state,
            keys,
            epochs,
            dropped: 0,
        };
        let mut held = Some(held);
        move |(left_in, left_frontier), (right_in, right_frontier), output| {
            let Some(cap) = held.as_mut() else {
                left_in.for_each_stamp(|_, _| {});
                right_in.for_each_stamp(|_, _| {});
                return;
            };
            let time = Watermarks::new(left_frontier, right_frontier, &op.epochs, &ctx);
            // The left input first, then the right: a pair whose records arrive in one
            // activation is made once, when the right one probes the kept left one.
            let now = time.marks(&op.epochs);
            for (side, input) in [(Left, left_in), (Right, right_in)] {
                input.for_each_stamp(|message, containers| {
                    let elements = message.stamp().elements();
                    op.take_message(side, now, elements, containers, cap, output);
                });
            }
            op.settle(now, output);
            op.close_epochs(&time, cap, output, &ctx);
            let now = time.marks(&op.epochs);
            if time.both.is_empty() {
                held = None;
            } else if let Some(next) = stamp::advanced_to(cap.time(), now[0].min(now[1])) {
                cap.downgrade(&next);
            }
            let dropped = std::mem::take(&mut op.dropped);
            if dropped > 0 {
                ctx.metrics.late_dropped[pipeline].fetch_add(dropped, Ordering::Relaxed);
            }
            if let Some(later) = report.report(&ctx, held.is_none(), || op.state.size()) {
                activator.activate_after(later);
            }
        }
    })
}

/// A record stashed for a later epoch: its input, the watermark it travelled at, itself.
type Stashed = (SideId, EventTime, Event);

/// One join operator instance: its state, the key fields of each input, its epochs,
/// and the records dropped as late in this activation.
struct JoinOp {
    state: JoinState,
    keys: [Arc<[usize]>; 2],
    epochs: EpochCut<Stashed>,
    dropped: u64,
}

impl JoinOp {
    /// Takes one message of input `side` (`elements` its stamp), acting on the
    /// watermarks `now`, and sends the pairs it makes at the watermark it travelled at.
    fn take_message(
        &mut self,
        side: SideId,
        now: [EventTime; 2],
        elements: &[Stamp],
        containers: std::slice::IterMut<'_, Vec<Event>>,
        cap: &Capability<Stamp>,
        output: &mut EventOutput<'_>,
    ) {
        let seen = stamp::least_time(elements).unwrap_or(EventTime::MIN);
        let epoch = epoch_of(elements);
        let mut pairs = Vec::new();
        for event in containers.flat_map(|c| c.drain(..)) {
            if let Some((side, seen, event)) = self.epochs.admit(epoch, seen, (side, seen, event)) {
                self.take((side, seen, now), event, cap, &mut pairs);
            }
        }
        send(output, cap, seen, &mut pairs);
    }

    /// Takes one record, adding the pairs it makes to `pairs`.
    fn take(
        &mut self,
        arrival: Arrival,
        event: Event,
        cap: &Capability<Stamp>,
        pairs: &mut Vec<Event>,
    ) {
        self.state
            .take(arrival, event, &self.keys, cap, pairs, &mut self.dropped);
    }

    /// Acts on the watermarks `marks`, sending the pairs of every window they closed.
    fn settle(&mut self, marks: [EventTime; 2], output: &mut EventOutput<'_>) {
        self.state.settle(marks, |cap, mut pairs| {
            send(output, cap, EventTime::MIN, &mut pairs)
        });
    }

    /// Each epoch closed (or, at the end of input, each stashed one): snapshot, move
    /// the output to the next epoch, take in what was stashed for it. Not once the
    /// run is stopped: an input the stop emptied reads as watermark MAX and drops the
    /// other side's kept records, which records still to come (read again on resume)
    /// pair with; a snapshot must not record that.
    fn close_epochs(
        &mut self,
        time: &Watermarks,
        cap: &mut Capability<Stamp>,
        output: &mut EventOutput<'_>,
        ctx: &WorkerContext,
    ) {
        let closing = |epochs: &EpochCut<Stashed>| {
            (!time.stopped && epochs.closing(&time.both)) || (time.ending && epochs.stashed())
        };
        while closing(&self.epochs) {
            let Some(bytes) = or_fail("join", self.state.snapshot(), ctx) else {
                break;
            };
            let next = self.epochs.save(bytes);
            self.epochs.enter(cap);
            self.state.move_to(self.epochs.current());
            // Taken in as if when they arrived: no watermark past the least one they
            // travelled at (a record must not miss a partner stashed with it).
            let least = next.iter().map(|(_, seen, _)| *seen).min();
            let now = time
                .marks(&self.epochs)
                .map(|m| least.map_or(m, |l| m.min(l)));
            for (side, seen, event) in next {
                let mut pairs = Vec::new();
                self.take((side, seen, now), event, cap, &mut pairs);
                send(output, cap, seen, &mut pairs);
            }
            self.settle(time.marks(&self.epochs), output);
        }
        if time.ending {
            if let Some(bytes) = or_fail("join", self.state.snapshot(), ctx) {
                self.epochs.end(&bytes);
            }
        }
    }
}

/// Sends `pairs` (if any) at the watermark `seen`, in `cap`'s epoch.
fn send(
    output: &mut EventOutput<'_>,
    cap: &Capability<Stamp>,
    seen: EventTime,
    pairs: &mut Vec<Event>,
) {
    if !pairs.is_empty() {
        let at = stamp::send_at(cap.time(), seen);
        output.session(&cap.delayed(&at)).give_container(pairs);
    }
}

/// Where time stands in one activation: both inputs' frontiers and watermarks.
struct Watermarks {
    both: Vec<Stamp>,
    marks: [EventTime; 2],
    stopped: bool,
    /// The inputs ended with the run going on (see [`EpochCut::ending`]).
    ending: bool,
}

impl Watermarks {
    fn new(
        left: &MutableAntichain<Stamp>,
        right: &MutableAntichain<Stamp>,
        epochs: &EpochCut<Stashed>,
        ctx: &WorkerContext,
    ) -> Watermarks {
        let both: Vec<Stamp> = (left.frontier().iter())
            .chain(right.frontier().iter())
            .copied()
            .collect();
        // Read after the frontiers: an input that a stop emptied is then seen stopped.
        let stopped = ctx.stop.is_requested();
        Watermarks {
            ending: epochs.ending(&both, stopped),
            marks: [watermark(left), watermark(right)],
            both,
            stopped,
        }
    }

    /// Each input's watermark the operator may act on, held below the stash's floor.
    fn marks(&self, epochs: &EpochCut<Stashed>) -> [EventTime; 2] {
        (self.marks).map(|w| epochs.bound(w, &self.both, self.ending))
    }
}

/// The watermark of one input: its frontier's time, `MAX` once it has ended.
fn watermark(frontier: &MutableAntichain<Stamp>) -> EventTime {
    stamp::watermark(&frontier.frontier()).unwrap_or(EventTime::MAX)
}

/// Which input a record came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
enum SideId {
    Left = 0,
    Right = 1,
}
use SideId::{Left, Right};

impl SideId {
    fn other(self) -> SideId {
        match self {
            Left => Right,
            Right => Left,
        }
    }
}

/// The state of one join operator instance.
enum JoinState {
    Interval(IntervalJoin),
    Window(WindowJoin),
}

/// How a record arrived: its input, the watermark it travelled at, and both inputs'
/// watermarks the operator acts on.
type Arrival = (SideId, EventTime, [EventTime; 2]);

/// A window's bounds `(end, start)` and each key's records of both sides, saved.
type SavedWindow<K, R> = ((EventTime, EventTime), Vec<(K, R)>);

/// A join's state as written to a checkpoint (an open window's capability is its end,
/// taken again on restore).
#[derive(Serialize)]
#[serde(rename = "Saved")]
enum SavedRef<'a> {
    Interval(&'a [Side; 2]),
    Window(Vec<SavedWindow<&'a GroupKey, &'a [Vec<Record>; 2]>>),
}

/// [`SavedRef`] read back.
#[derive(Deserialize)]
enum Saved {
    Interval([Side; 2]),
    Window(Vec<SavedWindow<GroupKey, [Vec<Record>; 2]>>),
}

impl JoinState {
    fn new(mode: &JoinMode) -> JoinState {
        match mode {
            JoinMode::Interval { within_ms } => JoinState::Interval(IntervalJoin {
                within: within_ms.map(|d| d.max(0)),
                sides: [Side::default(), Side::default()],
            }),
            JoinMode::Window { kind } => JoinState::Window(WindowJoin {
                assigner: Assigner::new(kind),
                open: BTreeMap::new(),
            }),
        }
    }

    /// The distinct keys with records kept (on either side, in any window) and an
    /// estimate of their bytes: entries and records by their in-line sizes (the heap
    /// behind strings is not counted).
    fn size(&self) -> StateSize {
        let value = std::mem::size_of::<Value>();
        let key = std::mem::size_of::<GroupKey>();
        let mut keys: HashSet<&GroupKey> = HashSet::new();
        let mut bytes = 0usize;
        match self {
            JoinState::Interval(join) => {
                let event = std::mem::size_of::<Event>();
                let entry = key + std::mem::size_of::<Vec<Event>>();
                for side in &join.sides {
                    for (k, rows) in &side.rows {
                        keys.insert(k);
                        let rows: usize = rows.iter().map(|e| event + e.record.len() * value).sum();
                        bytes += entry + rows;
                    }
                    bytes += side.expiry.values().map(|ks| ks.len() * key).sum::<usize>();
                }
            }
            JoinState::Window(join) => {
                let record = std::mem::size_of::<Record>();
                let entry = key + std::mem::size_of::<[Vec<Record>; 2]>();
                for window in join.open.values() {
                    for (k, sides) in &window.keys {
                        keys.insert(k);
                        let rows = sides.iter().flatten();
                        bytes += entry + rows.map(|r| record + r.len() * value).sum::<usize>();
                    }
                }
            }
        }
        StateSize {
            keys: keys.len() as u64,
            bytes: bytes as u64,
        }
    }

    /// Takes one record of one input.
    fn take(
        &mut self,
        (side, seen, marks): Arrival,
        event: Event,
        keys: &[Arc<[usize]>; 2],
        cap: &Capability<Stamp>,
        pairs: &mut Vec<Event>,
        dropped: &mut u64,
    ) {
        let keys = &keys[side as usize];
        if keys
            .iter()
            .any(|&s| matches!(event.record.get(s), None | Some(Value::Null)))
        {
            return;
        }
        let other = marks[side.other() as usize];
        match self {
            JoinState::Interval(join) => join.add(side, event, keys, seen, other, pairs, dropped),
            JoinState::Window(join) => join.add(side, event, keys, seen, cap, dropped),
        }
    }

    /// Acts on the watermarks `marks`: drops kept records nothing can pair with any
    /// more, or hands every window both have passed to `emit` with its pairs.
    fn settle(
        &mut self,
        marks: [EventTime; 2],
        mut emit: impl FnMut(&Capability<Stamp>, Vec<Event>),
    ) {
        match self {
            JoinState::Interval(join) => join.expire(marks),
            JoinState::Window(join) => {
                let closed = marks[0].min(marks[1]);
                while let Some(entry) = join.open.first_entry() {
                    if entry.key().0 > closed {
                        break;
                    }
                    let ((end, start), open) = entry.remove_entry();
                    let cap = open.cap.clone();
                    emit(&cap, open.pairs(start, end));
                }
            }
        }
    }

    /// Moves every open window's capability to epoch `epoch`.
    fn move_to(&mut self, epoch: crate::checkpoint::Epoch) {
        if let JoinState::Window(join) = self {
            for open in join.open.values_mut() {
                open.cap = open
                    .cap
                    .delayed(&stamp::stamp(open.cap.time().outer, epoch));
            }
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, bincode::Error> {
        let saved = match self {
            JoinState::Interval(join) => SavedRef::Interval(&join.sides),
            JoinState::Window(join) => SavedRef::Window(
                (join.open.iter())
                    .map(|(bounds, open)| (*bounds, open.keys.iter().collect()))
                    .collect(),
            ),
        };
        bincode::serialize(&saved)
    }

    /// Adds one old worker's snapshot, keeping the keys `owns` accepts; windows are
    /// sent at `held` (in its epoch), as when they were opened.
    fn restore(
        &mut self,
        bytes: &[u8],
        held: &Capability<Stamp>,
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        match (self, bincode::deserialize(bytes)?) {
            (JoinState::Interval(join), Saved::Interval(sides)) => {
                for (mine, old) in join.sides.iter_mut().zip(sides) {
                    mine.rows
                        .extend(old.rows.into_iter().filter(|(k, _)| owns(k)));
                    for (at, keys) in old.expiry {
                        let kept = keys.into_iter().filter(|k| owns(k));
                        mine.expiry.entry(at).or_default().extend(kept);
                    }
                    mine.expiry.retain(|_, keys| !keys.is_empty());
                }
            }
            (JoinState::Window(join), Saved::Window(windows)) => {
                for ((end, start), keys) in windows {
                    let kept: Vec<_> = keys.into_iter().filter(|(k, _)| owns(k)).collect();
                    if kept.is_empty() {
                        continue;
                    }
                    let at = stamp::send_at(held.time(), end - 1);
                    (join.open.entry((end, start)))
                        .or_insert_with(|| OpenWindow {
                            cap: held.delayed(&at),
                            keys: HashMap::new(),
                        })
                        .keys
                        .extend(kept);
                }
            }
            _ => {
                return Err(Box::new(bincode::ErrorKind::Custom(
                    "the checkpoint holds another kind of join".into(),
                )))
            }
        }
        Ok(())
    }
}

/// The kept records of one input, by key.
#[derive(Default, Serialize, Deserialize)]
struct Side {
    rows: HashMap<GroupKey, Vec<Event>>,
    /// Keys by the time after which their earliest row can go (`t + within`); each key
    /// with rows is registered once.
    expiry: BTreeMap<EventTime, Vec<GroupKey>>,
}

/// Incremental join, optionally bounded by `within`.
struct IntervalJoin {
    within: Option<i64>,
    sides: [Side; 2],
}

impl IntervalJoin {
    /// Probes the other side with `event`, then keeps it. `other_mark` is the other
    /// input's watermark: a record it has already passed by more than `within` pairs
    /// with nothing still to come and is not kept.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        side: SideId,
        event: Event,
        keys: &[usize],
        stamp: EventTime,
        other_mark: EventTime,
        pairs: &mut Vec<Event>,
        dropped: &mut u64,
    ) {
        if self.within.is_some() && event.time < stamp {
            *dropped += 1;
            return;
        }
        let view = KeyView {
            record: &event.record,
            slots: keys,
        };
        if let Some(rows) = self.sides[side.other() as usize].rows.get(&view) {
            for other in rows {
                if self
                    .within
                    .is_some_and(|d| event.time.abs_diff(other.time) > d as u64)
                {
                    continue;
                }
                let (l, r) = match side {
                    Left => (&event, other),
                    Right => (other, &event),
                };
                pairs.push(pair(l, r, event.time.max(other.time)));
            }
        }
        let expires = match self.within {
            Some(d) => {
                let at = event.time.saturating_add(d);
                if at < other_mark {
                    return;
                }
                Some(at)
            }
            None => None,
        };
        let mine = &mut self.sides[side as usize];
        match mine.rows.get_mut(&view) {
            // The key is already registered for expiry (at its first row's time); a
            // row expiring earlier is only dropped a little later, which changes no
            // output: nothing on time can pair with it any more.
            Some(rows) => rows.push(event),
            None => {
                let key = view.to_owned();
                if let Some(at) = expires {
                    mine.expiry.entry(at).or_default().push(key.clone());
                }
                mine.rows.insert(key, vec![event]);
            }
        }
    }

    /// Drops the records no on-time record of the other input can pair with any more:
    /// those with `t + within` before the other input's watermark.
    fn expire(&mut self, marks: [EventTime; 2]) {
        let Some(within) = self.within else {
            if marks == [EventTime::MAX; 2] {
                self.sides = [Side::default(), Side::default()];
            }
            return;
        };
        for side in [Left, Right] {
            let mark = marks[side.other() as usize];
            let mine = &mut self.sides[side as usize];
            while let Some(entry) = mine.expiry.first_entry() {
                if *entry.key() >= mark {
                    break;
                }
                for key in entry.remove() {
                    let Some(rows) = mine.rows.get_mut(&key) else {
                        continue;
                    };
                    rows.retain(|r| r.time.saturating_add(within) >= mark);
                    // Register the key again at its earliest remaining expiry.
                    match rows.iter().map(|r| r.time.saturating_add(within)).min() {
                        Some(next) => mine.expiry.entry(next).or_default().push(key),
                        None => {
                            mine.rows.remove(&key);
                        }
                    }
                }
            }
        }
    }
}

/// One window of a windowed join: the capability its pairs are sent at and each key's
/// records of both sides.
struct OpenWindow {
    cap: Capability<Stamp>,
    keys: HashMap<GroupKey, [Vec<Record>; 2]>,
}

impl OpenWindow {
    /// Every left × right pair of every key, with the window's bounds appended.
    fn pairs(self, start: EventTime, end: EventTime) -> Vec<Event> {
        let mut out = Vec::new();
        for [lefts, rights] in self.keys.into_values() {
            for l in &lefts {
                for r in &rights {
                    let mut record = Vec::with_capacity(l.len() + r.len() + 2);
                    record.extend_from_slice(l);
                    record.extend_from_slice(r);
                    record.push(Value::Time(start));
                    record.push(Value::Time(end));
                    out.push(Event::new(end - 1, record));
                }
            }
        }
        out
    }
}

/// Windowed join: open windows by (end, start), so they close in order.
struct WindowJoin {
    assigner: Assigner,
    open: BTreeMap<(EventTime, EventTime), OpenWindow>,
}

impl WindowJoin {
    fn add(
        &mut self,
        side: SideId,
        event: Event,
        keys: &[usize],
        least: EventTime,
        cap: &Capability<Stamp>,
        dropped: &mut u64,
    ) {
        let view = KeyView {
            record: &event.record,
            slots: keys,
        };
        let mut windows: Vec<Window> = Vec::new();
        self.assigner.assign(event.time, |w| windows.push(w));
        for w in windows {
            if w.end <= least {
                *dropped += 1;
                continue;
            }
            let open = self
                .open
                .entry((w.end, w.start))
                .or_insert_with(|| OpenWindow {
                    cap: cap.delayed(&stamp::send_at(cap.time(), w.max_timestamp())),
                    keys: HashMap::new(),
                });
            let rows = match open.keys.get_mut(&view) {
                Some(rows) => rows,
                None => open.keys.entry(view.to_owned()).or_default(),
            };
            rows[side as usize].push(event.record.clone());
        }
    }
}

/// The output record of a pair: the left fields, then the right fields.
fn pair(left: &Event, right: &Event, time: EventTime) -> Event {
    let mut record = Vec::with_capacity(left.record.len() + right.record.len());
    record.extend_from_slice(&left.record);
    record.extend_from_slice(&right.record);
    Event::new(time, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: i64, time: EventTime) -> Event {
        Event::new(time, vec![Value::Int(key), Value::Int(time)])
    }

    fn kept(join: &IntervalJoin, side: SideId) -> usize {
        join.sides[side as usize].rows.values().map(Vec::len).sum()
    }

    #[test]
    fn state_is_dropped_once_the_other_watermark_passes_the_bound() {
        let mut join = IntervalJoin {
            within: Some(10),
            sides: [Side::default(), Side::default()],
        };
        let (mut pairs, mut dropped) = (Vec::new(), 0);
        // Out of order on one key: the key is registered at its first row's expiry (130).
        for t in [120, 100, 105] {
            join.add(Left, event(1, t), &[0], 100, 0, &mut pairs, &mut dropped);
        }
        join.add(Left, event(2, 100), &[0], 100, 0, &mut pairs, &mut dropped);
        assert_eq!(kept(&join, Left), 4);
        join.expire([0, 111]);
        // Key 2's row (expires 110) is gone; key 1 waits for its registration at 130.
        assert_eq!(kept(&join, Left), 3);
        join.expire([0, 131]);
        assert_eq!(kept(&join, Left), 0);
        assert!(join.sides[0].expiry.is_empty() && join.sides[0].rows.is_empty());
        // A right record behind its own watermark is late; one the left watermark has
        // passed by more than the bound is not kept.
        join.add(Right, event(1, 50), &[0], 50, 0, &mut pairs, &mut dropped);
        join.add(Right, event(1, 40), &[0], 50, 0, &mut pairs, &mut dropped);
        assert_eq!((kept(&join, Right), dropped), (1, 1));
        join.add(Right, event(1, 60), &[0], 60, 71, &mut pairs, &mut dropped);
        assert_eq!((kept(&join, Right), dropped), (1, 1));
        join.expire([61, 0]);
        assert_eq!(kept(&join, Right), 0);
        assert!(pairs.is_empty());
    }

    #[test]
    fn size_counts_each_key_once_across_both_sides_and_shrinks_with_expiry() {
        let mut join = IntervalJoin {
            within: Some(10),
            sides: [Side::default(), Side::default()],
        };
        let (mut pairs, mut dropped) = (Vec::new(), 0);
        for (side, key) in [(Left, 1), (Left, 1), (Left, 2), (Right, 1), (Right, 3)] {
            join.add(
                side,
                event(key, 100),
                &[0],
                100,
                0,
                &mut pairs,
                &mut dropped,
            );
        }
        let state = JoinState::Interval(join);
        let size = state.size();
        assert_eq!(size.keys, 3);
        // Five records of two values each, at least.
        let record = std::mem::size_of::<Event>() + 2 * std::mem::size_of::<Value>();
        assert!(size.bytes >= 5 * record as u64, "{size:?}");
        let JoinState::Interval(mut join) = state else {
            unreachable!()
        };
        join.expire([111, 111]);
        assert_eq!(JoinState::Interval(join).size(), StateSize::default());
    }
}
