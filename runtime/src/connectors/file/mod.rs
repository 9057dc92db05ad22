//! `file(path, format: jsonl|csv)`: read a file as a source, or write one as a sink.
//!
//! The format defaults from the extension (`.jsonl`, `.ndjson`, `.json` → JSON lines,
//! `.csv` → CSV). Relative paths resolve against the current directory.
//!
//! ```text
//! source readings = file("in/readings.csv") { device_id: string  temp: f64  ts: timestamp }
//! sink out = file("out/temp_1m.jsonl")
//! ```

#[cfg(test)]
mod checkpoint_tests;
pub mod config;
mod csv_records;
mod lines;
#[cfg(test)]
mod refusal_tests;
pub mod replay;
#[cfg(test)]
mod share_tests;
mod sink;
mod source;
#[cfg(test)]
mod tests;

pub use config::{FileConfig, Replay, OPTIONS};
pub use sink::FileSink;
pub use source::FileSource;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "file";
