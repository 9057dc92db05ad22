//! Tests of the MQTT connector: topics, options, payload formats, and a real (embedded,
//! in-process) broker for subscribing, publishing, reconnecting and authentication.

use std::time::{Duration, Instant};

use weir_engine::event::Event;
use weir_engine::io::{BadRecord, SinkWriter, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};

use super::mosquitto::Mosquitto;
use super::payload::{PayloadDecoder, PayloadFormat};
use super::senml::SenmlDecoder;
use super::test_broker::{free_port, start_broker, TestClient};
use super::topic::{TopicFilter, TopicTemplate};
use super::*;
use crate::connectors::problem::Role;
use crate::connectors::validate;

pub(super) const ONE: WorkerInfo = WorkerInfo { index: 0, peers: 1 };

pub(super) fn call(url: &str, options: Vec<(&str, OptionValue)>) -> ConnectorCall {
    ConnectorCall {
        kind: "mqtt".into(),
        args: vec![OptionValue::Str(url.into())],
        options: options
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    }
}

pub(super) fn s(text: &str) -> OptionValue {
    OptionValue::Str(text.into())
}

pub(super) fn telemetry() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
        Field::new("ts", Type::Timestamp),
    ])
}

// ------------------------------------------------------------------ topics

#[test]
fn filters_capture_levels_and_follow_mqtt_matching() {
    let f = TopicFilter::parse("plant/{device_id}/telemetry").expect("filter");
    assert_eq!(f.mqtt, "plant/+/telemetry");
    assert_eq!(f.captures().collect::<Vec<_>>(), ["device_id"]);
    assert_eq!(
        f.matches("plant/m7/telemetry"),
        Some(vec![("device_id", "m7")])
    );
    assert_eq!(f.matches("plant/m7/status"), None);
    assert_eq!(f.matches("plant/m7/telemetry/x"), None);
    assert_eq!(f.matches("plant/telemetry"), None);

    let rest = TopicFilter::parse("site/{site}/#").expect("filter");
    assert_eq!(rest.mqtt, "site/+/#");
    assert_eq!(rest.matches("site/a"), Some(vec![("site", "a")]));
    assert_eq!(rest.matches("site/a/b/c"), Some(vec![("site", "a")]));
    let all = TopicFilter::parse("#").expect("filter");
    assert_eq!(all.matches("a/b"), Some(vec![]));
    assert_eq!(all.matches("$SYS/uptime"), None);
    assert_eq!(
        TopicFilter::parse("+/x").expect("filter").matches("/x"),
        Some(vec![])
    );

    for (bad, why) in [
        ("a/#/b", "`#` must be the last level"),
        ("a/b+", "must fill a whole level"),
        ("a/{}/b", "bad captured level"),
        ("a/x{id}", "a captured level is a whole level"),
        ("{id}/{id}", "captured twice"),
        ("", "empty"),
    ] {
        let err = TopicFilter::parse(bad).expect_err(bad);
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn templates_render_record_fields() {
    let schema = Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("line", Type::Int),
        Field::nullable("zone", Type::String),
    ]);
    let t = TopicTemplate::parse("alerts/{device_id}/line-{line}").expect("template");
    assert_eq!(t.fields().collect::<Vec<_>>(), ["device_id", "line"]);
    let bound = t.bind(&schema).expect("bind");
    let rec = |d: &str| vec![Value::str(d), Value::Int(3), Value::Null];
    assert_eq!(bound.render(&rec("m7")).as_deref(), Ok("alerts/m7/line-3"));
    assert!(bound.render(&rec("a+b")).is_err());
    assert!(bound.render(&rec("")).is_err());
    let zone = TopicTemplate::parse("z/{zone}").expect("template");
    let err = zone
        .bind(&schema)
        .expect("bind")
        .render(&rec("m"))
        .expect_err("null");
    assert!(err.contains("null"), "{err}");
    assert_eq!(
        TopicTemplate::parse("a/{nope}")
            .expect("t")
            .bind(&schema)
            .err(),
        Some(vec!["nope".to_string()])
    );
    assert!(TopicTemplate::parse("a/+").is_err());
    assert!(TopicTemplate::parse("a/{x").is_err());
    assert!(TopicTemplate::parse("a/x}").is_err());
}

