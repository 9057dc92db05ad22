//! A keyed operator that sees each key's records in event-time order: records (exchanged
//! by key in front of it, see `plan::physical`) are buffered until the watermark (the
//! input frontier) passes their event time, then handed to `apply` oldest first and sent
//! on at that time. Records already behind the watermark on arrival are handed over with
//! the next batch, in arrival order. Used by the stateful per-key models (`detect`,
//! `forecast`), count windows and `dedupe`, whose results depend on order.

use std::collections::BTreeMap;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::EventStream;
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;

/// Builds the operator; `apply` may change each record in place, and drops it by
/// returning false.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    name: &str,
    mut apply: impl FnMut(&mut Event) -> bool + 'static,
) -> EventStream<'scope> {
    stream.unary_frontier(Pipeline, name, move |_cap, _info| {
        let mut pending: BTreeMap<Stamp, (Capability<Stamp>, Vec<Event>)> = BTreeMap::new();
        move |(input, frontier), output| {
            input.for_each_stamp(|cap, containers| {
                let Some(&now) = cap.stamp().elements().first() else {
                    return;
                };
                for container in containers {
                    for event in container.drain(..) {
                        let at = stamp::send_at(&now, event.time);
                        pending
                            .entry(at)
                            .or_insert_with(|| (cap.delayed(&at, 0), Vec::new()))
                            .1
                            .push(event);
                    }
                }
            });
            while let Some(entry) = pending.first_entry() {
                if frontier.less_equal(entry.key()) {
                    break;
                }
                let (cap, mut events) = entry.remove();
                // Events of one time may arrive in any order (timely groups an input's
                // messages by capability, and a source's records of one time can travel
                // under different ones): order ties by content so every layout agrees.
                events.sort_by(|a, b| {
                    a.time.cmp(&b.time).then_with(|| {
                        a.record
                            .iter()
                            .zip(&b.record)
                            .map(|(x, y)| x.total_cmp(y))
                            .find(|o| o.is_ne())
                            .unwrap_or(std::cmp::Ordering::Equal)
                    })
                });
                events.retain_mut(|event| apply(event));
                if !events.is_empty() {
                    output.session(&cap).give_container(&mut events);
                }
            }
        }
    })
}
