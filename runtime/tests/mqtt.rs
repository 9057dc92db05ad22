//! `weir run` with MQTT in and out, against a real Mosquitto broker (Debian package
//! `mosquitto`; these tests fail, not skip, when it is missing): a bounded run with
//! `--limit`, an unbounded run stopped by SIGTERM, and malformed payloads on stderr.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

#[path = "support/mosquitto.rs"]
mod mosquitto;

use mosquitto::{free_port, Mosquitto};

/// A client that subscribes to `filter` and counts what arrives there.
fn watcher(port: u16, filter: &str) -> (Client, crossbeam_channel::Receiver<(String, String)>) {
    let (client, mut connection) = Client::new(MqttOptions::new("watcher", "127.0.0.1", port), 100);
    client
        .subscribe(filter, QoS::AtLeastOnce)
        .expect("subscribe");
    let (tx, rx) = crossbeam_channel::unbounded();
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        for event in connection.iter() {
            match event {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let text = String::from_utf8_lossy(&p.payload).into_owned();
                    let _ = tx.send((p.topic.clone(), text));
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("watcher subscribed");
    (client, rx)
}

/// Publishes telemetry (every other reading hot, every tenth malformed) until `stop`.
fn publisher(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let (client, mut connection) =
        Client::new(MqttOptions::new("publisher", "127.0.0.1", port), 100);
    std::thread::spawn(move || for _ in connection.iter() {});
    std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let payload = if n % 10 == 9 {
                "{\"temp\": \"very hot\"}".to_string()
            } else {
                let temp = if n.is_multiple_of(2) { 90.5 } else { 20.5 };
                format!("{{\"temp\": {temp}, \"ts\": {}}}", 1_714_557_600_000 + n)
            };
            let _ = client.publish(
                format!("plant/m{}/telemetry", n % 3),
                QoS::AtLeastOnce,
                false,
                payload,
            );
            n += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        n
    })
}

fn pipe(dir: &Path, port: u16) -> PathBuf {
    let file = dir.join("alerts.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source telemetry = mqtt("mqtt://127.0.0.1:{port}", topic: "plant/{{device_id}}/telemetry", qos: 1) {{
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}}

sink hot = mqtt("mqtt://127.0.0.1:{port}", topic: "alerts/{{device_id}}", qos: 1)
sink console = stdout()

pipeline alerts {{
  from telemetry
  | where temp > 80.0
  | to hot
  | to console
}}
"#
        ),
    )
    .expect("write pipe");
    file
}

fn weir() -> Command {
    Command::new(env!("CARGO_BIN_EXE_weir"))
}

