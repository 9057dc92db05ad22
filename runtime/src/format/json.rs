//! JSON lines: decoding one object per line straight into schema slots, and encoding
//! records as objects with dotted field names nested.
//!
//! Decoding uses a serde [`DeserializeSeed`] driven by the schema's layout, so no
//! intermediate `serde_json::Value` is built: each key is looked up by name and its value
//! checked against the field's type as it is parsed. Unknown keys are skipped.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::time::{
    format_duration, format_timestamp, in_timestamp_range, out_of_range_reason, parse_timestamp,
};
use weir_engine::value::{Record, Value};

use super::layout::{FieldTree, Node};
use super::text::parse_duration;
use super::DecodeError;

/// Decodes JSON lines into records of one schema.
///
/// Typing rules: `i64` takes integers only; `f64` takes any number; `timestamp` takes an
/// RFC 3339 string or integer epoch milliseconds; `duration` takes a string with a unit
/// (`"10s"`) or integer milliseconds; nullable fields take `null` or absence. Dotted
/// fields are read from nested objects (`{"window": {"start": …}}`) or from flat dotted
/// keys (`{"window.start": …}`).
#[derive(Clone, Debug)]
pub struct JsonDecoder {
    schema: Schema,
    tree: FieldTree,
    /// Slots whose values are checked but not built (nothing downstream reads them).
    skipped: Vec<usize>,
    /// Per slot: whether its value is built.
    built: Vec<bool>,
}

/// What a skipped field holds while a line is decoded: present, not null, never read.
const PRESENT: Value = Value::Bool(true);

impl JsonDecoder {
    /// A decoder for records of `schema`.
    pub fn new(schema: &Schema) -> JsonDecoder {
        JsonDecoder {
            schema: schema.clone(),
            tree: FieldTree::new(schema),
            skipped: Vec::new(),
            built: vec![true; schema.len()],
        }
    }

    /// A decoder that builds only the fields marked in `read` (by slot) and leaves the
    /// others null; it still checks every field's type and presence, so it rejects
    /// exactly the lines [`JsonDecoder::new`]'s decoder rejects.
    pub fn reading(schema: &Schema, read: &[bool]) -> JsonDecoder {
        let built: Vec<bool> = (0..schema.len())
            .map(|slot| read.get(slot).copied().unwrap_or(true))
            .collect();
        JsonDecoder {
            skipped: (0..schema.len()).filter(|&s| !built[s]).collect(),
            built,
            ..JsonDecoder::new(schema)
        }
    }

    /// The schema records are decoded into.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Decodes one line (a JSON object) into a record.
    pub fn decode(&self, line: &str) -> Result<Record, DecodeError> {
        let mut record: Record = vec![Value::Null; self.schema.len()];
        let mut problem = None;
        let mut de = serde_json::Deserializer::from_str(line);
        let seed = ObjectSeed {
            schema: &self.schema,
            tree: &self.tree,
            built: &self.built,
            group: None,
            record: &mut record,
            problem: &mut problem,
        };
        let parsed = seed.deserialize(&mut de).and_then(|()| de.end());
        if let Err(e) = parsed {
            return Err(problem.unwrap_or_else(|| DecodeError::record(invalid_json(&e))));
        }
        for (field, value) in self.schema.fields.iter().zip(&record) {
            if value.is_null() && !field.nullable {
                return Err(DecodeError::field(
                    &field.name,
                    format!("missing field `{}`", field.name),
                ));
            }
        }
        for &slot in &self.skipped {
            record[slot] = Value::Null;
        }
        Ok(record)
    }
}

/// A serde_json error in user words, without its (always line 1) line number.
fn invalid_json(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(pos) => &text[..pos],
        None => &text,
    };
    format!("invalid JSON: {text} (column {})", e.column())
}

/// Reads a JSON object into the slots of one level of the layout.
struct ObjectSeed<'a> {
    schema: &'a Schema,
    tree: &'a FieldTree,
    built: &'a [bool],
    /// The dotted name of this group; `None` at the top level.
    group: Option<&'a str>,
    record: &'a mut Record,
    problem: &'a mut Option<DecodeError>,
}

