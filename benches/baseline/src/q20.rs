//! q20 (Flink suite), expand bid with auction: each bid with its auction, for auctions in
//! category 10, when the two are at most 10 s apart — what `benches/nexmark/q20.pipe`'s
//! interval join (`join … within 10s`) writes to `out`.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use weir_nexmark::{Auction, Bid, BidRef, EventKind, Generator, NexmarkConfig};

use crate::stream::Watermark;

/// The join's bound, ms: pairs are at most this far apart in event time.
pub const WITHIN_MS: i64 = 10_000;

/// The category whose auctions are kept.
pub const CATEGORY: i64 = 10;

/// The bid's fields borrowed from an owned, buffered bid.
fn as_ref(b: &Bid) -> BidRef<'_> {
    BidRef {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel: &b.channel,
        url: &b.url,
        date_time: b.date_time,
        extra: &b.extra,
    }
}

/// The state of the join: auctions seen within the bound (`None` for another category,
/// so their bids are dropped at once), in arrival order for eviction, and bids on
/// auctions not seen yet.
#[derive(Default)]
struct Join {
    auctions: FxHashMap<i64, Option<Auction>>,
    arrived: VecDeque<(i64, i64)>,
    early: FxHashMap<i64, Vec<Bid>>,
}

impl Join {
    fn auction(&mut self, a: Auction, emit: &mut impl FnMut(BidRef<'_>, &Auction)) {
        let (id, date_time) = (a.id, a.date_time);
        let early = self.early.remove(&id).unwrap_or_default();
        let kept = if a.category == CATEGORY {
            Some(a)
        } else {
            None
        };
        if let Some(a) = &kept {
            for b in early
                .iter()
                .filter(|b| (b.date_time - a.date_time).abs() <= WITHIN_MS)
            {
                emit(as_ref(b), a);
            }
        }
        self.arrived.push_back((date_time, id));
        self.auctions.insert(id, kept);
    }

    fn bid(&mut self, b: BidRef<'_>, emit: &mut impl FnMut(BidRef<'_>, &Auction)) {
        match self.auctions.get(&b.auction) {
            Some(Some(a)) if (b.date_time - a.date_time).abs() <= WITHIN_MS => emit(b, a),
            Some(_) => {}
            None => self.early.entry(b.auction).or_default().push(b.to_bid()),
        }
    }

    /// Drops what can no longer pair: nothing arrives behind the watermark, so a record
    /// more than the bound behind it has met all its partners.
    fn evict(&mut self, watermark: i64) {
        let horizon = watermark.saturating_sub(WITHIN_MS);
        while let Some(&(t, id)) = self.arrived.front() {
            if t >= horizon {
                break;
            }
            self.arrived.pop_front();
            self.auctions.remove(&id);
        }
        self.early.retain(|_, bids| {
            bids.retain(|b| b.date_time >= horizon);
            !bids.is_empty()
        });
    }
}

/// Hands every (bid, category-10 auction) pair to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(BidRef<'_>, &Auction)) {
    let g = Generator::new(config);
    let mut join = Join::default();
    let mut watermark = Watermark::new(config);
    let mut next_sweep = i64::MIN;
    for n in 0..config.events {
        let t = match EventKind::of(n) {
            EventKind::Person => continue,
            EventKind::Auction => {
                let a = g.auction(n);
                let t = a.date_time;
                join.auction(a, &mut emit);
                t
            }
            EventKind::Bid => {
                let b = g.bid_ref(n);
                join.bid(b, &mut emit);
                b.date_time
            }
        };
        let wm = watermark.observe(t);
        if wm >= next_sweep {
            join.evict(wm);
            next_sweep = wm.saturating_add(1_000);
        }
    }
}
