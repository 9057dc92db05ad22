//! Writing records to a file as JSON lines or CSV, shared by all workers of a process.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::config::FileConfig;
use crate::format::Encoder;

/// A file sink: creates parent directories and the file (truncating it) when opened,
/// appends each batch under one lock, and flushes on [`SinkWriter::flush`].
///
/// Output goes straight to the final path (not written aside and renamed).
pub struct FileSink {
    path: String,
    /// The file, shared by the writers of every shape written to it.
    out: Arc<Mutex<BufWriter<File>>>,
    encoder: Encoder,
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
        let file = File::create(&config.path)
            .map_err(|e| IoError::os(format!("cannot create sink file `{path}`"), e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let encoders: Vec<Encoder> = shapes
            .iter()
            .map(|s| Encoder::new(config.format, s))
            .collect();
        if let Some(first) = encoders.first() {
            first
                .begin(&mut out)
                .map_err(|e| IoError::os(format!("cannot write sink file `{path}`"), e))?;
        }
        let out = Arc::new(Mutex::new(out));
        Ok(encoders
            .into_iter()
            .map(|encoder| FileSink {
                path: path.clone(),
                out: Arc::clone(&out),
                encoder,
            })
            .collect())
    }
}

impl SinkWriter for FileSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let mut out = self.out.lock();
        for event in events {
            self.encoder
                .encode(&event.record, &mut *out)
                .map_err(|e| IoError::os(format!("cannot write sink file `{}`", self.path), e))?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        self.out
            .lock()
            .flush()
            .map_err(|e| IoError::os(format!("cannot write sink file `{}`", self.path), e))
    }
}
