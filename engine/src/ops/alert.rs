//! `alert …`: records, exchanged by key in front of this operator (an explicit
//! [`Exchange`](crate::plan::physical::Exchange) of the physical plan), are buffered until the watermark passes them and
//! fed to each key's state machine in event-time order, interleaved with the machines'
//! event-time timers (a timer at `t` acts after the records at `t`). When a bounded input
//! ends, event time stops at the largest event time read by any worker (each worker
//! broadcasts the largest time of every batch), so what fires at the end does not depend
//! on how keys are spread over workers. With `deadman`, an input silent for the deadman
//! period of processing time starts every key's deadman episode (a whole source gone
//! quiet, where the watermark cannot move). Events a `silenced by` table covers are
//! dropped and counted, as are those held back while a key flaps. Checkpointed like the
//! window operator (`checkpoint::cut`); the deadman clock is not saved.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::Capability;

use serde::{Deserialize, Serialize};

use super::state_report::{pending_bytes, StateReport};
use super::{send_runs, take_at_watermark, EventOutput, EventStream};
use crate::alert::keyed::{KeyedAlerts, SavedAlerts, SavedAlertsRef};
use crate::alert::silence::Silences;
use crate::alert::AlertSpec;
use crate::checkpoint::cut::EpochCut;
use crate::checkpoint::keyed::{load_pending, or_fail, Pending};
use crate::checkpoint::stamp::{self, Stamp};
use crate::clock::Clock;
use crate::event::Event;
use crate::key::GroupKey;
use crate::metrics::operators::StateSize;
use crate::metrics::Metrics;
use crate::run::WorkerContext;
use crate::time::EventTime;

/// What the alert operator keeps: records waiting for the watermark, each key's
/// machine, the silences heard of, and the largest event time read by any worker.
struct AlertOp {
    pending: Pending,
    alerts: KeyedAlerts,
    silences: Option<Silences>,
    horizon: EventTime,
    counted_flapping: u64,
    /// The pipeline's index, for the silenced and flapping counters.
    pipeline: usize,
}

/// The operator's part of a checkpoint, as written.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    alerts: SavedAlertsRef<'a>,
    unheard: Vec<Arc<str>>,
    pending: &'a Pending,
    horizon: EventTime,
}

/// [`SnapshotOut`] read back.
#[derive(Deserialize)]
struct SnapshotIn {
    alerts: SavedAlerts,
    unheard: Vec<Arc<str>>,
    pending: Pending,
    horizon: EventTime,
}

impl AlertOp {
    fn new(spec: &AlertSpec, silences: Option<Silences>, pipeline: usize) -> AlertOp {
        AlertOp {
            pending: Pending::new(),
            alerts: KeyedAlerts::new(spec),
            silences,
            horizon: EventTime::MIN,
            counted_flapping: 0,
            pipeline,
        }
    }

