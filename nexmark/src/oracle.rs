//! Naive batch answers of the Nexmark queries over a generated stream, for tests to
//! compare the engine's output with (Beam's `QueryNModel` idea). Each function takes the
//! whole stream as a slice of events, in any order, and returns its answer sorted.
//!
//! They assume nothing is late: the engine's source must declare a `watermark bounded`
//! of at least the generator's `max_delay_ms`, so every event counts.

use std::collections::{BTreeMap, HashMap};

use crate::{Bid, Event};

/// Window size of q5 and q7 and the session gap of q11, ms (Beam's `windowSizeSec`).
pub const WINDOW_MS: i64 = 10_000;
/// Slide of q5's sliding windows, ms (Beam's `windowPeriodSec`).
pub const PERIOD_MS: i64 = 5_000;
/// q2 keeps bids on auctions that are multiples of this (Beam's `auctionSkip`).
pub const AUCTION_SKIP: i64 = 123;

fn bids(events: &[Event]) -> impl Iterator<Item = &Bid> {
    events.iter().filter_map(|e| match e {
        Event::Bid(b) => Some(b),
        _ => None,
    })
}

/// q0, pass-through: every bid, sorted by (date_time, auction, bidder, price).
pub fn q0(events: &[Event]) -> Vec<Bid> {
    let mut out: Vec<Bid> = bids(events).cloned().collect();
    out.sort_by(|a, b| {
        (a.date_time, a.auction, a.bidder, a.price).cmp(&(
            b.date_time,
            b.auction,
            b.bidder,
            b.price,
        ))
    });
    out
}

/// q1, currency conversion: every bid with `price * 89 / 100` (Beam's integer euros).
pub fn q1(events: &[Event]) -> Vec<Bid> {
    let mut out = q0(events);
    for b in &mut out {
        b.price = b.price * 89 / 100;
    }
    out
}

/// q2, selection: `(auction, price)` of bids whose auction is a multiple of 123.
pub fn q2(events: &[Event]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = bids(events)
        .filter(|b| b.auction % AUCTION_SKIP == 0)
        .map(|b| (b.auction, b.price))
        .collect();
    out.sort_unstable();
    out
}

/// The bids of one auction in one window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuctionCount {
    /// Window start, epoch ms.
    pub start: i64,
    /// Window end (exclusive), epoch ms.
    pub end: i64,
    /// The auction.
    pub auction: i64,
    /// Its bids in the window.
    pub bids: u64,
}

/// Bids per auction per sliding window (10 s every 5 s): q5's first step.
pub fn q5_counts(events: &[Event]) -> Vec<AuctionCount> {
    let mut counts: HashMap<(i64, i64), u64> = HashMap::new();
    for b in bids(events) {
        // Every window start k·5s with start ≤ t < start + 10s.
        let last = b.date_time.div_euclid(PERIOD_MS) * PERIOD_MS;
        let mut start = last;
        while start > b.date_time - WINDOW_MS {
            *counts.entry((start, b.auction)).or_default() += 1;
            start -= PERIOD_MS;
        }
    }
    let mut out: Vec<AuctionCount> = counts
        .into_iter()
        .map(|((start, auction), bids)| AuctionCount {
            start,
            end: start + WINDOW_MS,
            auction,
            bids,
        })
        .collect();
    out.sort_unstable();
    out
}

/// q5, hot items (Beam's answer): per sliding window, the auction(s) with the most bids,
/// all ties.
pub fn q5(events: &[Event]) -> Vec<AuctionCount> {
    let counts = q5_counts(events);
    let mut max: HashMap<i64, u64> = HashMap::new();
    for c in &counts {
        let m = max.entry(c.start).or_default();
        *m = (*m).max(c.bids);
    }
    counts
        .into_iter()
        .filter(|c| max[&c.start] == c.bids)
        .collect()
}

/// Bids of a tumbling window and the highest price among them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowMax {
    /// Window start, epoch ms.
    pub start: i64,
    /// Window end (exclusive), epoch ms.
    pub end: i64,
    /// The highest price.
    pub max_price: i64,
    /// How many bids the window holds.
    pub bids: u64,
}

