//! The three Nexmark event kinds. Strings are `Arc<str>` so fixed choices (names, cities,
//! channels, padding) are shared, not copied, and a record moves into an engine value
//! without re-allocating.

use std::sync::Arc;

/// A new user of the auction site.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    /// Person id, dense from `FIRST_PERSON_ID`.
    pub id: i64,
    /// First and last name.
    pub name: Arc<str>,
    /// `xxx@yyy.com`.
    pub email_address: Arc<str>,
    /// Four space-separated groups of four digits.
    pub credit_card: Arc<str>,
    /// One of ten US cities.
    pub city: Arc<str>,
    /// One of six US states (independent of the city).
    pub state: Arc<str>,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// Padding to the average person size.
    pub extra: Arc<str>,
}

/// An item put up for auction.
#[derive(Clone, Debug, PartialEq)]
pub struct Auction {
    /// Auction id, dense from `FIRST_AUCTION_ID`.
    pub id: i64,
    /// A random word-ish string under 20 characters.
    pub item_name: Arc<str>,
    /// A random string under 100 characters.
    pub description: Arc<str>,
    /// Opening price, cents.
    pub initial_bid: i64,
    /// Reserve price, cents (above `initial_bid`).
    pub reserve: i64,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// When the auction closes, epoch ms (after `date_time`).
    pub expires: i64,
    /// The seller's person id.
    pub seller: i64,
    /// Category id in `FIRST_CATEGORY_ID .. + NUM_CATEGORIES`.
    pub category: i64,
    /// Padding to the average auction size.
    pub extra: Arc<str>,
}

/// A bid on an auction.
#[derive(Clone, Debug, PartialEq)]
pub struct Bid {
    /// The auction bid on.
    pub auction: i64,
    /// The bidder's person id.
    pub bidder: i64,
    /// Price, cents.
    pub price: i64,
    /// Where the bid came from: `Google`, `Facebook`, `Baidu`, `Apple` or `channel-<k>`.
    pub channel: Arc<str>,
    /// The URL the bid came through (fixed per channel).
    pub url: Arc<str>,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// Padding to the average bid size.
    pub extra: Arc<str>,
}

/// A [`Bid`] whose strings borrow the generator's shared tables
/// ([`Generator::bid_ref`](crate::Generator::bid_ref)): making one touches no reference
/// count, so a reader that needs only the numbers pays nothing for the strings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BidRef<'g> {
    /// The auction bid on.
    pub auction: i64,
    /// The bidder's person id.
    pub bidder: i64,
    /// Price, cents.
    pub price: i64,
    /// Where the bid came from.
    pub channel: &'g Arc<str>,
    /// The URL the bid came through.
    pub url: &'g Arc<str>,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// Padding to the average bid size.
    pub extra: &'g Arc<str>,
}

impl BidRef<'_> {
    /// The owned bid.
    #[inline]
    pub fn to_bid(&self) -> Bid {
        Bid {
            auction: self.auction,
            bidder: self.bidder,
            price: self.price,
            channel: self.channel.clone(),
            url: self.url.clone(),
            date_time: self.date_time,
            extra: self.extra.clone(),
        }
    }
}

/// One event of the stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A new person.
    Person(Person),
    /// A new auction.
    Auction(Auction),
    /// A bid.
    Bid(Bid),
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Person(_) => EventKind::Person,
            Event::Auction(_) => EventKind::Auction,
            Event::Bid(_) => EventKind::Bid,
        }
    }

    /// The event time, epoch ms.
    pub fn date_time(&self) -> i64 {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }
}

/// The kind of an event, known from its number alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// [`Person`]
    Person,
    /// [`Auction`]
    Auction,
    /// [`Bid`]
    Bid,
}

impl EventKind {
    /// The kind of event number `n`: `n % 50` below 1 is a person, below 4 an auction,
    /// else a bid.
    #[inline]
    pub fn of(n: u64) -> EventKind {
        let r = n % crate::PROPORTION_DENOMINATOR;
        if r < crate::PERSON_PROPORTION {
            EventKind::Person
        } else if r < crate::PERSON_PROPORTION + crate::AUCTION_PROPORTION {
            EventKind::Auction
        } else {
            EventKind::Bid
        }
    }
}
