//! Generator parameters, with the defaults of the design brief (Beam's where they differ).

use std::fmt;

/// What the generator makes: how many events, how fast in event time, and how skewed and
/// out of order. `Default` gives the design defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct NexmarkConfig {
    /// Events in the whole stream (all kinds together); event numbers are `0 .. events`.
    pub events: u64,
    /// Seed of every per-event random draw.
    pub seed: u64,
    /// Events per second of event time (the inter-event delay is `1 / rate`).
    pub rate: u64,
    /// Event time of event 0, epoch milliseconds.
    pub first_event_time: i64,
    /// Chance that an event is out of order: its `date_time` lies up to
    /// [`max_delay_ms`](Self::max_delay_ms) before the time its position in the stream
    /// says (Beam's `probDelayedEvent`).
    pub prob_delayed: f64,
    /// The largest out-of-order delay, milliseconds (Beam's `occasionalDelaySec`). A
    /// source's `watermark bounded` must be at least this for nothing to be late.
    pub max_delay_ms: i64,
    /// Auctions open at a time; sets the average auction length and the window of
    /// "recent" auctions a bid may pick (Beam's `numInFlightAuctions`).
    pub in_flight_auctions: u64,
    /// Persons eligible to bid or sell (Beam's `numActivePeople`).
    pub active_people: u64,
    /// One in `hot_auction_ratio` bids is NOT on the hot auction (Beam: 2).
    pub hot_auction_ratio: u64,
    /// One in `hot_sellers_ratio` auctions is NOT by the hot seller (Beam: 4).
    pub hot_sellers_ratio: u64,
    /// One in `hot_bidders_ratio` bids is NOT by the hot bidder (Beam: 4).
    pub hot_bidders_ratio: u64,
    /// Average size of a person in bytes, reached with `extra` padding.
    pub avg_person_bytes: usize,
    /// Average size of an auction in bytes.
    pub avg_auction_bytes: usize,
    /// Average size of a bid in bytes.
    pub avg_bid_bytes: usize,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        NexmarkConfig {
            events: 100_000,
            seed: 0,
            rate: 10_000,
            // 2015-07-15T00:00:00Z, Beam's base time.
            first_event_time: 1_436_918_400_000,
            prob_delayed: 0.1,
            max_delay_ms: 3_000,
            in_flight_auctions: 100,
            active_people: 1000,
            hot_auction_ratio: 2,
            hot_sellers_ratio: 4,
            hot_bidders_ratio: 4,
            avg_person_bytes: 200,
            avg_auction_bytes: 500,
            avg_bid_bytes: 100,
        }
    }
}

/// A configuration the generator cannot run with.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nexmark `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl NexmarkConfig {
    /// Checks the ranges the generator relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, message: &str| {
            Err(ConfigError {
                field,
                message: message.to_string(),
            })
        };
        if self.rate == 0 {
            return bad("rate", "must be at least 1 event per second");
        }
        if !(0.0..=1.0).contains(&self.prob_delayed) {
            return bad("prob_delayed", "must be a probability between 0 and 1");
        }
        if self.max_delay_ms < 0 {
            return bad("max_delay_ms", "must not be negative");
        }
        if self.prob_delayed > 0.0 && self.max_delay_ms == 0 {
            return bad("max_delay_ms", "must be positive when prob_delayed > 0");
        }
        if self.active_people == 0 {
            return bad("active_people", "must be at least 1");
        }
        for (field, ratio) in [
            ("hot_auction_ratio", self.hot_auction_ratio),
            ("hot_sellers_ratio", self.hot_sellers_ratio),
            ("hot_bidders_ratio", self.hot_bidders_ratio),
        ] {
            if ratio == 0 {
                return bad(field, "must be at least 1 (1 = always hot)");
            }
        }
        if self.events.checked_mul(1000).is_none() {
            return bad("events", "is too large to time-stamp");
        }
        Ok(())
    }

    /// The event time of stream position `n` before any out-of-order delay, epoch ms:
    /// `first_event_time + floor(n * 1000 / rate)`.
    #[inline]
    pub fn timestamp(&self, n: u64) -> i64 {
        self.first_event_time + (u128::from(n) * 1000 / u128::from(self.rate)) as i64
    }
}
