//! Event number → event. Ids are dense and follow from the event number (Beam's
//! `lastBase0PersonId` / `lastBase0AuctionId`); everything random is drawn from a PCG
//! seeded with `(seed, n)`, so event `n` does not depend on any other event.

use crate::event::{Auction, Bid, BidRef, Event, EventKind, Person};
use crate::text::{random_string, Texts, CHANNELS};
use crate::{
    NexmarkConfig, AUCTION_PROPORTION, FIRST_AUCTION_ID, FIRST_CATEGORY_ID, FIRST_PERSON_ID,
    NUM_CATEGORIES, PERSON_PROPORTION, PROPORTION_DENOMINATOR,
};
use rand::Rng;
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;

/// Bids and sellers may name persons up to this many ids past the newest one.
const PERSON_ID_LEAD: i64 = 10;
/// Bids may name auctions up to this many ids past the newest one.
const AUCTION_ID_LEAD: i64 = 10;
/// The hot seller / auction / bidder is the newest id rounded down to a multiple of this.
const HOT_RATIO: i64 = 100;

/// Makes event `n` of the stream a [`NexmarkConfig`] describes.
#[derive(Debug)]
pub struct Generator {
    config: NexmarkConfig,
    texts: Texts,
    /// Events between an auction and the `in_flight_auctions`-th auction after it.
    events_per_auction_horizon: u64,
}

