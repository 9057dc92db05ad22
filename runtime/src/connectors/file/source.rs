//! Reading a JSON lines or CSV file into records, reporting bad lines with their line
//! number and carrying on; optionally following the file as it grows.

use std::fs::File;

use ::csv::ByteRecord;
use weir_engine::checkpoint::{Epoch, SourcePosition};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::config::FileConfig;
use super::csv_records::{CsvRecords, CsvStep, OpenQuote};
use super::lines::{LineReader, NextLine, Restart};
use crate::connectors::raw_excerpt::raw_excerpt;
use crate::format::csv::{row_text, CsvDecoder};
use crate::format::json::JsonDecoder;
use crate::format::{DecodeError, Format};

/// Reads a file source.
///
/// A JSON lines file read as fast as possible is shared by byte range: each worker parses
/// the lines that start in its share, so parsing scales with workers. Otherwise (CSV,
/// whose quoted fields may hold newlines; `follow`; paced replay; a run with `--limit`,
/// which means the first N records) worker 0 reads the whole file and every other
/// worker's reader is finished from the start. With `follow`, the end of the file is not
/// the end of the source: the reader reports [`SourceStatus::Idle`] and reads again when
/// polled, until the run is stopped; a followed file that is truncated, or replaced by a
/// new file at its path (log rotation), is read again from its start, with a line on
/// stderr.
pub struct FileSource {
    source: String,
    path: String,
    /// The path as opened, to reread for line numbers.
    file_path: std::path::PathBuf,
    reader: Reader,
    /// Byte offset of this worker's first line (0 when reading the whole file).
    share_start: u64,
    /// Lines of the file before the share, counted when a bad line first needs its number.
    lines_before: Option<u64>,
    /// Bytes of a line kept, at most (`max_line`).
    max_line: usize,
    /// Where this worker's byte range starts, and where the next unread line starts:
    /// its checkpoint position.
    range_start: u64,
    reached: u64,
    /// Byte ranges read before a restore (by any worker of the run that took the
    /// checkpoint), skipped: lines starting in them were already read.
    done: Vec<(u64, u64)>,
}

enum Reader {
    Done,
    Json {
        lines: LineReader,
        decoder: JsonDecoder,
    },
    /// CSV records, cut from lines (a quoted field may span lines unless following).
    Csv {
        records: CsvRecords,
        schema: Schema,
        /// Known once the header has been read.
        decoder: Option<CsvDecoder>,
        row: ByteRecord,
    },
}

impl FileSource {
    /// Builds only the fields marked in `read` (by slot) of each JSON line; the others
    /// stay null (they are still checked, so the same lines are rejected).
    pub fn read_only(&mut self, read: &[bool]) {
        if let Reader::Json { decoder, .. } = &mut self.reader {
            *decoder = JsonDecoder::reading(decoder.schema(), read);
        }
    }

    /// Opens the file of `config` for source `source` with `schema`: worker 0 reads it
    /// all, other workers nothing.
    ///
    /// Fails when the file cannot be opened, or when a CSV header lacks a column for a
    /// non-nullable field.
    pub fn open(
        source: &str,
        config: &FileConfig,
        schema: &Schema,
        worker: WorkerInfo,
    ) -> Result<FileSource, IoError> {
        FileSource::open_share(source, config, schema, worker, false)
    }

    /// Like [`FileSource::open`], but when `shared` and the file is
    /// [`FileConfig::shareable`], `worker` reads only its byte range of the file.
    pub fn open_share(
        source: &str,
        config: &FileConfig,
        schema: &Schema,
        worker: WorkerInfo,
        shared: bool,
    ) -> Result<FileSource, IoError> {
        let path = config.path.display().to_string();
        let mut this = FileSource {
            source: source.to_string(),
            path: path.clone(),
            file_path: config.path.clone(),
            reader: Reader::Done,
            share_start: 0,
            lines_before: Some(0),
            max_line: config.max_line,
            range_start: 0,
            reached: 0,
            done: Vec::new(),
        };
        let shared = shared && worker.peers > 1 && config.shareable();
        if !shared && worker.index != 0 {
            return Ok(this);
        }
        let open_error = |e| IoError::os(format!("cannot open source file `{path}`"), e);
        let file = File::open(&config.path).map_err(open_error)?;
        if shared {
            let len = file.metadata().map_err(open_error)?.len();
            let bound = |i: usize| (u128::from(len) * i as u128 / worker.peers as u128) as u64;
            let (start, end) = (bound(worker.index), bound(worker.index + 1));
            let lines = LineReader::share(file, start, end)
                .map_err(open_error)?
                .with_max_line(config.max_line);
            this.share_start = lines.position();
            this.lines_before = (start == 0).then_some(0);
            this.range_start = lines.position();
            this.reached = lines.position();
            this.reader = Reader::Json {
                lines,
                decoder: JsonDecoder::new(schema),
            };
            return Ok(this);
        }
        let lines = if config.follow {
            LineReader::following(file, config.path.clone())
        } else {
            LineReader::new(file)
        };
        let lines = lines.with_max_line(config.max_line);
        this.reader = match config.format {
            Format::Jsonl => Reader::Json {
                lines,
                decoder: JsonDecoder::new(schema),
            },
            Format::Csv => {
                let mut records = CsvRecords::new(lines, !config.follow, config.max_line);
                let mut row = ByteRecord::new();
                // A file read once has its header now, so a missing column fails the
                // open; a followed file's header may be written after the run starts.
                let decoder = if config.follow {
                    None
                } else {
                    match records.next(&mut row).map_err(open_error)? {
                        CsvStep::Record(_) => {
                            records.set_columns(Some(row.len()));
                            Some(csv_decoder(&path, schema, &row)?)
                        }
                        CsvStep::Bad(line, error, _) => {
                            return Err(IoError::Other(format!(
                                "source file `{path}`: cannot read the CSV header on line {line}: {error}"
                            )))
                        }
                        // The header is the file's first line: its numbers are the file's.
                        CsvStep::OpenQuote(quote, _) => {
                            return Err(IoError::Other(format!(
                                "source file `{path}`: cannot read the CSV header on line {}: {}",
                                quote.start,
                                quote.reason(|line| line)
                            )))
                        }
                        // An empty file: no header, no rows.
                        _ => return Ok(this),
                    }
                };
                Reader::Csv {
                    records,
                    schema: schema.clone(),
                    decoder,
                    row,
                }
            }
        };
        Ok(this)
    }

