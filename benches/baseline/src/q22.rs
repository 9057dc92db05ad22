//! q22 (Flink suite), get URL directories: each bid with parts 3, 4 and 5 of its URL
//! split on `/` (none past the end).

use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

/// Hands every bid with its URL's directories 3, 4 and 5 to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(BidRef<'_>, [Option<&str>; 3])) {
    for_each_bid(config, |b| {
        let mut parts = b.url.split('/').skip(3);
        let dirs = [parts.next(), parts.next(), parts.next()];
        emit(b, dirs)
    });
}