impl Generator {
    /// A generator for `config` (check it with [`NexmarkConfig::validate`] first: a zero
    /// rate is treated as 1 event per second here).
    pub fn new(config: &NexmarkConfig) -> Generator {
        let mut config = config.clone();
        config.rate = config.rate.max(1);
        config.active_people = config.active_people.max(1);
        let max_padding = [
            config.avg_person_bytes,
            config.avg_auction_bytes,
            config.avg_bid_bytes,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
            * 6
            / 5
            + 1;
        Generator {
            texts: Texts::new(config.seed, max_padding),
            events_per_auction_horizon: config.in_flight_auctions * PROPORTION_DENOMINATOR
                / AUCTION_PROPORTION,
            config,
        }
    }

    /// The configuration this generator follows.
    pub fn config(&self) -> &NexmarkConfig {
        &self.config
    }

    /// Event number `n`.
    pub fn event(&self, n: u64) -> Event {
        match EventKind::of(n) {
            EventKind::Person => Event::Person(self.person(n)),
            EventKind::Auction => Event::Auction(self.auction(n)),
            EventKind::Bid => Event::Bid(self.bid(n)),
        }
    }

    /// Event `n` as a person (meaningful when `EventKind::of(n)` is `Person`).
    pub fn person(&self, n: u64) -> Person {
        let mut rng = self.rng(n);
        let date_time = self.date_time(n, &mut rng);
        let t = &self.texts;
        let name = t.names[rng.gen_range(0..t.names.len())].clone();
        let mut buf = String::new();
        random_string(&mut rng, 7, &mut buf);
        buf.push('@');
        let mut domain = String::new();
        random_string(&mut rng, 5, &mut domain);
        buf.push_str(&domain);
        buf.push_str(".com");
        let email_address: Arc<str> = Arc::from(buf.as_str());
        let credit_card: Arc<str> = Arc::from(format!(
            "{:04} {:04} {:04} {:04}",
            rng.gen_range(0..10_000u32),
            rng.gen_range(0..10_000u32),
            rng.gen_range(0..10_000u32),
            rng.gen_range(0..10_000u32)
        ));
        let city = t.cities[rng.gen_range(0..t.cities.len())].clone();
        let state = t.states[rng.gen_range(0..t.states.len())].clone();
        let fixed =
            8 + name.len() + email_address.len() + credit_card.len() + city.len() + state.len();
        let extra = self
            .extra(&mut rng, fixed, self.config.avg_person_bytes)
            .clone();
        Person {
            id: last_person_id(n) + FIRST_PERSON_ID,
            name,
            email_address,
            credit_card,
            city,
            state,
            date_time,
            extra,
        }
    }

    /// Event `n` as an auction (meaningful when `EventKind::of(n)` is `Auction`).
    pub fn auction(&self, n: u64) -> Auction {
        let mut rng = self.rng(n);
        let date_time = self.date_time(n, &mut rng);
        let last_person = last_person_id(n);
        let seller = if rng.gen_range(0..self.config.hot_sellers_ratio) > 0 {
            (last_person / HOT_RATIO) * HOT_RATIO
        } else {
            self.recent_person(last_person, &mut rng)
        } + FIRST_PERSON_ID;
        let category = FIRST_CATEGORY_ID + rng.gen_range(0..NUM_CATEGORIES);
        let initial_bid = price(&mut rng);
        let reserve = initial_bid + price(&mut rng);
        // On average an auction stays open until `in_flight_auctions` more have opened.
        let horizon =
            self.config.timestamp(n + self.events_per_auction_horizon) - self.config.timestamp(n);
        let expires = date_time + 1 + rng.gen_range(0..(horizon * 2).max(1));
        let mut buf = String::new();
        random_string(&mut rng, 20, &mut buf);
        let item_name: Arc<str> = Arc::from(buf.as_str());
        random_string(&mut rng, 100, &mut buf);
        let description: Arc<str> = Arc::from(buf.as_str());
        let fixed = 8 + item_name.len() + description.len() + 8 * 5;
        let extra = self
            .extra(&mut rng, fixed, self.config.avg_auction_bytes)
            .clone();
        Auction {
            id: last_auction_id(n) + FIRST_AUCTION_ID,
            item_name,
            description,
            initial_bid,
            reserve,
            date_time,
            expires,
            seller,
            category,
            extra,
        }
    }

    /// Event `n` as a bid (meaningful when `EventKind::of(n)` is `Bid`). Allocates
    /// nothing: its strings are shared.
    #[inline]
    pub fn bid(&self, n: u64) -> Bid {
        self.bid_ref(n).to_bid()
    }

    /// Event `n` as a bid whose strings borrow the generator's tables, so no reference
    /// count is touched until a caller clones the strings it needs.
    #[inline]
    pub fn bid_ref(&self, n: u64) -> BidRef<'_> {
        let mut rng = self.rng(n);
        let date_time = self.date_time(n, &mut rng);
        let last_auction = last_auction_id(n);
        let auction = if rng.gen_range(0..self.config.hot_auction_ratio) > 0 {
            (last_auction / HOT_RATIO) * HOT_RATIO
        } else {
            self.recent_auction(last_auction, &mut rng)
        } + FIRST_AUCTION_ID;
        let last_person = last_person_id(n);
        let bidder = if rng.gen_range(0..self.config.hot_bidders_ratio) > 0 {
            (last_person / HOT_RATIO) * HOT_RATIO + 1
        } else {
            self.recent_person(last_person, &mut rng)
        } + FIRST_PERSON_ID;
        let price = price(&mut rng);
        let t = &self.texts;
        let (channel, url) = if rng.gen_range(0..2u32) == 0 {
            &t.hot_channels[rng.gen_range(0..t.hot_channels.len())]
        } else {
            &t.channels[rng.gen_range(0..CHANNELS)]
        };
        let extra = self.extra(&mut rng, 8 * 4, self.config.avg_bid_bytes);
        BidRef {
            auction,
            bidder,
            price,
            channel,
            url,
            date_time,
            extra,
        }
    }

    /// The draws of event `n`: a PCG seeded from `(seed, n)` through SplitMix64.
    #[inline]
    fn rng(&self, n: u64) -> Pcg64Mcg {
        let a = mix64(self.config.seed ^ n.wrapping_mul(GOLDEN));
        let b = mix64(a.wrapping_add(GOLDEN));
        Pcg64Mcg::new(u128::from(a) << 64 | u128::from(b))
    }

