//! Turns a logical plan into one timely dataflow on a worker.

use std::collections::HashMap;
use std::sync::Arc;

use timely::dataflow::Scope;

use crate::io::{SinkWriter, SourceReader};
use crate::ops::{self, EventStream};
use crate::plan::{LogicalPlan, PipelineInput, Stage};
use crate::run::WorkerContext;
use crate::time::EventTime;

/// Builds the dataflow for `plan` in `scope`. `readers[i]` is this worker's share of
/// source `i` (None if it is not read by any pipeline or could not be opened).
pub fn build_dataflow<'scope>(
    scope: Scope<'scope, EventTime>,
    plan: &LogicalPlan,
    mut readers: Vec<Option<Box<dyn SourceReader>>>,
    ctx: &Arc<WorkerContext>,
) {
    let mut sources: HashMap<&str, EventStream<'scope>> = HashMap::new();
    for (index, node) in plan.sources.iter().enumerate() {
        let reader = readers.get_mut(index).and_then(Option::take);
        if reader.is_some() {
            let routes = error_routes(plan, &node.name, ctx);
            sources.insert(
                &node.name,
                ops::source::build(scope, node, index, reader, routes, Arc::clone(ctx)),
            );
        }
    }
    let mut outputs: HashMap<&str, EventStream<'scope>> = HashMap::new();
    for index in pipeline_order(plan) {
        let pipeline = &plan.pipelines[index];
        let input = match &pipeline.input {
            PipelineInput::Source(s) => sources.get(s.as_str()),
            PipelineInput::Pipeline(p) => outputs.get(p.as_str()),
        };
        let Some(mut stream) = input.cloned() else {
            continue;
        };
        let mut pending: Vec<&Stage> = Vec::new();
        let mut schema = &pipeline.input_schema;
        for stage in &pipeline.stages {
            let input_schema = schema;
            if let Some(s) = stage.output_schema() {
                schema = s;
            }
            match stage {
                Stage::Filter { .. } | Stage::Map { .. } | Stage::Select { .. } => {
                    pending.push(stage);
                    continue;
                }
                _ => {}
            }
            stream = flush_stateless(stream, &mut pending, &pipeline.name);
            match stage {
                Stage::KeyBy { .. } => {}
                Stage::Window {
                    keys,
                    window,
                    aggregates,
                    ..
                } => {
                    let late_sink = window.late_to.as_ref().and_then(|name| {
                        let at = plan.sinks.iter().position(|s| &s.name == name)?;
                        Some((at, Arc::clone(ctx.sinks.get(name)?)))
                    });
                    // Records of a retracting window upstream withdraw earlier ones.
                    let retraction = input_schema.fields.iter().position(|f| {
                        f.name == crate::retraction::RETRACTION_FIELD_NAME
                            && f.ty == crate::schema::Type::Bool
                    });
                    stream = ops::window_agg::build(
                        stream,
                        keys,
                        window,
                        aggregates,
                        ops::window_agg::Placement {
                            pipeline: index,
                            late_sink,
                            retraction,
                            per_key: per_key_clock(plan, &pipeline.input),
                        },
                        Arc::clone(ctx),
                    );
                }
                Stage::Detect {
                    keys,
                    field,
                    detector,
                    warmup,
                    ..
                } => {
                    stream = ops::detect::build(stream, keys, *field, detector, *warmup);
                }
                Stage::Forecast {
                    keys,
                    field,
                    params,
                    ..
                } => {
                    stream = ops::forecast::build(stream, keys, *field, params);
                }
                Stage::Alert { spec, .. } => {
                    stream = ops::alert::build(stream, spec, Arc::clone(ctx));
                }
                Stage::Infer {
                    model,
                    inputs,
                    outputs,
                    ..
                } => {
                    if let Some(stage) = ops::infer::InferStage::resolve(
                        plan,
                        model,
                        inputs,
                        outputs,
                        &pipeline.name,
                        ctx,
                    ) {
                        stream = ops::infer::build(stream, stage, Arc::clone(ctx));
                    }
                }
                Stage::Sink { sink } => {
                    if let (Some(sink_index), Some(writer)) = (
                        plan.sinks.iter().position(|s| &s.name == sink),
                        ctx.sinks.get(sink),
                    ) {
                        // Records the sink cannot deliver go where this pipeline's
                        // unreadable records go.
                        let route = pipeline.error_to.as_ref().and_then(|name| {
                            let at = plan.sinks.iter().position(|s| &s.name == name)?;
                            Some((at, Arc::clone(ctx.sinks.get(name)?)))
                        });
                        stream = ops::sink::build(
                            stream,
                            Arc::clone(writer),
                            sink_index,
                            sink,
                            route,
                            Arc::clone(ctx),
                        );
                    }
                }
                Stage::Lookup {
                    table,
                    key,
                    on_miss,
                    schema,
                } => {
                    if let Some(lookup) = ops::lookup::Lookup::resolve(
                        plan,
                        table,
                        *key,
                        on_miss,
                        schema,
                        &pipeline.name,
                        ctx,
                    ) {
                        stream = ops::lookup::build(stream, lookup, Arc::clone(ctx));
                    }
                }
                Stage::Join { join, .. } => {
                    let right = match &join.right {
                        PipelineInput::Source(s) => sources.get(s.as_str()),
                        PipelineInput::Pipeline(p) => outputs.get(p.as_str()),
                    };
                    // Every source a join reads is opened (see `run`), and pipelines are
                    // built after what they read, so the input exists; if it does not, the
                    // run fails rather than join with nothing.
                    let Some(right) = right.cloned() else {
                        ctx.fail(format!(
                            "pipeline `{}`: the joined input is not available",
                            pipeline.name
                        ));
                        continue;
                    };
                    stream = ops::join::build(stream, right, join, index, Arc::clone(ctx));
                }
                Stage::Filter { .. } | Stage::Map { .. } | Stage::Select { .. } => {}
            }
        }
        stream = flush_stateless(stream, &mut pending, &pipeline.name);
        outputs.insert(&pipeline.name, stream);
    }
}

