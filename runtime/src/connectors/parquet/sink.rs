//! Writing records into Hive-partitioned Parquet files, shared by all workers of a
//! process: one open file per partition, rotated by age and size, renamed into place
//! when complete.

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::SchemaRef;
use parking_lot::Mutex;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression as ParquetCompression;
use parquet::file::properties::WriterProperties;
use weir_engine::checkpoint::Epoch;
use weir_engine::clock::Clock;
use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::columns::{arrow_schema, record_batch};
use super::commit::{self, Part, Pending, PENDING};
use super::config::{Compression, ParquetConfig};
use super::partition::Partitioner;

/// Suffix of files still being written; with the leading `.`, readers skip them.
const IN_PROGRESS: &str = ".inprogress";

/// A Parquet lake sink.
///
/// Each partition directory has at most one open file, written under a hidden temporary
/// name and renamed to `part-<writer>-<seq>.parquet` when it is closed: on rotation,
/// and for all files on [`SinkWriter::flush`] (the end of a run). Sequence numbers
/// continue after the files already in the lake, so a second run adds files and never
/// replaces one. Rotation by age is checked whenever records are written and, through
/// [`SinkWriter::tick`], when the oldest file is due even if no records come.
///
/// Under checkpoints (from [`SinkWriter::restore`], which a checkpointed run calls before
/// writing, with `None` when it starts fresh, or else from the first
/// [`SinkWriter::prepare_commit`]) a closed file is not renamed to its final name but kept
/// hidden as pending (`.part-….parquet.pending`) until [`SinkWriter::commit`] of the
/// checkpoint that holds it: see [`super::commit`].
pub struct ParquetSink {
    root: PathBuf,
    schema: Schema,
    arrow: SchemaRef,
    properties: WriterProperties,
    partitioner: Partitioner,
    rotate_after_ms: Option<i64>,
    rotate_bytes: Option<u64>,
    writer_id: usize,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// Held while open: see [`lock_writer`].
    _lock: Flock<fs::File>,
}

struct State {
    open: HashMap<String, OpenFile>,
    next_seq: u64,
    /// Checkpoints are on: closed files wait as pending for their checkpoint's commit.
    checkpointed: bool,
    pending: Pending,
}

impl State {
    /// Closes `file`: renamed into place, or kept pending under checkpoints.
    fn retire(&mut self, file: OpenFile) -> Result<(), IoError> {
        if self.checkpointed {
            let part = close_pending(file)?;
            self.pending.closed(part);
        } else {
            close(file)?;
        }
        Ok(())
    }
}

struct OpenFile {
    temp: PathBuf,
    target: PathBuf,
    writer: ArrowWriter<File>,
    opened_at: i64,
}

fn os(context: String) -> impl FnOnce(std::io::Error) -> IoError {
    move |e| IoError::os(context, e)
}

