//! Exchange: the one place records change workers. Each record goes to the worker its
//! key routes to ([`KeyView::route`], FxHash, the same in every process); the operators
//! after it keep per-key state and read their input where it lands.

use std::sync::Arc;

use timely::dataflow::channels::pact::Exchange as ExchangePact;
use timely::dataflow::operators::generic::operator::Operator;

use super::flow::Slot;
use super::EventStream;
use crate::checkpoint::stamp;
use crate::event::Event;
use crate::key::KeyView;
use crate::plan::physical::Exchange;

/// Moves every record of `stream` to the worker of its key; times are kept, so the
/// frontier downstream is the watermark as before. Its input frontier goes to `slot`,
/// which paces the source it reads (see [`super::flow`]).
pub fn build<'scope>(
    stream: EventStream<'scope>,
    exchange: &Exchange,
    slot: Option<Slot>,
) -> EventStream<'scope> {
    let keys: Arc<[usize]> = exchange.keys.as_slice().into();
    let pact = ExchangePact::new(move |e: &Event| {
        KeyView {
            record: &e.record,
            slots: &keys,
        }
        .route()
    });
    let name = format!("Exchange({})", exchange.names.join(", "));
    stream.unary_frontier(pact, &name, |_cap, _info| {
        move |(input, frontier), output| {
            input.for_each_stamp(|cap, containers| {
                let mut session = output.session(&cap);
                for container in containers {
                    session.give_container(container);
                }
            });
            if let Some(slot) = &slot {
                slot.advance(stamp::watermark(&frontier.frontier()));
            }
        }
    })
}
