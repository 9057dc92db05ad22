//! Complete lines of a file, one at a time; when following a growing file, a last line
//! without its newline is held back until the writer finishes it, and a file that is
//! truncated or replaced (log rotation) is read again from its start. A reader may own
//! only the lines that start inside a byte range, so workers can share one file. A line
//! longer than the reader's `max_line` keeps only its first `max_line` bytes in memory (the
//! rest is skipped and counted), so a file without newlines cannot exhaust memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// What the next read found.
pub(crate) enum NextLine {
    /// A line (without its line ending) and its 1-based number.
    Line(u64),
    /// Following: no complete line yet; try again later.
    Pending,
    /// The end of the file (not following).
    End,
    /// Following: the file was truncated or replaced, and reading starts again at line 1
    /// (of the same file, or of the new file at the path).
    Restarted(Restart),
}

/// Why a followed file is read again from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Restart {
    /// It shrank below what was already read (`> file`, copy-and-truncate rotation).
    Truncated,
    /// The path now names another file (rename-and-create rotation); the old one was
    /// read to its end first.
    Replaced,
}

/// Reads lines of a file, optionally following it as it grows.
pub(crate) struct LineReader {
    input: BufReader<File>,
    /// Set when following: the path to watch for truncation and replacement.
    follow: Option<PathBuf>,
    /// The current line; while following, may hold a partial line between reads.
    line: Vec<u8>,
    partial: bool,
    line_no: u64,
    /// Offset of the next unread byte of the open file.
    offset: u64,
    /// The path names a new file: the old one is being read to its end before switching.
    draining: bool,
    /// Lines starting at or after this offset belong to the next share.
    end: Option<u64>,
    /// Whether line 1 is the file's first line (where a byte order mark may sit).
    from_file_start: bool,
    /// Bytes of a line kept, at most.
    max_line: usize,
    /// Bytes of the current line beyond `max_line`, skipped.
    dropped: u64,
}

impl LineReader {
    /// Reads `file` to its end.
    pub(crate) fn new(file: File) -> LineReader {
        LineReader {
            input: BufReader::with_capacity(1 << 16, file),
            follow: None,
            line: Vec::new(),
            partial: false,
            line_no: 0,
            offset: 0,
            draining: false,
            end: None,
            from_file_start: true,
            max_line: usize::MAX,
            dropped: 0,
        }
    }

    /// Keeps at most `max` bytes of each line (see [`LineReader::too_long`]).
    pub(crate) fn with_max_line(mut self, max: usize) -> LineReader {
        self.max_line = max.max(1);
        self
    }

    /// The full length in bytes of the last line read, if it was longer than `max_line`
    /// (its text then holds only the first `max_line` bytes).
    pub(crate) fn too_long(&self) -> Option<u64> {
        let ending = u64::from(self.line.last() == Some(&b'\n'));
        (self.dropped > 0).then(|| self.line.len() as u64 - ending + self.dropped)
    }

    /// Reads only the lines that start in `start..end` (byte offsets) of `file`: a line
    /// running over `start` belongs to the share before. Line numbers count from the
    /// share's first line; [`LineReader::lines_before`] tells how many come before it.
    pub(crate) fn share(mut file: File, start: u64, end: u64) -> io::Result<LineReader> {
        let from = start.saturating_sub(1);
        file.seek(SeekFrom::Start(from))?;
        let mut reader = LineReader {
            offset: from,
            end: Some(end),
            from_file_start: start == 0,
            ..LineReader::new(file)
        };
        if start > 0 {
            // Skip the rest of the line holding byte `start - 1` (just its `\n` if the
            // share starts on a line boundary), without holding it in memory.
            reader.max_line = 1;
            reader.offset += reader.read_line()?.0 as u64;
            reader.max_line = usize::MAX;
            reader.line.clear();
            reader.dropped = 0;
        }
        Ok(reader)
    }

    /// The offset of the next unread byte (after [`LineReader::share`], where the share's
    /// first line starts).
    pub(crate) fn position(&self) -> u64 {
        self.offset
    }

    /// The offset where the next line starts, unless a partial line is held (a
    /// followed file's last line, still being written).
    pub(crate) fn line_start(&self) -> Option<u64> {
        (!self.partial).then_some(self.offset)
    }

