//! The fast path of timestamp parsing: the one RFC 3339 shape machines write
//! (`2024-05-01T10:00:05.123Z`, or with a `±HH:MM` offset) read digit by digit, because
//! parsing the event time of every record was an eighth of decoding a JSON reading.
//! Anything else (lower-case `t`/`z`, a space, a leap second, ten fraction digits) is left
//! to chrono by the caller, so the two always agree (a proptest holds them to it).

use crate::time::EventTime;

/// Epoch milliseconds of `text` if it is `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` with
/// valid fields; `None` for anything else, valid or not.
pub fn parse_canonical(text: &str) -> Option<EventTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let valid_day = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    if !valid_day || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let (millis, rest) = fraction(&b[19..])?;
    let offset_minutes = offset(rest)?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

/// The value of a run of ASCII digits, or `None` if any byte is not one.
fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

/// The milliseconds of an optional `.fff…` (1 to 9 digits, truncated as chrono does) and
/// what follows it.
fn fraction(b: &[u8]) -> Option<(i64, &[u8])> {
    let Some(rest) = b.strip_prefix(b".") else {
        return Some((0, b));
    };
    let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=9).contains(&len) {
        return None;
    }
    let mut millis = digits(&rest[..len.min(3)])?;
    for _ in len..3 {
        millis *= 10;
    }
    Some((millis, &rest[len..]))
}

/// The offset east of UTC in minutes: `Z` or `±HH:MM` ending the text.
fn offset(b: &[u8]) -> Option<i64> {
    match b {
        [b'Z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2])?;
            let minutes = digits(&[*m1, *m2])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            Some(if *sign == b'-' { -total } else { total })
        }
        _ => None,
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use proptest::prelude::*;

    fn chrono_ms(text: &str) -> Option<EventTime> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    #[test]
    fn reads_the_shapes_machines_write() {
        assert_eq!(
            parse_canonical("2024-05-01T10:00:05Z"),
            Some(1_714_557_605_000)
        );
        assert_eq!(
            parse_canonical("2024-05-01T10:00:05.123Z"),
            Some(1_714_557_605_123)
        );
        assert_eq!(
            parse_canonical("2024-05-01T12:00:05.1+02:00"),
            Some(1_714_557_605_100)
        );
        assert_eq!(
            parse_canonical("0000-01-01T00:00:00Z"),
            Some(-62_167_219_200_000)
        );
        assert_eq!(
            parse_canonical("9999-12-31T23:59:59.999999999Z"),
            Some(253_402_300_799_999)
        );
        assert_eq!(parse_canonical("1969-12-31T23:59:59.999Z"), Some(-1));
    }

    #[test]
    fn leaves_everything_else_to_chrono() {
        for text in [
            "2024-02-30T10:00:00Z",
            "2023-02-29T10:00:00Z",
            "2024-05-01 10:00:05Z",
            "2024-05-01t10:00:05z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T23:59:60Z",
            "2024-05-01T10:00:05.Z",
            "2024-05-01T10:00:05.1234567890Z",
            "2024-05-01T10:00:05+0200",
            "2024-05-01T10:00:05",
            "2024-5-01T10:00:05Z",
            "+2024-05-01T10:00:05Z",
        ] {
            assert_eq!(parse_canonical(text), None, "{text}");
        }
    }

    proptest! {
        /// Whatever the fast path reads, chrono reads the same.
        #[test]
        fn agrees_with_chrono_on_valid_dates(
            year in 0i64..=9999, month in 1i64..=12, day in 1i64..=31,
            hour in 0i64..=23, minute in 0i64..=59, second in 0i64..=59,
            frac in proptest::option::of("[0-9]{1,9}"),
            off in proptest::option::of((any::<bool>(), 0i64..=23, 0i64..=59)),
        ) {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let off = match off {
                None => "Z".to_string(),
                Some((neg, h, m)) => format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' }),
            };
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{frac}{off}"
            );
            let fast = parse_canonical(&text);
            prop_assert_eq!(fast.is_some(), chrono_ms(&text).is_some(), "{}", text);
            if fast.is_some() {
                prop_assert_eq!(fast, chrono_ms(&text), "{}", text);
            }
        }

        /// A mangled timestamp is either refused by both or read alike.
        #[test]
        fn never_reads_what_chrono_refuses(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:]{8}(\\.[0-9]{0,10})?(Z|[+-][0-9]{2}:?[0-9]{2})?") {
            if let Some(ms) = parse_canonical(&text) {
                prop_assert_eq!(Some(ms), chrono_ms(&text), "{}", text);
            }
        }
    }
}
