//! Sink options that name record fields — an MQTT topic template (`alerts/{device_id}`),
//! Parquet `partition_by` keys — checked against the records that reach the sink, so
//! `weir check` reports what the run would otherwise refuse when the sink opens.

use weir_engine::plan::sink_schemas;
use weir_engine::plan::LogicalPlan;

use super::connectors::{ConnectorCatalog, SinkFieldIssue};
use crate::ast::{Item, Program};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// One diagnostic per sink option naming a field the sink's records lack (`P0502`) or
/// one of the wrong type (`P0503`).
pub(crate) fn check(
    program: &Program,
    plan: &LogicalPlan,
    catalog: &dyn ConnectorCatalog,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let uses = sink_schemas(plan);
    // A sink receiving two shapes is P0107's to report (a JSON lines sink, which may
    // take several, names no fields in its options); its first shape is checked here.
    for (name, records) in &uses {
        if seen.contains(&name.as_str()) {
            continue;
        }
        seen.push(name);
        let (Some(node), Some(decl)) = (
            plan.sink(name),
            program.items.iter().find_map(|item| match item {
                Item::Sink(decl) if decl.name.name == *name => Some(decl),
                _ => None,
            }),
        ) else {
            continue;
        };
        let fields: Vec<String> = records
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.ty))
            .collect();
        for problem in catalog.check_sink_fields(&node.connector, records) {
            let (code, label) = match problem.issue {
                SinkFieldIssue::Unknown => (codes::SINK_UNKNOWN_FIELD, "no such field here"),
                SinkFieldIssue::WrongType => (codes::SINK_FIELD_TYPE, "wrong type of field"),
                SinkFieldIssue::NoLists => {
                    (codes::SINK_CANNOT_HOLD_LIST, "no lists in this format")
                }
            };
            let span = decl
                .connector
                .options
                .iter()
                .find(|(n, _)| n.name == problem.option)
                .map_or(decl.connector.span, |(n, v)| n.span.to(v.span));
            diagnostics.push(
                Diagnostic::error(code, problem.message, span, label)
                    .with_note(format!(
                        "the records written to `{name}` have {}",
                        fields.join(", ")
                    ))
                    .with_help_opt(problem.help),
            );
        }
    }
    diagnostics
}
