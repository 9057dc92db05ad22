//! The checker's unit tests' view of a file: every diagnostic it gets, warnings included.

use crate::{compile, Diagnostic};

/// Checks `base` followed by `body` as `t.pipe`; the text and its diagnostics (the
/// errors if it fails, else its warnings).
pub(super) fn diagnostics(base: &str, body: &str) -> (String, Vec<Diagnostic>) {
    let text = format!("{base}{body}\n");
    let diags = match compile("t.pipe", &text) {
        Ok(c) => c.warnings,
        Err(d) => d,
    };
    (text, diags)
}
