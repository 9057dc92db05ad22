//! Acknowledgements under checkpoints, against a real Mosquitto: messages are
//! acknowledged only when the checkpoint whose cut they precede completes, so after a
//! crash the broker sends the rest again to the resumed source, and each message is
//! processed once counting from the checkpoint.

use std::time::{Duration, Instant};

use weir_engine::io::SourceReader;
use weir_engine::plan::OptionValue;

use super::mosquitto::Mosquitto;
use super::test_broker::{free_port, TestClient};
use super::tests::{call, s, telemetry, until_subscribed, ONE};
use super::*;
use crate::connectors::problem::Role;

fn config(port: u16) -> MqttConfig {
    MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("ck/{device_id}")),
                ("qos", OptionValue::Int(1)),
                ("client_id", s("weir-ck")),
                ("clean_session", OptionValue::Bool(false)),
            ],
        ),
        Role::Source,
    )
    .expect("config")
}

/// Polls until `n` records with `ts >= 0` came (the probes have `ts` -1); their `ts`.
fn read(source: &mut MqttSource, n: usize) -> Vec<i64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got = Vec::new();
    while got.len() < n {
        assert!(Instant::now() < deadline, "read {got:?} of {n}");
        let (mut out, mut bad) = (Vec::new(), Vec::new());
        source.poll(&mut out, &mut bad, 3).expect("poll");
        got.extend(
            out.iter()
                .map(|r| r[2].as_i64().expect("ts"))
                .filter(|ts| *ts >= 0),
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    got
}

fn publish(client: &TestClient, numbers: std::ops::Range<i64>) {
    for i in numbers {
        client.publish(
            &format!("ck/m{i}"),
            format!("{{\"temp\": {i}, \"ts\": {i}}}"),
        );
    }
}

#[test]
fn messages_after_the_last_complete_checkpoint_come_back_after_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path(), free_port());
    let port = broker.port;
    let client = TestClient::connect(port, "ck-publisher", &[]);
    // The checkpointed output: what the checkpoint holds, then the resumed run's.
    let mut output = Vec::new();
    {
        let mut source = MqttSource::open("ck", &config(port), &telemetry(), ONE).expect("open");
        until_subscribed(&mut source, &client, "ck/probe", "{\"temp\":-1,\"ts\":-1}");
        source.position(0).expect("cut 0");
        source.checkpoint_complete(0);
        publish(&client, 0..8);
        output.extend(read(&mut source, 8));
        // The position lists the 8 messages of the cut (packet id and checksum, 6 bytes
        // each), whose acks a crash could still stop, and the probes' if their acks went
        // out since cut 0.
        let listed = source.position(1).expect("cut 1").expect("a position");
        assert!(
            listed.len() >= 8 * 6 && listed.len().is_multiple_of(6),
            "{listed:?}"
        );
        publish(&client, 8..16);
        // Read after cut 1; checkpoint 2's cut is taken but the crash comes before it
        // completes, while checkpoint 1 completes: 0..8 are acknowledged, 8..16 not.
        let after = read(&mut source, 8);
        source.position(2).expect("cut 2");
        source.checkpoint_complete(1);
        assert_eq!(after, (8..16).collect::<Vec<_>>());
        // Give the acks of checkpoint 1 time to reach the broker, then crash: the
        // source is dropped without a stop or a completion of checkpoint 2.
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut source = MqttSource::open("ck", &config(port), &telemetry(), ONE).expect("reopen");
    source.seek(&[]).expect("an MQTT source resumes");
    let mut again = read(&mut source, 8);
    again.sort_unstable();
    assert_eq!(
        again,
        (8..16).collect::<Vec<_>>(),
        "exactly the messages after cut 1"
    );
    output.extend(again);
    publish(&client, 16..20);
    output.extend(read(&mut source, 4));
    // Nothing else comes: 0..8 were acknowledged by checkpoint 1.
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    std::thread::sleep(Duration::from_millis(500));
    source.poll(&mut out, &mut bad, 100).expect("poll");
    assert!(out.iter().all(|r| r[2].as_i64() == Some(-1)), "{out:?}");
    output.sort_unstable();
    assert_eq!(output, (0..20).collect::<Vec<_>>(), "each message once");
}