// ------------------------------------------------------------------ options

#[test]
fn config_reads_every_option() {
    let config = MqttConfig::from_call(
        &call(
            "mqtts://broker.local",
            vec![
                (
                    "topic",
                    OptionValue::List(vec![s("a/{device_id}/t"), s("b/#")]),
                ),
                ("qos", OptionValue::Int(0)),
                ("format", OptionValue::Ident("senml".into())),
                ("client_id", s("weir-1")),
                ("clean_session", OptionValue::Bool(false)),
                ("username", s("u")),
                ("password_env", s("MQTT_PW")),
                ("ca_file", s("ca.pem")),
                ("keep_alive", OptionValue::Duration(10_000)),
                ("backoff_max", OptionValue::Duration(5_000)),
            ],
        ),
        Role::Source,
    )
    .expect("valid");
    assert_eq!(config.url.host, "broker.local");
    assert_eq!(config.url.port, 8883);
    assert!(config.url.tls);
    assert_eq!(config.filters.len(), 2);
    assert_eq!(config.captured_fields(), ["device_id"]);
    assert_eq!(config.qos, 0);
    assert_eq!(config.format, PayloadFormat::Senml);
    assert!(!config.clean_session);
    assert_eq!(
        config.tls.as_ref().and_then(|t| t.ca_file.as_deref()),
        Some("ca.pem")
    );
    assert_eq!(config.keep_alive_ms, 10_000);
    assert_eq!(config.backoff_max_ms, 5_000);

    let sink = MqttConfig::from_call(
        &call(
            "localhost:1884",
            vec![
                ("topic", s("alerts/{device_id}")),
                ("retain", OptionValue::Bool(true)),
            ],
        ),
        Role::Sink,
    )
    .expect("valid sink");
    assert_eq!((sink.url.host.as_str(), sink.url.port), ("localhost", 1884));
    assert!(sink.retain && sink.tls.is_none());
    assert_eq!(sink.qos, 1);
}

#[test]
fn broker_urls_parse_or_say_why_not() {
    let ok = |u: &str| config::BrokerUrl::parse(u).expect(u);
    assert_eq!(ok("mqtt://h").port, 1883);
    assert_eq!(ok("tcp://h:99").port, 99);
    assert!(ok("ssl://h").tls);
    assert_eq!(ok("mqtt://[::1]:1000").host, "::1");
    for bad in [
        "http://h",
        "mqtt://",
        "mqtt://h:0",
        "mqtt://h:x",
        "mqtt://u@h",
        "mqtt://h/a",
    ] {
        assert!(config::BrokerUrl::parse(bad).is_err(), "{bad}");
    }
}

fn problems(call: &ConnectorCall, role: Role) -> Vec<String> {
    validate(call, role, None)
        .into_iter()
        .map(|p| match p.help {
            Some(h) => format!("{} (help: {h})", p.message),
            None => p.message,
        })
        .collect()
}

#[test]
fn bad_options_are_reported_together_with_help() {
    let found = problems(
        &call(
            "mqtt://h",
            vec![
                ("topik", s("a")),
                ("qos", OptionValue::Int(2)),
                ("format", OptionValue::Ident("jsn".into())),
                ("clean_session", OptionValue::Bool(false)),
                ("retain", OptionValue::Bool(true)),
                ("password", s("p")),
            ],
        ),
        Role::Source,
    );
    let expected = [
        "unknown option `topik` for `mqtt` (help: did you mean `topic`?)",
        "`retain` applies to an mqtt sink only",
        "`mqtt` needs the argument `topic`",
        "unsupported QoS 2",
        "unknown format `jsn` (help: did you mean `json`?)",
        "a persistent session (`clean_session: false`) needs a fixed `client_id`",
        "a password needs a `username`",
    ];
    for e in expected {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "missing {e:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");

    let sink = problems(
        &call(
            "mqtt://h",
            vec![
                ("topic", OptionValue::List(vec![s("a"), s("b")])),
                ("format", OptionValue::Ident("senml".into())),
                ("clean_session", OptionValue::Bool(false)),
            ],
        ),
        Role::Sink,
    );
    assert_eq!(sink.len(), 3, "{sink:#?}");
    assert!(sink[0].contains("publishes to one topic"));
    assert!(sink[1].contains("writes `json` or `csv`"));
    assert!(sink[2].contains("needs a fixed `client_id`"));
    let typed = problems(
        &call("mqtt://h", vec![("topic", OptionValue::Int(3))]),
        Role::Source,
    );
    assert_eq!(
        typed,
        ["option `topic` expects a quoted string or a list of them, found `3`"]
    );
}

