//! The MQTT publisher thread: JSON events paced to the wall clock, each stamped with the
//! wall-clock microsecond it was published at.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use rumqttc::{Client, MqttOptions, QoS};

use super::wall_micros;

/// The topic events are published on (and the pipeline subscribes to).
pub const TOPIC: &str = "weir-bench/latency";

/// What a finished publisher did.
pub struct Published {
    /// Events published.
    pub events: u64,
    /// Wall-clock µs of the first and the last publication.
    pub first_us: i64,
    pub last_us: i64,
}

/// Publishes `rate` events/s for `seconds` to the broker on 127.0.0.1:`port`, QoS 0.
/// Event `n` is due at `n / rate` s; when the client cannot keep up it publishes late and
/// stamps the real moment, so the achieved rate shows in [`Published`]. `nodelay` turns
/// Nagle's algorithm off on its socket.
pub fn spawn(
    port: u16,
    rate: u64,
    seconds: f64,
    nodelay: bool,
) -> JoinHandle<anyhow::Result<Published>> {
    std::thread::spawn(move || {
        let mut options = MqttOptions::new("weir-bench-latency-publisher", "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        let (client, mut connection) = Client::new(options, 65_536);
        let mut network = connection.eventloop.network_options();
        network.set_tcp_nodelay(nodelay);
        connection.eventloop.set_network_options(network);
        let driver = std::thread::spawn(move || {
            for notification in connection.iter() {
                if notification.is_err() {
                    break;
                }
            }
        });
        let total = (rate as f64 * seconds) as u64;
        let started = Instant::now();
        let first_us = wall_micros();
        let mut last_us = first_us;
        let mut n = 0;
        while n < total {
            let due = (started.elapsed().as_nanos() * u128::from(rate) / 1_000_000_000) as u64 + 1;
            if n >= due {
                std::thread::sleep(Duration::from_micros(50));
                continue;
            }
            while n < due.min(total) {
                last_us = wall_micros();
                let payload = format!(
                    r#"{{"n":{n},"k":{},"sent_us":{last_us},"ts":{}}}"#,
                    n % 100,
                    last_us / 1000
                );
                client
                    .publish(TOPIC, QoS::AtMostOnce, false, payload)
                    .context("publishing to the benchmark broker")?;
                n += 1;
            }
        }
        // Let the client's queue drain before the disconnect request behind it.
        client.disconnect().context("disconnecting the publisher")?;
        let _ = driver.join();
        Ok(Published {
            events: n,
            first_us,
            last_us,
        })
    })
}