/// The broker restarts mid-stream while messages wait, unacknowledged, for their
/// checkpoint: it sends them again (DUP) when the source reconnects, and the source
/// passes each on once; the checkpoint then acknowledges them all.
#[test]
fn a_broker_restart_before_the_checkpoint_sends_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Mosquitto sends a client at most 20 unacknowledged messages by default, and these
    // wait for their checkpoint (docs/checkpoints.md, "MQTT").
    let mut broker = Mosquitto::start_with(dir.path(), free_port(), "max_inflight_messages 0\n");
    let port = broker.port;
    let mut output = Vec::new();
    let mut source = MqttSource::open("ck", &config(port), &telemetry(), ONE).expect("open");
    {
        let client = TestClient::connect(port, "ck-publisher-3", &[]);
        until_subscribed(&mut source, &client, "ck/probe", "{\"temp\":-1,\"ts\":-1}");
        source.position(0).expect("cut 0");
        source.checkpoint_complete(0);
        publish(&client, 0..50);
        output.extend(read(&mut source, 50));
    }
    // Read, not yet acknowledged: checkpoint 1 is cut but not complete.
    source.position(1).expect("cut 1");
    broker.stop();
    std::thread::sleep(Duration::from_millis(500));
    broker.restart();
    let client = TestClient::connect(port, "ck-publisher-4", &[]);
    publish(&client, 50..60);
    output.extend(read(&mut source, 10));
    // Whatever the broker sent again has had time to arrive.
    std::thread::sleep(Duration::from_millis(1_000));
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    source.poll(&mut out, &mut bad, 1000).expect("poll");
    output.extend(
        out.iter()
            .filter_map(|r| r[2].as_i64())
            .filter(|ts| *ts >= 0),
    );
    output.sort_unstable();
    assert_eq!(output, (0..60).collect::<Vec<_>>(), "each message once");
    source.position(2).expect("cut 2");
    source.checkpoint_complete(2);
    std::thread::sleep(Duration::from_millis(500));
    drop(source);
    // Everything was acknowledged: a new session of the client gets nothing.
    let mut source = MqttSource::open("ck", &config(port), &telemetry(), ONE).expect("reopen");
    source.seek(&[]).expect("seek");
    std::thread::sleep(Duration::from_millis(1_000));
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    source.poll(&mut out, &mut bad, 1000).expect("poll");
    assert!(out.iter().all(|r| r[2].as_i64() == Some(-1)), "{out:?}");
}

#[test]
fn under_checkpoints_the_runs_commit_acknowledges_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path(), free_port());
    let port = broker.port;
    let client = TestClient::connect(port, "ck-publisher-2", &[]);
    {
        let mut source = MqttSource::open("ck", &config(port), &telemetry(), ONE).expect("open");
        until_subscribed(&mut source, &client, "ck/probe", "{\"temp\":-1,\"ts\":-1}");
        source.position(0).expect("cut 0");
        source.checkpoint_complete(0);
        publish(&client, 0..5);
        read(&mut source, 5);
        // The run's commit point is not the acknowledgement point under checkpoints.
        source.commit();
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut source = MqttSource::open("ck", &config(port), &telemetry(), ONE).expect("reopen");
    source.seek(&[]).expect("seek");
    let mut again = read(&mut source, 5);
    again.sort_unstable();
    assert_eq!(again, [0, 1, 2, 3, 4]);
}

/// `id_field`: each message carries its idempotency key as a JSON field; a restored
/// sink sending the same records again sends the same keys.
#[test]
fn a_sinks_id_field_is_the_same_when_a_restored_run_sends_again() {
    use weir_engine::event::Event;
    use weir_engine::io::SinkWriter;
    use weir_engine::value::Value;

    let port = free_port();
    super::test_broker::start_broker(port, None);
    let watcher = TestClient::connect(port, "ck-watcher", &["ids/#"]);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![("topic", s("ids/{device_id}")), ("id_field", s("msg_id"))],
        ),
        Role::Sink,
    )
    .expect("config");
    let events: Vec<Event> = (0..4)
        .map(|i| {
            let record = vec![Value::str("m1"), Value::Float(1.0), Value::Time(i / 2)];
            Event::new(i, record)
        })
        .collect();
    let mut keys = Vec::new();
    for _run in 0..2 {
        let sink = MqttSink::open("ids", &config, &telemetry(), None).expect("open");
        sink.restore(None).expect("restore");
        sink.write(&events).expect("write");
        sink.flush().expect("flush");
        let got = watcher.take(4, Duration::from_secs(20));
        let run: Vec<String> = got
            .iter()
            .map(|(_, payload, _)| {
                let v: serde_json::Value = serde_json::from_slice(payload).expect("JSON");
                assert_eq!(v["device_id"], "m1", "the record's fields stay");
                v["msg_id"].as_str().expect("msg_id").to_string()
            })
            .collect();
        keys.push(run);
    }
    assert_eq!(keys[0], keys[1], "the same keys when sent again");
    let distinct: std::collections::HashSet<&String> = keys[0].iter().collect();
    assert_eq!(
        distinct.len(),
        4,
        "equal records get distinct keys: {keys:?}"
    );
    let refused = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("ids/{device_id}")),
                ("id_field", s("msg_id")),
                ("format", OptionValue::Ident("csv".into())),
            ],
        ),
        Role::Sink,
    );
    assert!(
        format!("{refused:?}").contains("adds a JSON field"),
        "{refused:?}"
    );
}
