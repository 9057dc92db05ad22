use std::sync::Arc;

use weir_engine::io::{SourceReader, SourceStatus};
use weir_engine::metrics::Metrics;
use weir_engine::plan::LogicalPlan;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;

fn schema(lag_nullable: bool) -> Schema {
    let lag = if lag_nullable {
        Field::nullable("lag_seconds", Type::Float)
    } else {
        Field::new("lag_seconds", Type::Float)
    };
    Schema::new(vec![
        Field::new("ts", Type::Timestamp),
        Field::new("records_in", Type::Int),
        Field::new("records_in_per_second", Type::Float),
        lag,
    ])
}

#[test]
fn the_declared_fields_are_checked() {
    assert!(MetricsField::for_schema(&schema(true)).is_ok());
    let problems = MetricsField::for_schema(&schema(false)).expect_err("lag must be nullable");
    assert!(problems[0].help.as_deref() == Some("declare it as `lag_seconds: f64?`"));
    let wrong = Schema::new(vec![
        Field::new("records_in", Type::Float),
        Field::new("cpu", Type::Float),
    ]);
    let problems = MetricsField::for_schema(&wrong).expect_err("two problems");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].message.contains("`metrics` produces `i64`"));
    assert!(problems[1].message.contains("cannot fill field `cpu`"));
}

/// The counters of a run of an empty plan (the metrics source alone).
fn counters() -> Arc<Metrics> {
    let text = r#"{"sources":[],"sinks":[],"pipelines":[]}"#;
    let plan: LogicalPlan = serde_json::from_str(text).expect("an empty plan");
    Arc::new(Metrics::new(&plan, 1))
}

#[test]
fn one_record_per_interval_with_the_run_s_figures() {
    let metrics = counters();
    let fields = MetricsField::for_schema(&schema(true)).expect("fields");
    let mut source = MetricsSource::new(MetricsConfig { every_ms: 100 }, fields, metrics, 0);
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    assert_eq!(
        source.poll(&mut out, &mut bad, 10).expect("poll"),
        SourceStatus::Idle
    );
    std::thread::sleep(std::time::Duration::from_millis(120));
    let status = source.poll(&mut out, &mut bad, 10).expect("poll");
    assert_eq!(out.len(), 1);
    assert!(matches!(out[0][0], Value::Time(_)));
    assert_eq!(out[0][1], Value::Int(0));
    assert_eq!(out[0][3], Value::Null, "no watermark yet");
    // With no other source there is nothing to wait for: it goes on until stopped.
    assert_eq!(status, SourceStatus::Ready);
    assert_eq!(
        source.poll(&mut out, &mut bad, 10).expect("poll"),
        SourceStatus::Idle
    );
}
