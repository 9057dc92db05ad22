//! `state(key: …)`: a sink that keeps the latest record per key, for apps to query.
//!
//! ```text
//! sink latest = state(key: device_id, ttl: 1h)
//! ```
//!
//! "Latest" is by event time, not arrival: a record older than the one held for its
//! key is ignored. Records live in memory and in an embedded on-disk copy (redb, at
//! `path`, default `.weir/state/<sink>.redb`), so a restarted run serves the last
//! values at once. The run's HTTP server answers `GET /api/state/<sink>` from it
//! (docs/http.md). With `ttl`, a key not updated for that long in event time (behind
//! the newest record the store has seen) is forgotten.

pub mod config;
mod store;
#[cfg(test)]
mod tests;

pub use config::{StateConfig, OPTIONS};
pub use store::{Entry, LatestStore, Page, StateError};

/// The `state` sinks of a process.
pub type StateStores = crate::connectors::registry::Registry<LatestStore>;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "state";
