//! `postgres(…)` options as `weir check` reads them, key checks against the records, and
//! the SQL the sink sends (the real-server tests are in tests/postgres_sink.rs).

use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};

use super::config::{Mode, PostgresConfig};
use super::sql;
use crate::connectors::sink_fields::FieldIssue;

fn call(options: Vec<(&str, OptionValue)>) -> ConnectorCall {
    let mut all = vec![
        ("url_env", OptionValue::Str("PG_URL".into())),
        ("table", OptionValue::Str("device_minutes".into())),
    ];
    all.retain(|(name, _)| options.iter().all(|(n, _)| n != name));
    all.extend(options);
    ConnectorCall {
        kind: super::KIND.into(),
        args: vec![],
        options: all.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
    }
}

fn ident(s: &str) -> OptionValue {
    OptionValue::Ident(s.into())
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("window.start", Type::Timestamp),
        Field::nullable("avg_temp", Type::Float),
        Field::new("n", Type::Int),
    ])
}

fn upsert() -> PostgresConfig {
    PostgresConfig::from_call(&call(vec![
        (
            "key",
            OptionValue::List(vec![ident("device_id"), ident("window.start")]),
        ),
        ("mode", ident("upsert")),
        ("create", OptionValue::Bool(true)),
    ]))
    .expect("config")
}

#[test]
fn options_are_read_and_checked() {
    let config = upsert();
    assert_eq!(config.mode, Mode::Upsert);
    assert_eq!(config.key, vec!["device_id", "window.start"]);
    assert!(config.create);
    assert_eq!(
        (config.batch, config.retries, config.backoff_ms),
        (500, 5, 200)
    );
    let text = |options| {
        format!(
            "{:?}",
            PostgresConfig::from_call(&call(options)).expect_err("refused")
        )
    };
    assert!(text(vec![("mode", ident("upsret"))]).contains("did you mean `upsert`"));
    assert!(text(vec![("mode", ident("upsert"))]).contains("needs the `key`"));
    assert!(text(vec![("table", OptionValue::Str("a;drop".into()))]).contains("not a table name"));
    assert!(text(vec![("batch", OptionValue::Int(0))]).contains("must be positive"));
    let missing = PostgresConfig::from_call(&ConnectorCall {
        kind: super::KIND.into(),
        args: vec![],
        options: vec![],
    })
    .expect_err("refused");
    assert!(format!("{missing:?}").contains("url_env"), "{missing:?}");
}

#[test]
fn key_fields_must_exist_and_never_be_null() {
    assert!(upsert().field_problems(&schema()).is_empty());
    let config = PostgresConfig::from_call(&call(vec![(
        "key",
        OptionValue::List(vec![ident("devce_id"), ident("avg_temp")]),
    )]))
    .expect("config");
    let problems = config.field_problems(&schema());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, FieldIssue::Unknown);
    assert_eq!(
        problems[0].1.help.as_deref(),
        Some("did you mean `device_id`?")
    );
    assert_eq!(problems[1].0, FieldIssue::WrongType);
    assert!(problems[1].1.message.contains("may be null"));
}

#[test]
fn statements_follow_the_records() {
    let config = upsert();
    assert_eq!(
        sql::create_table(&config, &schema()),
        "CREATE TABLE IF NOT EXISTS \"device_minutes\" (\"device_id\" text NOT NULL, \
         \"window_start\" timestamptz NOT NULL, \"avg_temp\" double precision, \"n\" bigint NOT NULL, \
         PRIMARY KEY (\"device_id\", \"window_start\"))"
    );
    assert_eq!(
        sql::insert(&config, &schema(), 2),
        "INSERT INTO \"device_minutes\" (\"device_id\", \"window_start\", \"avg_temp\", \"n\") \
         VALUES ($1, $2, $3, $4), ($5, $6, $7, $8) ON CONFLICT (\"device_id\", \"window_start\") \
         DO UPDATE SET \"avg_temp\" = EXCLUDED.\"avg_temp\", \"n\" = EXCLUDED.\"n\""
    );
    let append = PostgresConfig::from_call(&call(vec![])).expect("config");
    assert!(!sql::insert(&append, &schema(), 1).contains("ON CONFLICT"));
    assert_eq!(sql::table_ref("plant.readings"), "\"plant\".\"readings\"");
}
