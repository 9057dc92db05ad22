//! q4, average price per category (Beam's version): q9's winning bids, each at its
//! auction's last instant (`expires` − 1 ms), per category and sliding window of 10 s
//! every 5 s, the mean winning price and how many auctions closed — what
//! `benches/nexmark/q4.pipe` writes to `out`.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::q5::{PERIOD_MS, SIZE_MS};

/// One answer: a category's winning prices in one window.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct CategoryAverage {
    /// The category.
    pub category: i64,
    /// Start of the window, epoch ms.
    pub start: i64,
    /// Mean winning price.
    pub avg_price: f64,
    /// Auctions that closed in the window.
    pub auctions: u64,
}

/// Sum and count of winning prices, per category, per window start.
type Open = BTreeMap<i64, FxHashMap<i64, (i128, u64)>>;

/// Hands every (category, window) with a closed auction to `emit` as the window closes.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(CategoryAverage)) {
    let mut open: Open = BTreeMap::new();
    // q9 hands auctions over in order of `expires` (each closes when the watermark passes
    // it, and none opens behind the watermark), so once a winning bid at `t` arrives no
    // later one falls in a window that ends by `t`.
    crate::q9::run(config, |w| {
        let t = w.expires - 1;
        close(&mut open, t, &mut emit);
        let mut start = t.div_euclid(PERIOD_MS) * PERIOD_MS;
        while start > t - SIZE_MS {
            let s = open
                .entry(start)
                .or_default()
                .entry(w.category)
                .or_insert((0, 0));
            s.0 += i128::from(w.price);
            s.1 += 1;
            start -= PERIOD_MS;
        }
    });
    close(&mut open, i64::MAX, &mut emit);
}

/// Emits every window that ends by `time`.
fn close(open: &mut Open, time: i64, emit: &mut impl FnMut(CategoryAverage)) {
    while let Some(entry) = open.first_entry() {
        if *entry.key() + SIZE_MS > time {
            break;
        }
        let (start, categories) = entry.remove_entry();
        for (category, (sum, n)) in categories {
            emit(CategoryAverage {
                category,
                start,
                avg_price: sum as f64 / n as f64,
                auctions: n,
            });
        }
    }
}
