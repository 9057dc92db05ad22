//! q17 (Flink suite), auction statistics report: per auction and day, bids in all and per
//! price rank, and the least, highest, mean and total price — what
//! `benches/nexmark/q17.pipe` writes to `out` when each day closes.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::q15::{rank, DAY_MS};
use crate::stream::{for_each_bid, Watermark};

/// One answer: an auction's bids in one day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AuctionDay {
    /// The auction.
    pub auction: i64,
    /// The day's start, epoch ms.
    pub day: i64,
    /// Bids, in all (index 0) and per price rank.
    pub bids: [u64; 4],
    /// Least price.
    pub min_price: i64,
    /// Highest price.
    pub max_price: i64,
    /// Mean price.
    pub avg_price: f64,
    /// Total price.
    pub sum_price: i64,
}

/// An auction's running statistics in one day.
#[derive(Clone, Copy)]
struct Stats {
    bids: [u64; 4],
    min: i64,
    max: i64,
    sum: i64,
}

impl Stats {
    const EMPTY: Stats = Stats {
        bids: [0; 4],
        min: i64::MAX,
        max: i64::MIN,
        sum: 0,
    };
}

/// Hands each auction's day to `emit` as the day closes.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(AuctionDay)) {
    let mut open: BTreeMap<i64, FxHashMap<i64, Stats>> = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    for_each_bid(config, |b| {
        let day = b.date_time.div_euclid(DAY_MS) * DAY_MS;
        let s = open
            .entry(day)
            .or_default()
            .entry(b.auction)
            .or_insert(Stats::EMPTY);
        s.bids[0] += 1;
        s.bids[rank(b.price)] += 1;
        s.min = s.min.min(b.price);
        s.max = s.max.max(b.price);
        s.sum += b.price;
        let wm = watermark.observe(b.date_time);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + DAY_MS > wm {
                break;
            }
            let (day, auctions) = entry.remove_entry();
            close(day, auctions, &mut emit);
        }
    });
    for (day, auctions) in open {
        close(day, auctions, &mut emit);
    }
}

fn close(day: i64, auctions: FxHashMap<i64, Stats>, emit: &mut impl FnMut(AuctionDay)) {
    for (auction, s) in auctions {
        emit(AuctionDay {
            auction,
            day,
            bids: s.bids,
            min_price: s.min,
            max_price: s.max,
            avg_price: s.sum as f64 / s.bids[0] as f64,
            sum_price: s.sum,
        });
    }
}