#[test]
fn the_schema_is_checked_against_captures_senml_and_templates() {
    let source = call(
        "mqtt://h",
        vec![("topic", s("plant/{machine}/t")), ("format", s("senml"))],
    );
    let schema = Schema::new(vec![
        Field::new("name", Type::String),
        Field::new("value", Type::Int),
        Field::new("temp", Type::Float),
    ]);
    let found: Vec<String> = validate(&source, Role::Source, Some(&schema))
        .into_iter()
        .map(|p| p.message)
        .collect();
    assert_eq!(
        found,
        [
            "the topic captures `machine`, which the source does not declare",
            "SenML field `value` is `f64`, declared `i64`",
            "field `temp` is neither a SenML field nor captured from the topic",
        ]
    );
    let sink = call("mqtt://h", vec![("topic", s("alerts/{devce_id}"))]);
    let found = validate(&sink, Role::Sink, Some(&telemetry()));
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].help.as_deref(),
        Some("did you mean `{device_id}`?")
    );
}

// ------------------------------------------------------------------ payloads

#[test]
fn json_payloads_take_topic_fields_and_json_lines() {
    let d = PayloadDecoder::new(PayloadFormat::Json, &telemetry(), &["device_id"]).expect("d");
    let got = d.decode(
        &[("device_id", "m1")],
        b"{\"temp\": 70.5, \"ts\": 1000}\n{\"temp\": 71, \"ts\": \"1970-01-01T00:00:02Z\", \"device_id\": \"ignored\"}\n",
        0,
    );
    assert_eq!(
        got,
        [
            Ok(vec![
                Value::str("m1"),
                Value::Float(70.5),
                Value::Time(1000)
            ]),
            Ok(vec![
                Value::str("m1"),
                Value::Float(71.0),
                Value::Time(2000)
            ]),
        ]
    );
    let bad = d.decode(&[("device_id", "m1")], b"{\"temp\": \"hot\", \"ts\": 1}", 0);
    assert_eq!(
        bad[0].as_ref().expect_err("bad").field.as_deref(),
        Some("temp")
    );
    let empty = d.decode(&[("device_id", "m1")], b"  ", 0);
    assert_eq!(
        empty[0].as_ref().expect_err("empty").reason,
        "the payload is empty"
    );
    let missing = d.decode(&[], b"{\"temp\": 1, \"ts\": 1}", 0);
    assert_eq!(
        missing[0]
            .as_ref()
            .expect_err("no capture")
            .field
            .as_deref(),
        Some("device_id")
    );
    let typed = Schema::new(vec![Field::new("line", Type::Int)]);
    let d = PayloadDecoder::new(PayloadFormat::Json, &typed, &["line"]).expect("d");
    let got = d.decode(&[("line", "x7")], b"{}", 0);
    assert!(got[0]
        .as_ref()
        .expect_err("not an int")
        .reason
        .contains("topic level"));
}

#[test]
fn csv_payloads_are_rows_in_field_order_without_topic_fields() {
    let d = PayloadDecoder::new(PayloadFormat::Csv, &telemetry(), &["device_id"]).expect("d");
    let got = d.decode(&[("device_id", "m2")], b"70.5,1000\n71,2000\n1,2,3\n", 0);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0],
        Ok(vec![
            Value::str("m2"),
            Value::Float(70.5),
            Value::Time(1000)
        ])
    );
    assert!(got[1].is_ok());
    assert!(got[2]
        .as_ref()
        .expect_err("3 cells")
        .reason
        .contains("3 cells"));
}

