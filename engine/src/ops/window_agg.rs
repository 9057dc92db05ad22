//! Windowed aggregation per key with the whole Beam model: window assignment (tumbling,
//! sliding, merging sessions, global), triggers, allowed lateness, accumulation and
//! retraction, a late route, and timestamp combiners.
//!
//! Records are exchanged by key hash. The input frontier is the watermark. Each activation
//! first fires the event-time timers the frontier has passed (end of window, then garbage
//! collection at end + allowed lateness), then processes the new elements — which all
//! travel at or after the frontier, so an element for a window whose end the frontier has
//! passed is late by construction — evaluating the trigger after each element, and last
//! the processing-time timers that are due. The operator holds one output capability at
//! the least of the frontier and every window's output-time hold (Beam's watermark hold),
//! so downstream event time stays correct.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::{send_runs, EventStream};
use crate::aggregate::{Acc, AggregateFn};
use crate::checkpoint::cut::{epoch_of, EpochCut};
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::io::SinkWriter;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::plan::{Accumulation, Aggregate, TimestampCombiner, WindowKind, WindowSpec};
use crate::time::EventTime;
use crate::trigger::{TriggerContext, TriggerMachine, TriggerState};
use crate::value::{Record, Value};
use crate::window::assign::{Assigner, Window};
use crate::window::merge::merge_with;
use crate::worker::WorkerContext;

/// Why an element was not added to a window: counted apart in the summary, and named in
/// the late route's `late.reason`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dropped {
    /// Late: the watermark passed the window's end plus the allowed lateness.
    Expired,
    /// The window's trigger had finished: no more panes.
    Closed,
}

impl Dropped {
    fn reason(self) -> &'static str {
        match self {
            Dropped::Expired => {
                "window expired: the watermark passed its end plus the allowed lateness"
            }
            Dropped::Closed => "window closed: its trigger had finished",
        }
    }
}

/// One window of one key: its contents and where its trigger stands.
#[derive(Serialize, Deserialize)]
struct Pane {
    window: Window,
    accs: Vec<Acc>,
    /// Elements added since the last pane fired.
    fresh: u64,
    trigger: TriggerState,
    /// Panes fired so far; the next pane's `pane.index`.
    index: i64,
    /// Non-speculative panes fired so far.
    nonspec: i64,
    /// The trigger finished: no more panes, new elements are dropped.
    closed: bool,
    /// Combined timestamp of the on-time elements since the last pane (earliest/latest).
    hold: Option<EventTime>,
    /// The watermark hold registered for this pane while the watermark is before its end.
    floor: Option<EventTime>,
    /// Panes already emitted that the next pane retracts (retract mode).
    previous: Vec<Record>,
    /// The processing-time timer registered for this pane.
    deadline: Option<EventTime>,
}

/// Compiled window clauses, shared by every pane.
struct Rules {
    keys: Arc<[usize]>,
    assigner: Assigner,
    session_max: Option<i64>,
    machine: TriggerMachine,
    aggs: Vec<AggregateFn>,
    lateness: i64,
    accumulation: Accumulation,
    combiner: TimestampCombiner,
    uses_processing_time: bool,
    /// Slot of `pane.retraction` when the input retracts earlier records.
    retraction: Option<usize>,
    /// Slot of the input's `pane.timestamp`: the event time a retracted record was first
    /// sent with, which `first`, `last` and `collect` must withdraw it at (the retraction
    /// itself travels at the time of the pane that replaces it).
    retracted_time: Option<usize>,
}

impl Rules {
    /// Compiles `window`'s clauses and `aggregates` (retracting ones when the input
    /// carries `pane.retraction` at slot `retraction`).
    fn of(
        keys: &[usize],
        window: &WindowSpec,
        aggregates: &[Aggregate],
        retraction: Option<usize>,
        retracted_time: Option<usize>,
    ) -> Rules {
        Rules {
            keys: keys.into(),
            assigner: Assigner::new(&window.kind),
            session_max: match window.kind {
                WindowKind::Session { max_ms, .. } => max_ms,
                _ => None,
            },
            machine: TriggerMachine::new(&window.trigger),
            aggs: AggregateFn::compile_all(aggregates, retraction),
            lateness: window.allowed_lateness_ms.max(0),
            accumulation: window.accumulation,
            combiner: window.timestamp,
            uses_processing_time: window.trigger.uses_processing_time(),
            retraction,
            retracted_time,
        }
    }
}

/// Where a window operator sits: its pipeline, its late route, and whether its input
/// carries retractions.
pub struct Placement {
    /// Index of the pipeline (for its late counter).
    pub pipeline: usize,
    /// The late route's sink index and writer.
    pub late_sink: Option<(usize, Arc<dyn SinkWriter>)>,
    /// Slot of the input's `pane.retraction` field, when it has one.
    pub retraction: Option<usize>,
    /// Slot of the input's `pane.timestamp` field, when it retracts.
    pub retracted_time: Option<usize>,
    /// The source's `watermark … per key` settings, for a window right on such a source.
    pub per_key: Option<PerKey>,
    /// Its index in the per-operator metrics (for the keys and bytes it holds).
    pub operator: Option<usize>,
}

