//! The `postgres(…)` sink against a real PostgreSQL server started by the test on
//! loopback: what `weir run` writes is read back and compared with the same records the
//! pipeline wrote to a JSON-lines file (upsert and append), refused rows reach the error
//! route with the server's reason (a broken rule, a column of another type), a server
//! restarted mid-run is retried with back-off and loses or doubles no row, and a refused
//! login stops the run without printing the password.

#[path = "support/cut_proxy.rs"]
mod cut_proxy;
#[path = "support/postgres_server.rs"]
mod postgres_server;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use cut_proxy::{Cut, CutProxy};
use postgres_server::{PgServer, PASSWORD, USER};

fn weir(dir: &Path, url: &str, workers: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe", "--workers", workers])
        .env("PG_URL", url)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "weir failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("read output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn millis(rfc3339: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .timestamp_millis()
}

fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

const MINUTES: &str = r#"
source telemetry = sensors(devices: 4, rate: 20, events: 2400, seed: 11) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 1s
}
sink db = postgres(url_env: "PG_URL", table: "device_minutes", key: [device_id, window.start], mode: upsert, create: true, batch: 7)
sink copy = file("copy.jsonl")
pipeline minutes {
  from telemetry
  | key by device_id
  | window tumbling 1m
  | aggregate n = count(), avg_temp = avg(temp)
  | to db
  | to copy
}
"#;

type Minute = (String, i64, i64, u64);