    /// Continues reading at byte `offset`, which must be where a line starts (a
    /// checkpoint's [`LineReader::line_start`]). Line numbers count from there.
    pub(crate) fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        self.input.seek(SeekFrom::Start(offset))?;
        self.line.clear();
        self.dropped = 0;
        self.partial = false;
        self.line_no = 0;
        self.offset = offset;
        self.from_file_start = offset == 0;
        Ok(())
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

    /// Follows `file`, opened from `path`, as it grows, is truncated or is replaced.
    pub(crate) fn following(file: File, path: PathBuf) -> LineReader {
        LineReader {
            follow: Some(path),
            ..LineReader::new(file)
        }
    }

    /// Reads the next line; its text is then [`LineReader::text`].
    pub(crate) fn next(&mut self) -> io::Result<NextLine> {
        if !self.partial {
            self.line.clear();
            self.dropped = 0;
            if self.end.is_some_and(|end| self.offset >= end) {
                return Ok(NextLine::End);
            }
        }
        let (read, complete) = self.read_line()?;
        self.offset += read as u64;
        if !complete && self.follow.is_some() {
            return self.at_end_of_followed_file();
        }
        self.partial = false;
        if read == 0 && self.line.is_empty() {
            return Ok(NextLine::End);
        }
        self.line_no += 1;
        Ok(NextLine::Line(self.line_no))
    }

    /// Appends the rest of the current line to `line`, keeping at most `max_line` bytes
    /// and counting the others in `dropped`. Returns the bytes consumed and whether the
    /// line ended (with `\n`).
    fn read_line(&mut self) -> io::Result<(usize, bool)> {
        let mut read = 0;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                return Ok((read, false));
            }
            let (used, ended) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            // `max_line` counts the text, not the line end, which is always kept.
            let text = used - usize::from(ended);
            let keep = text.min(self.max_line.saturating_sub(self.line.len()));
            self.line.extend_from_slice(&chunk[..keep]);
            if ended {
                self.line.push(b'\n');
            }
            self.dropped += (text - keep) as u64;
            self.input.consume(used);
            read += used;
            if ended {
                return Ok((read, true));
            }
        }
    }

    /// At the current end of a followed file: wait for more, or start again when the
    /// file was truncated or replaced.
    fn at_end_of_followed_file(&mut self) -> io::Result<NextLine> {
        if self.draining {
            if !self.line.is_empty() {
                // Nobody writes the old file any more: its unfinished last line is all
                // there will be.
                self.partial = false;
                self.line_no += 1;
                return Ok(NextLine::Line(self.line_no));
            }
            let Some(path) = &self.follow else {
                return Ok(NextLine::Pending);
            };
            return match File::open(path) {
                Ok(file) => {
                    self.input = BufReader::with_capacity(1 << 16, file);
                    self.restart();
                    Ok(NextLine::Restarted(Restart::Replaced))
                }
                // Between the rename and the new file: look again later.
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(NextLine::Pending),
                Err(e) => Err(e),
            };
        }
        if self.input.get_ref().metadata()?.len() < self.offset {
            self.input.seek(SeekFrom::Start(0))?;
            self.restart();
            return Ok(NextLine::Restarted(Restart::Truncated));
        }
        self.partial = !self.line.is_empty();
        if self.replaced()? {
            // Read what was written to the old file before it was replaced, then switch.
            self.draining = true;
            return self.next();
        }
        Ok(NextLine::Pending)
    }

    fn restart(&mut self) {
        self.line.clear();
        self.dropped = 0;
        self.partial = false;
        self.line_no = 0;
        self.offset = 0;
        self.draining = false;
    }

    /// Whether the followed path now names a different file than the one open.
    #[cfg(unix)]
    fn replaced(&self) -> io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        let Some(path) = &self.follow else {
            return Ok(false);
        };
        let open = self.input.get_ref().metadata()?;
        Ok(match std::fs::metadata(path) {
            Ok(now) => (now.dev(), now.ino()) != (open.dev(), open.ino()),
            // Renamed away and not yet created again: keep reading the old file.
            Err(_) => false,
        })
    }

    /// Whether the followed path now names a different file (not detected here).
    #[cfg(not(unix))]
    fn replaced(&self) -> io::Result<bool> {
        Ok(false)
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
