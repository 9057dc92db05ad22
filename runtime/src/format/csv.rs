//! CSV with a header row: decoding cells into schema slots by column name, and encoding
//! records under a header of (dotted) field names.

use std::io::{self, Write};

use ::csv::ByteRecord;
use weir_engine::schema::{Schema, Type};
use weir_engine::time::{format_duration, format_timestamp};
use weir_engine::value::{Record, Value};

use super::text::parse_scalar;
use super::DecodeError;

/// A header row that cannot feed the schema.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Non-nullable fields have no column.
    #[error("the CSV header has no column for {}", list(.0))]
    MissingColumns(Vec<String>),
    /// A column name appears twice.
    #[error("the CSV header names column `{0}` twice")]
    DuplicateColumn(String),
}

fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// Decodes CSV rows into records of one schema, columns matched by header name.
///
/// Typing rules follow JSON lines: `i64` takes integers only, `f64` any number,
/// `timestamp` RFC 3339 or integer epoch milliseconds, `duration` text with a unit or
/// integer milliseconds, `bool` `true`/`false`. An empty cell is null for a nullable
/// field (a nullable string therefore cannot hold the empty string), the empty string for
/// a non-nullable string, and an error otherwise. Columns not in the schema are ignored;
/// nullable fields without a column are null.
#[derive(Clone, Debug)]
pub struct CsvDecoder {
    schema: Schema,
    /// For each column, the slot it fills.
    columns: Vec<Option<usize>>,
}

impl CsvDecoder {
    /// A decoder for rows under `header`, into records of `schema`.
    pub fn new<'h>(
        schema: &Schema,
        header: impl IntoIterator<Item = &'h str>,
    ) -> Result<CsvDecoder, HeaderError> {
        let mut columns = Vec::new();
        let mut seen = vec![false; schema.len()];
        let mut names: Vec<&str> = Vec::new();
        for name in header {
            let name = name.trim();
            if names.contains(&name) {
                return Err(HeaderError::DuplicateColumn(name.to_string()));
            }
            names.push(name);
            let slot = schema.slot(name);
            if let Some(s) = slot {
                seen[s] = true;
            }
            columns.push(slot);
        }
        let missing: Vec<String> = schema
            .fields
            .iter()
            .zip(&seen)
            .filter(|(f, seen)| !**seen && !f.nullable)
            .map(|(f, _)| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(HeaderError::MissingColumns(missing));
        }
        Ok(CsvDecoder {
            schema: schema.clone(),
            columns,
        })
    }

    /// Decodes one row.
    pub fn decode(&self, row: &ByteRecord) -> Result<Record, DecodeError> {
        if row.len() != self.columns.len() {
            return Err(DecodeError::record(format!(
                "the row has {} cells but the header has {} columns",
                row.len(),
                self.columns.len()
            )));
        }
        let mut record: Record = vec![Value::Null; self.schema.len()];
        for (cell, column) in row.iter().zip(&self.columns) {
            let Some(slot) = *column else { continue };
            let field = &self.schema.fields[slot];
            let text = std::str::from_utf8(cell)
                .map_err(|_| DecodeError::field(&field.name, "the cell is not valid UTF-8"))?;
            record[slot] = if text.is_empty() && field.nullable {
                Value::Null
            } else if text.is_empty() && field.ty != Type::String {
                return Err(DecodeError::field(
                    &field.name,
                    format!(
                        "empty cell for non-nullable field `{}` (declare it `{}?` to allow null)",
                        field.name, field.ty
                    ),
                ));
            } else {
                parse_scalar(field.ty, text).map_err(|r| DecodeError::field(&field.name, r))?
            };
        }
        Ok(record)
    }
}

