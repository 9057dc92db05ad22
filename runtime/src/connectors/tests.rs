//! Tests of connector validation and of the factory the engine opens connectors through.

use weir_engine::io::{ConnectorFactory, IoError, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue, SinkNode, SourceNode, WatermarkSpec};
use weir_engine::schema::{Field, Schema, Type};

use super::*;

fn call(kind: &str, args: Vec<OptionValue>, options: &[(&str, OptionValue)]) -> ConnectorCall {
    ConnectorCall {
        kind: kind.into(),
        args,
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    }
}

fn telemetry() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
        Field::new("ts", Type::Timestamp),
    ])
}

#[test]
fn valid_calls_have_no_problems() {
    let sensors = call("sensors", vec![], &[("devices", OptionValue::Int(50))]);
    assert_eq!(validate(&sensors, Role::Source, Some(&telemetry())), []);
    let file = call("file", vec![OptionValue::Str("out/x.jsonl".into())], &[]);
    assert_eq!(validate(&file, Role::Sink, None), []);
    assert_eq!(validate(&file, Role::Source, Some(&telemetry())), []);
    assert_eq!(validate(&call("stdout", vec![], &[]), Role::Sink, None), []);
}

#[test]
fn unknown_connectors_get_a_suggestion() {
    let problems = validate(&call("sensor", vec![], &[]), Role::Source, None);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].option, None);
    assert_eq!(problems[0].message, "unknown connector `sensor`");
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `sensors`?"));
    let problems = validate(&call("kinesis", vec![], &[]), Role::Sink, None);
    // Every sink connector is listed (the list grows with optional connectors).
    let help = problems[0].help.as_deref().unwrap_or_default();
    assert!(
        help.starts_with("sinks can use: `file`, `stdout`"),
        "{help}"
    );
    assert!(!help.contains("`sensors`"), "{help}");
}

#[test]
fn unknown_options_get_a_suggestion() {
    let c = call("sensors", vec![], &[("device", OptionValue::Int(5))]);
    let problems = validate(&c, Role::Source, None);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].option.as_deref(), Some("device"));
    assert_eq!(problems[0].message, "unknown option `device` for `sensors`");
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `devices`?"));
    let c = call("sensors", vec![], &[("colour", OptionValue::Int(5))]);
    let help = validate(&c, Role::Source, None)[0]
        .help
        .clone()
        .unwrap_or_default();
    assert!(
        help.starts_with("`sensors` takes: `devices`, `rate`"),
        "{help}"
    );
}

#[test]
fn wrong_types_missing_arguments_and_roles_are_reported() {
    let c = call(
        "sensors",
        vec![],
        &[("devices", OptionValue::Str("ten".into()))],
    );
    let problems = validate(&c, Role::Source, None);
    assert_eq!(
        problems[0].message,
        "option `devices` expects an integer, found `\"ten\"`"
    );

    let problems = validate(&call("file", vec![], &[]), Role::Sink, None);
    assert_eq!(problems[0].option.as_deref(), Some("path"));
    assert_eq!(
        problems[0].help.as_deref(),
        Some("write it as `file(\"out/result.jsonl\")`")
    );

    let c = call(
        "file",
        vec![OptionValue::Str("a.csv".into()), OptionValue::Int(2)],
        &[],
    );
    let problems = validate(&c, Role::Sink, None);
    assert!(
        problems[0]
            .message
            .starts_with("`file` takes 1 positional argument"),
        "{}",
        problems[0].message
    );

    let problems = validate(&call("stdout", vec![], &[]), Role::Source, None);
    assert_eq!(problems[0].message, "`stdout` cannot be used as a source");
    assert_eq!(
        problems[0].help.as_deref(),
        Some("sources can use: `sensors`, `metrics`, `nexmark`, `file`, `mqtt`, `kafka`")
    );
    let problems = validate(&call("sensors", vec![], &[]), Role::Sink, None);
    assert_eq!(problems[0].message, "`sensors` cannot be used as a sink");
}