fn wait_output(mut child: Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "weir did not finish:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn weir_runs_mqtt_to_mqtt_with_a_limit_and_reports_bad_payloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path(), free_port());
    let file = pipe(dir.path(), broker.port);
    let check = weir().arg("check").arg(&file).output().expect("check");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let (_watch, alerts) = watcher(broker.port, "alerts/#");
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(broker.port, Arc::clone(&stop));
    let child = weir()
        .args([
            "run",
            file.to_str().expect("utf-8"),
            "--limit",
            "40",
            "--workers",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let out = wait_output(child, Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    publishing.join().expect("publisher");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Malformed payloads count toward the limit as records read: good + malformed = 40.
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("weir: read "))
        .unwrap_or_else(|| panic!("no summary:\n{stderr}"));
    let number_before = |marker: &str| -> u64 {
        let at = summary.find(marker).expect("marker");
        summary[..at]
            .split_whitespace()
            .last()
            .and_then(|n| n.trim_end_matches(',').parse().ok())
            .expect("a count")
    };
    assert_eq!(
        number_before(" records in") + number_before(" malformed"),
        40,
        "{summary}"
    );
    assert!(
        stderr.contains("warning: malformed record in source `telemetry` at topic plant/m"),
        "{stderr}"
    );
    let printed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    // Every other well-formed reading is hot: about half of the 40 pass the filter.
    assert!((15..=25).contains(&printed.len()), "{}", printed.len());
    assert!(printed.iter().all(|r| r["temp"] == 90.5));
    // The same records went out over MQTT, each on its device's topic.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < printed.len() && Instant::now() < deadline {
        if let Ok(m) = alerts.recv_timeout(Duration::from_millis(100)) {
            got.push(m);
        }
    }
    assert_eq!(got.len(), printed.len());
    for (topic, payload) in &got {
        let record: serde_json::Value = serde_json::from_str(payload).expect("JSON payload");
        assert_eq!(
            topic,
            &format!("alerts/{}", record["device_id"].as_str().expect("id"))
        );
    }
}

#[test]
fn an_unbounded_mqtt_run_stops_on_sigterm_with_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path(), free_port());
    let file = pipe(dir.path(), broker.port);
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(broker.port, Arc::clone(&stop));
    let mut child = weir()
        .args(["run", file.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    // Let it read for a while: an MQTT source never ends by itself.
    let mut first = [0u8; 1];
    child
        .stdout
        .as_mut()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("weir printed an alert");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "weir ended by itself"
    );
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = wait_output(child, Duration::from_secs(30));
    stop.store(true, Ordering::Relaxed);
    publishing.join().expect("publisher");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("weir: stopped after"), "{stderr}");
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until every QoS 1 message `client` published has been acknowledged.
fn publish_all(port: u16, messages: impl Iterator<Item = (String, String)>) -> usize {
    let mut options = MqttOptions::new("bulk-publisher", "127.0.0.1", port);
    options.set_inflight(200);
    let (client, mut connection) = Client::new(options, 1000);
    let (acked_tx, acked_rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for event in connection.iter() {
            match event {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    let _ = acked_tx.send(());
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let mut n = 0;
    for (topic, payload) in messages {
        client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .expect("publish");
        n += 1;
    }
    for _ in 0..n {
        acked_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the broker acknowledged every message");
    }
    let _ = client.disconnect();
    n
}

/// Connects as `client_id` with a persistent session subscribed to `filter`, and returns
/// what arrives until the broker has been silent for `quiet` (each message acked).
fn session_messages(port: u16, client_id: &str, filter: &str, quiet: Duration) -> Vec<String> {
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    options.set_clean_session(false);
    let (client, mut connection) = Client::new(options, 100);
    client
        .subscribe(filter, QoS::AtLeastOnce)
        .expect("subscribe");
    let mut got = Vec::new();
    let mut last = Instant::now();
    // Not `iter()`: it would block until the next keep-alive when nothing comes.
    while last.elapsed() < quiet {
        match connection.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                got.push(String::from_utf8_lossy(&p.payload).into_owned());
                last = Instant::now();
            }
            Ok(Err(_)) => std::thread::sleep(Duration::from_millis(50)),
            _ => {}
        }
    }
    let _ = client.disconnect();
    got
}

/// A broker queueing every message (not just 1 000) for the persistent session of
/// `client_id` on `load/+`, holding `sent` QoS 1 messages `{"n": 0…sent}` for it.
fn loaded_broker(dir: &Path, client_id: &str, sent: u64) -> Mosquitto {
    let broker = Mosquitto::start_with(dir, free_port(), "max_queued_messages 0\n");
    drop(session_messages(
        broker.port,
        client_id,
        "load/+",
        Duration::from_millis(300),
    ));
    let published = publish_all(
        broker.port,
        (0..sent).map(|n| (format!("load/m{}", n % 4), format!("{{\"n\": {n}}}"))),
    );
    assert_eq!(published as u64, sent);
    broker
}

/// Runs a pipeline printing `load` (client `client_id`, persistent session) to a slow
/// standard output — read at about 1 000 lines a second — interrupts it after `stop_after`
/// and returns the `n` of every printed record and the run's output.
fn run_slowly_and_stop(
    dir: &Path,
    port: u16,
    client_id: &str,
    stop_after: Duration,
) -> (Vec<u64>, Output) {
    let file = dir.join(format!("{client_id}.pipe"));
    std::fs::write(
        &file,
        format!(
            r#"source load = mqtt("mqtt://127.0.0.1:{port}", topic: "load/{{device_id}}", qos: 1,
                     client_id: "{client_id}", clean_session: false) {{
  device_id: string
  n:         i64
}}
sink console = stdout()
pipeline all {{ from load | to console }}
"#
        ),
    )
    .expect("write pipe");
    let mut child = weir()
        .args(["run", file.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let fast = Arc::new(AtomicBool::new(false));
    let reader_fast = Arc::clone(&fast);
    let lines_read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let reader_count = Arc::clone(&lines_read);
    let stdout = child.stdout.take().expect("stdout");
    let reading = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let record: serde_json::Value =
                serde_json::from_str(&line.expect("line")).expect("JSON line");
            seen.push(record["n"].as_u64().expect("n"));
            reader_count.fetch_add(1, Ordering::Relaxed);
            if !reader_fast.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        seen
    });
    // The stop comes after `stop_after`, or sooner once the slow reader has taken
    // STOP_AFTER_LINES lines: on a loaded machine a fixed wait alone let the whole load
    // through before the stop, and the test needs the stop mid-stream.
    const STOP_AFTER_LINES: usize = 1_000;
    let began = Instant::now();
    while began.elapsed() < stop_after && lines_read.load(Ordering::Relaxed) < STOP_AFTER_LINES {
        std::thread::sleep(Duration::from_millis(10));
    }
    interrupt(&child);
    fast.store(true, Ordering::Relaxed);
    let out = wait_output(child, Duration::from_secs(60));
    (reading.join().expect("reader"), out)
}

