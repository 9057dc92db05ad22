//! Event time: timestamps in epoch milliseconds, durations, and their text forms.

use chrono::{DateTime, SecondsFormat, Utc};

/// Event time in epoch milliseconds. Also the timely timestamp of every stream: a record
/// travels at its source's watermark, so an operator's input frontier is its watermark.
pub type EventTime = i64;

/// The watermark before any data: nothing has been promised yet.
pub const MIN_WATERMARK: EventTime = i64::MIN;

/// The earliest time RFC 3339 can write: `0000-01-01T00:00:00.000Z`.
pub const MIN_TIMESTAMP: EventTime = -62_167_219_200_000;
/// The latest time RFC 3339 can write: `9999-12-31T23:59:59.999Z`.
pub const MAX_TIMESTAMP: EventTime = 253_402_300_799_999;

/// Whether `ms` lies in the years 0000–9999, the range of RFC 3339. Inputs outside it are
/// refused: one record at `i64::MAX` ms would carry the watermark past every real record.
pub fn in_timestamp_range(ms: EventTime) -> bool {
    (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&ms)
}

/// Why a timestamp outside [`in_timestamp_range`] is refused, for error reports.
pub fn out_of_range_reason(ms: EventTime) -> String {
    format!(
        "timestamp {ms} ms is outside the RFC 3339 range (years 0000 to 9999, \
         {MIN_TIMESTAMP} to {MAX_TIMESTAMP} epoch milliseconds)"
    )
}

/// Formats a timestamp as RFC 3339 with milliseconds, in UTC (`2024-05-01T10:00:00.000Z`).
pub fn format_timestamp(ms: EventTime) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None if ms == i64::MIN => "-inf".to_string(),
        None if ms == i64::MAX => "+inf".to_string(),
        None => format!("{ms}ms"),
    }
}

/// Parses an RFC 3339 timestamp (`2024-05-01T10:00:05Z`, offsets allowed) to epoch ms.
/// A naive `2024-05-01 10:00:05[.fff]` (as in NAB and many CSV exports) is read as UTC.
pub fn parse_timestamp(text: &str) -> Option<EventTime> {
    let text = text.trim();
    if let Some(ms) = crate::rfc3339::parse_canonical(text) {
        return Some(ms);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc().timestamp_millis())
        })
        .ok()
}

/// Formats a duration in the largest unit that divides it (`90s`, `1m`, `250ms`).
pub fn format_duration(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    if ms != 0 {
        for (size, unit) in UNITS {
            if ms % size == 0 {
                return format!("{}{unit}", ms / size);
            }
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2024-05-01T10:00:05Z").expect("valid");
        assert_eq!(t, 1_714_557_605_000);
        assert_eq!(format_timestamp(t), "2024-05-01T10:00:05.000Z");
        assert_eq!(parse_timestamp("2024-05-01T12:00:05+02:00"), Some(t));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn the_timestamp_range_is_rfc_3339s() {
        assert_eq!(format_timestamp(MIN_TIMESTAMP), "0000-01-01T00:00:00.000Z");
        assert_eq!(format_timestamp(MAX_TIMESTAMP), "9999-12-31T23:59:59.999Z");
        assert!(in_timestamp_range(MAX_TIMESTAMP) && in_timestamp_range(MIN_TIMESTAMP));
        assert!(!in_timestamp_range(MAX_TIMESTAMP + 1));
        assert!(!in_timestamp_range(MIN_TIMESTAMP - 1));
        assert!(!in_timestamp_range(i64::MAX));
    }

    #[test]
    fn durations_pick_the_largest_unit() {
        assert_eq!(format_duration(60_000), "1m");
        assert_eq!(format_duration(90_000), "90s");
        assert_eq!(format_duration(250), "250ms");
        assert_eq!(format_duration(0), "0ms");
        assert_eq!(format_duration(86_400_000), "1d");
    }
}
