//! q12, processing-time windows: bids per bidder in tumbling windows of 10 s of processing
//! time aligned to the epoch (Flink's `TUMBLE(PROCTIME(), INTERVAL '10' SECOND)`, as
//! `benches/nexmark/q12.pipe` computes it): each bid counts in the window that holds the
//! clock when it is read, a window is emitted when the clock passes its end, and the one
//! still open when the input ends is emitted then. The number of results depends on the
//! wall clock; the counts per bidder always add up to its bids.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::for_each_bid;

/// The window's length (the query's `INTERVAL '10' SECOND`).
pub const WINDOW: Duration = Duration::from_secs(10);

/// Bids between looks at the clock (the engine, too, looks once per batch).
const CLOCK_EVERY: u32 = 1024;

/// One result: a bidder's bids in the processing-time window `[start_ms, end_ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BidderWindow {
    /// The bidder (the query's key).
    pub bidder: i64,
    /// Its bids that arrived in the window.
    pub bids: u64,
    /// The window's start, epoch milliseconds of processing time.
    pub start_ms: i64,
    /// The window's end (exclusive).
    pub end_ms: i64,
}

/// The wall clock in epoch milliseconds, as the engine's `WallClock` reads it.
pub fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Hands every window's result to `emit`, windows of `size` on the clock `now_ms`.
pub fn run(
    config: &NexmarkConfig,
    size: Duration,
    mut now_ms: impl FnMut() -> i64,
    mut emit: impl FnMut(BidderWindow),
) {
    let size_ms = (size.as_millis() as i64).max(1);
    let start_of = |t: i64| t - t.rem_euclid(size_ms);
    // The clock only moves forward, so one tumbling window is open at a time.
    let mut start = start_of(now_ms());
    let mut counts: FxHashMap<i64, u64> = FxHashMap::default();
    let mut fire = |start: i64, counts: &mut FxHashMap<i64, u64>| {
        let mut panes: Vec<(i64, u64)> = counts.drain().collect();
        panes.sort_unstable();
        for (bidder, bids) in panes {
            emit(BidderWindow {
                bidder,
                bids,
                start_ms: start,
                end_ms: start + size_ms,
            });
        }
    };
    let mut until_clock = CLOCK_EVERY;
    for_each_bid(config, |b| {
        *counts.entry(b.bidder).or_insert(0) += 1;
        until_clock -= 1;
        if until_clock == 0 {
            until_clock = CLOCK_EVERY;
            let now = start_of(now_ms());
            if now > start {
                fire(start, &mut counts);
                start = now;
            }
        }
    });
    fire(start, &mut counts);
}