impl ParquetSink {
    /// Opens the lake of `config` for records of `schema`; `writer_id` names this
    /// process's files, `clock` times rotation.
    pub fn open(
        config: &ParquetConfig,
        schema: &Schema,
        writer_id: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<ParquetSink, IoError> {
        let partitioner = Partitioner::new(&config.partition_by, schema).map_err(|e| {
            IoError::Config(format!("`parquet` sink `{}`: {e}", config.path.display()))
        })?;
        fs::create_dir_all(&config.path).map_err(os(format!(
            "cannot create the lake directory `{}`",
            config.path.display()
        )))?;
        let arrow = arrow_schema(schema, config.column_names).map_err(|e| {
            IoError::Config(format!("`parquet` sink `{}`: {e}", config.path.display()))
        })?;
        let lock = lock_writer(&config.path, writer_id)?;
        let next_seq = next_sequence(&config.path, writer_id).map_err(os(format!(
            "cannot list the lake directory `{}`",
            config.path.display()
        )))?;
        reclaim_unfinished(&config.path, writer_id);
        let properties = WriterProperties::builder()
            .set_max_row_group_size(config.row_group_size)
            .set_compression(match config.compression {
                Compression::Snappy => ParquetCompression::SNAPPY,
                Compression::None => ParquetCompression::UNCOMPRESSED,
            })
            .set_created_by(format!("weir {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ParquetSink {
            root: config.path.clone(),
            schema: schema.clone(),
            arrow,
            properties,
            partitioner,
            rotate_after_ms: config.rotate_after_ms,
            rotate_bytes: config.rotate_bytes,
            writer_id,
            clock,
            state: Mutex::new(State {
                open: HashMap::new(),
                next_seq,
                checkpointed: false,
                pending: Pending::default(),
            }),
            _lock: lock,
        })
    }

    fn open_file(&self, state: &mut State, partition: &str) -> Result<OpenFile, IoError> {
        let dir = if partition.is_empty() {
            self.root.clone()
        } else {
            self.root.join(partition)
        };
        fs::create_dir_all(&dir).map_err(os(format!(
            "cannot create the partition directory `{}`",
            dir.display()
        )))?;
        // Claim a sequence number no file in this directory has, even if another sink
        // writes into the same lake.
        let (temp, target, file) = loop {
            let seq = state.next_seq;
            state.next_seq += 1;
            let name = format!("part-{}-{seq}.parquet", self.writer_id);
            let target = dir.join(&name);
            let temp = dir.join(format!(".{name}{IN_PROGRESS}"));
            if target.exists() {
                continue;
            }
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => break (temp, target, file),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(IoError::os(
                        format!("cannot create the Parquet file `{}`", temp.display()),
                        e,
                    ))
                }
            }
        };
        let writer =
            ArrowWriter::try_new(file, Arc::clone(&self.arrow), Some(self.properties.clone()))
                .map_err(|e| {
                    IoError::Other(format!(
                        "cannot start the Parquet file `{}`: {e}",
                        temp.display()
                    ))
                })?;
        Ok(OpenFile {
            temp,
            target,
            writer,
            opened_at: self.clock.now(),
        })
    }

    fn write_rows(&self, file: &mut OpenFile, rows: &[&Record]) -> Result<(), IoError> {
        let batch = record_batch(&self.schema, &self.arrow, rows).map_err(|e| {
            IoError::Other(format!(
                "cannot encode records for `{}`: {e}",
                file.target.display()
            ))
        })?;
        file.writer
            .write(&batch)
            .map_err(|e| IoError::Other(format!("cannot write `{}`: {e}", file.temp.display())))
    }

    fn is_full(&self, file: &OpenFile) -> bool {
        self.rotate_bytes.is_some_and(|limit| {
            (file.writer.bytes_written() + file.writer.in_progress_size()) as u64 >= limit
        })
    }
}

impl ParquetSink {
    /// Closes the files open for `rotate`'s age or longer; returns when the oldest file
    /// still open will be due (none without an age limit or an open file).
    fn close_expired(&self, state: &mut State) -> Result<Option<i64>, IoError> {
        let Some(age) = self.rotate_after_ms else {
            return Ok(None);
        };
        let now = self.clock.now();
        let expired: Vec<String> = state
            .open
            .iter()
            .filter(|(_, f)| now - f.opened_at >= age)
            .map(|(p, _)| p.clone())
            .collect();
        for partition in expired {
            if let Some(file) = state.open.remove(&partition) {
                state.retire(file)?;
            }
        }
        Ok(state
            .open
            .values()
            .map(|f| f.opened_at.saturating_add(age))
            .min())
    }
}

/// Finishes `file` (footer, fsync); returns its temporary and final names.
fn finish(file: OpenFile) -> Result<(PathBuf, PathBuf), IoError> {
    let OpenFile {
        temp,
        target,
        writer,
        ..
    } = file;
    let out = writer
        .into_inner()
        .map_err(|e| IoError::Other(format!("cannot finish `{}`: {e}", temp.display())))?;
    out.sync_all()
        .map_err(os(format!("cannot sync `{}`", temp.display())))?;
    Ok((temp, target))
}

/// Finishes `file` and renames it to its final name.
fn close(file: OpenFile) -> Result<PathBuf, IoError> {
    let (temp, target) = finish(file)?;
    fs::rename(&temp, &target).map_err(os(format!(
        "cannot rename `{}` to `{}`",
        temp.display(),
        target.display()
    )))?;
    Ok(target)
}

/// Finishes `file` and renames it to its hidden pending name, durably (the directory is
/// synced too): a checkpoint that names it can commit it after a crash.
fn close_pending(file: OpenFile) -> Result<Part, IoError> {
    let (temp, target) = finish(file)?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
    let pending = target.with_file_name(format!(".{}{PENDING}", name.unwrap_or_default()));
    fs::rename(&temp, &pending).map_err(os(format!(
        "cannot rename `{}` to `{}`",
        temp.display(),
        pending.display()
    )))?;
    if let Some(dir) = pending.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(os(format!("cannot sync the directory `{}`", dir.display())))?;
    }
    Ok(Part { pending, target })
}

