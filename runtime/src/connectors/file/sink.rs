//! Writing records to a file as JSON lines or CSV, shared by all workers of a process.

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use weir_engine::checkpoint::Epoch;
use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::config::FileConfig;
use crate::format::Encoder;

/// A file sink: creates parent directories and the file when opened, appends each
/// batch under one lock, and flushes on [`SinkWriter::flush`]. The file is emptied on the
/// first write or flush, not at open, so that a run resuming from a checkpoint can
/// [`SinkWriter::restore`] it to the length that checkpoint committed instead.
///
/// Output goes straight to the final path (not written aside and renamed). With
/// checkpoints, [`SinkWriter::prepare_commit`] flushes and fsyncs and returns the file's
/// length: the committed output is that prefix; a reader may see a tail beyond it until
/// the next checkpoint completes, and a resumed run cuts that tail off first.
pub struct FileSink {
    path: String,
    /// The file, shared by the writers of every shape written to it.
    out: Arc<Mutex<Out>>,
    encoder: Encoder,
}

/// The open file and what opening it still owes.
struct Out {
    file: BufWriter<File>,
    /// The header (CSV), written again when a restore empties the file.
    header: Vec<u8>,
    /// The file still holds what was there before the run: empty it before writing.
    stale: bool,
}

impl Out {
    /// Empties a stale file (and writes the header again) before anything is written.
    fn fresh(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        if self.stale {
            self.stale = false;
            let file = self.file.get_mut();
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
        }
        Ok(&mut self.file)
    }
}

impl FileSink {
    /// Opens the file of `config` for records of `schema` (writing the CSV header now).
    pub fn open(config: &FileConfig, schema: &Schema) -> Result<FileSink, IoError> {
        let mut writers = FileSink::open_shapes(config, std::slice::from_ref(schema))?;
        writers
            .pop()
            .ok_or_else(|| IoError::Config("a file sink needs a record shape".into()))
    }

    /// Opens the file of `config` once, with one writer per record shape in `shapes`,
    /// in order. Only JSON lines (each record with its own field names) holds several
    /// shapes; the checker allows more than one only then. The CSV header is the first
    /// shape's.
    pub fn open_shapes(config: &FileConfig, shapes: &[Schema]) -> Result<Vec<FileSink>, IoError> {
        let path = config.path.display().to_string();
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| {
                IoError::os(
                    format!(
                        "cannot create directory `{}` for sink file `{path}`",
                        dir.display()
                    ),
                    e,
                )
            })?;
        }
        let file = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&config.path)
            .map_err(|e| IoError::os(format!("cannot create sink file `{path}`"), e))?;
        let encoders: Vec<Encoder> = shapes
            .iter()
            .map(|s| Encoder::new(config.format, s))
            .collect();
        let mut header = Vec::new();
        if let Some(first) = encoders.first() {
            first
                .begin(&mut header)
                .map_err(|e| IoError::os(format!("cannot write sink file `{path}`"), e))?;
        }
        let mut file = BufWriter::with_capacity(1 << 16, file);
        file.write_all(&header)
            .map_err(|e| IoError::os(format!("cannot write sink file `{path}`"), e))?;
        let out = Arc::new(Mutex::new(Out {
            file,
            header,
            stale: true,
        }));
        Ok(encoders
            .into_iter()
            .map(|encoder| FileSink {
                path: path.clone(),
                out: Arc::clone(&out),
                encoder,
            })
            .collect())
    }

    fn error(&self, e: std::io::Error) -> IoError {
        IoError::os(format!("cannot write sink file `{}`", self.path), e)
    }
}

impl SinkWriter for FileSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let mut out = self.out.lock();
        let file = out.fresh().map_err(|e| self.error(e))?;
        for event in events {
            self.encoder
                .encode(&event.record, &mut *file)
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        let mut out = self.out.lock();
        out.fresh()
            .and_then(|file| file.flush())
            .map_err(|e| self.error(e))
    }

    /// Flushes and fsyncs; the file's length is what this checkpoint commits.
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let mut out = self.out.lock();
        let file = out.fresh().map_err(|e| self.error(e))?;
        file.flush().map_err(|e| self.error(e))?;
        let file = file.get_mut();
        file.sync_data().map_err(|e| self.error(e))?;
        let len = file.stream_position().map_err(|e| self.error(e))?;
        Ok(Some(len.to_le_bytes().to_vec()))
    }

    /// Cuts the file back to the length the checkpoint committed (empty, with its
    /// header, when it committed nothing).
    fn restore(&self, state: Option<&[u8]>) -> Result<(), IoError> {
        let len = state
            .and_then(|b| b.get(..8))
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        let mut out = self.out.lock();
        let unwritten = out.file.get_ref().try_clone().map_err(|e| self.error(e))?;
        // Drop what is buffered (the header of a fresh open) without writing it.
        let (mut file, _) =
            std::mem::replace(&mut out.file, BufWriter::new(unwritten)).into_parts();
        let now = file.metadata().map_err(|e| self.error(e))?.len();
        if now < len {
            return Err(IoError::Other(format!(
                "sink file `{}` holds {now} bytes, fewer than the {len} its checkpoint \
                 committed: it was changed while the run was down (run with --fresh)",
                self.path
            )));
        }
        file.set_len(len).map_err(|e| self.error(e))?;
        file.seek(SeekFrom::Start(len)).map_err(|e| self.error(e))?;
        let mut file = BufWriter::with_capacity(1 << 16, file);
        if len == 0 {
            file.write_all(&out.header).map_err(|e| self.error(e))?;
        }
        out.file = file;
        out.stale = false;
        Ok(())
    }
}
