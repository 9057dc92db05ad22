//! `metrics(every: 10s)`: the run's own health as a stream, so a pipeline can window,
//! alert on and store it like any other input.
//!
//! ```text
//! source health = metrics(every: 10s) {
//!   ts:                    timestamp
//!   records_in:            i64
//!   records_in_per_second: f64
//!   lag_seconds:           f64
//!   event_time ts
//! }
//! ```
//!
//! One record per interval, from the first worker of each process, with the figures of
//! the other sources and of the sinks in that process (the same counters `/metrics`
//! serves). It ends when every other source has ended, so a bounded run still ends.

pub mod config;
mod source;
#[cfg(test)]
mod tests;

pub use config::{MetricsConfig, MetricsField, OPTIONS};
pub use source::MetricsSource;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "metrics";
