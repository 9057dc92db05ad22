//! The boundary to the outside world: traits the runtime implements for sources and sinks.
//!
//! The engine knows no connector; it asks a [`ConnectorFactory`] (supplied by the runtime)
//! to open a [`SourceReader`] per worker and a [`SinkWriter`] per process.

use std::sync::Arc;

use crate::checkpoint::{Epoch, SourcePosition};
use crate::event::Event;
use crate::ml::Infer;
use crate::plan::{ModelNode, SinkNode, SourceNode, TableNode};
use crate::schema::Schema;
use crate::time::EventTime;
use crate::value::{Record, Value};

/// What a source can say after a poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceStatus {
    /// Records may be available right away; poll again soon.
    Ready,
    /// Nothing now; poll again after a short pause (live sources, pacing).
    Idle,
    /// Nothing now, and the reader will be woken through the run's clock waiters when
    /// there is (scripted test sources); the operator does not poll on its own.
    Waiting,
    /// The source is exhausted (bounded input read to the end).
    Finished,
}

/// A record that could not be read by a source, or delivered by a sink, kept whole so
/// it is never silently lost.
#[derive(Clone, Debug, PartialEq)]
pub struct BadRecord {
    /// Source name; for a record a sink could not deliver, the sink's name.
    pub source: String,
    /// Where it was: `file.jsonl:17`, a topic, an offset; for a sink, where it was sent.
    pub location: String,
    /// The offending field, if one is to blame.
    pub field: Option<String>,
    /// Why it was rejected (or why delivery failed: an HTTP status, a network error).
    pub reason: String,
    /// The raw input, as read; for a sink, the record as it would have been sent.
    pub raw: String,
}

/// Reads one worker's share of a source.
pub trait SourceReader {
    /// Appends up to `max` records to `out` and any rejects to `bad`.
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError>;

    /// The watermark this reader asserts, if it knows it better than the source's
    /// `bounded` strategy can (scripted tests move it explicitly). Read after each poll.
    fn watermark(&self) -> Option<EventTime> {
        None
    }

    /// The records of every poll so far are now owned by the dataflow: a source that
    /// acknowledges its input (MQTT QoS 1) may acknowledge them. This is the run's one
    /// acknowledgement point; a checkpoint would call it once the checkpoint holding
    /// them is complete instead.
    fn commit(&mut self) {}

    /// The source is stopped before its end (a stop request, `--limit`, `--strict`): it
    /// releases its input without acknowledging what it had received but not handed
    /// out, and returns how many such input messages there were (the upstream keeps or
    /// drops them; the summary counts them).
    fn stop(&mut self) -> u64 {
        0
    }

    /// Checkpointing: the cut of checkpoint `epoch` passes this reader now. Everything
    /// polled so far belongs to epochs up to `epoch`; what is polled next to later ones.
    /// Returns where the reader is, to be stored in the checkpoint and handed to
    /// [`SourceReader::seek`] on restore; `None` if this source cannot resume (a restore
    /// is then refused with a message naming it). It may be asked right after `seek`,
    /// before any poll, and while the reader is still skipping what the old readers had
    /// read: it must then still cover all of that (a cut comes whenever a tick is due).
    fn position(&mut self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        Ok(None)
    }

    /// Checkpointing: resume after the positions stored in a checkpoint, before the first
    /// poll. `positions` holds every old worker's position for this source (with the old
    /// worker index and count), so a run restored on another number of workers can take
    /// over its share.
    fn seek(&mut self, _positions: &[SourcePosition]) -> Result<(), IoError> {
        Err(IoError::Config(
            "this source cannot resume from a checkpoint".to_string(),
        ))
    }

    /// Checkpointing: checkpoint `epoch` is complete and durable. A source that
    /// acknowledges its input (MQTT QoS 1) acknowledges what it polled before the cut of
    /// `epoch` now; with checkpoints on, this replaces [`SourceReader::commit`].
    fn checkpoint_complete(&mut self, _epoch: Epoch) {}
}

/// Writes a sink; shared by all workers of a process, so implementations lock inside.
pub trait SinkWriter: Send + Sync {
    /// Writes a batch of events (records in the sink's input schema, with event times).
    fn write(&self, events: &[Event]) -> Result<(), IoError>;
    /// Flushes buffered output; called when the run ends or stops.
    fn flush(&self) -> Result<(), IoError>;

    /// Records that writes (and flushes) made by the calling thread gave up on since its
    /// last call (still undeliverable after the sink's own retries: an endpoint
    /// answering 500), each with `source` = the sink's name, `reason` = why and `raw` =
    /// the record as it would have been sent. The sink operator asks right after each
    /// of its writes, on the same worker thread, so each record goes to the `on error
    /// to` route of the pipeline that wrote it (or is counted and reported). A sink's
    /// `write` still returns `Err` for failures that should stop the run (a full disk).
    fn take_undelivered(&self) -> Vec<BadRecord> {
        Vec::new()
    }

    /// Records (or messages) this sink has accepted but not yet delivered, for the
    /// notice printed while a stop waits for sinks to flush.
    fn backlog(&self) -> u64 {
        0
    }

