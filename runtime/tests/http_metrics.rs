//! The dataflow's own families on `/metrics`, checked against known inputs with the
//! real binary: records in and out of each operator, the keys and state bytes of a
//! window, a join, a detect and an alert, each sink's event-to-output latency, worker
//! busy time, webhook retries and deliveries, and an MQTT source's connection state and
//! reconnects across a real Mosquitto restart.

#[path = "support/live_run.rs"]
mod live_run;
#[path = "support/mosquitto.rs"]
mod mosquitto;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use live_run::{get, LiveRun};

/// The value of the sample `series` (name and labels exactly as printed) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

fn metrics(run: &LiveRun) -> String {
    let (status, text) = get(&run.url("/metrics"), &[]);
    assert_eq!(status, 200, "{text}");
    text
}

/// Waits until `series` reads `want`, and returns the last scrape.
fn wait_for(run: &LiveRun, series: &str, want: f64) -> String {
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline {
        text = metrics(run);
        if sample(&text, series) == Some(want) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("`{series}` never read {want}; last scrape:\n{text}");
}

const WINDOWED: &str = r#"source readings = file("in.jsonl", follow: true) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 1s
}
sink latest = state(key: device_id)
sink hourly = state(key: device_id)

pipeline keep {
  from readings
  | to latest
}

pipeline counts {
  from readings
  | where temp > 0.0
  | key by device_id
  | window tumbling 1h
  | aggregate n = count()
  | to hourly
}
"#;

/// `n` readings of devices d1…d`devices` (in turn), every one stamped `ts`; temp is
/// negative for every fifth.
fn readings(n: usize, devices: usize, first: usize, ts: &str) -> String {
    (0..n)
        .map(|i| {
            let temp = if i % 5 == 4 { -1.0 } else { 20.0 + i as f64 };
            format!(
                "{{\"device_id\": \"d{}\", \"temp\": {temp}, \"ts\": \"{ts}\"}}\n",
                first + i % devices
            )
        })
        .collect()
}

fn setup(program: &str, input: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("program.pipe"), program).expect("program");
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");
    dir
}

fn op(metric: &str, pipeline: &str, operator: &str) -> String {
    format!(r#"{metric}{{pipeline="{pipeline}",operator="{operator}",worker="0",process="0"}}"#)
}

#[test]
fn operators_count_records_in_and_out_and_a_window_reports_its_keys_and_bytes() {
    // 20 readings of 3 devices in one hour's window: 4 have a negative temp.
    let dir = setup(WINDOWED, &readings(20, 3, 1, "2026-01-01T00:10:00Z"));
    let run = LiveRun::start(dir.path(), &[], &[]);
    let window_keys = op("weir_operator_keys", "counts", "2:window");
    let text = wait_for(&run, &window_keys, 3.0);
    let value = |text: &str, series: &str| {
        sample(text, series).unwrap_or_else(|| panic!("no `{series}` in:\n{text}"))
    };
    let records = |dir: &str, operator: &str| {
        value(
            &text,
            &op(
                &format!("weir_operator_records_{dir}_total"),
                "counts",
                operator,
            ),
        )
    };
    // where temp > 0.0 → key by (an exchange) → window → sink.
    assert_eq!(records("in", "0:stateless"), 20.0);
    assert_eq!(records("out", "0:stateless"), 16.0);
    assert_eq!(records("in", "1:exchange"), 16.0);
    assert_eq!(records("out", "1:exchange"), 16.0);
    assert_eq!(records("in", "2:window"), 16.0);
    // The hour has not ended: nothing fired.
    assert_eq!(records("out", "2:window"), 0.0);
    assert_eq!(records("in", "3:sink(hourly)"), 0.0);
    let keep_sink = op("weir_operator_records_in_total", "keep", "0:sink(latest)");
    assert_eq!(value(&text, &keep_sink), 20.0, "{text}");
    // Stateless operators hold no state and have no state gauges.
    assert!(!text.contains(&op("weir_operator_keys", "counts", "0:stateless")));
    let bytes_of = op("weir_operator_state_bytes", "counts", "2:window");
    let three = value(&text, &bytes_of);
    assert!(three > 0.0, "{text}");
    // Three more devices, one pane each like the first three: twice the keys and bytes.
    let more = readings(3, 3, 4, "2026-01-01T00:10:00Z");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("in.jsonl"))
        .expect("input");
    std::io::Write::write_all(&mut file, more.as_bytes()).expect("append");
    let text = wait_for(&run, &window_keys, 6.0);
    assert_eq!(value(&text, &bytes_of), 2.0 * three, "{text}");
}

