//! q8, monitor new users: per tumbling window of 10 s, each person who registered in the
//! window and sold at least one auction opened in it → (id, name, window start, their
//! auctions), once per person and window.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::stream::{for_each_person_or_auction, PersonOrAuction, Watermark};

/// Window size, ms.
pub const SIZE_MS: i64 = 10_000;

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NewSeller {
    /// Person id.
    pub id: i64,
    /// Person name.
    pub name: Arc<str>,
    /// Window start, epoch ms.
    pub start: i64,
    /// Their auctions in the window.
    pub auctions: u64,
}

/// One open window: who registered in it, and auctions per seller opened in it.
#[derive(Default)]
struct Window {
    persons: FxHashMap<i64, Arc<str>>,
    sold: FxHashMap<i64, u64>,
}

/// Hands each window's new sellers to `emit` when the watermark passes its end.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(NewSeller)) {
    let mut open: BTreeMap<i64, Window> = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    let mut close = |start: i64, w: Window| {
        for (id, name) in w.persons {
            if let Some(&auctions) = w.sold.get(&id) {
                emit(NewSeller {
                    id,
                    name,
                    start,
                    auctions,
                });
            }
        }
    };
    for_each_person_or_auction(config, |e| {
        let t = match e {
            PersonOrAuction::Person(p) => {
                let w = open
                    .entry(p.date_time.div_euclid(SIZE_MS) * SIZE_MS)
                    .or_default();
                w.persons.insert(p.id, p.name);
                p.date_time
            }
            PersonOrAuction::Auction(a) => {
                let w = open
                    .entry(a.date_time.div_euclid(SIZE_MS) * SIZE_MS)
                    .or_default();
                *w.sold.entry(a.seller).or_insert(0) += 1;
                a.date_time
            }
        };
        let wm = watermark.observe(t);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + SIZE_MS > wm {
                break;
            }
            let (start, w) = entry.remove_entry();
            close(start, w);
        }
    });
    for (start, w) in open {
        close(start, w);
    }
}
