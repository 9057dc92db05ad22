//! `weir run` with Kafka in and out: a source whose brokers do not answer ends the run
//! with a message naming them; against a real Kafka-protocol broker (Tansu, started on
//! loopback by each test; see `support/tansu.rs`), 100k records with a few malformed
//! through a one-minute window on 1 and 4 workers and on a 2-process local cluster,
//! compared with a batch recomputation; a broker killed and restarted mid-run (its log
//! kept in an S3 server on loopback, `support/s3.rs`); a consumer group resuming from its
//! committed offsets; a missing topic or a refused login ending the run; TLS with a
//! private authority and a client certificate (through `support/tls_proxy.rs`); the
//! documented example; and checkpoint positions restored onto another number of workers.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use weir_engine::checkpoint::SourcePosition;
use weir_engine::io::{ConnectorFactory, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::value::Value;

#[path = "support/private_ca.rs"]
mod private_ca;
#[path = "support/s3.rs"]
mod s3;
#[path = "support/tansu.rs"]
mod tansu;
#[path = "support/tls_proxy.rs"]
mod tls_proxy;

use tansu::Tansu;
use tls_proxy::TlsProxy;

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
    // Tansu 0.6 moves a partition's end by one per batch, not per record, when it keeps
    // its log in memory: with one record a batch, the ends the source stops at (`until:
    // end`) are the true ones.
    produce_with(brokers, topic, messages, &[("batch.num.messages", "1")]);
}

/// [`produce`] with the producer `settings`; fails if any record was not delivered.
fn produce_with(
    brokers: &str,
    topic: &str,
    messages: impl IntoIterator<Item = (String, String)>,
    settings: &[(&str, &str)],
) {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5");
    for (key, value) in settings {
        config.set(*key, *value);
    }
    let producer: BaseProducer<Deliveries> = config
        .create_with_context(Deliveries::default())
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
    let failed = producer.context().failed.lock().expect("lock").clone();
    assert!(
        failed.is_empty(),
        "{} records not delivered: {:?}",
        failed.len(),
        failed.first()
    );
}

/// Counts the records a test producer could not deliver, with the broker's reason.
#[derive(Default)]
struct Deliveries {
    failed: std::sync::Mutex<Vec<String>>,
}

impl rdkafka::ClientContext for Deliveries {}

impl rdkafka::producer::ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &rdkafka::message::DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            self.failed.lock().expect("lock").push(error.to_string());
        }
    }
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

/// Per-minute windows: (device, minute start) → (count, sum of temp).
type Windows = BTreeMap<(String, i64), (i64, f64)>;

/// The batch answer for telemetry payloads as a broker holds them, and how many of them
/// are malformed (a `temp` that is not a number).
fn oracle_of(payloads: &[String]) -> (Windows, usize) {
    let mut out = Windows::new();
    let mut malformed = 0;
    for payload in payloads {
        let v: serde_json::Value = serde_json::from_str(payload).expect("json payload");
        let Some(temp) = v["temp"].as_f64() else {
            malformed += 1;
            continue;
        };
        let ts = v["ts"].as_i64().expect("ts");
        let device = v["device_id"].as_str().expect("device").to_string();
        let entry = out.entry((device, ts - ts.rem_euclid(60_000))).or_default();
        entry.0 += 1;
        entry.1 += temp;
    }
    (out, malformed)
}

