//! Walking the generated stream as the engine's source does, and the watermark that
//! follows it.

use weir_nexmark::{BidRef, EventKind, Generator, NexmarkConfig};

/// Calls `f` with every bid of the stream, in stream order (event number), generating
/// nothing else; the bids borrow their strings, as the engine's source does.
#[inline]
pub fn for_each_bid(config: &NexmarkConfig, mut f: impl FnMut(BidRef<'_>)) {
    let g = Generator::new(config);
    for n in 0..config.events {
        if EventKind::of(n) == EventKind::Bid {
            f(g.bid_ref(n));
        }
    }
}

/// The watermark of a source declared `watermark bounded <max_delay>`: the largest event
/// time seen minus the generator's largest out-of-order delay. Nothing the generator
/// makes is ever behind it.
#[derive(Clone, Copy, Debug)]
pub struct Watermark {
    bound: i64,
    max_seen: i64,
}

impl Watermark {
    /// Before any event.
    pub fn new(config: &NexmarkConfig) -> Watermark {
        Watermark {
            bound: config.max_delay_ms,
            max_seen: i64::MIN,
        }
    }

    /// Notes an event time; returns the watermark after it.
    #[inline]
    pub fn observe(&mut self, time: i64) -> i64 {
        self.max_seen = self.max_seen.max(time);
        self.current()
    }

    /// The watermark now.
    #[inline]
    pub fn current(&self) -> i64 {
        self.max_seen.saturating_sub(self.bound)
    }
}

/// A person or an auction, for the queries that join them.
#[derive(Clone, Debug)]
pub enum PersonOrAuction {
    /// A new person.
    Person(weir_nexmark::Person),
    /// A new auction.
    Auction(weir_nexmark::Auction),
}

/// Calls `f` with every person and auction of the stream, in stream order, generating no
/// bids.
#[inline]
pub fn for_each_person_or_auction(config: &NexmarkConfig, mut f: impl FnMut(PersonOrAuction)) {
    let g = Generator::new(config);
    for n in 0..config.events {
        match EventKind::of(n) {
            EventKind::Person => f(PersonOrAuction::Person(g.person(n))),
            EventKind::Auction => f(PersonOrAuction::Auction(g.auction(n))),
            EventKind::Bid => {}
        }
    }
}
