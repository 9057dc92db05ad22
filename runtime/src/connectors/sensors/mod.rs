//! `sensors(…)`: a built-in, deterministic simulator of a plant's machine sensors.
//!
//! Event `n` (0 ≤ n < events) comes from device `n % devices` at event time
//! `start + n·1000/rate` ms and arrives a delay in `[0, jitter]` later; every random
//! value is a pure function of `(seed, n)` (a counter-based generator, no shared state),
//! so the records do not depend on how many workers share the work. Worker `w` of
//! `peers` produces the events of the devices `d` with `d % peers == w`, in arrival order
//! (in increasing `n` without jitter). Jitter delays arrival rather than moving event
//! times, so no reading precedes `start` and a window's count is exact.
//!
//! ```text
//! source telemetry = sensors(devices: 50, rate: 10k, duration: 1h, jitter: 2s) {
//!   device_id: string
//!   temp:      f64
//!   ts:        timestamp
//!   event_time ts
//!   watermark  bounded 2s
//! }
//! ```

#[cfg(test)]
mod checkpoint_tests;
pub mod config;
mod fields;
mod plant;
mod position;
mod random;
mod source;
#[cfg(test)]
mod tests;
mod wave;

pub use config::{SensorsConfig, OPTIONS};
pub use fields::Measure;
pub use source::SensorsSource;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "sensors";