/// The windows a run wrote, keyed as the oracle is.
fn windows(lines: &[String]) -> BTreeMap<(String, i64), (i64, f64)> {
    let mut out = BTreeMap::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("json output");
        let start = v["window"]["start"].as_str().expect("window start");
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

/// A Kafka sink of the per-device minutes to `topic`, one record a batch (see `produce`).
fn minutes_to(brokers: &str, topic: &str) -> String {
    format!(r#"kafka("{brokers}", topic: "{topic}", key: device_id, batch: 1)"#)
}

/// The per-minute pipeline reading `plant.telemetry` as `group`, writing to `minutes_sink`.
fn window_pipe(dir: &Path, brokers: &str, group: &str, minutes_sink: &str) -> std::path::PathBuf {
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

sink minutes = {minutes_sink}
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
fn windows_over_100k_kafka_records_match_the_oracle_on_1_and_4_workers_and_2_processes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start();
    let brokers = broker.brokers();
    broker.create_topic("plant.telemetry", 4);
    broker.create_topic("plant.minutes", 2);
    broker.create_topic("plant.minutes.cluster", 2);
    broker.create_topic("plant.minutes.four", 2);
    let n = 100_000;
    produce(&brokers, "plant.telemetry", telemetry(n));
    let expected = oracle(n);

    let single = window_pipe(
        dir.path(),
        &brokers,
        "single",
        &minutes_to(&brokers, "plant.minutes"),
    );
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

    // Four workers share the four partitions, one each: every worker's watermark is its
    // own partition's, and the windows still close exactly as on one worker.
    let four = window_pipe(
        dir.path(),
        &brokers,
        "four",
        &minutes_to(&brokers, "plant.minutes.four"),
    );
    let out = weir(
        &[
            "run",
            four.to_str().expect("path"),
            "--workers",
            "4",
            "--quiet",
        ],
        dir.path(),
    );
    assert_ok(&out);
    assert_eq!(
        windows(&consume_all(&brokers, "plant.minutes.four")),
        expected
    );

    let cluster = window_pipe(
        dir.path(),
        &brokers,
        "cluster",
        &minutes_to(&brokers, "plant.minutes.cluster"),
    );
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

/// The offsets `group` has committed on `topic`, summed over its partitions (-1 for none).
fn committed_total(brokers: &str, group: &str, topic: &str, partitions: i32) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let Ok(committed) = consumer.committed_offsets(tpl, Duration::from_secs(5)) else {
        return -1;
    };
    committed
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(n) => n,
            _ => 0,
        })
        .sum()
}

