//! The Nexmark online-auction benchmark for Weir: a deterministic event generator and
//! naive batch oracles for the queries in `benches/nexmark/q*.pipe`.
//!
//! The generator follows the structure of Beam's Java Nexmark generator (and its Flink
//! port): a 1 : 3 : 46 mix of persons, auctions and bids, dense ids derived from event
//! numbers, hot sellers / auctions / bidders, log-uniform prices and padded sizes. Event
//! `n` is a pure function of the configuration and `n` — its random draws come from a PCG
//! seeded with `(seed, n)` — so any worker can make any event and separate sources of
//! different kinds agree on one stream. It does not reproduce Beam's bytes (Beam draws
//! from Java's `Random`); compare distributions, not values.
//!
//! Quirk matched: Beam's bidder ids (the hot bidder is `(lastPerson / 100) * 100 + 1`,
//! plus `FIRST_PERSON_ID` once). The Flink port adds `FIRST_PERSON_ID` twice, so its
//! bidder ids sit about 1000 above its person ids; ours reference real persons.
#![forbid(missing_docs)]

mod config;
mod event;
mod generator;
pub mod oracle;
mod text;

pub use config::{ConfigError, NexmarkConfig};
pub use event::{Auction, Bid, BidRef, Event, EventKind, Person};
pub use generator::Generator;

/// Ids of persons start here (Beam's `FIRST_PERSON_ID`).
pub const FIRST_PERSON_ID: i64 = 1000;
/// Ids of auctions start here (Beam's `FIRST_AUCTION_ID`).
pub const FIRST_AUCTION_ID: i64 = 1000;
/// The lowest category id; categories are `FIRST_CATEGORY_ID .. + NUM_CATEGORIES`.
pub const FIRST_CATEGORY_ID: i64 = 10;
/// How many categories auctions fall into.
pub const NUM_CATEGORIES: i64 = 5;
/// Persons in every block of [`PROPORTION_DENOMINATOR`] events.
pub const PERSON_PROPORTION: u64 = 1;
/// Auctions in every block of [`PROPORTION_DENOMINATOR`] events.
pub const AUCTION_PROPORTION: u64 = 3;
/// Bids in every block of [`PROPORTION_DENOMINATOR`] events.
pub const BID_PROPORTION: u64 = 46;
/// Events per block of the mix (1 + 3 + 46).
pub const PROPORTION_DENOMINATOR: u64 = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
