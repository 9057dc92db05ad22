//! `weir run --http` end to end with the real binary: a real Prometheus scrapes the run
//! and a PromQL query counts its records; the `state` hot store answers by key, pages by
//! prefix and survives a restart; every request and answer matches the OpenAPI
//! description; bad requests get a 4xx with a JSON reason; the bearer token guards the
//! server and is never printed; `--status-every` writes status lines; a run that ends
//! does not hang on its server.

#[path = "support/live_run.rs"]
mod live_run;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use live_run::{get, get_json, request, LiveRun, Prometheus};
use serde_json::Value as Json;

const PROGRAM: &str = r#"source readings = file("in.jsonl", follow: true) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 1s
}
sink latest = state(key: device_id)

pipeline keep {
  from readings
  | to latest
}
"#;

/// 25 readings of d1, d2, d3; each device's last line is *not* its latest by event
/// time (an older reading arrives late), so "latest" must follow event time.
fn input() -> String {
    let mut lines = String::new();
    for n in 0..22 {
        lines.push_str(&format!(
            "{{\"device_id\": \"d{}\", \"temp\": {n}.5, \"ts\": \"2026-01-01T00:00:{:02}Z\"}}\n",
            n % 3 + 1,
            n + 10
        ));
    }
    for d in 1..=3 {
        lines.push_str(&format!(
            "{{\"device_id\": \"d{d}\", \"temp\": -1.0, \"ts\": \"2026-01-01T00:00:00Z\"}}\n"
        ));
    }
    lines
}

/// The latest temp per device in [`input`]: the last of n ≡ d−1 (mod 3), n < 22.
fn latest_temp(device: usize) -> f64 {
    let n = (0..22)
        .filter(|n| n % 3 + 1 == device)
        .max()
        .expect("some n");
    n as f64 + 0.5
}

fn setup(input: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("program.pipe"), PROGRAM).expect("program");
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");
    dir
}

/// Polls `check` until it holds or `secs` pass.
fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// Waits until the state sink holds `keys` keys and has been handed all 25 records.
fn wait_for_keys(run: &LiveRun, keys: usize) {
    eventually(30, "the state sink to hold every key", || {
        let (status, page) = get_json(&run.url("/api/state/latest"));
        status == 200 && page["records"].as_array().is_some_and(|r| r.len() == keys)
    });
    eventually(30, "every record to reach the sink", || {
        get_json(&run.url("/api/job")).1["sinks"][0]["records"] == 25
    });
}

