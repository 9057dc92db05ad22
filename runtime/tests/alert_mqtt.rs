//! The alert stream over MQTT, against a real Mosquitto broker (Debian `mosquitto`; this
//! fails, not skips, when it is missing): `weir run` alerts on a file of readings and
//! publishes each alert event to `alerts/<device>`; a subscriber reads them back with the
//! record's fields and the `alert.*` fields nested under `"alert"`, one fired and one
//! resolved per episode.

use std::time::Duration;

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

#[path = "support/mosquitto.rs"]
mod mosquitto;

use mosquitto::{free_port, Mosquitto};

const READINGS: &str = r#"{"device_id": "d1", "temp": 85.0, "ts": "2024-05-01T10:00:00Z"}
{"device_id": "d2", "temp": 60.0, "ts": "2024-05-01T10:00:01Z"}
{"device_id": "d1", "temp": 86.0, "ts": "2024-05-01T10:00:02Z"}
{"device_id": "d1", "temp": 60.0, "ts": "2024-05-01T10:00:03Z"}
{"device_id": "d2", "temp": 61.0, "ts": "2024-05-01T10:00:04Z"}
"#;

fn program(port: u16) -> String {
    format!(
        r#"source readings = file("in.jsonl") {{
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
}}
sink pager = mqtt("mqtt://127.0.0.1:{port}", topic: "alerts/{{device_id}}", qos: 1)
pipeline hot {{
  from readings
  | key by device_id
  | alert hot
      id "{{device_id}}/hot"
      critical when temp > 80.0
      message "{{device_id}} at {{temp:.1}} °C"
  | to pager
}}
"#
    )
}

#[test]
fn alert_events_reach_mqtt_subscribers_with_the_alert_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let _broker = Mosquitto::start(dir.path(), port);
    let (client, mut connection) =
        Client::new(MqttOptions::new("pager-watch", "127.0.0.1", port), 100);
    client
        .subscribe("alerts/#", QoS::AtLeastOnce)
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
        .expect("subscribed");
    std::fs::write(dir.path().join("in.jsonl"), READINGS).expect("input");
    std::fs::write(dir.path().join("p.pipe"), program(port)).expect("program");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe", "--http", "off"])
        .current_dir(dir.path())
        .output()
        .expect("weir runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got = Vec::new();
    while let Ok(m) = rx.recv_timeout(Duration::from_secs(3)) {
        got.push(m);
    }
    assert_eq!(got.len(), 2, "one fired and one resolved: {got:?}");
    let mut events = Vec::new();
    for (topic, payload) in &got {
        assert_eq!(topic, "alerts/d1");
        let v: serde_json::Value = serde_json::from_str(payload).expect("JSON payload");
        assert_eq!(v["device_id"], "d1");
        let a = &v["alert"];
        assert_eq!(a["id"], "d1/hot");
        assert_eq!(a["kind"], "condition");
        assert_eq!(a["started_at"], "2024-05-01T10:00:00.000Z");
        events.push((
            a["event"].as_str().expect("event").to_string(),
            a["level"].as_str().expect("level").to_string(),
            a["state"].as_str().expect("state").to_string(),
            a["message"].as_str().expect("message").to_string(),
        ));
    }
    events.sort();
    assert_eq!(
        events,
        vec![
            (
                "fired".to_string(),
                "critical".to_string(),
                "firing".to_string(),
                "d1 at 85.0 °C".to_string()
            ),
            (
                "resolved".to_string(),
                "ok".to_string(),
                "resolved".to_string(),
                "d1 at 60.0 °C".to_string()
            ),
        ]
    );
}
