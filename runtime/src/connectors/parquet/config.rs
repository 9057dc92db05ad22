//! The typed configuration of `parquet(…)`, read strictly from a connector call.

use std::path::PathBuf;

use weir_engine::plan::{ConnectorCall, OptionValue};

use super::partition::{PartitionKey, TimePart};
use super::KIND;
use crate::connectors::options::{describe, OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;
use crate::connectors::suggest::did_you_mean;

/// The options of `parquet(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "path",
        kind: OptionKind::Text,
        positional: true,
        default: None,
        doc: "The lake directory; partitions and files are created below it.",
    },
    OptionSpec {
        name: "partition_by",
        kind: OptionKind::Custom("a list of fields and `date(ts)`, `year(ts)`, `month(ts)`, `day(ts)`, `hour(ts)`"),
        positional: false,
        default: Some("[]"),
        doc: "Hive-style partition directories, outermost first: `[date(ts), hour(ts)]` → `date=2024-05-01/hour=10/`.",
    },
    OptionSpec {
        name: "row_group_size",
        kind: OptionKind::Int,
        positional: false,
        default: Some("64k"),
        doc: "Rows per Parquet row group (the unit readers skip and read in parallel).",
    },
    OptionSpec {
        name: "rotate",
        kind: OptionKind::Custom("a duration such as `5m`, a size such as `128MB`, or both: `[5m, 128MB]`"),
        positional: false,
        default: None,
        doc: "Close a file and start the next after it has been open this long and/or has reached this size; without it a file is closed when the run ends.",
    },
    OptionSpec {
        name: "compression",
        kind: OptionKind::Word,
        positional: false,
        default: Some("snappy"),
        doc: "`snappy` or `none`.",
    },
    OptionSpec {
        name: "column_names",
        kind: OptionKind::Word,
        positional: false,
        default: Some("underscore"),
        doc: "`underscore`: nested fields become `window_start`, a name SQL takes without quotes; `dotted`: keep `window.start`.",
    },
];

/// How a nested field (`window.start`) is named as a Parquet column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnNames {
    /// `window_start`: SQL engines read `window.start` as column `start` of table
    /// `window`, so a dotted name would need quotes in every query.
    Underscore,
    /// `window.start`, exactly as in the pipeline.
    Dotted,
}

impl ColumnNames {
    /// The column name of pipeline field `field`.
    pub fn column(self, field: &str) -> String {
        match self {
            ColumnNames::Underscore => field.replace('.', "_"),
            ColumnNames::Dotted => field.to_string(),
        }
    }
}

/// Compression of the column chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Snappy (fast, the usual choice for lakes).
    Snappy,
    /// Uncompressed.
    None,
}

/// A checked `parquet(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetConfig {
    /// The lake directory.
    pub path: PathBuf,
    /// Partition keys, outermost first.
    pub partition_by: Vec<PartitionKey>,
    /// Rows per row group.
    pub row_group_size: usize,
    /// Close a file after it has been open this long (ms of processing time).
    pub rotate_after_ms: Option<i64>,
    /// Close a file once it holds this many bytes.
    pub rotate_bytes: Option<u64>,
    /// Column compression.
    pub compression: Compression,
    /// How nested fields are named as columns.
    pub column_names: ColumnNames,
}

