//! CSV records cut from the lines of a file: a quoted field may run over several lines; a
//! quote that never closes (before the end of the file, or within `max_line` bytes) is
//! reported from the line that opened it, and reading resumes on the next line, so one
//! stray `"` costs one row instead of the rest of the file.

use std::collections::VecDeque;
use std::io;

use ::csv::ByteRecord;
use csv_core::ReadFieldResult;

use super::lines::{LineReader, NextLine, Restart};
use crate::connectors::raw_excerpt::raw_excerpt;
use crate::format::DecodeError;

/// What the next read found.
pub(crate) enum CsvStep {
    /// A record's cells are in the row; it starts on this line.
    Record(u64),
    /// A line too long to be read as a record; it is on this line.
    Bad(u64, DecodeError, String),
    /// A quote left open, with the record's first line as `raw`.
    OpenQuote(OpenQuote, String),
    /// Following: no complete record yet.
    Pending,
    /// The end of the file.
    End,
    /// Following: the file is read again from its start (its header comes again).
    Restarted(Restart),
}

/// A quote that never closes. Its line numbers count from where reading started (a
/// share's or a restore's first line), so the message is made where the file's line
/// numbers are known.
#[derive(Debug)]
pub(crate) struct OpenQuote {
    /// The line that opened the quote.
    pub(crate) start: u64,
    why: Unclosed,
}

/// Where a closing quote was looked for in vain.
#[derive(Debug)]
enum Unclosed {
    BeforeEnd,
    /// A later stray quote "closed" it, swallowing the lines between: on this line.
    StrayCloser(u64),
    /// A followed file has one record per line.
    SameLine,
    MaxLine(usize),
}

impl OpenQuote {
    /// The reason, with `file_line` turning a line number of this reader into the file's.
    pub(crate) fn reason(&self, mut file_line: impl FnMut(u64) -> u64) -> DecodeError {
        let why = match self.why {
            Unclosed::BeforeEnd => "before the end of the file".to_string(),
            Unclosed::StrayCloser(no) => format!(
                "on its line (the `\"` on line {} closes no valid row)",
                file_line(no)
            ),
            Unclosed::SameLine => {
                "on the same line (a followed file has one record per line)".to_string()
            }
            Unclosed::MaxLine(max) => format!("within `max_line` ({max} bytes)"),
        };
        let start = file_line(self.start);
        DecodeError::record(format!(
            "unterminated quote from line {start}: no closing `\"` {why}"
        ))
    }
}

/// One line: its number, its text, its full length when longer than `max_line`, and the
/// byte offset where it starts.
type Line = (u64, Vec<u8>, Option<u64>, u64);

/// Reads CSV records from a [`LineReader`].
pub(crate) struct CsvRecords {
    lines: LineReader,
    /// Whether a quoted field may hold line breaks (not when following a growing file,
    /// where the rest of a record may never be written).
    multiline: bool,
    max_line: usize,
    /// Lines read ahead inside a quote that never closed, to be read again.
    again: VecDeque<Line>,
    /// The record being assembled: its first line, text so far, and the later lines.
    start: u64,
    first_len: usize,
    text: Vec<u8>,
    later: Vec<Line>,
    /// Whether the record so far ends inside a quoted field.
    quoted: bool,
    /// The header's number of columns, once known.
    columns: Option<usize>,
    cells: Cells,
}

impl CsvRecords {
    /// Records from `lines`, each at most `max_line` bytes.
    pub(crate) fn new(lines: LineReader, multiline: bool, max_line: usize) -> CsvRecords {
        CsvRecords {
            lines,
            multiline,
            max_line,
            again: VecDeque::new(),
            start: 0,
            first_len: 0,
            text: Vec::new(),
            later: Vec::new(),
            quoted: false,
            columns: None,
            cells: Cells::default(),
        }
    }

    /// Reads the next record into `row`.
    pub(crate) fn next(&mut self, row: &mut ByteRecord) -> io::Result<CsvStep> {
        loop {
            let again = self.again.pop_front();
            let at = again.as_ref().map_or(self.lines.position(), |line| line.3);
            let (no, line, too_long): (u64, &[u8], Option<u64>) = match &again {
                Some((no, text, too_long, _)) => (*no, text, *too_long),
                None => match self.lines.next()? {
                    NextLine::Line(no) => (no, self.lines.text(), self.lines.too_long()),
                    NextLine::Pending => return Ok(CsvStep::Pending),
                    NextLine::Restarted(why) => {
                        self.again.clear();
                        self.columns = None;
                        self.reset();
                        return Ok(CsvStep::Restarted(why));
                    }
                    NextLine::End if self.first_len == 0 => return Ok(CsvStep::End),
                    NextLine::End => return Ok(self.unterminated(Unclosed::BeforeEnd)),
                },
            };
            let continued = self.first_len > 0;
            if !continued {
                if let Some(len) = too_long {
                    let raw = raw_excerpt(line);
                    return Ok(CsvStep::Bad(no, line_too_long(len, self.max_line), raw));
                }
                if line.is_empty() {
                    continue;
                }
                self.start = no;
                self.first_len = line.len();
                self.text.extend_from_slice(line);
            } else {
                self.text.push(b'\n');
                self.text.extend_from_slice(line);
                self.later.push((no, line.to_vec(), too_long, at));
            }
            let quotes = scan_quotes(continued, line);
            self.quoted = quotes.open;
            if !self.quoted {
                self.cells.split(&self.text, row);
                let wrong_cells = self.columns.is_some_and(|n| n != row.len());
                if continued && (quotes.closed_badly || wrong_cells) {
                    // The quote "closed" at a later stray quote and swallowed the lines
                    // between: the first line's quote is the one left open.
                    return Ok(self.unterminated(Unclosed::StrayCloser(no)));
                }
                self.reset();
                return Ok(CsvStep::Record(self.start));
            }
            if !self.multiline {
                return Ok(self.unterminated(Unclosed::SameLine));
            }
            if self.text.len() > self.max_line || too_long.is_some() {
                return Ok(self.unterminated(Unclosed::MaxLine(self.max_line)));
            }
        }
    }

