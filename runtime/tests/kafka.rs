//! `weir run` with Kafka in and out: a source whose brokers do not answer ends the run
//! with a message naming them; against a real Kafka-protocol broker (Tansu, started on
//! loopback by each test; see `support/tansu.rs`), 100k records with a few malformed
//! through a one-minute window on 1 worker and on a 2-process local cluster, compared
//! with a batch recomputation, and a consumer group resuming from its committed offsets
//! (these two are ignored for now: see their reason).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

#[path = "support/tansu.rs"]
mod tansu;

use tansu::Tansu;

/// 2024-05-01T10:00:00Z.
const BASE_MS: i64 = 1_714_557_600_000;
const DEVICES: u64 = 20;

fn weir(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run weir")
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "weir failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Produces `(key, payload)` messages to `topic`, partitioned by key, and waits for all.
fn produce(brokers: &str, topic: &str, messages: impl IntoIterator<Item = (String, String)>) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for (key, payload) in messages {
        let mut record = BaseRecord::to(topic).key(&key).payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// Every message value on `topic`, read from the beginning to the current end.
fn consume_all(brokers: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "weir-test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let mut tpl = TopicPartitionList::new();
    let mut expected = 0;
    for p in metadata.topics()[0].partitions() {
        let (low, high) = consumer
            .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
            .expect("watermarks");
        expected += high - low;
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .expect("add");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while (out.len() as i64) < expected {
        assert!(
            std::time::Instant::now() < deadline,
            "read {} of {expected}",
            out.len()
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }
    out
}

/// The telemetry: reading `i` is device `i mod 20`, 10 ms of event time apart, with an
/// integral temperature (so sums are exact in any order); every 10 000th is malformed.
fn telemetry(n: u64) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let device = format!("d{}", i % DEVICES);
            let payload = if i % 10_000 == 9_999 {
                format!("{{\"device_id\": \"{device}\", \"temp\": \"hot\"}}")
            } else {
                format!(
                    "{{\"device_id\": \"{device}\", \"temp\": {}, \"ts\": {}}}",
                    (i * 7) % 100,
                    BASE_MS + i as i64 * 10
                )
            };
            (device, payload)
        })
        .collect()
}

/// The batch answer: (device, minute start) → (count, sum of temp).
fn oracle(n: u64) -> BTreeMap<(String, i64), (i64, f64)> {
    let mut out: BTreeMap<(String, i64), (i64, f64)> = BTreeMap::new();
    for i in (0..n).filter(|i| i % 10_000 != 9_999) {
        let ts = BASE_MS + i as i64 * 10;
        let entry = out
            .entry((format!("d{}", i % DEVICES), ts - ts.rem_euclid(60_000)))
            .or_default();
        entry.0 += 1;
        entry.1 += ((i * 7) % 100) as f64;
    }
    out
}

/// The windows a run wrote, keyed as the oracle is.
fn windows(lines: &[String]) -> BTreeMap<(String, i64), (i64, f64)> {
    let mut out = BTreeMap::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("json output");
        let start = v["window_start"].as_str().expect("window_start");
        let start = chrono::DateTime::parse_from_rfc3339(start)
            .expect("rfc 3339")
            .timestamp_millis();
        let key = (v["device_id"].as_str().expect("device").to_string(), start);
        let value = (
            v["n"].as_i64().expect("n"),
            v["total"].as_f64().expect("total"),
        );
        assert!(
            out.insert(key.clone(), value).is_none(),
            "window {key:?} twice"
        );
    }
    out
}

fn window_pipe(dir: &Path, brokers: &str, group: &str, out_topic: &str) -> std::path::PathBuf {
    let file = dir.join(format!("{group}.pipe"));
    std::fs::write(
        &file,
        format!(
            r#"source telemetry = kafka("{brokers}", topic: "plant.telemetry", group: "{group}", start: earliest, until: end) {{
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}}

sink minutes = kafka("{brokers}", topic: "{out_topic}", key: device_id)
sink rejects = file("rejects-{group}.jsonl")

pipeline per_minute {{
  on error to rejects
  from telemetry
  | key by device_id
  | window tumbling 1m
  | aggregate n = count(), total = sum(temp)
  | to minutes
}}
"#
        ),
    )
    .expect("write pipe");
    file
}