const KEYED: &str = r#"source readings = file("in.jsonl", follow: true) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 1s
}
source visits = file("visits.jsonl", follow: true) {
  device_id: string
  tech:      string
  ts:        timestamp
  event_time ts
}
sink paired = file("paired.jsonl")
sink spikes = file("spikes.jsonl")
sink alerts = file("alerts.jsonl")

pipeline pairs {
  from readings
  | join visits as visit on device_id = device_id
  | select device_id, temp, tech = visit.tech
  | to paired
}

pipeline spiky {
  from readings
  | key by device_id
  | detect anomaly in temp using spike_dip(confidence: 99.9%, history: 20, mode: spikes) warmup 5 events as spike
  | to spikes
}

pipeline warm {
  from readings
  | key by device_id
  | alert warm
      warning when temp > 0.0
  | to alerts
}
"#;

/// The sample of `metric` for the operator of `pipeline` whose name ends in `:kind`.
fn keyed(text: &str, metric: &str, pipeline: &str, kind: &str) -> Option<f64> {
    let head = format!(r#"{metric}{{pipeline="{pipeline}",operator=""#);
    let tail = format!(r#":{kind}",worker="0",process="0"}} "#);
    text.lines()
        .filter_map(|l| l.strip_prefix(&head))
        .find_map(|l| l.split_once(&tail).map(|(_, v)| v))
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_join_a_detect_and_an_alert_report_the_keys_they_hold_and_their_bytes() {
    // d1…d3 at 00:10, then d1 at 00:20: the watermark (00:19:59) passes the first three,
    // so detect and alert have fed d1…d3 their records (d1's second still waits).
    let readings = ["d1", "d2", "d3"]
        .iter()
        .map(|d| {
            format!(
                "{{\"device_id\": \"{d}\", \"temp\": 20.0, \"ts\": \"2026-01-01T00:10:00Z\"}}\n"
            )
        })
        .chain([
            "{\"device_id\": \"d1\", \"temp\": 21.0, \"ts\": \"2026-01-01T00:20:00Z\"}\n"
                .to_string(),
        ])
        .collect::<String>();
    let dir = setup(KEYED, &readings);
    // Visits of d1 and d4: the join (no `within`, so nothing is dropped) holds d1…d4.
    let visits = ["d1", "d4"]
        .iter()
        .map(|d| {
            format!(
                "{{\"device_id\": \"{d}\", \"tech\": \"ana\", \"ts\": \"2026-01-01T00:10:00Z\"}}\n"
            )
        })
        .collect::<String>();
    std::fs::write(dir.path().join("visits.jsonl"), visits).expect("visits");
    let run = LiveRun::start(dir.path(), &[], &[]);
    let want = [
        ("pairs", "join", 4.0),
        ("spiky", "detect", 3.0),
        ("warm", "alert", 3.0),
    ];
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut text = metrics(&run);
    while Instant::now() < deadline {
        let held =
            |&(p, k, n): &(&str, &str, f64)| keyed(&text, "weir_operator_keys", p, k) == Some(n);
        if want.iter().all(held) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        text = metrics(&run);
    }
    for (pipeline, kind, keys) in want {
        let held = keyed(&text, "weir_operator_keys", pipeline, kind);
        assert_eq!(held, Some(keys), "{pipeline} {kind}:\n{text}");
        let bytes = keyed(&text, "weir_operator_state_bytes", pipeline, kind);
        assert!(bytes.is_some_and(|b| b > 0.0), "{pipeline} {kind}:\n{text}");
    }
}

#[test]
fn each_sink_has_an_event_to_output_latency_histogram_and_workers_report_busy_time() {
    // Every reading is stamped 20 s before now (whole seconds, so 19 to 21 s old when
    // written), so each lands in the (10 s, 30 s] bucket.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let ts = weir_engine::time::format_timestamp(((now - 20) * 1000) as i64);
    let dir = setup(WINDOWED, &readings(12, 3, 1, &ts));
    let run = LiveRun::start(dir.path(), &[], &[]);
    let count = r#"weir_sink_event_latency_seconds_count{sink="latest",process="0"}"#;
    let text = wait_for(&run, count, 12.0);
    let bucket = |le: &str| {
        let series = format!(
            r#"weir_sink_event_latency_seconds_bucket{{le="{le}",sink="latest",process="0"}}"#
        );
        sample(&text, &series).unwrap_or_else(|| panic!("no `{series}` in:\n{text}"))
    };
    assert_eq!(bucket("10.0"), 0.0, "{text}");
    assert_eq!(bucket("30.0"), 12.0, "{text}");
    assert_eq!(bucket("inf"), 12.0);
    let sum = sample(
        &text,
        r#"weir_sink_event_latency_seconds_sum{sink="latest",process="0"}"#,
    )
    .expect("a sum");
    assert!((12.0 * 19.0..=12.0 * 30.0).contains(&sum), "{sum}");
    // The window has fired nothing, so its sink has observed nothing.
    let hourly = r#"weir_sink_event_latency_seconds_count{sink="hourly",process="0"}"#;
    assert_eq!(sample(&text, hourly), Some(0.0), "{text}");
    let busy = sample(
        &text,
        r#"weir_worker_busy_seconds_total{worker="0",process="0"}"#,
    )
    .expect("busy seconds");
    let uptime = sample(&text, r#"weir_uptime_seconds{process="0"}"#).expect("uptime");
    assert!(busy > 0.0 && busy < uptime, "busy {busy} s of {uptime} s");
    let ratio = sample(&text, r#"weir_worker_busy_ratio{worker="0",process="0"}"#).expect("ratio");
    assert!(
        (ratio - busy / uptime).abs() < 0.05,
        "{ratio} vs {busy}/{uptime}"
    );
}

/// Answers 503 to every request, counting them.
fn failing_endpoint() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let addr = server.server_addr().to_ip().expect("ip");
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&hits);
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = request.respond(tiny_http::Response::empty(503));
        }
    });
    (format!("http://{addr}/hook"), hits)
}