/// The text of a row as CSV (for reports of bad rows): the cells re-joined, quoted where
/// needed, which may differ from the input in quoting only.
pub fn row_text(row: &ByteRecord) -> String {
    let mut writer = ::csv::WriterBuilder::new().from_writer(Vec::new());
    if writer.write_byte_record(row).is_err() {
        return String::new();
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// Encodes records of one schema as CSV rows (RFC 4180 quoting, `\n` line ends).
///
/// Timestamps are RFC 3339 with milliseconds in UTC, durations text (`10s`), null an
/// empty cell.
#[derive(Clone, Debug)]
pub struct CsvEncoder {
    names: Vec<String>,
}

impl CsvEncoder {
    /// An encoder for records of `schema`.
    pub fn new(schema: &Schema) -> CsvEncoder {
        CsvEncoder {
            names: schema.fields.iter().map(|f| f.name.clone()).collect(),
        }
    }

    /// Writes the header row.
    pub fn header<W: Write>(&self, out: &mut W) -> io::Result<()> {
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write_cell(name, out)?;
        }
        out.write_all(b"\n")
    }

    /// Writes one record as a row.
    pub fn encode<W: Write>(&self, record: &Record, out: &mut W) -> io::Result<()> {
        for (i, value) in record.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match value {
                Value::Null => {}
                Value::Bool(b) => write!(out, "{b}")?,
                Value::Int(v) => write!(out, "{v}")?,
                Value::Float(v) => write!(out, "{v}")?,
                Value::Str(s) => write_cell(s, out)?,
                Value::Time(t) => out.write_all(format_timestamp(*t).as_bytes())?,
                Value::Duration(d) => out.write_all(format_duration(*d).as_bytes())?,
                // `weir check` refuses lists for CSV sinks (P0235); a run without the
                // check still writes something readable.
                Value::List(_) => write_cell(&value.to_string(), out)?,
            }
        }
        out.write_all(b"\n")
    }
}

/// Writes text as one cell, quoted when it holds a delimiter, quote or line break.
fn write_cell<W: Write>(text: &str, out: &mut W) -> io::Result<()> {
    if text.contains([',', '"', '\n', '\r']) {
        out.write_all(b"\"")?;
        out.write_all(text.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use weir_engine::schema::Field;

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("device_id", Type::String),
            Field::new("temp", Type::Float),
            Field::new("ts", Type::Timestamp),
            Field::nullable("count", Type::Int),
        ])
    }

    fn row(cells: &[&str]) -> ByteRecord {
        ByteRecord::from(cells.to_vec())
    }

    #[test]
    fn columns_match_by_name() {
        let d = CsvDecoder::new(&schema(), ["ts", "other", "temp", "device_id"]).expect("header");
        let r = d
            .decode(&row(&["2024-05-01T10:00:05Z", "x", "71.5", "a"]))
            .expect("row");
        assert_eq!(
            r,
            vec![
                Value::str("a"),
                Value::Float(71.5),
                Value::Time(1_714_557_605_000),
                Value::Null
            ]
        );
    }

    #[test]
    fn header_must_cover_required_fields() {
        assert_eq!(
            CsvDecoder::new(&schema(), ["device_id"]).map(|_| ()),
            Err(HeaderError::MissingColumns(vec![
                "temp".to_string(),
                "ts".to_string()
            ]))
        );
        assert_eq!(
            CsvDecoder::new(&schema(), ["device_id", "temp", "ts", "ts"]).map(|_| ()),
            Err(HeaderError::DuplicateColumn("ts".to_string()))
        );
    }

    #[test]
    fn bad_cells_name_the_field() {
        let d = CsvDecoder::new(&schema(), ["device_id", "temp", "ts", "count"]).expect("header");
        let e = d.decode(&row(&["a", "hot", "1", ""])).expect_err("bad");
        assert_eq!(e.field.as_deref(), Some("temp"));
        assert_eq!(e.reason, r#"expected f64, found "hot""#);
        let e = d.decode(&row(&["a", "1", "1", "2.5"])).expect_err("bad");
        assert_eq!(e.field.as_deref(), Some("count"));
        let e = d.decode(&row(&["a", "", "1", "2"])).expect_err("bad");
        assert_eq!(e.field.as_deref(), Some("temp"));
        assert!(e.reason.contains("empty cell"), "{}", e.reason);
        let e = d.decode(&row(&["a", "1", "1"])).expect_err("bad");
        assert_eq!(e.field, None);
        assert_eq!(
            d.decode(&row(&["", "1", "1", ""])).expect("ok")[0],
            Value::str("")
        );
    }

    #[test]
    fn encoding_quotes_and_formats() {
        let schema = Schema::new(vec![
            Field::new("name", Type::String),
            Field::new("window.start", Type::Timestamp),
            Field::nullable("x", Type::Float),
            Field::new("d", Type::Duration),
        ]);
        let e = CsvEncoder::new(&schema);
        let mut out = Vec::new();
        e.header(&mut out).expect("header");
        e.encode(
            &vec![
                Value::str("a,\"b\""),
                Value::Time(1_714_557_600_000),
                Value::Null,
                Value::Duration(90_000),
            ],
            &mut out,
        )
        .expect("row");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "name,window.start,x,d\n\"a,\"\"b\"\"\",2024-05-01T10:00:00.000Z,,90s\n"
        );
        assert_eq!(row_text(&row(&["a,b", "c"])), "\"a,b\",c");
    }
}