/// `watermark bounded <d>, per key [, idle <d>]`: each key has its own watermark, the
/// largest event time seen for it minus `bound`; a key silent for `idle` of processing
/// time catches up with the most advanced key.
#[derive(Clone, Copy, Debug)]
pub struct PerKey {
    /// The `bounded` delay (ms).
    pub bound: i64,
    /// The `idle` timeout (ms), if any.
    pub idle: Option<i64>,
}

/// Per-key watermarks of one operator.
struct KeyClocks {
    settings: PerKey,
    /// Per key: its watermark and when (processing time) it last saw an element.
    keys: HashMap<GroupKey, (EventTime, EventTime)>,
    /// Multiset of the keys' watermarks: the least holds the output back.
    marks: BTreeMap<EventTime, usize>,
}

impl KeyClocks {
    fn watermark_of(&self, view: &KeyView<'_>) -> EventTime {
        self.keys.get(view).map_or(EventTime::MIN, |(wm, _)| *wm)
    }

    /// Moves `key`'s watermark up to `to` (never down); returns the new watermark.
    fn advance(&mut self, view: &KeyView<'_>, to: EventTime, now: EventTime) -> EventTime {
        let entry = match self.keys.get_mut(view) {
            Some(e) => e,
            None => {
                *self.marks.entry(EventTime::MIN).or_default() += 1;
                self.keys
                    .entry(view.to_owned())
                    .or_insert((EventTime::MIN, now))
            }
        };
        entry.1 = now;
        if to > entry.0 {
            remove_mark(&mut self.marks, entry.0);
            *self.marks.entry(to).or_default() += 1;
            entry.0 = to;
        }
        entry.0
    }

    /// The least watermark over all keys (what the output may not run ahead of).
    fn least(&self) -> Option<EventTime> {
        self.marks.keys().next().copied()
    }
}

fn remove_mark(marks: &mut BTreeMap<EventTime, usize>, at: EventTime) {
    if let Some(n) = marks.get_mut(&at) {
        *n -= 1;
        if *n == 0 {
            marks.remove(&at);
        }
    }
}

impl Rules {
    fn gc_time(&self, w: &Window) -> EventTime {
        w.end.saturating_add(self.lateness)
    }
}

/// The watermarks an element meets: the operator's (which fires windows) and the one it
/// was sent under, if later (which decides whether it is late).
#[derive(Clone, Copy)]
struct Arrival {
    watermark: EventTime,
    seen: EventTime,
    now: EventTime,
}

/// Where panes and late elements go during one activation.
#[derive(Default)]
struct Emitted {
    /// Panes (and withdrawals) in the order they fired; each is sent at its event time
    /// (or the output capability, if later). Kept in firing order rather than grouped by
    /// time, so a window's panes — and a withdrawal and the pane it withdraws — never
    /// overtake each other when timestamps go backwards (earliest/latest combiners).
    panes: Vec<Event>,
    /// Elements for the late route.
    late: Vec<Event>,
    /// Elements dropped as late, their window expired (routed or not).
    dropped: u64,
    /// Elements dropped because their window's trigger had finished (routed or not).
    closed: u64,
}

/// All windows of one worker.
struct WindowState {
    rules: Rules,
    panes: HashMap<GroupKey, Vec<Pane>>,
    /// Event-time timers: end of window and garbage collection.
    timers: BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    /// Processing-time timers.
    deadlines: BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    /// Multiset of the panes' output-time holds.
    holds: BTreeMap<EventTime, usize>,
    late_route: bool,
    /// Per-key watermarks, when the source declares `per key`.
    clocks: Option<KeyClocks>,
}