impl ObjectSeed<'_> {
    fn reject<E: de::Error>(self, found: &str) -> E {
        let error = match self.group {
            Some(group) => DecodeError::field(group, format!("expected an object, found {found}")),
            None => DecodeError::record(format!("expected a JSON object, found {found}")),
        };
        let message = error.reason.clone();
        *self.problem = Some(error);
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ObjectSeed {
            schema,
            tree,
            built,
            group,
            record,
            problem,
        } = self;
        let top = group.is_none();
        while let Some(target) = map.next_key_seed(KeySeed { schema, tree, top })? {
            match target {
                Target::Leaf(slot) => map.next_value_seed(ValueSeed {
                    field: &schema.fields[slot],
                    build: built[slot],
                    slot: &mut record[slot],
                    problem: &mut *problem,
                })?,
                Target::Group(children, name) => map.next_value_seed(ObjectSeed {
                    schema,
                    tree: children,
                    built,
                    group: Some(name),
                    record: &mut *record,
                    problem: &mut *problem,
                })?,
                Target::Ignore => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.reject("an array"))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.reject(&v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.reject(&v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.reject(&v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.reject(&v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.reject(&format!("{v:?}")))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.reject("null"))
    }
}

/// Where a key's value goes.
enum Target<'a> {
    Leaf(usize),
    /// A nested group and the dotted name of the group (for error messages).
    Group(&'a FieldTree, &'a str),
    Ignore,
}

/// Looks a key up in one level of the layout (and, at the top, among flat dotted names).
struct KeySeed<'a> {
    schema: &'a Schema,
    tree: &'a FieldTree,
    top: bool,
}

impl<'de, 'a> DeserializeSeed<'de> for KeySeed<'a> {
    type Value = Target<'a>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Target<'a>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'a> Visitor<'de> for KeySeed<'a> {
    type Value = Target<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Target<'a>, E> {
        match self.tree.find(key) {
            Some(Node::Leaf { slot, .. }) => Ok(Target::Leaf(*slot)),
            Some(Node::Group { children, path, .. }) => Ok(Target::Group(children, path)),
            None if self.top => Ok(self.schema.slot(key).map_or(Target::Ignore, Target::Leaf)),
            None => Ok(Target::Ignore),
        }
    }
}

/// Reads one field's value, checking it against the field's type.
struct ValueSeed<'a> {
    field: &'a Field,
    /// False: check the value, mark the slot present, build nothing.
    build: bool,
    slot: &'a mut Value,
    problem: &'a mut Option<DecodeError>,
}

