//! A sink writes one shape of record: two pipelines (or a late route, or a lookup's miss
//! route) sending records of different fields to the same sink are rejected, because a
//! sink's format (CSV header, Parquet schema, a store's key) is fixed when it opens. A
//! JSON lines sink (`stdout()`, a `.jsonl` file) writes each record with its own field
//! names, so it takes any number of shapes.

use weir_engine::plan::sink_schemas;
use weir_engine::plan::LogicalPlan;

use crate::ast::{Item, Program};
use crate::check::connectors::ConnectorCatalog;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// One diagnostic per sink of a one-shape format that receives more than one shape.
pub(crate) fn check(
    program: &Program,
    plan: &LogicalPlan,
    catalog: &dyn ConnectorCatalog,
) -> Vec<Diagnostic> {
    let uses = sink_schemas(plan);
    let mut diagnostics = Vec::new();
    let mut reported: Vec<&str> = Vec::new();
    for (i, (name, first)) in uses.iter().enumerate() {
        if reported.contains(&name.as_str()) {
            continue;
        }
        let Some(node) = plan.sink(name) else {
            continue;
        };
        if catalog.writes_any_shape(&node.connector) {
            continue;
        }
        let Some((_, other)) = uses[i + 1..].iter().find(|(n, s)| n == name && s != first) else {
            continue;
        };
        reported.push(name);
        let Some(span) = program.items.iter().find_map(|item| match item {
            Item::Sink(decl) if decl.name.name == *name => Some(decl.name.span),
            _ => None,
        }) else {
            continue;
        };
        diagnostics.push(
            Diagnostic::error(
                codes::SINK_SHAPES,
                format!("sink `{name}` receives records of two different shapes"),
                span,
                "written with two record layouts",
            )
            .with_note(format!("one writer sends {first}"))
            .with_note(format!("another sends {other}"))
            .with_help(format!(
                "a `{kind}` sink's format (a CSV header, a Parquet schema, a store's key) is \
                 fixed when it opens; declare a second sink for one of them, e.g. \
                 `sink {name}_2 = …`, or write JSON lines (`stdout()`, a `.jsonl` file), \
                 which take records of any shape",
                kind = node.connector.kind
            )),
        );
    }
    diagnostics
}
