//! What an `alert` stage does with its events beyond the per-key machines: `group by
//! <fields> [wait <d>] [interval <d>]` (the fields are the alert's input fields; `wait`
//! may be `0s`, `interval` must be positive; the output becomes the notification stream)
//! and `silenced by <table>` (a table with the silence columns).

use weir_engine::alert::group::{GroupSpec, DEFAULT_INTERVAL_MS, DEFAULT_WAIT_MS, GROUP_FIELDS};
use weir_engine::alert::silence::SilenceSpec;
use weir_engine::schema::Type;

use super::alert::duration;
use super::names::Names;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::Ctx;
use crate::ast::{DurationAst, Ident};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The grouping of alert `name` over `scope` (the alert's input), or `None` after
/// reporting why not.
pub(crate) fn check_group(
    name: &str,
    by: &[Ident],
    wait: Option<&DurationAst>,
    interval: Option<&DurationAst>,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> Option<GroupSpec> {
    let mut slots = Vec::new();
    for f in by {
        if let Some((slot, _)) = scope.lookup(&f.name, f.span, cx) {
            slots.push(slot);
        }
    }
    let wait_ms = match wait {
        Some(d) => duration(d, "group `wait`", true, cx),
        None => Some(DEFAULT_WAIT_MS),
    };
    let interval_ms = match interval {
        Some(d) => duration(d, "group `interval`", false, cx),
        None => Some(DEFAULT_INTERVAL_MS),
    };
    (slots.len() == by.len()).then_some(())?;
    Some(GroupSpec {
        name: name.to_string(),
        by: slots,
        input_width: scope.fields.len(),
        wait_ms: wait_ms?,
        interval_ms: interval_ms?,
    })
}

/// The scope after a grouped alert: the group fields of `alerts` (the alert event
/// scope), then the notification fields; event time is the notification's time.
pub(crate) fn group_scope(spec: &GroupSpec, alerts: &Scope) -> Scope {
    let mut fields: Vec<ScopeField> = spec
        .by
        .iter()
        .filter_map(|&s| alerts.fields.get(s).cloned())
        .collect();
    fields.extend(GROUP_FIELDS.iter().map(|(n, t)| ScopeField {
        name: (*n).to_string(),
        ty: Some(Ty {
            ty: *t,
            nullable: false,
        }),
    }));
    Scope {
        fields,
        origin: "the output of a grouped `alert`".to_string(),
        origin_span: None,
        poisoned: alerts.poisoned,
        event_time: EventTime::Field("alert.time".to_string()),
    }
}

/// `silenced by <table>`: the table must have `pattern: string`, `starts: timestamp` and
/// `ends: timestamp` (P0223 otherwise).
pub(crate) fn check_silences(
    table: &Ident,
    names: &Names,
    cx: &mut Ctx<'_>,
) -> Option<SilenceSpec> {
    let found = names.resolve_table(table, cx)?;
    let mut slots = Vec::new();
    let mut missing = Vec::new();
    for (column, ty) in SILENCE_COLUMNS {
        let slot = found.scope.slot(column);
        let ty_of = slot.and_then(|s| found.scope.fields[s].ty).map(|t| t.ty);
        match (slot, ty_of) {
            (Some(s), Some(t)) if t == ty => slots.push(s),
            _ => missing.push(format!("`{column}: {ty}`")),
        }
    }
    if !missing.is_empty() {
        if !found.scope.poisoned {
            cx.push(
                Diagnostic::error(
                    codes::BAD_SILENCE_TABLE,
                    format!("table `{}` does not hold silences", table.name),
                    table.span,
                    format!("lacks {}", missing.join(", ")),
                )
                .with_help(
                    "a silence table declares `pattern: string` (an alert-id glob such as \
                     `truck-3/*`), `starts: timestamp` and `ends: timestamp`",
                ),
            );
        }
        return None;
    }
    Some(SilenceSpec {
        table: table.name.clone(),
        key: found.key?,
        pattern: slots[0],
        starts: slots[1],
        ends: slots[2],
    })
}

const SILENCE_COLUMNS: [(&str, Type); 3] = [
    ("pattern", Type::String),
    ("starts", Type::Timestamp),
    ("ends", Type::Timestamp),
];