#[test]
fn senml_packs_resolve_base_fields_and_times() {
    let schema = Schema::new(vec![
        Field::new("name", Type::String),
        Field::nullable("unit", Type::String),
        Field::nullable("value", Type::Float),
        Field::nullable("bool_value", Type::Bool),
        Field::new("time", Type::Timestamp),
    ]);
    let d = SenmlDecoder::new(&schema);
    let pack = br#"[
        {"bn":"urn:dev:m7:","bt":1.7145576e9,"bu":"Cel","bv":10,"n":"temp","v":60.5},
        {"n":"temp","t":1.5,"v":61},
        {"n":"door","u":"","vb":true,"t":2},
        {"n":"hum","v":40,"u":"%RH"}
    ]"#;
    let got = d.decode(pack, 0);
    let t0 = 1_714_557_600_000;
    assert_eq!(
        got,
        [
            Ok(vec![
                Value::str("urn:dev:m7:temp"),
                Value::str("Cel"),
                Value::Float(70.5),
                Value::Null,
                Value::Time(t0)
            ]),
            Ok(vec![
                Value::str("urn:dev:m7:temp"),
                Value::str("Cel"),
                Value::Float(71.0),
                Value::Null,
                Value::Time(t0 + 1500)
            ]),
            Ok(vec![
                Value::str("urn:dev:m7:door"),
                Value::str(""),
                Value::Null,
                Value::Bool(true),
                Value::Time(t0 + 2000)
            ]),
            Ok(vec![
                Value::str("urn:dev:m7:hum"),
                Value::str("%RH"),
                Value::Float(50.0),
                Value::Null,
                Value::Time(t0)
            ]),
        ]
    );
    // Relative times (no bt) count from now.
    let got = d.decode(br#"[{"n":"x","v":1,"t":-5}]"#, 1_000_000);
    assert_eq!(got[0].as_ref().expect("ok")[4], Value::Time(995_000));
    // Per-record problems, and a broken pack.
    let got = d.decode(br#"[{"n":"x"},{"v":1},{"n":"y","v":1,"x_":1}]"#, 0);
    let reasons: Vec<String> = got
        .into_iter()
        .map(|r| r.expect_err("bad").reason)
        .collect();
    assert_eq!(
        reasons,
        [
            "SenML record 1: `x` has no value (v, vs, vb, vd or s)",
            "SenML record 2: no name (bn + n is empty)",
            "SenML record 3: unsupported must-understand SenML label `x_`",
        ]
    );
    let got = d.decode(b"{\"n\":\"x\"}", 0);
    assert!(got[0]
        .as_ref()
        .expect_err("not a pack")
        .reason
        .starts_with("invalid SenML pack"));
}

// ------------------------------------------------------------------ a live broker

/// Polls `source` until `n` records (and any bad ones) have arrived.
fn read(source: &mut MqttSource, n: usize, timeout: Duration) -> (Vec<Record>, Vec<BadRecord>) {
    let deadline = Instant::now() + timeout;
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "got {} of {n} records; bad: {bad:?}",
            out.len()
        );
        let status = source.poll(&mut out, &mut bad, 100).expect("poll");
        // As the source operator does once the records are in the dataflow: QoS 1
        // messages are acknowledged then (the broker sends only so many unacknowledged).
        source.commit();
        match status {
            SourceStatus::Idle | SourceStatus::Waiting => {
                std::thread::sleep(Duration::from_millis(5))
            }
            SourceStatus::Ready => {}
            SourceStatus::Finished => panic!("a live source never finishes"),
        }
    }
    (out, bad)
}

