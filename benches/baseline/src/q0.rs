//! q0, pass-through: every bid out unchanged.

use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

/// Hands every bid to `emit`.
pub fn run(config: &NexmarkConfig, emit: impl FnMut(BidRef<'_>)) {
    for_each_bid(config, emit);
}
