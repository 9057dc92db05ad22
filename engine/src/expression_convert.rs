//! Conversions between value types: `int(x)`, `float(x)`, `string(x)`, `timestamp(x[, fmt])`.
//!
//! A conversion that cannot be made (text that is not a number, a float that is not
//! finite or out of `i64` range) gives null rather than failing the record.

use std::sync::Arc;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::time::parse_timestamp;
use crate::value::Value;

/// `int(x)`: floats truncate toward zero; text is parsed (surrounding spaces allowed);
/// `true`/`false` are 1/0; timestamps and durations give milliseconds.
pub fn to_int(v: Value) -> Value {
    match v {
        Value::Int(i) | Value::Time(i) | Value::Duration(i) => Value::Int(i),
        Value::Float(f) => float_to_int(f),
        Value::Bool(b) => Value::Int(i64::from(b)),
        Value::Str(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .map(Value::Int)
                .or_else(|_| t.parse::<f64>().map(float_to_int))
                .unwrap_or(Value::Null)
        }
        Value::Null | Value::List(_) => Value::Null,
    }
}

fn float_to_int(f: f64) -> Value {
    // `i64::MAX as f64` rounds up to 2^63, so the upper bound is exclusive.
    if f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64 {
        Value::Int(f.trunc() as i64)
    } else {
        Value::Null
    }
}

/// `float(x)`: numbers, text, bools (1.0/0.0), timestamps and durations (milliseconds).
/// Text that parses to a non-finite number (`"inf"`, `"NaN"`) gives null.
pub fn to_float(v: Value) -> Value {
    match v {
        Value::Int(i) | Value::Time(i) | Value::Duration(i) => Value::Float(i as f64),
        Value::Float(f) => Value::Float(f),
        Value::Bool(b) => Value::Float(if b { 1.0 } else { 0.0 }),
        Value::Str(s) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => Value::Null,
        },
        Value::Null | Value::List(_) => Value::Null,
    }
}

/// `string(x)`: the value as written in output (`to_string`).
pub fn to_text(v: Value) -> Value {
    match v {
        Value::Null => Value::Null,
        s @ Value::Str(_) => s,
        v => Value::Str(Arc::from(v.to_string())),
    }
}

/// `timestamp(x)`: RFC 3339 text (or `YYYY-MM-DD HH:MM:SS` as UTC), epoch milliseconds.
pub fn to_timestamp(v: Value) -> Value {
    match v {
        Value::Time(t) => Value::Time(t),
        Value::Int(ms) => Value::Time(ms),
        Value::Str(s) => parse_timestamp(&s).map_or(Value::Null, Value::Time),
        _ => Value::Null,
    }
}

/// A strftime format checked once: whether it carries a zone and a time of day.
#[derive(Clone, Debug)]
pub struct TimeFormat {
    format: String,
    zoned: bool,
    has_time: bool,
}

impl TimeFormat {
    /// Checks a format (`%d/%m/%Y %H:%M`); the error says what is wrong with it.
    pub fn new(format: &str) -> Result<TimeFormat, String> {
        let mut has_date = false;
        let (mut has_time, mut zoned) = (false, false);
        for item in StrftimeItems::new(format) {
            match item {
                Item::Error => return Err(format!("`{format}` is not a valid time format")),
                Item::Numeric(n, _) => {
                    use chrono::format::Numeric::*;
                    match n {
                        Year | Month | Day | Ordinal | IsoYear | IsoWeek | WeekFromMon
                        | WeekFromSun | YearDiv100 | YearMod100 => has_date = true,
                        Hour | Hour12 | Minute | Second | Nanosecond => has_time = true,
                        Timestamp => return Ok(TimeFormat::epoch(format)),
                        _ => {}
                    }
                }
                Item::Fixed(f) => {
                    use chrono::format::Fixed::*;
                    match f {
                        TimezoneOffset
                        | TimezoneOffsetColon
                        | TimezoneOffsetZ
                        | TimezoneOffsetColonZ
                        | TimezoneOffsetDoubleColon
                        | TimezoneOffsetTripleColon => zoned = true,
                        RFC2822 | RFC3339 => return Ok(TimeFormat::epoch(format)),
                        ShortMonthName | LongMonthName => has_date = true,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if !has_date {
            return Err(format!(
                "`{format}` has no date (add `%Y-%m-%d` or similar)"
            ));
        }
        Ok(TimeFormat {
            format: format.to_string(),
            zoned,
            has_time,
        })
    }

    /// Formats that fix the whole instant (`%s`, `%+`) parse as zoned.
    fn epoch(format: &str) -> TimeFormat {
        TimeFormat {
            format: format.to_string(),
            zoned: true,
            has_time: true,
        }
    }

    /// Parses `text`; zone-less formats are UTC, date-only formats midnight.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        if self.zoned {
            return DateTime::parse_from_str(text, &self.format)
                .ok()
                .map(|t| t.timestamp_millis());
        }
        if self.has_time {
            return NaiveDateTime::parse_from_str(text, &self.format)
                .ok()
                .map(|t| t.and_utc().timestamp_millis());
        }
        NaiveDate::parse_from_str(text, &self.format)
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_convert_or_give_null() {
        assert_eq!(to_int(Value::Float(-2.9)), Value::Int(-2));
        assert_eq!(to_int(Value::str(" 42 ")), Value::Int(42));
        assert_eq!(to_int(Value::str("4.5")), Value::Int(4));
        assert_eq!(to_int(Value::str("lots")), Value::Null);
        assert_eq!(to_int(Value::Float(f64::NAN)), Value::Null);
        assert_eq!(to_int(Value::Float(1e19)), Value::Null);
        assert_eq!(to_int(Value::Bool(true)), Value::Int(1));
        assert_eq!(to_float(Value::str("2.5")), Value::Float(2.5));
        assert_eq!(to_float(Value::str("inf")), Value::Null);
        assert_eq!(to_text(Value::Int(7)), Value::str("7"));
        assert_eq!(
            to_timestamp(Value::str("2024-05-01T10:00:05Z")),
            Value::Time(1_714_557_605_000)
        );
    }

    #[test]
    fn time_formats_are_checked_once_and_parse_utc() {
        let f = TimeFormat::new("%d/%m/%Y %H:%M").expect("valid");
        assert_eq!(f.parse("01/05/2024 10:00"), Some(1_714_557_600_000));
        assert_eq!(f.parse("32/05/2024 10:00"), None);
        let day = TimeFormat::new("%Y%m%d").expect("valid");
        assert_eq!(day.parse("20240501"), Some(1_714_521_600_000));
        let zoned = TimeFormat::new("%Y-%m-%d %H:%M %z").expect("valid");
        assert_eq!(
            zoned.parse("2024-05-01 12:00 +0200"),
            Some(1_714_557_600_000)
        );
        assert!(TimeFormat::new("%Q").is_err());
        assert!(TimeFormat::new("%H:%M").is_err(), "no date");
    }
}
