//! The typed configuration of `postgres(…)`, read strictly from a connector call.

use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::Schema;

use super::KIND;
use crate::connectors::options::{describe, OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;
use crate::connectors::sink_fields::FieldIssue;
use crate::connectors::suggest::did_you_mean;

/// The options of `postgres(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "url_env",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "The environment variable holding the connection URL (`postgres://user:password@host:5432/db`); the URL itself is never written in the .pipe file nor printed.",
    },
    OptionSpec {
        name: "table",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "The table to write, optionally with its schema (`\"telemetry.device_minutes\"`).",
    },
    OptionSpec {
        name: "key",
        kind: OptionKind::Custom("a field or a list of fields, such as `[device_id, window.start]`"),
        positional: false,
        default: Some("[]"),
        doc: "The fields that identify a row: the primary key of a created table, the conflict target of `upsert`.",
    },
    OptionSpec {
        name: "mode",
        kind: OptionKind::Word,
        positional: false,
        default: Some("append"),
        doc: "`append`: insert every record; `upsert`: a record whose key is in the table replaces that row.",
    },
    OptionSpec {
        name: "create",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("false"),
        doc: "Create the table (`CREATE TABLE IF NOT EXISTS`) with columns typed from the records.",
    },
    OptionSpec {
        name: "batch",
        kind: OptionKind::Int,
        positional: false,
        default: Some("500"),
        doc: "Rows per INSERT statement at most.",
    },
    OptionSpec {
        name: "retries",
        kind: OptionKind::Int,
        positional: false,
        default: Some("5"),
        doc: "Attempts after the first for a batch that failed transiently (a lost connection, a deadlock).",
    },
    OptionSpec {
        name: "backoff",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("200ms"),
        doc: "The wait before the first retry; doubled before each next one.",
    },
];

/// What a record does to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `INSERT` every record.
    Append,
    /// `INSERT … ON CONFLICT (key) DO UPDATE`: the latest record per key.
    Upsert,
}

/// A checked `postgres(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresConfig {
    /// The environment variable holding the URL.
    pub url_env: String,
    /// The table, as written (`schema.table` or `table`).
    pub table: String,
    /// Key fields (pipeline names).
    pub key: Vec<String>,
    /// Append or upsert.
    pub mode: Mode,
    /// Create the table when it does not exist.
    pub create: bool,
    /// Rows per statement at most.
    pub batch: usize,
    /// Retries of a transient failure.
    pub retries: u32,
    /// First wait between attempts, ms.
    pub backoff_ms: u64,
}

impl PostgresConfig {
    /// Reads `call`, collecting every problem.
    pub fn from_call(call: &ConnectorCall) -> Result<PostgresConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require(
            "url_env",
            "postgres(url_env: \"PG_URL\", table: \"readings\")",
        );
        r.require(
            "table",
            "postgres(url_env: \"PG_URL\", table: \"readings\")",
        );
        let url_env = r.text("url_env").map(str::to_string);
        let table = r.text("table").map(str::to_string);
        if let Some(t) = &table {
            if !valid_table(t) {
                r.problem(
                    ConfigProblem::option("table", format!("`{t}` is not a table name"))
                        .with_help("write `table: \"name\"` or `table: \"schema.name\"` (letters, digits and `_`)"),
                );
            }
        }
        let key = match r.raw("key") {
            None => Vec::new(),
            Some(value) => key_fields(value, &mut r),
        };
        let mode = match r.word("mode") {
            None | Some("append") => Mode::Append,
            Some("upsert") => Mode::Upsert,
            Some(other) => {
                let help = match did_you_mean(other, ["append", "upsert"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "write `mode: append` or `mode: upsert`".to_string(),
                };
                r.problem(
                    ConfigProblem::option("mode", format!("unknown mode `{other}`"))
                        .with_help(help),
                );
                Mode::Append
            }
        };
        if mode == Mode::Upsert && key.is_empty() && r.has("mode") {
            r.problem(
                ConfigProblem::option(
                    "mode",
                    "`mode: upsert` needs the `key` that identifies a row",
                )
                .with_help("add e.g. `key: [device_id, window.start]`"),
            );
        }
        let create = r.boolean("create").unwrap_or(false);
        let batch = positive(&mut r, "batch", 500, "batch: 500");
        let retries = match r.int("retries") {
            Some(n) if n >= 0 => n as u32,
            Some(n) => {
                r.problem(ConfigProblem::option(
                    "retries",
                    format!("`retries` cannot be negative, found {n}"),
                ));
                0
            }
            None => 5,
        };
        let backoff_ms = r.duration("backoff").map_or(200, |ms| ms.max(0) as u64);
        let config = match (url_env, table) {
            (Some(url_env), Some(table)) => Some(PostgresConfig {
                url_env,
                table,
                key,
                mode,
                create,
                batch,
                retries,
                backoff_ms,
            }),
            _ => None,
        };
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call(
                "`postgres` needs `url_env` and `table`",
            )]),
            Err(problems) => Err(problems),
        }
    }

    /// Key fields the records lack, or that may be null (a key column is `NOT NULL`).
    pub fn field_problems(&self, schema: &Schema) -> Vec<(FieldIssue, ConfigProblem)> {
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        let mut problems = Vec::new();
        for key in &self.key {
            match schema.fields.iter().find(|f| f.name == *key) {
                None => {
                    let help = match did_you_mean(key, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("key by some of: {}", names.join(", ")),
                    };
                    problems.push((
                        FieldIssue::Unknown,
                        ConfigProblem::option(
                            "key",
                            format!("the key names `{key}`, which the records do not have"),
                        )
                        .with_help(help),
                    ));
                }
                Some(f) if f.nullable => problems.push((
                    FieldIssue::WrongType,
                    ConfigProblem::option(
                        "key",
                        format!("the key field `{key}` may be null, and a key column cannot be"),
                    )
                    .with_help(format!(
                        "give `{key}` a value before the sink (`map {key} = coalesce({key}, …)`) or key by other fields"
                    )),
                )),
                Some(_) => {}
            }
        }
        problems
    }
}

fn positive(r: &mut OptionReader<'_>, name: &str, default: usize, example: &str) -> usize {
    match r.int(name) {
        None => default,
        Some(n) if n > 0 => n as usize,
        Some(n) => {
            r.problem(
                ConfigProblem::option(name, format!("`{name}` must be positive, found {n}"))
                    .with_help(format!("write e.g. `{example}`")),
            );
            default
        }
    }
}

/// `name` or `schema.name`, each part a plain SQL identifier.
fn valid_table(table: &str) -> bool {
    let parts: Vec<&str> = table.split('.').collect();
    parts.len() <= 2
        && parts.iter().all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn key_fields(value: &OptionValue, r: &mut OptionReader<'_>) -> Vec<String> {
    let items = match value {
        OptionValue::List(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut keys: Vec<String> = Vec::new();
    for item in items {
        match item {
            OptionValue::Ident(f) | OptionValue::Str(f) if !keys.contains(f) => {
                keys.push(f.clone())
            }
            OptionValue::Ident(f) | OptionValue::Str(f) => r.problem(ConfigProblem::option(
                "key",
                format!("the key names `{f}` twice"),
            )),
            other => r.problem(
                ConfigProblem::option(
                    "key",
                    format!("`key` takes field names, found {}", describe(other)),
                )
                .with_help("write e.g. `key: [device_id, window.start]`"),
            ),
        }
    }
    keys
}
