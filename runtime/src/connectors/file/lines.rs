//! Complete lines of a file, one at a time; when following a growing file, a last line
//! without its newline is held back until the writer finishes it. A reader may own only
//! the lines that start inside a byte range, so workers can share one file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// What the next read found.
pub(crate) enum NextLine {
    /// A line (without its line ending) and its 1-based number.
    Line(u64),
    /// Following: no complete line yet; try again later.
    Pending,
    /// The end of the file (not following).
    End,
}

/// Reads lines of a file, optionally following it as it grows.
pub(crate) struct LineReader {
    input: BufReader<File>,
    follow: bool,
    /// The current line; while following, may hold a partial line between reads.
    line: Vec<u8>,
    partial: bool,
    line_no: u64,
    /// Offset of the next unread byte.
    pos: u64,
    /// Lines starting at or after this offset belong to the next share.
    end: Option<u64>,
    /// Whether line 1 is the file's first line (where a byte order mark may sit).
    from_file_start: bool,
}

impl LineReader {
    pub(crate) fn new(file: File, follow: bool) -> LineReader {
        LineReader {
            input: BufReader::with_capacity(1 << 16, file),
            follow,
            line: Vec::new(),
            partial: false,
            line_no: 0,
            pos: 0,
            end: None,
            from_file_start: true,
        }
    }

    /// Reads only the lines that start in `start..end` (byte offsets) of `file`: a line
    /// running over `start` belongs to the share before. Line numbers count from the
    /// share's first line; [`LineReader::lines_before`] tells how many come before it.
    pub(crate) fn share(mut file: File, start: u64, end: u64) -> io::Result<LineReader> {
        let mut pos = 0;
        if start > 0 {
            file.seek(SeekFrom::Start(start - 1))?;
            pos = start - 1;
        }
        let mut reader = LineReader::new(file, false);
        reader.pos = pos;
        reader.end = Some(end);
        reader.from_file_start = start == 0;
        if start > 0 {
            // Skip the rest of the line holding byte `start - 1` (just its `\n` if the
            // share starts on a line boundary).
            let mut skipped = Vec::new();
            reader.pos += reader.input.read_until(b'\n', &mut skipped)? as u64;
        }
        Ok(reader)
    }

    /// The offset of the next unread byte (after [`LineReader::share`], where the share's
    /// first line starts).
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// How many lines of `file` end before byte `offset`: the line number base of a share
    /// starting there. Only asked for when a bad line needs its number.
    pub(crate) fn lines_before(file: File, offset: u64) -> io::Result<u64> {
        let mut input = BufReader::with_capacity(1 << 16, file.take(offset));
        let mut lines = 0u64;
        loop {
            let chunk = input.fill_buf()?;
            if chunk.is_empty() {
                return Ok(lines);
            }
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            let n = chunk.len();
            input.consume(n);
        }
    }

    /// Reads the next line; its text is then [`LineReader::text`].
    pub(crate) fn next(&mut self) -> io::Result<NextLine> {
        if !self.partial {
            self.line.clear();
            if self.end.is_some_and(|end| self.pos >= end) {
                return Ok(NextLine::End);
            }
        }
        let read = self.input.read_until(b'\n', &mut self.line)?;
        self.pos += read as u64;
        let complete = self.line.last() == Some(&b'\n');
        if !complete && self.follow {
            // At the current end of a followed file: keep what we have and wait.
            self.partial = !self.line.is_empty();
            return Ok(NextLine::Pending);
        }
        self.partial = false;
        if read == 0 && self.line.is_empty() {
            return Ok(NextLine::End);
        }
        self.line_no += 1;
        Ok(NextLine::Line(self.line_no))
    }

    /// The last line read, without `\n`/`\r\n` (and without a UTF-8 BOM on line 1).
    pub(crate) fn text(&self) -> &[u8] {
        let mut text: &[u8] = &self.line;
        while let [rest @ .., b'\n' | b'\r'] = text {
            text = rest;
        }
        if self.line_no == 1 && self.from_file_start {
            text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
        }
        text
    }
}
