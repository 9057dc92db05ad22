//! Warnings about programs that compile but probably do not do what was meant.

use std::collections::HashSet;

use weir_engine::plan::ConnectorCall;

use super::connectors::ConnectorCatalog;
use super::Ctx;
use crate::ast::{PipelineDecl, SourceDecl, StageKind};
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

/// P0406: `event_time` without `watermark` on a source that may deliver out of order.
/// The bound is then 0s, so a reading overtaken by a newer one is dropped as late, which
/// shows only in the run's summary.
pub(crate) fn event_time_without_watermark(
    decl: &SourceDecl,
    connector: &ConnectorCall,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) {
    let Some(event_time) = decl.event_time.first() else {
        return;
    };
    if !decl.watermark.is_empty() || !catalog.may_arrive_out_of_order(connector) {
        return;
    }
    cx.push(
        Diagnostic::warning(
            codes::EVENT_TIME_WITHOUT_WATERMARK,
            format!(
                "source `{}` has event time but no watermark",
                decl.name.name
            ),
            event_time.span,
            "no `watermark` line: the bound is 0s",
        )
        .with_note(format!(
            "`{}` may deliver records out of order; with a bound of 0s a window closes as \
             soon as a newer record arrives, and every record that arrives after a newer \
             one is dropped as late",
            connector.kind
        ))
        .with_help(format!(
            "add `watermark bounded 5s` below `event_time {}` (the most a record may \
             arrive out of order)",
            event_time.name
        )),
    );
}
