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
}

/// Problems with the fields sink `call` names, for records of `schema`. A call whose
/// options are themselves wrong yields nothing here (those are reported as P0501).
pub fn check_sink_fields(
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
