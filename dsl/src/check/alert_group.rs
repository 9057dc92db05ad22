//! `alert … group by <fields> [wait <d>] [interval <d>]`: the fields are the alert's
//! input fields; `wait` may be `0s`, `interval` must be positive. A grouped stage's output
//! is the notification stream (the group fields, then `alert.group`, `alert.status`, …).

use weir_engine::alert::group::{GroupSpec, DEFAULT_INTERVAL_MS, DEFAULT_WAIT_MS, GROUP_FIELDS};

use super::alert::duration;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::Ctx;
use crate::ast::{DurationAst, Ident};

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
