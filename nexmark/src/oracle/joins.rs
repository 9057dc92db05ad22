//! Oracles of the join queries: q3 (auctions with their local sellers) and q8 (new
//! persons who sell in their first window), as nested loops over persons and auctions.

use super::WINDOW_MS;
use crate::{Auction, Event, Person};

/// q3 keeps auctions in this category.
pub const Q3_CATEGORY: i64 = 10;
/// q3 keeps sellers in these states.
pub const Q3_STATES: [&str; 3] = ["OR", "ID", "CA"];

fn persons(events: &[Event]) -> impl Iterator<Item = &Person> {
    events.iter().filter_map(|e| match e {
        Event::Person(p) => Some(p),
        _ => None,
    })
}

fn auctions(events: &[Event]) -> impl Iterator<Item = &Auction> {
    events.iter().filter_map(|e| match e {
        Event::Auction(a) => Some(a),
        _ => None,
    })
}

/// One answer of q3: a new auction and its seller.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalItem {
    /// The seller's name.
    pub name: String,
    /// The seller's city.
    pub city: String,
    /// The seller's state.
    pub state: String,
    /// The auction id.
    pub auction: i64,
}

/// q3, local item suggestion, with the SQL's meaning (no time bound): every auction in
/// category 10 with its seller, when the seller lives in OR, ID or CA; sorted.
pub fn q3(events: &[Event]) -> Vec<LocalItem> {
    let mut out = Vec::new();
    for a in auctions(events).filter(|a| a.category == Q3_CATEGORY) {
        for p in persons(events) {
            if p.id == a.seller && Q3_STATES.contains(&&*p.state) {
                out.push(LocalItem {
                    name: p.name.to_string(),
                    city: p.city.to_string(),
                    state: p.state.to_string(),
                    auction: a.id,
                });
            }
        }
    }
    out.sort();
    out
}

/// One answer of q8: a person who opened auctions in the 10 s window they registered in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NewSeller {
    /// Person id.
    pub id: i64,
    /// Person name.
    pub name: String,
    /// Start of the window, epoch ms.
    pub start: i64,
    /// Their auctions in that window.
    pub auctions: u64,
}

/// q8, monitor new users: per tumbling 10 s window, each person registered in it who is
/// the seller of at least one auction opened in it, once, with how many; sorted.
pub fn q8(events: &[Event]) -> Vec<NewSeller> {
    let window = |t: i64| t.div_euclid(WINDOW_MS) * WINDOW_MS;
    let mut out = Vec::new();
    for p in persons(events) {
        let start = window(p.date_time);
        let sold = auctions(events)
            .filter(|a| a.seller == p.id && window(a.date_time) == start)
            .count() as u64;
        if sold > 0 {
            out.push(NewSeller {
                id: p.id,
                name: p.name.to_string(),
                start,
                auctions: sold,
            });
        }
    }
    out.sort();
    out
}