#[test]
fn prometheus_scrapes_the_run_and_promql_counts_its_records() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    let prometheus = Prometheus::start(dir.path(), &run.addr);
    let records = r#"weir_source_records_total{job="weir",source="readings"}"#;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen = None;
    while Instant::now() < deadline && seen != Some(25.0) {
        std::thread::sleep(Duration::from_millis(500));
        seen = prometheus.query(records);
    }
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    assert_eq!(
        seen,
        Some(25.0),
        "PromQL `{records}`; prometheus log:\n{log}"
    );
    assert_eq!(
        prometheus.query(r#"weir_state_keys{sink="latest"}"#),
        Some(3.0)
    );
    assert_eq!(
        prometheus.query(r#"sum(weir_sink_records_total{sink="latest"})"#),
        Some(25.0)
    );
    assert_eq!(prometheus.query(r#"up{job="weir"}"#), Some(1.0));
}

#[test]
fn metrics_follow_prometheus_conventions() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    wait_for_keys(&run, 3);
    let (status, text) = get(&run.url("/metrics"), &[]);
    assert_eq!(status, 200);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().expect("name");
        assert!(name.starts_with("weir_"), "{line}");
    }
    for sample in [
        r#"weir_source_records_total{source="readings",process="0"} 25"#,
        r#"weir_sink_records_total{sink="latest",process="0"} 25"#,
        r#"weir_source_malformed_records_total{source="readings",process="0"} 0"#,
        r#"weir_pipeline_late_dropped_total{pipeline="keep",process="0"} 0"#,
        r#"weir_state_keys{sink="latest",process="0"} 3"#,
        "# TYPE weir_source_lag_seconds gauge",
        "# EOF",
    ] {
        assert!(text.contains(sample), "no `{sample}` in:\n{text}");
    }
    // The watermark: the greatest event time (00:00:31) minus the 1 s bound.
    let wm = r#"weir_source_watermark_seconds{source="readings",process="0"} "#;
    let line = text
        .lines()
        .find(|l| l.starts_with(wm))
        .expect("a watermark");
    let value: f64 = line[wm.len()..].parse().expect("a number");
    assert_eq!(value, 1_767_225_630.0, "{line}");
}

#[test]
fn the_state_api_answers_the_latest_record_per_key_by_event_time() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    wait_for_keys(&run, 3);
    for device in 1..=3 {
        let (status, one) = get_json(&run.url(&format!("/api/state/latest?device_id=d{device}")));
        assert_eq!(status, 200, "{one}");
        assert_eq!(one["key"], format!("d{device}"));
        assert_eq!(
            one["record"]["temp"].as_f64(),
            Some(latest_temp(device)),
            "{one}"
        );
    }
    let (_, first) = get_json(&run.url("/api/state/latest?limit=2"));
    let keys = |page: &Json| -> Vec<String> {
        page["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["key"].as_str().expect("key").to_string())
            .collect()
    };
    assert_eq!(keys(&first), ["d1", "d2"]);
    assert_eq!(first["next"], "d2");
    let (_, second) = get_json(&run.url("/api/state/latest?limit=2&after=d2"));
    assert_eq!(keys(&second), ["d3"]);
    assert_eq!(second["next"], Json::Null);
    let (_, filtered) = get_json(&run.url("/api/state/latest?prefix=d3"));
    assert_eq!(keys(&filtered), ["d3"]);
    let (_, none) = get_json(&run.url("/api/state/latest?prefix=x"));
    assert_eq!(keys(&none), Vec::<String>::new());
}

#[test]
fn a_restarted_run_serves_the_last_values_at_once() {
    let dir = setup(&input());
    {
        let run = LiveRun::start(dir.path(), &[], &[]);
        wait_for_keys(&run, 3);
    } // killed (SIGKILL): no flush at the end
    std::fs::write(dir.path().join("in.jsonl"), "").expect("empty input");
    let run = LiveRun::start(dir.path(), &[], &[]);
    // Only 503 (still opening) until the sink has loaded its copy: no input is read.
    let url = run.url("/api/state/latest?device_id=d2");
    eventually(10, "the reopened store", || get_json(&url).0 != 503);
    let (status, one) = get_json(&url);
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["record"]["temp"].as_f64(), Some(latest_temp(2)));
    assert!(dir.path().join(".weir/state/latest.redb").is_file());
}

#[test]
fn bad_requests_get_a_4xx_with_a_json_reason() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    wait_for_keys(&run, 3);
    let cases: [(&str, &str, u16, &str); 8] = [
        ("GET", "/api/state/latest?limit=0", 400, "`limit`"),
        ("GET", "/api/state/latest?limit=ten", 400, "`limit`"),
        (
            "GET",
            "/api/state/latest?devce_id=d1",
            400,
            "unknown query parameter `devce_id`",
        ),
        (
            "GET",
            "/api/state/latest?device_id=d9",
            404,
            "no record with device_id = `d9`",
        ),
        ("GET", "/api/state/nope", 404, "state sinks: latest"),
        ("GET", "/api/nothing", 404, "no such endpoint"),
        ("POST", "/api/state/latest", 405, "use GET"),
        ("DELETE", "/metrics", 405, "use GET"),
    ];
    for (method, path, want, reason) in cases {
        let (status, body) = request(method, &run.url(path), &[]);
        assert_eq!(status, want, "{method} {path}: {body}");
        let json: Json = serde_json::from_str(&body).expect("a JSON reason");
        let error = json["error"].as_str().expect("an `error` string");
        assert!(error.contains(reason), "{method} {path}: {error}");
    }
}

