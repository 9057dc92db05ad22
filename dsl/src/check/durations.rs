//! Durations where the language requires one: a unit is mandatory (`60` → `60s`).

use super::Ctx;
use crate::ast::{DurationAst, DurationValue};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The duration in milliseconds, or `None` after reporting why there is none.
/// `what` names the setting in messages ("window size").
pub(crate) fn require(d: &DurationAst, what: &str, cx: &mut Ctx<'_>) -> Option<i64> {
    match &d.value {
        DurationValue::Millis(ms) => Some(*ms),
        DurationValue::Invalid => None,
        DurationValue::Unitless(text) => {
            let help = if text.contains('.') || text.contains('e') || text.contains('E') {
                let ms = text
                    .parse::<f64>()
                    .map_or(0, |s| (s * 1000.0).round() as i64);
                format!("write a whole number with a unit, e.g. `{ms}ms` if `{text}` is seconds")
            } else {
                format!("write `{text}s` (or `{text}ms`, `{text}m`, `{text}h`, `{text}d`)")
            };
            cx.push(
                Diagnostic::error(
                    codes::DURATION_WITHOUT_UNIT,
                    format!("the {what} needs a unit"),
                    d.span,
                    "a number without a unit",
                )
                .with_help(help)
                .with_note("durations always carry a unit: `ms`, `s`, `m`, `h` or `d`"),
            );
            None
        }
    }
}