/// The highest price and the number of bids per tumbling 10 s window: q7's first step.
pub fn q7_max(events: &[Event]) -> Vec<WindowMax> {
    let mut windows: BTreeMap<i64, (i64, u64)> = BTreeMap::new();
    for b in bids(events) {
        let start = b.date_time.div_euclid(WINDOW_MS) * WINDOW_MS;
        let w = windows.entry(start).or_insert((i64::MIN, 0));
        w.0 = w.0.max(b.price);
        w.1 += 1;
    }
    windows
        .into_iter()
        .map(|(start, (max_price, bids))| WindowMax {
            start,
            end: start + WINDOW_MS,
            max_price,
            bids,
        })
        .collect()
}

/// q7, highest bid (Beam's answer): per tumbling 10 s window, the bid(s) whose price is
/// the window's maximum, all ties, sorted by (date_time, auction, bidder).
pub fn q7(events: &[Event]) -> Vec<Bid> {
    let max: HashMap<i64, i64> = q7_max(events)
        .into_iter()
        .map(|w| (w.start, w.max_price))
        .collect();
    let mut out: Vec<Bid> = bids(events)
        .filter(|b| max[&(b.date_time.div_euclid(WINDOW_MS) * WINDOW_MS)] == b.price)
        .cloned()
        .collect();
    out.sort_by_key(|b| (b.date_time, b.auction, b.bidder));
    out
}

/// One bidder's session of q11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Session {
    /// The bidder.
    pub bidder: i64,
    /// First bid's time, epoch ms.
    pub start: i64,
    /// Last bid's time + the gap, epoch ms (exclusive).
    pub end: i64,
    /// Bids in the session.
    pub bids: u64,
}

/// q11, user sessions: per bidder, bids closer than 10 s to the previous one share a
/// session `[first, last + 10 s)`.
pub fn q11(events: &[Event]) -> Vec<Session> {
    let mut times: HashMap<i64, Vec<i64>> = HashMap::new();
    for b in bids(events) {
        times.entry(b.bidder).or_default().push(b.date_time);
    }
    let mut out = Vec::new();
    for (bidder, mut ts) in times {
        ts.sort_unstable();
        let mut session = Session {
            bidder,
            start: ts[0],
            end: ts[0] + WINDOW_MS,
            bids: 0,
        };
        for t in ts {
            if t >= session.end {
                out.push(session);
                session.start = t;
                session.bids = 0;
            }
            session.end = t + WINDOW_MS;
            session.bids += 1;
        }
        out.push(session);
    }
    out.sort_unstable();
    out
}

/// q12's invariant: whatever the processing-time schedule, the counts emitted for a
/// bidder add up to its bids. `(bidder, bids)`, sorted by bidder.
pub fn q12_totals(events: &[Event]) -> Vec<(i64, u64)> {
    let mut totals: BTreeMap<i64, u64> = BTreeMap::new();
    for b in bids(events) {
        *totals.entry(b.bidder).or_default() += 1;
    }
    totals.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn bid(auction: i64, bidder: i64, price: i64, date_time: i64) -> Event {
        let s: Arc<str> = Arc::from("");
        Event::Bid(Bid {
            auction,
            bidder,
            price,
            channel: s.clone(),
            url: s.clone(),
            date_time,
            extra: s,
        })
    }

    #[test]
    fn small_hand_made_streams() {
        let events = vec![
            bid(1107, 1, 500, 1_000),
            bid(1108, 1, 900, 6_000),
            bid(1108, 2, 900, 9_000),
            bid(1107, 1, 100, 19_000),
        ];
        assert_eq!(q1(&events)[0].price, 445);
        assert_eq!(q2(&events), vec![(1107, 100), (1107, 500)]);
        // Windows [−5, 5), [0, 10), [5, 15), [10, 20), [15, 25).
        let hot = q5(&events);
        let in_0_10: Vec<_> = hot.iter().filter(|c| c.start == 0).collect();
        assert_eq!(in_0_10.len(), 1);
        assert_eq!((in_0_10[0].auction, in_0_10[0].bids), (1108, 2));
        assert_eq!(q5_counts(&events).len(), 1 + 2 + 1 + 1 + 1);
        // Both 900 bids tie in [0, 10).
        assert_eq!(q7(&events).len(), 3);
        assert_eq!(
            q7_max(&events),
            vec![
                WindowMax {
                    start: 0,
                    end: 10_000,
                    max_price: 900,
                    bids: 3
                },
                WindowMax {
                    start: 10_000,
                    end: 20_000,
                    max_price: 100,
                    bids: 1
                }
            ]
        );
        // Bidder 1: 1 s, 6 s (gap 5 s: same session), 19 s (gap 13 s: new one).
        assert_eq!(
            q11(&events),
            vec![
                Session {
                    bidder: 1,
                    start: 1_000,
                    end: 16_000,
                    bids: 2
                },
                Session {
                    bidder: 1,
                    start: 19_000,
                    end: 29_000,
                    bids: 1
                },
                Session {
                    bidder: 2,
                    start: 9_000,
                    end: 19_000,
                    bids: 1
                },
            ]
        );
        assert_eq!(q12_totals(&events), vec![(1, 3), (2, 1)]);
    }
}

