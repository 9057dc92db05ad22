//! `mqtt(url, topic: …)`: subscribe to an MQTT broker as a live source, or publish
//! records to it as a sink.
//!
//! ```text
//! source telemetry = mqtt("mqtt://localhost:1883", topic: "plant/{device_id}/telemetry",
//!                         qos: 1, client_id: "weir-plant", clean_session: false) {
//!   device_id: string  temp: f64  ts: timestamp
//!   event_time ts
//! }
//! sink alerts = mqtt("mqtt://localhost:1883", topic: "alerts/{device_id}", retain: true)
//! ```
//!
//! The source is unbounded: it runs until Ctrl-C or `--limit`. A broker that is down or
//! restarting is retried with exponential backoff, each failure logged on stderr; with
//! QoS 1 and a persistent session the broker keeps messages for Weir while it is away.
//! Payloads that do not fit the schema become bad records naming their topic.

#[cfg(test)]
mod ack_tests;
#[cfg(test)]
mod checkpoint_tests;
pub mod config;
mod connection;
mod failure;
#[cfg(test)]
mod failure_tests;
#[cfg(test)]
#[path = "../../../tests/support/mosquitto.rs"]
mod mosquitto;
#[cfg(test)]
mod overload_tests;
pub mod payload;
pub mod senml;
mod sink;
mod source;
#[cfg(test)]
mod test_broker;
#[cfg(test)]
mod tests;
pub mod topic;

pub use config::{MqttConfig, OPTIONS};
pub use sink::MqttSink;
pub use source::MqttSource;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "mqtt";
