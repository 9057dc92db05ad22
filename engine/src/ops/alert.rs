//! `alert …`: records are exchanged by key, buffered until the watermark passes them and
//! fed to each key's state machine in event-time order, interleaved with the machines'
//! event-time timers (a timer at `t` acts after the records at `t`). With `deadman`, an
//! input silent for the deadman period of processing time starts every key's deadman
//! episode (a whole source gone quiet, where the watermark cannot move).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::EventStream;
use crate::alert::keyed::KeyedAlerts;
use crate::alert::AlertSpec;
use crate::event::Event;
use crate::key::KeyView;
use crate::run::WorkerContext;
use crate::time::EventTime;

/// Builds the alert operator.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    spec: &AlertSpec,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let route_keys: Arc<[usize]> = spec.keys.as_slice().into();
    let exchange = Exchange::new(move |e: &Event| {
        KeyView {
            record: &e.record,
            slots: &route_keys,
        }
        .route()
    });
    let spec = spec.clone();
    let scope = stream.scope();
    stream.unary_frontier(exchange, "Alert", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        if spec.deadman_ms.is_some() {
            ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        }
        let mut held: Option<Capability<EventTime>> = Some(cap);
        let mut pending: BTreeMap<EventTime, Vec<Event>> = BTreeMap::new();
        let mut alerts = KeyedAlerts::new(&spec);
        let mut last_arrival = ctx.clock.now();
        let mut silent = false;
        move |(input, frontier), output| {
            let Some(cap) = held.as_mut() else {
                input.for_each_stamp(|_, _| {});
                return;
            };
            input.for_each_stamp(|stamp, containers| {
                let Some(&now) = stamp.least() else { return };
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
            let ended = frontier.is_empty();
            let watermark = frontier.frontier().first().copied().unwrap_or(EventTime::MAX);
            let mut out = Vec::new();
            while let Some(entry) = pending.first_entry() {
                let t = *entry.key();
                if t >= watermark {
                    break;
                }
                alerts.fire_timers(t, &mut out);
                let mut events = entry.remove();
                sort_ties(&mut events);
                for event in events {
                    alerts.on_record(event, &mut out);
                }
            }
            if !ended {
                // At the end of the input nothing is known about later time: timers wait.
                alerts.fire_timers(watermark, &mut out);
            }
            let mut wake = None;
            if let (Some(d), false) = (spec.deadman_ms, ended) {
                let quiet = ctx.clock.now().saturating_sub(last_arrival);
                if !silent && quiet >= d {
                    alerts.on_silence(*cap.time(), &mut out);
                    silent = true;
                } else if !silent {
                    wake = Some(d - quiet);
                }
            }
            out.sort_by_key(|e| e.time);
            for run in out.chunk_by(|a, b| a.time.max(*cap.time()) == b.time.max(*cap.time())) {
                let send_at = run[0].time.max(*cap.time());
                output
                    .session(&cap.delayed(&send_at))
                    .give_iterator(run.iter().cloned());
            }
            if ended {
                held = None;
            } else if watermark > *cap.time() {
                cap.downgrade(&watermark);
            }
            if let Some(wait) = wake {
                activator.activate_after(Duration::from_millis(wait.max(1) as u64));
            }
        }
    })
}

/// Records of one time may arrive in any order; order them by content so every layout
/// of workers and batches feeds the machines alike.
fn sort_ties(events: &mut [Event]) {
    events.sort_by(|a, b| {
        a.record
            .iter()
            .zip(&b.record)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}