/// The broker is killed while `weir run` reads, and started again on the same port with
/// the same storage (an S3 server on loopback), so it comes back with its topics, records
/// and committed offsets, as a Kafka broker comes back with its log on disk. What it
/// proves: a run outlives its broker going away, reconnects by itself, resumes at the
/// offsets it had reached (not at the start, not at the group's last commit, not at the
/// end), every record is counted once, and offsets committed before the crash outlive it.
/// One partition: with four, the log Tansu served on moto's S3 changed across the restart
/// even when nothing was written (docs/connectors.md).
#[test]
fn a_broker_restart_mid_stream_loses_nothing_and_repeats_nothing() {
    const PARTITIONS: i32 = 1;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut broker, held) = durable_broker_holding_records(PARTITIONS);
    let brokers = broker.brokers();
    let n = held.len() as i64;
    let (expected, malformed) = oracle_of(&held);
    let pipe = window_pipe(dir.path(), &brokers, "restart", r#"file("minutes.jsonl")"#);
    let mut run = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", pipe.to_str().expect("path"), "--quiet"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weir");

    // Mid-stream: the run has handed out and committed some records, not all.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let reached = loop {
        let total = committed_total(&brokers, "restart", "plant.telemetry", PARTITIONS);
        if total > 0 {
            break total;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "weir committed nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    broker.stop();
    eprintln!("broker stopped with {reached} of {n} offsets committed");
    assert!(reached < n, "the run read everything before the restart");
    std::thread::sleep(Duration::from_secs(2));
    let down = run.try_wait().expect("weir status");
    assert!(
        down.is_none(),
        "weir ended while the broker was down: {down:?}"
    );
    broker.restart();
    let kept = committed_total(&brokers, "restart", "plant.telemetry", PARTITIONS);
    assert!(
        kept >= reached,
        "the restarted broker has {kept} offsets committed, {reached} before"
    );

    let out = run.wait_with_output().expect("wait for weir");
    assert!(
        out.status.success(),
        "weir failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("minutes.jsonl")).expect("output");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let got = windows(&lines);
    let differ: Vec<_> = expected
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, v)| (k, v, got.get(k)))
        .collect();
    assert!(
        differ.is_empty() && got.len() == expected.len(),
        "{} of {} windows differ (key, expected, got): {differ:?}\n{}",
        differ.len(),
        expected.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    let rejects =
        std::fs::read_to_string(dir.path().join("rejects-restart.jsonl")).expect("rejects");
    assert_eq!(rejects.lines().count(), malformed, "{rejects}");
    assert_eq!(
        committed_total(&brokers, "restart", "plant.telemetry", PARTITIONS),
        n,
        "every offset committed by the end of the run\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A broker on moto's S3, restarted after 100 000 records were produced to
/// `plant.telemetry`, and the records it then holds. Every batch is an object in the S3
/// server: batches of 1 000 records are quick to write and to read. With moto's S3, Tansu
/// 0.6 acknowledges batches it does not keep (and serves them until it restarts;
/// docs/connectors.md), so the broker is restarted once the producer is done, and a run
/// is compared with the log it then holds, not with what was sent. One request in flight:
/// Tansu kept more of what was sent so (48 % to 99 % in 10 runs; down to 41 % with
/// librdkafka's default of five). It has also kept a single record (1 run in 6 under
/// load; in stop 31, 3 runs of 6 met three such brokers in a row): such a broker is
/// replaced, up to ten times, as the test is about Weir, not it.
fn durable_broker_holding_records(partitions: i32) -> (Tansu, Vec<String>) {
    for attempt in 1..=10 {
        let mut broker = Tansu::start_durable();
        let brokers = broker.brokers();
        broker.create_topic("plant.telemetry", partitions as u32);
        produce_with(
            &brokers,
            "plant.telemetry",
            telemetry(100_000),
            &[
                ("batch.num.messages", "1000"),
                ("max.in.flight.requests.per.connection", "1"),
            ],
        );
        broker.stop();
        broker.restart();
        let held = consume_all(&brokers, "plant.telemetry");
        eprintln!("the broker holds {} of the 100000 records sent", held.len());
        if held.len() >= 20_000 {
            return (broker, held);
        }
        eprintln!("attempt {attempt}: too few records kept; a new broker");
    }
    panic!("ten brokers on moto's S3 each kept fewer than 20 000 of 100 000 records");
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

/// Runs a one-source pipeline reading `source_call`, with `env` set, and returns its
/// output and how long it took.
fn run_reader(dir: &Path, source_call: &str, env: &[(&str, &str)]) -> (Output, Duration) {
    let file = dir.join("reader.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source readings = {source_call} {{
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
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", file.to_str().expect("path"), "--quiet"])
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run weir");
    (out, started.elapsed())
}

#[test]
fn a_source_on_a_topic_the_broker_does_not_have_ends_the_run_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start();
    broker.create_topic("plant.ids", 1);
    let (out, took) = run_reader(
        dir.path(),
        &format!(
            r#"kafka("{}", topic: "plant.absent", connect_timeout: 2s)"#,
            broker.brokers()
        ),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("kafka source `readings`: no topic `plant.absent` on the brokers"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

/// Tansu with `--authentication` has no user `weir`, so it refuses the SCRAM login
/// (`unknown-user`); the run ends long before `connect_timeout`, saying so.
#[test]
fn a_refused_login_ends_the_run_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start_authenticating();
    let call = format!(
        r#"kafka("{}", topic: "plant.ids", sasl: "scram-sha-512", username: "weir", password_env: "WEIR_TEST_KAFKA_PASSWORD", connect_timeout: 60s)"#,
        broker.brokers()
    );
    let (out, took) = run_reader(
        dir.path(),
        &call,
        &[("WEIR_TEST_KAFKA_PASSWORD", "wrong-secret")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("kafka source `readings`"), "{stderr}");
    assert!(stderr.contains("refused authentication"), "{stderr}");
    assert!(stderr.contains("check `username`"), "{stderr}");
    // The broker's reason, as librdkafka gives it.
    assert!(stderr.contains("unknown-user"), "{stderr}");
    assert!(
        !stderr.contains("wrong-secret"),
        "the password leaked: {stderr}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// A sink whose login is refused fails the run too, naming the sink.
#[test]
fn a_sink_whose_login_is_refused_ends_the_run_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start_authenticating();
    std::fs::write(dir.path().join("ids.jsonl"), "{\"id\": 1}\n{\"id\": 2}\n").expect("input");
    let file = dir.path().join("writer.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source readings = file("ids.jsonl") {{
  id: i64
}}

sink out = kafka("{}", topic: "plant.ids", sasl: "scram-sha-256", username: "weir", password_env: "WEIR_TEST_KAFKA_PASSWORD")

pipeline copy {{
  from readings
  | to out
}}
"#,
            broker.brokers()
        ),
    )
    .expect("write pipe");
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", file.to_str().expect("path"), "--quiet"])
        .env("WEIR_TEST_KAFKA_PASSWORD", "wrong-secret")
        .current_dir(dir.path())
        .output()
        .expect("run weir");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("kafka sink `out`"), "{stderr}");
    assert!(stderr.contains("refused authentication"), "{stderr}");
    assert!(stderr.contains("unknown-user"), "{stderr}");
    assert!(!stderr.contains("wrong-secret"), "{stderr}");
    // Long before the 30 s `delivery_timeout` would give the records up.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// A broker behind TLS (`support/tls_proxy.rs`) that takes only clients presenting a
/// certificate of the private authority; `ca_file`, `client_cert` and `client_key` go to
/// `dir`'s files of it.
fn tls_broker(dir: &Path) -> (Tansu, TlsProxy, String) {
    private_ca::private_ca(dir);
    let port = tansu::free_port();
    let broker = Tansu::start_advertising(port);
    broker.create_topic("plant.ids", 2);
    let proxy = TlsProxy::start(port, broker.port, dir, true);
    (broker, proxy, format!("127.0.0.1:{port}"))
}

/// Over TLS only, trusting a private authority (`ca_file`) and presenting a client
/// certificate: a run writes 1 000 records to Kafka, a second reads them back, each once.
#[test]
fn records_go_in_and_out_over_tls_with_a_private_ca_and_a_client_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_broker, _proxy, brokers) = tls_broker(dir.path());
    let tls = r#"ca_file: "ca.pem", client_cert: "client.pem", client_key: "client.key""#;
    let input: String = (0..1000).map(|i| format!("{{\"id\": {i}}}\n")).collect();
    std::fs::write(dir.path().join("ids.jsonl"), input).expect("input");
    let writer = dir.path().join("writer.pipe");
    std::fs::write(
        &writer,
        format!(
            r#"source ids = file("ids.jsonl") {{
  id: i64
}}

sink out = kafka("{brokers}", topic: "plant.ids", key: "k{{id}}", batch: 1, {tls})

pipeline write {{
  from ids
  | to out
}}
"#
        ),
    )
    .expect("write pipe");
    assert_ok(&weir(
        &["run", writer.to_str().expect("path"), "--quiet"],
        dir.path(),
    ));

    let (out, _) = run_reader(
        dir.path(),
        &format!(
            r#"kafka("{brokers}", topic: "plant.ids", start: earliest, until: end, connect_timeout: 10s, {tls})"#
        ),
        &[],
    );
    assert_ok(&out);
    let mut ids: Vec<i64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["id"].as_i64().expect("id")
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..1000).collect::<Vec<_>>());
}

