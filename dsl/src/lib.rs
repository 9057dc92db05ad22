//! The `.pipe` language: text → spanned AST → checked program → engine logical plan.
//!
//! ```text
//! text ──parse──▶ ast::Program ──check──▶ CheckedProgram ──lower──▶ weir_engine::plan::LogicalPlan
//!      (pest; errors in         (names, types, event time,   (record layouts,
//!       user words)              windows; ALL diagnostics)     window schemas)
//! ```
//! Every problem is a [`Diagnostic`] with a code (see [`codes`]), a primary label on the
//! exact text, and help; [`render`] prints them like rustc, [`render_json`] as JSON lines.
//!
//! ```
//! let text = "source s = sensors() { v: f64  ts: timestamp  event_time ts }\n\
//!             sink out = stdout()\n\
//!             pipeline p { from s | where v > 1.0 | to out }\n";
//! let compiled = weir_dsl::compile("demo.pipe", text).expect("compiles");
//! assert_eq!(compiled.plan.pipelines[0].name, "p");
//!
//! let errors = weir_dsl::compile("demo.pipe", &text.replace("v > 1.0", "vv > 1.0")).unwrap_err();
//! assert_eq!(errors[0].code, "P0203");
//! let shown = weir_dsl::render(&errors, "demo.pipe", &text.replace("v > 1.0", "vv > 1.0"), false);
//! assert!(shown.contains("demo.pipe:3:29"));
//! ```
#![forbid(missing_docs)]

pub mod ast;
pub mod check;
pub mod codes;
pub mod diagnostic;
mod lower;
pub mod parse;
pub mod suggest;

pub use check::connectors::{
    AcceptAll, ConnectorCatalog, ConnectorProblem, ModelLoadError, Role, SinkFieldIssue,
    SinkFieldProblem,
};
pub use check::queries::ScheduledQuery;
pub use check::serve::{ServeSpec, Serving};
pub use diagnostic::{render, render_json, Diagnostic, Label, Severity, Span};

/// A program that compiled: its plan, and warnings worth showing.
#[derive(Debug)]
pub struct Compiled {
    /// The logical plan for the engine.
    pub plan: weir_engine::plan::LogicalPlan,
    /// Warnings (the program compiled despite them).
    pub warnings: Vec<Diagnostic>,
    /// Its `serve` declaration and `live` sinks.
    pub serving: Serving,
    /// Scheduled `query` declarations: SQL over the lake that `weir run` runs on
    /// processing time (outside the dataflow, so not part of the plan).
    pub queries: Vec<ScheduledQuery>,
}

/// Compiles `.pipe` text accepting every connector call. `path` is only used in
/// messages. `Err` holds every error and warning of the file, in source order.
pub fn compile(path: &str, text: &str) -> Result<Compiled, Vec<Diagnostic>> {
    compile_with(path, text, &AcceptAll)
}

/// Compiles `.pipe` text, validating connector calls with `catalog`.
pub fn compile_with(
    path: &str,
    text: &str,
    catalog: &dyn ConnectorCatalog,
) -> Result<Compiled, Vec<Diagnostic>> {
    let _ = path;
    let parsed = match parse::parse(text) {
        Ok(parsed) => parsed,
        Err(syntax) => return Err(vec![*syntax]),
    };
    let mut cx = check::Ctx {
        text,
        diagnostics: parsed.diagnostics,
    };
    let checked = check::check(&parsed.program, catalog, &mut cx);
    let serving = check::serve::check(&parsed.program, &mut cx);
    let mut diagnostics = cx.diagnostics;
    diagnostics.sort_by_key(|d| (d.primary.span.lo, d.primary.span.hi));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let mut plan = lower::lower(checked);
    // Test blocks, sink shapes and the fields sink options name are checked against the
    // lowered plan: a sink's record layout is known only now.
    let (tests, mut late_diagnostics) = check::test_blocks::check(&parsed.program, &plan, text);
    late_diagnostics.extend(check::check_sink_shapes(&parsed.program, &plan, catalog));
    late_diagnostics.extend(check::check_shared_files(&parsed.program, &plan, catalog));
    late_diagnostics.extend(check::check_sink_fields(&parsed.program, &plan, catalog));
    let (queries, query_diagnostics) = check::queries::check(&parsed.program, &plan);
    late_diagnostics.extend(query_diagnostics);
    if !late_diagnostics.is_empty() {
        diagnostics.extend(late_diagnostics);
        diagnostics.sort_by_key(|d| (d.primary.span.lo, d.primary.span.hi));
        return Err(diagnostics);
    }
    plan.tests = tests;
    Ok(Compiled {
        plan,
        warnings: diagnostics,
        serving,
        queries,
    })
}