    fn bad(&mut self, line: u64, error: DecodeError, raw: String) -> BadRecord {
        let location = match self.line_number(line) {
            Some(line) => format!("{}:{line}", self.path),
            None => format!("{} (line unknown)", self.path),
        };
        BadRecord {
            source: self.source.clone(),
            location,
            field: error.field,
            reason: error.reason,
            raw,
        }
    }
}

impl FileSource {
    /// Where the next line (JSON) or record (CSV) starts, if at a line start.
    fn next_start(&self) -> Option<u64> {
        match &self.reader {
            Reader::Done => None,
            Reader::Json { lines, .. } => lines.line_start(),
            Reader::Csv { records, .. } => records.next_start(),
        }
    }

    /// Resumed: jumps over a byte range a worker had read before the checkpoint, when
    /// the next line or record starts in one (for CSV, once the header is known: a
    /// followed file's header is read first). Returns whether it jumped.
    fn skip_what_was_read(&mut self) -> Result<bool, IoError> {
        let header_known = match &self.reader {
            Reader::Csv { decoder, .. } => decoder.is_some(),
            _ => true,
        };
        let Some(at) = self.next_start().filter(|_| header_known) else {
            return Ok(false);
        };
        self.reached = at;
        let Some(&(_, to)) = self.done.iter().find(|(a, b)| *a <= at && at < *b) else {
            return Ok(false);
        };
        let jumped = match &mut self.reader {
            Reader::Json { lines, .. } => lines.seek_to(to),
            Reader::Csv { records, .. } => records.seek_to(to),
            Reader::Done => return Ok(false),
        };
        jumped.map_err(|e| IoError::os(format!("cannot read source file `{}`", self.path), e))?;
        self.share_start = to;
        self.lines_before = None;
        Ok(true)
    }

    /// The file's line number of line `line` of this share; counting the lines before a
    /// share happens once, on its first bad line. `None` if the file cannot be reread.
    fn line_number(&mut self, line: u64) -> Option<u64> {
        if self.lines_before.is_none() {
            let file = File::open(&self.file_path).ok()?;
            self.lines_before = LineReader::lines_before(file, self.share_start).ok();
        }
        Some(self.lines_before? + line)
    }
}

fn csv_decoder(path: &str, schema: &Schema, header: &ByteRecord) -> Result<CsvDecoder, IoError> {
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    CsvDecoder::new(schema, names.iter().map(String::as_str))
        .map_err(|e| IoError::Other(format!("source file `{path}`: {e}")))
}

/// Says on stderr that a followed file is read again from its start, and why.
fn log_restart(source: &str, path: &str, why: Restart) {
    match why {
        Restart::Truncated => eprintln!(
            "weir: source `{source}`: `{path}` was truncated; reading it again from the start"
        ),
        Restart::Replaced => eprintln!(
            "weir: source `{source}`: `{path}` now names a new file (rotated); read the old \
             one to its end, reading the new one from the start"
        ),
    }
}

