//! Turns a physical plan into one timely dataflow on a worker: an operator per physical
//! node, sources first, each pipeline after the pipelines it reads.

use std::collections::HashMap;
use std::sync::Arc;

use timely::dataflow::Scope;

use crate::checkpoint::stamp::Stamp;
use crate::io::{SinkWriter, SourceReader};
use crate::ops::flow::Gate;
use crate::ops::{self, EventStream};
use crate::plan::optimize;
use crate::plan::physical::{ExchangeInput, Operator, PhysicalPlan};
use crate::plan::{LogicalPlan, PipelineInput, PipelineNode, Stage};
use crate::schema::Schema;
use crate::worker::WorkerContext;

pub use crate::plan::physical::pipeline_order;

/// Builds the dataflow for `plan` in `scope`, after the logical rules of
/// [`optimize`](crate::plan::optimize) (which keep what every sink receives).
/// `readers[i]` is this worker's share of source `i` (None if it is not read by any
/// pipeline or could not be opened).
pub fn build_dataflow<'scope>(
    scope: Scope<'scope, Stamp>,
    plan: &LogicalPlan,
    readers: Vec<Option<Box<dyn SourceReader>>>,
    ctx: &Arc<WorkerContext>,
) {
    let logical = optimize::logical(plan.clone());
    let physical = PhysicalPlan::from_logical(&logical);
    build_physical(scope, &logical, &physical, readers, ctx);
}

/// The streams built so far: each source's and each pipeline's output.
#[derive(Default)]
struct Streams<'scope, 'plan> {
    sources: HashMap<&'plan str, EventStream<'scope>>,
    pipelines: HashMap<&'plan str, EventStream<'scope>>,
    /// Each source's flow-control gate (see [`ops::flow`]).
    gates: HashMap<&'plan str, Gate>,
}

impl<'scope> Streams<'scope, '_> {
    fn get(&self, input: &PipelineInput) -> Option<EventStream<'scope>> {
        match input {
            PipelineInput::Source(s) => self.sources.get(s.as_str()),
            PipelineInput::Pipeline(p) => self.pipelines.get(p.as_str()),
        }
        .cloned()
    }

    /// The gate that exchanges on `input` report to: a source's, as nothing stateful
    /// lies between them; none for a pipeline's output.
    fn gate(&self, input: &PipelineInput) -> Option<Gate> {
        match input {
            PipelineInput::Source(s) => self.gates.get(s.as_str()).cloned(),
            PipelineInput::Pipeline(_) => None,
        }
    }
}

/// Builds the operators of `physical`, the physical plan of `plan`, in its order.
pub fn build_physical<'scope>(
    scope: Scope<'scope, Stamp>,
    plan: &LogicalPlan,
    physical: &PhysicalPlan,
    mut readers: Vec<Option<Box<dyn SourceReader>>>,
    ctx: &Arc<WorkerContext>,
) {
    let mut streams = Streams::default();
    for (index, node) in plan.sources.iter().enumerate() {
        let reader = readers.get_mut(index).and_then(Option::take);
        if reader.is_some() {
            let routes = error_routes(plan, &node.name, ctx);
            let gate = Gate::default();
            let ctx = Arc::clone(ctx);
            let stream = ops::source::build(scope, node, index, reader, routes, gate.clone(), ctx);
            streams.sources.insert(&node.name, stream);
            streams.gates.insert(&node.name, gate);
        }
    }
    for physical in &physical.pipelines {
        let pipeline = &plan.pipelines[physical.index];
        let Some(mut stream) = streams.get(&pipeline.input) else {
            continue;
        };
        let schemas = input_schemas(pipeline);
        let mut joined: Option<EventStream<'scope>> = None;
        // Exchanges pace the source until a stateful stage comes between them.
        let mut paced = streams.gate(&pipeline.input);
        let meters = &ctx.metrics.operators;
        // The operator the pipeline's stream last left (for its records-out counter).
        let mut from: Option<usize> = None;
        for (at, op) in physical.operators.iter().enumerate() {
            let me = meters.index(&pipeline.name, at);
            if let Operator::Exchange(exchange) = op {
                if let ExchangeInput::Joined(input) = &exchange.input {
                    // The joined input's exchange sits beside the stream, not on it.
                    let join = (at + 1..physical.operators.len())
                        .find(|&j| is_join(&physical.operators[j], pipeline))
                        .and_then(|j| meters.index(&pipeline.name, j));
                    let slot = streams.gate(input).as_ref().map(Gate::slot);
                    joined = streams.get(input).map(|s| {
                        let s = ops::meter::build(s, edge(None, me), ctx);
                        let s = ops::exchange::build(s, exchange, slot);
                        ops::meter::build(s, edge(me, join), ctx)
                    });
                    continue;
                }
            }
            stream = ops::meter::build(stream, edge(from, me), ctx);
            from = me;
            stream = match op {
                Operator::Fused { stages } => {
                    let stages: Vec<&Stage> = stages.iter().map(|&i| &pipeline.stages[i]).collect();
                    let chain = ops::stateless::Chain::compile(&stages);
                    ops::stateless::build(stream, chain, &format!("Stateless({})", pipeline.name))
                }
                Operator::Exchange(exchange) => {
                    ops::exchange::build(stream, exchange, paced.as_ref().map(Gate::slot))
                }
                Operator::Combine { stage } => match &pipeline.stages[*stage] {
                    Stage::Window {
                        keys,
                        window,
                        aggregates,
                        ..
                    } => ops::combine::build(stream, keys, &window.kind, aggregates),
                    _ => stream,
                },
                Operator::Stage { stage } => {
                    paced = None;
                    let site = Site {
                        plan,
                        pipeline,
                        index: physical.index,
                        input_schema: schemas[*stage],
                        ctx,
                        operator: me,
                    };
                    site.build(stream, &pipeline.stages[*stage], &mut joined)
                }
            };
        }
        stream = ops::meter::build(stream, edge(from, None), ctx);
        streams.pipelines.insert(&pipeline.name, stream);
    }
}

