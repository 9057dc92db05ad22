//! Reading a JSON lines or CSV file into records, reporting bad lines with their line
//! number and carrying on.

use std::fs::File;
use std::io::{BufRead, BufReader};

use ::csv::ByteRecord;
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::config::FileConfig;
use crate::format::csv::{row_text, CsvDecoder};
use crate::format::json::JsonDecoder;
use crate::format::{DecodeError, Format};

/// Reads a file source.
///
/// Only worker 0 reads the file; every other worker's reader is finished from the start.
/// (Splitting a file across workers by byte range is left for later.)
pub struct FileSource {
    source: String,
    path: String,
    reader: Reader,
}

enum Reader {
    Done,
    Json {
        input: BufReader<File>,
        decoder: JsonDecoder,
        line: Vec<u8>,
        line_no: u64,
    },
    Csv {
        input: ::csv::Reader<File>,
        decoder: CsvDecoder,
        row: ByteRecord,
    },
}

impl FileSource {
    /// Opens `worker`'s share of the file of `config` for source `source` with `schema`.
    ///
    /// Fails when the file cannot be opened, or when a CSV header lacks a column for a
    /// non-nullable field.
    pub fn open(
        source: &str,
        config: &FileConfig,
        schema: &Schema,
        worker: WorkerInfo,
    ) -> Result<FileSource, IoError> {
        let path = config.path.display().to_string();
        let mut this = FileSource {
            source: source.to_string(),
            path: path.clone(),
            reader: Reader::Done,
        };
        if worker.index != 0 {
            return Ok(this);
        }
        let file = File::open(&config.path)
            .map_err(|e| IoError::os(format!("cannot open source file `{path}`"), e))?;
        this.reader = match config.format {
            Format::Jsonl => Reader::Json {
                input: BufReader::with_capacity(1 << 16, file),
                decoder: JsonDecoder::new(schema),
                line: Vec::new(),
                line_no: 0,
            },
            Format::Csv => {
                let mut input = ::csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(file);
                let header = input
                    .byte_headers()
                    .map_err(|e| csv_error(&path, e))?
                    .clone();
                if header.is_empty() {
                    // An empty file: no header, no rows.
                    Reader::Done
                } else {
                    let names: Vec<String> = header
                        .iter()
                        .map(|h| String::from_utf8_lossy(h).into_owned())
                        .collect();
                    let decoder = CsvDecoder::new(schema, names.iter().map(String::as_str))
                        .map_err(|e| IoError::Other(format!("source file `{path}`: {e}")))?;
                    Reader::Csv {
                        input,
                        decoder,
                        row: ByteRecord::new(),
                    }
                }
            }
        };
        Ok(this)
    }

    fn bad(&self, line: u64, error: DecodeError, raw: String) -> BadRecord {
        BadRecord {
            source: self.source.clone(),
            location: format!("{}:{line}", self.path),
            field: error.field,
            reason: error.reason,
            raw,
        }
    }
}

fn csv_error(path: &str, e: ::csv::Error) -> IoError {
    let context = format!("cannot read source file `{path}`");
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => IoError::os(context, io),
        other => IoError::Other(format!("{context}: {other:?}")),
    }
}

impl SourceReader for FileSource {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        let mut taken = 0;
        while taken < max {
            let outcome = match &mut self.reader {
                Reader::Done => return Ok(SourceStatus::Finished),
                Reader::Json {
                    input,
                    decoder,
                    line,
                    line_no,
                } => {
                    line.clear();
                    let read = input.read_until(b'\n', line).map_err(|e| {
                        IoError::os(format!("cannot read source file `{}`", self.path), e)
                    })?;
                    if read == 0 {
                        None
                    } else {
                        *line_no += 1;
                        let mut text: &[u8] = line;
                        while let [rest @ .., b'\n' | b'\r'] = text {
                            text = rest;
                        }
                        if *line_no == 1 {
                            text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
                        }
                        if text.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        let result = match std::str::from_utf8(text) {
                            Ok(s) => decoder.decode(s),
                            Err(_) => Err(DecodeError::record("the line is not valid UTF-8")),
                        };
                        let raw = || String::from_utf8_lossy(text).into_owned();
                        Some((*line_no, result.map_err(|e| (e, raw()))))
                    }
                }
                Reader::Csv {
                    input,
                    decoder,
                    row,
                } => {
                    let more = input
                        .read_byte_record(row)
                        .map_err(|e| csv_error(&self.path, e))?;
                    if !more {
                        None
                    } else {
                        let line_no = row.position().map_or(0, |p| p.line());
                        Some((line_no, decoder.decode(row).map_err(|e| (e, row_text(row)))))
                    }
                }
            };
            match outcome {
                None => {
                    self.reader = Reader::Done;
                    return Ok(SourceStatus::Finished);
                }
                Some((_, Ok(record))) => out.push(record),
                Some((line_no, Err((error, raw)))) => bad.push(self.bad(line_no, error, raw)),
            }
            taken += 1;
        }
        Ok(SourceStatus::Ready)
    }
}
