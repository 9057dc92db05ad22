//! q7, highest bid: per tumbling window of 10 s, the bid(s) at the window's highest
//! price, all ties — what `benches/nexmark/q7.pipe` writes to `out`.

use std::collections::BTreeMap;

use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_bid, Watermark};

/// Window size, ms.
pub const SIZE_MS: i64 = 10_000;

/// A winning bid: `(window start, auction, bidder, price, date_time)`.
pub type WinningBid = (i64, i64, i64, i64, i64);

/// Hands each window's highest bids to `emit` when the watermark passes its end.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(WinningBid)) {
    // Window start → the bids at the highest price so far; a few windows are open at a time.
    let mut open: BTreeMap<i64, Vec<WinningBid>> = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    for_each_bid(config, |b| {
        let start = b.date_time.div_euclid(SIZE_MS) * SIZE_MS;
        let best = open.entry(start).or_default();
        match best.first().map(|w| w.3) {
            Some(max) if b.price < max => {}
            Some(max) if b.price == max => {
                best.push((start, b.auction, b.bidder, b.price, b.date_time))
            }
            _ => {
                best.clear();
                best.push((start, b.auction, b.bidder, b.price, b.date_time));
            }
        }
        let wm = watermark.observe(b.date_time);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + SIZE_MS > wm {
                break;
            }
            entry.remove().into_iter().for_each(&mut emit);
        }
    });
    open.into_values().flatten().for_each(emit);
}
