//! q19 (Flink suite), auction top-10 price: per auction, its ten highest bids (equal
//! prices earliest first, then least bidder), handed over when the input ends — the
//! final state `benches/nexmark/q19.pipe`'s global window emits.

use std::cmp::Reverse;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::for_each_bid;

/// How many bids are ranked per auction.
pub const TOP: usize = 10;

/// A bid's rank key: higher price first, then earlier, then the least bidder.
type Ranked = (Reverse<i64>, i64, i64);

/// Hands each auction with its (price, bidder, date_time), best first, to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(i64, Vec<(i64, i64, i64)>)) {
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
        emit(
            auction,
            ranked
                .into_iter()
                .map(|(Reverse(p), t, b)| (p, b, t))
                .collect(),
        )
    }
}
