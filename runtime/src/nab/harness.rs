//! What NAB's own runner hands a detector besides the values, for reproducing published
//! detectors: the file's value range (`inputMin`/`inputMax`) and its probationary period.
//! A detector call may name them as `{file_min}`, `{file_max}`, `{rest}` (the
//! probationary period / 5, CAD OSE's rest period in NAB) and `{probation}` (the
//! probationary period in rows, ARTime's warm-up); `weir bench nab` fills them in
//! per file. This is look-ahead NAB grants every detector; a call without placeholders
//! uses the same parameters for every file.

use super::sweep::probation_length;
use super::DataFile;

/// `call` with the harness placeholders replaced by `file`'s values.
pub fn harness_call(call: &str, file: &DataFile) -> String {
    if !call.contains('{') {
        return call.to_string();
    }
    let lo = file.values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = file
        .values
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let probation = probation_length(file.values.len());
    let rest = (probation / 5.0) as usize;
    call.replace("{file_min}", &number(lo))
        .replace("{file_max}", &number(hi))
        .replace("{rest}", &rest.to_string())
        .replace("{probation}", &(probation as usize).to_string())
}

/// A number as the language reads it back exactly (`{:?}` is the shortest round trip).
fn number(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Whether `call` uses the harness's per-file values.
pub fn uses_harness(call: &str) -> bool {
    ["{file_min}", "{file_max}", "{rest}", "{probation}"]
        .iter()
        .any(|p| call.contains(p))
}
