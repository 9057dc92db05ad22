//! The checkpoint store: one directory per epoch under the checkpoint directory, one
//! file per part (an operator's state on a worker, a source's position on a worker, a
//! sink's commit state on a process), and a MANIFEST that makes the epoch complete.
//!
//! Every file is written to a temporary name, fsynced and renamed, and carries a CRC-32
//! of its contents: a crash mid-write leaves either the old state or a file that fails
//! its check, never a silently torn one. Only epochs with a valid MANIFEST whose parts
//! all pass their checks are restored from; a torn or corrupt one is skipped, named in
//! [`Latest::skipped`], and the previous complete one used.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::Epoch;

/// The file that makes an epoch's checkpoint complete.
pub const MANIFEST: &str = "MANIFEST";
/// Complete checkpoints kept; older ones are removed when a new one completes.
pub const KEEP: usize = 2;
const MAGIC: &[u8; 4] = b"WCP1";
/// A part's header: [`MAGIC`], the CRC-32 of the body and the body's length.
const HEADER: usize = 16;

/// The version of the operators' state encodings. Raise it whenever one changes (an
/// operator's fields, a detector's saved layout): a checkpoint of another version is
/// refused by name instead of being misread. Manifests written before the version was
/// recorded read as 1. 2: `rcf` saves its shared point ring and 12-byte leaves.
pub const STATE_FORMAT: u32 = 2;

fn first_state_format() -> u32 {
    1
}

/// What can go wrong reading or writing checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file system refused a read or write.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file did not pass its checks (torn or corrupted).
    #[error("checkpoint file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// Which check failed.
        reason: String,
    },
    /// The newest complete checkpoint was taken by a different pipeline.
    #[error(
        "the checkpoint in {dir} (epoch {epoch}) was taken by a different pipeline: {change}; \
         run with --fresh to discard it and start over"
    )]
    PlanChanged {
        /// The checkpoint directory.
        dir: String,
        /// The checkpoint's epoch.
        epoch: Epoch,
        /// The first difference between the stored plan and this one.
        change: String,
    },
    /// The newest complete checkpoint holds state in an encoding this build cannot read.
    #[error(
        "the checkpoint in {dir} (epoch {epoch}) holds state in format {found}, written by \
         another version of Weir; this one reads format {STATE_FORMAT}: resume it with the \
         Weir that wrote it, or run with --fresh to discard it and start over"
    )]
    StateFormat {
        /// The checkpoint directory.
        dir: String,
        /// The checkpoint's epoch.
        epoch: Epoch,
        /// The format the checkpoint records.
        found: u32,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One part named in a manifest, with what its file must hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    /// The part's file name in the epoch directory.
    pub name: String,
    /// CRC-32 of the part's contents.
    pub crc: u32,
    /// Length of the part's contents in bytes.
    pub len: u64,
}

/// The record of a complete checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The checkpoint's epoch.
    pub epoch: Epoch,
    /// The state encodings' version ([`STATE_FORMAT`]) of the Weir that took it.
    #[serde(default = "first_state_format")]
    pub state_format: u32,
    /// Hash of the plan that took it.
    pub plan_hash: u64,
    /// The plan's text, to say what changed when a different plan tries to resume.
    pub plan_text: String,
    /// Workers of the run that took it (all processes).
    pub workers: usize,
    /// Processes of that run.
    pub processes: usize,
    /// Every part of the checkpoint.
    pub parts: Vec<PartEntry>,
}

/// A complete checkpoint read back: its manifest and every part's contents.
#[derive(Debug)]
pub struct Restored {
    /// The manifest.
    pub manifest: Manifest,
    /// Part contents by name.
    pub parts: HashMap<String, Vec<u8>>,
}

impl Restored {
    /// The parts whose names start with `prefix`, with the rest of their names.
    pub fn parts_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.parts
            .iter()
            .filter_map(move |(n, b)| Some((n.strip_prefix(prefix)?, b.as_slice())))
    }
}

