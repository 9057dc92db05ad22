//! Checkpoints: consistent snapshots of every operator's state and every source's
//! position, taken at epochs, from which a run resumes after a crash.
//!
//! (Interface only; the mechanism is described in docs/checkpoints.md once it lands.)

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

pub mod stamp;
