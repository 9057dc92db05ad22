//! Test support: in-memory connectors (sources fed from vectors, sinks that collect), and
//! the runner of scripted `test` blocks.

pub mod expect;
pub mod script;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::event::Event;
use crate::io::{
    BadRecord, ConnectorFactory, IoError, LookupTable, SinkWriter, SourceReader, SourceStatus,
    TableRows, WorkerInfo,
};
use crate::plan::{SinkNode, SourceNode, TableNode};
use crate::schema::Schema;
use crate::value::Record;

/// Connectors backed by memory: each source's records are dealt round-robin to workers
/// and handed out in batches of `batch` records; each sink collects what it receives.
#[derive(Default)]
pub struct MemoryConnectors {
    sources: HashMap<String, Vec<Record>>,
    sinks: Mutex<HashMap<String, Arc<CollectSink>>>,
    tables: HashMap<String, Arc<TableRows>>,
    batch: usize,
    paced: bool,
}

impl MemoryConnectors {
    /// Connectors handing out `batch` records per poll.
    pub fn new(batch: usize) -> MemoryConnectors {
        MemoryConnectors {
            batch: batch.max(1),
            ..MemoryConnectors::default()
        }
    }

    /// Ends the source's activation after every batch, so its watermark advances between
    /// batches (lets tests make elements arrive behind the watermark).
    pub fn paced(mut self) -> MemoryConnectors {
        self.paced = true;
        self
    }

    /// Feeds `records` to the source called `name`.
    pub fn with_source(mut self, name: &str, records: Vec<Record>) -> MemoryConnectors {
        self.sources.insert(name.to_string(), records);
        self
    }

    /// Serves `rows` as the table called `name` (fixed for the whole run).
    pub fn with_table(mut self, name: &str, rows: TableRows) -> MemoryConnectors {
        self.tables.insert(name.to_string(), Arc::new(rows));
        self
    }

    /// Everything the sink called `name` received, in arrival order.
    pub fn collected(&self, name: &str) -> Vec<Event> {
        self.sinks
            .lock()
            .get(name)
            .map(|s| s.events.lock().clone())
            .unwrap_or_default()
    }
}

struct VecReader {
    records: std::vec::IntoIter<Record>,
    batch: usize,
    paced: bool,
}

impl SourceReader for VecReader {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        out.extend(self.records.by_ref().take(self.batch.min(max)));
        Ok(if self.records.len() == 0 {
            SourceStatus::Finished
        } else if self.paced {
            SourceStatus::Idle
        } else {
            SourceStatus::Ready
        })
    }
}

/// A table whose rows never change.
struct FixedTable(Arc<TableRows>);

impl LookupTable for FixedTable {
    fn rows(&self) -> Arc<TableRows> {
        Arc::clone(&self.0)
    }
}

/// A sink that keeps every event it receives.
#[derive(Default)]
pub struct CollectSink {
    events: Mutex<Vec<Event>>,
}

impl CollectSink {
    /// Takes everything received so far.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock())
    }
}

impl SinkWriter for CollectSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        self.events.lock().extend_from_slice(events);
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

impl ConnectorFactory for MemoryConnectors {
    fn open_source(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError> {
        let all = self.sources.get(&source.name).cloned().unwrap_or_default();
        let mine: Vec<Record> = all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % worker.peers == worker.index)
            .map(|(_, r)| r)
            .collect();
        Ok(Box::new(VecReader {
            records: mine.into_iter(),
            batch: self.batch,
            paced: self.paced,
        }))
    }

    fn open_sink(&self, sink: &SinkNode, _schema: &Schema) -> Result<Arc<dyn SinkWriter>, IoError> {
        // A sink written in several shapes collects them all, in arrival order.
        let collect = Arc::clone(self.sinks.lock().entry(sink.name.clone()).or_default());
        Ok(collect)
    }

    fn open_table(&self, table: &TableNode) -> Result<Arc<dyn LookupTable>, IoError> {
        let rows = self.tables.get(&table.name).cloned().unwrap_or_default();
        Ok(Arc::new(FixedTable(rows)))
    }
}
