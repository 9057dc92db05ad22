//! Oracles of the Flink suite's queries over bids (q14–q17, q20–q22), as the SQL files
//! define them, computed over the whole stream at once. Updating SQL results are given
//! as their final state per day, which is what the `.pipe` files' daily windows emit.

use std::collections::{BTreeMap, BTreeSet};

use super::bids;
use crate::{Auction, Event};

/// One day in ms.
pub const DAY_MS: i64 = 86_400_000;

fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY_MS) * DAY_MS
}

/// q15/q16's price ranks: below $100, below $10 000, the rest (prices in cents).
pub fn price_rank(price: i64) -> usize {
    if price < 10_000 {
        1
    } else if price < 1_000_000 {
        2
    } else {
        3
    }
}

/// One answer of q14.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub struct Calculated {
    /// The auction.
    pub auction: i64,
    /// The bidder.
    pub bidder: i64,
    /// 0.908 · price.
    pub price: f64,
    /// `dayTime`, `nightTime` or `otherTime`.
    pub bid_time_type: &'static str,
    /// When, epoch ms.
    pub date_time: i64,
}

/// q14: bids with 1 000 000 < 0.908 · price < 50 000 000, with the converted price and
/// the hour class of their time (UTC). Sorted by (date_time, auction, bidder).
pub fn q14(events: &[Event]) -> Vec<Calculated> {
    let mut out: Vec<Calculated> = bids(events)
        .filter_map(|b| {
            let price = 0.908 * b.price as f64;
            if !(price > 1_000_000.0 && price < 50_000_000.0) {
                return None;
            }
            let hour = b.date_time.rem_euclid(DAY_MS) / 3_600_000;
            let bid_time_type = if (8..=18).contains(&hour) {
                "dayTime"
            } else if hour <= 6 || hour >= 20 {
                "nightTime"
            } else {
                "otherTime"
            };
            Some(Calculated {
                auction: b.auction,
                bidder: b.bidder,
                price,
                bid_time_type,
                date_time: b.date_time,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.date_time, a.auction, a.bidder)
            .cmp(&(b.date_time, b.auction, b.bidder))
            .then(a.price.total_cmp(&b.price))
    });
    out
}

/// q15/q16's counts of one group: bids, distinct bidders and distinct auctions, in all
/// and per price rank (index 0 = all, 1–3 = the ranks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RankCounts {
    /// Bids.
    pub bids: [u64; 4],
    /// Distinct bidders.
    pub bidders: [u64; 4],
    /// Distinct auctions.
    pub auctions: [u64; 4],
}

#[derive(Default)]
struct RankSets {
    bids: [u64; 4],
    bidders: [BTreeSet<i64>; 4],
    auctions: [BTreeSet<i64>; 4],
}

impl RankSets {
    fn add(&mut self, price: i64, bidder: i64, auction: i64) {
        for i in [0, price_rank(price)] {
            self.bids[i] += 1;
            self.bidders[i].insert(bidder);
            self.auctions[i].insert(auction);
        }
    }

    fn counts(&self) -> RankCounts {
        RankCounts {
            bids: self.bids,
            bidders: std::array::from_fn(|i| self.bidders[i].len() as u64),
            auctions: std::array::from_fn(|i| self.auctions[i].len() as u64),
        }
    }
}

/// q15: per UTC day (its start, epoch ms), the counts. Sorted by day.
pub fn q15(events: &[Event]) -> Vec<(i64, RankCounts)> {
    let mut days: BTreeMap<i64, RankSets> = BTreeMap::new();
    for b in bids(events) {
        days.entry(day_of(b.date_time))
            .or_default()
            .add(b.price, b.bidder, b.auction);
    }
    days.into_iter().map(|(d, s)| (d, s.counts())).collect()
}

/// One answer of q16.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelDay {
    /// The channel.
    pub channel: String,
    /// The day's start, epoch ms.
    pub day: i64,
    /// The latest bid of the channel that day, epoch ms.
    pub last_bid: i64,
    /// The counts.
    pub counts: RankCounts,
}

/// q16: q15 per channel and day. Sorted by (channel, day).
pub fn q16(events: &[Event]) -> Vec<ChannelDay> {
    let mut groups: BTreeMap<(String, i64), (i64, RankSets)> = BTreeMap::new();
    for b in bids(events) {
        let g = groups
            .entry((b.channel.to_string(), day_of(b.date_time)))
            .or_insert_with(|| (i64::MIN, RankSets::default()));
        g.0 = g.0.max(b.date_time);
        g.1.add(b.price, b.bidder, b.auction);
    }
    groups
        .into_iter()
        .map(|((channel, day), (last_bid, s))| ChannelDay {
            channel,
            day,
            last_bid,
            counts: s.counts(),
        })
        .collect()
}

