//! `on overload drop`: a source whose pipeline does not poll drops what its bounded
//! channel cannot take, counts it, and hands out the rest; nothing is lost uncounted.

use std::time::{Duration, Instant};

use weir_engine::io::SourceReader;
use weir_engine::plan::{OptionValue, OverloadPolicy};

use super::test_broker::{free_port, start_broker, TestClient};
use super::tests::{call, s, telemetry, until_subscribed, ONE};
use super::*;
use crate::connectors::problem::Role;

#[test]
fn a_source_that_drops_on_overload_counts_every_message_it_drops() {
    let port = free_port();
    start_broker(port, None);
    let config = MqttConfig::from_call(
        &call(
            &format!("mqtt://127.0.0.1:{port}"),
            vec![
                ("topic", s("load/{device_id}")),
                ("qos", OptionValue::Int(0)),
            ],
        ),
        Role::Source,
    )
    .expect("config");
    let mut source = MqttSource::open("load", &config, &telemetry(), ONE).expect("open");
    source.set_overload(OverloadPolicy::Drop);
    let client = TestClient::connect(port, "load-publisher", &[]);
    until_subscribed(
        &mut source,
        &client,
        "load/probe",
        "{\"temp\":-1,\"ts\":-1}",
    );
    // Twice the channel's capacity while nothing polls.
    let sent = 2 * 4096 + 500;
    for i in 0..sent {
        client.publish("load/m1", format!("{{\"temp\": 1, \"ts\": {i}}}"));
    }
    // Nothing polled until the connection thread got every message; then read it all.
    let deadline = Instant::now() + Duration::from_secs(30);
    while source.overload_dropped() < sent - 4096 {
        assert!(
            Instant::now() < deadline,
            "dropped {}",
            source.overload_dropped()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut read = 0u64;
    while read + source.overload_dropped() < sent {
        assert!(
            Instant::now() < deadline,
            "read {read}, dropped {}",
            source.overload_dropped()
        );
        let (mut out, mut bad) = (Vec::new(), Vec::new());
        source.poll(&mut out, &mut bad, 1000).expect("poll");
        read += out.iter().filter(|r| r[2].as_i64() != Some(-1)).count() as u64;
        std::thread::sleep(Duration::from_millis(10));
    }
    let dropped = source.overload_dropped();
    assert_eq!(read + dropped, sent, "read {read}, dropped {dropped}");
    // The count `/metrics` shows (`weir_source_overload_dropped_total`).
    let health = crate::connectors::link_health::register("mqtt", "source", "load");
    assert_eq!(health.overload_dropped(), dropped);
}
