//! The spanned syntax tree of a `.pipe` file: what was written, before any meaning.
//!
//! Every node carries a [`Span`] (byte offsets into the file). Names are not resolved and
//! types are not known here; that is `check`'s job.

pub use crate::diagnostic::Span;
pub use weir_engine::plan::{BinaryOp, OverloadPolicy, UnaryOp};

/// A whole file.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Top-level declarations in order.
    pub items: Vec<Item>,
}

/// A name as written, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The text (dotted names such as `window.start` are one identifier).
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `source name = call { … }`
    Source(SourceDecl),
    /// `sink name = call`
    Sink(SinkDecl),
    /// `pipeline name { … }`
    Pipeline(PipelineDecl),
    /// `test "name" { … }`
    Test(TestDecl),
    /// `table name = call { key …, fields, refresh … }`
    Table(TableDecl),
    /// `model name = onnx("path") { inputs { … } outputs { … } }`
    Model(ModelDecl),
    /// `checkpoint every 10s to "state/"`
    Checkpoint(CheckpointDecl),
    /// `serve on "addr" [token env "VAR"]` or `serve off`
    Serve(ServeDecl),
    /// `query name every d [at hh:mm] = sql"""…""" | to sink`
    Query(QueryDecl),
    /// A declaration of a later version of the language (`table`, `test`, `run`, `model`).
    Unsupported {
        /// Its keyword.
        keyword: Ident,
        /// The whole declaration.
        span: Span,
    },
}

/// `source name = connector(…) { fields, event_time, watermark }`.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceDecl {
    /// Source name.
    pub name: Ident,
    /// How to read it.
    pub connector: ConnectorCallAst,
    /// Declared fields in order.
    pub fields: Vec<FieldDecl>,
    /// `event_time f` lines (more than one is an error).
    pub event_time: Vec<Ident>,
    /// `watermark …` lines (more than one is an error).
    pub watermark: Vec<WatermarkDecl>,
    /// `on overload drop|backpressure` lines, with their places (more than one is an
    /// error).
    pub overload: Vec<(OverloadPolicy, Span)>,
    /// The whole declaration.
    pub span: Span,
}

/// `name: type` in a source body.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// Field name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeRef,
}

/// A type as written: a name and an optional `?`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRef {
    /// Type name (`f64`, `string`, …), resolved by the checker.
    pub name: Ident,
    /// Written with `?`.
    pub nullable: bool,
    /// The whole type.
    pub span: Span,
}

/// `watermark bounded 10s, idle 1m, per key`.
#[derive(Clone, Debug, PartialEq)]
pub struct WatermarkDecl {
    /// The parts in order.
    pub parts: Vec<WatermarkPart>,
    /// The whole line.
    pub span: Span,
}

/// One part of a `watermark` line.
#[derive(Clone, Debug, PartialEq)]
pub enum WatermarkPart {
    /// `bounded d`
    Bounded(DurationAst),
    /// `idle d`
    Idle(DurationAst),
    /// `per key`
    PerKey(Span),
    /// `max_future d`: records more than `d` ahead of processing time are refused.
    MaxFuture(DurationAst),
}

/// A duration where one is required.
#[derive(Clone, Debug, PartialEq)]
pub struct DurationAst {
    /// Its value.
    pub value: DurationValue,
    /// Where it was written.
    pub span: Span,
}

/// The value of a [`DurationAst`].
#[derive(Clone, Debug, PartialEq)]
pub enum DurationValue {
    /// A duration with a unit, in milliseconds.
    Millis(i64),
    /// A bare number (the checker asks for a unit); the text as written.
    Unitless(String),
    /// Malformed; the parser already reported it.
    Invalid,
}

