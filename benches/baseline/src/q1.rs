//! q1, currency conversion: every bid with its price in euro cents, `price * 89 / 100`.

use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

/// Hands every bid, price converted, to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(BidRef<'_>)) {
    for_each_bid(config, |mut b| {
        b.price = b.price * 89 / 100;
        emit(b)
    });
}
