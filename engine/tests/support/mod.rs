//! What the oracle tests share: out-of-order inputs that never fall behind the watermark,
//! and the windows an event time belongs to, as a batch recomputation sees them.

use rand::Rng;
use weir_engine::plan::WindowKind;
use weir_engine::value::{Record, Value};

/// The event time of a test record (slot 2).
pub fn time(r: &Record) -> i64 {
    match r[2] {
        Value::Time(t) => t,
        _ => unreachable!("test records carry their time in slot 2"),
    }
}

/// Shuffles `recs` (in time order) within runs that span less than `bound` ms, so no
/// record ever arrives behind a watermark `bound` behind the largest time seen.
pub fn shuffle_within(recs: &mut [Record], bound: i64, rng: &mut impl Rng) {
    let mut start = 0;
    while start < recs.len() {
        let first = time(&recs[start]);
        let mut end = start + 1;
        while end < recs.len() && time(&recs[end]) - first < bound && rng.gen_bool(0.9) {
            end += 1;
        }
        let chunk = &mut recs[start..end];
        for i in (1..chunk.len()).rev() {
            chunk.swap(i, rng.gen_range(0..=i));
        }
        start = end;
    }
}

/// The windows `t` belongs to (sessions are grouped apart, per key).
// Not every oracle test groups by time windows (`oracle_ordered`, `oracle_until_windows`).
#[allow(dead_code)]
pub fn windows_of(kind: &WindowKind, t: i64) -> Vec<(i64, i64)> {
    match *kind {
        WindowKind::Tumbling { size_ms, offset_ms } => {
            let start = (t - offset_ms).div_euclid(size_ms) * size_ms + offset_ms;
            vec![(start, start + size_ms)]
        }
        WindowKind::Sliding { size_ms, period_ms } => {
            let mut out = Vec::new();
            let mut start = t.div_euclid(period_ms) * period_ms;
            while start + size_ms > t {
                out.push((start, start + size_ms));
                start -= period_ms;
            }
            out
        }
        WindowKind::Global => vec![(i64::MIN, i64::MAX)],
        WindowKind::Session { .. } => unreachable!("sessions are grouped per key"),
        WindowKind::Until { .. } | WindowKind::Count { .. } => {
            unreachable!("`until` and `count` windows are not functions of time")
        }
    }
}