/// One answer of q17: an auction's bids in one day.
#[derive(Clone, Debug, PartialEq)]
pub struct AuctionDay {
    /// The auction.
    pub auction: i64,
    /// The day's start, epoch ms.
    pub day: i64,
    /// Bids, in all and per price rank (index 0 = all).
    pub bids: [u64; 4],
    /// Least price.
    pub min_price: i64,
    /// Highest price.
    pub max_price: i64,
    /// Mean price.
    pub avg_price: f64,
    /// Total price.
    pub sum_price: i64,
}

/// q17: per auction and day, bids per rank and price statistics. Sorted by (auction, day).
pub fn q17(events: &[Event]) -> Vec<AuctionDay> {
    let mut groups: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
    for b in bids(events) {
        groups
            .entry((b.auction, day_of(b.date_time)))
            .or_default()
            .push(b.price);
    }
    groups
        .into_iter()
        .map(|((auction, day), prices)| {
            let mut bids = [prices.len() as u64, 0, 0, 0];
            for &p in &prices {
                bids[price_rank(p)] += 1;
            }
            let sum: i64 = prices.iter().sum();
            AuctionDay {
                auction,
                day,
                bids,
                min_price: *prices.iter().min().expect("a group has a bid"),
                max_price: *prices.iter().max().expect("a group has a bid"),
                avg_price: sum as f64 / prices.len() as f64,
                sum_price: sum,
            }
        })
        .collect()
}

/// q20: every (bid, auction) pair with `bid.auction = auction.id` and the auction in
/// category 10, as (auction, bidder, price, bid time, seller); sorted.
pub fn q20(events: &[Event]) -> Vec<(i64, i64, i64, i64, i64)> {
    let auctions: BTreeMap<i64, &Auction> = events
        .iter()
        .filter_map(|e| match e {
            Event::Auction(a) if a.category == 10 => Some((a.id, a)),
            _ => None,
        })
        .collect();
    let mut out: Vec<_> = bids(events)
        .filter_map(|b| {
            let a = auctions.get(&b.auction)?;
            Some((b.auction, b.bidder, b.price, b.date_time, a.seller))
        })
        .collect();
    out.sort_unstable();
    out
}

/// q21: each bid's channel id — 0–3 for the hot channels by lower-case name, else its
/// URL's `channel_id` parameter; bids with neither are left out. As (auction, bidder,
/// price, channel, channel_id), sorted.
pub fn q21(events: &[Event]) -> Vec<(i64, i64, i64, String, String)> {
    let mut out: Vec<_> = bids(events)
        .filter_map(|b| {
            let id = match b.channel.to_lowercase().as_str() {
                "apple" => "0".to_string(),
                "google" => "1".to_string(),
                "facebook" => "2".to_string(),
                "baidu" => "3".to_string(),
                _ => url_parameter(&b.url, "channel_id")?.to_string(),
            };
            Some((b.auction, b.bidder, b.price, b.channel.to_string(), id))
        })
        .collect();
    out.sort_unstable();
    out
}

/// The value of `name=` in a URL: after `&` or at the start of the text (the SQL's
/// pattern `(&|^)name=([^&]*)`), when not empty.
fn url_parameter<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let key = format!("{name}=");
    let at = if url.starts_with(&key) {
        0
    } else {
        url.find(&format!("&{key}"))? + 1
    };
    let value = url[at + key.len()..].split('&').next()?;
    (!value.is_empty()).then_some(value)
}

/// q22: each bid's URL parts 3, 4 and 5 split on `/` (null past the end), as (auction,
/// bidder, price, channel, dir1, dir2, dir3); sorted.
#[allow(clippy::type_complexity)]
pub fn q22(
    events: &[Event],
) -> Vec<(
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
)> {
    let mut out: Vec<_> = bids(events)
        .map(|b| {
            let parts: Vec<&str> = b.url.split('/').collect();
            let part = |i: usize| parts.get(i).map(|s| s.to_string());
            (
                b.auction,
                b.bidder,
                b.price,
                b.channel.to_string(),
                part(3),
                part(4),
                part(5),
            )
        })
        .collect();
    out.sort_unstable();
    out
}