/// Takes the lake's lock file for `writer` (`.weir-writer-<n>.lock`, held while the sink
/// is open), so no other live run writes files under the same writer number: its
/// `.inprogress` files are then orphans of an earlier run that did not finish.
fn lock_writer(root: &Path, writer: usize) -> Result<Flock<fs::File>, IoError> {
    let path = root.join(format!(".weir-writer-{writer}.lock"));
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(os(format!(
            "cannot open the lock file `{}`",
            path.display()
        )))?;
    // flock(2), released when the file closes (also when the process dies).
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(lock),
        Err((_, Errno::EWOULDBLOCK)) => Err(IoError::Config(format!(
            "the lake `{}` is being written by another running weir as writer {writer}; \
             give this sink another folder",
            root.display()
        ))),
        Err((_, errno)) => Err(IoError::os(
            format!("cannot lock `{}`", path.display()),
            std::io::Error::from(errno),
        )),
    }
}

/// Removes `writer`'s `.inprogress` files under `root`, left by a run that crashed or
/// was killed (the caller holds the writer's lock, so none is being written), saying so.
fn reclaim_unfinished(root: &Path, writer: usize) {
    let prefix = format!(".part-{writer}-");
    let mut removed = 0u64;
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
            if name.starts_with(&prefix)
                && name.ends_with(IN_PROGRESS)
                && fs::remove_file(&path).is_ok()
            {
                removed += 1;
            }
        }
    }
    if removed > 0 {
        eprintln!(
            "weir: parquet lake `{}`: removed {removed} unfinished file{} (`.inprogress`) \
             left by an earlier run that did not finish",
            root.display(),
            if removed == 1 { "" } else { "s" }
        );
    }
}

/// One more than the largest sequence number of `writer`'s files anywhere under `root`.
fn next_sequence(root: &Path, writer: usize) -> std::io::Result<u64> {
    let prefix = format!("part-{writer}-");
    let mut next = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                dirs.push(entry.path());
                continue;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let name = name
                .trim_start_matches('.')
                .trim_end_matches(IN_PROGRESS)
                .trim_end_matches(PENDING);
            if let Some(seq) = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".parquet"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                next = next.max(seq + 1);
            }
        }
    }
    Ok(next)
}

impl SinkWriter for ParquetSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        // Group the batch by partition, then append each group to its file.
        let mut groups: HashMap<String, Vec<&Record>> = HashMap::new();
        for event in events {
            groups
                .entry(self.partitioner.directory(&event.record))
                .or_default()
                .push(&event.record);
        }
        let mut state = self.state.lock();
        for (partition, rows) in groups {
            let mut file = match state.open.remove(&partition) {
                Some(file) => file,
                None => self.open_file(&mut state, &partition)?,
            };
            self.write_rows(&mut file, &rows)?;
            if self.is_full(&file) {
                state.retire(file)?;
            } else {
                state.open.insert(partition, file);
            }
        }
        self.close_expired(&mut state)?;
        Ok(())
    }

    fn tick(&self) -> Result<Option<i64>, IoError> {
        // The sink operator calls this when the oldest file is due, records or not.
        self.close_expired(&mut self.state.lock())
    }

    /// The end of a run: every file, open or pending, gets its final name (under
    /// checkpoints the engine takes a last checkpoint first, so nothing is pending).
    fn flush(&self) -> Result<(), IoError> {
        let mut state = self.state.lock();
        let mut first_error = None;
        for (_, file) in state.open.drain() {
            if let Err(e) = close(file) {
                first_error.get_or_insert(e);
            }
        }
        for part in state.pending.drain() {
            if let Err(e) = part.commit() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Closes every open file as pending and hands the checkpoint the parts its commit
    /// will rename.
    fn prepare_commit(&self, epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let mut state = self.state.lock();
        state.checkpointed = true;
        let open: Vec<OpenFile> = state.open.drain().map(|(_, f)| f).collect();
        for file in open {
            state.retire(file)?;
        }
        state.pending.prepare(epoch).map(Some)
    }

    fn commit(&self, epoch: Epoch) -> Result<(), IoError> {
        self.state.lock().pending.commit(epoch)
    }

    /// Commits the parts the checkpoint prepared (its commit may not have happened
    /// before the crash) and deletes this writer's pending parts written after it.
    fn restore(&self, state: Option<&[u8]>) -> Result<(), IoError> {
        let parts = state.map(commit::decode).transpose()?.unwrap_or_default();
        let mut own = self.state.lock();
        own.checkpointed = true;
        for part in &parts {
            part.commit()?;
        }
        let removed = commit::discard_uncommitted(&self.root, self.writer_id, &parts);
        if removed > 0 {
            eprintln!(
                "weir: parquet lake `{}`: removed {removed} pending file{} written after \
                 the checkpoint this run resumes from",
                self.root.display(),
                if removed == 1 { "" } else { "s" }
            );
        }
        Ok(())
    }
}
