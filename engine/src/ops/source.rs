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

use super::flow::{self, Gate};
use super::EventStream;
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
    let event_time = node.event_time;
    let bound = node.watermark.bounded_ms.max(0);
    let idle = node.watermark.idle_ms;
    let per_key = node.watermark.per_key;
    let max_future = node.watermark.max_future_ms;
    let event_field = event_time.map(|slot| node.schema.fields[slot].name.clone());
    let name = format!("Source({})", node.name);
    let source_name = node.name.clone();
    source(scope, &name, move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        // Scripted sources are woken with everything else that waits on the test clock.
        ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        let mut cap = Some(cap);
        let mut reader = reader;
        let mut watermark = MIN_WATERMARK;
        let mut max_time = MIN_WATERMARK;
        let mut last_data = ctx.clock.now();
        let mut batch: Vec<Record> = Vec::with_capacity(POLL_BATCH);
        let mut bad: Vec<BadRecord> = Vec::new();
        let worker = ctx.local_index;
        let mut ticks = ctx.checkpoints.as_ref().map(|c| Ticks::new(c, index, &ctx));
        move |output| {
            let Some(capability) = cap.as_mut() else {
                return;
            };
            if let (Some(t), Some(src)) = (ticks.as_mut(), reader.as_mut()) {
                if let Err(e) = t.step(src.as_mut(), capability, ctx.clock.now()) {
                    ctx.fail(format!("source `{source_name}`: {e}"));
                }
                activator.activate_after(t.wait(ctx.clock.now()));
            }
            let Some(src) = reader.as_mut().filter(|_| !ctx.stop.is_requested()) else {
                if let Some(src) = reader.as_mut() {
                    let left = src.stop();
                    ctx.metrics.unacknowledged[index].fetch_add(left, Relaxed);
                }
                ctx.metrics.set_watermark(index, worker, i64::MAX);
                cap = None;
                return;
            };
            if !flow::may_read(watermark, gate.frontier()) {
                // Woken by the exchange whose frontier moves; the timer only guards
                // against a wake-up lost.
                gate.pause(activator.clone());
                activator.activate_after(Duration::from_millis(10));
                return;
            }
            let mut status = SourceStatus::Ready;
            let mut read = 0u64;
            // Under --strict one record per poll: a bad line stops the run before any
            // record read after it is sent on.
            let strict = ctx.stop.is_strict();
            let per_poll = if strict { 1 } else { POLL_BATCH };
            for _ in 0..POLLS_PER_ACTIVATION {
                batch.clear();
                let rejected_before = bad.len();
                let max = ctx.budget_left(index).map_or(per_poll, |n| n.min(per_poll));
                if max == 0 {
                    // Another worker spent the limit, or (a cluster process with no share)
                    // another process may have: the input may be cut.
                    ctx.stop.mark_cut(None);
                    status = SourceStatus::Finished;
                    break;
                }
                status = match src.poll(&mut batch, &mut bad, max) {
                    Ok(s) => s,
                    Err(e) => {
                        ctx.fail(format!("source `{source_name}`: {e}"));
                        SourceStatus::Finished
                    }
                };
                if strict && bad.len() > rejected_before {
                    batch.clear();
                    status = SourceStatus::Finished;
                }
                // Rejects count toward a limit as records read: a limit always ends.
                let rejected = bad.len() - rejected_before;
                let (granted, spent) = ctx.take_budget(index, batch.len() + rejected);
                let cut = spent && status != SourceStatus::Finished;
                if spent {
                    batch.truncate(granted.saturating_sub(rejected));
                    status = SourceStatus::Finished;
                }
                read += batch.len() as u64;
                if !batch.is_empty() {
                    let mut session = output.session(&*capability);
                    let now = ctx.clock.now();
                    for record in batch.drain(..) {
                        let time = match event_time {
                            None => now,
                            Some(slot) => match event_time_of(&record, slot, max_future, now) {
                                Ok(t) => t,
                                Err(reason) => {
                                    bad.push(BadRecord {
                                        source: source_name.clone(),
                                        location: String::new(),
                                        field: event_field.clone(),
                                        reason,
                                        raw: format!("{record:?}"),
                                    });
                                    continue;
                                }
                            },
                        };
                        max_time = max_time.max(time);
                        session.give(Event::new(time, record));
                    }
                    last_data = ctx.clock.now();
                }
                if ticks.is_none() {
                    // With checkpoints on, input is acknowledged when a checkpoint
                    // holding it completes (`Ticks::step`).
                    src.commit();
                }
                // The watermark moves after every poll, so records of the next poll that
                // are behind it are late, as they would be in a live stream.
                let mut next = match (src.watermark(), event_time) {
                    (Some(asserted), _) => asserted,
                    (None, None) => ctx.clock.now(),
                    // Each key keeps its own watermark downstream; the source's stays back.
                    (None, Some(_)) if per_key => MIN_WATERMARK,
                    (None, Some(_)) => max_time.saturating_sub(bound),
                };
                if let Some(idle_ms) = idle.filter(|_| !per_key) {
                    let now = ctx.clock.now();
                    if now.saturating_sub(last_data) >= idle_ms {
                        // Silent for `idle`: stop holding the others back. Follow the
                        // fastest share of this source, or processing time if all are
                        // silent (event time then tracks the wall clock).
                        let others = ctx.metrics.max_live_watermark(index);
                        next = next.max(
                            others
                                .unwrap_or(MIN_WATERMARK)
                                .max(now.saturating_sub(bound)),
                        );
                    }
                }
                if next > watermark {
                    watermark = next;
                    capability.downgrade(&stamp::stamp(watermark, capability.time().inner));
                    ctx.metrics.set_watermark(index, worker, watermark);
                }
                if cut {
                    // Downstream may never see this watermark before the source ends.
                    ctx.stop.mark_cut(Some(watermark));
                }
                if status != SourceStatus::Ready {
                    break;
                }
            }
            ctx.metrics.source_records[index].fetch_add(read, Relaxed);
            if !bad.is_empty() {
                ctx.metrics.bad_records[index].fetch_add(bad.len() as u64, Relaxed);
                if error_routes.is_empty() {
                    for b in bad.drain(..) {
                        (ctx.on_bad_record)(&b);
                    }
                } else {
                    // Written straight to the sinks (as a window's late route is): the
                    // records are stamped with processing time, as they have no event time.
                    let now = ctx.clock.now();
                    let events: Vec<Event> = bad
                        .drain(..)
                        .map(|b| Event::new(now, error_record(&b)))
                        .collect();
                    for (sink, writer) in &error_routes {
                        match writer.write(&events) {
                            Ok(()) => {
                                ctx.metrics.sink_records[*sink]
                                    .fetch_add(events.len() as u64, Relaxed);
                                super::sink::hand_back(writer.as_ref(), *sink, None, &ctx);
                            }
                            Err(e) => ctx.fail(format!("error route of `{source_name}`: {e}")),
                        }
                    }
                }
            }
            match status {
                SourceStatus::Ready => activator.activate(),
                SourceStatus::Idle => activator.activate_after(Duration::from_millis(1)),
                SourceStatus::Waiting => {}
                SourceStatus::Finished => {
                    if let Some(t) = ticks.as_mut() {
                        if let Err(e) = t.finish(src.as_mut(), capability.time().inner) {
                            ctx.fail(format!("source `{source_name}`: {e}"));
                        }
                    }
                    // Ended early (a limit, --strict, a failure): release the rest.
                    let left = src.stop();
                    ctx.metrics.unacknowledged[index].fetch_add(left, Relaxed);
                    ctx.metrics.set_watermark(index, worker, i64::MAX);
                    cap = None;
                }
            }
        }
    })
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