fn flush_stateless<'scope>(
    stream: EventStream<'scope>,
    pending: &mut Vec<&Stage>,
    name: &str,
) -> EventStream<'scope> {
    if pending.is_empty() {
        return stream;
    }
    let chain = ops::stateless::Chain::compile(pending);
    pending.clear();
    ops::stateless::build(stream, chain, &format!("Stateless({name})"))
}

/// The `on error to` sinks of the pipelines reading `source`, each once (several
/// pipelines may read one source and name the same sink), as (sink index, writer).
fn error_routes(
    plan: &LogicalPlan,
    source: &str,
    ctx: &WorkerContext,
) -> Vec<(usize, Arc<dyn SinkWriter>)> {
    let mut routes: Vec<(usize, Arc<dyn SinkWriter>)> = Vec::new();
    for pipeline in &plan.pipelines {
        if !matches!(&pipeline.input, PipelineInput::Source(s) if s == source) {
            continue;
        }
        let Some(name) = &pipeline.error_to else {
            continue;
        };
        let (Some(at), Some(writer)) = (
            plan.sinks.iter().position(|s| &s.name == name),
            ctx.sinks.get(name),
        ) else {
            continue;
        };
        if routes.iter().all(|(i, _)| *i != at) {
            routes.push((at, Arc::clone(writer)));
        }
    }
    routes
}

/// The per-key watermark settings for a window reading straight from a `per key` source.
fn per_key_clock(plan: &LogicalPlan, input: &PipelineInput) -> Option<ops::window_agg::PerKey> {
    let PipelineInput::Source(name) = input else {
        return None;
    };
    let source = plan.source(name)?;
    (source.watermark.per_key && source.event_time.is_some()).then_some(ops::window_agg::PerKey {
        bound: source.watermark.bounded_ms.max(0),
        idle: source.watermark.idle_ms,
    })
}

/// Pipelines in an order where every pipeline comes after the pipelines it reads from
/// (its `from` and the inputs of its joins).
/// The checker rejects cycles; any left over are skipped.
pub fn pipeline_order(plan: &LogicalPlan) -> Vec<usize> {
    let mut order = Vec::new();
    let mut placed = vec![false; plan.pipelines.len()];
    loop {
        let before = order.len();
        for (i, p) in plan.pipelines.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let ready = p.inputs().all(|input| match input {
                PipelineInput::Source(_) => true,
                PipelineInput::Pipeline(name) => plan
                    .pipelines
                    .iter()
                    .position(|q| &q.name == name)
                    .is_some_and(|j| placed[j]),
            });
            if ready {
                placed[i] = true;
                order.push(i);
            }
        }
        if order.len() == before {
            return order;
        }
    }
}
