//! `alert …`: records, exchanged by key in front of this operator (an explicit
//! [`Exchange`](crate::plan::physical::Exchange) of the physical plan), are buffered until the watermark passes them and
//! fed to each key's state machine in event-time order, interleaved with the machines'
//! event-time timers (a timer at `t` acts after the records at `t`). When a bounded input
//! ends, event time stops at the largest event time read by any worker (each worker
//! broadcasts the largest time of every batch), so what fires at the end does not depend
//! on how keys are spread over workers. With `deadman`, an input silent for the deadman
//! period of processing time starts every key's deadman episode (a whole source gone
//! quiet, where the watermark cannot move). Events a `silenced by` table covers are
//! dropped and counted, as are those held back while a key flaps.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::Capability;

use super::EventStream;
use crate::alert::keyed::KeyedAlerts;
use crate::alert::silence::Silences;
use crate::alert::AlertSpec;
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::run::WorkerContext;
use crate::time::EventTime;

/// Builds the alert operator of pipeline `pipeline` (its index, for the counters).
pub fn build<'scope>(
    stream: EventStream<'scope>,
    spec: &AlertSpec,
    pipeline: usize,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let mut silences = match &spec.silences {
        Some(s) => match ctx.tables.get(&s.table) {
            Some(table) => Some(Silences::new(s, Arc::clone(table))),
            None => {
                ctx.fail(format!(
                    "alert `{}`: table `{}` is not open",
                    spec.name, s.table
                ));
                return stream;
            }
        },
        None => None,
    };
    let spec = spec.clone();
    let scope = stream.scope();
    let horizons = horizons(&stream);
    stream.binary_frontier(horizons, Pipeline, Pipeline, "Alert", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        if spec.deadman_ms.is_some() {
            ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        }
        let mut held: Option<Capability<Stamp>> = Some(cap);
        let mut pending: BTreeMap<EventTime, Vec<Event>> = BTreeMap::new();
        let mut alerts = KeyedAlerts::new(&spec);
        let mut last_arrival = ctx.clock.now();
        let mut silent = false;
        let mut horizon = EventTime::MIN;
        let mut counted_flapping = 0;
        move |(input, frontier), (marks, marks_frontier), output| {
            marks.for_each_stamp(|_, containers| {
                for container in containers {
                    let container: &mut Vec<EventTime> = container;
                    let latest = container.drain(..).max();
                    horizon = horizon.max(latest.unwrap_or(EventTime::MIN));
                }
            });
            let Some(cap) = held.as_mut() else {
                input.for_each_stamp(|_, _| {});
                return;
            };
            input.for_each_stamp(|message, containers| {
                let Some(now) = stamp::least_time(message.stamp().elements()) else {
                    return;
                };
                for container in containers {
                    for mut event in container.drain(..) {
                        // A record behind the watermark acts at the watermark, so each
                        // key's machine sees time move forward only.
                        event.time = event.time.max(now);
                        pending.entry(event.time).or_default().push(event);
                    }
                }
                last_arrival = ctx.clock.now();
                silent = false;
            });
            let ended = frontier.is_empty() && marks_frontier.is_empty();
            // The horizon marks travel behind the records, so both frontiers bound time.
            let watermark = [
                stamp::watermark(&frontier.frontier()),
                stamp::watermark(&marks_frontier.frontier()),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(EventTime::MAX);
            let mut out = Vec::new();
            // At the end, time stops at the last event time read: later timers never fire.
            let until = if ended { horizon } else { watermark };
            advance(&mut pending, &mut alerts, watermark, until, &mut out);
            let mut wake = None;
            if let (Some(d), false) = (spec.deadman_ms, ended) {
                let quiet = ctx.clock.now().saturating_sub(last_arrival);
                if !silent && quiet >= d {
                    alerts.on_silence(cap.time().outer, &mut out);
                    silent = true;
                } else if !silent {
                    wake = Some(d - quiet);
                }
            }
            let metrics = &ctx.metrics;
            if let Some(silences) = silences.as_mut() {
                let silenced = silences.filter(&mut out);
                add(&metrics.alert_silenced, pipeline, silenced);
            }
            add(
                &metrics.alert_flapping,
                pipeline,
                alerts.suppressed - counted_flapping,
            );
            counted_flapping = alerts.suppressed;
            out.sort_by_key(|e| e.time);
            let held_at = *cap.time();
            let at = |e: &Event| stamp::send_at(&held_at, e.time);
            for run in out.chunk_by(|a, b| at(a) == at(b)) {
                output
                    .session(&cap.delayed(&at(&run[0])))
                    .give_iterator(run.iter().cloned());
            }
            if ended {
                held = None;
            } else if let Some(next) = stamp::advanced_to(cap.time(), watermark) {
                cap.downgrade(&next);
            }
            if let Some(wait) = wake {
                activator.activate_after(Duration::from_millis(wait.max(1) as u64));
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
    pending: &mut BTreeMap<EventTime, Vec<Event>>,
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