/// Publishes `probe` until the source, once subscribed, reads it; returns its records.
pub(super) fn until_subscribed(
    source: &mut MqttSource,
    client: &TestClient,
    topic: &str,
    probe: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "the source never subscribed");
        client.publish(topic, probe);
        let (mut out, mut bad) = (Vec::new(), Vec::new());
        std::thread::sleep(Duration::from_millis(100));
        source.poll(&mut out, &mut bad, 1000).expect("poll");
        source.commit();
        if !out.is_empty() || !bad.is_empty() {
            // Drain stragglers of earlier probes.
            std::thread::sleep(Duration::from_millis(200));
            source.poll(&mut out, &mut bad, 1000).expect("poll");
            source.commit();
            return;
        }
    }
}

#[test]
fn a_source_reads_json_with_topic_fields_in_order() {
    let port = free_port();
    start_broker(port, None);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![(
                "topic",
                OptionValue::List(vec![s("plant/{device_id}/telemetry"), s("probe")]),
            )],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("telemetry", &config, &telemetry(), ONE).expect("open");
    let client = TestClient::connect(port, "publisher-1", &[]);
    until_subscribed(
        &mut source,
        &client,
        "plant/probe/telemetry",
        "{\"temp\":0,\"ts\":0}",
    );

    for i in 0..50 {
        client.publish(
            &format!("plant/m{}/telemetry", i % 5),
            format!("{{\"temp\": {i}.5, \"ts\": {}}}", 1000 + i),
        );
    }
    let (records, bad) = read(&mut source, 50, Duration::from_secs(20));
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(records.len(), 50);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            r,
            &vec![
                Value::str(&format!("m{}", i % 5)),
                Value::Float(i as f64 + 0.5),
                Value::Time(1000 + i as i64)
            ]
        );
    }
}

#[test]
fn malformed_payloads_become_bad_records_naming_the_topic() {
    let port = free_port();
    start_broker(port, None);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![("topic", s("plant/{device_id}/telemetry"))],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("telemetry", &config, &telemetry(), ONE).expect("open");
    let client = TestClient::connect(port, "publisher-2", &[]);
    until_subscribed(
        &mut source,
        &client,
        "plant/probe/telemetry",
        "{\"temp\":0,\"ts\":0}",
    );
    client.publish("plant/m9/telemetry", "{\"temp\": \"hot\", \"ts\": 1}");
    client.publish("plant/m9/telemetry", "not json");
    client.publish("plant/m1/telemetry", "{\"temp\": 1.5, \"ts\": 1}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    while out.is_empty() {
        assert!(Instant::now() < deadline, "timed out; bad: {bad:?}");
        source.poll(&mut out, &mut bad, 100).expect("poll");
        source.commit();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        out,
        [vec![Value::str("m1"), Value::Float(1.5), Value::Time(1)]]
    );
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad.iter().all(|b| b.source == "telemetry"));
    assert!(bad.iter().all(|b| b.location == "topic plant/m9/telemetry"));
    assert_eq!(bad[0].field.as_deref(), Some("temp"));
    assert_eq!(bad[0].raw, "{\"temp\": \"hot\", \"ts\": 1}");
    assert!(
        bad[1].reason.starts_with("invalid JSON"),
        "{}",
        bad[1].reason
    );
    assert_eq!(bad[1].raw, "not json");
}

#[test]
fn only_worker_zero_subscribes() {
    let config = MqttConfig::from_call(
        &call("mqtt://127.0.0.1:1", vec![("topic", s("a"))]),
        Role::Source,
    )
    .expect("config");
    let mut other = MqttSource::open(
        "t",
        &config,
        &telemetry(),
        WorkerInfo { index: 1, peers: 2 },
    )
    .expect("open");
    assert_eq!(
        other
            .poll(&mut Vec::new(), &mut Vec::new(), 10)
            .expect("poll"),
        SourceStatus::Finished
    );
}

