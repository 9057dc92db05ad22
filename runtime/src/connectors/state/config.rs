//! The typed configuration of `state(…)`, read strictly from a connector call.

use std::path::PathBuf;

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `state(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "key",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "The field records are kept by (one record per value).",
    },
    OptionSpec {
        name: "ttl",
        kind: OptionKind::Duration,
        positional: false,
        default: None,
        doc: "Forget a key not updated for this long in event time (default: never).",
    },
    OptionSpec {
        name: "path",
        kind: OptionKind::Text,
        positional: false,
        default: Some("\".weir/state/<sink>.redb\""),
        doc: "The on-disk copy, read back when a run starts.",
    },
];

/// A checked `state(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConfig {
    /// The key field's name.
    pub key: String,
    /// Event-time expiry, in milliseconds.
    pub ttl_ms: Option<i64>,
    /// The on-disk copy, if set (else the default path for the sink).
    pub path: Option<PathBuf>,
}

impl StateConfig {
    /// Reads `call`, rejecting unknown options and bad values.
    pub fn from_call(call: &ConnectorCall) -> Result<StateConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("key", "state(key: device_id)");
        let key = r.word("key").map(str::to_string);
        let ttl_ms = r.duration("ttl");
        if ttl_ms.is_some_and(|t| t <= 0) {
            r.problem(ConfigProblem::option("ttl", "`ttl` must be positive"));
        }
        let path = r.text("path").map(PathBuf::from);
        match r.finish(key.map(|key| StateConfig { key, ttl_ms, path })) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call("`state` needs a `key` field")]),
            Err(problems) => Err(problems),
        }
    }

    /// The on-disk copy of sink `sink`.
    pub fn path_for(&self, sink: &str) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!(".weir/state/{sink}.redb")))
    }

    /// Problems with the key field for records of `schema` (it must exist).
    pub fn field_problems(&self, schema: &Schema) -> Vec<ConfigProblem> {
        if schema.slot(&self.key).is_some() {
            return Vec::new();
        }
        let fields: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        vec![ConfigProblem::option(
            "key",
            format!(
                "the records reaching this sink have no field `{}`",
                self.key
            ),
        )
        .with_help(format!("key by one of: {}", fields.join(", ")))]
    }
}
