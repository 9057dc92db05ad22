//! Warnings about programs that compile but probably do not do what was meant.

use std::collections::HashSet;

use super::Ctx;
use crate::ast::{PipelineDecl, StageKind};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// P0402: a pipeline that writes to no sink and that no pipeline reads.
pub(crate) fn unused_outputs(pipelines: &[&PipelineDecl], cx: &mut Ctx<'_>) {
    let read: HashSet<&str> = pipelines
        .iter()
        .flat_map(|p| {
            std::iter::once(p.from.name.as_str()).chain(p.stages.iter().filter_map(
                |s| match &s.kind {
                    StageKind::Join(j) => Some(j.input.name.as_str()),
                    _ => None,
                },
            ))
        })
        .collect();
    for p in pipelines {
        let writes = p.stages.iter().any(|s| matches!(s.kind, StageKind::To(_)));
        if !writes && !read.contains(p.name.name.as_str()) {
            cx.push(
                Diagnostic::warning(
                    codes::UNUSED_OUTPUT,
                    format!("pipeline `{}` writes nowhere", p.name.name),
                    p.name.span,
                    "its records are computed and dropped",
                )
                .with_help(
                    "add `| to <sink>` at the end, or read it with `from` in another pipeline",
                ),
            );
        }
    }
}
