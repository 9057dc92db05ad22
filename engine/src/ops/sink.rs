//! The sink operator: writes each batch to the process's shared writer and passes the
//! events on, so a pipeline may continue after `to`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::io::SinkWriter;
use crate::run::WorkerContext;

/// Writes `stream` to `writer` (the `index`-th sink of the plan).
pub fn build<'scope>(
    stream: EventStream<'scope>,
    writer: Arc<dyn SinkWriter>,
    index: usize,
    name: &str,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let sink_name = name.to_string();
    stream.unary(Pipeline, &format!("Sink({name})"), move |_cap, _info| {
        let mut failed = false;
        move |input, output| {
            // In arrival order, not grouped by time: a window's panes (and a withdrawal
            // and the pane it withdraws) may go backwards in time and must stay in order.
            input.for_each(|cap, container| {
                if !failed && !container.is_empty() {
                    match writer.write(container) {
                        Ok(()) => {
                            ctx.metrics.sink_records[index]
                                .fetch_add(container.len() as u64, Ordering::Relaxed);
                        }
                        Err(e) => {
                            // Stop the run rather than lose output silently.
                            failed = true;
                            ctx.fail(format!("sink `{sink_name}`: {e}"));
                        }
                    }
                }
                output.session(&cap).give_container(container);
            });
        }
    })
}
