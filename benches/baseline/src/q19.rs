//! q19 (Flink suite), auction top-10 price: per auction, its ten highest bids (equal
//! prices earliest first, then least bidder), handed over when the input ends as a row
//! per auction and rank — the final state `benches/nexmark/q19.pipe`'s global window
//! emits and its `unnest` turns into Flink's rows.

use std::cmp::Reverse;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::for_each_bid;

/// How many bids are ranked per auction.
pub const TOP: usize = 10;

/// A bid's rank key: higher price first, then earlier, then the least bidder.
type Ranked = (Reverse<i64>, i64, i64);

/// Hands each auction's ranked bids to `emit` as (auction, rank_number from 1,
/// (price, bidder, date_time)), best first.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(i64, i64, (i64, i64, i64))) {
    let mut best: FxHashMap<i64, Vec<Ranked>> = FxHashMap::default();
    for_each_bid(config, |b| {
        let ranked = best.entry(b.auction).or_default();
        let bid = (Reverse(b.price), b.date_time, b.bidder);
        if ranked.len() == TOP && ranked.last().is_some_and(|worst| bid >= *worst) {
            return;
        }
        let at = ranked.partition_point(|r| *r <= bid);
        ranked.insert(at, bid);
        ranked.truncate(TOP);
    });
    for (auction, ranked) in best {
        for (rank, (Reverse(p), t, b)) in (1..).zip(ranked) {
            emit(auction, rank, (p, b, t));
        }
    }
}