#[test]
fn a_source_waits_for_a_broker_that_is_not_up_yet() {
    let port = free_port();
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("late/{device_id}")),
                ("format", s("csv")),
                ("backoff_max", OptionValue::Duration(500)),
            ],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("late", &config, &telemetry(), ONE).expect("open");
    // Nothing to read while the broker is away, and no error either.
    for _ in 0..10 {
        assert_eq!(
            source
                .poll(&mut Vec::new(), &mut Vec::new(), 10)
                .expect("poll"),
            SourceStatus::Idle
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    start_broker(port, None);
    let client = TestClient::connect(port, "publisher-3", &[]);
    until_subscribed(&mut source, &client, "late/probe", "0,0");
    client.publish("late/m3", "20.5,5000");
    let (records, _) = read(&mut source, 1, Duration::from_secs(20));
    assert_eq!(
        records,
        [vec![
            Value::str("m3"),
            Value::Float(20.5),
            Value::Time(5000)
        ]]
    );
}

#[test]
fn credentials_are_sent_and_checked() {
    let port = free_port();
    start_broker(port, Some(("weir", "s3cret")));
    let senml = Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("name", Type::String),
        Field::new("value", Type::Float),
        Field::new("time", Type::Timestamp),
    ]);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("s/{device_id}")),
                ("format", s("senml")),
                ("username", s("weir")),
                ("password", s("s3cret")),
            ],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("senml", &config, &senml, ONE).expect("open");
    // The test client needs the credentials too.
    let mut options = rumqttc::MqttOptions::new("pub-auth", "127.0.0.1", port);
    options.set_credentials("weir", "s3cret");
    let (client, mut connection) = rumqttc::Client::new(options, 100);
    std::thread::spawn(move || for _ in connection.iter() {});
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    while out.is_empty() {
        assert!(Instant::now() < deadline, "no record; bad: {bad:?}");
        client
            .publish(
                "s/m5",
                rumqttc::QoS::AtLeastOnce,
                false,
                br#"[{"n":"temp","v":3.5,"t":1.7145576e9}]"#.to_vec(),
            )
            .expect("publish");
        std::thread::sleep(Duration::from_millis(100));
        source.poll(&mut out, &mut bad, 100).expect("poll");
        source.commit();
    }
    assert_eq!(
        out[0],
        vec![
            Value::str("m5"),
            Value::str("temp"),
            Value::Float(3.5),
            Value::Time(1_714_557_600_000)
        ]
    );
}

#[test]
fn a_sink_publishes_to_templated_topics_and_flush_waits_for_the_broker() {
    let port = free_port();
    start_broker(port, None);
    let watcher = TestClient::connect(port, "watcher", &["alerts/#"]);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("alerts/{device_id}")),
                ("retain", OptionValue::Bool(true)),
            ],
        ),
        Role::Sink,
    )
    .expect("config");
    let sink = MqttSink::open("alerts", &config, &telemetry(), None).expect("open");
    let events: Vec<Event> = (0..20)
        .map(|i| {
            Event::new(
                i,
                vec![
                    Value::str(&format!("m{}", i % 4)),
                    Value::Float(80.0 + i as f64),
                    Value::Time(i),
                ],
            )
        })
        .collect();
    sink.write(&events[..10]).expect("write");
    sink.write(&events[10..]).expect("write");
    // A record without a topic is counted, not published.
    sink.write(&[Event::new(
        0,
        vec![Value::str("a#b"), Value::Float(1.0), Value::Time(0)],
    )])
    .expect("write");
    sink.flush().expect("flush");
    assert_eq!(sink.failed(), 1);
    let got = watcher.take(20, Duration::from_secs(20));
    let mut seen: Vec<(String, String)> = got
        .iter()
        .map(|(t, p, _)| (t.clone(), String::from_utf8_lossy(p).into_owned()))
        .collect();
    seen.sort();
    let mut want: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("alerts/m{}", i % 4),
                format!(
                    "{{\"device_id\":\"m{}\",\"temp\":{:?},\"ts\":\"{}\"}}",
                    i % 4,
                    80.0 + i as f64,
                    weir_engine::time::format_timestamp(i)
                ),
            )
        })
        .collect();
    want.sort();
    assert_eq!(seen, want);
    // Retained: a new subscriber gets the last message of each topic at once.
    let late = TestClient::connect(port, "late-watcher", &["alerts/m3"]);
    let retained = late.take(1, Duration::from_secs(10));
    assert!(retained[0].2, "the message is flagged retained");
    assert!(String::from_utf8_lossy(&retained[0].1).contains("\"temp\":99.0"));
}

