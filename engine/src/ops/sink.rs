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
            input.for_each_stamp(|cap, containers| {
                let mut session = output.session(&cap);
                for container in containers {
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
                    session.give_container(container);
                }
            });
        }
    })
}
