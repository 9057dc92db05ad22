//! The sinks a process has open: one writer per sink and record shape.
//!
//! Most sinks hold one shape (a CSV header, a Parquet schema), which the checker enforces.
//! A sink whose format holds any shape (JSON lines) may be written by pipelines of
//! different shapes; each gets the writer opened for its shape, so every record is
//! written with its own field names.

use std::collections::HashMap;
use std::sync::Arc;

use crate::io::SinkWriter;
use crate::schema::Schema;

/// A writer and the record shape it writes.
type ShapedWriter = (Schema, Arc<dyn SinkWriter>);

/// Open sinks by name, each with one writer per shape written to it.
#[derive(Default)]
pub struct SinkWriters {
    by_name: HashMap<String, Vec<ShapedWriter>>,
}

impl SinkWriters {
    /// Adds the writer of sink `name` for records of `shape`.
    pub fn insert(&mut self, name: &str, shape: Schema, writer: Arc<dyn SinkWriter>) {
        self.by_name
            .entry(name.to_string())
            .or_default()
            .push((shape, writer));
    }

    /// Whether sink `name` is open.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The writer of sink `name` for records of `shape`: the sink's only writer, or the
    /// one opened for that shape.
    pub fn get(&self, name: &str, shape: &Schema) -> Option<&Arc<dyn SinkWriter>> {
        match self.by_name.get(name)?.as_slice() {
            [(_, only)] => Some(only),
            writers => writers.iter().find(|(s, _)| s == shape).map(|(_, w)| w),
        }
    }

    /// Every writer with its sink's name (a sink of several shapes comes once per shape).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn SinkWriter>)> {
        self.by_name
            .iter()
            .flat_map(|(name, writers)| writers.iter().map(move |(_, w)| (name.as_str(), w)))
    }
}
