//! q5, hot items: bids per auction in sliding windows of 10 s every 5 s, and per window
//! the auction(s) with the most bids, all ties — what `benches/nexmark/q5.pipe` writes to
//! `out`.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_bid, Watermark};

/// Window size, ms (Beam's `windowSizeSec`).
pub const SIZE_MS: i64 = 10_000;
/// Distance between window starts, ms (Beam's `windowPeriodSec`).
pub const PERIOD_MS: i64 = 5_000;

/// Hands Beam's answer to `emit` as each window closes: every `(start, auction, bids)` at
/// the window's largest count, all ties.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut((i64, i64, u64))) {
    windows(config, |start, counts| {
        let max = counts.values().copied().max().unwrap_or(0);
        for (&auction, &bids) in counts {
            if bids == max {
                emit((start, auction, bids));
            }
        }
    });
}

/// Counts bids per auction per window; hands each window's counts to `close` once the
/// watermark passes its end, in window order.
fn windows(config: &NexmarkConfig, mut close: impl FnMut(i64, &FxHashMap<i64, u64>)) {
    let mut open: BTreeMap<i64, FxHashMap<i64, u64>> = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    for_each_bid(config, |b| {
        let t = b.date_time;
        let mut start = t.div_euclid(PERIOD_MS) * PERIOD_MS;
        while start > t - SIZE_MS {
            *open.entry(start).or_default().entry(b.auction).or_insert(0) += 1;
            start -= PERIOD_MS;
        }
        let wm = watermark.observe(t);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + SIZE_MS > wm {
                break;
            }
            let (start, counts) = entry.remove_entry();
            close(start, &counts);
        }
    });
    for (start, counts) in open {
        close(start, &counts);
    }
}
