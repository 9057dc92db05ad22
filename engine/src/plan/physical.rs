//! The physical plan: the operators every worker runs for a logical plan, with the places
//! where records change workers made explicit as [`Exchange`] nodes and consecutive
//! stateless stages fused into one operator.
//!
//! [`PhysicalPlan::from_logical`] lowers each stage to one operator, puts an exchange in
//! front of every keyed stage, and then applies the physical rules of
//! [`optimize`](super::optimize) (combiner lifting, fusion). `build` turns it into a timely dataflow;
//! `weir explain --physical` prints it.

use serde::Serialize;

use super::logical::{LogicalPlan, PipelineInput, PipelineNode, Stage};
use super::optimize;
use crate::schema::Schema;

/// The operators of every pipeline, in the order they are built.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhysicalPlan {
    /// Pipelines in build order: each after the pipelines it reads.
    pub pipelines: Vec<PhysicalPipeline>,
    /// How records are laid out in the batches between operators.
    pub layout: BatchLayout,
}

/// One pipeline's chain of operators.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhysicalPipeline {
    /// Pipeline name.
    pub name: String,
    /// Index of the pipeline in the logical plan.
    pub index: usize,
    /// What it reads.
    pub input: PipelineInput,
    /// Operators, upstream first.
    pub operators: Vec<Operator>,
}

/// One timely operator (or, for an exchange, one change of workers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Operator {
    /// Stateless stages (`where`, `map`, `select`, `unnest`) run as one operator, in
    /// place on each batch (`unnest` makes a batch of its rows); `stages` index the
    /// logical pipeline's stages.
    Fused {
        /// Stage indices, in order.
        stages: Vec<usize>,
    },
    /// Records move to the worker their key hashes to.
    Exchange(Exchange),
    /// Partial aggregation before the exchange of window `stage` (combiner lifting):
    /// per batch, the records of one key and one set of windows become one record that
    /// carries their min/max of each aggregated field.
    Combine {
        /// The window's stage index.
        stage: usize,
    },
    /// One logical stage as its own operator, on the worker the record is on.
    Stage {
        /// Stage index.
        stage: usize,
    },
}

/// Where an exchange moves records: the stream of the pipeline, or the input a `join`
/// reads beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ExchangeInput {
    /// The pipeline's own stream.
    Stream,
    /// The joined input of the `join` that follows.
    Joined(PipelineInput),
}

/// A change of workers: every record goes to the worker its key routes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// Which stream is exchanged.
    pub input: ExchangeInput,
    /// Key slots (in the exchanged stream's schema).
    pub keys: Vec<usize>,
    /// Key field names, for display.
    pub names: Vec<String>,
    /// How a key picks a worker.
    pub route: Route,
}

impl Exchange {
    /// An exchange of `input` by `keys` of `schema`.
    pub fn by_keys(input: ExchangeInput, keys: &[usize], schema: &Schema) -> Exchange {
        let names = keys
            .iter()
            .map(|&k| schema.fields.get(k).map_or("?", |f| &f.name).to_string())
            .collect();
        Exchange {
            input,
            keys: keys.to_vec(),
            names,
            route: if keys.is_empty() {
                Route::Single
            } else {
                Route::KeyHash
            },
        }
    }

    /// How many workers receive records: all of them, or one for a global (keyless) stage.
    pub fn parallelism(&self) -> Parallelism {
        match self.route {
            Route::KeyHash => Parallelism::AllWorkers,
            Route::Single => Parallelism::One,
        }
    }
}

/// How a record's key picks its worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Route {
    /// FxHash of the key fields modulo the workers: the same in every process.
    KeyHash,
    /// No key: every record goes to one worker (a global window or model).
    Single,
}

/// How many workers an exchange feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Parallelism {
    /// Every worker of the run, in every process.
    AllWorkers,
    /// One worker.
    One,
}

/// The record layout of the batches operators hand each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BatchLayout {
    /// A timely container `Vec<Event>`; an event is its time and a row of values
    /// (`Vec<Value>`, strings shared behind reference counts).
    Rows,
}

/// The key a stage's state is partitioned by, if it keeps per-key state: the exchange
/// in front of it routes by these slots. A new keyed stage is one arm here.
pub fn partition_keys(stage: &Stage) -> Option<&[usize]> {
    match stage {
        Stage::Window { keys, .. }
        | Stage::Detect { keys, .. }
        | Stage::Forecast { keys, .. }
        | Stage::Dedupe { keys, .. } => Some(keys),
        Stage::Alert { spec, .. } => Some(&spec.keys),
        Stage::AlertGroup { spec, .. } => Some(&spec.by),
        _ => None,
    }
}

/// Whether a stage is stateless and may run fused with its neighbours.
pub fn is_stateless(stage: &Stage) -> bool {
    matches!(
        stage,
        Stage::Filter { .. } | Stage::Map { .. } | Stage::Select { .. } | Stage::Unnest { .. }
    )
}

impl PhysicalPlan {
    /// Lowers `plan` and applies the physical rules.
    pub fn from_logical(logical: &LogicalPlan) -> PhysicalPlan {
        let pipelines = pipeline_order(logical)
            .into_iter()
            .map(|index| lower_pipeline(logical, index))
            .collect();
        let plan = PhysicalPlan {
            pipelines,
            layout: BatchLayout::Rows,
        };
        optimize::physical(plan, logical)
    }
}

