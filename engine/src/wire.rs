//! How a [`Value`] is serialised: readable in text formats, compact in binary ones.
//!
//! Records cross processes in timely's exchange channels, which encode `Vec<Event>` with
//! bincode (fixed-width integers). serde's derived enum encoding spends a 4-byte variant
//! index on every value; here a binary format gets a 1-byte tag followed by the payload
//! (nothing for `Null`, 1 byte for `Bool`, 8 for numbers, length + bytes for strings).
//! Human-readable formats (the plan as JSON) keep the derived, named-variant form.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::Value;

/// The readable form, borrowed for serialising.
#[derive(Serialize)]
#[serde(rename = "Value")]
enum Named<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Time(i64),
    Duration(i64),
    List(&'a [Value]),
}

/// The readable form, owned for deserialising.
#[derive(Deserialize)]
#[serde(rename = "Value")]
enum NamedOwned {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Time(i64),
    Duration(i64),
    List(Vec<Value>),
}

const NULL: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const STR: u8 = 4;
const TIME: u8 = 5;
const DURATION: u8 = 6;
const LIST: u8 = 7;

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let named = match self {
                Value::Null => Named::Null,
                Value::Bool(b) => Named::Bool(*b),
                Value::Int(i) => Named::Int(*i),
                Value::Float(f) => Named::Float(*f),
                Value::Str(s) => Named::Str(s),
                Value::Time(t) => Named::Time(*t),
                Value::Duration(d) => Named::Duration(*d),
                Value::List(items) => Named::List(items),
            };
            return named.serialize(serializer);
        }
        // A 2-tuple (tag, payload): binary formats write no length for tuples.
        let mut t = serializer.serialize_tuple(2)?;
        match self {
            Value::Null => {
                t.serialize_element(&NULL)?;
                t.serialize_element(&())?;
            }
            Value::Bool(b) => {
                t.serialize_element(&BOOL)?;
                t.serialize_element(b)?;
            }
            Value::Int(i) => {
                t.serialize_element(&INT)?;
                t.serialize_element(i)?;
            }
            Value::Float(f) => {
                t.serialize_element(&FLOAT)?;
                t.serialize_element(f)?;
            }
            Value::Str(s) => {
                t.serialize_element(&STR)?;
                t.serialize_element(&**s)?;
            }
            Value::Time(x) => {
                t.serialize_element(&TIME)?;
                t.serialize_element(x)?;
            }
            Value::Duration(x) => {
                t.serialize_element(&DURATION)?;
                t.serialize_element(x)?;
            }
            Value::List(items) => {
                t.serialize_element(&LIST)?;
                t.serialize_element(&**items)?;
            }
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        if deserializer.is_human_readable() {
            return Ok(match NamedOwned::deserialize(deserializer)? {
                NamedOwned::Null => Value::Null,
                NamedOwned::Bool(b) => Value::Bool(b),
                NamedOwned::Int(i) => Value::Int(i),
                NamedOwned::Float(f) => Value::Float(f),
                NamedOwned::Str(s) => Value::Str(s),
                NamedOwned::Time(t) => Value::Time(t),
                NamedOwned::Duration(d) => Value::Duration(d),
                NamedOwned::List(items) => Value::List(items.into()),
            });
        }
        deserializer.deserialize_tuple(2, TaggedVisitor)
    }
}

struct TaggedVisitor;

impl<'de> Visitor<'de> for TaggedVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tagged Weir value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let missing = || de::Error::custom("truncated value");
        let tag: u8 = seq.next_element()?.ok_or_else(missing)?;
        Ok(match tag {
            NULL => {
                seq.next_element::<()>()?.ok_or_else(missing)?;
                Value::Null
            }
            BOOL => Value::Bool(seq.next_element()?.ok_or_else(missing)?),
            INT => Value::Int(seq.next_element()?.ok_or_else(missing)?),
            FLOAT => Value::Float(seq.next_element()?.ok_or_else(missing)?),
            STR => Value::Str(seq.next_element::<SharedStr>()?.ok_or_else(missing)?.0),
            TIME => Value::Time(seq.next_element()?.ok_or_else(missing)?),
            DURATION => Value::Duration(seq.next_element()?.ok_or_else(missing)?),
            LIST => Value::List(
                seq.next_element::<Vec<Value>>()?
                    .ok_or_else(missing)?
                    .into(),
            ),
            other => {
                return Err(de::Error::custom(format!("unknown value tag {other}")));
            }
        })
    }
}

/// Text read straight into an `Arc<str>`: one allocation, where serde's own impl goes
/// through a `String` and a `Box<str>` first.
struct SharedStr(Arc<str>);

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SharedStr, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SharedStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SharedStr, E> {
                Ok(SharedStr(Arc::from(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn every_kind() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(-42),
            Value::Float(f64::NAN),
            Value::Float(21.5),
            Value::str("dev-0042"),
            Value::str(""),
            Value::Time(1_700_000_000_000),
            Value::Duration(60_000),
            Value::List(vec![Value::Int(3), Value::Int(1)].into()),
            Value::List(Vec::new().into()),
        ]
    }

    #[test]
    fn binary_round_trip_keeps_every_value() {
        let events = vec![Event::new(7, every_kind()), Event::new(-1, vec![])];
        let bytes = bincode::serialize(&events).unwrap();
        let back: Vec<Event> = bincode::deserialize(&bytes).unwrap();
        assert_eq!(back, events);
    }

    #[test]
    fn json_keeps_the_named_form() {
        // JSON has no NaN; the plan never holds one.
        let values: Vec<Value> = every_kind()
            .into_iter()
            .filter(|v| !v.as_f64().is_some_and(f64::is_nan))
            .collect();
        let json = serde_json::to_string(&values).unwrap();
        assert!(
            json.starts_with(r#"["Null",{"Bool":true},{"Int":-42}"#),
            "{json}"
        );
        let back: Vec<Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn binary_form_spends_one_byte_per_tag() {
        // What timely writes for a sensor reading {device_id, temp, ts} crossing processes.
        let event = Event::new(
            1_700_000_000_000,
            vec![
                Value::str("dev-0042"),
                Value::Float(21.5),
                Value::Time(1_700_000_000_000),
            ],
        );
        let size = bincode::serialized_size(&event).unwrap();
        // time 8 + record length 8 + (1 + 8 + 8 text) + (1 + 8) + (1 + 8).
        assert_eq!(size, 8 + 8 + 17 + 9 + 9);
        assert_eq!(bincode::serialized_size(&Value::Null).unwrap(), 1);
        assert_eq!(bincode::serialized_size(&Value::Bool(false)).unwrap(), 2);
    }
}
