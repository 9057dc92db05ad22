//! The source operator: reads a worker's share of a source and turns event time into
//! timely progress.
//!
//! Records are sent at a capability for the source's current watermark, so downstream
//! input frontiers are watermarks; the capability is downgraded as the watermark rises
//! and dropped when the source ends, which closes every window downstream.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::Capability;
use timely::dataflow::Scope;
use timely::scheduling::Activator;

use super::flow::{self, Gate};
use super::{EventOutput, EventStream};
use crate::checkpoint::coordinator::source_part;
use crate::checkpoint::stamp::{self, Stamp};
use crate::checkpoint::{Checkpoints, Epoch};
use crate::event::Event;
use crate::io::{BadRecord, IoError, SinkWriter, SourceReader, SourceStatus};
use crate::plan::{error_record, SourceNode};
use crate::time::{
    format_duration, format_timestamp, in_timestamp_range, out_of_range_reason, EventTime,
    MIN_WATERMARK,
};
use crate::value::{Record, Value};
use crate::worker::WorkerContext;

/// Records asked of a reader per poll; several polls make one activation.
const POLL_BATCH: usize = 1024;
const POLLS_PER_ACTIVATION: usize = 16;

/// Builds the source operator for `node` (the `index`-th source of the plan). Records it
/// cannot read go to the `on error to` sinks in `error_routes` (sink index, writer) when
/// its pipelines declare any, else to the run's bad-record handler; both are counted.
/// The source reads only while [`flow::may_read`] lets it by `gate`.
pub fn build<'scope>(
    scope: Scope<'scope, Stamp>,
    node: &SourceNode,
    index: usize,
    reader: Option<Box<dyn SourceReader>>,
    error_routes: Vec<(usize, Arc<dyn SinkWriter>)>,
    gate: Gate,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let name = format!("Source({})", node.name);
    let rules = TimeRules::of(node);
    let source_name = node.name.clone();
    source(scope, &name, move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        // Scripted sources are woken with everything else that waits on the test clock.
        ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        let mut run = SourceRun {
            index,
            name: source_name,
            rules,
            error_routes,
            gate,
            ticks: ctx.checkpoints.as_ref().map(|c| Ticks::new(c, index, &ctx)),
            last_data: ctx.clock.now(),
            ctx,
            activator,
            reader,
            watermark: MIN_WATERMARK,
            max_time: MIN_WATERMARK,
            batch: Vec::with_capacity(POLL_BATCH),
            bad: Vec::new(),
        };
        let mut cap = Some(cap);
        move |output| {
            if let Some(capability) = cap.as_mut() {
                if !run.activate(capability, output) {
                    cap = None;
                }
            }
        }
    })
}

/// How a source's records get their event time and its watermark moves.
struct TimeRules {
    /// The event-time field's slot; `None`: processing time.
    event_time: Option<usize>,
    /// Its name, for bad records.
    event_field: Option<String>,
    /// The `bounded` delay.
    bound: i64,
    idle: Option<i64>,
    per_key: bool,
    max_future: Option<i64>,
}

impl TimeRules {
    fn of(node: &SourceNode) -> TimeRules {
        TimeRules {
            event_time: node.event_time,
            event_field: node
                .event_time
                .map(|slot| node.schema.fields[slot].name.clone()),
            bound: node.watermark.bounded_ms.max(0),
            idle: node.watermark.idle_ms,
            per_key: node.watermark.per_key,
            max_future: node.watermark.max_future_ms,
        }
    }
}

/// One worker's share of a source while it runs.
struct SourceRun {
    index: usize,
    name: String,
    rules: TimeRules,
    error_routes: Vec<(usize, Arc<dyn SinkWriter>)>,
    gate: Gate,
    ticks: Option<Ticks>,
    ctx: Arc<WorkerContext>,
    activator: Activator,
    reader: Option<Box<dyn SourceReader>>,
    watermark: EventTime,
    /// Largest event time read.
    max_time: EventTime,
    /// When a record last arrived (processing time), for `idle`.
    last_data: EventTime,
    batch: Vec<Record>,
    bad: Vec<BadRecord>,
}