/// Builds the window operator of pipeline number `pipeline`.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    window: &WindowSpec,
    aggregates: &[Aggregate],
    placement: Placement,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let Placement {
        pipeline,
        late_sink,
        retraction,
        retracted_time,
        per_key,
        operator,
    } = placement;
    let rules = Rules::of(keys, window, aggregates, retraction, retracted_time);
    let scope = stream.scope();
    stream.unary_frontier(Pipeline, "WindowAggregate", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        if rules.uses_processing_time {
            ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        }
        let mut state = WindowState::new(rules, late_sink.is_some(), per_key);
        let mut cap = cap;
        let mut epochs: EpochCut<(Event, EventTime)> =
            EpochCut::resume(&ctx, "window", &mut cap, |b, owns| state.restore(b, owns));
        let mut held: Option<Capability<Stamp>> = Some(cap);
        let mut last_watermark = EventTime::MIN;
        let mut report = super::state_report::StateReport::new(operator);
        move |(input, frontier), output| {
            let Some(cap) = held.as_mut() else {
                // The input ended and every window fired; drain anything left.
                input.for_each_stamp(|_, _| {});
                return;
            };
            let discard = frontier.is_empty() && ctx.stop.discards_open_windows();
            // Input cut short: what is still open is incomplete, so it must not fire as
            // if the watermark had passed its end.
            let cut = frontier.is_empty() && !discard && ctx.stop.input_cut();
            let watermark = input_watermark(&frontier.frontier(), cut, &mut last_watermark, &ctx);
            let mut out = Emitted::default();

            let ending = frontier.is_empty() && epochs.active() && !ctx.stop.is_requested();
            // Records of later epochs wait in the stash: act on no watermark past them.
            // When the input ended with epochs stashed, those are snapshotted one by one
            // below, each before the end of input fires every window.
            let floor = epochs.floor();
            let watermark = floor.map_or(watermark, |f| watermark.min(f));
            let early = match floor {
                Some(f) if ending => last_watermark.min(f),
                _ => watermark,
            };
            state.fire_timers(early, ctx.clock.now(), discard, &mut out);
            input.for_each_stamp(|message, containers| {
                let now = ctx.clock.now();
                // An element is late against the watermark of its own channel (the time it
                // travels at) when that is ahead of the operator's combined watermark: on
                // one worker this makes lateness independent of how work is scheduled.
                let seen =
                    stamp::least_time(message.stamp().elements()).map_or(early, |t| early.max(t));
                let epoch = epoch_of(message.stamp().elements());
                for container in containers {
                    for event in container.drain(..) {
                        if let Some((event, seen)) = epochs.admit(epoch, seen, (event, seen)) {
                            let arrival = Arrival {
                                watermark: early,
                                seen,
                                now,
                            };
                            state.add(event, arrival, &mut out);
                        }
                    }
                }
            });
            // Snapshot each stashed epoch before applying the next, as if the frontier
            // had closed them one by one.
            while ending && epochs.stashed() {
                let Some(next) = save(&state, &mut epochs, &ctx) else {
                    break;
                };
                send_runs(output, cap, &std::mem::take(&mut out.panes));
                epochs.enter(cap);
                state.apply_stashed(next, early, ctx.clock.now(), &mut out);
            }
            if early != watermark {
                state.fire_timers(watermark, ctx.clock.now(), discard, &mut out);
            }
            if cut {
                state.cut_all(watermark, ctx.clock.now(), &mut out);
            } else if frontier.is_empty() {
                // Nothing more will arrive: every window has seen all it ever will.
                state.finish_all(discard, &mut out);
            } else {
                state.release_idle_keys(ctx.clock.now(), &mut out);
            }
            state.fire_deadlines(watermark, ctx.clock.now(), &mut out);

            send_runs(output, cap, &std::mem::take(&mut out.panes));
            // Each epoch the frontier has closed: snapshot, move the output to the next
            // epoch, apply what was stashed for it.
            while epochs.closing(&frontier.frontier()) {
                let Some(next) = save(&state, &mut epochs, &ctx) else {
                    break;
                };
                epochs.enter(cap);
                state.apply_stashed(next, watermark, ctx.clock.now(), &mut out);
                send_runs(output, cap, &std::mem::take(&mut out.panes));
                // Look again with the stash's floor lifted.
                activator.activate();
            }
            if ending {
                if let Some(bytes) = snapshot_or_fail(&state, &ctx) {
                    epochs.end(&bytes);
                }
            }
            report_dropped(&out, pipeline, late_sink.as_ref(), &ctx);

            match state.output_hold(watermark, frontier.is_empty()) {
                Some(t) => {
                    if let Some(next) = stamp::advanced_to(cap.time(), t) {
                        cap.downgrade(&next);
                    }
                }
                None => held = None,
            }
            if let Some(&next) = state.deadlines.keys().next() {
                let wait = next.saturating_sub(ctx.clock.now()).max(1);
                activator.activate_after(Duration::from_millis(wait as u64));
            }
            if let Some(idle) = state.clocks.as_ref().and_then(|c| c.settings.idle) {
                // Look again when a silent key may have become idle.
                activator.activate_after(Duration::from_millis(idle.max(1) as u64));
            }
            if let Some(later) = report.report(&ctx, held.is_none(), || state.size()) {
                activator.activate_after(later);
            }
        }
    })
}

/// The operator's watermark from its input `frontier`, remembered in `last`; once the
/// input has ended, the end of time, or for an input `cut` short the watermark its
/// source had reached (which may not have arrived).
fn input_watermark(
    frontier: &[Stamp],
    cut: bool,
    last: &mut EventTime,
    ctx: &WorkerContext,
) -> EventTime {
    match stamp::watermark(frontier) {
        Some(w) => {
            *last = w;
            w
        }
        None if cut => (*last).max(ctx.stop.cut_watermark().unwrap_or(EventTime::MIN)),
        None => EventTime::MAX,
    }
}

/// Counts the records an activation dropped as late or closed, and writes the late
/// ones to the late route when there is one.
fn report_dropped(
    out: &Emitted,
    pipeline: usize,
    late_sink: Option<&(usize, Arc<dyn SinkWriter>)>,
    ctx: &WorkerContext,
) {
    if out.dropped > 0 {
        ctx.metrics.late_dropped[pipeline].fetch_add(out.dropped, Ordering::Relaxed);
    }
    if out.closed > 0 {
        ctx.metrics.closed_dropped[pipeline].fetch_add(out.closed, Ordering::Relaxed);
    }
    let Some((index, writer)) = late_sink.filter(|_| !out.late.is_empty()) else {
        return;
    };
    match writer.write(&out.late) {
        Ok(()) => {
            ctx.metrics.sink_records[*index].fetch_add(out.late.len() as u64, Ordering::Relaxed);
            // Reported, not routed: late records are not unreadable input.
            super::sink::hand_back(writer.as_ref(), *index, None, ctx);
        }
        Err(e) => ctx.fail(format!("late route: {e}")),
    }
}

