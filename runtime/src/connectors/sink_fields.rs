//! Sink options that name record fields, checked against the records that reach the
//! sink: an MQTT topic template (`alerts/{device_id}`), Parquet `partition_by` keys and
//! the `key` of a `state` hot store or a `postgres` table and the fields a `chart` plots.
//! `weir check` reports these (P0502, P0503) through the catalog; the sinks check the
//! same again when they open.

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;

use super::mqtt::{self, MqttConfig};
use super::problem::{ConfigProblem, Role};

/// What is wrong with a field a sink option names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldIssue {
    /// The records have no such field.
    Unknown,
    /// The field has a type the option cannot use.
    WrongType,
    /// The records hold a list (from `collect`) and the sink's format has no lists.
    NoLists,
}

/// Problems with the fields sink `call` names, for records of `schema`. A call whose
/// options are themselves wrong yields nothing here (those are reported as P0501).
pub fn check_sink_fields(
    call: &ConnectorCall,
    schema: &Schema,
) -> Vec<(FieldIssue, ConfigProblem)> {
    let mut problems = list_problems(call, schema);
    problems.extend(option_field_problems(call, schema));
    problems
}

/// A CSV sink (a `file` in CSV, an MQTT sink with `format: csv`) receiving list fields:
/// a cell holds one value, so `weir check` refuses it (P0235) rather than the run
/// inventing a list syntax of its own.
fn list_problems(call: &ConnectorCall, schema: &Schema) -> Vec<(FieldIssue, ConfigProblem)> {
    let csv = match call.kind.as_str() {
        super::file::KIND => super::file::FileConfig::from_call(call)
            .is_ok_and(|c| c.format == crate::format::Format::Csv),
        mqtt::KIND => MqttConfig::from_call(call, Role::Sink)
            .is_ok_and(|c| c.format == mqtt::payload::PayloadFormat::Csv),
        _ => false,
    };
    let lists: Vec<String> = schema
        .fields
        .iter()
        .filter(|f| matches!(f.ty, weir_engine::schema::Type::List(_)))
        .map(|f| format!("`{}` ({})", f.name, f.ty))
        .collect();
    if !csv || lists.is_empty() {
        return Vec::new();
    }
    let problem = ConfigProblem::option(
        "format",
        format!(
            "a CSV sink cannot hold lists, and the records have {}",
            lists.join(", ")
        ),
    )
    .with_help(
        "write JSON lines (`format: jsonl`) or Parquet, which hold lists, or leave the list out with `select`",
    );
    vec![(FieldIssue::NoLists, problem)]
}

fn option_field_problems(
    call: &ConnectorCall,
    schema: &Schema,
) -> Vec<(FieldIssue, ConfigProblem)> {
    match call.kind.as_str() {
        mqtt::KIND => MqttConfig::from_call(call, Role::Sink)
            .map(|config| unknown_fields(config.template_problems(schema)))
            .unwrap_or_default(),
        #[cfg(feature = "parquet")]
        super::parquet::KIND => super::parquet::ParquetConfig::from_call(call)
            .map(|config| super::parquet::partition::field_problems(&config.partition_by, schema))
            .unwrap_or_default(),
        super::chart::KIND => super::chart::ChartConfig::from_call(call)
            .map(|config| unknown_fields(config.field_problems(schema)))
            .unwrap_or_default(),
        super::postgres::KIND => super::postgres::PostgresConfig::from_call(call)
            .map(|config| config.field_problems(schema))
            .unwrap_or_default(),
        super::state::KIND => super::state::StateConfig::from_call(call)
            .map(|config| unknown_fields(config.field_problems(schema)))
            .unwrap_or_default(),
        super::webhook::KIND => super::webhook::WebhookConfig::from_call(call)
            .map(|config| {
                let missing = config
                    .body_fields()
                    .into_iter()
                    .filter(|name| !schema.fields.iter().any(|f| f.name == *name))
                    .map(|name| {
                        ConfigProblem::option(
                            "body",
                            format!(
                                "the body template names `{name}`, which the records do not have"
                            ),
                        )
                    })
                    .collect();
                unknown_fields(missing)
            })
            .unwrap_or_default(),
        super::smtp::KIND => super::smtp::SmtpConfig::from_call(call)
            .map(|config| {
                let missing = config
                    .template_fields()
                    .into_iter()
                    .filter(|(_, name)| !schema.fields.iter().any(|f| f.name == *name))
                    .map(|(option, name)| {
                        ConfigProblem::option(
                            option,
                            format!(
                                "the {option} template names `{name}`, which the records do not have"
                            ),
                        )
                    })
                    .collect();
                unknown_fields(missing)
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Problems that each name a field the records do not have.
fn unknown_fields(problems: Vec<ConfigProblem>) -> Vec<(FieldIssue, ConfigProblem)> {
    problems
        .into_iter()
        .map(|p| (FieldIssue::Unknown, p))
        .collect()
}