/// `checkpoint every 10s to "state/"`: how often the run takes checkpoints, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointDecl {
    /// The interval as written.
    pub every: DurationAst,
    /// Written with a minus sign (`every -5s`), which the checker refuses.
    pub negative: bool,
    /// The directory as written (after unescaping); `None` if the string was malformed.
    pub dir: Option<String>,
    /// Where the directory string was written.
    pub dir_span: Span,
    /// The whole statement.
    pub span: Span,
}

/// `query name every d [at hh:mm] = sql"""SELECT …""" | to sink`: SQL over the lake on
/// processing time, its rows sent to sinks.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryDecl {
    /// Query name.
    pub name: Ident,
    /// `every d`: how often it runs.
    pub every: DurationAst,
    /// `at hh:mm`: the time of day (UTC) of its runs, as written.
    pub at: Option<Ident>,
    /// The SQL text, between the triple quotes.
    pub sql: String,
    /// Where the SQL text is (without the quotes; `lo` is its first character).
    pub sql_span: Span,
    /// The sinks its rows go to.
    pub to: Vec<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// `sink name = connector(…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkDecl {
    /// Sink name.
    pub name: Ident,
    /// How to write it.
    pub connector: ConnectorCallAst,
    /// Where `live` was written, if it was: its records are also streamed over HTTP.
    pub live: Option<Span>,
    /// The whole declaration.
    pub span: Span,
}

/// `serve on "127.0.0.1:9464" [token env "WEIR_TOKEN"]` or `serve off`: where the run's
/// HTTP server listens.
#[derive(Clone, Debug, PartialEq)]
pub struct ServeDecl {
    /// The address as written (quotes removed) and its span; `None` for `serve off`.
    pub addr: Option<(String, Span)>,
    /// `token env "VAR"`: the environment variable holding the bearer token.
    pub token_env: Option<(String, Span)>,
    /// The whole declaration.
    pub span: Span,
}

/// `table name = connector(…) { key f  fields  refresh … }`: reference data.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDecl {
    /// Table name.
    pub name: Ident,
    /// Where its rows come from.
    pub connector: ConnectorCallAst,
    /// Declared fields in order.
    pub fields: Vec<FieldDecl>,
    /// `key f` lines (exactly one is required).
    pub keys: Vec<Ident>,
    /// `refresh …` lines (at most one is allowed).
    pub refresh: Vec<RefreshDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `model name = onnx("path") { inputs { x: f32, … } outputs { y: f32, … } }`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDecl {
    /// Model name.
    pub name: Ident,
    /// The format and file (`onnx("path")`).
    pub call: ConnectorCallAst,
    /// Declared inputs (graph input names and element types), in order.
    pub inputs: Vec<FieldDecl>,
    /// Declared outputs (graph output names and element types), in order.
    pub outputs: Vec<FieldDecl>,
    /// The `inputs` keyword.
    pub inputs_span: Span,
    /// The `outputs` keyword.
    pub outputs_span: Span,
    /// The whole declaration.
    pub span: Span,
}

/// A `refresh` line of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshDecl {
    /// Which refresh.
    pub kind: RefreshKind,
    /// The whole line.
    pub span: Span,
}

/// When a table is read again.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshKind {
    /// `refresh on change`
    OnChange,
    /// `refresh every <d>`
    Every(DurationAst),
}

/// `kind(arg, …, name: value, …)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorCallAst {
    /// Connector name.
    pub kind: Ident,
    /// Positional arguments.
    pub args: Vec<OptionValueAst>,
    /// Named options in order.
    pub options: Vec<(Ident, OptionValueAst)>,
    /// The whole call.
    pub span: Span,
}

/// A constant in a connector call.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionValueAst {
    /// The value.
    pub kind: OptionValueKind,
    /// Where it was written.
    pub span: Span,
}

