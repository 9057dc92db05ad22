//! Nodes of the logical plan: sources, sinks and pipelines of stages.

use serde::{Deserialize, Serialize};

use super::expr::{Aggregate, Expr};
use super::join::JoinSpec;
use super::test_case::TestCase;
use super::window::WindowSpec;
use crate::ml::{DetectorSpec, ElemType, HoltWintersParams};
use crate::schema::{Field, ItemType, Schema, Type};

/// A whole program: its sources, sinks and pipelines, all names resolved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogicalPlan {
    /// Declared sources.
    pub sources: Vec<SourceNode>,
    /// Declared sinks.
    pub sinks: Vec<SinkNode>,
    /// Pipelines, in declaration order.
    pub pipelines: Vec<PipelineNode>,
    /// `test` blocks, run by `weir test` (never by `weir run`).
    #[serde(default)]
    pub tests: Vec<TestCase>,
    /// Reference tables read by `lookup` stages.
    #[serde(default)]
    pub tables: Vec<TableNode>,
    /// Models read by `infer` stages.
    #[serde(default)]
    pub models: Vec<ModelNode>,
    /// `checkpoint every … to "…"`, if the program asks for checkpoints.
    #[serde(default)]
    pub checkpoint: Option<CheckpointSpec>,
}

/// `checkpoint every 10s to "state/"`: how often a run takes checkpoints, and where it
/// keeps them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointSpec {
    /// The interval between checkpoints, in milliseconds (positive).
    pub every_ms: i64,
    /// The directory as written (not empty); the runtime resolves it against the
    /// directory the run starts in.
    pub dir: String,
}

impl LogicalPlan {
    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&SourceNode> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The sink called `name`.
    pub fn sink(&self, name: &str) -> Option<&SinkNode> {
        self.sinks.iter().find(|s| s.name == name)
    }

    /// The pipeline called `name`.
    pub fn pipeline(&self, name: &str) -> Option<&PipelineNode> {
        self.pipelines.iter().find(|p| p.name == name)
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&TableNode> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The model called `name`.
    pub fn model(&self, name: &str) -> Option<&ModelNode> {
        self.models.iter().find(|m| m.name == name)
    }
}

/// A model: `model power = onnx("power.onnx") { inputs { … } outputs { … } }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelNode {
    /// Model name.
    pub name: String,
    /// Model format (`onnx`).
    pub format: String,
    /// The model file, as written (the runtime resolves it).
    pub path: String,
    /// Declared inputs (graph input names) with their element types, in declared order.
    pub inputs: Vec<(String, ElemType)>,
    /// Declared outputs (graph output names) with their element types, in declared order.
    pub outputs: Vec<(String, ElemType)>,
}

/// A reference table: `table devices = csv("devices.csv") { key device_id … }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableNode {
    /// Table name.
    pub name: String,
    /// Where its rows come from.
    pub connector: ConnectorCall,
    /// All declared fields, the key included.
    pub schema: Schema,
    /// Slot of the key field in `schema`.
    pub key: usize,
    /// When the rows are read again.
    pub refresh: TableRefresh,
}

impl TableNode {
    /// The fields a `lookup` appends: every field but the key, in declaration order.
    pub fn value_fields(&self) -> impl Iterator<Item = &Field> {
        self.schema
            .fields
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != self.key)
            .map(|(_, f)| f)
    }
}

/// When a table's rows are read again while a run goes on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableRefresh {
    /// Read once, when the run starts.
    #[default]
    Never,
    /// `refresh on change`: read again when the source changes.
    OnChange,
    /// `refresh every <d>`: read again this often (ms).
    Every(i64),
}

/// What `lookup` does with a record whose key the table does not have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupMiss {
    /// `on miss keep null`: keep the record, with nulls for the table's fields.
    #[default]
    KeepNull,
    /// `on miss drop`: drop the record.
    Drop,
    /// `on miss to <sink>`: write the record, as it came in, to a sink; it goes no further.
    ToSink(String),
}

/// A connector call such as `file("in.jsonl", format: jsonl)`: positional arguments and
/// named options, validated by the runtime's connector catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorCall {
    /// Connector name (`sensors`, `file`, `stdout`, …).
    pub kind: String,
    /// Positional arguments.
    pub args: Vec<OptionValue>,
    /// Named options, in the order written.
    pub options: Vec<(String, OptionValue)>,
}

