//! Meaning: resolves names, infers types, validates time and windows, and collects
//! **every** diagnostic of a file in one pass. Lowering starts only if there is no error.
//!
//! The result is a [`CheckedProgram`]: names resolved to slots, expressions typed and
//! converted to the engine's [`Expr`]; [`crate::lower`] lays it out as a logical plan.

mod alert;
mod alert_routing;
mod checkpoint;
mod choice;
pub mod connectors;
mod dedupe;
mod detect;
mod durations;
mod forecast;
mod functions;
mod join;
mod lints;
mod models;
mod names;
mod overload;
pub(crate) mod queries;
mod schema;
mod scope;
pub mod serve;
mod shared_files;
mod sink_fields;
mod sink_shapes;
mod stages;
mod tables;
pub(crate) mod test_blocks;
pub(crate) use shared_files::check as check_shared_files;
pub(crate) use sink_fields::check as check_sink_fields;
pub(crate) use sink_shapes::check as check_sink_shapes;
mod types;
mod unnest;
mod windows;

use std::collections::HashMap;

use weir_engine::plan::{
    Aggregate, CheckpointSpec, Expr, LookupMiss, ModelNode, PipelineInput, SinkNode, SourceNode,
    TableNode, WindowSpec,
};
use weir_engine::schema::{Field, Schema};

use crate::ast::{Item, PipelineDecl, Program, StageKind};
use crate::codes;
use crate::diagnostic::Diagnostic;
use connectors::{ConnectorCatalog, Role};
use names::Decl;
use scope::Scope;

/// Shared state of one check: the file text (for quoting) and the diagnostics so far.
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
    pub diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }
}

/// A program whose names are resolved and whose expressions are typed.
pub(crate) struct CheckedProgram {
    pub sources: Vec<SourceNode>,
    pub sinks: Vec<SinkNode>,
    /// In declaration order.
    pub pipelines: Vec<CheckedPipeline>,
    pub tables: Vec<TableNode>,
    pub models: Vec<ModelNode>,
    /// `checkpoint every … to "…"`, if written (and valid).
    pub checkpoint: Option<CheckpointSpec>,
}

/// A checked pipeline.
pub(crate) struct CheckedPipeline {
    pub name: String,
    pub input: PipelineInput,
    pub input_schema: Schema,
    pub ops: Vec<Op>,
    /// `on error to <sink>`, resolved.
    pub error_to: Option<String>,
}

/// One checked stage (a `window` + `aggregate` pair is one `Op::Window`).
pub(crate) enum Op {
    Filter(Expr),
    /// Assignments in order, each seeing the record as left by the previous ones.
    Map(Vec<MapAssignment>),
    Select(Vec<(Field, Expr)>),
    KeyBy {
        keys: Vec<usize>,
        names: Vec<String>,
    },
    Dedupe {
        keys: Vec<usize>,
        names: Vec<String>,
        within_ms: i64,
    },
    Window {
        keys: Vec<usize>,
        spec: WindowSpec,
        aggregates: Vec<Aggregate>,
    },
    Detect {
        keys: Vec<usize>,
        field: usize,
        detector: weir_engine::ml::DetectorSpec,
        warmup: u64,
        name: String,
    },
    Forecast {
        keys: Vec<usize>,
        field: usize,
        params: weir_engine::ml::HoltWintersParams,
        name: String,
    },
    /// `alert`: levels, timing and notification policy.
    Alert(weir_engine::alert::AlertSpec),
    Sink(String),
    /// `join`: the other input, the keys and the time bound.
    Join(weir_engine::plan::JoinSpec),
    /// `infer`: input slots, indices of the chosen outputs, and the fields appended.
    Infer {
        model: String,
        inputs: Vec<usize>,
        outputs: Vec<usize>,
        fields: Vec<Field>,
    },
    /// `unnest`: the list, its companions and the new names.
    Unnest(weir_engine::plan::UnnestSpec),
    /// `lookup`: the key slot and the fields appended.
    Lookup {
        table: String,
        key: usize,
        on_miss: LookupMiss,
        fields: Vec<Field>,
    },
}

