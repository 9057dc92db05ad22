//! Alerts end to end with the real `weir` binary: the cold-chain example replays to the
//! same alert stream on 1 and 4 workers, each episode fired once and resolved once; its
//! SMS sink (form body template, bearer token from the environment) reaches a local HTTP
//! server once per alert; a JSON body template stays valid JSON; alerts over a receiver's
//! rate limit go to the error route with the reason.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

fn weir(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

/// One request as the server saw it: Content-Type, Authorization and body.
#[derive(Clone, Debug)]
struct Request {
    content_type: String,
    authorization: String,
    body: String,
}

/// A local server answering 200 to everything; its URL and the requests it received.
fn server() -> (String, Arc<Mutex<Vec<Request>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().expect("ip").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let header = |name: &'static str| {
                request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv(name))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default()
            };
            let (content_type, authorization) = (header("Content-Type"), header("Authorization"));
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            log.lock().expect("lock").push(Request {
                content_type,
                authorization,
                body,
            });
            let _ = request.respond(tiny_http::Response::empty(200));
        }
    });
    (format!("http://127.0.0.1:{port}"), seen)
}

fn cold_chain() -> String {
    std::fs::read_to_string(repo_root().join("examples/truck_cold_chain.pipe")).expect("example")
}

fn alert_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("out/cold_chain_alerts.jsonl"))
        .expect("alert log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn cold_chain_replays_to_identical_alerts_once_per_episode_on_1_and_4_workers() {
    let mut runs = Vec::new();
    for workers in ["1", "1", "4"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("p.pipe"), cold_chain()).expect("program");
        let out = weir(&["run", "p.pipe", "--workers", workers], dir.path(), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines: Vec<String> = alert_lines(dir.path())
            .iter()
            .map(|v| v.to_string())
            .collect();
        lines.sort();
        runs.push((alert_lines(dir.path()), lines));
    }
    assert_eq!(runs[0].1, runs[1].1, "a replay gives the same alerts");
    assert_eq!(runs[0].1, runs[2].1, "4 workers give the same alerts");
    let alerts = &runs[0].0;
    assert!(alerts.len() >= 2, "the example has episodes: {alerts:?}");
    // Per alert id, in event time: fired, resolved, fired, … — never fired twice in one
    // episode (no `repeat` here) and never resolved without having fired.
    let mut by_id: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for a in alerts {
        by_id
            .entry(a["alert"]["id"].as_str().expect("id").to_string())
            .or_default()
            .push((
                a["alert"]["time"].as_str().expect("time").to_string(),
                a["alert"]["event"].as_str().expect("event").to_string(),
            ));
    }
    for (id, mut events) in by_id {
        events.sort();
        for (i, (_, event)) in events.iter().enumerate() {
            let want = if i % 2 == 0 { "fired" } else { "resolved" };
            assert_eq!(event, want, "{id}: {events:?}");
        }
    }
}

#[test]
fn cold_chain_sms_reaches_a_local_gateway_once_per_alert_with_the_secret_from_the_env() {
    let (url, seen) = server();
    let text = cold_chain().replace("http://localhost:8099", &url)
        + "\npipeline sms_out {\n  from cold_chain\n  | to sms\n}\n";
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.pipe"), text).expect("program");
    let token = "s3cret-token-1234";
    let out = weir(&["run", "p.pipe"], dir.path(), &[("SMS_TOKEN", token)]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "the token is never printed"
    );
    let alerts = alert_lines(dir.path());
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(
        requests.len(),
        alerts.len(),
        "one SMS per alert: {requests:?}"
    );
    let mut messages: Vec<String> = alerts
        .iter()
        .map(|a| a["alert"]["message"].as_str().expect("message").to_string())
        .collect();
    let mut texts: Vec<String> = requests
        .iter()
        .map(|r| {
            assert_eq!(r.content_type, "application/x-www-form-urlencoded");
            assert_eq!(r.authorization, format!("Bearer {token}"));
            let text = r
                .body
                .strip_prefix("to=%2B4915100000000&text=")
                .expect("form body");
            form_decode(text)
        })
        .collect();
    messages.sort();
    texts.sort();
    assert_eq!(texts, messages);
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex byte"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// Five devices go over the line at once; the receiver takes two per hour.
fn limited_program(url: &str) -> String {
    format!(
        r#"source readings = file("in.jsonl") {{
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
}}
sink slack = webhook("{url}/slack", body: "{{\"text\": \"{{alert.message}}\"}}", limit: 2, per: 1h)
sink rejects = file("rejects.jsonl")
pipeline hot {{
  from readings
  | key by device_id
  | alert hot
      critical when temp > 80.0
      message "{{device_id}} is \"hot\": {{temp:.1}} °C"
}}
pipeline notify {{
  on error to rejects
  from hot
  | to slack
}}
"#
    )
}