impl ParquetConfig {
    /// Reads `call`, collecting every problem.
    pub fn from_call(call: &ConnectorCall) -> Result<ParquetConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("path", "parquet(\"lake/telemetry\")");
        let path = r.text("path").map(PathBuf::from);
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            r.problem(ConfigProblem::option(
                "path",
                "the path of `parquet` is empty",
            ));
        }
        let partition_by = match r.raw("partition_by") {
            None => Vec::new(),
            Some(value) => partition_keys(value, &mut r),
        };
        let row_group_size = match r.int("row_group_size") {
            None => 65_536,
            Some(n) if n > 0 => n as usize,
            Some(n) => {
                r.problem(
                    ConfigProblem::option(
                        "row_group_size",
                        format!("`row_group_size` must be positive, found {n}"),
                    )
                    .with_help("write e.g. `row_group_size: 64k`"),
                );
                1
            }
        };
        let (mut rotate_after_ms, mut rotate_bytes) = (None, None);
        if let Some(value) = r.raw("rotate") {
            let items = match value {
                OptionValue::List(items) => items.as_slice(),
                one => std::slice::from_ref(one),
            };
            for item in items {
                match item {
                    OptionValue::Duration(ms) if *ms > 0 && rotate_after_ms.is_none() => {
                        rotate_after_ms = Some(*ms)
                    }
                    OptionValue::Ident(word)
                        if parse_size(word).is_some() && rotate_bytes.is_none() =>
                    {
                        rotate_bytes = parse_size(word)
                    }
                    other => r.problem(
                        ConfigProblem::option(
                            "rotate",
                            format!(
                                "`rotate` takes a duration, a size or one of each, found {}",
                                describe(other)
                            ),
                        )
                        .with_help(
                            "write e.g. `rotate: 5m`, `rotate: 128MB` or `rotate: [5m, 128MB]`",
                        ),
                    ),
                }
            }
        }
        let compression = match r.word("compression") {
            None | Some("snappy") => Compression::Snappy,
            Some("none") => Compression::None,
            Some(other) => {
                let help = match did_you_mean(other, ["snappy", "none"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "write `compression: snappy` or `compression: none`".to_string(),
                };
                r.problem(
                    ConfigProblem::option("compression", format!("unknown compression `{other}`"))
                        .with_help(help),
                );
                Compression::Snappy
            }
        };
        let column_names = match r.word("column_names") {
            None | Some("underscore") => ColumnNames::Underscore,
            Some("dotted") => ColumnNames::Dotted,
            Some(other) => {
                let help = match did_you_mean(other, ["underscore", "dotted"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "write `column_names: underscore` (`window_start`) or `column_names: dotted` (`window.start`)".to_string(),
                };
                r.problem(
                    ConfigProblem::option(
                        "column_names",
                        format!("unknown column naming `{other}`"),
                    )
                    .with_help(help),
                );
                ColumnNames::Underscore
            }
        };
        let config = path.map(|path| ParquetConfig {
            path,
            partition_by,
            row_group_size,
            rotate_after_ms,
            rotate_bytes,
            compression,
            column_names,
        });
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call("`parquet` needs a path")]),
            Err(problems) => Err(problems),
        }
    }
}

fn partition_keys(value: &OptionValue, r: &mut OptionReader<'_>) -> Vec<PartitionKey> {
    let items = match value {
        OptionValue::List(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut keys = Vec::new();
    for item in items {
        match item {
            OptionValue::Ident(field) | OptionValue::Str(field) => keys.push(PartitionKey::Field(field.clone())),
            OptionValue::Call { func, args } => {
                let Some(part) = TimePart::from_name(func) else {
                    let help = match did_you_mean(func, TimePart::NAMES) {
                        Some(s) => format!("did you mean `{s}({})`?", args.iter().map(|a| describe(a).trim_matches('`').to_string()).collect::<Vec<_>>().join(", ")),
                        None => "partition functions are `date`, `year`, `month`, `day` and `hour`".to_string(),
                    };
                    r.problem(
                        ConfigProblem::option("partition_by", format!("unknown partition function `{func}`"))
                            .with_help(help),
                    );
                    continue;
                };
                match args.as_slice() {
                    [OptionValue::Ident(field)] => keys.push(PartitionKey::Time { part, field: field.clone() }),
                    _ => r.problem(
                        ConfigProblem::option(
                            "partition_by",
                            format!("`{func}` takes one timestamp field, as in `{func}(ts)`"),
                        ),
                    ),
                }
            }
            other => r.problem(
                ConfigProblem::option(
                    "partition_by",
                    format!("`partition_by` takes fields and `date(ts)`-style keys, found {}", describe(other)),
                )
                .with_help("write e.g. `partition_by: [date(ts), hour(ts)]` or `partition_by: [device_id]`"),
            ),
        }
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            r.problem(ConfigProblem::option(
                "partition_by",
                "`partition_by` names the same key twice",
            ));
            break;
        }
    }
    keys
}

pub use crate::connectors::byte_size::parse_size;
