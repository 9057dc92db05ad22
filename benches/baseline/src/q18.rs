//! q18 (Flink suite), find last bid: per (bidder, auction), the bid with the latest
//! `date_time` (ties to the least price), handed over when the input ends — the final
//! state `benches/nexmark/q18.pipe`'s global window emits.

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::for_each_bid;

/// Hands (bidder, auction, date_time, price) of every pair's last bid to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut((i64, i64, i64, i64))) {
    let mut last: FxHashMap<(i64, i64), (i64, i64)> = FxHashMap::default();
    for_each_bid(config, |b| {
        let e = last
            .entry((b.bidder, b.auction))
            .or_insert((b.date_time, b.price));
        if (b.date_time, -b.price) > (e.0, -e.1) {
            *e = (b.date_time, b.price);
        }
    });
    for ((bidder, auction), (date_time, price)) in last {
        emit((bidder, auction, date_time, price))
    }
}
