//! Printing records to standard output (or any writer, for tests).

use std::io::{self, Write};

use parking_lot::Mutex;
use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::config::StdoutConfig;
use crate::format::Encoder;

/// A sink printing each batch in one write, so batches from different workers never
/// interleave within a line.
pub struct StdoutSink {
    state: Mutex<State>,
}

struct State {
    encoder: Encoder,
    buffer: Vec<u8>,
    out: Box<dyn Write + Send>,
    begun: bool,
}

impl StdoutSink {
    /// A sink printing records of `schema` to standard output.
    pub fn new(config: &StdoutConfig, schema: &Schema) -> StdoutSink {
        StdoutSink::with_writer(config, schema, Box::new(io::stdout()))
    }

    /// A sink printing records of `schema` to `out`.
    pub fn with_writer(
        config: &StdoutConfig,
        schema: &Schema,
        out: Box<dyn Write + Send>,
    ) -> StdoutSink {
        StdoutSink {
            state: Mutex::new(State {
                encoder: Encoder::new(config.format, schema),
                buffer: Vec::with_capacity(1 << 14),
                out,
                begun: false,
            }),
        }
    }
}

fn stdout_error(e: io::Error) -> IoError {
    IoError::os("cannot write to standard output", e)
}

impl SinkWriter for StdoutSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let mut state = self.state.lock();
        let State {
            encoder,
            buffer,
            out,
            begun,
        } = &mut *state;
        buffer.clear();
        if !*begun {
            encoder.begin(buffer).map_err(stdout_error)?;
            *begun = true;
        }
        for event in events {
            encoder
                .encode(&event.record, buffer)
                .map_err(stdout_error)?;
        }
        out.write_all(buffer).map_err(stdout_error)
    }

    fn flush(&self) -> Result<(), IoError> {
        self.state.lock().out.flush().map_err(stdout_error)
    }

    /// Printed lines cannot be taken back, and a terminal shows them as they come: a
    /// resumed run prints again what came after its checkpoint (at-least-once), and says
    /// so. Exactly-once output goes to a `file(…)` sink (docs/checkpoints.md).
    fn restore(&self, _state: Option<&[u8]>) -> Result<(), IoError> {
        eprintln!(
            "weir: sink `stdout`: the records printed after the checkpoint this run resumes \
             from are printed again (at-least-once); a `file(…)` sink writes each once"
        );
        Ok(())
    }
}
