//! The source operator: reads a worker's share of a source and turns event time into
//! timely progress.
//!
//! Records are sent at a capability for the source's current watermark, so downstream
//! input frontiers are watermarks; the capability is downgraded as the watermark rises
//! and dropped when the source ends, which closes every window downstream.

use std::sync::Arc;
use std::time::Duration;

use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::Scope;

use super::flow::{self, Gate};
use super::EventStream;
use crate::event::Event;
use crate::io::{BadRecord, SinkWriter, SourceReader, SourceStatus};
use crate::plan::{error_record, SourceNode};
use crate::time::{EventTime, MIN_WATERMARK};
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
    scope: Scope<'scope, EventTime>,
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
        move |output| {
            let Some(capability) = cap.as_mut() else {
                return;
            };
            let Some(src) = reader.as_mut().filter(|_| !ctx.stop.is_requested()) else {
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
            for _ in 0..POLLS_PER_ACTIVATION {
                batch.clear();
                status = match src.poll(&mut batch, &mut bad, POLL_BATCH) {
                    Ok(s) => s,
                    Err(e) => {
                        ctx.fail(format!("source `{source_name}`: {e}"));
                        SourceStatus::Finished
                    }
                };
                let (granted, spent) = ctx.take_budget(index, batch.len());
                if spent {
                    batch.truncate(granted);
                    status = SourceStatus::Finished;
                }
                read += batch.len() as u64;
                if !batch.is_empty() {
                    let mut session = output.session(&*capability);
                    for record in batch.drain(..) {
                        let time = match event_time {
                            None => ctx.clock.now(),
                            Some(slot) => match record[slot] {
                                Value::Time(t) => t,
                                _ => {
                                    bad.push(BadRecord {
                                        source: source_name.clone(),
                                        location: String::new(),
                                        field: None,
                                        reason: "the event-time field is missing".into(),
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
                    capability.downgrade(&watermark);
                    ctx.metrics.set_watermark(index, worker, watermark);
                }
                if status != SourceStatus::Ready {
                    break;
                }
            }
            ctx.metrics.source_records[index].fetch_add(read, std::sync::atomic::Ordering::Relaxed);
            if !bad.is_empty() {
                ctx.metrics.bad_records[index]
                    .fetch_add(bad.len() as u64, std::sync::atomic::Ordering::Relaxed);
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
                                ctx.metrics.sink_records[*sink].fetch_add(
                                    events.len() as u64,
                                    std::sync::atomic::Ordering::Relaxed,
                                );
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
                    ctx.metrics.set_watermark(index, worker, i64::MAX);
                    cap = None;
                }
            }
        }
    })
}