/// Kinds of connector constants.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValueKind {
    /// `"text"`
    Str(String),
    /// `42`, `10M`
    Int(i64),
    /// `0.5`
    Float(f64),
    /// `true`
    Bool(bool),
    /// `10s`, in milliseconds
    Duration(i64),
    /// A bare word, or a number glued to a word unit (`60x`, `128MB`), as written
    Ident(String),
    /// `[a, b]`
    List(Vec<OptionValueAst>),
    /// `date(ts)`: a function applied to constants or field names.
    Call {
        /// Function name.
        func: Ident,
        /// Arguments.
        args: Vec<OptionValueAst>,
    },
    /// Malformed; the parser already reported it.
    Invalid,
}

/// `pipeline name { from x | stage | … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineDecl {
    /// Pipeline name.
    pub name: Ident,
    /// `on error to <sink>`: the line's span and the sink.
    pub on_error: Option<(Span, Ident)>,
    /// What it reads: a source or a pipeline.
    pub from: Ident,
    /// Stages in order.
    pub stages: Vec<Stage>,
    /// The whole declaration.
    pub span: Span,
}

/// One stage after `|`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// What it does.
    pub kind: StageKind,
    /// The whole stage (without the `|`).
    pub span: Span,
    /// The stage keyword (`where`, `key by`, …).
    pub keyword: Span,
}

/// Kinds of stages.
#[derive(Clone, Debug, PartialEq)]
pub enum StageKind {
    /// `where <expr>`
    Where(Expr),
    /// `map f = e, …`
    Map(Vec<Assignment>),
    /// `select a, b = e, …`
    Select(Vec<NamedExpr>),
    /// `key by a, b`
    KeyBy(Vec<Ident>),
    /// `dedupe by a, b within <d>`
    Dedupe(DedupeAst),
    /// `window <kind> <clauses>`
    Window(WindowAst),
    /// `aggregate n = f(x), …`
    Aggregate(Vec<NamedExpr>),
    /// `to <sink>`
    To(Ident),
    /// `lookup <table> on <field> [on miss …]`
    Lookup(LookupAst),
    /// `join <input> [as <name>] on a = b, … [within <d> | window <kind>]`
    Join(JoinAst),
    /// `detect anomaly in <field> using <algo>(<params>) [warmup <n> events] as <name>`
    Detect(DetectAst),
    /// `forecast <field> horizon <d> [every <d>] using <algo>(<params>) as <name>`
    Forecast(ForecastAst),
    /// `infer <model> with {<field>, …} -> {<output>, …}`
    Infer(InferAst),
    /// `alert <name> <clauses>`
    Alert(AlertAst),
    /// `unnest <list> as <name> [with ordinality as <rank>]`
    Unnest(UnnestAst),
    /// A stage of a later version (`lookup`, `join`, …).
    Unsupported(Ident),
    /// A word that is no stage.
    Unknown(Ident),
}

/// `join <input> [as <name>] on a = b, … [within <d> | window <kind>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinAst {
    /// The joined (right) input: a source or a pipeline.
    pub input: Ident,
    /// `as <name>`: the prefix of the right side's fields (default: the input's name).
    pub alias: Option<Ident>,
    /// Key pairs: a field of the records so far = a field of the joined input.
    pub on: Vec<(Ident, Ident)>,
    /// How the two event times must relate, if bounded.
    pub time: Option<JoinTimeAst>,
}

/// The time bound of a join.
#[derive(Clone, Debug, PartialEq)]
pub enum JoinTimeAst {
    /// `within <d>`: the two event times are at most `d` apart.
    Within(DurationAst),
    /// `window <kind>`: both event times fall in the same window.
    Window(WindowAst),
}

/// `lookup <table> on <field> [on miss …]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupAst {
    /// The table.
    pub table: Ident,
    /// The field whose value is the key.
    pub field: Ident,
    /// `on miss …`, if written.
    pub on_miss: Option<MissAst>,
}

/// `infer <model> with {<field>, …} -> {<output>, …}`.
#[derive(Clone, Debug, PartialEq)]
pub struct InferAst {
    /// The model.
    pub model: Ident,
    /// Record fields fed to the model's declared inputs, in order.
    pub inputs: Vec<Ident>,
    /// The `{…}` after `with`.
    pub inputs_span: Span,
    /// Model outputs appended to the record, in order.
    pub outputs: Vec<Ident>,
}

