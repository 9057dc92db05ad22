//! The typed configuration of `metrics(…)` and the fields it can fill.

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::{Schema, Type};

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `metrics(…)`.
pub const OPTIONS: &[OptionSpec] = &[OptionSpec {
    name: "every",
    kind: OptionKind::Duration,
    positional: false,
    default: Some("10s"),
    doc: "How often a record is made (at least 100ms).",
}];

/// A checked `metrics(…)` configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsConfig {
    /// The interval, in milliseconds.
    pub every_ms: i64,
}

impl MetricsConfig {
    /// Reads `call`, rejecting unknown options and bad values.
    pub fn from_call(call: &ConnectorCall) -> Result<MetricsConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        let every_ms = r.duration("every").unwrap_or(10_000);
        if every_ms < 100 {
            r.problem(ConfigProblem::option(
                "every",
                "`every` must be at least 100ms",
            ));
        }
        r.finish(MetricsConfig { every_ms })
    }
}

/// A field `metrics(…)` can fill, by its name in the declared schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsField {
    /// `ts: timestamp`: when the record was made (wall clock).
    Time,
    /// `records_in: i64`: records read by the other sources so far.
    RecordsIn,
    /// `records_in_per_second: f64`: over the last interval.
    RecordsInPerSecond,
    /// `records_out: i64`: records written to sinks so far.
    RecordsOut,
    /// `malformed: i64`: malformed records so far.
    Malformed,
    /// `late_dropped: i64`: late elements dropped so far.
    LateDropped,
    /// `undelivered: i64`: records sinks gave up on so far.
    Undelivered,
    /// `lag_seconds: f64`: wall clock minus the least watermark of the other sources
    /// (null until they have one, so declare it `lag_seconds: f64?`).
    LagSeconds,
}

/// (name, type, field) of every fillable field.
const FIELDS: &[(&str, Type, MetricsField)] = &[
    ("ts", Type::Timestamp, MetricsField::Time),
    ("records_in", Type::Int, MetricsField::RecordsIn),
    (
        "records_in_per_second",
        Type::Float,
        MetricsField::RecordsInPerSecond,
    ),
    ("records_out", Type::Int, MetricsField::RecordsOut),
    ("malformed", Type::Int, MetricsField::Malformed),
    ("late_dropped", Type::Int, MetricsField::LateDropped),
    ("undelivered", Type::Int, MetricsField::Undelivered),
    ("lag_seconds", Type::Float, MetricsField::LagSeconds),
];

impl MetricsField {
    /// The field filling each declared field of `schema`, in order.
    pub fn for_schema(schema: &Schema) -> Result<Vec<MetricsField>, Vec<ConfigProblem>> {
        let mut fields = Vec::new();
        let mut problems = Vec::new();
        for declared in &schema.fields {
            match FIELDS.iter().find(|(name, _, _)| *name == declared.name) {
                Some((_, ty, field)) if *ty == declared.ty => {
                    if *field == MetricsField::LagSeconds && !declared.nullable {
                        problems.push(
                            ConfigProblem::call(
                                "`lag_seconds` is null until the sources have a watermark",
                            )
                            .with_help("declare it as `lag_seconds: f64?`"),
                        );
                    }
                    fields.push(*field)
                }
                Some((name, ty, _)) => problems.push(
                    ConfigProblem::call(format!(
                        "field `{name}` is declared `{}`, but `metrics` produces `{ty}` for it",
                        declared.ty
                    ))
                    .with_help(format!("declare it as `{name}: {ty}`")),
                ),
                None => {
                    let known: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
                    problems.push(
                        ConfigProblem::call(format!(
                            "`metrics` cannot fill field `{}`",
                            declared.name
                        ))
                        .with_help(format!("it fills: {}", known.join(", "))),
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(fields)
        } else {
            Err(problems)
        }
    }
}