    /// Lets the sink act on processing time while no records arrive (close a file that
    /// has been open long enough). Returns the processing time at which it wants to be
    /// called next, if ever; the sink operator calls it after writing and at that time.
    fn tick(&self) -> Result<Option<EventTime>, IoError> {
        Ok(None)
    }

    /// Records this sink did not send because of its rate limit, since it opened (the
    /// writer is shared by the workers of a process, so this is the process's count).
    fn throttled(&self) -> u64 {
        0
    }

    /// Checkpointing: every worker of this process has written all its records of epochs
    /// up to `epoch`. The sink makes them durable but not yet visible (Flink's
    /// pre-commit: flush and fsync, close the in-progress part as pending) and returns
    /// what it must remember to commit or roll back, stored in the checkpoint.
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        self.flush().map(|()| None)
    }

    /// Checkpointing: checkpoint `epoch` is complete: what was prepared for it (and any
    /// earlier epoch) becomes visible (pending parts renamed to committed).
    fn commit(&self, _epoch: Epoch) -> Result<(), IoError> {
        Ok(())
    }

    /// Checkpointing: the run resumes from a checkpoint; `state` is what this sink's
    /// `prepare_commit` returned for it (`None` if it returned nothing). Called once,
    /// before any write: the sink commits what that checkpoint prepared and discards
    /// anything written after it (truncates, deletes in-progress parts), so the
    /// committed output equals a run that never stopped.
    fn restore(&self, _state: Option<&[u8]>) -> Result<(), IoError> {
        Ok(())
    }
}

/// The rows of a reference table at one moment: for each key, the values `lookup`
/// appends (the table's fields but the key, in declaration order).
pub type TableRows = std::collections::HashMap<Value, Record, rustc_hash::FxBuildHasher>;

/// Reference data for `lookup`, opened once per process and shared by all workers.
/// Implementations refresh their rows as their source changes; readers take a snapshot
/// per batch, so a refresh never tears a batch.
pub trait LookupTable: Send + Sync {
    /// The current rows.
    fn rows(&self) -> Arc<TableRows>;
}

/// Which worker is asking, so sources can split their input deterministically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    /// Global worker index.
    pub index: usize,
    /// Total number of workers.
    pub peers: usize,
}

/// Opens connectors named in a plan; implemented by the runtime.
pub trait ConnectorFactory: Send + Sync {
    /// Opens `worker`'s share of `source`.
    fn open_source(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError>;
    /// Opens `worker`'s share of `source` when the plan reads only the fields marked in
    /// `read` (by slot; see `plan::optimize::source_fields`): the reader may leave the
    /// others null instead of building them, but still rejects the records it would
    /// reject otherwise. By default every field is read.
    fn open_source_reading(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
        read: &[bool],
    ) -> Result<Box<dyn SourceReader>, IoError> {
        let _ = read;
        self.open_source(source, worker)
    }
    /// Whether every worker reads a share of `source` (the default), or only the first
    /// worker of the first process reads it all (a file, one MQTT subscription). A run's
    /// `limit` is shared out between the processes that actually read.
    fn read_by_every_worker(&self, _source: &SourceNode) -> bool {
        true
    }
    /// Opens `sink` for records of `schema`, once per process.
    fn open_sink(&self, sink: &SinkNode, schema: &Schema) -> Result<Arc<dyn SinkWriter>, IoError>;
    /// Opens `sink` for records of each of `shapes` (more than one only for a sink whose
    /// format holds any shape, which the checker allows), once per process: one writer
    /// per shape, in order. By default each shape gets a sink of its own; a factory
    /// overrides this when such writers must share one output (a file).
    fn open_sink_shapes(
        &self,
        sink: &SinkNode,
        shapes: &[Schema],
    ) -> Result<Vec<Arc<dyn SinkWriter>>, IoError> {
        shapes.iter().map(|s| self.open_sink(sink, s)).collect()
    }
    /// Opens reference table `table`, once per process. Factories without tables refuse.
    fn open_table(&self, table: &TableNode) -> Result<Arc<dyn LookupTable>, IoError> {
        Err(IoError::Config(format!(
            "table `{}`: these connectors cannot open tables",
            table.name
        )))
    }
    /// Loads model `model` for `infer`, once per process. Factories without models refuse.
    fn open_model(&self, model: &ModelNode) -> Result<Arc<dyn Infer>, IoError> {
        Err(IoError::Config(format!(
            "model `{}`: these connectors cannot load models",
            model.name
        )))
    }
}

/// A failure talking to the outside world.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// An operating-system error with what we were doing.
    #[error("{context}: {source}")]
    Os {
        /// What was being done (`cannot open out/x.jsonl`).
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A connector configuration the runtime cannot use.
    #[error("{0}")]
    Config(String),
    /// Anything else a connector reports.
    #[error("{0}")]
    Other(String),
}

impl IoError {
    /// Wraps an OS error with context.
    pub fn os(context: impl Into<String>, source: std::io::Error) -> IoError {
        IoError::Os {
            context: context.into(),
            source,
        }
    }
}