impl SourceRun {
    /// One activation: ticks checkpoints, then reads while the gate lets it. False once
    /// the source has ended and its capability must go.
    fn activate(&mut self, capability: &mut Capability<Stamp>, output: &mut EventOutput) -> bool {
        let ctx = Arc::clone(&self.ctx);
        if let (Some(t), Some(src)) = (self.ticks.as_mut(), self.reader.as_mut()) {
            if let Err(e) = t.step(src.as_mut(), capability, ctx.clock.now()) {
                ctx.fail(format!("source `{}`: {e}", self.name));
            }
            self.activator.activate_after(t.wait(ctx.clock.now()));
        }
        if ctx.stop.is_requested() || self.reader.is_none() {
            if let Some(src) = self.reader.as_mut() {
                let left = src.stop();
                ctx.metrics.unacknowledged[self.index].fetch_add(left, Relaxed);
            }
            ctx.metrics
                .set_watermark(self.index, ctx.local_index, i64::MAX);
            return false;
        }
        if !flow::may_read(self.watermark, self.gate.frontier()) {
            // Woken by the exchange whose frontier moves; the timer only guards
            // against a wake-up lost.
            self.gate.pause(self.activator.clone());
            self.activator.activate_after(Duration::from_millis(10));
            return true;
        }
        let status = self.read(capability, output);
        self.route_bad();
        match status {
            SourceStatus::Ready => self.activator.activate(),
            SourceStatus::Idle => self.activator.activate_after(Duration::from_millis(1)),
            SourceStatus::Waiting => {}
            SourceStatus::Finished => {
                self.finish(capability);
                return false;
            }
        }
        true
    }

    /// Up to [`POLLS_PER_ACTIVATION`] polls, each sent on and followed by the watermark.
    fn read(
        &mut self,
        capability: &mut Capability<Stamp>,
        output: &mut EventOutput,
    ) -> SourceStatus {
        let ctx = Arc::clone(&self.ctx);
        let mut status = SourceStatus::Ready;
        let mut read = 0u64;
        for _ in 0..POLLS_PER_ACTIVATION {
            let Some((polled, cut)) = self.poll() else {
                status = SourceStatus::Finished;
                break;
            };
            status = polled;
            read += self.batch.len() as u64;
            if !self.batch.is_empty() {
                self.send(capability, output);
                self.last_data = ctx.clock.now();
            }
            if self.ticks.is_none() {
                // With checkpoints on, input is acknowledged when a checkpoint
                // holding it completes (`Ticks::step`).
                if let Some(src) = self.reader.as_mut() {
                    src.commit();
                }
            }
            self.advance_watermark(capability);
            if cut {
                // Downstream may never see this watermark before the source ends.
                ctx.stop.mark_cut(Some(self.watermark));
            }
            if status != SourceStatus::Ready {
                break;
            }
        }
        ctx.metrics.source_records[self.index].fetch_add(read, Relaxed);
        status
    }

    /// One poll of the reader into `batch` (rejects into `bad`), within the run's record
    /// limit; also whether that limit cut the input short. `None`: the limit was spent
    /// before this poll, and the source ends without reading.
    fn poll(&mut self) -> Option<(SourceStatus, bool)> {
        let ctx = &self.ctx;
        self.batch.clear();
        // Under --strict one record per poll: a bad line stops the run before any
        // record read after it is sent on.
        let strict = ctx.stop.is_strict();
        let per_poll = if strict { 1 } else { POLL_BATCH };
        let rejected_before = self.bad.len();
        let max = ctx
            .budget_left(self.index)
            .map_or(per_poll, |n| n.min(per_poll));
        if max == 0 {
            // Another worker spent the limit, or (a cluster process with no share)
            // another process may have: the input may be cut.
            ctx.stop.mark_cut(None);
            return None;
        }
        let src = self.reader.as_mut()?;
        let mut status = match src.poll(&mut self.batch, &mut self.bad, max) {
            Ok(s) => s,
            Err(e) => {
                ctx.fail(format!("source `{}`: {e}", self.name));
                SourceStatus::Finished
            }
        };
        if strict && self.bad.len() > rejected_before {
            self.batch.clear();
            status = SourceStatus::Finished;
        }
        // Rejects count toward a limit as records read: a limit always ends.
        let rejected = self.bad.len() - rejected_before;
        let (granted, spent) = ctx.take_budget(self.index, self.batch.len() + rejected);
        let cut = spent && status != SourceStatus::Finished;
        if spent {
            self.batch.truncate(granted.saturating_sub(rejected));
            status = SourceStatus::Finished;
        }
        Some((status, cut))
    }

    /// Sends `batch` at the capability, each record at its event time; a record whose
    /// event time is refused goes to `bad` instead.
    fn send(&mut self, capability: &Capability<Stamp>, output: &mut EventOutput) {
        let mut session = output.session(capability);
        let now = self.ctx.clock.now();
        let rules = &self.rules;
        for record in self.batch.drain(..) {
            let time = match rules.event_time {
                None => now,
                Some(slot) => match event_time_of(&record, slot, rules.max_future, now) {
                    Ok(t) => t,
                    Err(reason) => {
                        self.bad.push(BadRecord {
                            source: self.name.clone(),
                            location: String::new(),
                            field: rules.event_field.clone(),
                            reason,
                            raw: format!("{record:?}"),
                        });
                        continue;
                    }
                },
            };
            self.max_time = self.max_time.max(time);
            session.give(Event::new(time, record));
        }
    }