/// What a `join` may read: the sources' records and the outputs of the pipelines
/// checked so far (by index among pipelines).
pub(crate) struct Inputs<'a> {
    pub sources: &'a HashMap<String, Scope>,
    pub outputs: &'a HashMap<usize, Scope>,
}

/// `field = expr` in a `map`, with the slot it writes (the record width appends).
pub(crate) struct MapAssignment {
    pub slot: usize,
    pub field: Field,
    pub expr: Expr,
}

/// Checks `program`, pushing every diagnostic into `cx`.
pub(crate) fn check(
    program: &Program,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> CheckedProgram {
    report_unsupported(program, cx);
    let mut names = names::collect(program, cx);
    let decls = check_declarations(program, catalog, &mut names, cx);
    let checkpoint = checkpoint::check(program, cx);
    let pipelines = &decls.pipelines;
    let (order, cyclic) = names::pipeline_order(pipelines, &names, cx);
    let mut outputs: HashMap<usize, Scope> = HashMap::new();
    let mut checked: Vec<Option<CheckedPipeline>> = pipelines.iter().map(|_| None).collect();
    for i in order {
        let p = pipelines[i];
        let (input, scope) = if cyclic.contains(&i) {
            (None, Scope::poisoned())
        } else {
            pipeline_input(p, &names, &decls.source_scopes, &outputs, cx)
        };
        let error_to = check_error_route(p, input.as_ref(), &decls.sinks, &names, catalog, cx);
        let input_schema = scope.schema();
        let inputs = Inputs {
            sources: &decls.source_scopes,
            outputs: &outputs,
        };
        let (ops, output) = stages::check_pipeline(p, scope, &names, &inputs, cx);
        outputs.insert(i, output);
        if let (Some(input), Some(input_schema)) = (input, input_schema) {
            checked[i] = Some(CheckedPipeline {
                name: p.name.name.clone(),
                input,
                input_schema,
                ops,
                error_to,
            });
        }
    }
    lints::unused_outputs(pipelines, cx);

    CheckedProgram {
        sources: decls.sources,
        sinks: decls.sinks,
        pipelines: checked.into_iter().flatten().collect(),
        tables: decls.tables,
        models: decls.models,
        checkpoint,
    }
}

/// Declarations this version parses but cannot run yet.
fn report_unsupported(program: &Program, cx: &mut Ctx<'_>) {
    for item in &program.items {
        if let Item::Unsupported { keyword, span } = item {
            cx.push(
                Diagnostic::error(
                    codes::NOT_SUPPORTED,
                    format!("`{}` declarations are not supported yet", keyword.name),
                    keyword.span,
                    "not supported yet",
                )
                .with_secondary(*span, "this declaration is skipped")
                .with_help(
                    "this version knows `source`, `sink`, `table`, `model`, `test`, `serve`, `pipeline` and `checkpoint`",
                ),
            );
        }
    }
}

/// The checked sources, sinks, tables and models, and the pipelines still to check.
struct Declarations<'p> {
    sources: Vec<SourceNode>,
    source_scopes: HashMap<String, Scope>,
    sinks: Vec<SinkNode>,
    tables: Vec<TableNode>,
    models: Vec<ModelNode>,
    pipelines: Vec<&'p PipelineDecl>,
}

