//! Oracles of the winning-bid queries: q9 (each closed auction's winning bid) and q4
//! (the average winning price per category and sliding window), as Beam's
//! `WinningBidsSimulator` defines them, by nested loops over auctions and bids.

use super::{PERIOD_MS, WINDOW_MS};
use crate::{Auction, Bid, Event};

/// One answer of q9: an auction and its winning bid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WinningBid {
    /// The auction id.
    pub auction: i64,
    /// Its seller.
    pub seller: i64,
    /// Its category.
    pub category: i64,
    /// When it closes (exclusive), epoch ms.
    pub expires: i64,
    /// The winning price.
    pub price: i64,
    /// Who bid it.
    pub bidder: i64,
    /// When, epoch ms.
    pub date_time: i64,
}

/// A bid counts for an auction when it names it, falls in `[date_time, expires)` and
/// meets the reserve (Beam's `WinningBids`).
fn valid(a: &Auction, b: &Bid) -> bool {
    b.auction == a.id
        && a.date_time <= b.date_time
        && b.date_time < a.expires
        && b.price >= a.reserve
}

/// q9, winning bids: per auction with at least one valid bid, the highest; ties go to
/// the earliest bid, then (Weir's rule for `arg_max … keep`) the least kept values
/// (bidder, date_time). Sorted.
pub fn q9(events: &[Event]) -> Vec<WinningBid> {
    let bids: Vec<&Bid> = events
        .iter()
        .filter_map(|e| match e {
            Event::Bid(b) => Some(b),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for e in events {
        let Event::Auction(a) = e else { continue };
        let best = bids
            .iter()
            .filter(|b| valid(a, b))
            .min_by_key(|b| (-b.price, b.date_time, b.bidder));
        if let Some(b) = best {
            out.push(WinningBid {
                auction: a.id,
                seller: a.seller,
                category: a.category,
                expires: a.expires,
                price: b.price,
                bidder: b.bidder,
                date_time: b.date_time,
            });
        }
    }
    out.sort();
    out
}

/// One answer of q4: a category's average winning price in one sliding window.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub struct CategoryAverage {
    /// The category.
    pub category: i64,
    /// Start of the window, epoch ms.
    pub start: i64,
    /// Mean of the winning prices of auctions closing in the window.
    pub avg_price: f64,
    /// How many auctions closed in it.
    pub auctions: u64,
}

/// q4, average price per category (Beam's version): the winning bids of q9, each at its
/// auction's last instant (`expires − 1`), in sliding windows of 10 s every 5 s; per
/// category and window, the mean winning price. Sorted by (category, start).
pub fn q4(events: &[Event]) -> Vec<CategoryAverage> {
    let mut sums: std::collections::BTreeMap<(i64, i64), (i128, u64)> = Default::default();
    for w in q9(events) {
        let t = w.expires - 1;
        let mut start = t.div_euclid(PERIOD_MS) * PERIOD_MS;
        while start + WINDOW_MS > t {
            let s = sums.entry((w.category, start)).or_insert((0, 0));
            s.0 += i128::from(w.price);
            s.1 += 1;
            start -= PERIOD_MS;
        }
    }
    sums.into_iter()
        .map(|((category, start), (sum, n))| CategoryAverage {
            category,
            start,
            avg_price: sum as f64 / n as f64,
            auctions: n,
        })
        .collect()
}

/// One answer of q6: a seller's average over their last (up to) 10 winning prices,
/// after one of their auctions closed.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub struct SellerAverage {
    /// The seller.
    pub seller: i64,
    /// The closing auction's last instant (`expires` − 1), epoch ms.
    pub closed: i64,
    /// Mean of the seller's last (up to) 10 winning prices, this one included.
    pub avg_price: f64,
    /// How many prices that is.
    pub auctions: u64,
}

/// Prices q6 averages per seller (Beam's `maxNumAuctions`-free q6 keeps 10).
pub const Q6_LAST: usize = 10;

/// q6, average selling price by seller: the winning bids of q9 per seller, in order of
/// closing (`expires` − 1, ties by price: the engine orders ties by record content); after
/// each, the mean of the seller's last 10 winning prices. Sorted by (seller, closed).
pub fn q6(events: &[Event]) -> Vec<SellerAverage> {
    let mut per_seller: std::collections::BTreeMap<i64, Vec<(i64, i64)>> = Default::default();
    for w in q9(events) {
        per_seller
            .entry(w.seller)
            .or_default()
            .push((w.expires - 1, w.price));
    }
    let mut out = Vec::new();
    for (seller, mut sales) in per_seller {
        sales.sort_unstable();
        for i in 0..sales.len() {
            let last = &sales[i.saturating_sub(Q6_LAST - 1)..=i];
            let sum: i128 = last.iter().map(|(_, p)| i128::from(*p)).sum();
            out.push(SellerAverage {
                seller,
                closed: sales[i].0,
                avg_price: sum as f64 / last.len() as f64,
                auctions: last.len() as u64,
            });
        }
    }
    out
}
