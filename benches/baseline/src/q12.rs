//! q12, processing-time windows: bids per bidder, a pane emitted 10 s of processing time
//! after its first bid (discarding), the rest when the input ends. The number of panes
//! depends on the wall clock; the counts per bidder always add up to its bids.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::for_each_bid;

/// Processing time from a pane's first bid to its firing (Beam's `windowSizeSec`).
pub const PANE_DELAY: Duration = Duration::from_secs(10);

/// Bids between looks at the clock (the engine, too, looks once per batch).
const CLOCK_EVERY: u32 = 1024;

/// Hands every pane `(bidder, bids)` to `emit`; panes fire `delay` after their first bid.
pub fn run(config: &NexmarkConfig, delay: Duration, mut emit: impl FnMut((i64, u64))) {
    let mut counts: FxHashMap<i64, u64> = FxHashMap::default();
    // Panes in the order they opened, so in deadline order.
    let mut deadlines: VecDeque<(Instant, i64)> = VecDeque::new();
    let mut now = Instant::now();
    let mut until_clock = CLOCK_EVERY;
    for_each_bid(config, |b| {
        let count = counts.entry(b.bidder).or_insert(0);
        if *count == 0 {
            deadlines.push_back((now + delay, b.bidder));
        }
        *count += 1;
        until_clock -= 1;
        if until_clock == 0 {
            until_clock = CLOCK_EVERY;
            now = Instant::now();
            while deadlines.front().is_some_and(|(d, _)| *d <= now) {
                if let Some((_, bidder)) = deadlines.pop_front() {
                    if let Some(bids) = counts.remove(&bidder) {
                        emit((bidder, bids));
                    }
                }
            }
        }
    });
    for (_, bidder) in deadlines {
        if let Some(bids) = counts.remove(&bidder) {
            emit((bidder, bids));
        }
    }
}
