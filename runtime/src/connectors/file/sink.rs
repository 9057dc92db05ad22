//! Writing records to a file as JSON lines or CSV, shared by all workers of a process.

use std::fs::{self, File};
use std::io::{BufWriter, Write};

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
    state: Mutex<State>,
}

struct State {
    out: BufWriter<File>,
    encoder: Encoder,
}

impl FileSink {
    /// Opens the file of `config` for records of `schema` (writing the CSV header now).
    pub fn open(config: &FileConfig, schema: &Schema) -> Result<FileSink, IoError> {
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
        let encoder = Encoder::new(config.format, schema);
        encoder
            .begin(&mut out)
            .map_err(|e| IoError::os(format!("cannot write sink file `{path}`"), e))?;
        Ok(FileSink {
            path,
            state: Mutex::new(State { out, encoder }),
        })
    }
}

impl SinkWriter for FileSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let mut state = self.state.lock();
        let State { out, encoder } = &mut *state;
        for event in events {
            encoder
                .encode(&event.record, out)
                .map_err(|e| IoError::os(format!("cannot write sink file `{}`", self.path), e))?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        self.state
            .lock()
            .out
            .flush()
            .map_err(|e| IoError::os(format!("cannot write sink file `{}`", self.path), e))
    }
}
