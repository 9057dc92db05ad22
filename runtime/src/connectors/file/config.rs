//! The typed configuration of `file(…)`, read strictly from a connector call.

use std::path::PathBuf;

use weir_engine::plan::ConnectorCall;

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
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
];

/// A checked `file(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileConfig {
    /// The path as written.
    pub path: PathBuf,
    /// The record format.
    pub format: Format,
}

impl FileConfig {
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
        let config = match (path, format) {
            (Some(path), Some(format)) => Some(FileConfig { path, format }),
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
