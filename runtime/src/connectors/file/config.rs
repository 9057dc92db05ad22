//! The typed configuration of `file(…)`, read strictly from a connector call.

use std::path::PathBuf;

use weir_engine::plan::{ConnectorCall, OptionValue};

use super::KIND;
use crate::connectors::byte_size::parse_size;
use crate::connectors::options::{describe, OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;
use crate::connectors::suggest::did_you_mean;
use crate::format::Format;

/// The options of `file(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "path",
        kind: OptionKind::Text,
        positional: true,
        default: None,
        doc: "The file to read or write; relative paths start at the current directory.",
    },
    OptionSpec {
        name: "format",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "`jsonl` or `csv`; by default from the extension (.jsonl/.ndjson/.json, .csv).",
    },
    OptionSpec {
        name: "replay",
        kind: OptionKind::Custom("a speed such as `60x` or `max`"),
        positional: false,
        default: Some("max"),
        doc: "Source only: pace records by their event time, `60x` = sixty times faster than they were recorded; `max` reads as fast as possible. Needs `event_time`.",
    },
    OptionSpec {
        name: "follow",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("false"),
        doc: "Source only: at the end of the file, wait for more lines (like `tail -f`) until the run is stopped.",
    },
    OptionSpec {
        name: "max_line",
        kind: OptionKind::Custom("a size such as `1MiB`"),
        positional: false,
        default: Some("1MiB"),
        doc: "Source only: the longest line (a CSV record, quoted line breaks included) read; a longer one goes to the error route, only its first 4 KiB kept in `raw`.",
    },
];

/// `max_line` when not given: longer than any sane record, small enough that a file
/// without newlines cannot exhaust memory.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// How fast a file source plays its records.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Replay {
    /// As fast as possible (the default).
    Max,
    /// Paced by event time, this many times faster than recorded (`60x`).
    Speed(f64),
}

impl Replay {
    /// Reads `max` or a speed such as `60x`, `0.5x`.
    pub fn from_word(word: &str) -> Option<Replay> {
        if word == "max" {
            return Some(Replay::Max);
        }
        let speed: f64 = word.strip_suffix('x')?.replace('_', "").parse().ok()?;
        (speed.is_finite() && speed > 0.0).then_some(Replay::Speed(speed))
    }
}

/// A checked `file(…)` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct FileConfig {
    /// The path as written.
    pub path: PathBuf,
    /// The record format.
    pub format: Format,
    /// Pacing of a source.
    pub replay: Replay,
    /// Whether a source waits for the file to grow at its end.
    pub follow: bool,
    /// Bytes of one line (CSV: one record) a source reads, at most.
    pub max_line: usize,
}

impl FileConfig {
    /// Whether workers can share the file by byte range: JSON lines (one record per line,
    /// unlike CSV, whose quoted fields may hold newlines), read once as fast as possible.
    pub fn shareable(&self) -> bool {
        self.format == Format::Jsonl && !self.follow && self.replay == Replay::Max
    }

    /// Reads `call`, rejecting unknown options and a format that cannot be told.
    pub fn from_call(call: &ConnectorCall) -> Result<FileConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("path", "file(\"out/result.jsonl\")");
        let path = r.text("path").map(PathBuf::from);
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            r.problem(ConfigProblem::option("path", "the path of `file` is empty"));
        }
        let format = match r.word("format") {
            Some(name) => match Format::from_name(name) {
                Some(f) => Some(f),
                None => {
                    let help = match did_you_mean(name, Format::NAMES) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "write `format: jsonl` or `format: csv`".to_string(),
                    };
                    r.problem(
                        ConfigProblem::option("format", format!("unknown format `{name}`"))
                            .with_help(help),
                    );
                    None
                }
            },
            None if r.has("format") => None,
            None => match &path {
                Some(p) if !p.as_os_str().is_empty() => {
                    let format = Format::from_path(p);
                    if format.is_none() {
                        r.problem(
                            ConfigProblem::option(
                                "format",
                                format!(
                                    "cannot tell the format of `{}` from its extension",
                                    p.display()
                                ),
                            )
                            .with_help("add `format: jsonl` or `format: csv`"),
                        );
                    }
                    format
                }
                _ => None,
            },
        };
        let replay = match r.raw("replay") {
            None => Replay::Max,
            Some(value) => {
                let word = match value {
                    OptionValue::Ident(w) | OptionValue::Str(w) => Replay::from_word(w),
                    _ => None,
                };
                word.unwrap_or_else(|| {
                    r.problem(
                        ConfigProblem::option(
                            "replay",
                            format!(
                                "`replay` takes a speed such as `60x` or `max`, found {}",
                                describe(value)
                            ),
                        )
                        .with_help("write `replay: 60x` to play 60 times faster than recorded, or `replay: max`"),
                    );
                    Replay::Max
                })
            }
        };
        let follow = r.boolean("follow").unwrap_or(false);
        let max_line = max_line(&mut r);
        let config = match (path, format) {
            (Some(path), Some(format)) => Some(FileConfig {
                path,
                format,
                replay,
                follow,
                max_line,
            }),
            _ => None,
        };
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call(
                "`file` needs a path and a format",
            )]),
            Err(problems) => Err(problems),
        }
    }
}

/// Reads `max_line`: a size such as `1MiB` or `64KB` (KB/MB powers of 1000, KiB/MiB of 1024).
fn max_line(r: &mut OptionReader<'_>) -> usize {
    let Some(value) = r.raw("max_line") else {
        return DEFAULT_MAX_LINE;
    };
    let size = match value {
        OptionValue::Ident(w) | OptionValue::Str(w) => parse_size(w),
        _ => None,
    };
    match size.and_then(|s| usize::try_from(s).ok()) {
        Some(bytes) => bytes,
        None => {
            r.problem(
                ConfigProblem::option(
                    "max_line",
                    format!(
                        "`max_line` takes a size such as `1MiB`, found {}",
                        describe(value)
                    ),
                )
                .with_help("write e.g. `max_line: 1MiB` or `max_line: 64KB`"),
            );
            DEFAULT_MAX_LINE
        }
    }
}
