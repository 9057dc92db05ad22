//! Record formats: how records of a schema become bytes and bytes become records.
//!
//! [`json`] is JSON lines (one object per line, dotted field names nested), [`csv`] is CSV
//! with a header row. Both decode straight into schema slots and report a
//! [`DecodeError`] naming the field to blame; connectors turn those into
//! [`BadRecord`](weir_engine::io::BadRecord)s with a location.

pub mod csv;
mod decode_error;
mod encoder;
pub mod json;
mod layout;
mod text;

use std::path::Path;

pub use decode_error::DecodeError;
pub use encoder::Encoder;
pub use text::{parse_duration, parse_scalar};

/// A record format that connectors can read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON lines: one JSON object per line.
    Jsonl,
    /// CSV with a header row naming the fields.
    Csv,
}

impl Format {
    /// The names users may write for `format:` (aliases included).
    pub const NAMES: [&'static str; 4] = ["jsonl", "csv", "json", "ndjson"];

    /// The format called `name` (`jsonl`, `json`, `ndjson` or `csv`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format implied by a file's extension (`.jsonl`, `.ndjson`, `.json`, `.csv`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The canonical name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_names_and_extensions() {
        assert_eq!(Format::from_name("json"), Some(Format::Jsonl));
        assert_eq!(Format::from_name("csv"), Some(Format::Csv));
        assert_eq!(Format::from_name("parquet"), None);
        assert_eq!(
            Format::from_path(Path::new("in/a.NDJSON")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("a.csv")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("a.txt")), None);
        assert_eq!(Format::from_path(Path::new("noext")), None);
    }
}
