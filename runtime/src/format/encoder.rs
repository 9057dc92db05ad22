//! A record encoder for either format, chosen once per sink.

use std::io::{self, Write};

use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::csv::CsvEncoder;
use super::json::JsonEncoder;
use super::Format;

/// Encodes records of one schema in one [`Format`].
#[derive(Clone, Debug)]
pub enum Encoder {
    /// JSON lines.
    Json(JsonEncoder),
    /// CSV rows.
    Csv(CsvEncoder),
}

impl Encoder {
    /// An encoder for `schema` in `format`.
    pub fn new(format: Format, schema: &Schema) -> Encoder {
        match format {
            Format::Jsonl => Encoder::Json(JsonEncoder::new(schema)),
            Format::Csv => Encoder::Csv(CsvEncoder::new(schema)),
        }
    }

    /// Writes what opens the output (the CSV header; nothing for JSON lines).
    pub fn begin<W: Write>(&self, out: &mut W) -> io::Result<()> {
        match self {
            Encoder::Json(_) => Ok(()),
            Encoder::Csv(e) => e.header(out),
        }
    }

    /// Writes one record, newline included.
    pub fn encode<W: Write>(&self, record: &Record, out: &mut W) -> io::Result<()> {
        match self {
            Encoder::Json(e) => e.encode(record, out),
            Encoder::Csv(e) => e.encode(record, out),
        }
    }
}
