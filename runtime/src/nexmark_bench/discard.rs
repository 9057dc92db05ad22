//! Sinks that drop what they receive, for measuring a query rather than its output
//! format, counting what reaches the sink that holds the query's answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use weir_engine::event::Event;
use weir_engine::io::{
    ConnectorFactory, IoError, LookupTable, SinkWriter, SourceReader, WorkerInfo,
};
use weir_engine::plan::{SinkNode, SourceNode, TableNode};
use weir_engine::schema::Schema;

/// Opens sources and tables through `inner`, and every sink as a discarding sink (like
/// Flink's `blackhole` connector in the Nexmark suite); records written to the sink
/// named `counted` are counted.
pub struct DiscardSinks<F> {
    inner: F,
    counted: String,
    count: Arc<AtomicU64>,
}

impl<F> DiscardSinks<F> {
    /// Discarding sinks around `inner`, counting the records of sink `counted`.
    pub fn new(inner: F, counted: &str) -> DiscardSinks<F> {
        DiscardSinks {
            inner,
            counted: counted.to_string(),
            count: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The records written to the counted sink so far.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.count)
    }
}

struct Discard {
    count: Option<Arc<AtomicU64>>,
}

impl SinkWriter for Discard {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        if let Some(count) = &self.count {
            count.fetch_add(events.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

impl<F: ConnectorFactory> ConnectorFactory for DiscardSinks<F> {
    fn open_source(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError> {
        self.inner.open_source(source, worker)
    }

    fn open_source_reading(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
        read: &[bool],
    ) -> Result<Box<dyn SourceReader>, IoError> {
        self.inner.open_source_reading(source, worker, read)
    }

    fn read_by_every_worker(&self, source: &SourceNode) -> bool {
        self.inner.read_by_every_worker(source)
    }

    fn open_sink(&self, sink: &SinkNode, _schema: &Schema) -> Result<Arc<dyn SinkWriter>, IoError> {
        Ok(Arc::new(Discard {
            count: (sink.name == self.counted).then(|| Arc::clone(&self.count)),
        }))
    }

    fn open_table(&self, table: &TableNode) -> Result<Arc<dyn LookupTable>, IoError> {
        self.inner.open_table(table)
    }
}
