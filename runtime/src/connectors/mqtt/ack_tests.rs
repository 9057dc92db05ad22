//! Acknowledgements at a stop, against a real Mosquitto: a stop acknowledges every
//! message whose records went out, and only those, so the next session of the same
//! client gets exactly the rest.

use std::time::{Duration, Instant};

use weir_engine::io::SourceReader;
use weir_engine::plan::OptionValue;

use super::mosquitto::Mosquitto;
use super::test_broker::{free_port, TestClient};
use super::tests::{call, s, telemetry, until_subscribed, ONE};
use super::*;
use crate::connectors::problem::Role;

/// The `ts` of a record or a payload, as published below (`ts` = message number).
fn number(payload: &[u8]) -> i64 {
    let value: serde_json::Value = serde_json::from_slice(payload).expect("JSON");
    value["ts"].as_i64().expect("ts")
}

#[test]
fn a_stop_acknowledges_every_message_handed_out_and_only_those() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path(), free_port());
    let port = broker.port;
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("acks/{device_id}")),
                ("qos", OptionValue::Int(1)),
                ("client_id", s("weir-acks")),
                ("clean_session", OptionValue::Bool(false)),
            ],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("acks", &config, &telemetry(), ONE).expect("open");
    let client = TestClient::connect(port, "acks-publisher", &[]);
    until_subscribed(
        &mut source,
        &client,
        "acks/probe",
        "{\"temp\":-1,\"ts\":-1}",
    );
    for i in 0..10 {
        client.publish(
            &format!("acks/m{i}"),
            format!("{{\"temp\": {i}, \"ts\": {i}}}"),
        );
    }
    // Polls of one record each: every poll ends right after a message's last record,
    // as a full poll of one-record messages does.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut read = Vec::new();
    while read.len() < 5 {
        assert!(Instant::now() < deadline, "read {read:?}");
        let (mut out, mut bad) = (Vec::new(), Vec::new());
        source.poll(&mut out, &mut bad, 1).expect("poll");
        source.commit();
        read.extend(
            out.iter()
                .map(|r| r[2].as_i64().expect("ts"))
                .filter(|ts| *ts >= 0),
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(read, [0, 1, 2, 3, 4]);
    let left = source.stop();
    assert!(left <= 5, "{left} counted as not read");
    // The next session of the same client: exactly the five messages not read.
    let next = TestClient::connect_with(port, "weir-acks", &[], false);
    let mut again: Vec<i64> = next
        .take(5, Duration::from_secs(10))
        .iter()
        .map(|(_, payload, _)| number(payload))
        .filter(|n| *n >= 0)
        .collect();
    while let Ok((_, payload, _)) = next.received.recv_timeout(Duration::from_secs(1)) {
        again.push(number(&payload));
    }
    again.retain(|n| *n >= 0);
    again.sort_unstable();
    assert_eq!(
        again,
        [5, 6, 7, 8, 9],
        "processed messages came back, or some were lost"
    );
}