#[test]
#[ignore = "Tansu 0.6 answers the ApiVersions handshake of Debian's librdkafka 2.0.2 and the client drops the connection and asks again, forever; run with --ignored against a broker librdkafka can talk to"]
fn windows_over_100k_kafka_records_match_the_oracle_on_1_worker_and_2_processes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start();
    let brokers = broker.brokers();
    broker.create_topic("plant.telemetry", 4);
    broker.create_topic("plant.minutes", 2);
    broker.create_topic("plant.minutes.cluster", 2);
    let n = 100_000;
    produce(&brokers, "plant.telemetry", telemetry(n));
    let expected = oracle(n);

    let single = window_pipe(dir.path(), &brokers, "single", "plant.minutes");
    let out = weir(
        &["run", single.to_str().expect("path"), "--quiet"],
        dir.path(),
    );
    assert_ok(&out);
    assert_eq!(windows(&consume_all(&brokers, "plant.minutes")), expected);
    let rejects =
        std::fs::read_to_string(dir.path().join("rejects-single.jsonl")).expect("rejects");
    assert_eq!(rejects.lines().count(), 10, "{rejects}");
    assert!(rejects.contains("offset"), "{rejects}");

    let cluster = window_pipe(dir.path(), &brokers, "cluster", "plant.minutes.cluster");
    let out = weir(
        &[
            "run",
            cluster.to_str().expect("path"),
            "--local-cluster",
            "2",
            "--quiet",
        ],
        dir.path(),
    );
    assert_ok(&out);
    assert_eq!(
        windows(&consume_all(&brokers, "plant.minutes.cluster")),
        expected
    );
}

fn ids_pipe(dir: &Path, brokers: &str, out: &str) -> std::path::PathBuf {
    let file = dir.join("ids.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source readings = kafka("{brokers}", topic: "plant.ids", group: "resume", until: end, key_field: k) {{
  id: i64
  k:  string
}}

sink out = file("{out}")

pipeline copy {{
  from readings
  | to out
}}
"#
        ),
    )
    .expect("write pipe");
    file
}

fn ids(path: &Path) -> Vec<i64> {
    let text = std::fs::read_to_string(path).expect("output");
    let mut ids: Vec<i64> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            assert_eq!(
                v["k"].as_str(),
                Some(format!("k{}", v["id"]).as_str()),
                "{l}"
            );
            v["id"].as_i64().expect("id")
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
#[ignore = "Tansu 0.6 answers the ApiVersions handshake of Debian's librdkafka 2.0.2 and the client drops the connection and asks again, forever; run with --ignored against a broker librdkafka can talk to"]
fn a_consumer_group_resumes_from_its_committed_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start();
    let brokers = broker.brokers();
    broker.create_topic("plant.ids", 3);
    let batch = |range: std::ops::Range<i64>| {
        range
            .map(|i| (format!("k{i}"), format!("{{\"id\": {i}}}")))
            .collect::<Vec<_>>()
    };
    produce(&brokers, "plant.ids", batch(0..1000));
    let first = ids_pipe(dir.path(), &brokers, "first.jsonl");
    assert_ok(&weir(
        &["run", first.to_str().expect("path"), "--quiet"],
        dir.path(),
    ));
    assert_eq!(
        ids(&dir.path().join("first.jsonl")),
        (0..1000).collect::<Vec<_>>()
    );

    produce(&brokers, "plant.ids", batch(1000..1500));
    let second = ids_pipe(dir.path(), &brokers, "second.jsonl");
    assert_ok(&weir(
        &["run", second.to_str().expect("path"), "--quiet"],
        dir.path(),
    ));
    // Only what the group had not read: nothing again, nothing skipped.
    assert_eq!(
        ids(&dir.path().join("second.jsonl")),
        (1000..1500).collect::<Vec<_>>()
    );
}

#[test]
fn a_source_whose_brokers_do_not_answer_ends_the_run_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on.
    let port = tansu::free_port();
    let file = dir.path().join("absent.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source readings = kafka("127.0.0.1:{port}", topic: "plant.ids", connect_timeout: 1s) {{
  id: i64
}}

sink out = stdout()

pipeline copy {{
  from readings
  | to out
}}
"#
        ),
    )
    .expect("write pipe");
    let started = std::time::Instant::now();
    let out = weir(
        &["run", file.to_str().expect("path"), "--quiet"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("kafka source `readings`"), "{stderr}");
    assert!(stderr.contains("connect_timeout"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}