/// An `on miss …` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct MissAst {
    /// What to do.
    pub kind: MissKind,
    /// The whole clause.
    pub span: Span,
}

/// What `lookup` does with a record whose key the table lacks.
#[derive(Clone, Debug, PartialEq)]
pub enum MissKind {
    /// `on miss drop`
    Drop,
    /// `on miss keep null`
    KeepNull,
    /// `on miss to <sink>`
    To(Ident),
}

/// `alert <name>` and its clauses, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertAst {
    /// The alert's name.
    pub name: Ident,
    /// The clauses.
    pub clauses: Vec<AlertClause>,
}

/// One clause of an `alert` stage.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertClause {
    /// What it says.
    pub kind: AlertClauseKind,
    /// The whole clause.
    pub span: Span,
}

/// The clauses of an `alert` stage.
#[derive(Clone, Debug, PartialEq)]
pub enum AlertClauseKind {
    /// `critical|warning|info when <expr>`
    Level {
        /// The level word.
        level: Ident,
        /// The condition.
        when: Expr,
    },
    /// `resolve when <expr>`
    Resolve(Expr),
    /// `for <d>`
    For(DurationAst),
    /// `keep firing for <d>`
    KeepFiring(DurationAst),
    /// `repeat every <d>`
    Repeat(DurationAst),
    /// `no recoveries`
    NoRecoveries,
    /// `deadman <d>`
    Deadman(DurationAst),
    /// `flapping low <x> high <y> [history <n>]`
    Flapping {
        /// Lower share and its span.
        low: (f64, Span),
        /// Upper share and its span.
        high: (f64, Span),
        /// Levels remembered.
        history: Option<(i64, Span)>,
    },
    /// `id "<template>"`
    Id(TemplateText),
    /// `silenced by <table>`
    Silenced(Ident),
    /// `group by <fields> [wait <d>] [interval <d>]`
    Group {
        /// The fields alerts are grouped by.
        by: Vec<Ident>,
        /// `wait <d>` (Alertmanager's group_wait).
        wait: Option<DurationAst>,
        /// `interval <d>` (Alertmanager's group_interval).
        interval: Option<DurationAst>,
    },
    /// `message "<template>"`
    Message(TemplateText),
}

/// A template string: its text (escapes resolved) and the literal's span.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateText {
    /// The text.
    pub text: String,
    /// The string literal, quotes included.
    pub span: Span,
}

/// The parts of a `detect` stage.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectAst {
    /// The numeric field watched.
    pub field: Ident,
    /// The algorithm (`zscore`, `spike_dip`, `rcf`, `contextual`).
    pub algorithm: Ident,
    /// `name: value` parameters, in the order written.
    pub params: Vec<(Ident, ParamValue)>,
    /// `warmup <n> events`: the count and its span.
    pub warmup: Option<(i64, Span)>,
    /// The name prefixing the added fields (`<name>.score`, `<name>.is_anomaly`).
    pub name: Ident,
}

/// The parts of a `forecast` stage.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastAst {
    /// The numeric field forecast.
    pub field: Ident,
    /// How far ahead.
    pub horizon: DurationAst,
    /// Model step (`every <d>`), if given.
    pub every: Option<DurationAst>,
    /// The algorithm (`holt_winters`).
    pub algorithm: Ident,
    /// `name: value` parameters, in the order written.
    pub params: Vec<(Ident, ParamValue)>,
    /// The name prefixing the added fields.
    pub name: Ident,
}

/// A detector parameter's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// `95%`, as the fraction 0.95.
    Percent(f64, Span),
    /// Any connector-style constant.
    Value(OptionValueAst),
}