#[test]
fn a_sink_flush_fails_clearly_when_the_broker_never_answers() {
    let port = free_port();
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("x/{device_id}")),
                ("flush_timeout", OptionValue::Duration(1_000)),
            ],
        ),
        Role::Sink,
    )
    .expect("config");
    let sink = MqttSink::open("out", &config, &telemetry(), None).expect("open");
    sink.write(&[Event::new(
        0,
        vec![Value::str("a"), Value::Float(1.0), Value::Time(0)],
    )])
    .expect("write");
    let err = sink.flush().expect_err("nobody listening");
    assert_eq!(
        err.to_string(),
        "mqtt sink `out`: the broker did not take 1 of 1 messages within 1s (flush_timeout); they are not delivered"
    );
}

// ------------------------------------------------------------------ a real Mosquitto

#[test]
fn mosquitto_restart_loses_no_message_with_qos1_and_a_persistent_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(dir.path(), free_port());
    let port = broker.port;
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("restart/{device_id}")),
                ("qos", OptionValue::Int(1)),
                ("client_id", s("weir-restart-test")),
                ("clean_session", OptionValue::Bool(false)),
                ("backoff_max", OptionValue::Duration(2_000)),
            ],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("restart", &config, &telemetry(), ONE).expect("open");
    let client = TestClient::connect(port, "restart-publisher-1", &[]);
    until_subscribed(
        &mut source,
        &client,
        "restart/probe",
        "{\"temp\":-1,\"ts\":-1}",
    );
    let publish = |client: &TestClient, range: std::ops::Range<i64>| {
        for i in range {
            client.publish(
                &format!("restart/m{}", i % 3),
                format!("{{\"temp\": {i}, \"ts\": {i}}}"),
            );
        }
    };
    publish(&client, 0..100);
    let (records, _) = read(&mut source, 100, Duration::from_secs(20));
    drop(client);

    // The broker goes away; the source retries, and meanwhile the broker comes back
    // and takes messages for it before it has reconnected.
    broker.stop();
    std::thread::sleep(Duration::from_millis(1_500));
    broker.restart();
    let client = TestClient::connect(port, "restart-publisher-2", &[]);
    publish(&client, 100..300);
    // QoS 1 is at least once: duplicates are allowed, gaps are not. Read until every
    // message has arrived (a lost one times out).
    let mut seen = vec![0u32; 300];
    for r in &records {
        seen[r[2].as_i64().expect("ts") as usize] += 1;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.contains(&0) {
        let missing: Vec<usize> = (0..300).filter(|&i| seen[i] == 0).collect();
        assert!(
            Instant::now() < deadline,
            "lost across the restart: {missing:?}"
        );
        let (mut out, mut bad) = (Vec::new(), Vec::new());
        source.poll(&mut out, &mut bad, 1000).expect("poll");
        source.commit();
        assert!(bad.is_empty(), "{bad:?}");
        for r in out {
            let ts = r[2].as_i64().expect("ts");
            if ts >= 0 {
                assert_eq!(r[0], Value::str(&format!("m{}", ts % 3)));
                seen[ts as usize] += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn mosquitto_carries_sink_output_to_a_subscriber() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path(), free_port());
    let watcher = TestClient::connect(broker.port, "sink-watcher", &["out/+/csv"]);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{}", broker.port),
            vec![
                ("topic", s("out/{device_id}/csv")),
                ("format", s("csv")),
                ("qos", OptionValue::Int(0)),
            ],
        ),
        Role::Sink,
    )
    .expect("config");
    let sink = MqttSink::open("out", &config, &telemetry(), None).expect("open");
    let events: Vec<Event> = (0..10)
        .map(|i| {
            Event::new(
                i,
                vec![Value::str("m1"), Value::Float(i as f64), Value::Time(0)],
            )
        })
        .collect();
    sink.write(&events).expect("write");
    sink.flush().expect("flush");
    let got = watcher.take(10, Duration::from_secs(20));
    assert!(got.iter().all(|(t, _, _)| t == "out/m1/csv"));
    assert_eq!(
        String::from_utf8_lossy(&got[3].1),
        "m1,3,1970-01-01T00:00:00.000Z"
    );
}