/// The slot of `schema`'s `pane.retraction` field: the records of a retracting window
/// upstream withdraw earlier ones.
fn retraction_slot(schema: &Schema) -> Option<usize> {
    schema.fields.iter().position(|f| {
        f.name == crate::retraction::RETRACTION_FIELD_NAME && f.ty == crate::schema::Type::Bool
    })
}

/// The counters an edge between operators `from` and `into` feeds.
fn edge(from: Option<usize>, into: Option<usize>) -> ops::meter::Edge {
    ops::meter::Edge {
        from,
        into: into.into_iter().collect(),
    }
}

/// Whether `op` is the `join` stage of `pipeline`.
fn is_join(op: &Operator, pipeline: &PipelineNode) -> bool {
    matches!(op, Operator::Stage { stage } if matches!(pipeline.stages.get(*stage), Some(Stage::Join { .. })))
}

/// The schema each stage of `pipeline` reads.
fn input_schemas(pipeline: &PipelineNode) -> Vec<&Schema> {
    let mut schema = &pipeline.input_schema;
    let mut out = Vec::with_capacity(pipeline.stages.len());
    for stage in &pipeline.stages {
        out.push(schema);
        if let Some(s) = stage.output_schema() {
            schema = s;
        }
    }
    out
}

/// Where a stage is built: its plan, pipeline and input schema, and the worker.
struct Site<'a> {
    plan: &'a LogicalPlan,
    pipeline: &'a PipelineNode,
    index: usize,
    input_schema: &'a Schema,
    ctx: &'a Arc<WorkerContext>,
    /// The stage's operator index in the per-operator metrics.
    operator: Option<usize>,
}