/// A broker whose certificate no trusted authority signed: the TLS handshake fails on
/// every try, so a source's or a sink's run ends at once naming TLS, not after
/// `connect_timeout` or the delivery timeout.
#[test]
fn a_source_or_sink_that_does_not_trust_the_brokers_certificate_ends_the_run_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_broker, _proxy, brokers) = tls_broker(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("dir");
    private_ca::private_ca(&other);
    let (out, took) = run_reader(
        dir.path(),
        &format!(
            r#"kafka("{brokers}", topic: "plant.ids", start: earliest, connect_timeout: 60s, ca_file: "other/ca.pem", client_cert: "client.pem", client_key: "client.key")"#
        ),
        &[],
    );
    assert_ends_naming_tls(&out, took);
    let writer = dir.path().join("writer.pipe");
    std::fs::write(dir.path().join("ids.jsonl"), "{\"id\": 1}\n").expect("input");
    std::fs::write(
        &writer,
        format!(
            r#"source ids = file("ids.jsonl") {{
  id: i64
}}

sink out = kafka("{brokers}", topic: "plant.ids", ca_file: "other/ca.pem", client_cert: "client.pem", client_key: "client.key")

pipeline write {{
  from ids
  | to out
}}
"#
        ),
    )
    .expect("write pipe");
    let started = std::time::Instant::now();
    let out = weir(
        &["run", writer.to_str().expect("path"), "--quiet"],
        dir.path(),
    );
    assert_ends_naming_tls(&out, started.elapsed());
}

fn assert_ends_naming_tls(out: &Output, took: Duration) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the run must fail: {stderr}");
    assert!(
        stderr.contains("TLS handshake failed"),
        "names TLS: {stderr}"
    );
    assert!(
        took < Duration::from_secs(30),
        "ended after {took:?}: {stderr}"
    );
}

