//! q6, average selling price by seller (Beam's version): q9's winning bids per seller, in
//! order of closing (`expires` − 1 ms; ties by price, as the engine orders a key's records
//! by time, then content); after each, the mean of the seller's last 10 winning prices —
//! what `benches/nexmark/q6.pipe`'s `window count 10 every 1` writes to `out`.

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

/// Prices averaged per seller.
pub const LAST: usize = 10;

/// One answer: a seller's average after one of their auctions closed.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct SellerAverage {
    /// The seller.
    pub seller: i64,
    /// The closing auction's last instant (`expires` − 1), epoch ms.
    pub closed: i64,
    /// Mean of the seller's last (up to) 10 winning prices.
    pub avg_price: f64,
    /// How many prices that is.
    pub auctions: u64,
}

/// A seller's last [`LAST`] winning prices, as a ring, and their sum.
#[derive(Default)]
struct Last {
    prices: [i64; LAST],
    len: usize,
    next: usize,
    sum: i128,
}

impl Last {
    fn push(&mut self, price: i64) {
        if self.len == LAST {
            self.sum -= i128::from(self.prices[self.next]);
        } else {
            self.len += 1;
        }
        self.prices[self.next] = price;
        self.sum += i128::from(price);
        self.next = (self.next + 1) % LAST;
    }
}

/// Hands each seller's average to `emit` after each of their auctions closes.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(SellerAverage)) {
    let mut sellers: FxHashMap<i64, Last> = FxHashMap::default();
    // Winning bids closing at the same instant, (seller, price): q9 hands them over in
    // order of `expires`, so a batch is complete when a later one arrives.
    let mut ties: Vec<(i64, i64)> = Vec::new();
    let mut tie_time = i64::MIN;
    let mut flush = |ties: &mut Vec<(i64, i64)>, closed: i64| {
        ties.sort_unstable();
        for (seller, price) in ties.drain(..) {
            let last = sellers.entry(seller).or_default();
            last.push(price);
            emit(SellerAverage {
                seller,
                closed,
                avg_price: last.sum as f64 / last.len as f64,
                auctions: last.len as u64,
            });
        }
    };
    crate::q9::run(config, |w| {
        let t = w.expires - 1;
        if t != tie_time {
            flush(&mut ties, tie_time);
            tie_time = t;
        }
        ties.push((w.seller, w.price));
    });
    flush(&mut ties, tie_time);
}
