//! NAB timestamps: naive `YYYY-MM-DD HH:MM:SS[.ffffff]`, compared as seconds.

use chrono::NaiveDateTime;

/// Parses a NAB timestamp (data rows have no fraction, window bounds have `.000000`) into
/// milliseconds since 1970-01-01 00:00:00, treating the naive time as UTC.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}