impl ParamValue {
    /// Where it was written.
    pub fn span(&self) -> Span {
        match self {
            ParamValue::Percent(_, span) => *span,
            ParamValue::Value(v) => v.span,
        }
    }
}

/// `name = expr` in `map`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// Field set.
    pub target: Ident,
    /// Its new value.
    pub value: Expr,
}

/// `[name =] expr` in `select` and `aggregate`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedExpr {
    /// The output name, if written.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
    /// `keep {a, b}` after an `arg_max`/`arg_min` aggregate; empty elsewhere.
    pub keep: Vec<Ident>,
    /// The whole item.
    pub span: Span,
}

/// `unnest <list> as <name> [with ordinality as <rank>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct UnnestAst {
    /// The list field.
    pub list: Ident,
    /// The name of its element in the output records.
    pub name: Ident,
    /// `with ordinality as <rank>`: the name of the position field (from 1).
    pub ordinality: Option<Ident>,
}

/// `dedupe by a, b within <d>`.
#[derive(Clone, Debug, PartialEq)]
pub struct DedupeAst {
    /// The fields that make records duplicates of each other.
    pub keys: Vec<Ident>,
    /// How long a key stays seen.
    pub within: DurationAst,
}

/// `window <kind> <clauses>`.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowAst {
    /// The kind of window.
    pub kind: WindowKindAst,
    /// Where the kind was written.
    pub kind_span: Span,
    /// Where `on processing time` was written, if it was: windows by arrival time.
    pub processing_time: Option<Span>,
    /// Clauses after the kind, in order.
    pub clauses: Vec<WindowClause>,
}

/// Kinds of windows as written.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowKindAst {
    /// `tumbling <size> [offset <d>]`
    Tumbling {
        /// Window length.
        size: DurationAst,
        /// Offset of window starts.
        offset: Option<DurationAst>,
    },
    /// `sliding <size> every <period>`
    Sliding {
        /// Window length.
        size: DurationAst,
        /// Period between window starts.
        every: DurationAst,
    },
    /// `session gap <d> [max <d>]`
    Session {
        /// Inactivity gap that closes a session.
        gap: DurationAst,
        /// Maximum session length.
        max: Option<DurationAst>,
    },
    /// `global`
    Global,
    /// `until <field> [from <field>]`: per key, one window per end time read from the
    /// record (an auction's `expires`), starting at the `from` field.
    Until {
        /// The timestamp field the window ends at (exclusive).
        end: Ident,
        /// The timestamp field it starts at; the beginning of time without it.
        start: Option<Ident>,
    },
    /// `count <n> [every <m>]`: per key, in event-time order, every `m`-th record closes
    /// a window over the key's last `n` records (`None`: not a whole number, reported).
    Count {
        /// Records per window.
        size: Option<i64>,
        /// Records between windows (`size` without it).
        every: Option<Option<i64>>,
    },
    /// Any other word.
    Unknown(Ident),
}

/// A clause after the window kind.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowClause {
    /// Which clause.
    pub kind: WindowClauseKind,
    /// The whole clause.
    pub span: Span,
}

