//! q2, selection: `(auction, price)` of the bids on auctions that are multiples of 123.

use weir_nexmark::NexmarkConfig;

use crate::stream::for_each_bid;

/// Beam's `auctionSkip`.
pub const AUCTION_SKIP: i64 = 123;

/// Hands `(auction, price)` of every selected bid to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut((i64, i64))) {
    for_each_bid(config, |b| {
        if b.auction % AUCTION_SKIP == 0 {
            emit((b.auction, b.price))
        }
    });
}
