//! `dedupe by <fields> within <d>`: the key fields exist, the interval is positive, and
//! the input has event time (records are deduplicated in event-time order).

use super::durations;
use super::scope::{EventTime, Scope};
use super::{Ctx, Op};
use crate::ast::{DedupeAst, Stage};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The checked stage, if valid; the schema passes through unchanged.
pub(crate) fn check_dedupe(
    d: &DedupeAst,
    stage: &Stage,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> Option<Op> {
    let mut ok = true;
    let mut keys = Vec::new();
    for k in &d.keys {
        match scope.lookup(&k.name, k.span, cx) {
            Some((slot, _)) => keys.push(slot),
            None => ok = false,
        }
    }
    let within = durations::require(&d.within, "dedupe interval", cx);
    if within.is_some_and(|ms| ms <= 0) {
        cx.push(
            Diagnostic::error(
                codes::BAD_DEDUPE,
                "the dedupe interval must be positive",
                d.within.span,
                "zero length",
            )
            .with_help("write e.g. `dedupe by id within 10m`"),
        );
        ok = false;
    }
    if let EventTime::Missing { source, span } = &scope.event_time {
        cx.push(
            Diagnostic::error(
                codes::BAD_DEDUPE,
                format!("`dedupe` needs event time, but source `{source}` has no `event_time`"),
                stage.keyword,
                "deduplicates in event-time order",
            )
            .with_secondary(*span, format!("`{source}` is declared here without `event_time`"))
            .with_help(format!("add `event_time <field>` to source `{source}`"))
            .with_note("the record that passes is the earliest of its key by event time, so the result does not depend on arrival order"),
        );
        ok = false;
    }
    match within {
        Some(within_ms) if ok && !scope.poisoned => Some(Op::Dedupe {
            keys,
            names: d.keys.iter().map(|k| k.name.clone()).collect(),
            within_ms,
        }),
        _ => None,
    }
}
