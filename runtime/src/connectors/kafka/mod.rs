//! `kafka(brokers, topic: …)`: read Kafka topics as a source, or produce records to a
//! topic as a sink.
//!
//! ```text
//! source telemetry = kafka("127.0.0.1:9092", topic: "plant.telemetry", group: "weir",
//!                          start: committed, key_field: device_id) {
//!   device_id: string  temp: f64  ts: timestamp
//!   event_time ts
//! }
//! sink minutes = kafka("127.0.0.1:9092", topic: "plant.minutes", key: device_id)
//! ```
//!
//! The configuration is checked by `weir check` on every build; reading and writing
//! need the `kafka` cargo feature (rdkafka over the system's librdkafka).

#[cfg(feature = "kafka")]
mod client;
pub mod config;
// Used by the source, which needs the feature; its tests run in every build.
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
mod position;
#[cfg(feature = "kafka")]
mod refusal;
#[cfg(feature = "kafka")]
mod sink;
#[cfg(feature = "kafka")]
mod source;
#[cfg(test)]
mod tests;

pub use config::{KafkaConfig, OPTIONS};
#[cfg(feature = "kafka")]
pub use sink::KafkaSink;
#[cfg(feature = "kafka")]
pub use source::KafkaSource;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "kafka";

/// Whether this build can run kafka connectors.
pub const ENABLED: bool = cfg!(feature = "kafka");

/// Why a kafka call cannot run in a build without the feature.
#[cfg(not(feature = "kafka"))]
pub fn not_built() -> weir_engine::io::IoError {
    weir_engine::io::IoError::Config(
        "this weir was built without Kafka support: rebuild it with `cargo build --release \
         --features kafka` (needs librdkafka: `apt-get install librdkafka-dev`)"
            .into(),
    )
}