#[test]
fn docs_describe_every_option() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/connectors.md"),
    )
    .expect("docs/connectors.md");
    let start = docs.find("## `mqtt`").expect("an mqtt section");
    let section = &docs[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    for option in OPTIONS {
        assert!(
            section.contains(&format!("| `{}`", option.name)),
            "docs/connectors.md does not describe mqtt option `{}`",
            option.name
        );
    }
}

/// Runs openssl (part of Debian's base system) in `dir`.
pub(super) fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (apt-get install -y openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mosquitto_over_tls_with_a_private_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A private CA, and a server certificate for 127.0.0.1 signed by it.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=weir test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("write");
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    let tls_port = free_port();
    let broker = Mosquitto::start_with(
        d,
        free_port(),
        &format!(
            "listener {tls_port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n",
            d.display()
        ),
    );
    let ca = d.join("ca.pem").display().to_string();
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtts://127.0.0.1:{tls_port}"),
            vec![("topic", s("secure/{device_id}")), ("ca_file", s(&ca))],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("secure", &config, &telemetry(), ONE).expect("open");
    // Published in the clear on the other listener, received over TLS.
    let client = TestClient::connect(broker.port, "tls-publisher", &[]);
    until_subscribed(
        &mut source,
        &client,
        "secure/probe",
        "{\"temp\":0,\"ts\":0}",
    );
    client.publish("secure/m1", "{\"temp\": 5.5, \"ts\": 7}");
    let (records, _) = read(&mut source, 1, Duration::from_secs(20));
    assert_eq!(
        records,
        [vec![Value::str("m1"), Value::Float(5.5), Value::Time(7)]]
    );

    // A CA file that is not there is a configuration error when opening.
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtts://127.0.0.1:{tls_port}"),
            vec![("topic", s("x")), ("ca_file", s("/no/such/ca.pem"))],
        ),
        Role::Source,
    )
    .expect("config");
    let err = MqttSource::open("secure", &config, &telemetry(), ONE)
        .map(|_| ())
        .expect_err("no CA file");
    assert!(
        err.to_string()
            .starts_with("`mqtt`: cannot read ca_file `/no/such/ca.pem`"),
        "{err}"
    );
}

#[test]
fn mosquitto_restart_loses_no_sink_message_with_a_persistent_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(dir.path(), free_port());
    let port = broker.port;
    let watcher = TestClient::connect_with(port, "restart-sink-watcher", &["r/#"], false);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("r/{device_id}")),
                ("client_id", s("weir-sink-restart")),
                ("clean_session", OptionValue::Bool(false)),
                ("backoff_max", OptionValue::Duration(1_000)),
            ],
        ),
        Role::Sink,
    )
    .expect("config");
    let sink = MqttSink::open("out", &config, &telemetry(), None).expect("open");
    let event = |i: i64| Event::new(i, vec![Value::str("m1"), Value::Float(0.0), Value::Time(i)]);
    let first: Vec<Event> = (0..100).map(event).collect();
    sink.write(&first).expect("write");
    sink.flush().expect("flush");

    broker.stop();
    // Written while the broker is away: queued by the client, sent on reconnection.
    let second: Vec<Event> = (100..200).map(event).collect();
    sink.write(&second).expect("write");
    std::thread::sleep(Duration::from_millis(1_000));
    broker.restart();
    sink.flush().expect("flush after the restart");

    let mut seen = [false; 200];
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.contains(&false) {
        let missing: Vec<usize> = (0..200).filter(|&i| !seen[i]).collect();
        assert!(Instant::now() < deadline, "lost: {missing:?}");
        if let Ok((_, payload, _)) = watcher.received.recv_timeout(Duration::from_millis(100)) {
            let record: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
            let ts = record["ts"].as_str().expect("ts");
            let ms = weir_engine::time::parse_timestamp(ts).expect("timestamp");
            seen[ms as usize] = true;
        }
    }
}
