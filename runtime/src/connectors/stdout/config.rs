//! The typed configuration of `stdout(…)`, read strictly from a connector call.

use weir_engine::plan::ConnectorCall;

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;
use crate::connectors::suggest::did_you_mean;
use crate::format::Format;

/// The options of `stdout(…)`.
pub const OPTIONS: &[OptionSpec] = &[OptionSpec {
    name: "format",
    kind: OptionKind::Word,
    positional: false,
    default: Some("jsonl"),
    doc: "`jsonl` (one JSON object per line) or `csv` (with a header row).",
}];

/// A checked `stdout(…)` configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StdoutConfig {
    /// The record format.
    pub format: Format,
}

impl StdoutConfig {
    /// Reads `call`, rejecting unknown options.
    pub fn from_call(call: &ConnectorCall) -> Result<StdoutConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        let mut config = StdoutConfig {
            format: Format::Jsonl,
        };
        if let Some(name) = r.word("format") {
            match Format::from_name(name) {
                Some(f) => config.format = f,
                None => {
                    let help = match did_you_mean(name, Format::NAMES) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "write `format: jsonl` or `format: csv`".to_string(),
                    };
                    r.problem(
                        ConfigProblem::option("format", format!("unknown format `{name}`"))
                            .with_help(help),
                    );
                }
            }
        }
        r.finish(config)
    }
}
