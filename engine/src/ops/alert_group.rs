//! `alert … group by …`: alert events, exchanged by the group fields in front of this
//! operator, are buffered until the watermark passes them and fed to their group in
//! event-time order; a group's notification timer at `t` acts after the alerts at `t`.
//! When the input ends, every pending notification is sent at its own time (there are
//! only finitely many: a group schedules one only when something changed).

use std::collections::BTreeMap;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::EventStream;
use crate::alert::group::{GroupSpec, Groups};
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::time::EventTime;

/// Builds the grouping operator.
pub fn build<'scope>(stream: EventStream<'scope>, spec: &GroupSpec) -> EventStream<'scope> {
    let spec = spec.clone();
    stream.unary_frontier(Pipeline, "AlertGroup", move |cap, _info| {
        let mut held: Option<Capability<Stamp>> = Some(cap);
        let mut pending: BTreeMap<EventTime, Vec<Event>> = BTreeMap::new();
        let mut groups = Groups::new(&spec);
        move |(input, frontier), output| {
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
                        event.time = event.time.max(now);
                        pending.entry(event.time).or_default().push(event);
                    }
                }
            });
            let ended = frontier.is_empty();
            let watermark = stamp::watermark(&frontier.frontier()).unwrap_or(EventTime::MAX);
            let mut out = Vec::new();
            while let Some(entry) = pending.first_entry() {
                let t = *entry.key();
                if t >= watermark {
                    break;
                }
                groups.fire_timers(t, &mut out);
                let mut events = entry.remove();
                super::alert::sort_ties(&mut events);
                for event in &events {
                    groups.on_alert(event);
                }
            }
            groups.fire_timers(if ended { EventTime::MAX } else { watermark }, &mut out);
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
        }
    })
}