impl ConnectorCall {
    /// The named option `name`, if given.
    pub fn option(&self, name: &str) -> Option<&OptionValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A constant in a connector call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptionValue {
    /// `"text"`
    Str(String),
    /// `42` (also `10M`, `5k`: counts with a metric suffix)
    Int(i64),
    /// `0.5`
    Float(f64),
    /// `true` / `false`
    Bool(bool),
    /// `10s`, in milliseconds
    Duration(i64),
    /// A bare word such as `jsonl`
    Ident(String),
    /// `[a, b]`
    List(Vec<OptionValue>),
    /// `date(ts)`: a function of constants or field names, such as a partition key.
    Call {
        /// Function name.
        func: String,
        /// Arguments.
        args: Vec<OptionValue>,
    },
}

/// A source declaration with its schema and event-time strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceNode {
    /// Source name.
    pub name: String,
    /// How to read it.
    pub connector: ConnectorCall,
    /// Declared fields.
    pub schema: Schema,
    /// Slot of the event-time field (`event_time ts`); `None` means processing time.
    pub event_time: Option<usize>,
    /// How the watermark follows event time.
    pub watermark: WatermarkSpec,
    /// What the source does when the pipeline cannot keep up (`on overload …`).
    #[serde(default)]
    pub overload: OverloadPolicy,
}

/// What a live source does with input the pipeline cannot take now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverloadPolicy {
    /// Stop reading until the pipeline catches up; the upstream (an MQTT broker) keeps
    /// the input meanwhile.
    #[default]
    Backpressure,
    /// `on overload drop`: drop what cannot be taken now, counting it.
    Drop,
}

/// The watermark strategy of a source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WatermarkSpec {
    /// `bounded d`: the watermark is the largest event time seen minus `d` (ms).
    pub bounded_ms: i64,
    /// `idle d`: a silent source stops holding the watermark back after `d` (ms).
    pub idle_ms: Option<i64>,
    /// `per key`: each key has its own timeline.
    pub per_key: bool,
    /// `max_future d`: a record more than `d` (ms) ahead of processing time is refused (to
    /// the error route) instead of moving the watermark.
    #[serde(default)]
    pub max_future_ms: Option<i64>,
}

/// A sink declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SinkNode {
    /// Sink name.
    pub name: String,
    /// How to write it.
    pub connector: ConnectorCall,
}

/// Where a pipeline reads from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PipelineInput {
    /// A declared source.
    Source(String),
    /// The output of another pipeline.
    Pipeline(String),
}

/// A pipeline: an input and a chain of stages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineNode {
    /// Pipeline name.
    pub name: String,
    /// What it reads.
    pub input: PipelineInput,
    /// Schema of the input records.
    pub input_schema: Schema,
    /// Stages in order.
    pub stages: Vec<Stage>,
    /// `on error to <sink>`: the sink that receives the records its source could not
    /// read (see [`error_schema`](crate::plan::error_schema)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_to: Option<String>,
}

impl PipelineNode {
    /// Everything the pipeline reads: its `from` input, then the right input of each
    /// `join`, in stage order.
    pub fn inputs(&self) -> impl Iterator<Item = &PipelineInput> {
        std::iter::once(&self.input).chain(self.stages.iter().filter_map(|s| match s {
            Stage::Join { join, .. } => Some(&join.right),
            _ => None,
        }))
    }

    /// Schema of the records leaving the last stage.
    pub fn output_schema(&self) -> &Schema {
        let mut schema = &self.input_schema;
        for stage in &self.stages {
            if let Some(s) = stage.output_schema() {
                schema = s;
            }
        }
        schema
    }
}

