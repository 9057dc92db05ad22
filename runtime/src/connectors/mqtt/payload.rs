//! Message payloads in and out: JSON, CSV or SenML into records (with fields captured
//! from the topic), and records into JSON or CSV payloads.

use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::senml::SenmlDecoder;
use crate::format::csv::CsvDecoder;
use crate::format::json::JsonDecoder;
use crate::format::{parse_scalar, DecodeError, Encoder, Format};

/// How a message payload is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadFormat {
    /// One JSON object, or several as JSON lines.
    Json,
    /// CSV rows without a header, cells in declared field order (topic fields left out).
    Csv,
    /// A SenML JSON pack (sources only).
    Senml,
}

impl PayloadFormat {
    /// The names users may write for `format:`.
    pub const NAMES: [&'static str; 5] = ["json", "jsonl", "ndjson", "csv", "senml"];

    /// The format called `name`.
    pub fn from_name(name: &str) -> Option<PayloadFormat> {
        match name {
            "json" | "jsonl" | "ndjson" => Some(PayloadFormat::Json),
            "csv" => Some(PayloadFormat::Csv),
            "senml" => Some(PayloadFormat::Senml),
            _ => None,
        }
    }
}

/// Turns one message into records of the source schema.
#[derive(Clone, Debug)]
pub struct PayloadDecoder {
    inner: Inner,
    /// (slot, field name) of each field captured from the topic.
    topic_slots: Vec<(usize, String)>,
    schema: Schema,
}

#[derive(Clone, Debug)]
enum Inner {
    Json(JsonDecoder),
    Csv(Box<CsvDecoder>),
    Senml(SenmlDecoder),
}

impl PayloadDecoder {
    /// A decoder for `schema`, where the fields named in `topic_fields` come from the topic
    /// (so the payload need not carry them).
    pub fn new(
        format: PayloadFormat,
        schema: &Schema,
        topic_fields: &[&str],
    ) -> Result<PayloadDecoder, String> {
        let topic_slots: Vec<(usize, String)> = topic_fields
            .iter()
            .filter_map(|n| schema.slot(n).map(|s| (s, n.to_string())))
            .collect();
        // The payload part of the schema: topic fields become nullable there.
        let mut relaxed = schema.clone();
        for (slot, _) in &topic_slots {
            relaxed.fields[*slot].nullable = true;
        }
        let inner = match format {
            PayloadFormat::Json => Inner::Json(JsonDecoder::new(&relaxed)),
            PayloadFormat::Csv => {
                let columns: Vec<&str> = schema
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !topic_slots.iter().any(|(s, _)| s == i))
                    .map(|(_, f)| f.name.as_str())
                    .collect();
                Inner::Csv(Box::new(
                    CsvDecoder::new(&relaxed, columns).map_err(|e| e.to_string())?,
                ))
            }
            PayloadFormat::Senml => Inner::Senml(SenmlDecoder::new(&relaxed)),
        };
        Ok(PayloadDecoder {
            inner,
            topic_slots,
            schema: schema.clone(),
        })
    }

    /// Decodes a message on `topic` with `captured` topic levels; one result per record
    /// in the payload (a payload with no records gives one error, never nothing).
    pub fn decode(
        &self,
        captured: &[(&str, &str)],
        payload: &[u8],
        now_ms: i64,
    ) -> Vec<Result<Record, DecodeError>> {
        let mut results = match &self.inner {
            Inner::Senml(d) => d.decode(payload, now_ms),
            Inner::Json(d) => match std::str::from_utf8(payload) {
                Err(_) => vec![Err(DecodeError::record("the payload is not valid UTF-8"))],
                Ok(text) => text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| d.decode(l))
                    .collect(),
            },
            Inner::Csv(d) => {
                let mut reader = ::csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(payload);
                let mut out = Vec::new();
                for row in reader.byte_records() {
                    out.push(match row {
                        Ok(row) => d.decode(&row),
                        Err(e) => Err(DecodeError::record(format!("invalid CSV: {e}"))),
                    });
                }
                out
            }
        };
        if results.is_empty() {
            results.push(Err(DecodeError::record("the payload is empty")));
        }
        for result in &mut results {
            if let Ok(record) = result {
                if let Err(e) = self.fill_topic_fields(record, captured) {
                    *result = Err(e);
                }
            }
        }
        results
    }

    fn fill_topic_fields(
        &self,
        record: &mut Record,
        captured: &[(&str, &str)],
    ) -> Result<(), DecodeError> {
        for (slot, name) in &self.topic_slots {
            let field = &self.schema.fields[*slot];
            match captured.iter().find(|(n, _)| n == name) {
                Some((_, text)) => {
                    record[*slot] = parse_scalar(field.ty, text)
                        .map_err(|r| DecodeError::field(name, format!("topic level: {r}")))?;
                }
                // Another filter matched, one that does not capture this field.
                None if record[*slot].is_null() && !field.nullable => {
                    return Err(DecodeError::field(
                        name,
                        format!("missing field `{name}` (not in the payload, not captured from the topic)"),
                    ))
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// Turns a record into a message payload.
#[derive(Clone, Debug)]
pub struct PayloadEncoder {
    encoder: Encoder,
}

impl PayloadEncoder {
    /// An encoder for records of `schema` (JSON or CSV).
    pub fn new(format: PayloadFormat, schema: &Schema) -> PayloadEncoder {
        let format = match format {
            PayloadFormat::Csv => Format::Csv,
            PayloadFormat::Json | PayloadFormat::Senml => Format::Jsonl,
        };
        PayloadEncoder {
            encoder: Encoder::new(format, schema),
        }
    }

    /// The payload for `record`, without a trailing newline.
    pub fn encode(&self, record: &Record) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        // Writing into a Vec cannot fail.
        let _ = self.encoder.encode(record, &mut out);
        while out.last() == Some(&b'\n') {
            out.pop();
        }
        out
    }
}