/// Checks a request against the OpenAPI description: the path is one of its paths
/// (templates matched), each query parameter is declared, the status is among the
/// operation's responses, and a JSON answer has its schema's required properties.
fn check_against_openapi(api: &Json, path_and_query: &str, status: u16, body: &Json) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let (template, op) = api["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .find(|(t, _)| matches_template(t, path))
        .unwrap_or_else(|| panic!("{path} is not in the OpenAPI description"));
    let op = &op["get"];
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let key_param = params.iter().any(|p| p["x-weir-key-field"] == true);
    for (name, _) in form_urlencoded::parse(query.as_bytes()) {
        let declared = params
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == *name);
        assert!(
            declared || key_param,
            "{template}: `{name}` is not a declared parameter"
        );
    }
    let response = &op["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{template}: status {status} is not declared"
    );
    let response = resolve(api, response);
    let Some(schema) = response["content"]["application/json"].get("schema") else {
        return;
    };
    let schema = resolve(api, schema);
    let alternatives = match schema["oneOf"].as_array() {
        Some(options) => options.iter().map(|s| resolve(api, s)).collect(),
        None => vec![schema],
    };
    let fits = alternatives.iter().any(|s| {
        s["required"].as_array().is_none_or(|req| {
            req.iter()
                .all(|r| body.get(r.as_str().expect("name")).is_some())
        })
    });
    assert!(fits, "{template} {status}: {body} fits none of its schemas");
}

fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

fn resolve<'a>(api: &'a Json, node: &'a Json) -> &'a Json {
    match node["$ref"].as_str() {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("a local $ref");
            resolve(
                api,
                api.pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling {r}")),
            )
        }
        None => node,
    }
}

#[test]
fn every_request_and_answer_matches_the_openapi_description() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    wait_for_keys(&run, 3);
    let (status, api) = get_json(&run.url("/api/openapi.json"));
    assert_eq!(status, 200);
    assert_eq!(api["openapi"], "3.0.3");
    for path in [
        "/api/state/latest?device_id=d1",
        "/api/state/latest",
        "/api/state/latest?prefix=d&limit=2",
        "/api/state/latest?limit=2&after=d1",
        "/api/state/latest?limit=0",
        "/api/state/latest?device_id=nobody",
        "/api/state/other",
        "/api/job",
    ] {
        let (status, body) = get_json(&run.url(path));
        check_against_openapi(&api, path, status, &body);
    }
    let (status, _) = get(&run.url("/metrics"), &[]);
    check_against_openapi(&api, "/metrics", status, &Json::Null);
}

#[test]
fn the_job_graph_names_every_pipeline_stage_and_sink() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    wait_for_keys(&run, 3);
    let (_, job) = get_json(&run.url("/api/job"));
    assert_eq!(job["sources"][0]["name"], "readings");
    assert_eq!(job["sources"][0]["records"], 25);
    assert_eq!(job["pipelines"][0]["name"], "keep");
    assert_eq!(
        job["pipelines"][0]["stages"],
        serde_json::json!(["to latest"])
    );
    assert_eq!(job["sinks"][0]["name"], "latest");
    assert_eq!(job["sinks"][0]["connector"], "state");
}

#[test]
fn a_token_guards_the_server_and_is_never_printed() {
    let dir = setup(&input());
    let token = "t0ken-for-the-test";
    let run = LiveRun::start(
        dir.path(),
        &["--http-token-env", "WEIR_TEST_HTTP_TOKEN"],
        &[("WEIR_TEST_HTTP_TOKEN", token)],
    );
    let (status, body) = get(&run.url("/metrics"), &[]);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    let (status, _) = get(&run.url("/metrics"), &[("Authorization", "Bearer wrong")]);
    assert_eq!(status, 401);
    let bearer = format!("Bearer {token}");
    let (status, body) = get(&run.url("/metrics"), &[("Authorization", &bearer)]);
    assert_eq!(status, 200);
    assert!(!body.contains(token));
    drop(run);
    // Without a token, anything but loopback is refused before binding.
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "program.pipe", "--http", "0.0.0.0:0"])
        .current_dir(dir.path())
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--http-token-env"), "{stderr}");
}

#[test]
fn status_every_prints_a_line_per_interval_when_stderr_is_not_a_terminal() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &["--status-every", "200ms"], &[]);
    let mut lines = Vec::new();
    eventually(30, "a status line counting every record", || {
        lines.extend(run.stderr_so_far());
        lines.iter().any(|l| {
            l.starts_with("weir: status ") && l.contains(" in=25 ") && l.contains(" out=25 ")
        })
    });
    let line = lines.iter().find(|l| l.contains(" out=25 ")).expect("line");
    for field in [
        "elapsed=",
        "rate=",
        "out=25",
        "malformed=0",
        "late=0",
        "watermark=2026-01-01T00:00:30",
        "lag=",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
}

