//! The connector catalog given to the checker, so `weir check` validates connector
//! options before anything runs.

use weir_dsl::{ConnectorCatalog, ModelLoadError, Role, SinkFieldIssue, SinkFieldProblem};
use weir_engine::ml::ModelSignature;
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::Schema;

use crate::connectors;
use crate::connectors::sink_fields::FieldIssue;

/// Validates calls against the built-in connectors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Catalog;

impl ConnectorCatalog for Catalog {
    fn check(
        &self,
        call: &ConnectorCall,
        role: Role,
        schema: Option<&Schema>,
    ) -> Vec<(Option<String>, String, Option<String>)> {
        let role = match role {
            Role::Source => connectors::Role::Source,
            Role::Sink => connectors::Role::Sink,
            Role::Table => connectors::Role::Table,
        };
        connectors::validate(call, role, schema)
            .into_iter()
            .map(|p| (p.option, p.message, p.help))
            .collect()
    }

    fn check_sink_fields(&self, call: &ConnectorCall, records: &Schema) -> Vec<SinkFieldProblem> {
        connectors::sink_fields::check_sink_fields(call, records)
            .into_iter()
            .map(|(issue, p)| SinkFieldProblem {
                option: p.option.unwrap_or_default(),
                issue: match issue {
                    FieldIssue::Unknown => SinkFieldIssue::Unknown,
                    FieldIssue::WrongType => SinkFieldIssue::WrongType,
                    FieldIssue::NoLists => SinkFieldIssue::NoLists,
                },
                message: p.message,
                help: p.help,
            })
            .collect()
    }

    fn file_of(&self, call: &ConnectorCall, _role: Role) -> Option<String> {
        let path = match call.kind.as_str() {
            connectors::file::KIND => connectors::file::FileConfig::from_call(call).ok()?.path,
            connectors::csv::KIND => connectors::csv::CsvTableConfig::from_call(call).ok()?.path,
            #[cfg(feature = "parquet")]
            connectors::parquet::KIND => {
                connectors::parquet::ParquetConfig::from_call(call)
                    .ok()?
                    .path
            }
            _ => return None,
        };
        Some(path.display().to_string())
    }

    /// JSON lines write each record with its own field names: `stdout()` and `file`
    /// sinks in that format take records of any shape. CSV (a header) does not.
    fn writes_any_shape(&self, call: &ConnectorCall) -> bool {
        let format = match call.kind.as_str() {
            connectors::stdout::KIND => connectors::stdout::StdoutConfig::from_call(call)
                .map(|c| c.format)
                .ok(),
            connectors::file::KIND => connectors::file::FileConfig::from_call(call)
                .map(|c| c.format)
                .ok(),
            _ => None,
        };
        format == Some(crate::format::Format::Jsonl)
    }

    fn hands_back_undelivered(&self, call: &ConnectorCall) -> bool {
        // An MQTT sink hands back what a stop left unpublished (its broker away).
        // A postgres sink hands back the rows the server refused.
        call.kind == connectors::webhook::KIND
            || call.kind == connectors::smtp::KIND
            || call.kind == connectors::mqtt::KIND
            || call.kind == connectors::postgres::KIND
    }

    /// Several publishers on a broker interleave; the simulator's `jitter` reorders on
    /// purpose. Files are read in their own order.
    /// A broker subscription is pushed to: MQTT can drop what the pipeline cannot take.
    fn may_drop_on_overload(&self, call: &ConnectorCall) -> bool {
        call.kind == connectors::mqtt::KIND
    }

    fn may_arrive_out_of_order(&self, call: &ConnectorCall) -> bool {
        match call.kind.as_str() {
            connectors::mqtt::KIND => true,
            connectors::sensors::KIND => {
                matches!(call.option("jitter"), Some(OptionValue::Duration(ms)) if *ms > 0)
            }
            _ => false,
        }
    }

    /// Reads the model file (relative paths from the current directory, as `weir run`
    /// resolves them).
    fn model_signature(
        &self,
        format: &str,
        path: &str,
    ) -> Result<Option<ModelSignature>, ModelLoadError> {
        crate::model::signature(format, std::path::Path::new(path)).map(Some)
    }
}
