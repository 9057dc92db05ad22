//! `nexmark(…)`: the Nexmark online-auction stream (persons, auctions, bids) from the
//! deterministic generator of the `weir-nexmark` crate, one event kind per source.
//!
//! Event `n` (0 ≤ n < events) is a pure function of the options and `n`, so sources of
//! different kinds with the same options see one stream (the same event numbers and
//! ids), and the records do not depend on the number of workers: worker `w` of `peers`
//! produces the events `n ≡ w (mod peers)` of its kind, in increasing `n`.
//!
//! ```text
//! source bids = nexmark(kind: bid, events: 10M, rate: 10k, seed: 0) {
//!   auction:   i64
//!   bidder:    i64
//!   price:     i64
//!   date_time: timestamp
//!   event_time date_time
//!   watermark  bounded 3s       # at least `max_delay`, or delayed events are late
//! }
//! ```

#[cfg(test)]
mod checkpoint_tests;
pub mod config;
mod fields;
mod source;
#[cfg(test)]
mod tests;

pub use config::{NexmarkSourceConfig, OPTIONS};
pub use fields::Column;
pub use source::NexmarkSource;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "nexmark";
