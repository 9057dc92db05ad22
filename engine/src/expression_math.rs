//! Math over values: `pow`, `log`, `exp`, and `min`/`max` of several values.
//!
//! Results that are not finite (`log(0)`, `pow(10.0, 400)`) are null, like integer
//! division by zero, so no NaN or infinity reaches a sink from these functions.

use std::cmp::Ordering;

use crate::expression::compare;
use crate::value::Value;

fn finite(x: f64) -> Value {
    if x.is_finite() {
        Value::Float(x)
    } else {
        Value::Null
    }
}

/// `pow(x, y)`.
pub fn pow(x: &Value, y: &Value) -> Value {
    match (x.as_f64(), y.as_f64()) {
        (Some(x), Some(y)) => finite(x.powf(y)),
        _ => Value::Null,
    }
}

/// `log(x)` (natural) or `log(x, base)`.
pub fn log(x: &Value, base: Option<&Value>) -> Value {
    let Some(x) = x.as_f64() else {
        return Value::Null;
    };
    match base.map(Value::as_f64) {
        None => finite(x.ln()),
        Some(Some(b)) => finite(x.ln() / b.ln()),
        Some(None) => Value::Null,
    }
}

/// `exp(x)`.
pub fn exp(x: &Value) -> Value {
    x.as_f64().map_or(Value::Null, |x| finite(x.exp()))
}

/// `min(a, b, …)` / `max(a, b, …)` of values: nulls are ignored (null only when all are).
/// `want` is the ordering that replaces the current pick (`Less` for min).
pub fn pick(values: impl Iterator<Item = Value>, want: Ordering) -> Value {
    let mut best = Value::Null;
    for v in values {
        if v.is_null() {
            continue;
        }
        if best.is_null() || compare(&v, &best) == Some(want) {
            best = v;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_results_are_null() {
        assert_eq!(pow(&Value::Int(2), &Value::Int(10)), Value::Float(1024.0));
        assert_eq!(pow(&Value::Float(10.0), &Value::Int(400)), Value::Null);
        assert_eq!(log(&Value::Float(0.0), None), Value::Null);
        assert_eq!(log(&Value::Int(8), Some(&Value::Int(2))), Value::Float(3.0));
        assert_eq!(exp(&Value::Int(0)), Value::Float(1.0));
    }

    #[test]
    fn min_and_max_of_values_skip_nulls() {
        let vals = || vec![Value::Null, Value::Int(3), Value::Float(1.5), Value::Int(7)];
        assert_eq!(pick(vals().into_iter(), Ordering::Less), Value::Float(1.5));
        assert_eq!(pick(vals().into_iter(), Ordering::Greater), Value::Int(7));
        assert_eq!(pick([Value::Null].into_iter(), Ordering::Less), Value::Null);
    }
}