mod joins;
pub use joins::{q3, q8, LocalItem, NewSeller, Q3_CATEGORY, Q3_STATES};
mod flink;
pub use flink::{
    price_rank, q14, q15, q16, q17, q20, q21, q22, AuctionDay, Calculated, ChannelDay, RankCounts,
    DAY_MS,
};
mod winning;
pub use winning::{q4, q6, q9, CategoryAverage, SellerAverage, WinningBid, Q6_LAST};

/// One answer of q18: the latest bid of a bidder on an auction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LastBid {
    /// The bidder.
    pub bidder: i64,
    /// The auction.
    pub auction: i64,
    /// When, epoch ms.
    pub date_time: i64,
    /// Its price; bids of one pair at the same instant go to the least price.
    pub price: i64,
}

/// q18, find last bid (the final state of Flink's updating query): per (bidder, auction),
/// the bid with the latest `date_time`, ties to the least price. Sorted.
pub fn q18(events: &[Event]) -> Vec<LastBid> {
    let mut last: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
    for b in bids(events) {
        let e = last
            .entry((b.bidder, b.auction))
            .or_insert((b.date_time, b.price));
        if (b.date_time, -b.price) > (e.0, -e.1) {
            *e = (b.date_time, b.price);
        }
    }
    last.into_iter()
        .map(|((bidder, auction), (date_time, price))| LastBid {
            bidder,
            auction,
            date_time,
            price,
        })
        .collect()
}

/// How many bids q19 ranks per auction.
pub const Q19_TOP: usize = 10;

/// One answer of q19: an auction's highest bids, best first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopBids {
    /// The auction.
    pub auction: i64,
    /// (price, bidder, date_time) of its [`Q19_TOP`] highest bids: by price, highest
    /// first; equal prices earliest first, then least bidder.
    pub bids: Vec<(i64, i64, i64)>,
}

/// A row of q19 in Flink's shape: (auction, rank_number from 1, price, bidder,
/// date_time).
pub type RankedBid = (i64, i64, i64, i64, i64);

/// q19 as Flink's rows (`ROW_NUMBER() … AS rank_number`): one per auction and rank of
/// [`q19`]'s lists, sorted by auction, then rank.
pub fn q19_rows(events: &[Event]) -> Vec<RankedBid> {
    q19(events)
        .into_iter()
        .flat_map(|t| {
            (1..)
                .zip(t.bids)
                .map(move |(rank, (price, bidder, time))| (t.auction, rank, price, bidder, time))
        })
        .collect()
}

/// q19, auction top-10 price (the final state of Flink's updating query): per auction,
/// its ten highest bids, ranked by sorting all of them. Sorted by auction.
pub fn q19(events: &[Event]) -> Vec<TopBids> {
    let mut per_auction: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for b in bids(events) {
        per_auction
            .entry(b.auction)
            .or_default()
            .push((b.price, b.bidder, b.date_time));
    }
    per_auction
        .into_iter()
        .map(|(auction, mut all)| {
            all.sort_by_key(|&(price, bidder, t)| (std::cmp::Reverse(price), t, bidder));
            all.truncate(Q19_TOP);
            TopBids { auction, bids: all }
        })
        .collect()
}
