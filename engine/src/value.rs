//! Values and records: the data that flows between operators.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One field value. Timestamps are epoch milliseconds (UTC); durations are milliseconds.
///
/// Serialised by [`crate::wire`]: named variants in text formats (plans as JSON), a
/// one-byte tag and the payload in binary formats (records crossing processes).
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Absent value of a nullable field.
    #[default]
    Null,
    /// `bool`
    Bool(bool),
    /// `i64`
    Int(i64),
    /// `f64`
    Float(f64),
    /// `string`; shared so that copying a record does not copy its text.
    Str(Arc<str>),
    /// `timestamp`, epoch milliseconds.
    Time(i64),
    /// `duration`, milliseconds.
    Duration(i64),
    /// `list<T>`, made by `collect(x)`; shared so that copying a record does not copy it.
    List(Arc<[Value]>),
}

impl Value {
    /// Builds a string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as `f64`, for numeric values.
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Time(t) | Value::Duration(t) => Some(*t as f64),
            _ => None,
        }
    }

    /// The value as `i64`, for integral values (timestamps and durations in ms).
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Time(i) | Value::Duration(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as `bool`.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as text, for strings.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A total order used by `min`/`max` and for sorting output: nulls first, then by
    /// variant, numbers compared numerically (floats by IEEE total order).
    pub fn total_cmp(&self, other: &Value) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => (*a as f64).total_cmp(b),
            (Float(a), Int(b)) => a.total_cmp(&(*b as f64)),
            (Str(a), Str(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Duration(a), Duration(b)) => a.cmp(b),
            (List(a), List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let o = x.total_cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Str(_) => 3,
            Value::Time(_) => 4,
            Value::Duration(_) => 5,
            Value::List(_) => 6,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            // Bitwise equality keeps `Eq` and `Hash` consistent (NaN equals itself as a key).
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Str(a), Str(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            (Duration(a), Duration(b)) => a == b,
            (List(a), List(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => state.write_u8(0),
            Value::Bool(b) => state.write_u8(if *b { 2 } else { 1 }),
            Value::Int(i) => state.write_i64(*i),
            Value::Float(f) => state.write_u64(f.to_bits()),
            Value::Str(s) => state.write(s.as_bytes()),
            Value::Time(t) => state.write_i64(*t),
            Value::Duration(d) => state.write_i64(*d),
            Value::List(items) => {
                state.write_usize(items.len());
                items.iter().for_each(|v| v.hash(state));
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Time(t) => f.write_str(&crate::time::format_timestamp(*t)),
            Value::Duration(d) => f.write_str(&crate::time::format_duration(*d)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A record: one value per field of its stream's [`Schema`](crate::schema::Schema), by slot.
pub type Record = Vec<Value>;