    /// Event time of `n`: its stream position's time, minus (with chance
    /// `prob_delayed`) an out-of-order delay of 1 ..= `max_delay_ms`.
    #[inline]
    fn date_time(&self, n: u64, rng: &mut Pcg64Mcg) -> i64 {
        let on_time = self.config.timestamp(n);
        if self.config.prob_delayed > 0.0
            && self.config.max_delay_ms > 0
            && rng.gen::<f64>() < self.config.prob_delayed
        {
            on_time - rng.gen_range(1..=self.config.max_delay_ms)
        } else {
            on_time
        }
    }

    /// Beam's `nextBase0PersonId`: one of the `active_people` newest persons, or up to
    /// `PERSON_ID_LEAD` past the newest (a person not seen yet).
    #[inline]
    fn recent_person(&self, last_person: i64, rng: &mut Pcg64Mcg) -> i64 {
        let people = last_person + 1;
        let active = people.min(self.config.active_people as i64);
        people - active + rng.gen_range(0..active + PERSON_ID_LEAD)
    }

    /// Beam's `nextBase0AuctionId`: one of the `in_flight_auctions` newest auctions, or
    /// up to `AUCTION_ID_LEAD` past the newest.
    #[inline]
    fn recent_auction(&self, last_auction: i64, rng: &mut Pcg64Mcg) -> i64 {
        let min = (last_auction - self.config.in_flight_auctions as i64).max(0);
        min + rng.gen_range(0..last_auction - min + 1 + AUCTION_ID_LEAD)
    }

    /// Beam's `nextExtra`: padding to within ±20% of `average − fixed` bytes.
    #[inline]
    fn extra(&self, rng: &mut Pcg64Mcg, fixed: usize, average: usize) -> &Arc<str> {
        if fixed >= average {
            return self.texts.padding(0);
        }
        let desired = average - fixed;
        // round(desired · 0.2) in integers (no float rounding call on the hot path).
        let delta = (desired * 2 + 5) / 10;
        let len = desired - delta
            + if delta == 0 {
                0
            } else {
                rng.gen_range(0..2 * delta)
            };
        self.texts.padding(len)
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijective mix of 64 bits.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Beam's `price()`: log-uniform between $1 and $1M, in cents.
#[inline]
fn price(rng: &mut Pcg64Mcg) -> i64 {
    // 10^(6u) as exp(6u·ln 10), and rounding of a positive number as +0.5 then truncate:
    // both cheaper than `powf` and `round` (library calls on the baseline x86-64 target).
    ((rng.gen::<f64>() * (6.0 * std::f64::consts::LN_10)).exp() * 100.0 + 0.5) as i64
}

/// Base-0 id of the newest person at event `n` (Beam's `lastBase0PersonId`).
#[inline]
pub(crate) fn last_person_id(n: u64) -> i64 {
    // Beam adds `min(n % 50, PERSON_PROPORTION − 1)`, which is 0 with one person per block.
    const _: () = assert!(PERSON_PROPORTION == 1);
    (n / PROPORTION_DENOMINATOR * PERSON_PROPORTION) as i64
}

/// Base-0 id of the newest auction at event `n` (Beam's `lastBase0AuctionId`); −1 before
/// the first auction.
#[inline]
pub(crate) fn last_auction_id(n: u64) -> i64 {
    let mut epoch = (n / PROPORTION_DENOMINATOR) as i64;
    let mut offset = n % PROPORTION_DENOMINATOR;
    if offset < PERSON_PROPORTION {
        epoch -= 1;
        offset = AUCTION_PROPORTION - 1;
    } else if offset >= PERSON_PROPORTION + AUCTION_PROPORTION {
        offset = AUCTION_PROPORTION - 1;
    } else {
        offset -= PERSON_PROPORTION;
    }
    epoch * AUCTION_PROPORTION as i64 + offset as i64
}

#[cfg(test)]
mod tests;