/// `events: 10m` is ten minutes given to a count: the help offers `10M` (ten million),
/// and `duration:` for a run length.
#[test]
fn a_count_given_a_duration_suggests_a_count_and_the_duration_option() {
    let c = call(
        "sensors",
        vec![],
        &[("events", OptionValue::Duration(600_000))],
    );
    let problems = validate(&c, Role::Source, None);
    assert_eq!(
        problems[0].message,
        "option `events` expects an integer, found `10m`"
    );
    assert_eq!(
        problems[0].help.as_deref(),
        Some(
            "did you mean `10M` (10 million)? `10m` is 10 minutes; \
             for a run of 10m write `duration: 10m`"
        )
    );
    // Not minutes: no `M` to offer; webhook has no `duration` option.
    let c = call(
        "webhook",
        vec![OptionValue::Str("http://localhost:9/x".into())],
        &[("retries", OptionValue::Duration(5_000))],
    );
    let problems = validate(&c, Role::Sink, None);
    assert_eq!(
        problems[0].help.as_deref(),
        Some("a count takes no time unit: write e.g. `10k` or `10M`, not `5s`")
    );
}

#[test]
fn sensors_fields_are_checked_when_the_schema_is_known() {
    let schema = Schema::new(vec![Field::new("temprature", Type::Float)]);
    let c = call("sensors", vec![], &[]);
    assert_eq!(validate(&c, Role::Source, None), []);
    let problems = validate(&c, Role::Source, Some(&schema));
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].help.as_deref(),
        Some("did you mean `temperature`?")
    );
}

fn source(connector: ConnectorCall, schema: Schema) -> SourceNode {
    SourceNode {
        name: "telemetry".into(),
        connector,
        schema,
        event_time: Some(2),
        overload: Default::default(),
        watermark: WatermarkSpec::default(),
    }
}

#[test]
fn the_factory_opens_sources_and_refuses_bad_calls() {
    let node = source(
        call("sensors", vec![], &[("events", OptionValue::Int(10))]),
        telemetry(),
    );
    let mut reader = Connectors::default()
        .open_source(&node, WorkerInfo { index: 0, peers: 1 })
        .map_err(|e| e.to_string())
        .expect("open");
    let mut out = Vec::new();
    let status = reader.poll(&mut out, &mut Vec::new(), 100).expect("poll");
    assert_eq!((status, out.len()), (SourceStatus::Finished, 10));

    let bad = source(
        call("sensors", vec![], &[("rat", OptionValue::Int(10))]),
        Schema::new(vec![Field::new("temp", Type::String)]),
    );
    let err = Connectors::default()
        .open_source(&bad, WorkerInfo { index: 0, peers: 1 })
        .map(|_| ())
        .expect_err("bad call");
    assert!(matches!(err, IoError::Config(_)));
    let text = err.to_string();
    assert!(
        text.contains("unknown option `rat`") && text.contains("did you mean `rate`?"),
        "{text}"
    );
    assert!(text.contains("field `temp` is declared `string`"), "{text}");
}

#[test]
fn the_factory_opens_sinks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.csv");
    let node = SinkNode {
        name: "out".into(),
        connector: call(
            "file",
            vec![OptionValue::Str(path.display().to_string())],
            &[],
        ),
    };
    let sink = Connectors::default()
        .open_sink(&node, &telemetry())
        .map_err(|e| e.to_string())
        .expect("open");
    sink.flush().expect("flush");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "device_id,temp,ts\n"
    );
    let node = SinkNode {
        name: "console".into(),
        connector: call("stdout", vec![], &[]),
    };
    assert!(Connectors::default().open_sink(&node, &telemetry()).is_ok());
}

#[test]
fn relative_paths_resolve_against_the_base_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = SinkNode {
        name: "out".into(),
        connector: call("file", vec![OptionValue::Str("sub/out.jsonl".into())], &[]),
    };
    let sink = Connectors::with_base_dir(dir.path())
        .open_sink(&node, &telemetry())
        .map_err(|e| e.to_string())
        .expect("open");
    sink.flush().expect("flush");
    assert!(dir.path().join("sub/out.jsonl").is_file());
}
