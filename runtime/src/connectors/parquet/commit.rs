//! Parts of a lake under checkpoints, as Flink's FileSink keeps them: a file is written
//! in progress (`.part-….parquet.inprogress`), closed as pending (`.part-….parquet.pending`,
//! complete and synced but hidden from readers), and committed (renamed to
//! `part-….parquet`) only once the checkpoint it belongs to is complete.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use weir_engine::checkpoint::Epoch;
use weir_engine::io::IoError;

/// Suffix of files complete but not yet committed; with the leading `.`, readers skip
/// them.
pub(super) const PENDING: &str = ".pending";

/// A closed file waiting for its checkpoint: where it is and the name it will have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Part {
    pub pending: PathBuf,
    pub target: PathBuf,
}

impl Part {
    /// Renames the part to its final name; a part already renamed (a commit repeated
    /// after a restore) is fine.
    pub fn commit(&self) -> Result<(), IoError> {
        match fs::rename(&self.pending, &self.target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.target.exists() => Ok(()),
            Err(e) => Err(IoError::os(
                format!(
                    "cannot commit `{}` as `{}`",
                    self.pending.display(),
                    self.target.display()
                ),
                e,
            )),
        }
    }
}

/// What a checkpointing lake remembers between a checkpoint's prepare and its commit.
#[derive(Default)]
pub(super) struct Pending {
    /// Closed since the last prepare: they go into the next checkpoint.
    unprepared: Vec<Part>,
    /// Prepared for a checkpoint, by its epoch, not yet committed.
    prepared: BTreeMap<Epoch, Vec<Part>>,
}

impl Pending {
    /// A file closed (rotated) while checkpoints are on.
    pub fn closed(&mut self, part: Part) {
        self.unprepared.push(part);
    }

    /// Moves the parts closed so far into checkpoint `epoch` and returns every part a
    /// commit of `epoch` will make visible (earlier checkpoints that never completed
    /// included), encoded for the checkpoint.
    pub fn prepare(&mut self, epoch: Epoch) -> Result<Vec<u8>, IoError> {
        let parts = std::mem::take(&mut self.unprepared);
        self.prepared.entry(epoch).or_default().extend(parts);
        let all: Vec<&Part> = self.prepared.range(..=epoch).flat_map(|(_, p)| p).collect();
        serde_json::to_vec(&all)
            .map_err(|e| IoError::Other(format!("cannot encode the lake's pending parts: {e}")))
    }

    /// Commits every part prepared for `epoch` or earlier.
    pub fn commit(&mut self, epoch: Epoch) -> Result<(), IoError> {
        let later = self.prepared.split_off(&(epoch + 1));
        let due = std::mem::replace(&mut self.prepared, later);
        for part in due.values().flatten() {
            part.commit()?;
        }
        Ok(())
    }

    /// Every part closed and not committed (the end of a run commits them).
    pub fn drain(&mut self) -> Vec<Part> {
        let mut all: Vec<Part> = std::mem::take(&mut self.prepared)
            .into_values()
            .flatten()
            .collect();
        all.append(&mut self.unprepared);
        all
    }
}

/// Decodes what [`Pending::prepare`] returned.
pub(super) fn decode(state: &[u8]) -> Result<Vec<Part>, IoError> {
    serde_json::from_slice(state).map_err(|e| {
        IoError::Other(format!(
            "the checkpoint's record of the lake's pending parts is unreadable: {e}"
        ))
    })
}

/// Removes `writer`'s pending files under `root` that are not in `keep` (written after
/// the checkpoint a run resumes from, or by a run that never completed a checkpoint);
/// returns how many.
pub(super) fn discard_uncommitted(root: &Path, writer: usize, keep: &[Part]) -> u64 {
    let prefix = format!(".part-{writer}-");
    let mut removed = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
                continue;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with(&prefix) && name.ends_with(PENDING);
            if ours && !keep.iter().any(|p| p.pending == path) && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}