#[test]
fn webhook_retries_and_failures_and_deliveries_are_counted() {
    let (url, hits) = failing_endpoint();
    let program = WINDOWED.replace(
        "sink latest = state(key: device_id)",
        &format!("sink latest = webhook(\"{url}\", retries: 2, backoff: 10ms)"),
    );
    let dir = setup(&program, &readings(4, 2, 1, "2026-01-01T00:10:00Z"));
    let run = LiveRun::start(dir.path(), &[], &[]);
    let failed = r#"weir_sink_undelivered_records_total{sink="latest",process="0"}"#;
    let text = wait_for(&run, failed, 4.0);
    // Each record: one attempt and two retries, all answered 503.
    let retries = r#"weir_sink_retries_total{sink="latest",process="0"}"#;
    assert_eq!(sample(&text, retries), Some(8.0), "{text}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 12);
    let delivered = r#"weir_sink_delivered_records_total{sink="latest",process="0"}"#;
    assert_eq!(sample(&text, delivered), Some(0.0), "{text}");
    let delivered_state = r#"weir_sink_delivered_records_total{sink="hourly",process="0"}"#;
    assert_eq!(sample(&text, delivered_state), Some(0.0), "{text}");
}

#[test]
fn an_mqtt_sources_connection_state_and_reconnects_follow_the_broker() {
    let dir = tempfile::tempdir().expect("dir");
    let port = mosquitto::free_port();
    let mut broker = mosquitto::Mosquitto::start(dir.path(), port);
    let program = format!(
        r#"source telemetry = mqtt("mqtt://127.0.0.1:{port}", topic: "plant/{{device_id}}", qos: 1, backoff_max: 250ms) {{
  device_id: string
  temp:      f64
}}
sink out = stdout()

pipeline pass {{
  from telemetry
  | to out
}}
"#
    );
    std::fs::write(dir.path().join("program.pipe"), program).expect("program");
    let run = LiveRun::start(dir.path(), &[], &[]);
    let up = r#"weir_mqtt_connections_up{source="telemetry",process="0"}"#;
    let reconnects = r#"weir_mqtt_reconnects_total{source="telemetry",process="0"}"#;
    let text = wait_for(&run, up, 1.0);
    assert_eq!(sample(&text, reconnects), Some(0.0), "{text}");
    broker.stop();
    wait_for(&run, up, 0.0);
    broker.restart();
    let text = wait_for(&run, up, 1.0);
    assert_eq!(sample(&text, reconnects), Some(1.0), "{text}");
}
