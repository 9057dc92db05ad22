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
use crate::schema::Schema;
use crate::value::Value;
use crate::worker::WorkerContext;

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
                // Missed records go out as they came in: without the table's fields.
                let input =
                    Schema::new(schema.fields[..schema.len().saturating_sub(width)].to_vec());
                let (Some(index), Some(writer)) = (
                    plan.sinks.iter().position(|s| &s.name == sink),
                    ctx.sinks.get(sink, &input),
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
                                    // Reported, not routed: no pipeline owns this write.
                                    super::sink::hand_back(writer.as_ref(), *index, None, &ctx);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::clock::WallClock;
    use crate::io::TableRows;
    use crate::metrics::Metrics;
    use crate::plan::{
        ConnectorCall, LogicalPlan, LookupMiss, PipelineInput, PipelineNode, SinkNode, SourceNode,
        Stage, TableNode, TableRefresh, WatermarkSpec,
    };
    use crate::run::{run, RunOptions};
    use crate::schema::{Field, Schema, Type};
    use crate::stop::StopHandle;
    use crate::testing::MemoryConnectors;
    use crate::value::{Record, Value};

    fn call(kind: &str) -> ConnectorCall {
        ConnectorCall {
            kind: kind.into(),
            args: vec![],
            options: vec![],
        }
    }

    /// `in {k: i64?, ts}` | lookup t on k `on_miss` | to out; misses to `misses`.
    fn plan(on_miss: LookupMiss) -> LogicalPlan {
        let input = Schema::new(vec![
            Field::nullable("k", Type::Int),
            Field::new("ts", Type::Timestamp),
        ]);
        let nullable = on_miss == LookupMiss::KeepNull;
        let mut output = input.clone();
        output.fields.push(Field {
            name: "name".into(),
            ty: Type::String,
            nullable,
        });
        LogicalPlan {
            sources: vec![SourceNode {
                name: "in".into(),
                connector: call("memory"),
                schema: input.clone(),
                event_time: Some(1),
                overload: Default::default(),
                watermark: WatermarkSpec::default(),
            }],
            sinks: vec![
                SinkNode {
                    name: "out".into(),
                    connector: call("memory"),
                },
                SinkNode {
                    name: "misses".into(),
                    connector: call("memory"),
                },
            ],
            pipelines: vec![PipelineNode {
                error_to: None,
                name: "p".into(),
                input: PipelineInput::Source("in".into()),
                input_schema: input,
                stages: vec![
                    Stage::Lookup {
                        table: "t".into(),
                        key: 0,
                        on_miss,
                        schema: output,
                    },
                    Stage::Sink { sink: "out".into() },
                ],
            }],
            tables: vec![TableNode {
                name: "t".into(),
                connector: call("memory"),
                schema: Schema::new(vec![
                    Field::new("k", Type::Int),
                    Field::new("name", Type::String),
                ]),
                key: 0,
                refresh: TableRefresh::Never,
            }],
            tests: Vec::new(),
            models: Vec::new(),
            checkpoint: None,
        }
    }

    fn input() -> Vec<Record> {
        (0..1000)
            .map(|i| {
                let k = if i % 10 == 9 {
                    Value::Null
                } else {
                    Value::Int(i % 4)
                };
                vec![k, Value::Time(i)]
            })
            .collect()
    }

    fn table() -> TableRows {
        let mut rows = TableRows::default();
        rows.insert(Value::Int(1), vec![Value::str("one")]);
        rows.insert(Value::Int(2), vec![Value::str("two")]);
        rows
    }

    /// (records at `out`, records at `misses`), sorted by time.
    fn run_plan(on_miss: LookupMiss, workers: usize) -> (Vec<Record>, Vec<Record>) {
        let plan = Arc::new(plan(on_miss));
        let connectors = Arc::new(
            MemoryConnectors::new(7)
                .with_source("in", input())
                .with_table("t", table()),
        );
        let options = RunOptions {
            workers,
            stop: Arc::new(StopHandle::new()),
            clock: Arc::new(WallClock),
            on_bad_record: Arc::new(|_| {}),
            limit: None,
            clock_waiters: Default::default(),
            checkpoint: None,
        };
        let metrics = Arc::new(Metrics::new(&plan, workers));
        let summary = run(plan, connectors.clone(), options, metrics).expect("runs");
        let sorted = |name: &str| {
            let mut r: Vec<Record> = connectors
                .collected(name)
                .into_iter()
                .map(|e| e.record)
                .collect();
            r.sort_by(|a, b| a[1].total_cmp(&b[1]));
            r
        };
        let (out, misses) = (sorted("out"), sorted("misses"));
        assert_eq!(summary.records_out as usize, out.len() + misses.len());
        (out, misses)
    }

    fn expected(i: i64) -> Option<Value> {
        match (i % 10 == 9, i % 4) {
            (true, _) => None,
            (false, 1) => Some(Value::str("one")),
            (false, 2) => Some(Value::str("two")),
            _ => None,
        }
    }

    #[test]
    fn misses_keep_nulls_drop_or_go_to_a_sink_on_1_and_4_workers() {
        for workers in [1, 4] {
            let (out, misses) = run_plan(LookupMiss::KeepNull, workers);
            assert_eq!(out.len(), 1000);
            assert!(misses.is_empty());
            for (i, r) in out.iter().enumerate() {
                assert_eq!(r[2], expected(i as i64).unwrap_or(Value::Null), "{r:?}");
            }

            let hits: Vec<Record> = input()
                .into_iter()
                .enumerate()
                .filter_map(|(i, mut r)| {
                    r.push(expected(i as i64)?);
                    Some(r)
                })
                .collect();
            let (out, misses) = run_plan(LookupMiss::Drop, workers);
            assert_eq!(out, hits);
            assert!(misses.is_empty());

            let (out, misses) = run_plan(LookupMiss::ToSink("misses".into()), workers);
            assert_eq!(out, hits);
            assert_eq!(misses.len(), 1000 - hits.len());
            // Null keys miss too; misses leave as they came in.
            assert!(misses.iter().all(|r| r.len() == 2));
            assert!(misses.iter().any(|r| r[0].is_null()));
        }
    }
}