/// One step of reading: a record (or a reject), nothing yet, or the end.
enum Step {
    Record(u64, Result<Record, (DecodeError, String)>),
    OpenQuote(OpenQuote, String),
    Skip,
    Pending,
    End,
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
            if self.skip_what_was_read()? {
                continue;
            }
            let read_error = |e: std::io::Error| {
                IoError::os(format!("cannot read source file `{}`", self.path), e)
            };
            let step = match &mut self.reader {
                Reader::Done => return Ok(SourceStatus::Finished),
                Reader::Json { lines, decoder } => match lines.next().map_err(read_error)? {
                    NextLine::End => {
                        self.reached = lines.position();
                        Step::End
                    }
                    NextLine::Pending => Step::Pending,
                    NextLine::Restarted(why) => {
                        log_restart(&self.source, &self.path, why);
                        Step::Skip
                    }
                    NextLine::Line(line_no) => {
                        let text = lines.text();
                        if let Some(len) = lines.too_long() {
                            let error = DecodeError::record(format!(
                                "the line is {len} bytes, longer than `max_line` ({} bytes); \
                                 only its start is kept in `raw`",
                                self.max_line
                            ));
                            Step::Record(line_no, Err((error, raw_excerpt(text))))
                        } else if text.iter().all(u8::is_ascii_whitespace) {
                            Step::Skip
                        } else {
                            let result = match std::str::from_utf8(text) {
                                Ok(s) => decoder.decode(s),
                                Err(_) => Err(DecodeError::record("the line is not valid UTF-8")),
                            };
                            Step::Record(line_no, result.map_err(|e| (e, raw_excerpt(text))))
                        }
                    }
                },
                Reader::Csv {
                    records,
                    schema,
                    decoder,
                    row,
                } => match records.next(row).map_err(read_error)? {
                    CsvStep::End => {
                        self.reached = records.next_start().unwrap_or(self.reached);
                        Step::End
                    }
                    CsvStep::Pending => Step::Pending,
                    CsvStep::Restarted(why) => {
                        log_restart(&self.source, &self.path, why);
                        // The file starts again with its header.
                        *decoder = None;
                        Step::Skip
                    }
                    CsvStep::Bad(line_no, error, raw) => Step::Record(line_no, Err((error, raw))),
                    CsvStep::OpenQuote(quote, raw) => Step::OpenQuote(quote, raw),
                    CsvStep::Record(line_no) => match decoder {
                        None => {
                            records.set_columns(Some(row.len()));
                            *decoder = Some(csv_decoder(&self.path, schema, row)?);
                            Step::Skip
                        }
                        Some(decoder) => Step::Record(
                            line_no,
                            decoder
                                .decode(row)
                                .map_err(|e| (e, raw_excerpt(row_text(row).as_bytes()))),
                        ),
                    },
                },
            };
            match step {
                Step::End => {
                    self.reader = Reader::Done;
                    return Ok(SourceStatus::Finished);
                }
                Step::Pending => return Ok(SourceStatus::Idle),
                Step::Skip => continue,
                Step::Record(_, Ok(record)) => out.push(record),
                Step::Record(line_no, Err((error, raw))) => bad.push(self.bad(line_no, error, raw)),
                Step::OpenQuote(quote, raw) => {
                    let error = quote.reason(|line| self.line_number(line).unwrap_or(line));
                    bad.push(self.bad(quote.start, error, raw));
                }
            }
            taken += 1;
        }
        self.reached = self.next_start().unwrap_or(self.reached);
        Ok(SourceStatus::Ready)
    }

    /// The byte ranges read before the cut: this worker's, from where its range starts
    /// to where the next unread line (JSON) or record (CSV, whose records may span lines)
    /// starts, and those a restore said were read (by any old worker) — a reader cut
    /// before it has caught up with them, or on another worker count, must not forget
    /// them. Merged where they touch; 16 bytes each.
    fn position(&mut self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let own = (self.range_start < self.reached).then_some((self.range_start, self.reached));
        let mut ranges = merged(self.done.iter().copied().chain(own));
        if ranges.is_empty() {
            // Nothing read yet: the empty range, so that a position is never empty.
            ranges.push((0, 0));
        }
        let mut bytes = Vec::with_capacity(16 * ranges.len());
        for (start, end) in ranges {
            bytes.extend_from_slice(&start.to_le_bytes());
            bytes.extend_from_slice(&end.to_le_bytes());
        }
        Ok(Some(bytes))
    }

    /// Skips, wherever this worker reads, the byte ranges the old workers had read:
    /// any worker count resumes any other's.
    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        let mut read = Vec::new();
        for p in positions {
            if p.bytes.is_empty() || p.bytes.len() % 16 != 0 {
                return Err(IoError::Other(format!(
                    "source file `{}`: the checkpoint's position is not a file position",
                    self.path
                )));
            }
            for range in p.bytes.chunks_exact(16) {
                let (start, end) = range.split_at(8);
                let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
                read.push((word(start), word(end)));
            }
        }
        self.done = merged(read.into_iter().chain(self.done.drain(..)));
        Ok(())
    }
}

/// The non-empty byte ranges of `ranges`, sorted, those that overlap or touch merged into
/// one: every line starting in a merged range was read, and its end is a line start.
fn merged(ranges: impl Iterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = ranges.filter(|(a, b)| a < b).collect();
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}