impl WindowState {
    fn new(rules: Rules, late_route: bool, per_key: Option<PerKey>) -> WindowState {
        WindowState {
            rules,
            panes: HashMap::new(),
            timers: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            holds: BTreeMap::new(),
            late_route,
            clocks: per_key.map(|settings| KeyClocks {
                settings,
                keys: HashMap::new(),
                marks: BTreeMap::new(),
            }),
        }
    }

    /// Where the output capability must stay: at the least of the watermark and every
    /// window's hold (`None` once the input has `ended` and no window holds it). With
    /// per-key watermarks the source holds the frontier back; the slowest key's
    /// watermark is what the output must not run ahead of.
    fn output_hold(&self, watermark: EventTime, ended: bool) -> Option<EventTime> {
        let watermark = match &self.clocks {
            Some(c) if !ended => c.least().unwrap_or(watermark).max(watermark),
            _ => watermark,
        };
        let hold = self.holds.keys().next().copied();
        match (ended, hold) {
            (true, None) => None,
            (true, Some(h)) => Some(h),
            (false, None) => Some(watermark),
            (false, Some(h)) => Some(h.min(watermark)),
        }
    }
}

impl WindowState {
    /// The keys with open panes and an estimate of their bytes: each key's map entry
    /// and pane list, each pane and its accumulators, by their in-line sizes (heap
    /// behind strings and exact-percentile or distinct buffers is not counted).
    fn size(&self) -> StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<Vec<Pane>>();
        let pane = std::mem::size_of::<Pane>();
        let acc = std::mem::size_of::<Acc>();
        let bytes: usize = self
            .panes
            .values()
            .map(|panes| {
                entry
                    + panes
                        .iter()
                        .map(|p| pane + p.accs.len() * acc)
                        .sum::<usize>()
            })
            .sum();
        StateSize {
            keys: self.panes.len() as u64,
            bytes: bytes as u64,
        }
    }

    /// Adds one element to its windows, dropping it to the late route where a window has
    /// expired or closed, and fires panes whose trigger is ready.
    fn add(&mut self, event: Event, at: Arrival, out: &mut Emitted) {
        // With per-key watermarks, the element meets its key's watermark.
        let at = match &self.clocks {
            Some(c) => {
                let view = KeyView {
                    record: &event.record,
                    slots: &self.rules.keys,
                };
                let own = c.watermark_of(&view);
                Arrival {
                    watermark: at.watermark.max(own),
                    seen: at.seen.max(own),
                    now: at.now,
                }
            }
            None => at,
        };
        self.add_windows(&event, at, out);
        if let Some(c) = self.clocks.as_mut() {
            let view = KeyView {
                record: &event.record,
                slots: &self.rules.keys,
            };
            let to = event.time.saturating_sub(c.settings.bound);
            let before = c.watermark_of(&view);
            let after = c.advance(&view, to, at.now);
            if after > before {
                let key = view.to_owned();
                self.advance_key(&key, after, at.now, out);
            }
        }
    }

    /// Fires the windows of `key` its own watermark has passed (end of window and
    /// garbage collection).
    fn advance_key(
        &mut self,
        key: &GroupKey,
        watermark: EventTime,
        now: EventTime,
        out: &mut Emitted,
    ) {
        let due: Vec<Window> = self.panes.get(key).map_or_else(Vec::new, |panes| {
            panes
                .iter()
                .filter(|p| p.window.end <= watermark)
                .map(|p| p.window)
                .collect()
        });
        for w in due {
            self.on_watermark(key, w, watermark, now, false, out);
        }
    }

    /// Keys silent for the `idle` timeout catch up with the most advanced key.
    fn release_idle_keys(&mut self, now: EventTime, out: &mut Emitted) {
        let Some(c) = self.clocks.as_mut() else {
            return;
        };
        let (Some(idle), Some(&front)) = (c.settings.idle, c.marks.keys().next_back()) else {
            return;
        };
        let silent: Vec<GroupKey> = c
            .keys
            .iter()
            .filter(|(_, (wm, seen))| *wm < front && now.saturating_sub(*seen) >= idle)
            .map(|(k, _)| k.clone())
            .collect();
        for key in silent {
            if let Some(entry) = c.keys.get_mut(&key) {
                remove_mark(&mut c.marks, entry.0);
                *c.marks.entry(front).or_default() += 1;
                entry.0 = front;
            }
        }
        let released: Vec<GroupKey> = c
            .keys
            .iter()
            .filter(|(_, (wm, seen))| *wm == front && now.saturating_sub(*seen) >= idle)
            .map(|(k, _)| k.clone())
            .collect();
        for key in released {
            self.advance_key(&key, front, now, out);
        }
    }

    fn add_windows(&mut self, event: &Event, at: Arrival, out: &mut Emitted) {
        let assigner = self.rules.assigner;
        if let Assigner::Sliding { .. } = assigner {
            let mut windows = Vec::new();
            assigner.assign(event.time, |w| windows.push(w));
            for w in windows {
                self.add_to(event, w, at, out);
            }
        } else if let Assigner::Until { .. } = assigner {
            // The checker lets only non-null timestamps bound the window, so `None` is
            // a record that does not follow its schema: it belongs to no window.
            if let Some(w) = assigner.bounded(&event.record) {
                self.add_to(event, w, at, out);
            }
        } else {
            self.add_to(event, assigner.tumbling(event.time), at, out);
        }
    }

    fn add_to(&mut self, event: &Event, w: Window, at: Arrival, out: &mut Emitted) {
        let Arrival {
            watermark,
            seen,
            now,
        } = at;
        let rules = &self.rules;
        if rules.gc_time(&w) <= seen {
            drop_late(self.late_route, event, &w, Dropped::Expired, seen, out);
            return;
        }
        let view = KeyView {
            record: &event.record,
            slots: &rules.keys,
        };
        let panes = match self.panes.get_mut(&view) {
            Some(p) => p,
            // Room for one pane: a first push would reserve four, 3 × 160 B unused per key
            // for tumbling windows, where a key has one pane at a time.
            None => self
                .panes
                .entry(view.to_owned())
                .or_insert_with(|| Vec::with_capacity(1)),
        };
        let (index, created) = if matches!(rules.assigner, Assigner::Session { .. }) {
            let (members, merged) =
                merge_with(panes.iter().map(|p| p.window), w, rules.session_max);
            // An element that would merge into a session whose trigger has finished is
            // dropped as closed, and nothing merges: merging would close the other
            // sessions too and lose their unfired elements without a trace.
            if let Some(&c) = members.iter().find(|&&i| panes[i].closed) {
                let closed = panes[c].window;
                drop_late(self.late_route, event, &closed, Dropped::Closed, seen, out);
                return;
            }
            merge_panes(
                panes,
                &members,
                merged,
                rules,
                &mut self.holds,
                watermark,
                now,
            )
        } else {
            match panes.iter().position(|p| p.window == w) {
                Some(i) => (i, false),
                None => {
                    panes.push(new_pane(w, rules, &mut self.holds, watermark));
                    (panes.len() - 1, true)
                }
            }
        };
        let pane = &mut panes[index];
        if pane.closed {
            drop_late(
                self.late_route,
                event,
                &pane.window,
                Dropped::Closed,
                seen,
                out,
            );
            return;
        }
        let withdraws = rules
            .retraction
            .is_some_and(|slot| event.record.get(slot) == Some(&Value::Bool(true)));
        for (agg, acc) in rules.aggs.iter().zip(pane.accs.iter_mut()) {
            if withdraws {
                let first_sent = rules
                    .retracted_time
                    .and_then(|slot| match event.record.get(slot) {
                        Some(Value::Time(t)) => Some(*t),
                        _ => None,
                    })
                    .unwrap_or(event.time);
                agg.withdraw(acc, &event.record, first_sent);
            } else {
                agg.update(acc, &event.record, event.time);
            }
        }
        pane.fresh += 1;
        // Only elements not behind the watermark may hold the output time back.
        if event.time >= seen && pane.floor.is_some() {
            pane.hold = Some(match (rules.combiner, pane.hold) {
                (TimestampCombiner::Latest, Some(h)) => h.max(event.time),
                (_, Some(h)) => h.min(event.time),
                (_, None) => event.time,
            });
            update_floor(pane, rules.combiner, &mut self.holds);
        }
        let cx = TriggerContext {
            watermark,
            now,
            end: pane.window.end,
        };
        rules.machine.on_element(&mut pane.trigger, &cx);
        let fire_now = rules.machine.should_fire(&pane.trigger, &cx);
        if !(created || fire_now || rules.uses_processing_time) {
            return;
        }
        let key = view.to_owned();
        if created {
            register_timers(&mut self.timers, &key, pane.window, rules, watermark);
        }
        if fire_now {
            fire(pane, &key, rules, &mut self.holds, &cx, false, out);
        }
        schedule_deadline(pane, &key, rules, &mut self.deadlines);
    }

    /// Fires the end-of-window and garbage-collection timers the watermark has passed.
    fn fire_timers(
        &mut self,
        watermark: EventTime,
        now: EventTime,
        discard: bool,
        out: &mut Emitted,
    ) {
        while let Some(entry) = self.timers.first_entry() {
            if *entry.key() > watermark {
                break;
            }
            for (key, window) in entry.remove() {
                self.on_watermark(&key, window, watermark, now, discard, out);
            }
        }
    }

    /// Fires every remaining window: the input has ended.
    fn finish_all(&mut self, discard: bool, out: &mut Emitted) {
        let keys: Vec<(GroupKey, Window)> = self
            .panes
            .iter()
            .flat_map(|(k, ps)| ps.iter().map(move |p| (k.clone(), p.window)))
            .collect();
        for (key, window) in keys {
            self.on_watermark(&key, window, EventTime::MAX, EventTime::MAX, discard, out);
        }
        self.timers.clear();
        self.deadlines.clear();
    }

    /// The input was cut short at `watermark`: every open window with elements no pane
    /// has carried fires them as a pane that is not final (early, if the watermark had
    /// not reached its end), and all state goes.
    fn cut_all(&mut self, watermark: EventTime, now: EventTime, out: &mut Emitted) {
        for (key, panes) in &mut self.panes {
            for pane in panes.iter_mut().filter(|p| !p.closed && p.fresh > 0) {
                let cx = TriggerContext {
                    watermark,
                    now,
                    end: pane.window.end,
                };
                fire(pane, key, &self.rules, &mut self.holds, &cx, false, out);
            }
        }
        self.panes.clear();
        self.holds.clear();
        self.timers.clear();
        self.deadlines.clear();
    }

    /// The watermark reached `window` of `key`: the on-time pane, then garbage collection.
    fn on_watermark(
        &mut self,
        key: &GroupKey,
        window: Window,
        watermark: EventTime,
        now: EventTime,
        discard: bool,
        out: &mut Emitted,
    ) {
        let rules = &self.rules;
        let Some(panes) = self.panes.get_mut(key) else {
            return;
        };
        let Some(i) = panes.iter().position(|p| p.window == window) else {
            return;
        };
        let pane = &mut panes[i];
        let cx = TriggerContext {
            watermark,
            now,
            end: window.end,
        };
        let gc = rules.gc_time(&window) <= watermark;
        if discard {
            remove_floor(pane, &mut self.holds);
        } else {
            if pane.floor.is_some() && watermark >= window.end {
                // The watermark passed the end: the on-time pane, if the trigger wants it.
                let ready = !pane.closed && rules.machine.should_fire(&pane.trigger, &cx);
                if ready {
                    fire(pane, key, rules, &mut self.holds, &cx, gc, out);
                }
                // On-time elements no pane has carried yet keep holding the output at the
                // end of the window until one does (Beam's element holds), so that pane
                // is on time downstream too.
                if pane.fresh == 0 || pane.closed {
                    remove_floor(pane, &mut self.holds);
                }
            }
            if gc && !pane.closed && pane.fresh > 0 {
                // Garbage collection emits whatever the trigger has not fired yet.
                fire(pane, key, rules, &mut self.holds, &cx, true, out);
            }
        }
        if gc {
            remove_floor(pane, &mut self.holds);
            panes.swap_remove(i);
            if panes.is_empty() {
                self.panes.remove(key);
            }
        }
    }

    /// Fires the processing-time timers that are due.
    fn fire_deadlines(&mut self, watermark: EventTime, now: EventTime, out: &mut Emitted) {
        while let Some(entry) = self.deadlines.first_entry() {
            let due = *entry.key();
            if due > now {
                break;
            }
            for (key, window) in entry.remove() {
                let rules = &self.rules;
                let Some(pane) = self
                    .panes
                    .get_mut(&key)
                    .and_then(|ps| ps.iter_mut().find(|p| p.window == window))
                else {
                    continue;
                };
                if pane.deadline != Some(due) {
                    continue;
                }
                pane.deadline = None;
                let watermark = match &self.clocks {
                    Some(c) => c
                        .keys
                        .get(&key)
                        .map_or(watermark, |(w, _)| watermark.max(*w)),
                    None => watermark,
                };
                let cx = TriggerContext {
                    watermark,
                    now,
                    end: window.end,
                };
                if !pane.closed && rules.machine.should_fire(&pane.trigger, &cx) {
                    fire(pane, &key, rules, &mut self.holds, &cx, false, out);
                }
                schedule_deadline(pane, &key, rules, &mut self.deadlines);
            }
        }
    }
}

