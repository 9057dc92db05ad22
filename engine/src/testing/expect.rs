//! Matching a sink's output against an `expect` directive: unordered, partial (only the
//! fields written), each expected record matched to a distinct received one.

use crate::plan::ExpectedField;
use crate::schema::Schema;
use crate::value::{Record, Value};

/// Whether `actual` equals `expected` as a test means it: numbers compare numerically
/// (floats to a relative 1e-9, so `80.0` matches an average of 80), others exactly.
pub fn values_match(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Float(_), _) | (_, Value::Float(_)) => match (expected.as_f64(), actual.as_f64()) {
            (Some(e), Some(a)) => {
                e == a || (e - a).abs() <= 1e-9 * e.abs().max(a.abs()) || (e.is_nan() && a.is_nan())
            }
            _ => false,
        },
        _ => expected == actual,
    }
}

fn record_matches(expected: &[ExpectedField], actual: &Record) -> bool {
    expected.iter().all(|f| {
        actual
            .get(f.slot)
            .is_some_and(|v| values_match(&f.value, v))
    })
}

/// Pairs expected records with distinct received ones (maximum bipartite matching, so a
/// loose expectation never steals the only match of a stricter one). Returns, per
/// expected record, the received record it matched, if any.
pub fn match_records(expected: &[Vec<ExpectedField>], received: &[Record]) -> Vec<Option<usize>> {
    let edges: Vec<Vec<usize>> = expected
        .iter()
        .map(|e| {
            received
                .iter()
                .enumerate()
                .filter(|(_, r)| record_matches(e, r))
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; received.len()];
    for e in 0..expected.len() {
        let mut seen = vec![false; received.len()];
        augment(e, &edges, &mut owner, &mut seen);
    }
    let mut matched = vec![None; expected.len()];
    for (r, o) in owner.iter().enumerate() {
        if let Some(e) = o {
            matched[*e] = Some(r);
        }
    }
    matched
}

fn augment(e: usize, edges: &[Vec<usize>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for &r in &edges[e] {
        if seen[r] {
            continue;
        }
        seen[r] = true;
        if owner[r].is_none_or(|other| augment(other, edges, owner, seen)) {
            owner[r] = Some(e);
            return true;
        }
    }
    false
}

/// Renders an expected record as written: `{avg_temp: 80.0, pane.timing: "on_time"}`.
pub fn show_expected(fields: &[ExpectedField]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| format!("{}: {}", f.name, f.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Renders a received record with its field names.
pub fn show_record(schema: &Schema, record: &Record) -> String {
    let parts: Vec<String> = schema
        .fields
        .iter()
        .zip(record)
        .map(|(f, v)| format!("{}: {v}", f.name))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(slot: usize, value: Value) -> ExpectedField {
        ExpectedField {
            name: format!("f{slot}"),
            slot,
            value,
        }
    }

    #[test]
    fn matching_is_unordered_partial_and_one_to_one() {
        let received = vec![
            vec![Value::str("a"), Value::Int(1)],
            vec![Value::str("a"), Value::Int(2)],
        ];
        // The loose expectation must not take the only record the strict one matches.
        let expected = vec![
            vec![field(0, Value::str("a"))],
            vec![field(1, Value::Int(1))],
        ];
        assert_eq!(match_records(&expected, &received), vec![Some(1), Some(0)]);
        let too_many = vec![vec![field(1, Value::Int(2))], vec![field(1, Value::Int(2))]];
        assert_eq!(match_records(&too_many, &received), vec![Some(1), None]);
    }

    #[test]
    fn numbers_compare_numerically() {
        assert!(values_match(
            &Value::Float(80.0),
            &Value::Float(80.00000000000001)
        ));
        assert!(values_match(&Value::Float(2.0), &Value::Int(2)));
        assert!(!values_match(&Value::Float(2.5), &Value::Int(2)));
        assert!(!values_match(&Value::Int(2), &Value::str("2")));
    }
}