/// The `n` of each payload.
fn numbers(payloads: &[String]) -> Vec<u64> {
    payloads
        .iter()
        .map(|p| {
            let record: serde_json::Value = serde_json::from_str(p).expect("JSON");
            record["n"].as_u64().expect("n")
        })
        .collect()
}

#[test]
fn a_stop_with_a_slow_sink_loses_no_acknowledged_message() {
    const SENT: u64 = 20_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = loaded_broker(dir.path(), "weir-slow", SENT);
    let port = broker.port;
    let (printed, out) = run_slowly_and_stop(dir.path(), port, "weir-slow", Duration::from_secs(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        (printed.len() as u64) < SENT,
        "the stop came after everything was read; the test proves nothing"
    );
    // What the run did not process is still the broker's, for the next run.
    let left = session_messages(port, "weir-slow", "load/+", Duration::from_secs(3));
    let mut all: std::collections::BTreeSet<u64> = printed.iter().copied().collect();
    all.extend(numbers(&left));
    let missing: Vec<u64> = (0..SENT).filter(|n| !all.contains(n)).collect();
    println!(
        "sent {SENT}, printed {}, left on the broker {}, missing {}",
        printed.len(),
        left.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "{} messages lost ({} printed, {} left on the broker), first {:?}:\n{stderr}",
        missing.len(),
        printed.len(),
        left.len(),
        &missing[..missing.len().min(10)]
    );
}

/// A graceful stop acknowledges everything the run processed before it disconnects: the
/// next session of the same client gets none of it again, only what was not processed,
/// and nothing is lost.
#[test]
fn a_graceful_stop_leaves_no_processed_message_for_redelivery() {
    const SENT: u64 = 50_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = loaded_broker(dir.path(), "weir-again", SENT);
    let port = broker.port;
    let (printed, out) =
        run_slowly_and_stop(dir.path(), port, "weir-again", Duration::from_secs(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !printed.is_empty() && (printed.len() as u64) < SENT,
        "printed {} of {SENT}: the stop must come mid-stream",
        printed.len()
    );
    let processed: std::collections::BTreeSet<u64> = printed.iter().copied().collect();
    assert_eq!(
        processed.len(),
        printed.len(),
        "a record printed twice in one run"
    );
    // The next session of the same client id.
    let again = numbers(&session_messages(
        port,
        "weir-again",
        "load/+",
        Duration::from_secs(3),
    ));
    let came_back: Vec<u64> = again
        .iter()
        .copied()
        .filter(|n| processed.contains(n))
        .collect();
    let redelivered = came_back.len();
    let mut all = processed.clone();
    all.extend(&again);
    let missing = (0..SENT).filter(|n| !all.contains(n)).count();
    println!(
        "sent {SENT}, processed {}, next session got {} ({} of them processed before), \
         missing {missing}",
        processed.len(),
        again.len(),
        redelivered
    );
    let last = printed.iter().rev().take(5).collect::<Vec<_>>();
    assert_eq!(
        redelivered,
        0,
        "processed messages came back: {:?} (the last printed: {last:?})\n{stderr}",
        &came_back[..redelivered.min(10)]
    );
    assert_eq!(missing, 0, "messages lost:\n{stderr}");
    assert_eq!(again.len() + processed.len(), SENT as usize);
}

#[test]
fn a_stop_with_the_sinks_broker_down_is_bounded_and_counts_what_is_not_delivered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nobody = free_port();
    let input: String = (0..5000)
        .map(|i| {
            format!(
                "{{\"device_id\": \"m{}\", \"temp\": 1.5, \"ts\": {i}}}\n",
                i % 3
            )
        })
        .collect();
    std::fs::write(dir.path().join("in.jsonl"), input).expect("write input");
    let file = dir.path().join("down.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source readings = file("in.jsonl") {{
  device_id: string
  temp:      f64
  ts:        timestamp
}}
sink out = mqtt("mqtt://127.0.0.1:{nobody}", topic: "x/{{device_id}}", qos: 1, flush_timeout: 2s)
sink rejects = file("rejects.jsonl")
pipeline publish {{
  on error to rejects
  from readings
  | to out
}}
"#
        ),
    )
    .expect("write pipe");
    let child = weir()
        .args(["run", "down.pipe"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(&child);
    let stopped = Instant::now();
    let out = wait_output(child, Duration::from_secs(30));
    let took = stopped.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(8), "took {took:?}:\n{stderr}");
    // It said it was flushing, and what was left.
    assert!(stderr.contains("weir: stopping for"), "{stderr}");
    assert!(stderr.contains("not yet delivered: `out` "), "{stderr}");
    // Every record read is either routed to `rejects` or counted as never taken.
    let rejected = std::fs::read_to_string(dir.path().join("rejects.jsonl"))
        .expect("rejects")
        .lines()
        .count() as u64;
    let count_after = |text: &str, marker: &str| -> u64 {
        let at = text
            .find(marker)
            .unwrap_or_else(|| panic!("no `{marker}`:\n{text}"));
        text[at + marker.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count")
    };
    let read = count_after(&stderr, "weir: stopped after ");
    let never_taken = count_after(&stderr, "the broker did not take ");
    assert!(rejected > 0, "{stderr}");
    assert_eq!(rejected + never_taken, read, "{stderr}");
    assert!(
        stderr.contains(&format!("{rejected} undelivered by `out`")),
        "{stderr}"
    );
}

#[test]
fn a_wrong_password_ends_a_bounded_run_with_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let passwd = dir.path().join("passwd");
    let made = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&passwd)
        .args(["weir", "s3cret"])
        .status()
        .expect("mosquitto_passwd runs");
    assert!(made.success());
    let broker = Mosquitto::start_with(
        dir.path(),
        free_port(),
        &format!(
            "allow_anonymous false\npassword_file {}\n",
            passwd.display()
        ),
    );
    let file = dir.path().join("auth.pipe");
    std::fs::write(
        &file,
        format!(
            r#"source telemetry = mqtt("mqtt://127.0.0.1:{}", topic: "plant/{{device_id}}",
                          username: "weir", password: "guess") {{
  device_id: string
  temp:      f64
}}
sink console = stdout()
pipeline all {{ from telemetry | to console }}
"#,
            broker.port
        ),
    )
    .expect("write pipe");
    let child = weir()
        .args(["run", file.to_str().expect("utf-8"), "--limit", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let out = wait_output(child, Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not authorized"), "{stderr}");
    assert!(stderr.contains("password"), "{stderr}");
    assert!(!stderr.contains("retrying"), "{stderr}");
}

/// The numbers `n` in a JSON-lines output file, in file order (none if it is missing).
fn output_numbers(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|r| r["n"].as_u64())
        .collect()
}

/// Waits until `done` holds for the numbers in `path`, or fails after `timeout`.
fn wait_for_output(path: &Path, timeout: Duration, done: impl Fn(&[u64]) -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = output_numbers(path);
        if done(&got) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} numbers in {}",
            got.len(),
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How often each of 6 000 messages is in the output of a checkpointed run (every 100ms)
/// that is killed (`kill -9`) after taking 3 000 of them, then resumed and stopped once
/// all are in; with `restart_broker`, the broker restarts mid-stream before the kill.
fn checkpointed_run(restart_broker: bool) -> (Vec<u32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start_with(
        dir.path(),
        free_port(),
        "max_queued_messages 0\nmax_inflight_messages 0\n",
    );
    let port = broker.port;
    drop(session_messages(
        port,
        "weir-once",
        "load/+",
        Duration::from_millis(300),
    ));
    std::fs::write(
        dir.path().join("once.pipe"),
        format!(
            r#"source load = mqtt("mqtt://127.0.0.1:{port}", topic: "load/{{device_id}}", qos: 1,
                     client_id: "weir-once", clean_session: false) {{
  device_id: string
  n:         i64
}}
sink out = file("out/n.jsonl")
pipeline all {{ from load | to out }}
"#
        ),
    )
    .expect("write pipe");
    let run = || {
        weir()
            .args(["run", "once.pipe", "--checkpoint-dir", "state"])
            .args(["--checkpoint-every", "100ms"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weir starts")
    };
    let batch = |numbers: std::ops::Range<u64>| {
        publish_all(
            port,
            numbers.map(|n| (format!("load/m{}", n % 4), format!("{{\"n\": {n}}}"))),
        )
    };
    let out = dir.path().join("out/n.jsonl");
    batch(0..2_000);
    let mut child = run();
    wait_for_output(&out, Duration::from_secs(60), |got| got.len() >= 1_000);
    if restart_broker {
        broker.stop();
        std::thread::sleep(Duration::from_millis(300));
        broker.restart();
    }
    batch(2_000..4_000);
    wait_for_output(&out, Duration::from_secs(60), |got| got.len() >= 3_000);
    child.kill().expect("SIGKILL");
    let killed = child.wait_with_output().expect("reaped");
    batch(4_000..6_000);
    let child = run();
    wait_for_output(&out, Duration::from_secs(90), |got| {
        got.iter().collect::<std::collections::HashSet<_>>().len() == 6_000
    });
    interrupt(&child);
    let done = wait_output(child, Duration::from_secs(60));
    let stderr = format!(
        "killed run: {}\nresumed run: {}",
        String::from_utf8_lossy(&killed.stderr),
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(done.status.success(), "{stderr}");
    assert!(stderr.contains("resuming from checkpoint"), "{stderr}");
    let mut seen = vec![0u32; 6_000];
    for n in output_numbers(&out) {
        seen[n as usize] += 1;
    }
    (seen, stderr)
}

/// Fails unless every message of `seen` was written exactly once.
fn assert_each_once(seen: &[u32], stderr: &str) {
    let twice: Vec<usize> = (0..seen.len()).filter(|&n| seen[n] > 1).collect();
    let missing: Vec<usize> = (0..seen.len()).filter(|&n| seen[n] == 0).collect();
    assert!(
        twice.is_empty() && missing.is_empty(),
        "{} twice (first {:?}), {} missing (first {:?})\n{stderr}",
        twice.len(),
        &twice[..twice.len().min(10)],
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// Under checkpoints, Weir killed (`kill -9`) after it took messages and before their
/// checkpoint completed, then resumed: the output holds every message exactly once.
#[test]
fn under_checkpoints_a_killed_run_resumed_processes_each_message_once() {
    let (seen, stderr) = checkpointed_run(false);
    assert_each_once(&seen, &stderr);
}

/// The broker restarted mid-stream as well (SIGTERM, persistence on): it sends again the
/// messages taken and not acknowledged, and those whose acks it lost as it stopped; the
/// output still holds every message exactly once.
#[test]
fn under_checkpoints_a_broker_restart_and_a_kill_process_each_message_once() {
    let (seen, stderr) = checkpointed_run(true);
    assert_each_once(&seen, &stderr);
}
