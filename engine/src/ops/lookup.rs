//! The lookup operator: enriches each record with a reference table's fields for its
//! key, in place, with no exchange (every worker shares the process's table).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::event::Event;
use crate::io::{LookupTable, SinkWriter};
use crate::plan::{LogicalPlan, LookupMiss};
use crate::run::WorkerContext;
use crate::schema::Schema;
use crate::value::Value;

/// What to do with a record whose key the table lacks, with its sink resolved.
enum Miss {
    KeepNull,
    Drop,
    ToSink {
        writer: Arc<dyn SinkWriter>,
        index: usize,
        name: String,
    },
}

/// A `lookup` stage with its table (and miss sink) opened.
pub struct Lookup {
    table: Arc<dyn LookupTable>,
    table_name: String,
    key: usize,
    /// How many fields the table appends.
    width: usize,
    miss: Miss,
    name: String,
}

impl Lookup {
    /// Resolves a plan's lookup stage against the tables and sinks opened for the run;
    /// `None` (and the run failed) if one is missing.
    pub fn resolve(
        plan: &LogicalPlan,
        table: &str,
        key: usize,
        on_miss: &LookupMiss,
        schema: &Schema,
        pipeline: &str,
        ctx: &WorkerContext,
    ) -> Option<Lookup> {
        let Some(opened) = ctx.tables.get(table) else {
            ctx.fail(format!(
                "pipeline `{pipeline}`: table `{table}` is not open"
            ));
            return None;
        };
        let width = plan
            .table(table)
            .map_or(0, |t| t.schema.len().saturating_sub(1));
        debug_assert!(schema.len() >= width);
        let miss = match on_miss {
            LookupMiss::KeepNull => Miss::KeepNull,
            LookupMiss::Drop => Miss::Drop,
            LookupMiss::ToSink(sink) => {
                let (Some(index), Some(writer)) = (
                    plan.sinks.iter().position(|s| &s.name == sink),
                    ctx.sinks.get(sink),
                ) else {
                    ctx.fail(format!("pipeline `{pipeline}`: sink `{sink}` is not open"));
                    return None;
                };
                Miss::ToSink {
                    writer: Arc::clone(writer),
                    index,
                    name: sink.clone(),
                }
            }
        };
        Some(Lookup {
            table: Arc::clone(opened),
            table_name: table.to_string(),
            key,
            width,
            miss,
            name: format!("Lookup({pipeline}, {table})"),
        })
    }
}

/// Appends `lookup.table`'s fields to every record of `stream`.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    lookup: Lookup,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let name = lookup.name.clone();
    stream.unary(Pipeline, &name, move |_cap, _info| {
        let mut missed: Vec<Event> = Vec::new();
        let mut failed = false;
        move |input, output| {
            input.for_each_stamp(|cap, containers| {
                let mut session = output.session(&cap);
                for container in containers {
                    // One snapshot per batch: a refresh never splits a batch.
                    let rows = lookup.table.rows();
                    let mut kept = Vec::with_capacity(container.len());
                    for mut event in container.drain(..) {
                        let key = &event.record[lookup.key];
                        match rows.get(key).filter(|_| !key.is_null()) {
                            Some(values) => {
                                event.record.extend(values.iter().cloned());
                                kept.push(event);
                            }
                            None => match &lookup.miss {
                                Miss::KeepNull => {
                                    let width = event.record.len() + lookup.width;
                                    event.record.resize(width, Value::Null);
                                    kept.push(event);
                                }
                                Miss::Drop => {}
                                Miss::ToSink { .. } => missed.push(event),
                            },
                        }
                    }
                    if let Miss::ToSink {
                        writer,
                        index,
                        name,
                    } = &lookup.miss
                    {
                        if !missed.is_empty() && !failed {
                            match writer.write(&missed) {
                                Ok(()) => {
                                    ctx.metrics.sink_records[*index]
                                        .fetch_add(missed.len() as u64, Ordering::Relaxed);
                                }
                                Err(e) => {
                                    failed = true;
                                    ctx.fail(format!(
                                        "sink `{name}` (misses of table `{}`): {e}",
                                        lookup.table_name
                                    ));
                                }
                            }
                        }
                        missed.clear();
                    }
                    if !kept.is_empty() {
                        session.give_container(&mut kept);
                    }
                }
            });
        }
    })
}
