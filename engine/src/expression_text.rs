//! Text functions with a pattern or separator: `regex_match`, `regex_extract`, `split`.
//!
//! Patterns are constants checked by `weir check` and compiled once per expression; the
//! regex crate matches in linear time, so no input can make a pattern blow up.

use std::sync::Arc;

use regex::Regex;

use crate::value::Value;

/// Compiles a pattern; the error is the regex crate's explanation.
pub fn pattern(text: &str) -> Result<Regex, String> {
    Regex::new(text).map_err(|e| e.to_string())
}

/// Number of capture groups of a valid pattern (group 0, the whole match, not counted).
pub fn group_count(text: &str) -> Option<usize> {
    Regex::new(text).ok().map(|r| r.captures_len() - 1)
}

/// `regex_match(s, pattern)`.
pub fn is_match(re: &Regex, v: &Value) -> Value {
    match v {
        Value::Str(s) => Value::Bool(re.is_match(s)),
        _ => Value::Null,
    }
}

/// `regex_extract(s, pattern[, group])`: the group of the first match (0: all of it);
/// null when nothing matches or the group did not take part.
pub fn extract(re: &Regex, v: &Value, group: usize) -> Value {
    let Value::Str(s) = v else {
        return Value::Null;
    };
    re.captures(s)
        .and_then(|c| c.get(group))
        .map_or(Value::Null, |m| Value::Str(Arc::from(m.as_str())))
}

/// `split(s, sep, i)`: the `i`-th part (from 0; negative counts from the end).
pub fn split_part(s: &Value, sep: &Value, index: &Value) -> Value {
    let (Value::Str(s), Value::Str(sep), Value::Int(i)) = (s, sep, index) else {
        return Value::Null;
    };
    if sep.is_empty() {
        return Value::Null;
    }
    let part = if *i >= 0 {
        s.split(&**sep).nth(*i as usize)
    } else {
        s.rsplit(&**sep).nth(i.unsigned_abs() as usize - 1)
    };
    part.map_or(Value::Null, |p| Value::Str(Arc::from(p)))
}

/// `substr(s, start[, len])`: `len` characters (default: the rest) from character
/// `start` (from 0; negative counts from the end). A start past either end, or a negative
/// length, gives the empty string; a null argument gives null.
pub fn substring(s: &Value, start: &Value, len: Option<&Value>) -> Value {
    let (Value::Str(s), Value::Int(start)) = (s, start) else {
        return Value::Null;
    };
    let chars = s.chars().count() as i64;
    let from = if *start < 0 {
        (chars + start).max(0)
    } else {
        (*start).min(chars)
    };
    let take = match len {
        None => chars - from,
        Some(Value::Int(n)) => (*n).clamp(0, chars - from),
        Some(_) => return Value::Null,
    };
    let text: String = s.chars().skip(from as usize).take(take as usize).collect();
    Value::Str(Arc::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrings_count_characters_from_either_end() {
        let s = Value::str("héllo-42");
        let sub =
            |a: i64, n: Option<i64>| substring(&s, &Value::Int(a), n.map(Value::Int).as_ref());
        assert_eq!(sub(0, Some(5)), Value::str("héllo"));
        assert_eq!(sub(6, None), Value::str("42"));
        assert_eq!(sub(-2, None), Value::str("42"));
        assert_eq!(sub(-20, Some(1)), Value::str("h"));
        assert_eq!(sub(20, Some(3)), Value::str(""));
        assert_eq!(sub(1, Some(-1)), Value::str(""));
        assert_eq!(substring(&Value::Null, &Value::Int(0), None), Value::Null);
    }

    #[test]
    fn match_extract_and_split() {
        let re = pattern(r"^dev-(\d+)").expect("valid");
        assert_eq!(is_match(&re, &Value::str("dev-17x")), Value::Bool(true));
        assert_eq!(is_match(&re, &Value::str("x-17")), Value::Bool(false));
        assert_eq!(is_match(&re, &Value::Null), Value::Null);
        assert_eq!(extract(&re, &Value::str("dev-17x"), 1), Value::str("17"));
        assert_eq!(
            extract(&re, &Value::str("dev-17x"), 0),
            Value::str("dev-17")
        );
        assert_eq!(extract(&re, &Value::str("nope"), 1), Value::Null);
        assert!(pattern("(unclosed").is_err());
        assert_eq!(group_count(r"(a)(b)?"), Some(2));
        let (s, sep) = (Value::str("a/b/c"), Value::str("/"));
        assert_eq!(split_part(&s, &sep, &Value::Int(1)), Value::str("b"));
        assert_eq!(split_part(&s, &sep, &Value::Int(-1)), Value::str("c"));
        assert_eq!(split_part(&s, &sep, &Value::Int(3)), Value::Null);
    }
}