fn table_minutes(server: &PgServer) -> Vec<Minute> {
    let mut rows: Vec<Minute> = server
        .client()
        .query(
            "SELECT device_id, window_start, n, avg_temp FROM device_minutes",
            &[],
        )
        .expect("read back")
        .iter()
        .map(|r| {
            let avg: f64 = r.get(3);
            (
                r.get::<_, String>(0),
                epoch_ms(r.get(1)),
                r.get::<_, i64>(2),
                avg.to_bits(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn upsert_keeps_one_row_per_key_equal_to_the_pipeline_output() {
    let server = PgServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.pipe"), MINUTES).expect("pipe");
    let mut expected: Vec<Minute> = Vec::new();
    // Twice, on 1 and on 4 workers: the second run updates the rows of the first.
    for workers in ["1", "4"] {
        if workers == "4" {
            assert!(table_minutes(&server).iter().all(|m| m.2 == -1));
        }
        ok(&weir(tmp.path(), &server.url(), workers));
        let mut minutes: Vec<Minute> = jsonl(&tmp.path().join("copy.jsonl"))
            .iter()
            .map(|r| {
                (
                    r["device_id"].as_str().expect("device").to_string(),
                    millis(&r["window"]["start"]),
                    r["n"].as_i64().expect("n"),
                    r["avg_temp"].as_f64().expect("avg").to_bits(),
                )
            })
            .collect();
        minutes.sort();
        if !expected.is_empty() {
            assert_eq!(minutes, expected, "1 and 4 workers differ");
        }
        expected = minutes;
        assert!(expected.len() >= 8, "{expected:?}");
        assert_eq!(table_minutes(&server), expected);
        // Spoil every row: the next run's upserts must put them right.
        server
            .client()
            .batch_execute("UPDATE device_minutes SET n = -1, avg_temp = 0")
            .expect("spoil");
    }
    // Columns typed from the records, the key as primary key.
    let types: BTreeMap<String, String> = server
        .client()
        .query(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_name = 'device_minutes'",
            &[],
        )
        .expect("columns")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(types["window_start"], "timestamp with time zone");
    assert_eq!(types["n"], "bigint");
    assert_eq!(types["avg_temp"], "double precision");
    assert_eq!(types["device_id"], "text");
}

const READINGS: &str = r#"
source telemetry = sensors(devices: 3, rate: 10, events: 900, seed: 5) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
sink db = postgres(url_env: "PG_URL", table: "readings", batch: 50)
sink copy = file("copy.jsonl")
sink rejects = file("rejects.jsonl")
pipeline raw {
  on error to rejects
  from telemetry
  | to db
  | to copy
}
"#;

#[test]
fn append_writes_every_record_and_routes_refused_rows_with_the_reason() {
    let server = PgServer::start();
    // The table exists already, with a rule some readings break.
    server
        .client()
        .batch_execute(
            "CREATE TABLE readings (device_id text NOT NULL, temp double precision NOT NULL \
             CONSTRAINT sane_temp CHECK (temp < 75), ts timestamptz NOT NULL)",
        )
        .expect("create");
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.pipe"), READINGS).expect("pipe");
    ok(&weir(tmp.path(), &server.url(), "2"));
    let key = |device: &str, temp: f64, ts: i64| (device.to_string(), temp.to_bits(), ts);
    let copy = jsonl(&tmp.path().join("copy.jsonl"));
    assert_eq!(copy.len(), 900);
    let (mut hot, mut fine): (Vec<_>, Vec<_>) = copy
        .iter()
        .map(|r| {
            key(
                r["device_id"].as_str().expect("device"),
                r["temp"].as_f64().expect("temp"),
                millis(&r["ts"]),
            )
        })
        .partition(|(_, temp, _)| f64::from_bits(*temp) >= 75.0);
    assert!(
        !hot.is_empty() && !fine.is_empty(),
        "the data must test both"
    );
    let mut table: Vec<_> = server
        .client()
        .query("SELECT device_id, temp, ts FROM readings", &[])
        .expect("read back")
        .iter()
        .map(|r| key(r.get(0), r.get(1), epoch_ms(r.get(2))))
        .collect();
    table.sort();
    fine.sort();
    assert_eq!(table, fine);
    // Each refused row is routed whole, with PostgreSQL's reason.
    let mut routed = Vec::new();
    for r in jsonl(&tmp.path().join("rejects.jsonl")) {
        let error = &r["error"];
        assert_eq!(error["source"], "db");
        let reason = error["reason"].as_str().expect("reason");
        assert!(
            reason.contains("sane_temp") && reason.contains("23514"),
            "{reason}"
        );
        let location = error["location"].as_str().expect("location");
        assert!(!location.contains(PASSWORD), "{location}");
        let raw: serde_json::Value =
            serde_json::from_str(error["raw"].as_str().expect("raw")).expect("raw JSON");
        routed.push(key(
            raw["device_id"].as_str().expect("device"),
            raw["temp"].as_f64().expect("temp"),
            millis(&raw["ts"]),
        ));
    }
    routed.sort();
    hot.sort();
    assert_eq!(routed, hot);
}

const PACED: &str = r#"
source telemetry = sensors(devices: 3, rate: 150, events: 1500, seed: 9, realtime: true) {
  device_id: string
  seq:       i64
  temp:      f64
  ts:        timestamp
  event_time ts
}
sink db = postgres(url_env: "PG_URL", table: "paced", batch: 20, create: true, retries: 8, backoff: 100ms)
sink copy = file("copy.jsonl")
pipeline raw {
  from telemetry
  | to db
  | to copy
}
"#;

fn row_count(server: &PgServer, table: &str) -> i64 {
    server
        .client()
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .map(|r| r.get(0))
        .unwrap_or(0)
}

#[test]
fn a_server_restarted_mid_run_loses_and_doubles_no_row() {
    let server = PgServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.pipe"), PACED).expect("pipe");
    // 1500 readings paced at 150/s: a run of about 10 s.
    let child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe", "--workers", "2"])
        .env("PG_URL", server.url())
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weir starts");
    let waited = std::time::Instant::now();
    while row_count(&server, "paced") < 150 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "no rows"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Every connection cut mid-run; the server is back 1.5 s later.
    server.restart(std::time::Duration::from_millis(1500));
    let out = child.wait_with_output().expect("weir ends");
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("retrying in"), "no retry:\n{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    let key = |seq: i64, temp: f64, ts: i64| (seq, temp.to_bits(), ts);
    let mut copy: Vec<_> = jsonl(&tmp.path().join("copy.jsonl"))
        .iter()
        .map(|r| {
            key(
                r["seq"].as_i64().expect("seq"),
                r["temp"].as_f64().expect("temp"),
                millis(&r["ts"]),
            )
        })
        .collect();
    assert_eq!(copy.len(), 1500);
    let mut table: Vec<_> = server
        .client()
        .query("SELECT seq, temp, ts FROM paced", &[])
        .expect("read back")
        .iter()
        .map(|r| key(r.get(0), r.get(1), epoch_ms(r.get(2))))
        .collect();
    copy.sort();
    table.sort();
    // Same multiset: a lost row or a doubled one (a batch written twice) shows here.
    assert_eq!(table.len(), copy.len());
    assert_eq!(table, copy);
}

#[test]
fn a_column_of_another_type_routes_every_row_without_retrying() {
    let server = PgServer::start();
    // `temp` is an integer column; the records carry floats.
    server
        .client()
        .batch_execute("CREATE TABLE readings (device_id text, temp integer, ts timestamptz)")
        .expect("create");
    let tmp = tempfile::tempdir().expect("tempdir");
    let pipe = READINGS.replace("events: 900", "events: 60");
    std::fs::write(tmp.path().join("p.pipe"), pipe).expect("pipe");
    let out = weir(tmp.path(), &server.url(), "1");
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("retrying"), "{stderr}");
    assert_eq!(row_count(&server, "readings"), 0);
    let rejects = jsonl(&tmp.path().join("rejects.jsonl"));
    assert_eq!(rejects.len(), 60);
    for r in &rejects {
        let reason = r["error"]["reason"].as_str().expect("reason");
        assert!(
            reason.contains("int4") && reason.contains("f64"),
            "{reason}"
        );
    }
}

#[test]
fn a_refused_login_stops_the_run_without_printing_the_password() {
    let server = PgServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.pipe"), READINGS).expect("pipe");
    let wrong = "not-the-password-42";
    let out = weir(tmp.path(), &server.url_with(wrong), "1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("refused the login"), "{stderr}");
    assert!(stderr.contains("28P01"), "{stderr}");
    assert!(!stderr.contains(wrong), "{stderr}");
}

/// Checkpoints with `mode: upsert`: rows written after the checkpoint and before a
/// crash are written again by the replay (same key, same values), so the table ends as
/// the uninterrupted run's. The sink is driven as the engine drives it under
/// checkpoints: prepare and commit at a checkpoint, restore after the crash.
#[test]
fn upsert_after_a_crash_and_a_replay_equals_the_uninterrupted_run() {
    use weir_engine::event::Event;
    use weir_engine::io::SinkWriter;
    use weir_engine::plan::{ConnectorCall, OptionValue};
    use weir_engine::schema::{Field, Schema, Type};
    use weir_engine::value::Value;
    use weir_runtime::connectors::postgres::{PostgresConfig, PostgresSink};

    let server = PgServer::start();
    std::env::set_var("WEIR_CK_PG_URL", server.url());
    let word = |w: &str| OptionValue::Ident(w.into());
    let call = ConnectorCall {
        kind: "postgres".into(),
        args: vec![],
        options: vec![
            ("url_env".into(), OptionValue::Str("WEIR_CK_PG_URL".into())),
            ("table".into(), OptionValue::Str("ck_counts".into())),
            (
                "key".into(),
                OptionValue::List(vec![word("device_id"), word("minute")]),
            ),
            ("mode".into(), word("upsert")),
            ("create".into(), OptionValue::Bool(true)),
            ("batch".into(), OptionValue::Int(4)),
        ],
    };
    let config = PostgresConfig::from_call(&call).expect("config");
    let schema = Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("minute", Type::Int),
        Field::new("n", Type::Int),
    ]);
    // Early firings: each (device, minute) is written several times with a growing n.
    let record = |i: i64| Event {
        time: 0,
        record: vec![
            Value::str(&format!("d{}", i % 3)),
            Value::Int(i % 7),
            Value::Int(i),
        ],
    };
    let epoch1: Vec<Event> = (0..30).map(record).collect();
    let epoch2: Vec<Event> = (30..60).map(record).collect();
    {
        let sink = PostgresSink::open("db", &config, &schema).expect("open");
        sink.write(&epoch1).expect("write");
        assert_eq!(sink.prepare_commit(1).expect("prepare"), None);
        sink.commit(1).expect("commit");
        // Part of epoch 2, then the crash.
        sink.write(&epoch2[..17]).expect("write");
    }
    let sink = PostgresSink::open("db", &config, &schema).expect("reopen");
    sink.restore(None).expect("restore");
    sink.write(&epoch2).expect("replay");
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for e in epoch1.iter().chain(&epoch2) {
        let key = (
            e.record[0].as_str().expect("id").to_string(),
            e.record[1].as_i64().expect("m"),
        );
        expected.insert(key, e.record[2].as_i64().expect("n"));
    }
    let table: BTreeMap<(String, i64), i64> = server
        .client()
        .query("SELECT device_id, minute, n FROM ck_counts", &[])
        .expect("select")
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    assert_eq!(table, expected);
}

/// Drives an `append` sink through a proxy that cuts the connection at the third batch's
/// COMMIT (`cut`), and returns the `seq` values in the table: after the retry they must
/// be 0..100, each once, whether or not that COMMIT reached the server.
fn append_through_a_cut(cut: Cut, env: &str, table: &str) -> (CutProxy, Vec<i64>) {
    use weir_engine::event::Event;
    use weir_engine::io::SinkWriter;
    use weir_engine::plan::{ConnectorCall, OptionValue};
    use weir_engine::schema::{Field, Schema, Type};
    use weir_engine::value::Value;
    use weir_runtime::connectors::postgres::{PostgresConfig, PostgresSink};

    let server = PgServer::start();
    let proxy = CutProxy::start(server.port, 3, cut);
    let url = format!(
        "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres",
        proxy.port
    );
    std::env::set_var(env, url);
    let call = ConnectorCall {
        kind: "postgres".into(),
        args: vec![],
        options: vec![
            ("url_env".into(), OptionValue::Str(env.into())),
            ("table".into(), OptionValue::Str(table.into())),
            ("create".into(), OptionValue::Bool(true)),
            ("batch".into(), OptionValue::Int(10)),
            ("backoff".into(), OptionValue::Duration(50)),
            ("retries".into(), OptionValue::Int(8)),
        ],
    };
    let config = PostgresConfig::from_call(&call).expect("config");
    let schema = Schema::new(vec![Field::new("seq", Type::Int)]);
    let sink = PostgresSink::open("db", &config, &schema).expect("open");
    let events: Vec<Event> = (0..100)
        .map(|i| Event {
            time: 0,
            record: vec![Value::Int(i)],
        })
        .collect();
    sink.write(&events).expect("write");
    assert_eq!(sink.written(), 100);
    assert!(sink.take_undelivered().is_empty());
    let mut seqs: Vec<i64> = server
        .client()
        .query(&format!("SELECT seq FROM {table}"), &[])
        .expect("read back")
        .iter()
        .map(|r| r.get(0))
        .collect();
    seqs.sort_unstable();
    (proxy, seqs)
}

/// The server committed the batch but its answer was lost: the sink asks
/// `txid_status`, finds it committed and does not insert it again.
#[test]
fn a_batch_whose_commit_answer_is_lost_is_not_written_twice() {
    let (proxy, seqs) =
        append_through_a_cut(Cut::AfterCommit, "WEIR_CUT_AFTER_PG_URL", "after_cut");
    assert_eq!(proxy.cuts(), 1, "the proxy never cut");
    assert_eq!(seqs, (0..100).collect::<Vec<i64>>());
    // Ten batches, ten COMMITs: the cut one was not sent again.
    assert_eq!(proxy.commits(), 10);
}

/// The COMMIT never reached the server, which aborts the transaction: the sink finds it
/// aborted (or in progress, then aborted) and writes the batch again.
#[test]
fn a_batch_whose_commit_never_arrived_is_written_again() {
    let (proxy, seqs) =
        append_through_a_cut(Cut::BeforeCommit, "WEIR_CUT_BEFORE_PG_URL", "before_cut");
    assert_eq!(proxy.cuts(), 1, "the proxy never cut");
    assert_eq!(seqs, (0..100).collect::<Vec<i64>>());
    assert_eq!(proxy.commits(), 11);
}
