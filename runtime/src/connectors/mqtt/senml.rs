//! SenML JSON (RFC 8428) packs: each resolved SenML record becomes one Weir record.
//!
//! Base fields (`bn`, `bt`, `bu`, `bv`, `bs`) apply to the records that follow them in the
//! pack; names are `bn + n`, times `bt + t` in seconds, where a resolved time below 2^28
//! is relative to now. A source's declared fields pick what it keeps, by these names:
//!
//! | field | type | SenML |
//! | --- | --- | --- |
//! | `name` | `string` | `bn` + `n` |
//! | `unit` | `string` | `u` (or `bu`) |
//! | `value` | `f64` | `bv` + `v` |
//! | `string_value` | `string` | `vs` |
//! | `bool_value` | `bool` | `vb` |
//! | `data_value` | `string` | `vd` (base64 text, as sent) |
//! | `sum` | `f64` | `bs` + `s` |
//! | `time` | `timestamp` | `bt` + `t` |

use serde::Deserialize;
use weir_engine::schema::{Schema, Type};
use weir_engine::value::{Record, Value};

use crate::format::DecodeError;

/// The fields a SenML record can fill, with their types.
pub const SENML_FIELDS: &[(&str, Type)] = &[
    ("name", Type::String),
    ("unit", Type::String),
    ("value", Type::Float),
    ("string_value", Type::String),
    ("bool_value", Type::Bool),
    ("data_value", Type::String),
    ("sum", Type::Float),
    ("time", Type::Timestamp),
];

/// Times below this many seconds are relative to now (RFC 8428 §4.5.3).
const RELATIVE_LIMIT_S: f64 = 268_435_456.0;

/// One SenML record as sent; unknown labels are ignored, but labels ending in `_` must
/// be understood (RFC 8428 §4.4), so they reject the record.
#[derive(Debug, Deserialize)]
struct Raw {
    bn: Option<String>,
    bt: Option<f64>,
    bu: Option<String>,
    bv: Option<f64>,
    bs: Option<f64>,
    bver: Option<i64>,
    n: Option<String>,
    u: Option<String>,
    v: Option<f64>,
    vs: Option<String>,
    vb: Option<bool>,
    vd: Option<String>,
    s: Option<f64>,
    t: Option<f64>,
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
}

/// Decodes SenML packs into records of a schema whose fields are SenML fields (see the
/// module table) or filled by someone else (topic levels), which stay null here.
#[derive(Clone, Debug)]
pub struct SenmlDecoder {
    len: usize,
    /// (slot in the record, index into [`SENML_FIELDS`], nullable).
    slots: Vec<(usize, usize, bool)>,
}

impl SenmlDecoder {
    /// A decoder filling the SenML fields declared in `schema`.
    pub fn new(schema: &Schema) -> SenmlDecoder {
        let slots = schema
            .fields
            .iter()
            .enumerate()
            .filter_map(|(slot, f)| {
                let i = SENML_FIELDS.iter().position(|(n, _)| *n == f.name)?;
                Some((slot, i, f.nullable))
            })
            .collect();
        SenmlDecoder {
            len: schema.len(),
            slots,
        }
    }

    /// Decodes one pack (a JSON array of SenML records); `now_ms` resolves relative times.
    pub fn decode(&self, payload: &[u8], now_ms: i64) -> Vec<Result<Record, DecodeError>> {
        let pack: Vec<Raw> = match serde_json::from_slice(payload) {
            Ok(p) => p,
            Err(e) => {
                return vec![Err(DecodeError::record(format!(
                    "invalid SenML pack (a JSON array of records): {e}"
                )))]
            }
        };
        let mut base = Base::default();
        pack.into_iter()
            .enumerate()
            .map(|(i, raw)| self.record(&mut base, raw, now_ms).map_err(|e| at(i, e)))
            .collect()
    }

    fn record(&self, base: &mut Base, raw: Raw, now_ms: i64) -> Result<Record, DecodeError> {
        if let Some(label) = raw.other.keys().find(|k| k.ends_with('_')) {
            return Err(DecodeError::record(format!(
                "unsupported must-understand SenML label `{label}`"
            )));
        }
        if let Some(v) = raw.bver {
            if v > 10 {
                return Err(DecodeError::record(format!(
                    "unsupported SenML version {v} (bver)"
                )));
            }
        }
        if let Some(bn) = raw.bn {
            base.name = bn;
        }
        if let Some(bt) = raw.bt {
            base.time = bt;
        }
        if let Some(bu) = raw.bu {
            base.unit = Some(bu);
        }
        if let Some(bv) = raw.bv {
            base.value = bv;
        }
        if let Some(bs) = raw.bs {
            base.sum = bs;
        }
        let name = format!("{}{}", base.name, raw.n.as_deref().unwrap_or(""));
        if name.is_empty() {
            return Err(DecodeError::field("name", "no name (bn + n is empty)"));
        }
        let has_value = raw.v.is_some() || raw.vs.is_some() || raw.vb.is_some();
        if !has_value && raw.vd.is_none() && raw.s.is_none() {
            return Err(DecodeError::field(
                "value",
                format!("`{name}` has no value (v, vs, vb, vd or s)"),
            ));
        }
        let secs = base.time + raw.t.unwrap_or(0.0);
        let time = if secs.abs() < RELATIVE_LIMIT_S {
            now_ms.saturating_add((secs * 1000.0).round() as i64)
        } else {
            (secs * 1000.0).round() as i64
        };
        let values = [
            Value::str(&name),
            raw.u
                .or_else(|| base.unit.clone())
                .map_or(Value::Null, |u| Value::str(&u)),
            raw.v.map_or(Value::Null, |v| Value::Float(base.value + v)),
            raw.vs.map_or(Value::Null, |s| Value::str(&s)),
            raw.vb.map_or(Value::Null, Value::Bool),
            raw.vd.map_or(Value::Null, |s| Value::str(&s)),
            raw.s.map_or(Value::Null, |s| Value::Float(base.sum + s)),
            Value::Time(time),
        ];
        let mut record = vec![Value::Null; self.len];
        for &(slot, i, nullable) in &self.slots {
            let value = values[i].clone();
            if value.is_null() && !nullable {
                let field = SENML_FIELDS[i].0;
                return Err(DecodeError::field(
                    field,
                    format!(
                        "`{name}` has no `{field}` (declare it `{}?` to allow that)",
                        SENML_FIELDS[i].1
                    ),
                ));
            }
            record[slot] = value;
        }
        Ok(record)
    }
}

/// Base values carried from record to record within a pack.
#[derive(Default)]
struct Base {
    name: String,
    time: f64,
    unit: Option<String>,
    value: f64,
    sum: f64,
}

fn at(index: usize, mut e: DecodeError) -> DecodeError {
    e.reason = format!("SenML record {}: {}", index + 1, e.reason);
    e
}