/// Counts a dropped element by its reason and, with a late route, keeps it with the
/// reason.
fn drop_late(
    late_route: bool,
    event: &Event,
    w: &Window,
    reason: Dropped,
    watermark: EventTime,
    out: &mut Emitted,
) {
    match reason {
        Dropped::Closed => out.closed += 1,
        Dropped::Expired => out.dropped += 1,
    }
    if late_route {
        let mut record = event.record.clone();
        record.extend([
            Value::str(reason.reason()),
            Value::Time(w.start),
            Value::Time(w.end),
            Value::Time(watermark),
        ]);
        out.late.push(Event::new(event.time, record));
    }
}

/// Snapshots `state` into the current epoch's checkpoint and moves to the next epoch;
/// returns what was stashed for it, or `None` (the run fails) if the state cannot be
/// written.
fn save(
    state: &WindowState,
    epochs: &mut EpochCut<(Event, EventTime)>,
    ctx: &WorkerContext,
) -> Option<Vec<(Event, EventTime)>> {
    let bytes = snapshot_or_fail(state, ctx)?;
    Some(epochs.save(bytes))
}

fn snapshot_or_fail(state: &WindowState, ctx: &WorkerContext) -> Option<Vec<u8>> {
    crate::checkpoint::keyed::or_fail("window", state.snapshot(), ctx)
}