#[test]
fn a_json_body_template_stays_json_and_alerts_over_the_rate_limit_go_to_the_error_route() {
    let (url, seen) = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let input: String = (0..5)
        .map(|d| format!("{{\"device_id\": \"d{d}\", \"temp\": 9{d}.0, \"ts\": \"2024-05-01T10:00:0{d}Z\"}}\n"))
        .collect();
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");
    std::fs::write(dir.path().join("p.pipe"), limited_program(&url)).expect("program");
    let out = weir(&["run", "p.pipe"], dir.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for r in &requests {
        assert_eq!(r.content_type, "application/json");
        let body: serde_json::Value = serde_json::from_str(&r.body).expect("valid JSON");
        let text = body["text"].as_str().expect("text");
        assert!(
            text.contains("is \"hot\": 9") && text.ends_with(" °C"),
            "{text}"
        );
    }
    let rejects: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("rejects.jsonl"))
        .expect("rejects")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    for r in &rejects {
        assert_eq!(r["error"]["source"], "slack");
        assert_eq!(
            r["error"]["reason"],
            "over the rate limit of 2 per 1h: not sent"
        );
    }
}

#[test]
fn silenced_alerts_are_counted_in_the_summary_not_sent_and_throttled_ones_named() {
    let (url, _seen) = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let input: String = (0..5)
        .map(|d| format!("{{\"device_id\": \"d{d}\", \"temp\": 9{d}.0, \"ts\": \"2024-05-01T10:00:0{d}Z\"}}\n"))
        .collect();
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");
    // d1 and d3 are in maintenance during the run's event time; d4's window is over.
    std::fs::write(
        dir.path().join("silences.csv"),
        "id,pattern,starts,ends\n\
         m1,hot:d1,2024-05-01T09:00:00Z,2024-05-01T11:00:00Z\n\
         m2,hot:d3*,2024-05-01T10:00:00Z,2024-05-01T10:00:04Z\n\
         m3,hot:d4,2024-05-01T09:00:00Z,2024-05-01T10:00:00Z\n",
    )
    .expect("silences");
    let program = limited_program(&url)
        .replace(
            "sink rejects",
            "table maintenance = csv(\"silences.csv\") {\n  key id\n  id: string\n  pattern: string\n  starts: timestamp\n  ends: timestamp\n}\nsink all = file(\"alerts.jsonl\")\nsink rejects",
        )
        .replace(
            "      message \"{device_id}",
            "      silenced by maintenance\n      message \"{device_id}",
        )
        .replace("  | to slack", "  | to all\n  | to slack");
    std::fs::write(dir.path().join("p.pipe"), program).expect("program");
    let out = weir(&["run", "p.pipe", "--workers", "2"], dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let ids: std::collections::BTreeSet<String> =
        std::fs::read_to_string(dir.path().join("alerts.jsonl"))
            .expect("alerts")
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
                v["alert"]["id"].as_str().expect("id").to_string()
            })
            .collect();
    let want: std::collections::BTreeSet<String> = ["hot:d0", "hot:d2", "hot:d4"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(ids, want);
    assert!(stderr.contains("2 alerts silenced in `hot`"), "{stderr}");
    assert!(
        stderr.contains("(1 of them over the rate limit)"),
        "{stderr}"
    );
}
