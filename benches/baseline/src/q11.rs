//! q11, user sessions: bids per bidder in session windows with a 10 s gap, one result
//! per session once the watermark passes its end.

use rustc_hash::FxHashMap;
use weir_nexmark::oracle::Session;
use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_bid, Watermark};

/// The inactivity gap that ends a session, ms.
pub const GAP_MS: i64 = 10_000;

/// How far the watermark moves between sweeps for closed sessions, ms.
const SWEEP_MS: i64 = 1_000;

/// Hands every session to `emit` when it closes.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(Session)) {
    // Open sessions per bidder: usually one; out-of-order bids can open an earlier one
    // that a later bid bridges.
    let mut open: FxHashMap<i64, Vec<Session>> = FxHashMap::default();
    let mut watermark = Watermark::new(config);
    let mut next_sweep = i64::MIN;
    for_each_bid(config, |b| {
        let t = b.date_time;
        let sessions = open.entry(b.bidder).or_default();
        let mut merged = Session {
            bidder: b.bidder,
            start: t,
            end: t + GAP_MS,
            bids: 1,
        };
        // Merge with every session the proto-session [t, t + gap) overlaps.
        sessions.retain(|s| {
            let overlaps = s.start < merged.end && merged.start < s.end;
            if overlaps {
                merged.start = merged.start.min(s.start);
                merged.end = merged.end.max(s.end);
                merged.bids += s.bids;
            }
            !overlaps
        });
        sessions.push(merged);
        let wm = watermark.observe(t);
        if wm >= next_sweep {
            next_sweep = wm.saturating_add(SWEEP_MS);
            open.retain(|_, sessions| {
                sessions.retain(|s| {
                    let closed = s.end <= wm;
                    if closed {
                        emit(*s);
                    }
                    !closed
                });
                !sessions.is_empty()
            });
        }
    });
    for sessions in open.into_values() {
        for s in sessions {
            emit(s);
        }
    }
}
