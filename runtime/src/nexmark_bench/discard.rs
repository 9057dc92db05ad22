//! Sinks that drop what they receive, for measuring a query rather than its output
//! format: the engine still counts every record that reaches a sink.

use std::sync::Arc;

use weir_engine::event::Event;
use weir_engine::io::{
    ConnectorFactory, IoError, LookupTable, SinkWriter, SourceReader, WorkerInfo,
};
use weir_engine::plan::{SinkNode, SourceNode, TableNode};
use weir_engine::schema::Schema;

/// Opens sources and tables through `inner`, and every sink as a discarding sink (like
/// Flink's `blackhole` connector in the Nexmark suite).
pub struct DiscardSinks<F> {
    /// The factory for everything but sinks.
    pub inner: F,
}

struct Discard;

impl SinkWriter for Discard {
    fn write(&self, _events: &[Event]) -> Result<(), IoError> {
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

    fn read_by_every_worker(&self, source: &SourceNode) -> bool {
        self.inner.read_by_every_worker(source)
    }

    fn open_sink(
        &self,
        _sink: &SinkNode,
        _schema: &Schema,
    ) -> Result<Arc<dyn SinkWriter>, IoError> {
        Ok(Arc::new(Discard))
    }

    fn open_table(&self, table: &TableNode) -> Result<Arc<dyn LookupTable>, IoError> {
        self.inner.open_table(table)
    }
}
