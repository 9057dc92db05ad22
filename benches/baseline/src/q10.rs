//! q10, log to file system: every bid with the day (`yyyy-MM-dd`) and minute (`HH:mm`)
//! of its time (UTC), the partition `benches/nexmark/q10.pipe` writes it to. The loop
//! formats both texts per bid, as the query does; writing files is left out on both
//! sides (`weir bench nexmark` discards every sink).

use chrono::DateTime;
use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

/// Hands every bid with its (day, minute) texts to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(BidRef<'_>, String, String)) {
    for_each_bid(config, |b| {
        let at = DateTime::from_timestamp_millis(b.date_time).unwrap_or_default();
        emit(
            b,
            at.format("%Y-%m-%d").to_string(),
            at.format("%H:%M").to_string(),
        )
    });
}
