//! q7, highest bid: per tumbling window of 10 s, the highest price and the number of
//! bids — what `benches/nexmark/q7.pipe` writes to `out`.

use std::collections::BTreeMap;

use weir_nexmark::oracle::WindowMax;
use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_bid, Watermark};

/// Window size, ms.
pub const SIZE_MS: i64 = 10_000;

/// Hands each window's highest price to `emit` when the watermark passes its end.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(WindowMax)) {
    // Window start → (highest price, bids); a few windows are open at a time.
    let mut open: BTreeMap<i64, (i64, u64)> = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    let close = |start: i64, (max_price, bids): (i64, u64)| WindowMax {
        start,
        end: start + SIZE_MS,
        max_price,
        bids,
    };
    for_each_bid(config, |b| {
        let start = b.date_time.div_euclid(SIZE_MS) * SIZE_MS;
        let w = open.entry(start).or_insert((i64::MIN, 0));
        w.0 = w.0.max(b.price);
        w.1 += 1;
        let wm = watermark.observe(b.date_time);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + SIZE_MS > wm {
                break;
            }
            let (start, w) = entry.remove_entry();
            emit(close(start, w));
        }
    });
    for (start, w) in open {
        emit(close(start, w));
    }
}
