//! q14 (Flink suite): bids with 1 000 000 < 0.908 · price < 50 000 000, with the converted
//! price and the class of their hour (UTC): `dayTime` 8–18, `nightTime` ≤ 6 or ≥ 20,
//! else `otherTime`.

use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The class of a bid's hour.
fn time_type(date_time: i64) -> &'static str {
    let hour = date_time.rem_euclid(DAY_MS) / HOUR_MS;
    if (8..=18).contains(&hour) {
        "dayTime"
    } else if hour <= 6 || hour >= 20 {
        "nightTime"
    } else {
        "otherTime"
    }
}

/// Hands every bid in the price range, with its converted price and hour class, to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(BidRef<'_>, f64, &'static str)) {
    for_each_bid(config, |b| {
        let price = 0.908 * b.price as f64;
        if price > 1_000_000.0 && price < 50_000_000.0 {
            emit(b, price, time_type(b.date_time))
        }
    });
}