#[test]
fn a_run_that_ends_stops_its_server() {
    let dir = setup(&input());
    let program = PROGRAM.replace(", follow: true", "");
    std::fs::write(dir.path().join("program.pipe"), program).expect("program");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "program.pipe", "--http", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("weir: serving http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(Path::new(&dir.path().join(".weir/state/latest.redb")).is_file());
}

#[test]
fn a_chart_sink_streams_its_points_and_the_dashboard_is_served() {
    let dir = setup(&input());
    let program = PROGRAM.replace(
        "sink latest = state(key: device_id)",
        "sink latest = chart(x: ts, y: temp, series: device_id)",
    );
    std::fs::write(dir.path().join("program.pipe"), program).expect("program");
    let run = LiveRun::start(dir.path(), &[], &[]);
    // Server-sent events: the kept points first, one `point` event per record.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut response = agent
        .get(run.url("/api/stream/latest"))
        .call()
        .expect("the stream opens");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut reader = std::io::BufReader::new(response.body_mut().as_reader());
    let mut points = Vec::new();
    let mut line = String::new();
    while points.len() < 25 {
        line.clear();
        let n = std::io::BufRead::read_line(&mut reader, &mut line).expect("a line");
        assert!(n > 0, "the stream ended after {} points", points.len());
        if let Some(data) = line.strip_prefix("data: ") {
            points.push(serde_json::from_str::<Json>(data).expect("a JSON point"));
        }
    }
    // The first line of the input: d1 at 00:00:10, 0.5 °.
    assert_eq!(
        points[0],
        serde_json::json!({"series": "d1", "x": 1_767_225_610.0, "y": 0.5})
    );
    let (status, chart) = get_json(&run.url("/api/chart/latest"));
    assert_eq!(status, 200);
    assert_eq!(chart["points"].as_array().map(Vec::len), Some(25));
    assert_eq!(chart["points"][24], points[24]);
    let (_, job) = get_json(&run.url("/api/job"));
    assert_eq!(job["charts"][0]["y"], "temp");
    let (status, page) = get(&run.url("/"), &[]);
    assert_eq!(status, 200);
    assert!(page.contains("/dashboard.js"), "{page}");
    let (status, script) = get(&run.url("/dashboard.js"), &[]);
    assert_eq!(status, 200);
    assert!(script.contains("EventSource"));
    let (status, body) = get(&run.url("/api/stream/nope"), &[]);
    assert_eq!(status, 404, "{body}");
}

#[test]
fn every_endpoint_answers_bad_requests_with_a_4xx_and_a_json_reason() {
    let dir = setup(&input());
    let run = LiveRun::start(dir.path(), &[], &[]);
    wait_for_keys(&run, 3);
    let (_, api) = get_json(&run.url("/api/openapi.json"));
    let mut paths: Vec<String> = api["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    paths.extend(["/".to_string(), "/dashboard.js".to_string()]);
    assert!(paths.len() >= 8, "{paths:?}");
    let expect_json_4xx = |method: &str, path: &str, want: u16| {
        let (status, body) = request(method, &run.url(path), &[]);
        assert_eq!(status, want, "{method} {path}: {body}");
        let json: Json = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body}"));
        let reason = json["error"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{method} {path}: {body}");
        reason.to_string()
    };
    for path in &paths {
        // `latest` is the run's state sink; it is no chart, so chart paths 404 on it.
        let real = path.replace("{sink}", "latest");
        if real == "/api/query" {
            // It takes its SQL by POST: an empty body is a bad request, a GET is refused.
            expect_json_4xx("POST", &real, 400);
            for method in ["GET", "PUT", "DELETE", "PATCH"] {
                expect_json_4xx(method, &real, 405);
            }
            continue;
        }
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            expect_json_4xx(method, &real, 405);
        }
        let reason = expect_json_4xx("GET", &format!("{real}?bogus=1"), 400);
        assert!(reason.contains("bogus"), "{real}: {reason}");
        if path.contains("{sink}") {
            let reason = expect_json_4xx("GET", &path.replace("{sink}", "nope"), 404);
            assert!(reason.contains("nope"), "{path}: {reason}");
        } else if path != "/" {
            expect_json_4xx("GET", &format!("{real}/extra"), 404);
        }
    }
}
