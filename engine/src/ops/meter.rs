//! The meter: counts the records on one edge of the dataflow into the per-operator
//! counters (out of the operator before it, into the operator after it) and passes
//! the batches on untouched; one relaxed add per counter per batch.

use std::sync::Arc;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::worker::WorkerContext;

/// Which counters an edge feeds: records out of `from`, into each of `into`.
#[derive(Clone, Debug, Default)]
pub struct Edge {
    /// The operator the records leave (global operator index).
    pub from: Option<usize>,
    /// The operators they enter.
    pub into: Vec<usize>,
}

impl Edge {
    /// Whether the edge feeds any counter.
    pub fn is_empty(&self) -> bool {
        self.from.is_none() && self.into.is_empty()
    }
}

/// Counts `stream`'s records on `edge`; a stream no counter wants is left as it is.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    edge: Edge,
    ctx: &Arc<WorkerContext>,
) -> EventStream<'scope> {
    if edge.is_empty() {
        return stream;
    }
    let ctx = Arc::clone(ctx);
    stream.unary(Pipeline, "Meter", move |_cap, _info| {
        move |input, output| {
            let (operators, worker) = (&ctx.metrics.operators, ctx.local_index);
            // `for_each`, not `for_each_stamp`: grouping by stamp sorts the batches, and
            // panes must leave in the order they fired even when their timestamps go
            // backwards (oracle_beam's panes_leave_in_firing_order_whatever_their_timestamps).
            input.for_each(|cap, container| {
                let n = container.len() as u64;
                if let Some(from) = edge.from {
                    operators.add_out(from, worker, n);
                }
                for &into in &edge.into {
                    operators.add_in(into, worker, n);
                }
                output.session(&cap).give_container(container);
            });
        }
    })
}