/// A window operator's state as written to a checkpoint (the output holds are the
/// panes' floors, recounted on restore).
#[derive(Serialize)]
struct SnapshotOut<'a> {
    panes: Vec<(&'a GroupKey, &'a Vec<Pane>)>,
    timers: &'a BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    deadlines: &'a BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    clocks: Vec<(&'a GroupKey, &'a (EventTime, EventTime))>,
}

/// [`SnapshotOut`] read back.
#[derive(Deserialize)]
struct SnapshotIn {
    panes: Vec<(GroupKey, Vec<Pane>)>,
    timers: BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    deadlines: BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    clocks: Vec<(GroupKey, (EventTime, EventTime))>,
}

impl WindowState {
    fn snapshot(&self) -> Result<Vec<u8>, bincode::Error> {
        let out = SnapshotOut {
            panes: self.panes.iter().collect(),
            timers: &self.timers,
            deadlines: &self.deadlines,
            clocks: self.clocks.iter().flat_map(|c| c.keys.iter()).collect(),
        };
        bincode::serialize(&out)
    }

    /// Adds one old worker's snapshot, keeping the keys `owns` accepts.
    fn restore(
        &mut self,
        bytes: &[u8],
        owns: impl Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        let old: SnapshotIn = bincode::deserialize(bytes)?;
        self.panes.reserve(old.panes.len());
        for (key, panes) in old.panes.into_iter().filter(|(k, _)| owns(k)) {
            for f in panes.iter().filter_map(|pane| pane.floor) {
                *self.holds.entry(f).or_default() += 1;
            }
            self.panes.insert(key, panes);
        }
        for (into, from) in [
            (&mut self.timers, old.timers),
            (&mut self.deadlines, old.deadlines),
        ] {
            for (at, mut entries) in from {
                entries.retain(|(k, _)| owns(k));
                if !entries.is_empty() {
                    into.entry(at).or_default().extend(entries);
                }
            }
        }
        if let Some(clocks) = self.clocks.as_mut() {
            for (key, (mark, seen)) in old.clocks.into_iter().filter(|(k, _)| owns(k)) {
                *clocks.marks.entry(mark).or_default() += 1;
                clocks.keys.insert(key, (mark, seen));
            }
        }
        Ok(())
    }