impl Site<'_> {
    /// The sink `name` of the plan with its index and its writer for records of
    /// `shape`, if it is open.
    fn sink(&self, name: &str, shape: &Schema) -> Option<(usize, Arc<dyn SinkWriter>)> {
        let at = self.plan.sinks.iter().position(|s| s.name == name)?;
        Some((at, Arc::clone(self.ctx.sinks.get(name, shape)?)))
    }

    /// The window operator of a `window … aggregate …` stage.
    fn window<'scope>(
        &self,
        stream: EventStream<'scope>,
        keys: &[usize],
        window: &crate::plan::WindowSpec,
        aggregates: &[crate::plan::Aggregate],
    ) -> EventStream<'scope> {
        if let crate::plan::WindowKind::Count { size, every } = window.kind {
            return ops::count_window::build(
                stream,
                keys,
                size,
                every,
                aggregates,
                self.operator,
                Arc::clone(self.ctx),
            );
        }
        if window.processing_time {
            let placement = ops::processing_window::Placement {
                retraction: retraction_slot(self.input_schema),
                operator: self.operator,
            };
            let ctx = Arc::clone(self.ctx);
            return ops::processing_window::build(
                stream,
                keys,
                &window.kind,
                aggregates,
                placement,
                ctx,
            );
        }
        let late_shape = crate::plan::WindowSpec::late_schema(self.input_schema);
        let late_sink = window
            .late_to
            .as_ref()
            .and_then(|s| self.sink(s, &late_shape));
        // Records of a retracting window upstream withdraw earlier ones.
        let retraction = retraction_slot(self.input_schema);
        let retracted_time = retraction.and_then(|_| {
            self.input_schema
                .fields
                .iter()
                .position(|f| f.name == "pane.timestamp" && f.ty == crate::schema::Type::Timestamp)
        });
        let placement = ops::window_agg::Placement {
            pipeline: self.index,
            late_sink,
            retraction,
            retracted_time,
            per_key: per_key_clock(self.plan, &self.pipeline.input),
            operator: self.operator,
        };
        let ctx = Arc::clone(self.ctx);
        ops::window_agg::build(stream, keys, window, aggregates, placement, ctx)
    }

    /// Builds one (non-fused) stage on `stream`; `joined` is the exchanged right input
    /// of a `join`.
    fn build<'scope>(
        &self,
        stream: EventStream<'scope>,
        stage: &Stage,
        joined: &mut Option<EventStream<'scope>>,
    ) -> EventStream<'scope> {
        let (plan, ctx, name) = (self.plan, self.ctx, &self.pipeline.name);
        match stage {
            Stage::Window {
                keys,
                window,
                aggregates,
                ..
            } => self.window(stream, keys, window, aggregates),
            Stage::Detect {
                keys,
                field,
                detector,
                warmup,
                ..
            } => {
                let ctx = Arc::clone(ctx);
                ops::detect::build(stream, keys, *field, detector, *warmup, self.operator, ctx)
            }
            Stage::Forecast {
                keys,
                field,
                params,
                ..
            } => ops::forecast::build(stream, keys, *field, params, self.operator, Arc::clone(ctx)),
            Stage::Dedupe {
                keys, within_ms, ..
            } => ops::dedupe::build(stream, keys, *within_ms, self.operator, Arc::clone(ctx)),
            Stage::Alert { spec, .. } => {
                ops::alert::build(stream, spec, self.index, self.operator, Arc::clone(ctx))
            }
            Stage::AlertGroup { spec, .. } => {
                ops::alert_group::build(stream, spec, self.operator, Arc::clone(ctx))
            }
            Stage::Infer {
                model,
                inputs,
                outputs,
                ..
            } => match ops::infer::InferStage::resolve(plan, model, inputs, outputs, name, ctx) {
                Some(stage) => ops::infer::build(stream, stage, Arc::clone(ctx)),
                None => stream,
            },
            Stage::Sink { sink } => match self.sink(sink, self.input_schema) {
                Some((sink_index, writer)) => {
                    // Records the sink cannot deliver go where this pipeline's
                    // unreadable records go.
                    let route = (self.pipeline.error_to.as_ref())
                        .and_then(|s| self.sink(s, &crate::plan::error_schema()));
                    let ctx = Arc::clone(ctx);
                    ops::sink::build(stream, writer, sink_index, sink, route, ctx)
                }
                None => stream,
            },
            Stage::Lookup {
                table,
                key,
                on_miss,
                schema,
            } => {
                match ops::lookup::Lookup::resolve(plan, table, *key, on_miss, schema, name, ctx) {
                    Some(lookup) => ops::lookup::build(stream, lookup, Arc::clone(ctx)),
                    None => stream,
                }
            }
            Stage::Join { join, .. } => {
                // Every source a join reads is opened (see `run`), and pipelines are built
                // after what they read, so the input exists; if it does not, the run fails
                // rather than join with nothing.
                let Some(right) = joined.take() else {
                    ctx.fail(format!(
                        "pipeline `{name}`: the joined input is not available"
                    ));
                    return stream;
                };
                ops::join::build(
                    stream,
                    right,
                    join,
                    self.index,
                    self.operator,
                    Arc::clone(ctx),
                )
            }
            // Fused, or an annotation: never an operator of its own.
            Stage::Filter { .. }
            | Stage::Map { .. }
            | Stage::Select { .. }
            | Stage::Unnest { .. }
            | Stage::KeyBy { .. } => stream,
        }
    }
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
            ctx.sinks.get(name, &crate::plan::error_schema()),
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
