//! q13 (Flink suite), bounded side input join: each bid with the value of the static
//! table row whose key is its auction modulo 10 000 — what `benches/nexmark/q13.pipe`
//! writes to `out` (its `lookup … on miss drop` against `side_input.csv`).

use rustc_hash::FxHashMap;
use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

/// Rows of the side input.
pub const ROWS: i64 = 10_000;

/// The table `benches/nexmark/side_input.csv` holds (keys 0–9999, each with its own
/// number as text), built in memory as the engine builds it from the file before the
/// run; a test checks it against the file.
pub fn side_input() -> FxHashMap<i64, String> {
    (0..ROWS).map(|k| (k, k.to_string())).collect()
}

/// Hands every bid with a row, and the row's value, to `emit`.
pub fn run(
    config: &NexmarkConfig,
    table: &FxHashMap<i64, String>,
    mut emit: impl FnMut(BidRef<'_>, &str),
) {
    for_each_bid(config, |b| {
        if let Some(value) = table.get(&(b.auction % ROWS)) {
            emit(b, value)
        }
    });
}