    /// Moves the watermark after a poll, so records of the next poll that are behind it
    /// are late, as they would be in a live stream.
    fn advance_watermark(&mut self, capability: &mut Capability<Stamp>) {
        let ctx = &self.ctx;
        let rules = &self.rules;
        let asserted = self.reader.as_ref().and_then(|src| src.watermark());
        let mut next = match (asserted, rules.event_time) {
            (Some(asserted), _) => asserted,
            (None, None) => ctx.clock.now(),
            // Each key keeps its own watermark downstream; the source's stays back.
            (None, Some(_)) if rules.per_key => MIN_WATERMARK,
            (None, Some(_)) => self.max_time.saturating_sub(rules.bound),
        };
        if let Some(idle_ms) = rules.idle.filter(|_| !rules.per_key) {
            let now = ctx.clock.now();
            if now.saturating_sub(self.last_data) >= idle_ms {
                // Silent for `idle`: stop holding the others back. Follow the fastest
                // share of this source, or processing time if all are silent (event
                // time then tracks the wall clock).
                let others = ctx.metrics.max_live_watermark(self.index);
                next = next.max(
                    others
                        .unwrap_or(MIN_WATERMARK)
                        .max(now.saturating_sub(rules.bound)),
                );
            }
        }
        if next > self.watermark {
            self.watermark = next;
            capability.downgrade(&stamp::stamp(next, capability.time().inner));
            ctx.metrics.set_watermark(self.index, ctx.local_index, next);
        }
    }

    /// Counts the records rejected this activation and hands them to the `on error to`
    /// sinks, or to the run's bad-record handler when there are none.
    fn route_bad(&mut self) {
        if self.bad.is_empty() {
            return;
        }
        let ctx = &self.ctx;
        ctx.metrics.bad_records[self.index].fetch_add(self.bad.len() as u64, Relaxed);
        if self.error_routes.is_empty() {
            for b in self.bad.drain(..) {
                (ctx.on_bad_record)(&b);
            }
            return;
        }
        // Written straight to the sinks (as a window's late route is): the records are
        // stamped with processing time, as they have no event time.
        let now = ctx.clock.now();
        let events: Vec<Event> = (self.bad.drain(..))
            .map(|b| Event::new(now, error_record(&b)))
            .collect();
        for (sink, writer) in &self.error_routes {
            match writer.write(&events) {
                Ok(()) => {
                    ctx.metrics.sink_records[*sink].fetch_add(events.len() as u64, Relaxed);
                    super::sink::hand_back(writer.as_ref(), *sink, None, ctx);
                }
                Err(e) => ctx.fail(format!("error route of `{}`: {e}", self.name)),
            }
        }
    }

    /// The reader has ended (or ended early: a limit, --strict, a failure): its last
    /// position goes to the checkpoints and the rest of its input is released.
    fn finish(&mut self, capability: &Capability<Stamp>) {
        let ctx = &self.ctx;
        let Some(src) = self.reader.as_mut() else {
            return;
        };
        if let Some(t) = self.ticks.as_mut() {
            if let Err(e) = t.finish(src.as_mut(), capability.time().inner) {
                ctx.fail(format!("source `{}`: {e}", self.name));
            }
        }
        let left = src.stop();
        ctx.metrics.unacknowledged[self.index].fetch_add(left, Relaxed);
        ctx.metrics
            .set_watermark(self.index, ctx.local_index, i64::MAX);
    }
}

/// How many epochs may be cut and not complete: a checkpoint starts once the one before
/// it has completed, as Flink's default `max-concurrent-checkpoints: 1`, so the interval
/// is a least time between checkpoints.
const EPOCHS_IN_FLIGHT: Epoch = 1;

/// A source worker's checkpoint ticks: every `every` of processing time it stores the
/// reader's position for the epoch that ends and moves its capability to the next
/// epoch; when a checkpoint completes it tells the reader (which acknowledges input).
struct Ticks {
    checkpoints: Arc<Checkpoints>,
    part: String,
    next: EventTime,
    every: EventTime,
    /// Positions to resume from, handed to the reader before it first reads.
    seek: Option<Vec<crate::checkpoint::SourcePosition>>,
    acknowledged: Option<Epoch>,
}