    /// Applies records stashed for the epoch the operator has just entered.
    fn apply_stashed(
        &mut self,
        items: Vec<(Event, EventTime)>,
        watermark: EventTime,
        now: EventTime,
        out: &mut Emitted,
    ) {
        for (event, seen) in items {
            let arrival = Arrival {
                watermark,
                seen: seen.max(watermark),
                now,
            };
            self.add(event, arrival, out);
        }
    }
}

fn new_pane(
    w: Window,
    rules: &Rules,
    holds: &mut BTreeMap<EventTime, usize>,
    watermark: EventTime,
) -> Pane {
    let mut pane = Pane {
        window: w,
        accs: rules.aggs.iter().map(AggregateFn::init).collect(),
        fresh: 0,
        trigger: rules.machine.init(),
        index: 0,
        nonspec: 0,
        closed: false,
        hold: None,
        floor: None,
        previous: Vec::new(),
        deadline: None,
    };
    if watermark < w.end {
        update_floor(&mut pane, rules.combiner, holds);
    }
    pane
}

/// Merges the panes at `members` (and the new proto-session) into one pane for `merged`;
/// returns its position and whether it is a new window (which needs timers).
fn merge_panes(
    panes: &mut Vec<Pane>,
    members: &[usize],
    merged: Window,
    rules: &Rules,
    holds: &mut BTreeMap<EventTime, usize>,
    watermark: EventTime,
    now: EventTime,
) -> (usize, bool) {
    let Some((&first, rest)) = members.split_first() else {
        panes.push(new_pane(merged, rules, holds, watermark));
        return (panes.len() - 1, true);
    };
    if rest.is_empty() && panes[first].window == merged {
        return (first, false);
    }
    let cx = TriggerContext {
        watermark,
        now,
        end: merged.end,
    };
    // A member still holding unfired on-time elements past its end passes that hold on.
    let held = members
        .iter()
        .any(|&i| panes[i].floor.is_some() && panes[i].fresh > 0);
    // Take the members out (highest index first so positions stay valid).
    let mut taken: Vec<Pane> = Vec::with_capacity(members.len());
    for &i in members.iter().rev() {
        let mut p = panes.swap_remove(i);
        remove_floor(&mut p, holds);
        taken.push(p);
    }
    let mut into = new_pane(merged, rules, holds, watermark);
    remove_floor(&mut into, holds);
    into.trigger = taken[0].trigger.clone();
    for (n, p) in taken.into_iter().enumerate() {
        if n > 0 {
            rules.machine.merge(&mut into.trigger, &p.trigger, &cx);
        }
        for (a, b) in into.accs.iter_mut().zip(&p.accs) {
            a.merge(b);
        }
        into.fresh += p.fresh;
        // Beam: the merged window is a new window, so its panes count from 0 again
        // (pane and non-speculative index are per-window state, never merged).
        into.closed |= p.closed;
        into.hold = match (into.hold, p.hold) {
            (Some(a), Some(b)) if rules.combiner == TimestampCombiner::Latest => Some(a.max(b)),
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        into.previous.extend(p.previous);
    }
    // The merged window's on-time pane is still ahead if its end is, or if a member
    // still held one back.
    if watermark < merged.end || held {
        update_floor(&mut into, rules.combiner, holds);
    }
    panes.push(into);
    // A merged window needs timers of its own (the members' timers find nothing).
    (panes.len() - 1, true)
}

fn register_timers(
    timers: &mut BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
    key: &GroupKey,
    w: Window,
    rules: &Rules,
    watermark: EventTime,
) {
    if watermark < w.end {
        timers.entry(w.end).or_default().push((key.clone(), w));
    }
    let gc = rules.gc_time(&w);
    if gc != w.end || watermark >= w.end {
        timers.entry(gc).or_default().push((key.clone(), w));
    }
}

fn schedule_deadline(
    pane: &mut Pane,
    key: &GroupKey,
    rules: &Rules,
    deadlines: &mut BTreeMap<EventTime, Vec<(GroupKey, Window)>>,
) {
    if !rules.uses_processing_time || pane.closed {
        return;
    }
    let next = rules.machine.next_deadline(&pane.trigger);
    if next.is_some() && next != pane.deadline {
        pane.deadline = next;
        if let Some(d) = next {
            deadlines
                .entry(d)
                .or_default()
                .push((key.clone(), pane.window));
        }
    }
}

/// The time this pane's output may not precede while its on-time pane is ahead.
fn update_floor(
    pane: &mut Pane,
    combiner: TimestampCombiner,
    holds: &mut BTreeMap<EventTime, usize>,
) {
    let end_hold = pane.window.max_timestamp();
    let floor = match combiner {
        TimestampCombiner::End => end_hold,
        _ => pane.hold.map_or(end_hold, |h| h.min(end_hold)),
    };
    if pane.floor != Some(floor) {
        remove_floor(pane, holds);
        *holds.entry(floor).or_default() += 1;
        pane.floor = Some(floor);
    }
}

fn remove_floor(pane: &mut Pane, holds: &mut BTreeMap<EventTime, usize>) {
    if let Some(f) = pane.floor.take() {
        if let Some(n) = holds.get_mut(&f) {
            *n -= 1;
            if *n == 0 {
                holds.remove(&f);
            }
        }
    }
}

/// Emits one pane (after retracting the previous ones in retract mode).
fn fire(
    pane: &mut Pane,
    key: &GroupKey,
    rules: &Rules,
    holds: &mut BTreeMap<EventTime, usize>,
    cx: &TriggerContext,
    gc: bool,
    out: &mut Emitted,
) {
    let finished = rules.machine.on_fire(&mut pane.trigger, cx);
    let w = pane.window;
    // As Beam's pane timing: on time is the first non-speculative pane of a window that
    // still holds the output at its end (it existed before the watermark passed the end,
    // and no pane has carried its on-time elements since); a window that never held the
    // output, or already released it, only has late panes.
    let (timing, nonspec) = if cx.watermark < w.end {
        ("early", -1)
    } else {
        let n = pane.nonspec;
        pane.nonspec += 1;
        (
            if n == 0 && pane.floor.is_some() {
                "on_time"
            } else {
                "late"
            },
            n,
        )
    };
    let index = pane.index;
    pane.index += 1;
    let is_final = finished || gc;
    let pane_ts = match rules.combiner {
        TimestampCombiner::End => w.max_timestamp(),
        _ => pane.hold.unwrap_or_else(|| w.max_timestamp()),
    };
    pane.hold = None;
    if pane.floor.is_some() {
        if cx.watermark < w.end && !finished {
            update_floor(pane, rules.combiner, holds);
        } else {
            // Past the end, or no pane will follow: nothing is left to hold for.
            remove_floor(pane, holds);
        }
    }
    let retract = rules.accumulation == Accumulation::Retract;
    let sent = &mut out.panes;
    if retract {
        for mut old in pane.previous.drain(..) {
            if let Some(flag) = old.last_mut() {
                *flag = Value::Bool(true);
            }
            let time = pane_ts;
            sent.push(Event::new(time, old));
        }
    }
    let mut record = Vec::with_capacity(key.0.len() + pane.accs.len() + 8);
    record.extend(key.0.iter().cloned());
    for acc in &pane.accs {
        acc.finish_into(&mut record);
    }
    record.extend([
        Value::Time(w.start),
        Value::Time(w.end),
        Value::str(timing),
        Value::Int(index),
        Value::Int(nonspec),
        Value::Bool(is_final),
        Value::Time(pane_ts),
    ]);
    if retract {
        record.push(Value::Bool(false));
        pane.previous.push(record.clone());
    }
    sent.push(Event::new(pane_ts, record));
    if rules.accumulation == Accumulation::Discard {
        for (agg, acc) in rules.aggs.iter().zip(pane.accs.iter_mut()) {
            *acc = agg.init();
        }
    }
    pane.fresh = 0;
    if finished {
        pane.closed = true;
    }
}