impl ValueSeed<'_> {
    fn set<E>(self, value: Value) -> Result<(), E> {
        *self.slot = if self.build || value.is_null() {
            value
        } else {
            PRESENT
        };
        Ok(())
    }

    fn reject<E: de::Error>(self, reason: String) -> Result<(), E> {
        let error = E::custom(&reason);
        *self.problem = Some(DecodeError::field(&self.field.name, reason));
        Err(error)
    }

    fn mismatch<E: de::Error>(self, found: &str) -> Result<(), E> {
        let expected = match self.field.ty {
            Type::Timestamp => {
                "timestamp (an RFC 3339 string or integer epoch milliseconds)".to_string()
            }
            Type::Duration => {
                "duration (a string such as \"10s\" or integer milliseconds)".to_string()
            }
            ty => ty.name().to_string(),
        };
        self.reject(format!("expected {expected}, found {found}"))
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a value of type {}", self.field.ty)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.field.nullable {
            self.set(Value::Null)
        } else {
            let reason = format!(
                "null for non-nullable field `{}` (declare it `{}?` to allow null)",
                self.field.name, self.field.ty
            );
            self.reject(reason)
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        match self.field.ty {
            Type::Bool => self.set(Value::Bool(v)),
            _ => self.mismatch(&v.to_string()),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        match self.field.ty {
            Type::Int => self.set(Value::Int(v)),
            Type::Float => self.set(Value::Float(v as f64)),
            Type::Timestamp if in_timestamp_range(v) => self.set(Value::Time(v)),
            Type::Timestamp => self.reject(out_of_range_reason(v)),
            Type::Duration => self.set(Value::Duration(v)),
            _ => self.mismatch(&v.to_string()),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => self.visit_i64(i),
            Err(_) if self.field.ty == Type::Float => self.set(Value::Float(v as f64)),
            Err(_) if self.field.ty == Type::String || self.field.ty == Type::Bool => {
                self.mismatch(&v.to_string())
            }
            Err(_) => {
                let reason = format!("{v} is out of range for {}", self.field.ty);
                self.reject(reason)
            }
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match self.field.ty {
            Type::Float => self.set(Value::Float(v)),
            Type::Int => self.reject(format!("expected an integer (i64), found {v}")),
            _ => self.mismatch(&v.to_string()),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        match self.field.ty {
            Type::String if !self.build => self.set(PRESENT),
            Type::String => self.set(Value::Str(Arc::from(v))),
            Type::Timestamp => match parse_timestamp(v) {
                Some(ms) if in_timestamp_range(ms) => self.set(Value::Time(ms)),
                Some(ms) => self.reject(out_of_range_reason(ms)),
                None => self.reject(format!(
                    "expected an RFC 3339 timestamp such as \"2024-05-01T10:00:00Z\", found {v:?}"
                )),
            },
            Type::Duration => match parse_duration(v) {
                Some(ms) => self.set(Value::Duration(ms)),
                None => self.reject(format!("expected a duration such as \"10s\", found {v:?}")),
            },
            _ => self.mismatch(&format!("{v:?}")),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.mismatch("an object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.mismatch("an array")
    }
}

/// Encodes records of one schema as JSON lines.
///
/// Fields are written in schema order with dotted names nested (`window.start` and
/// `window.end` become `"window": {"start": …, "end": …}`); timestamps as RFC 3339 with
/// milliseconds in UTC, durations as text (`"10s"`), non-finite floats as `null`.
#[derive(Clone, Debug)]
pub struct JsonEncoder {
    tree: FieldTree,
    /// `"key":` for every node, in the tree's depth-first order.
    keys: Vec<Vec<u8>>,
}

impl JsonEncoder {
    /// An encoder for records of `schema`; the nesting layout is computed here, once.
    pub fn new(schema: &Schema) -> JsonEncoder {
        let tree = FieldTree::new(schema);
        let mut keys = Vec::new();
        collect_keys(&tree, &mut keys);
        JsonEncoder { tree, keys }
    }

    /// Writes `record` as one JSON object followed by a newline.
    pub fn encode<W: Write>(&self, record: &Record, out: &mut W) -> io::Result<()> {
        let mut key = 0;
        self.write_object(&self.tree, record, out, &mut key)?;
        out.write_all(b"\n")
    }

    fn write_object<W: Write>(
        &self,
        tree: &FieldTree,
        record: &Record,
        out: &mut W,
        key: &mut usize,
    ) -> io::Result<()> {
        out.write_all(b"{")?;
        for (i, node) in tree.nodes.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(&self.keys[*key])?;
            *key += 1;
            match node {
                Node::Leaf { slot, .. } => {
                    write_value(record.get(*slot).unwrap_or(&Value::Null), out)?
                }
                Node::Group { children, .. } => self.write_object(children, record, out, key)?,
            }
        }
        out.write_all(b"}")
    }
}

fn collect_keys(tree: &FieldTree, keys: &mut Vec<Vec<u8>>) {
    for node in &tree.nodes {
        let mut key = serde_json::to_vec(node.key()).expect("invariant: a str always encodes");
        key.push(b':');
        keys.push(key);
        if let Node::Group { children, .. } = node {
            collect_keys(children, keys);
        }
    }
}

/// Writes one value as JSON.
pub fn write_value<W: Write>(value: &Value, out: &mut W) -> io::Result<()> {
    match value {
        Value::Null => out.write_all(b"null"),
        Value::Bool(true) => out.write_all(b"true"),
        Value::Bool(false) => out.write_all(b"false"),
        Value::Int(i) => serde_json::to_writer(out, i).map_err(io::Error::from),
        // serde_json writes non-finite floats as null.
        Value::Float(f) => serde_json::to_writer(out, f).map_err(io::Error::from),
        Value::Str(s) => serde_json::to_writer(out, &**s).map_err(io::Error::from),
        Value::Time(t) => write!(out, "\"{}\"", format_timestamp(*t)),
        Value::Duration(d) => write!(out, "\"{}\"", format_duration(*d)),
        Value::List(items) => {
            out.write_all(b"[")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_value(v, out)?;
            }
            out.write_all(b"]")
        }
    }
}

#[cfg(test)]
mod tests {
    use weir_engine::schema::Field;

    use super::*;

    fn readings() -> Schema {
        Schema::new(vec![
            Field::new("device_id", Type::String),
            Field::new("temp", Type::Float),
            Field::new("count", Type::Int),
            Field::new("ts", Type::Timestamp),
            Field::nullable("note", Type::String),
        ])
    }

    #[test]
    fn a_projected_decoder_skips_unread_fields_but_rejects_the_same_lines() {
        let full = JsonDecoder::new(&readings());
        // Reads temp and ts only.
        let projected = JsonDecoder::reading(&readings(), &[false, true, false, true, false]);
        let good = r#"{"ts":1714557605000,"temp":70,"device_id":"a","count":3,"note":"n"}"#;
        assert_eq!(
            projected.decode(good).expect("good line"),
            vec![
                Value::Null,
                Value::Float(70.0),
                Value::Null,
                Value::Time(1_714_557_605_000),
                Value::Null,
            ]
        );
        for bad in [
            r#"{"ts":1714557605000,"temp":70,"count":3}"#,
            r#"{"ts":1714557605000,"temp":70,"device_id":7,"count":3}"#,
            r#"{"ts":1714557605000,"temp":70,"device_id":"a","count":null}"#,
            r#"{"ts":1714557605000,"temp":70,"device_id":"a","count":1.5}"#,
        ] {
            let (a, b) = (full.decode(bad), projected.decode(bad));
            assert!(a.is_err(), "{bad}");
            assert_eq!(
                a.map_err(|e| e.to_string()),
                b.map_err(|e| e.to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn lists_are_json_arrays() {
        use weir_engine::schema::ItemType;
        let schema = Schema::new(vec![
            Field::new("temps", Type::List(ItemType::Float)),
            Field::new("at", Type::List(ItemType::Timestamp)),
        ]);
        let record = vec![
            Value::List(vec![Value::Float(70.0), Value::Float(71.5)].into()),
            Value::List(vec![Value::Time(0)].into()),
        ];
        let mut out = Vec::new();
        JsonEncoder::new(&schema)
            .encode(&record, &mut out)
            .expect("encodes");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"temps\":[70.0,71.5],\"at\":[\"1970-01-01T00:00:00.000Z\"]}\n"
        );
    }

    #[test]
    fn good_lines_decode_into_slots() {
        let d = JsonDecoder::new(&readings());
        let r = d
            .decode(r#"{"ts":"2024-05-01T10:00:05Z","temp":70,"device_id":"a","count":3,"extra":[1,{"x":2}]}"#)
            .expect("good line");
        assert_eq!(
            r,
            vec![
                Value::str("a"),
                Value::Float(70.0),
                Value::Int(3),
                Value::Time(1_714_557_605_000),
                Value::Null,
            ]
        );
        let r = d
            .decode(r#"{"device_id":"b\"q","temp":-1.5,"count":-2,"ts":1714557605000,"note":null}"#)
            .expect("good line");
        assert_eq!(r[0], Value::str("b\"q"));
        assert_eq!(r[3], Value::Time(1_714_557_605_000));
        assert_eq!(r[4], Value::Null);
    }

    fn bad(line: &str) -> DecodeError {
        JsonDecoder::new(&readings())
            .decode(line)
            .expect_err("bad line")
    }

    #[test]
    fn bad_lines_name_the_field() {
        let e = bad(r#"{"device_id":"a","temp":"hot","count":1,"ts":1}"#);
        assert_eq!(e.field.as_deref(), Some("temp"));
        assert_eq!(e.reason, r#"expected f64, found "hot""#);

        let e = bad(r#"{"device_id":"a","temp":1,"count":1.5,"ts":1}"#);
        assert_eq!(e.field.as_deref(), Some("count"));
        assert!(e.reason.contains("integer"), "{}", e.reason);

        let e = bad(r#"{"device_id":"a","temp":1,"count":1}"#);
        assert_eq!(e.field.as_deref(), Some("ts"));
        assert_eq!(e.reason, "missing field `ts`");

        let e = bad(r#"{"device_id":null,"temp":1,"count":1,"ts":1}"#);
        assert_eq!(e.field.as_deref(), Some("device_id"));
        assert!(e.reason.contains("non-nullable"), "{}", e.reason);

        // Times outside the years 0000-9999 would move the watermark past every record.
        for ts in [
            "9223372036854775807",
            "253402300800000",
            "\"+10000-01-01T00:00:00Z\"",
        ] {
            let e = bad(&format!(
                r#"{{"device_id":"a","temp":1,"count":1,"ts":{ts}}}"#
            ));
            assert_eq!(e.field.as_deref(), Some("ts"), "{ts}");
        }
        let e = bad(r#"{"device_id":"a","temp":1,"count":1,"ts":253402300800000}"#);
        assert!(
            e.reason.contains("outside the RFC 3339 range"),
            "{}",
            e.reason
        );
        // Numbers beyond f64 are refused, not read as infinity.
        assert!(JsonDecoder::new(&readings())
            .decode(r#"{"device_id":"a","temp":1e400,"count":1,"ts":1}"#)
            .is_err());

        let e = bad(r#"{"device_id":"a","temp":1,"count":1,"ts":"noon"}"#);
        assert_eq!(e.field.as_deref(), Some("ts"));
        assert!(e.reason.contains("RFC 3339"), "{}", e.reason);

        let e = bad(r#"{"device_id":7,"temp":1,"count":1,"ts":1}"#);
        assert_eq!(e.field.as_deref(), Some("device_id"));
        assert_eq!(e.reason, "expected string, found 7");
    }

    #[test]
    fn broken_json_is_a_record_error() {
        let e = bad(r#"{"device_id":"a","temp":1"#);
        assert_eq!(e.field, None);
        assert!(e.reason.starts_with("invalid JSON"), "{}", e.reason);

        let e = bad(r#"[1,2]"#);
        assert_eq!(e.field, None);
        assert_eq!(e.reason, "expected a JSON object, found an array");

        let e = bad(r#"{"device_id":"a","temp":1,"count":1,"ts":1} x"#);
        assert!(e.reason.starts_with("invalid JSON"), "{}", e.reason);
    }

    fn windowed() -> Schema {
        Schema::new(vec![
            Field::new("device_id", Type::String),
            Field::nullable("avg", Type::Float),
            Field::new("window.start", Type::Timestamp),
            Field::new("window.end", Type::Timestamp),
            Field::new("pane.timing", Type::String),
            Field::new("pane.final", Type::Bool),
            Field::new("gap", Type::Duration),
        ])
    }

    fn windowed_record() -> Record {
        vec![
            Value::str("dev-01"),
            Value::Float(f64::NAN),
            Value::Time(1_714_557_600_000),
            Value::Time(1_714_557_660_000),
            Value::str("on_time"),
            Value::Bool(true),
            Value::Duration(10_000),
        ]
    }

    #[test]
    fn encoding_nests_dotted_fields() {
        let mut out = Vec::new();
        JsonEncoder::new(&windowed())
            .encode(&windowed_record(), &mut out)
            .expect("encode");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            concat!(
                r#"{"device_id":"dev-01","avg":null,"#,
                r#""window":{"start":"2024-05-01T10:00:00.000Z","end":"2024-05-01T10:01:00.000Z"},"#,
                r#""pane":{"timing":"on_time","final":true},"gap":"10s"}"#,
                "\n"
            )
        );
    }

    #[test]
    fn nested_and_flat_dotted_keys_decode() {
        let d = JsonDecoder::new(&windowed());
        let mut out = Vec::new();
        let mut record = windowed_record();
        record[1] = Value::Float(2.5);
        JsonEncoder::new(&windowed())
            .encode(&record, &mut out)
            .expect("encode");
        let line = String::from_utf8(out).expect("utf8");
        assert_eq!(d.decode(line.trim_end()), Ok(record.clone()));

        let flat = r#"{"device_id":"dev-01","avg":2.5,"window.start":1714557600000,
            "window.end":"2024-05-01T10:01:00Z","pane":{"timing":"on_time","final":true},"gap":"10s"}"#;
        assert_eq!(d.decode(&flat.replace('\n', "")), Ok(record));

        let e = d
            .decode(r#"{"device_id":"a","window":5}"#)
            .expect_err("not an object");
        assert_eq!(e.field.as_deref(), Some("window"));
    }
}
