//! q3, local item suggestion: every new auction in category 10 with its seller, when the
//! seller lives in Oregon, Idaho or California → (name, city, state, auction id). An
//! incremental hash join: a match is emitted as soon as both sides are present; each
//! side is kept 600 s of event time (Beam's `maxAuctionsWaitingTime`, the `.pipe`'s
//! `within 600s`).

use std::sync::Arc;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_person_or_auction, PersonOrAuction, Watermark};

/// The category q3 keeps.
pub const CATEGORY: i64 = 10;
/// The states q3 keeps sellers from.
pub const STATES: [&str; 3] = ["OR", "ID", "CA"];
/// How long each side waits for the other, ms of event time.
pub const WITHIN_MS: i64 = 600_000;

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalItem {
    /// The seller's name.
    pub name: Arc<str>,
    /// The seller's city.
    pub city: Arc<str>,
    /// The seller's state.
    pub state: Arc<str>,
    /// The auction id.
    pub auction: i64,
}

/// A local seller: name, city, state, and when they registered.
type Seller = (Arc<str>, Arc<str>, Arc<str>, i64);

/// Hands every match to `emit` as soon as both sides have arrived.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(LocalItem)) {
    let mut sellers: FxHashMap<i64, Seller> = FxHashMap::default();
    // Auctions whose seller has not arrived yet: seller → (auction, date_time).
    let mut waiting: FxHashMap<i64, Vec<(i64, i64)>> = FxHashMap::default();
    let mut watermark = Watermark::new(config);
    let mut next_cleanup = i64::MIN;
    for_each_person_or_auction(config, |e| {
        let t = match e {
            PersonOrAuction::Person(p) => {
                if STATES.contains(&&*p.state) {
                    if let Some(auctions) = waiting.remove(&p.id) {
                        for (auction, at) in auctions {
                            if (at - p.date_time).abs() <= WITHIN_MS {
                                emit(LocalItem {
                                    name: p.name.clone(),
                                    city: p.city.clone(),
                                    state: p.state.clone(),
                                    auction,
                                });
                            }
                        }
                    }
                    sellers.insert(p.id, (p.name, p.city, p.state, p.date_time));
                }
                p.date_time
            }
            PersonOrAuction::Auction(a) => {
                if a.category == CATEGORY {
                    match sellers.get(&a.seller) {
                        Some((name, city, state, at)) => {
                            if (a.date_time - at).abs() <= WITHIN_MS {
                                emit(LocalItem {
                                    name: name.clone(),
                                    city: city.clone(),
                                    state: state.clone(),
                                    auction: a.id,
                                });
                            }
                        }
                        None => waiting
                            .entry(a.seller)
                            .or_default()
                            .push((a.id, a.date_time)),
                    }
                }
                a.date_time
            }
        };
        // Forget what no record still to come can pair with, every 10 s of watermark.
        let wm = watermark.observe(t);
        if wm >= next_cleanup {
            next_cleanup = wm.saturating_add(10_000);
            let horizon = wm.saturating_sub(WITHIN_MS);
            sellers.retain(|_, s| s.3 >= horizon);
            waiting.retain(|_, auctions| {
                auctions.retain(|&(_, at)| at >= horizon);
                !auctions.is_empty()
            });
        }
    });
}
