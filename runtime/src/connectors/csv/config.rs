//! The typed configuration of `csv(…)` tables, read strictly from a connector call.

use std::path::PathBuf;

use weir_engine::plan::ConnectorCall;

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `csv(…)`.
pub const OPTIONS: &[OptionSpec] = &[OptionSpec {
    name: "path",
    kind: OptionKind::Text,
    positional: true,
    default: None,
    doc: "The CSV file, with a header row naming the table's fields; relative paths start at the current directory.",
}];

/// A checked `csv(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvTableConfig {
    /// The file.
    pub path: PathBuf,
}

impl CsvTableConfig {
    /// Reads `call`, collecting every problem.
    pub fn from_call(call: &ConnectorCall) -> Result<CsvTableConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("path", "csv(\"data/devices.csv\")");
        let path = r.text("path").map(PathBuf::from);
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            r.problem(ConfigProblem::option("path", "the path of `csv` is empty"));
        }
        match r.finish(path) {
            Ok(Some(path)) => Ok(CsvTableConfig { path }),
            Ok(None) => Err(vec![ConfigProblem::call("`csv` needs a path")]),
            Err(problems) => Err(problems),
        }
    }
}
