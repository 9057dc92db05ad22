//! Hive-style partitions: `partition_by` keys and the directory (`date=…/hour=…`) a
//! record belongs to.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};
use weir_engine::schema::{Schema, Type};
use weir_engine::value::Value;

use crate::connectors::problem::ConfigProblem;
use crate::connectors::sink_fields::FieldIssue;
use crate::connectors::suggest::did_you_mean;

/// One `partition_by` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionKey {
    /// A field's value: `device_id=d1`.
    Field(String),
    /// A part of a timestamp field, in UTC: `date(ts)` → `date=2024-05-01`.
    Time {
        /// Which part.
        part: TimePart,
        /// The timestamp field.
        field: String,
    },
}

/// Parts of a timestamp that can name a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    /// `date=2024-05-01`
    Date,
    /// `year=2024`
    Year,
    /// `month=05`
    Month,
    /// `day=01`
    Day,
    /// `hour=10`
    Hour,
}

impl TimePart {
    /// The functions users may write in `partition_by`.
    pub const NAMES: [&'static str; 5] = ["date", "year", "month", "day", "hour"];

    /// The part called `name`.
    pub fn from_name(name: &str) -> Option<TimePart> {
        Some(match name {
            "date" => TimePart::Date,
            "year" => TimePart::Year,
            "month" => TimePart::Month,
            "day" => TimePart::Day,
            "hour" => TimePart::Hour,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl PartitionKey {
    /// The field the key reads.
    pub fn field(&self) -> &str {
        match self {
            PartitionKey::Field(f) | PartitionKey::Time { field: f, .. } => f,
        }
    }

    /// The key as written, reading `field` instead (`hour(ts)` for a suggestion).
    fn with_field(&self, field: &str) -> String {
        match self {
            PartitionKey::Field(_) => field.to_string(),
            PartitionKey::Time { part, .. } => format!("{}({field})", part.name()),
        }
    }
}

/// Partition keys that do not fit records of `schema`: a field they lack (with a "did
/// you mean"), or a `date(…)`-style key of a field that is not a timestamp.
pub fn field_problems(keys: &[PartitionKey], schema: &Schema) -> Vec<(FieldIssue, ConfigProblem)> {
    let mut problems = Vec::new();
    let names = || schema.fields.iter().map(|f| f.name.as_str());
    for key in keys {
        let field = key.field();
        let Some(slot) = schema.slot(field) else {
            let help = match did_you_mean(field, names()) {
                Some(s) => format!("did you mean `{}`?", key.with_field(s)),
                None => "partition by a field the records have, or add it with a `map` stage \
                         before `to`"
                    .to_string(),
            };
            problems.push((
                FieldIssue::Unknown,
                ConfigProblem::option(
                    "partition_by",
                    format!("`partition_by` names `{field}`, which the records written here do not have"),
                )
                .with_help(help),
            ));
            continue;
        };
        let ty = schema.fields[slot].ty;
        if let PartitionKey::Time { part, .. } = key {
            if ty != Type::Timestamp {
                let stamps: Vec<&str> = schema
                    .fields
                    .iter()
                    .filter(|f| f.ty == Type::Timestamp)
                    .map(|f| f.name.as_str())
                    .collect();
                let help = match stamps.first() {
                    Some(ts) => format!(
                        "use a timestamp field, e.g. `{}({ts})`, or partition by `{field}` itself",
                        part.name()
                    ),
                    None => format!("partition by `{field}` itself"),
                };
                problems.push((
                    FieldIssue::WrongType,
                    ConfigProblem::option(
                        "partition_by",
                        format!(
                            "`{}({field})` needs a timestamp field, but `{field}` is {ty}",
                            part.name()
                        ),
                    )
                    .with_help(help),
                ));
            }
        }
    }
    problems
}

/// Partition keys resolved against the schema of the records written.
#[derive(Clone, Debug)]
pub(crate) struct Partitioner {
    keys: Vec<(PartitionKey, usize)>,
}

impl Partitioner {
    /// Resolves `keys` against `schema`; the error says which key does not fit.
    pub(crate) fn new(keys: &[PartitionKey], schema: &Schema) -> Result<Partitioner, String> {
        let mut resolved = Vec::new();
        for key in keys {
            let Some(slot) = schema.slot(key.field()) else {
                let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
                return Err(format!(
                    "`partition_by` names `{}`, which the records written here do not have (they have: {})",
                    key.field(),
                    names.join(", ")
                ));
            };
            let ty = schema.fields[slot].ty;
            if let PartitionKey::Time { part, field } = key {
                if ty != Type::Timestamp {
                    return Err(format!(
                        "`{}({field})` needs a timestamp field, but `{field}` is {ty}",
                        part.name()
                    ));
                }
            }
            resolved.push((key.clone(), slot));
        }
        Ok(Partitioner { keys: resolved })
    }

    /// The relative directory of `record` (`date=2024-05-01/hour=10`; empty without keys).
    pub(crate) fn directory(&self, record: &[Value]) -> String {
        let mut dir = String::new();
        for (key, slot) in &self.keys {
            if !dir.is_empty() {
                dir.push('/');
            }
            let value = &record[*slot];
            match key {
                PartitionKey::Field(name) => {
                    escape_into(&mut dir, name);
                    dir.push('=');
                    match value {
                        Value::Null => dir.push_str(NULL_PARTITION),
                        Value::Str(s) if s.is_empty() => dir.push_str(NULL_PARTITION),
                        Value::Str(s) => escape_into(&mut dir, s),
                        Value::Time(t) => {
                            escape_into(&mut dir, &weir_engine::time::format_timestamp(*t))
                        }
                        other => escape_into(&mut dir, &other.to_string()),
                    }
                }
                PartitionKey::Time { part, .. } => {
                    dir.push_str(part.name());
                    dir.push('=');
                    match value
                        .as_i64()
                        .and_then(DateTime::<Utc>::from_timestamp_millis)
                    {
                        None => dir.push_str(NULL_PARTITION),
                        Some(t) => {
                            let _ = match part {
                                TimePart::Date => {
                                    write!(dir, "{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
                                }
                                TimePart::Year => write!(dir, "{:04}", t.year()),
                                TimePart::Month => write!(dir, "{:02}", t.month()),
                                TimePart::Day => write!(dir, "{:02}", t.day()),
                                TimePart::Hour => write!(dir, "{:02}", t.hour()),
                            };
                        }
                    }
                }
            }
        }
        dir
    }
}

/// The directory value Hive, Spark and pyarrow use for a null partition value.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Appends `text` with the characters Hive escapes in path segments written as `%XX`,
/// so a value can never climb out of its directory (`/`, `..`) or break `key=value`.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        let escape = c.is_control()
            || matches!(
                c,
                '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
            )
            || (c == '.' && text.chars().all(|c| c == '.'));
        if escape {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
}
