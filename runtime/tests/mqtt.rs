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
    assert!(stderr.contains("weir: read 40 records"), "{stderr}");
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
