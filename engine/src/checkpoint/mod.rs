//! Checkpoints: consistent snapshots of every operator's state and every source's
//! position, taken at epochs, from which a run resumes after a crash.
//!
//! The epoch is the inner coordinate of every stream's timestamp ([`stamp`]); sources cut
//! epochs on processing time, stateful operators snapshot when their frontier closes an
//! epoch ([`cut`]), sinks prepare once every local sink operator has written it
//! ([`coordinator::SinkBarrier`]), and the parts are written to a [`store`] where a
//! MANIFEST completes them. docs/checkpoints.md tells the whole story.

use serde::{Deserialize, Serialize};

/// A checkpoint's number. Epoch 0 is the run's start (or the checkpoint it resumed
/// from); each checkpoint closes the current epoch and opens the next.
pub type Epoch = u64;

/// One old worker's position in a source, as stored in a checkpoint and handed to
/// [`crate::io::SourceReader::seek`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePosition {
    /// The worker's index among all workers of the run that took the checkpoint.
    pub worker: usize,
    /// How many workers that run had.
    pub workers: usize,
    /// What [`crate::io::SourceReader::position`] returned.
    pub bytes: Vec<u8>,
}

pub mod coordinator;
pub mod cut;
pub mod keyed;
pub mod stamp;
pub mod store;
pub mod writer;

pub use coordinator::{CheckpointConfig, Checkpoints};
pub use store::{CheckpointError, Store};