    /// The keys with a machine, and the bytes of the machines and waiting records.
    fn size(&self) -> StateSize {
        let machines = self.alerts.size();
        StateSize {
            keys: machines.keys,
            bytes: machines.bytes + pending_bytes(&self.pending),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, bincode::Error> {
        bincode::serialize(&SnapshotOut {
            alerts: self.alerts.saved(),
            unheard: self
                .silences
                .as_ref()
                .map(Silences::saved)
                .unwrap_or_default(),
            pending: &self.pending,
            horizon: self.horizon,
        })
    }

    /// Adds one old worker's snapshot, keeping the keys `owns` accepts.
    fn restore(
        &mut self,
        bytes: &[u8],
        keys: &[usize],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        let old: SnapshotIn = bincode::deserialize(bytes)?;
        self.alerts.restore(old.alerts, owns);
        if let Some(silences) = self.silences.as_mut() {
            silences.restore(old.unheard);
        }
        load_pending(old.pending, keys, owns, &mut self.pending);
        self.horizon = self.horizon.max(old.horizon);
        Ok(())
    }

    /// Takes in the largest event times other workers (and this one) read.
    fn hear_horizons(&mut self, containers: std::slice::IterMut<'_, Vec<EventTime>>) {
        for container in containers {
            let latest = container.drain(..).max();
            self.horizon = self.horizon.max(latest.unwrap_or(EventTime::MIN));
        }
    }

    /// Buffers one message's records (`elements` its stamp) or stashes them for a later
    /// epoch; false if the message carries no time.
    fn take(
        &mut self,
        elements: &[Stamp],
        containers: std::slice::IterMut<'_, Vec<Event>>,
        epochs: &mut EpochCut<Event>,
    ) -> bool {
        take_at_watermark(&mut self.pending, elements, containers, epochs)
    }

    /// Feeds the records before `limit` and fires the timers due before `until`.
    fn advance(&mut self, limit: EventTime, until: EventTime, out: &mut Vec<Event>) {
        advance(&mut self.pending, &mut self.alerts, limit, until, out);
    }

    /// Drops what the silences cover, counts what they and flapping held back, and
    /// orders `out` by time for sending.
    fn settle(&mut self, out: &mut Vec<Event>, metrics: &Metrics) {
        let at = self.pipeline;
        if let Some(silences) = self.silences.as_mut() {
            let silenced = silences.filter(out);
            add(&metrics.alert_silenced, at, silenced);
        }
        let flapping = self.alerts.suppressed - self.counted_flapping;
        add(&metrics.alert_flapping, at, flapping);
        self.counted_flapping = self.alerts.suppressed;
        out.sort_by_key(|e| e.time);
    }

    /// Settles `out` and sends it (emptied), each event at its time in `cap`'s epoch.
    fn send(
        &mut self,
        out: &mut Vec<Event>,
        cap: &Capability<Stamp>,
        output: &mut EventOutput<'_>,
        metrics: &Metrics,
    ) {
        self.settle(out, metrics);
        send_runs(output, cap, out);
        out.clear();
    }

    /// Each epoch closed (or, at the end of input, each stashed one): snapshot, move the
    /// output to the next epoch, take in what was stashed for it. At the end of input,
    /// the last snapshot stands for every later checkpoint.
    fn close_epochs(
        &mut self,
        time: &Frontiers,
        epochs: &mut EpochCut<Event>,
        cap: &mut Capability<Stamp>,
        output: &mut EventOutput<'_>,
        ctx: &WorkerContext,
    ) {
        let mut out = Vec::new();
        while epochs.closing(&time.both) || (time.ending && epochs.stashed()) {
            let Some(bytes) = or_fail("alert", self.snapshot(), ctx) else {
                break;
            };
            for event in epochs.save(bytes) {
                self.pending.entry(event.time).or_default().push(event);
            }
            epochs.enter(cap);
            let (limit, until) = time.bounds(epochs, self.horizon);
            self.advance(limit, until, &mut out);
            self.send(&mut out, cap, output, &ctx.metrics);
        }
        if time.ending {
            if let Some(bytes) = or_fail("alert", self.snapshot(), ctx) {
                epochs.end(&bytes);
            }
        }
    }
}

/// Where time stands in one activation. The horizon marks travel behind the records, so
/// both inputs' frontiers bound time.
struct Frontiers {
    both: Vec<Stamp>,
    /// Both inputs ended.
    ended: bool,
    /// They ended with the run going on (see [`EpochCut::ending`]).
    ending: bool,
    watermark: EventTime,
}

impl Frontiers {
    fn new(records: &[Stamp], marks: &[Stamp], epochs: &EpochCut<Event>, stopped: bool) -> Self {
        let both: Vec<Stamp> = records.iter().chain(marks).copied().collect();
        Frontiers {
            ended: both.is_empty(),
            ending: epochs.ending(&both, stopped),
            watermark: stamp::watermark(&both).unwrap_or(EventTime::MAX),
            both,
        }
    }

    /// The watermark records are fed up to, and the time timers fire up to. At the end,
    /// time stops at the last event time read (`horizon`): later timers never fire (not
    /// before every stashed epoch has been taken in).
    fn bounds(&self, epochs: &EpochCut<Event>, horizon: EventTime) -> (EventTime, EventTime) {
        let limit = epochs.bound(self.watermark, &self.both, self.ending);
        let last = self.ended && !(self.ending && epochs.stashed());
        (limit, if last { horizon } else { limit })
    }
}

/// The deadman clock (processing time): when the input was last heard from, and
/// whether its silence has started the keys' deadman episodes yet. Not saved.
struct Deadman {
    period: Option<i64>,
    last_arrival: EventTime,
    silent: bool,
}

impl Deadman {
    fn heard(&mut self, now: EventTime) {
        self.last_arrival = now;
        self.silent = false;
    }

    /// Starts every key's deadman episode (at `at`) once the input has been quiet for
    /// the period; until then, returns how much longer it has to stay quiet.
    fn check(
        &mut self,
        clock: &dyn Clock,
        at: EventTime,
        alerts: &mut KeyedAlerts,
        out: &mut Vec<Event>,
    ) -> Option<i64> {
        let d = self.period?;
        if self.silent {
            return None;
        }
        let quiet = clock.now().saturating_sub(self.last_arrival);
        if quiet >= d {
            alerts.on_silence(at, out);
            self.silent = true;
            return None;
        }
        Some(d - quiet)
    }
}

/// The `silenced by` table's silences, if the alert has one; an error if the table is
/// not open.
fn open_silences(spec: &AlertSpec, ctx: &WorkerContext) -> Result<Option<Silences>, String> {
    let Some(s) = &spec.silences else {
        return Ok(None);
    };
    match ctx.tables.get(&s.table) {
        Some(table) => Ok(Some(Silences::new(s, Arc::clone(table)))),
        None => Err(format!(
            "alert `{}`: table `{}` is not open",
            spec.name, s.table
        )),
    }
}

/// Builds the alert operator of pipeline `pipeline` (its index, for the counters),
/// reporting its state as operator `operator`.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    spec: &AlertSpec,
    pipeline: usize,
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let silences = match open_silences(spec, &ctx) {
        Ok(silences) => silences,
        Err(message) => {
            ctx.fail(message);
            return stream;
        }
    };
    let spec = spec.clone();
    let scope = stream.scope();
    let horizons = horizons(&stream);
    stream.binary_frontier(horizons, Pipeline, Pipeline, "Alert", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        if spec.deadman_ms.is_some() {
            ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        }
        let mut report = StateReport::new(operator);
        let mut op = AlertOp::new(&spec, silences, pipeline);
        let mut cap = cap;
        let mut epochs: EpochCut<Event> = EpochCut::resume(&ctx, "alert", &mut cap, |b, owns| {
            op.restore(b, &spec.keys, owns)
        });
        let mut held: Option<Capability<Stamp>> = Some(cap);
        let mut deadman = Deadman {
            period: spec.deadman_ms,
            last_arrival: ctx.clock.now(),
            silent: false,
        };
        move |(input, frontier), (marks, marks_frontier), output| {
            marks.for_each_stamp(|_, containers| op.hear_horizons(containers));
            let Some(cap) = held.as_mut() else {
                input.for_each_stamp(|_, _| {});
                return;
            };
            input.for_each_stamp(|message, containers| {
                if op.take(message.stamp().elements(), containers, &mut epochs) {
                    deadman.heard(ctx.clock.now());
                }
            });
            let stopped = ctx.stop.is_requested();
            let time = Frontiers::new(
                &frontier.frontier(),
                &marks_frontier.frontier(),
                &epochs,
                stopped,
            );
            let mut out = Vec::new();
            let (limit, until) = time.bounds(&epochs, op.horizon);
            op.advance(limit, until, &mut out);
            let wake = match time.ended {
                false => deadman.check(&*ctx.clock, cap.time().outer, &mut op.alerts, &mut out),
                true => None,
            };
            op.send(&mut out, cap, output, &ctx.metrics);
            op.close_epochs(&time, &mut epochs, cap, output, &ctx);
            if time.ended {
                held = None;
            } else if let Some(next) = stamp::advanced_to(cap.time(), limit) {
                cap.downgrade(&next);
            }
            if let Some(wait) = wake {
                activator.activate_after(Duration::from_millis(wait.max(1) as u64));
            }
            if let Some(later) = report.report(&ctx, held.is_none(), || op.size()) {
                activator.activate_after(later);
            }
        }
    })
}