/// Kinds of window clauses.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowClauseKind {
    /// `emit <trigger>` (sugar already turned into the canonical form)
    Emit(TriggerAst),
    /// `allow late <d>`
    AllowLate(DurationAst),
    /// `accumulate`
    Accumulate,
    /// `discard`
    Discard,
    /// `retract`
    Retract,
    /// `late to <sink>`
    LateTo(Ident),
    /// `timestamp end|earliest|latest`
    Timestamp(String),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A constant.
    Literal(Literal),
    /// A field, by (possibly dotted) name.
    Field(String),
    /// `f(args…)`
    Call {
        /// Function name.
        func: Ident,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `-x`, `not x`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Where the operator was written.
        op_span: Span,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a op b`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator was written.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `x between lo and hi`
    Between {
        /// The tested value.
        value: Box<Expr>,
        /// Lower bound (inclusive).
        lo: Box<Expr>,
        /// Upper bound (inclusive).
        hi: Box<Expr>,
    },
    /// `x in [a, b]`
    In {
        /// The tested value.
        value: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
    },
    /// `if c then a else b` and `case when c then a … [else b] end`: the value of the
    /// first branch whose condition is true, else `otherwise` (null when absent).
    Cond {
        /// `(condition, value)` pairs in order.
        branches: Vec<(Expr, Expr)>,
        /// The `else` value.
        otherwise: Option<Box<Expr>>,
    },
    /// Malformed; the parser already reported it.
    Invalid,
}

/// Constants in expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `42`, `5k`
    Int(i64),
    /// `1.5`
    Float(f64),
    /// `"text"`
    Str(String),
    /// `true`, `false`
    Bool(bool),
    /// `null`
    Null,
    /// `10s`, in milliseconds
    Duration(i64),
}

/// A trigger as written (sugar such as `early every 10s` is already in canonical form).
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerAst {
    /// Which trigger.
    pub kind: TriggerKindAst,
    /// Where it was written.
    pub span: Span,
}

/// Kinds of triggers.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKindAst {
    /// `watermark(early: T, late: T)`
    Watermark {
        /// Early firings.
        early: Option<Box<TriggerAst>>,
        /// Late firings.
        late: Option<Box<TriggerAst>>,
    },
    /// `count(n)`; `None` if the number could not be read.
    Count(Option<i64>),
    /// `processing(d)`
    Processing(DurationAst),
    /// `repeat(T)`
    Repeat(Box<TriggerAst>),
    /// `any(T, …)`
    Any(Vec<TriggerAst>),
    /// `all(T, …)`
    All(Vec<TriggerAst>),
    /// `each(T, …)`
    Each(Vec<TriggerAst>),
    /// `T until U`
    Until(Box<TriggerAst>, Box<TriggerAst>),
    /// `never`
    Never,
}

/// `test "name" { steps }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    /// The test's name.
    pub name: String,
    /// Its directives in order.
    pub steps: Vec<TestStepAst>,
    /// The whole declaration.
    pub span: Span,
}

/// One directive of a test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestStepAst {
    /// What it does.
    pub kind: TestStepKind,
    /// The whole directive.
    pub span: Span,
}

/// Kinds of test directives.
#[derive(Clone, Debug, PartialEq)]
pub enum TestStepKind {
    /// `given <source> {…} {…}`
    Given {
        /// The source fed.
        source: Ident,
        /// One bundle of records.
        records: Vec<RecordLit>,
    },
    /// `watermark [<source>] <time>`
    Watermark {
        /// The source, or all.
        source: Option<Ident>,
        /// The new watermark.
        time: TimeLit,
    },
    /// `clock <time>`
    Clock(TimeLit),
    /// `expect <sink> [ {…}, … ]`
    Expect {
        /// The sink checked.
        sink: Ident,
        /// Expected (partial) records.
        records: Vec<RecordLit>,
    },
}

/// `{name: value, …}` in a test.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordLit {
    /// Fields in the order written (`None`: a value that did not parse, already reported).
    pub fields: Vec<(Ident, Option<TestValue>, Span)>,
    /// The whole record.
    pub span: Span,
}

/// A field's value in a test record: one literal, or a list (`[1, 2, 3]`) to compare with
/// what `collect(x)` makes. An item that did not parse is `None` (already reported).
#[derive(Clone, Debug, PartialEq)]
pub enum TestValue {
    /// `70.0`, `"a"`, `null`, …
    Scalar(Literal),
    /// `[70.0, 71.5]`
    List(Vec<Option<Literal>>),
}

/// A time in a test: an RFC 3339 string or epoch milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeLit {
    /// The time, if it could be read.
    pub value: Option<i64>,
    /// Where it was written.
    pub span: Span,
}