/// Checks every declaration but pipelines, registering tables and models for `lookup`/`infer`.
fn check_declarations<'p>(
    program: &'p Program,
    catalog: &dyn ConnectorCatalog,
    names: &mut names::Names,
    cx: &mut Ctx<'_>,
) -> Declarations<'p> {
    let mut d = Declarations {
        sources: Vec::new(),
        source_scopes: HashMap::new(),
        sinks: Vec::new(),
        tables: Vec::new(),
        models: Vec::new(),
        pipelines: Vec::new(),
    };
    for item in &program.items {
        match item {
            Item::Source(decl) => {
                let (node, scope) = schema::check_source(decl, catalog, cx);
                d.source_scopes
                    .entry(decl.name.name.clone())
                    .or_insert(scope);
                d.sources.extend(node);
            }
            Item::Sink(decl) => {
                if let Some(connector) =
                    connectors::check_connector(&decl.connector, Role::Sink, None, catalog, cx)
                {
                    d.sinks.push(SinkNode {
                        name: decl.name.name.clone(),
                        connector,
                    });
                }
            }
            Item::Pipeline(decl) => d.pipelines.push(decl),
            Item::Table(decl) => {
                let (node, scope) = tables::check_table(decl, catalog, cx);
                names.tables.entry(decl.name.name.clone()).or_insert(scope);
                d.tables.extend(node);
            }
            Item::Model(decl) => {
                let (node, scope) = models::check_model(decl, catalog, cx);
                names.models.entry(decl.name.name.clone()).or_insert(scope);
                d.models.extend(node);
            }
            Item::Unsupported { .. }
            | Item::Test(_)
            | Item::Checkpoint(_)
            | Item::Serve(_)
            | Item::Query(_) => {}
        }
    }
    d
}

/// What a pipeline reads (a source or another pipeline) and the scope it starts from.
fn pipeline_input(
    p: &PipelineDecl,
    names: &names::Names,
    source_scopes: &HashMap<String, Scope>,
    outputs: &HashMap<usize, Scope>,
    cx: &mut Ctx<'_>,
) -> (Option<PipelineInput>, Scope) {
    match names.resolve_input(&p.from, cx) {
        Some(Decl::Source(_)) => (
            Some(PipelineInput::Source(p.from.name.clone())),
            source_scopes
                .get(&p.from.name)
                .cloned()
                .unwrap_or_else(Scope::poisoned),
        ),
        Some(Decl::Pipeline(j)) => (
            Some(PipelineInput::Pipeline(p.from.name.clone())),
            outputs.get(&j).cloned().unwrap_or_else(Scope::poisoned),
        ),
        _ => (None, Scope::poisoned()),
    }
}

/// Resolves `on error to SINK`; warns when nothing can ever reach it.
fn check_error_route(
    p: &PipelineDecl,
    input: Option<&PipelineInput>,
    sinks: &[SinkNode],
    names: &names::Names,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> Option<String> {
    let (span, sink) = p.on_error.as_ref()?;
    let error_to = names.resolve_sink(sink, cx).then(|| sink.name.clone());
    // Sinks such as a webhook hand back what they could not deliver.
    let sink_hands_back = p.stages.iter().any(|stage| match &stage.kind {
        StageKind::To(name) => sinks
            .iter()
            .any(|s| s.name == name.name && catalog.hands_back_undelivered(&s.connector)),
        _ => false,
    });
    if matches!(input, Some(PipelineInput::Pipeline(_))) && !sink_hands_back {
        cx.push(
            Diagnostic::warning(
                codes::USELESS_ERROR_ROUTE,
                format!(
                    "`{}` reads a pipeline, so no record can fail to be read here",
                    p.name.name
                ),
                *span,
                "never receives anything",
            )
            .with_note(
                "an error route receives records its source cannot read, and records \
                 a sink such as `webhook` cannot deliver",
            )
            .with_help(format!(
                "move this line to the pipeline that reads the source behind `{}`",
                p.from.name
            )),
        );
    }
    error_to
}

#[cfg(test)]
mod detect_tests;
#[cfg(test)]
mod join_tests;
#[cfg(test)]
mod models_tests;
#[cfg(test)]
mod queries_tests;
#[cfg(test)]
mod tables_tests;
#[cfg(test)]
mod test_diagnostics;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unnest_tests;