/// One stage of a pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stage {
    /// `where <predicate>`: keep records where it is true (null counts as false).
    Filter {
        /// A `bool` expression.
        predicate: Expr,
    },
    /// `map f = e, …`: set slots in place (a slot equal to the input width appends).
    Map {
        /// (target slot, value) pairs, applied left to right on the input record.
        assignments: Vec<(usize, Expr)>,
        /// Output schema.
        schema: Schema,
    },
    /// `select a, b = e, …`: build a new record from expressions.
    Select {
        /// One expression per output field.
        exprs: Vec<Expr>,
        /// Output schema.
        schema: Schema,
    },
    /// `key by a, b`: following keyed stages partition by these slots.
    KeyBy {
        /// Key slots.
        keys: Vec<usize>,
        /// Key field names, for display.
        names: Vec<String>,
    },
    /// `window …` + `aggregate …`: event-time windows per key.
    Window {
        /// Key slots in the input schema (empty: one global group).
        keys: Vec<usize>,
        /// Window kind and clauses.
        window: WindowSpec,
        /// Aggregates computed per window and key.
        aggregates: Vec<Aggregate>,
        /// Output schema: keys, aggregates, then [`WINDOW_FIELDS`].
        schema: Schema,
    },
    /// `detect anomaly in <field> using <algo>(…) [warmup n events] as <name>`: one streaming
    /// detector per key; appends `<name>.score` (f64 in 0..1) and `<name>.is_anomaly` (bool).
    Detect {
        /// Key slots (empty: one detector for the whole stream).
        keys: Vec<usize>,
        /// Slot of the numeric field watched.
        field: usize,
        /// The detector and its parameters.
        detector: DetectorSpec,
        /// Events per key that only train the detector (reported as score 0, not anomalous).
        warmup: u64,
        /// Prefix of the added fields.
        name: String,
        /// Output schema: the input fields, then the two added fields.
        schema: Schema,
    },
    /// `dedupe by <fields> within <d>`: per key, in event-time order, a record passes
    /// when none of its key passed in the `within_ms` before it. The schema is unchanged.
    Dedupe {
        /// Key slots.
        keys: Vec<usize>,
        /// Key field names, for `weir explain`.
        names: Vec<String>,
        /// The interval, ms (> 0).
        within_ms: i64,
    },
    /// `forecast <field> horizon <d> [every <d>] using holt_winters(…) as <name>`: one
    /// model per key; appends `<name>.value`, `<name>.lower`, `<name>.upper` (f64, null
    /// until a full season has been seen).
    Forecast {
        /// Key slots (empty: one model for the whole stream).
        keys: Vec<usize>,
        /// Slot of the numeric field forecast.
        field: usize,
        /// The model's parameters.
        params: HoltWintersParams,
        /// Prefix of the added fields.
        name: String,
        /// Output schema: the input fields, then the three added fields.
        schema: Schema,
    },
    /// `infer <model> with {a, b} -> {y, …}`: runs the model on each record (a batch of
    /// records per call) and appends the chosen outputs; null when an input is null.
    Infer {
        /// Model name.
        model: String,
        /// Slots of the fields fed to the model's declared inputs, in declared order.
        inputs: Vec<usize>,
        /// Indices (into the model's declared outputs) of the outputs appended, in order.
        outputs: Vec<usize>,
        /// Output schema: the input fields, then one field per chosen output.
        schema: Schema,
    },
    /// `alert <name> …`: one alert state machine per key (see [`crate::alert`]); the
    /// records become alert events: the record that caused each, then `alert.*` fields.
    Alert {
        /// Levels, timing and notification policy.
        spec: crate::alert::AlertSpec,
        /// Output schema (see [`crate::alert::alert_output_schema`]).
        schema: Schema,
    },
    /// `alert … group by …`: the alert events of each group become one notification
    /// (see [`crate::alert::group`]); it follows its `Alert` stage.
    AlertGroup {
        /// Group fields and timing.
        spec: crate::alert::group::GroupSpec,
        /// Output schema (see [`crate::alert::group::group_output_schema`]).
        schema: Schema,
    },
    /// `unnest <list> as <name> [with ordinality as <rank>]`: each record becomes one
    /// record per element of its list, in list order (none for an empty or null list);
    /// stateless, on the worker the record is on.
    Unnest {
        /// Which list, its companions and the new names.
        spec: super::unnest::UnnestSpec,
        /// Output schema (see [`UnnestSpec::output_schema`](super::unnest::UnnestSpec::output_schema)).
        schema: Schema,
    },
    /// `to <sink>`: write the records; they also continue to the next stage.
    Sink {
        /// Sink name.
        sink: String,
    },
    /// `lookup <table> on <field>`: appends the table's fields for the record's key.
    Lookup {
        /// Table name.
        table: String,
        /// Slot of the field whose value is looked up.
        key: usize,
        /// What to do when the table has no row for it.
        on_miss: LookupMiss,
        /// Output schema: the input, then the table's fields.
        schema: Schema,
    },
    /// `join <input> on a = b, … [within <d> | window <kind>]`: pairs each record with the
    /// other input's records of equal key (both sides exchanged by key hash).
    Join {
        /// What is joined and how.
        join: JoinSpec,
        /// Output schema (see [`JoinSpec::output_schema`]).
        schema: Schema,
    },
}

