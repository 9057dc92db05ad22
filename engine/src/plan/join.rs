//! Stream joins in the plan: which input is joined, on which key slots, and how event
//! times must relate for two records to pair (an interval, or a shared window).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::logical::PipelineInput;
use super::window::WindowKind;
use crate::schema::{Field, Schema, Type};
use crate::time::format_duration;

/// `join <input> [as <name>] on a = b, … [within <d> | window <kind>]`, resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinSpec {
    /// The other (right) input: a source or a pipeline.
    pub right: PipelineInput,
    /// Schema of the right input's records.
    pub right_schema: Schema,
    /// Prefix of the right side's fields in the output (`<name>.<field>`).
    pub name: String,
    /// Key slots in the left (this pipeline's) records.
    pub left_keys: Vec<usize>,
    /// Key slots in the right records, pairwise with `left_keys`.
    pub right_keys: Vec<usize>,
    /// How the two records' event times must relate.
    pub mode: JoinMode,
}

/// When two records with equal keys form a pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JoinMode {
    /// Incremental: a pair is emitted once, as soon as both records are present. With
    /// `within_ms`, only when `|t_left − t_right| ≤ within_ms`, and each record is kept
    /// until the other side's watermark passes `t + within_ms`; without it, records are
    /// kept for the whole run.
    Interval {
        /// The bound on the distance of the two event times (ms), if any.
        within_ms: Option<i64>,
    },
    /// Windowed: pairs whose event times fall in the same window (tumbling or sliding),
    /// emitted when the watermark passes the window's end, at the window's last instant.
    Window {
        /// The window kind.
        kind: WindowKind,
    },
}

/// Fields a windowed join appends after both sides' fields.
pub const JOIN_WINDOW_FIELDS: [(&str, Type); 2] = [
    ("window.start", Type::Timestamp),
    ("window.end", Type::Timestamp),
];

impl JoinSpec {
    /// The output schema over `left`: the left fields as they are, the right fields as
    /// `<name>.<field>`, then for a windowed join [`JOIN_WINDOW_FIELDS`].
    pub fn output_schema(&self, left: &Schema) -> Schema {
        let mut fields = left.fields.clone();
        fields.extend(self.right_schema.fields.iter().map(|f| Field {
            name: format!("{}.{}", self.name, f.name),
            ty: f.ty,
            nullable: f.nullable,
        }));
        if matches!(self.mode, JoinMode::Window { .. }) {
            fields.extend(JOIN_WINDOW_FIELDS.iter().map(|(n, t)| Field::new(*n, *t)));
        }
        Schema::new(fields)
    }
}

impl fmt::Display for JoinMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinMode::Interval {
                within_ms: Some(ms),
            } => write!(f, "within {}", format_duration(*ms)),
            JoinMode::Interval { within_ms: None } => f.write_str("unbounded"),
            JoinMode::Window { kind } => write!(f, "window {kind}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_fields_are_prefixed_and_windows_add_bounds() {
        let left = Schema::new(vec![Field::new("id", Type::Int)]);
        let mut spec = JoinSpec {
            right: PipelineInput::Source("auctions".into()),
            right_schema: Schema::new(vec![
                Field::new("seller", Type::Int),
                Field::nullable("reserve", Type::Int),
            ]),
            name: "a".into(),
            left_keys: vec![0],
            right_keys: vec![0],
            mode: JoinMode::Interval {
                within_ms: Some(5_000),
            },
        };
        let names = |s: Schema| s.fields.into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(
            names(spec.output_schema(&left)),
            ["id", "a.seller", "a.reserve"]
        );
        assert_eq!(spec.mode.to_string(), "within 5s");
        spec.mode = JoinMode::Window {
            kind: WindowKind::Tumbling {
                size_ms: 10_000,
                offset_ms: 0,
            },
        };
        let out = spec.output_schema(&left);
        assert!(out.fields[2].nullable);
        assert_eq!(
            names(out),
            ["id", "a.seller", "a.reserve", "window.start", "window.end"]
        );
    }
}