/// The documented Kafka pipeline (tests/data/kafka_minutes.pipe), pointed at the test
/// broker: per-device minutes in `plant.minutes`, keyed by device, match the oracle.
#[test]
fn the_kafka_minutes_example_runs_against_a_broker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Tansu::start();
    let brokers = broker.brokers();
    broker.create_topic("plant.telemetry", 3);
    broker.create_topic("plant.minutes", 1);
    let n = 3_000;
    produce(&brokers, "plant.telemetry", telemetry(n));
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kafka_minutes.pipe"),
    )
    .expect("example");
    let file = dir.path().join("kafka_minutes.pipe");
    // One record a batch (see `produce`), so the reader finds every record written.
    let text = text
        .replace("127.0.0.1:9092", &brokers)
        .replace("linger: 10ms)", "linger: 10ms, batch: 1)");
    std::fs::write(&file, text).expect("write");
    let out = weir(
        &["run", file.to_str().expect("path"), "--quiet"],
        dir.path(),
    );
    assert_ok(&out);
    let got: BTreeMap<(String, i64), i64> = consume_all(&brokers, "plant.minutes")
        .iter()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let start = chrono::DateTime::parse_from_rfc3339(
                v["window"]["start"].as_str().expect("window start"),
            )
            .expect("rfc 3339")
            .timestamp_millis();
            (
                (v["device_id"].as_str().expect("device").to_string(), start),
                v["readings"].as_i64().expect("readings"),
            )
        })
        .collect();
    let expected: BTreeMap<(String, i64), i64> = oracle(n)
        .into_iter()
        .map(|(k, (count, _))| (k, count))
        .collect();
    assert_eq!(got, expected);
}

/// The `readings` source of a one-source program reading `call` with an `id` field.
fn source_node(call: &str) -> weir_engine::plan::SourceNode {
    let text = format!(
        "source readings = {call} {{\n  id: i64\n}}\n\nsink out = stdout()\n\n\
         pipeline copy {{\n  from readings\n  | to out\n}}\n"
    );
    let compiled = weir_dsl::compile_with("ck.pipe", &text, &weir_runtime::catalog::Catalog)
        .map_err(|d| format!("{d:?}"))
        .expect("compile");
    compiled.plan.sources[0].clone()
}

/// Polls `reader` until it has handed out at least `want` records (all it has, for
/// `None`), returning their ids.
fn read_ids(reader: &mut dyn SourceReader, want: Option<usize>) -> Vec<i64> {
    let mut ids = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(std::time::Instant::now() < deadline, "read {}", ids.len());
        let mut out = Vec::new();
        let mut bad = Vec::new();
        let status = reader.poll(&mut out, &mut bad, 7).expect("poll");
        assert!(bad.is_empty());
        ids.extend(out.iter().map(|r| match r.first() {
            Some(Value::Int(i)) => *i,
            other => panic!("id {other:?}"),
        }));
        if want.is_some_and(|w| ids.len() >= w) || status == SourceStatus::Finished {
            return ids;
        }
        if status == SourceStatus::Idle {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_checkpoint_position_resumes_on_other_workers_without_loss_or_repeats() {
    let broker = Tansu::start();
    let brokers = broker.brokers();
    broker.create_topic("plant.ck", 3);
    produce(
        &brokers,
        "plant.ck",
        (0..300).map(|i| (format!("k{i}"), format!("{{\"id\": {i}}}"))),
    );
    let call = |group: &str, start: &str| {
        format!(
            r#"kafka("{brokers}", topic: "plant.ck", group: "{group}", start: {start}, until: end)"#
        )
    };
    let factory = weir_runtime::connectors::Connectors::default();
    let node = source_node(&call("ck", "earliest"));
    let one = WorkerInfo { index: 0, peers: 1 };
    let mut first = factory.open_source(&node, one).expect("open");
    let before = read_ids(first.as_mut(), Some(100));
    let position = first
        .position(1)
        .expect("position")
        .expect("kafka sources can resume");
    first.checkpoint_complete(1);
    // Read past the checkpoint (as a run does before it crashes): that is not kept.
    read_ids(first.as_mut(), Some(before.len() + 50));
    drop(first);

    // Restored on two workers: each takes its partitions' offsets from the old position.
    let stored = [SourcePosition {
        worker: 0,
        workers: 1,
        bytes: position,
    }];
    let mut after = Vec::new();
    for index in 0..2 {
        let mut reader = factory
            .open_source(&node, WorkerInfo { index, peers: 2 })
            .expect("open");
        reader.seek(&stored).expect("seek");
        after.extend(read_ids(reader.as_mut(), None));
    }
    let mut all: Vec<i64> = before.iter().chain(&after).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..300).collect::<Vec<_>>());

    // The completed checkpoint's offsets were committed: the group resumes there too.
    let committed = source_node(&call("ck", "committed"));
    let mut resumed = factory.open_source(&committed, one).expect("open");
    let mut again = read_ids(resumed.as_mut(), None);
    again.sort_unstable();
    after.sort_unstable();
    assert_eq!(again, after);
}