impl Stage {
    /// The `unnest` stage `spec` over records of schema `input`, with its output schema.
    pub fn unnest(spec: super::unnest::UnnestSpec, input: &Schema) -> Stage {
        Stage::Unnest {
            schema: spec.output_schema(input),
            spec,
        }
    }

    /// The schema of records after this stage, if it changes it.
    pub fn output_schema(&self) -> Option<&Schema> {
        match self {
            Stage::Map { schema, .. }
            | Stage::Select { schema, .. }
            | Stage::Window { schema, .. }
            | Stage::Lookup { schema, .. }
            | Stage::Join { schema, .. }
            | Stage::Detect { schema, .. }
            | Stage::Forecast { schema, .. }
            | Stage::Alert { schema, .. }
            | Stage::AlertGroup { schema, .. }
            | Stage::Unnest { schema, .. }
            | Stage::Infer { schema, .. } => Some(schema),
            _ => None,
        }
    }
}

impl Aggregate {
    /// Every output field: the aggregate's own, then `<name>.<field>` for each kept field.
    pub fn output_fields(&self) -> Vec<Field> {
        let mut fields = vec![self.output_field()];
        let ranked = self.func.ranked().is_some();
        fields.extend(self.keep.iter().map(|k| {
            let name = format!("{}.{}", self.name, k.field.name);
            match ItemType::of(k.field.ty) {
                // `top … keep {a}`: one value of `a` per ranked record.
                Some(item) if ranked => Field::new(name, Type::List(item)),
                _ => Field::nullable(name, k.field.ty),
            }
        }));
        fields
    }

    /// The output field of this aggregate.
    pub fn output_field(&self) -> Field {
        use super::expr::AggFunc::*;
        match (self.func, self.arg_type) {
            (Count, _) => Field::new(&self.name, Type::Int),
            (Sum, Some(Type::Int)) => Field::new(&self.name, Type::Int),
            (Sum, _) => Field::new(&self.name, Type::Float),
            (Avg, _) => Field::nullable(&self.name, Type::Float),
            (Min | Max | First | Last | ArgMax | ArgMin, Some(t)) => Field::nullable(&self.name, t),
            (Min | Max | First | Last | ArgMax | ArgMin, None) => {
                Field::nullable(&self.name, Type::Float)
            }
            (DistinctCount | ApproxDistinctCount, _) => Field::new(&self.name, Type::Int),
            (Stddev | StddevPop | Variance | VariancePop, _) => {
                Field::nullable(&self.name, Type::Float)
            }
            (Collect | Top(_) | Bottom(_), t) => Field::new(
                &self.name,
                Type::List(t.and_then(ItemType::of).unwrap_or(ItemType::Float)),
            ),
            // The nearest-rank percentile is one of the values (a sketch's estimate is f64).
            (Percentile(_), _) => Field::nullable(&self.name, Type::Float),
        }
    }
}

/// The output schema of `detect … as <name>` over `input`.
pub fn detect_output_schema(input: &Schema, name: &str) -> Schema {
    let mut fields = input.fields.clone();
    fields.push(Field::new(format!("{name}.score"), Type::Float));
    fields.push(Field::new(format!("{name}.is_anomaly"), Type::Bool));
    Schema::new(fields)
}

/// The output schema of `forecast … as <name>` over `input`.
pub fn forecast_output_schema(input: &Schema, name: &str) -> Schema {
    let mut fields = input.fields.clone();
    for part in ["value", "lower", "upper"] {
        fields.push(Field::nullable(format!("{name}.{part}"), Type::Float));
    }
    Schema::new(fields)
}
