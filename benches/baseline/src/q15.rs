//! q15 (Flink suite), bidding statistics report: per day, bids, distinct bidders and
//! distinct auctions, in all and per price rank — what `benches/nexmark/q15.pipe`'s
//! tumbling 1-day window writes to `out` when each day closes.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_bid, Watermark};

/// One day, ms.
pub const DAY_MS: i64 = 86_400_000;

/// The price rank: 1 below $100, 2 below $10 000, 3 above (prices in cents).
#[inline]
pub fn rank(price: i64) -> usize {
    if price < 10_000 {
        1
    } else if price < 1_000_000 {
        2
    } else {
        3
    }
}

/// The counts of one group, in all (index 0) and per price rank (1–3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RankCounts {
    /// Bids.
    pub bids: [u64; 4],
    /// Distinct bidders.
    pub bidders: [u64; 4],
    /// Distinct auctions.
    pub auctions: [u64; 4],
}

/// What a group keeps to count distinct bidders and auctions.
#[derive(Default)]
pub struct RankSets {
    bids: [u64; 4],
    bidders: [FxHashSet<i64>; 4],
    auctions: [FxHashSet<i64>; 4],
}

impl RankSets {
    /// Adds one bid.
    #[inline]
    pub fn add(&mut self, price: i64, bidder: i64, auction: i64) {
        for i in [0, rank(price)] {
            self.bids[i] += 1;
            self.bidders[i].insert(bidder);
            self.auctions[i].insert(auction);
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> RankCounts {
        RankCounts {
            bids: self.bids,
            bidders: std::array::from_fn(|i| self.bidders[i].len() as u64),
            auctions: std::array::from_fn(|i| self.auctions[i].len() as u64),
        }
    }
}

/// Hands each day's start (epoch ms) and counts to `emit` as the day closes.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(i64, RankCounts)) {
    let mut open: BTreeMap<i64, RankSets> = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    for_each_bid(config, |b| {
        let day = b.date_time.div_euclid(DAY_MS) * DAY_MS;
        open.entry(day)
            .or_default()
            .add(b.price, b.bidder, b.auction);
        let wm = watermark.observe(b.date_time);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + DAY_MS > wm {
                break;
            }
            let (day, sets) = entry.remove_entry();
            emit(day, sets.counts());
        }
    });
    for (day, sets) in open {
        emit(day, sets.counts());
    }
}
