//! Complete lines of a file, one at a time; when following a growing file, a last line
//! without its newline is held back until the writer finishes it.

use std::fs::File;
use std::io::{self, BufRead, BufReader};

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
}

impl LineReader {
    pub(crate) fn new(file: File, follow: bool) -> LineReader {
        LineReader {
            input: BufReader::with_capacity(1 << 16, file),
            follow,
            line: Vec::new(),
            partial: false,
            line_no: 0,
        }
    }

    /// Reads the next line; its text is then [`LineReader::text`].
    pub(crate) fn next(&mut self) -> io::Result<NextLine> {
        if !self.partial {
            self.line.clear();
        }
        let read = self.input.read_until(b'\n', &mut self.line)?;
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
        if self.line_no == 1 {
            text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
        }
        text
    }
}