    /// Where the next record starts, a line start (its byte offset), unless a record is
    /// being assembled or a partial line is held: a checkpoint's position.
    pub(crate) fn next_start(&self) -> Option<u64> {
        match self.again.front() {
            Some(line) => Some(line.3),
            None if self.first_len == 0 => self.lines.line_start(),
            None => None,
        }
    }

    /// Continues reading at byte `offset`, where a line starts (a [`CsvRecords::next_start`]
    /// of a checkpoint). Line numbers count from there.
    pub(crate) fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        self.again.clear();
        self.reset();
        self.lines.seek_to(offset)
    }

    /// Tells the number of columns of the header: a record spanning lines with another
    /// number of cells is taken as a quote left open on its first line.
    pub(crate) fn set_columns(&mut self, columns: Option<usize>) {
        self.columns = columns;
    }

    /// Rejects the first line of the record being assembled (its quote never closes) and
    /// queues the lines after it to be read again as records of their own.
    fn unterminated(&mut self, why: Unclosed) -> CsvStep {
        let raw = raw_excerpt(&self.text[..self.first_len]);
        let start = self.start;
        for line in std::mem::take(&mut self.later).into_iter().rev() {
            self.again.push_front(line);
        }
        self.reset();
        CsvStep::OpenQuote(OpenQuote { start, why }, raw)
    }

    fn reset(&mut self) {
        self.text.clear();
        self.first_len = 0;
        self.quoted = false;
        self.later.clear();
    }
}

fn line_too_long(len: u64, max: usize) -> DecodeError {
    DecodeError::record(format!(
        "the line is {len} bytes, longer than `max_line` ({max} bytes); only its start is kept in `raw`"
    ))
}

/// The quotes of one line of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quotes {
    /// The line ends inside a quoted field.
    open: bool,
    /// A quoted field closed with something other than `,` or the line end after it
    /// (`"m5",` seen from inside an earlier, never-closed quote).
    closed_badly: bool,
}

/// Scans `line` for quotes, given whether it starts inside a quoted field (`continued`).
/// Quotes open a field only at its start and `""` inside one is a literal quote, as the
/// `csv` crate reads them.
fn scan_quotes(continued: bool, line: &[u8]) -> Quotes {
    let mut quotes = Quotes {
        open: continued,
        closed_badly: false,
    };
    if !continued && memchr::memchr(b'"', line).is_none() {
        return quotes;
    }
    let mut field_start = !continued;
    let mut bytes = line.iter().peekable();
    while let Some(&b) = bytes.next() {
        if quotes.open {
            if b == b'"' {
                match bytes.peek() {
                    Some(b'"') => {
                        bytes.next();
                    }
                    Some(b',') | None => quotes.open = false,
                    Some(_) => {
                        quotes.open = false;
                        quotes.closed_badly = true;
                    }
                }
            }
        } else if b == b'"' && field_start {
            quotes.open = true;
        } else {
            field_start = b == b',';
        }
    }
    quotes
}

/// Splits one record's text into cells with `csv_core`, reusing its buffers.
struct Cells {
    reader: csv_core::Reader,
    field: Vec<u8>,
}

impl Default for Cells {
    fn default() -> Cells {
        Cells {
            // Built, unlike `csv_core::Reader::default()`, whose state machine is empty.
            reader: csv_core::ReaderBuilder::new().build(),
            field: Vec::new(),
        }
    }
}

impl Cells {
    fn split(&mut self, text: &[u8], row: &mut ByteRecord) {
        row.clear();
        self.reader.reset();
        // A field's unquoted text is never longer than the record's.
        if self.field.len() < text.len() {
            self.field.resize(text.len(), 0);
        }
        let (mut input, mut len) = (text, 0);
        loop {
            let (result, read, written) = self.reader.read_field(input, &mut self.field[len..]);
            input = &input[read..];
            len += written;
            match result {
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    row.push_field(&self.field[..len]);
                    len = 0;
                    if record_end {
                        return;
                    }
                }
                ReadFieldResult::End => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_open_only_at_a_field_start() {
        let open = |continued, line: &[u8]| scan_quotes(continued, line).open;
        assert!(!open(false, b"a,b,c"));
        assert!(!open(false, b"a,\"b,c\",d"));
        assert!(!open(false, b"a,\"say \"\"hi\"\"\",d"));
        assert!(
            !open(false, b"a,5\" pipe,d"),
            "a quote inside a field is literal"
        );
        assert!(open(false, b"a,\"b,c"));
        assert!(open(true, b"more text, still quoted"));
        assert!(!open(true, b"end\",d"));
        assert!(!open(true, b"end\""));
        let bad = scan_quotes(true, b"\"m5\",5.0");
        assert!(!bad.open && bad.closed_badly);
    }

    #[test]
    fn cells_split_like_the_csv_crate() {
        let mut cells = Cells::default();
        let mut row = ByteRecord::new();
        cells.split(b"a,\"b,c\",\"say \"\"hi\"\"\",,\"x\ny\"", &mut row);
        let got: Vec<&[u8]> = row.iter().collect();
        assert_eq!(got, [&b"a"[..], b"b,c", b"say \"hi\"", b"", b"x\ny"]);
        cells.split(b"1", &mut row);
        assert_eq!(row.len(), 1);
    }
}
