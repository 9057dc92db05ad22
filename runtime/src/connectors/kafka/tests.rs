//! `kafka(…)` configurations: what `weir check` accepts and refuses.

use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};

use super::config::{KafkaConfig, Start, TopicSpec};
use crate::connectors::problem::Role;

fn call(options: &[(&str, OptionValue)]) -> ConnectorCall {
    ConnectorCall {
        kind: "kafka".into(),
        args: vec![OptionValue::Str("127.0.0.1:9092".into())],
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    }
}

fn s(text: &str) -> OptionValue {
    OptionValue::Str(text.into())
}

fn w(text: &str) -> OptionValue {
    OptionValue::Ident(text.into())
}

fn messages(result: Result<KafkaConfig, Vec<crate::connectors::ConfigProblem>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.message)
        .collect()
}

#[test]
fn a_source_reads_topics_patterns_group_and_start() {
    let config = KafkaConfig::from_call(
        &call(&[
            (
                "topic",
                OptionValue::List(vec![s("plant.telemetry"), s("^plant\\..*")]),
            ),
            ("group", s("weir")),
            ("start", w("earliest")),
            ("until", w("end")),
        ]),
        Role::Source,
    )
    .expect("valid");
    let source = config.source().expect("a source");
    assert_eq!(source.start, Start::Earliest);
    assert!(source.until_end);
    assert_eq!(source.group.as_deref(), Some("weir"));
    assert_eq!(source.topics[0], TopicSpec::Name("plant.telemetry".into()));
    assert!(source.topics[1].matches("plant.minutes"));
    // Patterns match whole names.
    assert!(!source.topics[1].matches("xplant.minutes"));
    assert!(!source.topics[0].matches("plant.telemetry2"));
}

#[test]
fn bad_values_and_options_of_the_other_role_are_refused() {
    let found = messages(KafkaConfig::from_call(
        &call(&[
            ("topic", s("plant/telemetry")),
            ("start", w("earlist")),
            ("acks", w("all")),
            ("format", w("senml")),
        ]),
        Role::Source,
    ));
    assert!(
        found
            .iter()
            .any(|m| m.contains("is not a Kafka topic name")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|m| m.contains("unknown start `earlist`")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("`acks` applies to a kafka sink only")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|m| m.contains("unknown format `senml`")),
        "{found:?}"
    );
}

#[test]
fn brokers_are_host_and_port_lists() {
    let bad = |brokers: &str| {
        let mut c = call(&[("topic", s("t"))]);
        c.args = vec![s(brokers)];
        messages(KafkaConfig::from_call(&c, Role::Source))
    };
    assert!(bad("kafka://h:9092")[0].contains("is a URL"));
    assert!(bad("localhost")[0].contains("has no port"));
    assert!(bad("a:1,b:x")[0].contains("`b:x` is not a broker address"));
    assert!(bad("user:pw@h:9092")[0].contains("credentials"));
    assert!(bad("a:9092, b:9093").is_empty());
}

#[test]
fn a_sink_takes_topic_and_key_templates_acks_and_compression() {
    let config = KafkaConfig::from_call(
        &call(&[
            ("topic", s("plant.{site}")),
            ("key", w("device_id")),
            ("compression", w("zstd")),
            ("acks", w("all")),
            ("linger", OptionValue::Duration(20)),
        ]),
        Role::Sink,
    )
    .expect("valid");
    let sink = config.sink().expect("a sink");
    assert_eq!(sink.compression, "zstd");
    assert_eq!(sink.acks, "all");
    assert!(sink.idempotent);
    assert_eq!(sink.linger_ms, 20);
    let schema = Schema::new(vec![Field::new("site", Type::String)]);
    let problems = config.check_schema(&schema);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0]
        .message
        .contains("`key` names field `device_id`"));
}

#[test]
fn the_idempotent_producer_needs_acks_all() {
    let found = messages(KafkaConfig::from_call(
        &call(&[
            ("topic", s("t")),
            ("acks", w("leader")),
            ("idempotent", OptionValue::Bool(true)),
        ]),
        Role::Sink,
    ));
    assert_eq!(
        found,
        vec!["the idempotent producer needs `acks: all`".to_string()]
    );
    // Without `idempotent`, `acks: leader` turns it off.
    let config = KafkaConfig::from_call(
        &call(&[("topic", s("t")), ("acks", w("leader"))]),
        Role::Sink,
    )
    .expect("valid");
    assert!(!config.sink().expect("sink").idempotent);
}

#[test]
fn sasl_needs_a_user_a_password_and_a_mechanism_and_never_shows_the_password() {
    let config = KafkaConfig::from_call(
        &call(&[
            ("topic", s("t")),
            ("sasl", s("scram-sha-256")),
            ("username", s("weir")),
            ("password", s("hunter2")),
        ]),
        Role::Source,
    )
    .expect("valid");
    let sasl = config.sasl.as_ref().expect("sasl");
    assert_eq!(sasl.mechanism, "SCRAM-SHA-256");
    assert!(!format!("{config:?}").contains("hunter2"));
    let found = messages(KafkaConfig::from_call(
        &call(&[
            ("topic", s("t")),
            ("username", s("weir")),
            ("password_env", s("PW")),
        ]),
        Role::Source,
    ));
    assert_eq!(
        found,
        vec!["a user name and password need a SASL mechanism".to_string()]
    );
    let found = messages(KafkaConfig::from_call(
        &call(&[("topic", s("t")), ("sasl", w("plain"))]),
        Role::Source,
    ));
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn a_password_variable_that_is_not_set_is_named_not_shown() {
    let config = KafkaConfig::from_call(
        &call(&[
            ("topic", s("t")),
            ("sasl", w("plain")),
            ("username", s("weir")),
            ("password_env", s("WEIR_KAFKA_TEST_UNSET_VARIABLE")),
        ]),
        Role::Source,
    )
    .expect("valid");
    let err = config
        .sasl
        .expect("sasl")
        .password
        .resolve()
        .expect_err("unset");
    assert!(err.contains("`WEIR_KAFKA_TEST_UNSET_VARIABLE`"), "{err}");
}

#[test]
fn key_and_timestamp_fields_must_be_declared_with_their_types() {
    let config = KafkaConfig::from_call(
        &call(&[
            ("topic", s("t")),
            ("key_field", w("k")),
            ("timestamp_field", w("at")),
        ]),
        Role::Source,
    )
    .expect("valid");
    let schema = Schema::new(vec![Field::new("k", Type::Int)]);
    let problems: Vec<String> = config
        .check_schema(&schema)
        .into_iter()
        .map(|p| p.message)
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("must be `string`"), "{problems:?}");
    assert!(
        problems[1].contains("`at`, which the source does not declare"),
        "{problems:?}"
    );
}
