//! q9, winning bids (and the first step of q4 and q6): each auction's highest valid bid —
//! in `[date_time, expires)`, at least the reserve, ties to the earliest bid, then the
//! least bidder — handed over when the watermark passes the auction's `expires`.
//! What `benches/nexmark/q9.pipe` writes to `out` (the `.pipe` also bounds the join by
//! 10 s, which no valid bid exceeds at the rates the benchmark runs).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use weir_nexmark::{EventKind, Generator, NexmarkConfig};

use crate::stream::Watermark;

/// One answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WinningBid {
    /// The auction.
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

/// An open auction and its best valid bid so far: (price, date_time, bidder).
struct Open {
    date_time: i64,
    expires: i64,
    reserve: i64,
    seller: i64,
    category: i64,
    best: Option<(i64, i64, i64)>,
}

/// A bid that beats `best` under q9's order: higher price, then earlier, then the
/// least bidder.
fn beats(bid: (i64, i64, i64), best: Option<(i64, i64, i64)>) -> bool {
    best.is_none_or(|(p, t, b)| (-bid.0, bid.1, bid.2) < (-p, t, b))
}

impl Open {
    fn offer(&mut self, price: i64, date_time: i64, bidder: i64) {
        let valid =
            self.date_time <= date_time && date_time < self.expires && price >= self.reserve;
        if valid && beats((price, date_time, bidder), self.best) {
            self.best = Some((price, date_time, bidder));
        }
    }
}

/// Hands every closed auction's winning bid to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(WinningBid)) {
    let g = Generator::new(config);
    let mut open: FxHashMap<i64, Open> = FxHashMap::default();
    let mut closing: BTreeMap<(i64, i64), ()> = BTreeMap::new();
    // Bids on auctions not seen yet, by auction: (price, date_time, bidder). An auction
    // arrives at most the generator's delay out of order, so a bid can still meet its
    // auction only while the watermark has not passed it.
    let mut early: FxHashMap<i64, Vec<(i64, i64, i64)>> = FxHashMap::default();
    let mut watermark = Watermark::new(config);
    let mut next_sweep = i64::MIN;
    for n in 0..config.events {
        let t = match EventKind::of(n) {
            EventKind::Person => continue,
            EventKind::Auction => {
                let a = g.auction(n);
                let mut o = Open {
                    date_time: a.date_time,
                    expires: a.expires,
                    reserve: a.reserve,
                    seller: a.seller,
                    category: a.category,
                    best: None,
                };
                for (price, date_time, bidder) in early.remove(&a.id).unwrap_or_default() {
                    o.offer(price, date_time, bidder);
                }
                closing.insert((a.expires, a.id), ());
                open.insert(a.id, o);
                a.date_time
            }
            EventKind::Bid => {
                let b = g.bid_ref(n);
                match open.get_mut(&b.auction) {
                    Some(o) => o.offer(b.price, b.date_time, b.bidder),
                    None => {
                        early
                            .entry(b.auction)
                            .or_default()
                            .push((b.price, b.date_time, b.bidder))
                    }
                }
                b.date_time
            }
        };
        let wm = watermark.observe(t);
        close(&mut open, &mut closing, wm, &mut emit);
        if wm >= next_sweep {
            early.retain(|_, bids| {
                bids.retain(|&(_, at, _)| at >= wm);
                !bids.is_empty()
            });
            next_sweep = wm.saturating_add(1_000);
        }
    }
    close(&mut open, &mut closing, i64::MAX, &mut emit);
}

/// Closes every auction whose `expires` the watermark has reached.
fn close(
    open: &mut FxHashMap<i64, Open>,
    closing: &mut BTreeMap<(i64, i64), ()>,
    watermark: i64,
    emit: &mut impl FnMut(WinningBid),
) {
    while let Some(entry) = closing.first_entry() {
        let (expires, id) = *entry.key();
        if expires > watermark {
            break;
        }
        entry.remove();
        let Some(o) = open.remove(&id) else { continue };
        if let Some((price, date_time, bidder)) = o.best {
            emit(WinningBid {
                auction: id,
                seller: o.seller,
                category: o.category,
                expires,
                price,
                bidder,
                date_time,
            });
        }
    }
}