impl Ticks {
    fn new(checkpoints: &Arc<Checkpoints>, index: usize, ctx: &WorkerContext) -> Ticks {
        let every = checkpoints.config.every_ms.max(1);
        Ticks {
            checkpoints: Arc::clone(checkpoints),
            part: source_part(index, ctx.worker.index),
            next: ctx.clock.now().saturating_add(every),
            every,
            seek: checkpoints.source_positions(index),
            acknowledged: None,
        }
    }

    /// Seeks on the first call; cuts an epoch when a tick is due; acknowledges input of
    /// a newly completed checkpoint.
    fn step(
        &mut self,
        reader: &mut dyn SourceReader,
        cap: &mut Capability<Stamp>,
        now: EventTime,
    ) -> Result<(), IoError> {
        if let Some(failure) = self.checkpoints.failure() {
            return Err(IoError::Other(format!("checkpoint: {failure}")));
        }
        let first = self.checkpoints.first_epoch;
        if cap.time().inner < first {
            if let Some(positions) = self.seek.take() {
                reader.seek(&positions)?;
            }
            cap.downgrade(&stamp::stamp(cap.time().outer, first));
        }
        if now >= self.next && self.may_cut(cap.time().inner) {
            let epoch = cap.time().inner;
            let position = reader.position(epoch)?.unwrap_or_default();
            self.checkpoints.submit(epoch, &self.part, position);
            cap.downgrade(&stamp::stamp(cap.time().outer, epoch + 1));
            self.next = now.saturating_add(self.every);
        }
        if let Some(done) = self.checkpoints.completed() {
            if self.acknowledged.is_none_or(|a| a < done) {
                reader.checkpoint_complete(done);
                self.acknowledged = Some(done);
            }
        }
        Ok(())
    }

    /// Whether epoch `epoch` may end now: at most [`EPOCHS_IN_FLIGHT`] epochs are cut
    /// and not yet complete. Without the bound, a run whose snapshots take longer than
    /// the interval cuts epochs faster than it completes them: the backlog of epochs to
    /// snapshot grows without end and no checkpoint completes again.
    fn may_cut(&self, epoch: Epoch) -> bool {
        let incomplete = self
            .checkpoints
            .completed()
            .map_or(self.checkpoints.first_epoch, |done| done + 1);
        epoch.saturating_sub(incomplete) < EPOCHS_IN_FLIGHT
    }

    /// How long until the next tick.
    fn wait(&self, now: EventTime) -> Duration {
        Duration::from_millis(self.next.saturating_sub(now).clamp(1, self.every) as u64)
    }

    /// The reader has ended: its position now stands for it in every later checkpoint.
    fn finish(&mut self, reader: &mut dyn SourceReader, epoch: Epoch) -> Result<(), IoError> {
        let position = reader.position(epoch)?.unwrap_or_default();
        self.checkpoints.finish(epoch, &self.part, position);
        Ok(())
    }
}

/// The event time of `record`, or why it is refused: missing, outside the RFC 3339 range,
/// or more than `max_future` ahead of processing time `now`. Such a record would carry the
/// watermark past every real one and make them all late.
fn event_time_of(
    record: &Record,
    slot: usize,
    max_future: Option<i64>,
    now: EventTime,
) -> Result<EventTime, String> {
    let Value::Time(t) = record[slot] else {
        return Err("the event-time field is missing".into());
    };
    if !in_timestamp_range(t) {
        return Err(out_of_range_reason(t));
    }
    match max_future {
        Some(ahead) if t > now.saturating_add(ahead) => Err(format!(
            "event time {} is more than {} ahead of processing time {} (`max_future`)",
            format_timestamp(t),
            format_duration(ahead),
            format_timestamp(now)
        )),
        _ => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_outside_rfc_3339_or_too_far_ahead_are_refused() {
        let now = 1_714_557_600_000;
        let at = |t: i64| vec![Value::Time(t)];
        assert_eq!(event_time_of(&at(now), 0, None, now), Ok(now));
        let e = event_time_of(&at(i64::MAX), 0, None, now).expect_err("i64::MAX");
        assert!(e.contains("outside the RFC 3339 range"), "{e}");
        assert!(event_time_of(&at(i64::MIN), 0, None, now).is_err());
        let hour = Some(3_600_000);
        assert_eq!(
            event_time_of(&at(now + 3_600_000), 0, hour, now),
            Ok(now + 3_600_000)
        );
        let e = event_time_of(&at(now + 3_600_001), 0, hour, now).expect_err("ahead");
        assert!(e.contains("more than 1h ahead of processing time"), "{e}");
        // Records from the past are fine, however old.
        assert_eq!(event_time_of(&at(0), 0, hour, now), Ok(0));
        let missing = event_time_of(&vec![Value::Null], 0, None, now);
        assert_eq!(missing, Err("the event-time field is missing".to_string()));
    }
}
