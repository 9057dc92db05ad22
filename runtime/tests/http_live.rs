//! `live` sinks and the `serve` declaration end to end with the real binary: a live
//! file sink's server-sent events are exactly the records it writes; a file's `serve on`
//! starts the server where it says and `--http` overrides it; `weir check` refuses a
//! `serve` beyond loopback without a token.

#[path = "support/live_run.rs"]
mod live_run;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use live_run::{get_json, LiveRun};

/// 60 readings over 3 s of wall clock (so a viewer connects while the run is going),
/// the hot ones written to a JSON lines file that is also `live`.
const PROGRAM: &str = r#"source telemetry = sensors(devices: 3, rate: 20, duration: 3s, seed: 5, realtime: true) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
live sink hot = file("hot.jsonl")

pipeline hot_readings {
  from telemetry
  | select device_id, temp, ts
  | to hot
}
"#;

/// The `data:` lines of `event: record` events on `/api/stream/<sink>` until the stream
/// ends (the run's end closes it).
fn stream_records(run: &LiveRun, sink: &str) -> Vec<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = agent
        .get(run.url(&format!("/api/stream/{sink}")))
        .call()
        .expect("the stream opens");
    let reader = BufReader::new(response.body_mut().as_reader());
    let mut records = Vec::new();
    let mut event = String::new();
    // A read error is the connection closing as the process exits: the stream's end.
    for line in reader.lines().map_while(Result::ok) {
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            assert_eq!(event, "record", "a live sink sends `record` events");
            records.push(data.to_string());
        }
    }
    records
}

#[test]
fn a_live_file_sinks_events_are_the_records_it_writes() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("program.pipe"), PROGRAM).expect("program");
    let run = LiveRun::start(dir.path(), &[], &[]);
    let events = stream_records(&run, "hot");
    let written = std::fs::read_to_string(dir.path().join("hot.jsonl")).expect("the sink's file");
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 60, "the sink wrote every reading");
    assert_eq!(
        events, lines,
        "the stream carries exactly the sink's records, in order"
    );
}

#[test]
fn a_serve_declaration_starts_the_server_and_http_overrides_it() {
    let dir = tempfile::tempdir().expect("dir");
    let served = PROGRAM.replace("live sink hot", "serve on \"127.0.0.1:0\"\nlive sink hot");
    std::fs::write(dir.path().join("program.pipe"), &served).expect("program");
    // No --http: the file's address (a free loopback port) is served and announced.
    let output = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "program.pipe"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("weir: serving http://127.0.0.1:"),
        "{stderr}"
    );
    // `serve off` in the file, `--http` on the command line: the command line wins.
    let off = PROGRAM.replace("live sink hot", "serve off\nlive sink hot");
    std::fs::write(dir.path().join("program.pipe"), off).expect("program");
    let run = LiveRun::start(dir.path(), &[], &[]);
    // The live sink is listed once it has opened (the run's first moments).
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, job) = get_json(&run.url("/api/job"));
        assert_eq!(status, 200);
        listed = job["live"][0]["sink"].clone();
        if !listed.is_null() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(listed, "hot");
    drop(run);
    // And without --http, `serve off` serves nothing.
    let output = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "program.pipe"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("serving http"), "{stderr}");
}

#[test]
fn check_refuses_serving_beyond_loopback_without_a_token() {
    let dir = tempfile::tempdir().expect("dir");
    let open = PROGRAM.replace("live sink hot", "serve on \"0.0.0.0:9464\"\nlive sink hot");
    std::fs::write(dir.path().join("program.pipe"), open).expect("program");
    let output = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["check", "program.pipe"])
        .current_dir(dir.path())
        .output()
        .expect("weir check runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("P0507"), "{stderr}");
    assert!(stderr.contains("token env"), "{stderr}");
}
