//! `chart(x: …, y: …, series: …)`: a sink that the run's dashboard draws as a live
//! chart, one line (or bar group) per series.
//!
//! ```text
//! sink temps = chart(x: window.end, y: avg_temp, series: device_id, kind: line)
//! ```
//!
//! Each record becomes a point `{series, x, y}` (a timestamp `x` in seconds since the
//! epoch). The sink keeps the last `keep` points for new viewers and pushes every
//! point to the server-sent-event stream `/api/stream/<sink>` (docs/http.md).

pub mod config;
mod sink;
#[cfg(test)]
mod tests;

pub use crate::connectors::live::{LiveFeed, LiveFeeds};
pub use config::{ChartConfig, ChartKind, OPTIONS};
pub use sink::ChartSink;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "chart";