/// What [`Store::latest`] found.
#[derive(Debug, Default)]
pub struct Latest {
    /// The newest complete, valid checkpoint, if any.
    pub restored: Option<Restored>,
    /// Checkpoints newer than it that were skipped, with why (torn, corrupt).
    pub skipped: Vec<String>,
}

/// A checkpoint directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Store, CheckpointError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        Ok(Store { dir })
    }

    /// The checkpoint directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn epoch_dir(&self, epoch: Epoch) -> PathBuf {
        self.dir.join(format!("epoch-{epoch}"))
    }

    /// Writes part `name` of checkpoint `epoch` atomically; returns its manifest entry.
    pub fn write_part(
        &self,
        epoch: Epoch,
        name: &str,
        bytes: &[u8],
    ) -> Result<PartEntry, CheckpointError> {
        let dir = self.epoch_dir(epoch);
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let crc = crc32fast::hash(bytes);
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(MAGIC);
        header[4..8].copy_from_slice(&crc.to_le_bytes());
        header[8..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        write_atomically(&dir.join(name), &[&header[..], bytes])?;
        Ok(PartEntry {
            name: name.to_string(),
            crc,
            len: bytes.len() as u64,
        })
    }

    /// Reads part `name` of `epoch`, checking its frame and CRC.
    pub fn read_part(&self, epoch: Epoch, name: &str) -> Result<Vec<u8>, CheckpointError> {
        self.read_checked(epoch, name).map(|(part, _)| part)
    }

    /// Part `name` of `epoch` without its header, and its CRC (checked against the
    /// header): the body is read straight into its buffer and checked in one pass.
    fn read_checked(&self, epoch: Epoch, name: &str) -> Result<(Vec<u8>, u32), CheckpointError> {
        let path = self.epoch_dir(epoch).join(name);
        let corrupt = |reason: &str| CheckpointError::Corrupt {
            path: path.display().to_string(),
            reason: reason.to_string(),
        };
        let mut file = File::open(&path).map_err(io_error(&path))?;
        let mut header = [0u8; HEADER];
        let (crc, len) = file
            .read_exact(&mut header)
            .ok()
            .and_then(|()| header_of(&header))
            .ok_or_else(|| corrupt("no checkpoint header (torn write?)"))?;
        let size = file.metadata().map_err(io_error(&path))?.len();
        if size - HEADER as u64 != len {
            return Err(corrupt(
                "shorter or longer than its header says (torn write?)",
            ));
        }
        let mut body = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.read_to_end(&mut body).map_err(io_error(&path))?;
        if crc32fast::hash(&body) != crc || body.len() as u64 != len {
            return Err(corrupt("checksum mismatch"));
        }
        Ok((body, crc))
    }

    /// Whether every part in `names` of `epoch` has been written.
    pub fn has_parts(&self, epoch: Epoch, names: &[String]) -> bool {
        let dir = self.epoch_dir(epoch);
        names.iter().all(|n| dir.join(n).is_file())
    }

    /// Completes checkpoint `epoch` by writing its manifest atomically, then prunes all
    /// but the newest [`KEEP`] complete checkpoints (and any older incomplete ones).
    pub fn complete(&self, manifest: &Manifest) -> Result<(), CheckpointError> {
        let json = serde_json::to_vec_pretty(manifest).map_err(|e| CheckpointError::Corrupt {
            path: MANIFEST.into(),
            reason: e.to_string(),
        })?;
        self.write_part(manifest.epoch, MANIFEST, &json)?;
        self.prune(KEEP)
    }

    /// Whether checkpoint `epoch` has its manifest (it is complete).
    pub fn is_complete(&self, epoch: Epoch) -> bool {
        self.epoch_dir(epoch).join(MANIFEST).is_file()
    }

    /// The manifest entry of part `name` of `epoch`, from its file's header: the part
    /// was fsynced before it got its name, and a restore checks the whole of it.
    pub fn entry(&self, epoch: Epoch, name: &str) -> Result<PartEntry, CheckpointError> {
        let path = self.epoch_dir(epoch).join(name);
        let mut header = [0u8; HEADER];
        File::open(&path)
            .and_then(|mut f| f.read_exact(&mut header))
            .map_err(io_error(&path))?;
        let (crc, len) = header_of(&header).ok_or_else(|| CheckpointError::Corrupt {
            path: path.display().to_string(),
            reason: "no checkpoint header (torn write?)".into(),
        })?;
        Ok(PartEntry {
            name: name.to_string(),
            crc,
            len,
        })
    }

    /// Removes every epoch after `epoch` (all of them for `None`): what a run that
    /// resumes from `epoch` will write again. Called before any worker starts.
    pub fn discard_after(&self, epoch: Option<Epoch>) -> Result<(), CheckpointError> {
        for e in self.epochs()? {
            if epoch.is_none_or(|k| e > k) {
                let dir = self.epoch_dir(e);
                fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
            }
        }
        Ok(())
    }

    /// The epochs that have a directory, newest first.
    pub fn epochs(&self) -> Result<Vec<Epoch>, CheckpointError> {
        let mut epochs: Vec<Epoch> = fs::read_dir(&self.dir)
            .map_err(io_error(&self.dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_prefix("epoch-")?.parse().ok())
            .collect();
        epochs.sort_unstable_by(|a, b| b.cmp(a));
        Ok(epochs)
    }

    /// Reads and checks checkpoint `epoch`: its manifest and every part it names.
    pub fn read(&self, epoch: Epoch) -> Result<Restored, CheckpointError> {
        let json = self.read_part(epoch, MANIFEST)?;
        let path = self.epoch_dir(epoch).join(MANIFEST);
        let manifest: Manifest =
            serde_json::from_slice(&json).map_err(|e| CheckpointError::Corrupt {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        let parts = self.read_parts(epoch, &manifest.parts)?;
        Ok(Restored { manifest, parts })
    }

    /// Reads and checks `entries` of `epoch`, several files at once (each read and
    /// checksummed on its own thread, up to the machine's cores): a restore's time is
    /// mostly reading and checking the state.
    fn read_parts(
        &self,
        epoch: Epoch,
        entries: &[PartEntry],
    ) -> Result<HashMap<String, Vec<u8>>, CheckpointError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = entries.len().div_ceil(threads).max(1);
        let read_all = |entries: &[PartEntry]| -> Result<Vec<(String, Vec<u8>)>, CheckpointError> {
            entries.iter().map(|e| self.read_entry(epoch, e)).collect()
        };
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = entries
                .chunks(chunk)
                .map(|chunk| scope.spawn(move || read_all(chunk)))
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        let mut parts = HashMap::with_capacity(entries.len());
        for result in results {
            let read = result.map_err(|_| CheckpointError::Corrupt {
                path: self.epoch_dir(epoch).display().to_string(),
                reason: "reading a part failed (its thread panicked)".into(),
            })?;
            parts.extend(read?);
        }
        Ok(parts)
    }

    /// Part `entry` of `epoch`, checked against its manifest entry.
    fn read_entry(
        &self,
        epoch: Epoch,
        entry: &PartEntry,
    ) -> Result<(String, Vec<u8>), CheckpointError> {
        let (bytes, crc) = self.read_checked(epoch, &entry.name)?;
        if crc != entry.crc || bytes.len() as u64 != entry.len {
            return Err(CheckpointError::Corrupt {
                path: self
                    .epoch_dir(epoch)
                    .join(&entry.name)
                    .display()
                    .to_string(),
                reason: "does not match the manifest".into(),
            });
        }
        Ok((entry.name.clone(), bytes))
    }

    /// The newest complete checkpoint that passes its checks; newer ones that do not are
    /// skipped and named. A checkpoint of a plan other than `plan_hash` is refused.
    pub fn latest(&self, plan_hash: u64, plan_text: &str) -> Result<Latest, CheckpointError> {
        let mut latest = Latest::default();
        for epoch in self.epochs()? {
            match self.read(epoch) {
                Ok(restored) => {
                    if restored.manifest.state_format != STATE_FORMAT {
                        return Err(CheckpointError::StateFormat {
                            dir: self.dir.display().to_string(),
                            epoch,
                            found: restored.manifest.state_format,
                        });
                    }
                    if restored.manifest.plan_hash != plan_hash {
                        return Err(CheckpointError::PlanChanged {
                            dir: self.dir.display().to_string(),
                            epoch,
                            change: first_difference(&restored.manifest.plan_text, plan_text),
                        });
                    }
                    latest.restored = Some(restored);
                    break;
                }
                Err(e) => latest.skipped.push(format!(
                    "skipping checkpoint {}: {e}",
                    self.epoch_dir(epoch).display()
                )),
            }
        }
        Ok(latest)
    }

    /// Removes every epoch directory but the newest `keep` complete ones; incomplete
    /// epochs newer than the newest complete one are kept (they may still complete).
    pub fn prune(&self, keep: usize) -> Result<(), CheckpointError> {
        let epochs = self.epochs()?;
        let complete: Vec<Epoch> = epochs
            .iter()
            .copied()
            .filter(|&e| self.epoch_dir(e).join(MANIFEST).is_file())
            .collect();
        let Some(&oldest_kept) = complete.get(keep.min(complete.len()).wrapping_sub(1)) else {
            return Ok(());
        };
        for epoch in epochs.into_iter().filter(|&e| e < oldest_kept) {
            let dir = self.epoch_dir(epoch);
            fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
        }
        Ok(())
    }

    /// Removes every checkpoint (`--fresh`).
    pub fn clear(&self) -> Result<(), CheckpointError> {
        self.discard_after(None)
    }
}

/// Writes `bytes` to `path` through a temporary file, fsynced, renamed over `path`, and
/// the directory fsynced so the rename survives a power cut.
/// The CRC and body length a part's header holds, if it is one.
fn header_of(data: &[u8]) -> Option<(u32, u64)> {
    let header = data.get(..HEADER)?;
    if &header[..4] != MAGIC {
        return None;
    }
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    let len = u64::from_le_bytes(header[8..16].try_into().ok()?);
    Some((crc, len))
}

/// Writes `pieces` one after the other to `path`: temp file, fsync, rename, fsync of
/// the directory.
fn write_atomically(path: &Path, pieces: &[&[u8]]) -> Result<(), CheckpointError> {
    // Unique: the writer thread and the completion thread may both write an ended
    // owner's part (the same bytes); each renames its own complete file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let mut file = File::create(&tmp).map_err(io_error(&tmp))?;
    for piece in pieces {
        file.write_all(piece).map_err(io_error(&tmp))?;
    }
    file.sync_all().map_err(io_error(&tmp))?;
    fs::rename(&tmp, path).map_err(io_error(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))?;
    }
    Ok(())
}

/// The first line where two plan texts differ, for the refusal message.
pub fn first_difference(stored: &str, current: &str) -> String {
    let (mut old, mut new) = (stored.lines(), current.lines());
    for line in 1.. {
        match (old.next(), new.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => {
                return format!("plan line {line} was `{}`, is now `{}`", a.trim(), b.trim())
            }
            (Some(a), None) => return format!("plan line {line} `{}` was removed", a.trim()),
            (None, Some(b)) => return format!("plan line {line} `{}` was added", b.trim()),
            (None, None) => break,
        }
    }
    "the plan is the same but was built by another weir version".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(store: &Store, epoch: Epoch, parts: &[(&str, &[u8])]) -> Manifest {
        let parts = parts
            .iter()
            .map(|(n, b)| store.write_part(epoch, n, b).expect("write part"))
            .collect();
        Manifest {
            epoch,
            state_format: STATE_FORMAT,
            plan_hash: 7,
            plan_text: "source s\nwindow 10s\nsink out".into(),
            workers: 2,
            processes: 1,
            parts,
        }
    }

    #[test]
    fn a_complete_checkpoint_reads_back_its_parts() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let m = manifest(&store, 1, &[("op-3-w0", b"abc"), ("src-0-w1", b"")]);
        assert!(store.has_parts(1, &["op-3-w0".into(), "src-0-w1".into()]));
        assert!(!store.has_parts(1, &["op-3-w1".into()]));
        assert!(
            store.latest(7, "").expect("latest").restored.is_none(),
            "no manifest yet"
        );
        store.complete(&m).expect("complete");
        let latest = store.latest(7, &m.plan_text).expect("latest");
        let restored = latest.restored.expect("restored");
        assert_eq!(restored.manifest, m);
        assert_eq!(&restored.parts["op-3-w0"][..], b"abc");
        assert_eq!(&restored.parts["src-0-w1"][..], b"");
        assert!(latest.skipped.is_empty());
    }

    #[test]
    fn a_torn_or_corrupt_checkpoint_is_skipped_for_the_previous_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let m1 = manifest(&store, 1, &[("op-0-w0", b"one")]);
        store.complete(&m1).expect("complete 1");
        let m2 = manifest(&store, 2, &[("op-0-w0", b"two")]);
        store.complete(&m2).expect("complete 2");
        // Flip a byte of epoch 2's part: its checksum fails.
        let part = tmp.path().join("epoch-2/op-0-w0");
        let mut bytes = fs::read(&part).expect("read");
        *bytes.last_mut().expect("byte") ^= 0xff;
        fs::write(&part, bytes).expect("corrupt");
        let latest = store.latest(7, &m1.plan_text).expect("latest");
        assert_eq!(latest.restored.expect("previous").manifest.epoch, 1);
        assert_eq!(latest.skipped.len(), 1);
        assert!(
            latest.skipped[0].contains("epoch-2"),
            "{:?}",
            latest.skipped
        );
        assert!(
            latest.skipped[0].contains("checksum mismatch"),
            "{:?}",
            latest.skipped
        );

        // Epoch 3 torn: parts written but the manifest cut short.
        let m3 = manifest(&store, 3, &[("op-0-w0", b"three")]);
        store.complete(&m3).expect("complete 3");
        let path = tmp.path().join("epoch-3").join(MANIFEST);
        let whole = fs::read(&path).expect("manifest");
        fs::write(&path, &whole[..whole.len() / 2]).expect("tear");
        let latest = store.latest(7, &m1.plan_text).expect("latest");
        // Epoch 2 is corrupt and epoch 1 was pruned when 3 completed: nothing valid.
        assert!(latest.restored.is_none());
        assert_eq!(latest.skipped.len(), 2, "{:?}", latest.skipped);
        assert!(
            latest.skipped[0].contains("torn write"),
            "{:?}",
            latest.skipped
        );
    }

    #[test]
    fn only_the_newest_complete_checkpoints_are_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        for epoch in 1..=4 {
            let m = manifest(&store, epoch, &[("p", b"x")]);
            store.complete(&m).expect("complete");
        }
        // An epoch in progress, newer than every complete one, stays.
        store.write_part(5, "p", b"y").expect("write");
        let mut left: Vec<String> = fs::read_dir(tmp.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["epoch-3", "epoch-4", "epoch-5"]);
        store.clear().expect("clear");
        assert!(store.latest(7, "").expect("latest").restored.is_none());
    }

    #[test]
    fn a_checkpoint_of_another_plan_is_refused_naming_the_change() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let m = manifest(&store, 1, &[("p", b"x")]);
        store.complete(&m).expect("complete");
        let err = store
            .latest(8, "source s\nwindow 20s\nsink out")
            .expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("plan line 2 was `window 10s`, is now `window 20s`"),
            "{text}"
        );
        assert!(text.contains("--fresh"), "{text}");
    }

    #[test]
    fn a_checkpoint_of_another_state_format_is_refused_naming_both() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let m = manifest(&store, 1, &[("p", b"x")]);
        // As a Weir from before the version was recorded wrote it: no `state_format`.
        let mut json = serde_json::to_value(&m).expect("json");
        json.as_object_mut().expect("object").remove("state_format");
        let bytes = serde_json::to_vec(&json).expect("encode");
        store.write_part(1, MANIFEST, &bytes).expect("write");
        let err = store.latest(7, &m.plan_text).expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("holds state in format 1"), "{text}");
        assert!(
            text.contains(&format!("reads format {STATE_FORMAT}")),
            "{text}"
        );
        assert!(text.contains("--fresh"), "{text}");
    }
}