/// One operator per stage, an exchange before each keyed stage and on both sides of a
/// join; `key by` is an annotation only (the keyed stage carries its keys).
fn lower_pipeline(plan: &LogicalPlan, index: usize) -> PhysicalPipeline {
    let pipeline = &plan.pipelines[index];
    let mut operators = Vec::new();
    for (at, stage, schema) in stages_with_input_schema(pipeline) {
        if is_stateless(stage) {
            operators.push(Operator::Fused { stages: vec![at] });
            continue;
        }
        if let Some(keys) = partition_keys(stage) {
            operators.push(Operator::Exchange(Exchange::by_keys(
                ExchangeInput::Stream,
                keys,
                schema,
            )));
        }
        match stage {
            Stage::KeyBy { .. } => continue,
            Stage::Join { join, .. } => {
                operators.push(Operator::Exchange(Exchange::by_keys(
                    ExchangeInput::Stream,
                    &join.left_keys,
                    schema,
                )));
                let right_schema = input_schema(plan, &join.right);
                operators.push(Operator::Exchange(Exchange::by_keys(
                    ExchangeInput::Joined(join.right.clone()),
                    &join.right_keys,
                    right_schema.unwrap_or(schema),
                )));
            }
            _ => {}
        }
        operators.push(Operator::Stage { stage: at });
    }
    PhysicalPipeline {
        name: pipeline.name.clone(),
        index,
        input: pipeline.input.clone(),
        operators,
    }
}

/// Each stage with its index and the schema of the records it reads.
fn stages_with_input_schema(
    pipeline: &PipelineNode,
) -> impl Iterator<Item = (usize, &Stage, &Schema)> {
    let mut schema = &pipeline.input_schema;
    pipeline.stages.iter().enumerate().map(move |(at, stage)| {
        let input = schema;
        if let Some(s) = stage.output_schema() {
            schema = s;
        }
        (at, stage, input)
    })
}

/// The schema of what `input` produces.
fn input_schema<'a>(plan: &'a LogicalPlan, input: &PipelineInput) -> Option<&'a Schema> {
    match input {
        PipelineInput::Source(s) => plan.source(s).map(|s| &s.schema),
        PipelineInput::Pipeline(p) => plan.pipeline(p).map(|p| p.output_schema()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::{self, greater, source_schema};

    #[test]
    fn a_keyed_window_gets_an_exchange_and_stateless_stages_fuse() {
        let schema = source_schema();
        let plan = sample::plan(vec![
            Stage::Filter {
                predicate: greater(1, 0.0),
            },
            Stage::Filter {
                predicate: greater(1, 1.0),
            },
            Stage::KeyBy {
                keys: vec![0],
                names: vec!["device".into()],
            },
            sample::window(&schema),
            Stage::Sink { sink: "out".into() },
        ]);
        let physical = PhysicalPlan::from_logical(&plan);
        assert_eq!(
            physical.pipelines[0].operators,
            vec![
                Operator::Fused { stages: vec![0, 1] },
                Operator::Exchange(Exchange {
                    input: ExchangeInput::Stream,
                    keys: vec![0],
                    names: vec!["device".into()],
                    route: Route::KeyHash,
                }),
                Operator::Stage { stage: 3 },
                Operator::Stage { stage: 4 },
            ]
        );
        let text = physical.explain(&plan);
        assert!(
            text.contains("  fused Stateless(p) [2 stages]\n    filter"),
            "{text}"
        );
        assert!(
            text.contains("  exchange by key hash(device@0) -> all workers\n  window"),
            "{text}"
        );
    }

    #[test]
    fn an_unnest_fuses_with_its_stateless_neighbours_and_needs_no_exchange() {
        use crate::plan::UnnestSpec;
        use crate::schema::{Field, ItemType, Type};
        let mut schema = source_schema();
        schema
            .fields
            .push(Field::new("xs", Type::List(ItemType::Float)));
        schema
            .fields
            .push(Field::new("xs.site", Type::List(ItemType::String)));
        let spec = UnnestSpec::new(&schema, 4, "x", Some("rank"));
        let unnest = Stage::unnest(spec, &schema);
        let mut plan = sample::plan(vec![
            Stage::Filter {
                predicate: greater(1, 0.0),
            },
            unnest,
            Stage::Filter {
                predicate: greater(4, 1.0),
            },
            Stage::Sink { sink: "out".into() },
        ]);
        plan.pipelines[0].input_schema = schema;
        let physical = PhysicalPlan::from_logical(&plan);
        assert_eq!(
            physical.pipelines[0].operators,
            vec![
                Operator::Fused {
                    stages: vec![0, 1, 2]
                },
                Operator::Stage { stage: 3 },
            ]
        );
        let text = physical.explain(&plan);
        assert!(
            text.contains("    unnest list@4 as x@4 with x.site@5, ordinality rank@6 (a record per element, none for an empty list)\n      -> {device: string, reading: f64, ts: timestamp, site: string, x: f64, x.site: string?, rank: i64}"),
            "{text}"
        );
    }

    #[test]
    fn a_global_window_goes_to_one_worker() {
        let mut window = sample::window(&source_schema());
        if let Stage::Window { keys, .. } = &mut window {
            keys.clear();
        }
        let physical = PhysicalPlan::from_logical(&sample::plan(vec![window]));
        let Operator::Exchange(exchange) = &physical.pipelines[0].operators[0] else {
            panic!("no exchange: {physical:?}");
        };
        assert_eq!(exchange.route, Route::Single);
        assert_eq!(exchange.parallelism(), Parallelism::One);
    }
}
