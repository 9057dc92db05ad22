//! Scalar values written as text (CSV cells, JSON strings): parsing by declared type.

use std::sync::Arc;

use weir_engine::schema::Type;
use weir_engine::time::{in_timestamp_range, out_of_range_reason, parse_timestamp};
use weir_engine::value::Value;

/// Parses `text` as a value of type `ty`; the error says what was expected.
///
/// Booleans are `true`/`false` (any case); timestamps are RFC 3339, a date and time
/// without a zone taken as UTC (`2014-04-01 00:00:00`, as in the NAB corpus), or integer
/// epoch milliseconds; durations carry a unit (`250ms`, `10s`, `1m30s`) or are integer
/// milliseconds. Text is taken as is for strings.
pub fn parse_scalar(ty: Type, text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    match ty {
        Type::String => Ok(Value::Str(Arc::from(text))),
        Type::Bool => {
            if trimmed.eq_ignore_ascii_case("true") {
                Ok(Value::Bool(true))
            } else if trimmed.eq_ignore_ascii_case("false") {
                Ok(Value::Bool(false))
            } else {
                Err(format!("expected bool (true or false), found {text:?}"))
            }
        }
        Type::Int => trimmed
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("expected i64, found {text:?}")),
        Type::Float => match trimmed.parse::<f64>() {
            // `NaN`, `inf` and `1e400` parse, but JSON cannot carry them and aggregates
            // would turn to NaN: refused, as the JSON reader refuses them.
            Ok(x) if x.is_finite() => Ok(Value::Float(x)),
            Ok(_) => Err(format!(
                "expected a finite f64, found {text:?} (NaN and infinite values are refused)"
            )),
            Err(_) => Err(format!("expected f64, found {text:?}")),
        },
        Type::Timestamp => match parse_timestamp_text(trimmed) {
            Some(ms) if in_timestamp_range(ms) => Ok(Value::Time(ms)),
            Some(ms) => Err(out_of_range_reason(ms)),
            None => Err(timestamp_expected(text)),
        },
        Type::Duration => parse_duration_text(trimmed)
            .map(Value::Duration)
            .ok_or_else(|| format!("expected duration such as \"10s\", found {text:?}")),
        // No source declares a list field (lists are made by `collect`).
        Type::List(_) => Err(format!("a list cannot be read from text, found {text:?}")),
    }
}

fn timestamp_expected(text: &str) -> String {
    format!(
        "expected timestamp (RFC 3339 such as \"2024-05-01T10:00:00Z\", \
         \"2024-05-01 10:00:00\" taken as UTC, or epoch milliseconds), found {text:?}"
    )
}

/// A timestamp as RFC 3339 text, a zone-less date and time (UTC), or integer epoch
/// milliseconds.
fn parse_timestamp_text(text: &str) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    parse_timestamp(text).or_else(|| {
        // Recordings such as NAB's write local-less times: `2014-04-01 00:00:00`.
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| t.and_utc().timestamp_millis())
    })
}

/// A duration with units, or integer milliseconds.
fn parse_duration_text(text: &str) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    parse_duration(text)
}

/// Parses a duration with units (`250ms`, `10s`, `5m`, `1h`, `1d`, or a sum such as
/// `1m30s`) into milliseconds. A leading `-` negates it.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(number.checked_mul(unit)?)?;
    }
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("10s"), Some(10_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("1d"), Some(86_400_000));
        assert_eq!(parse_duration("-5s"), Some(-5_000));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("10x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("s"), None);
    }

    #[test]
    fn scalars_parse_by_type() {
        assert_eq!(parse_scalar(Type::Bool, "TRUE"), Ok(Value::Bool(true)));
        assert_eq!(parse_scalar(Type::Int, " 42 "), Ok(Value::Int(42)));
        assert!(parse_scalar(Type::Int, "4.2").is_err());
        assert_eq!(parse_scalar(Type::Float, "4"), Ok(Value::Float(4.0)));
        assert_eq!(
            parse_scalar(Type::Timestamp, "2024-05-01T10:00:05Z"),
            Ok(Value::Time(1_714_557_605_000))
        );
        assert_eq!(parse_scalar(Type::Timestamp, "17"), Ok(Value::Time(17)));
        // Zone-less (NAB) timestamps are UTC, with optional fractions.
        assert_eq!(
            parse_scalar(Type::Timestamp, "2024-05-01 10:00:05"),
            Ok(Value::Time(1_714_557_605_000))
        );
        assert_eq!(
            parse_scalar(Type::Timestamp, "2024-05-01T10:00:05.250"),
            Ok(Value::Time(1_714_557_605_250))
        );
        assert!(parse_scalar(Type::Timestamp, "2024-05-01 25:00:00").is_err());
        assert!(parse_scalar(Type::Timestamp, "noon").is_err());
        // Outside the years 0000-9999 (year 10000 in epoch ms, i64::MAX) is refused.
        for t in ["253402300800000", "9223372036854775807", "-62167219200001"] {
            let e = parse_scalar(Type::Timestamp, t).expect_err(t);
            assert!(e.contains("outside the RFC 3339 range"), "{e}");
        }
        assert_eq!(
            parse_scalar(Type::Timestamp, "253402300799999"),
            Ok(Value::Time(253_402_300_799_999))
        );
        // NaN, infinities and overflowing literals are not numbers a record can carry.
        for x in ["NaN", "nan", "inf", "-inf", "infinity", "1e400", "-1e400"] {
            let e = parse_scalar(Type::Float, x).expect_err(x);
            assert!(e.contains("finite"), "{e}");
        }
        assert_eq!(parse_scalar(Type::Float, "1e300"), Ok(Value::Float(1e300)));
        assert_eq!(
            parse_scalar(Type::Duration, "10s"),
            Ok(Value::Duration(10_000))
        );
        assert_eq!(parse_scalar(Type::String, " a "), Ok(Value::str(" a ")));
    }
}