/// The largest event time of every batch, sent to every worker.
fn horizons<'scope>(
    stream: &EventStream<'scope>,
) -> timely::dataflow::Stream<'scope, Stamp, Vec<EventTime>> {
    stream
        .clone()
        .unary(Pipeline, "AlertHorizon", |_cap, _info| {
            move |input, output| {
                input.for_each_stamp(|cap, containers| {
                    let latest = containers.flat_map(|c| c.iter().map(|e| e.time)).max();
                    if let Some(t) = latest {
                        output.session(&cap).give(t);
                    }
                });
            }
        })
        .broadcast()
}

fn add(counters: &[AtomicU64], at: usize, n: u64) {
    if let (Some(c), true) = (counters.get(at), n > 0) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// Feeds the records the watermark has passed, oldest first, each time after the timers
/// due before it; then fires the timers due before `until`.
fn advance(
    pending: &mut Pending,
    alerts: &mut KeyedAlerts,
    watermark: EventTime,
    until: EventTime,
    out: &mut Vec<Event>,
) {
    while let Some(entry) = pending.first_entry() {
        let t = *entry.key();
        if t >= watermark {
            break;
        }
        alerts.fire_timers(t, out);
        let mut events = entry.remove();
        sort_ties(&mut events);
        for event in events {
            alerts.on_record(event, out);
        }
    }
    alerts.fire_timers(until, out);
}

/// Records of one time may arrive in any order; order them by content so every layout
/// of workers and batches feeds the machines alike.
pub(crate) fn sort_ties(events: &mut [Event]) {
    events.sort_by(|a, b| {
        a.record
            .iter()
            .zip(&b.record)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}
