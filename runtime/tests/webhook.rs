//! The webhook sink end to end with the real `weir` binary and a local HTTP server that
//! answers 500 to some records: what the endpoint accepted plus what reached the
//! `on error to` route is the input exactly; without a route the failures are counted
//! and shown; `--strict` fails the run naming the sink.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

fn weir(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

/// A local server that refuses (500) every record whose `n` is a multiple of 5 and
/// accepts the others; returns its URL and the bodies it accepted.
fn server() -> (String, Arc<Mutex<Vec<String>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().expect("ip").port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let record: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
            let n = record["n"].as_i64().expect("n");
            let status = if n % 5 == 0 {
                500
            } else {
                log.lock().expect("lock").push(body);
                200
            };
            let _ = request.respond(tiny_http::Response::empty(status));
        }
    });
    (format!("http://127.0.0.1:{port}/hook"), accepted)
}

const INPUT_RECORDS: i64 = 60;

fn input() -> String {
    (0..INPUT_RECORDS)
        .map(|n| format!("{{\"device_id\": \"d{}\", \"n\": {n}}}\n", n % 3))
        .collect()
}

fn program(url: &str, route: bool) -> String {
    let route = if route { "on error to rejects\n  " } else { "" };
    format!(
        r#"source readings = file("in.jsonl") {{
  device_id: string
  n: i64
}}
sink hook = webhook("{url}", retries: 1, backoff: 1ms, timeout: 5s)
sink rejects = file("rejects.jsonl")
pipeline all {{ from readings | where n >= 0 }}
pipeline notify {{
  {route}from all
  | to hook
}}
"#
    )
}

fn setup(route: bool) -> (tempfile::TempDir, Arc<Mutex<Vec<String>>>) {
    let (url, accepted) = server();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("in.jsonl"), input()).expect("input");
    std::fs::write(dir.path().join("p.pipe"), program(&url, route)).expect("program");
    (dir, accepted)
}

fn n_of(json: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON");
    v["n"].as_i64().expect("n")
}

#[test]
fn delivered_plus_routed_is_the_input_on_one_and_two_workers() {
    for workers in ["1", "2"] {
        let (dir, accepted) = setup(true);
        let out = weir(&["run", "p.pipe", "--workers", workers], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // The route of a pipeline that reads a pipeline is useful now: no P0404.
        assert!(!stderr.contains("P0404"), "{stderr}");
        assert!(stderr.contains("12 undelivered by `hook`"), "{stderr}");
        let delivered: Vec<i64> = accepted
            .lock()
            .expect("lock")
            .iter()
            .map(|b| n_of(b))
            .collect();
        let rejects: Vec<serde_json::Value> =
            std::fs::read_to_string(dir.path().join("rejects.jsonl"))
                .expect("rejects")
                .lines()
                .map(|l| serde_json::from_str(l).expect("JSON line"))
                .collect();
        let routed: Vec<i64> = rejects
            .iter()
            .map(|r| n_of(r["error"]["raw"].as_str().expect("raw")))
            .collect();
        for r in &rejects {
            assert_eq!(r["error"]["source"], "hook", "{r}");
            assert!(r["error"]["location"]
                .as_str()
                .is_some_and(|l| l.ends_with("/hook")));
            assert_eq!(r["error"]["field"], serde_json::Value::Null);
            let reason = r["error"]["reason"].as_str().expect("reason");
            assert!(
                reason.contains("500") && reason.contains("after 2 attempts"),
                "{reason}"
            );
        }
        assert_eq!(
            delivered.len() + routed.len(),
            INPUT_RECORDS as usize,
            "on {workers} workers"
        );
        let all: BTreeSet<i64> = delivered.iter().chain(&routed).copied().collect();
        assert_eq!(
            all,
            (0..INPUT_RECORDS).collect(),
            "each record exactly once"
        );
        assert!(routed.iter().all(|n| n % 5 == 0));
        assert_eq!(routed.len(), 12);
    }
}

#[test]
fn without_a_route_failures_are_counted_and_shown() {
    let (dir, accepted) = setup(false);
    let out = weir(&["run", "p.pipe"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: sink `hook` could not deliver a record to http://"),
        "{stderr}"
    );
    assert!(stderr.contains("12 undelivered by `hook`"), "{stderr}");
    assert!(stderr.contains("wrote 48"), "{stderr}");
    assert_eq!(accepted.lock().expect("lock").len(), 48);
}

#[test]
fn strict_fails_the_run_naming_the_sink() {
    let (dir, _) = setup(true);
    let out = weir(&["run", "p.pipe", "--strict"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("sink `hook` could not deliver a record") && stderr.contains("HTTP 500"),
        "{stderr}"
    );
}

#[test]
fn two_pipelines_sharing_a_webhook_each_get_their_own_failures() {
    let (url, accepted) = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = |range: std::ops::Range<i64>| -> String {
        range
            .map(|n| format!("{{\"device_id\": \"d\", \"n\": {n}}}\n"))
            .collect()
    };
    std::fs::write(dir.path().join("a.jsonl"), lines(0..30)).expect("input a");
    std::fs::write(dir.path().join("b.jsonl"), lines(100..130)).expect("input b");
    let text = format!(
        r#"source a = file("a.jsonl") {{ device_id: string  n: i64 }}
source b = file("b.jsonl") {{ device_id: string  n: i64 }}
sink hook = webhook("{url}", retries: 0)
sink rejects_a = file("rejects_a.jsonl")
sink rejects_b = file("rejects_b.jsonl")
pipeline from_a {{
  on error to rejects_a
  from a | to hook
}}
pipeline from_b {{
  on error to rejects_b
  from b | to hook
}}
"#
    );
    std::fs::write(dir.path().join("p.pipe"), text).expect("program");
    let out = weir(&["run", "p.pipe", "--workers", "2"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let routed = |file: &str| -> Vec<i64> {
        let mut ns: Vec<i64> = std::fs::read_to_string(dir.path().join(file))
            .expect("rejects")
            .lines()
            .map(|l| {
                let r: serde_json::Value = serde_json::from_str(l).expect("JSON line");
                n_of(r["error"]["raw"].as_str().expect("raw"))
            })
            .collect();
        ns.sort_unstable();
        ns
    };
    assert_eq!(routed("rejects_a.jsonl"), [0, 5, 10, 15, 20, 25]);
    assert_eq!(routed("rejects_b.jsonl"), [100, 105, 110, 115, 120, 125]);
    assert_eq!(accepted.lock().expect("lock").len(), 48);
}
