//! The `on error to <sink>` route: records a source could not read, as records a sink
//! can write, so malformed input never vanishes.

use crate::io::BadRecord;
use crate::schema::{Field, Schema, Type};
use crate::value::{Record, Value};

/// Fields of a record sent to an error route, in order: the source name, where the input
/// was (`file.jsonl:17`, a topic), the field to blame (null if none), why it was rejected,
/// and the raw input as read.
pub const ERROR_FIELDS: [&str; 5] = [
    "error.source",
    "error.location",
    "error.field",
    "error.reason",
    "error.raw",
];

/// The schema of the records an error route receives (all strings; `error.field` nullable).
pub fn error_schema() -> Schema {
    Schema::new(
        ERROR_FIELDS
            .iter()
            .map(|&name| {
                if name == "error.field" {
                    Field::nullable(name, Type::String)
                } else {
                    Field::new(name, Type::String)
                }
            })
            .collect(),
    )
}

/// A rejected input as a record of [`error_schema`].
pub fn error_record(bad: &BadRecord) -> Record {
    vec![
        Value::str(&bad.source),
        Value::str(&bad.location),
        bad.field.as_deref().map_or(Value::Null, Value::str),
        Value::str(&bad.reason),
        Value::str(&bad.raw),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_record_fills_every_error_field() {
        let bad = BadRecord {
            source: "readings".into(),
            location: "in.jsonl:3".into(),
            field: None,
            reason: "not JSON".into(),
            raw: "{oops".into(),
        };
        let record = error_record(&bad);
        assert_eq!(record.len(), error_schema().fields.len());
        assert_eq!(record[2], Value::Null);
        assert_eq!(record[4], Value::str("{oops"));
    }
}
