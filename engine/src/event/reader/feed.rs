//! The read buffer: bytes from one (decompressed) input, read in large blocks, with
//! the current line number; bounded line reads and bounded JSON value reads that hand
//! out records where they lie in the buffer when they fit, and skip what is too long
//! without keeping it.

use std::io::{self, Read};

use memchr::memchr;

use super::scan::Scan;
use super::BUF_SIZE;

/// Where the bytes of a line or value are.
#[derive(Clone, Copy)]
pub(super) enum Loc {
    /// In the read buffer, `buf[start..end]`, until the next read (no copy: the
    /// common case of a record that fits the buffer).
    Feed(usize, usize),
    /// In the caller's record buffer.
    Out,
}

impl Loc {
    pub(super) fn bytes<'b>(self, feed: &'b Feed, out: &'b [u8]) -> &'b [u8] {
        match self {
            Loc::Feed(start, end) => &feed.buf[start..end],
            Loc::Out => out,
        }
    }
}

/// How a bounded line read ended.
pub(super) enum LineEnd {
    /// A line (without its `\n` or `\r\n`).
    Line(Loc),
    /// The line was longer than the limit: this many bytes, consumed and dropped.
    TooLong(u64),
    /// No more input.
    Eof,
}

/// How a value scan ended.
pub(super) enum ValueEnd {
    /// A whole value.
    Complete(Loc),
    /// Nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH); consumed, not parsed.
    TooDeep,
    /// Longer than the limit: this many bytes, consumed and dropped.
    TooLong(u64),
    /// The input ended inside the value.
    Eof,
    /// The line ended inside the value (a guarded scan); the newline is not consumed.
    Broken,
}

/// The read buffer over one (decompressed) input, with the current line number.
pub(super) struct Feed<'r> {
    inner: Box<dyn Read + 'r>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    /// 1-based line of `buf[pos]`.
    pub(super) line: u64,
    /// Bytes read from `inner`.
    pub(super) decoded: u64,
}

impl<'r> Feed<'r> {
    pub(super) fn new(inner: Box<dyn Read + 'r>) -> Self {
        Feed {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            line: 1,
            decoded: 0,
        }
    }

    /// Reads more input after what is buffered; false at the end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.pos == 0 {
                // Full of unconsumed bytes: callers never look this far ahead.
                return Ok(false);
            }
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.decoded += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Consumes `n` buffered bytes that hold no newline.
    pub(super) fn consume(&mut self, n: usize) {
        self.pos += n;
    }

    /// At least `n` buffered bytes (fewer at the end of input).
    pub(super) fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(BUF_SIZE / 2);
        while self.end - self.pos < n && self.fill()? {}
        Ok(&self.buf[self.pos..self.end])
    }

    /// Consumes `n` buffered bytes, counting their newlines.
    pub(super) fn consume_counting(&mut self, n: usize) {
        let lines = memchr::memchr_iter(b'\n', &self.buf[self.pos..self.pos + n]).count();
        self.line += lines as u64;
        self.pos += n;
    }

    /// True when the current line is all in the buffer (after reading more if there is
    /// room): false for a line longer than the buffer.
    pub(super) fn line_buffered(&mut self) -> io::Result<bool> {
        loop {
            if memchr(b'\n', &self.buf[self.pos..self.end]).is_some() || self.eof {
                return Ok(true);
            }
            if !self.fill()? {
                return Ok(self.eof);
            }
        }
    }

    /// Skips spaces and tabs (not newlines) and returns the next byte without
    /// consuming it.
    pub(super) fn skip_inline_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            while self.pos < self.end {
                match self.buf[self.pos] {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b => return Ok(Some(b)),
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(super) fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            while self.pos < self.end {
                match self.buf[self.pos] {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b'\n' => {
                        self.line += 1;
                        self.pos += 1;
                    }
                    b => return Ok(Some(b)),
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Reads one line into `out` (cleared first), unless it is longer than `limit`:
    /// then it is consumed without being kept.
    pub(super) fn read_line(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<LineEnd> {
        out.clear();
        if let Some(k) = memchr(b'\n', &self.buf[self.pos..self.end]) {
            if k <= limit {
                let start = self.pos;
                self.pos += k + 1;
                self.line += 1;
                let end = start + k;
                let end = end - usize::from(k > 0 && self.buf[end - 1] == b'\r');
                return Ok(LineEnd::Line(Loc::Feed(start, end)));
            }
        }
        let mut total = 0u64;
        let mut any = false;
        loop {
            if self.pos == self.end && !self.fill()? {
                if !any {
                    return Ok(LineEnd::Eof);
                }
                break;
            }
            any = true;
            let data = &self.buf[self.pos..self.end];
            let (n, newline) = match memchr(b'\n', data) {
                Some(k) => (k, true),
                None => (data.len(), false),
            };
            total += n as u64;
            if total <= limit as u64 {
                out.extend_from_slice(&data[..n]);
            } else {
                out.clear();
            }
            self.pos += n + usize::from(newline);
            if newline {
                self.line += 1;
                break;
            }
        }
        if total > limit as u64 {
            return Ok(LineEnd::TooLong(total));
        }
        if out.last() == Some(&b'\r') {
            out.pop();
        }
        Ok(LineEnd::Line(Loc::Out))
    }

    /// Consumes the rest of the current line.
    pub(super) fn skip_line(&mut self) -> io::Result<()> {
        loop {
            if self.pos == self.end && !self.fill()? {
                return Ok(());
            }
            if let Some(k) = memchr(b'\n', &self.buf[self.pos..self.end]) {
                self.pos += k + 1;
                self.line += 1;
                return Ok(());
            }
            self.pos = self.end;
        }
    }

    /// Scans the rest of one JSON value (whose state so far is `scan`), appending its
    /// bytes to `out` while the total stays within `limit`.
    pub(super) fn scan_value(
        &mut self,
        out: &mut Vec<u8>,
        scan: &mut Scan,
        limit: usize,
    ) -> io::Result<ValueEnd> {
        let mut total = out.len() as u64;
        let mut over = total > limit as u64;
        let finish = |scan: &Scan, over: bool, total: u64| {
            if over {
                ValueEnd::TooLong(total)
            } else if scan.too_deep {
                ValueEnd::TooDeep
            } else {
                ValueEnd::Complete(Loc::Out)
            }
        };
        if out.is_empty() {
            let start = self.pos;
            let saved = scan.clone();
            let mut newlines = 0;
            if let Some(n) = scan.feed(&self.buf[start..self.end], true, &mut newlines) {
                self.line += newlines;
                self.pos += n;
                return Ok(if scan.broken {
                    ValueEnd::Broken
                } else if n as u64 > limit as u64 {
                    ValueEnd::TooLong(n as u64)
                } else if scan.too_deep {
                    ValueEnd::TooDeep
                } else {
                    ValueEnd::Complete(Loc::Feed(start, start + n))
                });
            }
            // Not all buffered: scan again from the start, copying.
            *scan = saved;
        }
        loop {
            if self.pos == self.end && !self.fill()? {
                let scalar_done = scan.scalar && scan.depth == 0 && !scan.in_str;
                return Ok(if scalar_done {
                    finish(scan, over, total)
                } else {
                    ValueEnd::Eof
                });
            }
            let data = &self.buf[self.pos..self.end];
            let mut newlines = 0;
            let stop = scan.feed(data, true, &mut newlines);
            let n = stop.unwrap_or(data.len());
            self.line += newlines;
            total += n as u64;
            if !over {
                if total > limit as u64 {
                    over = true;
                    out.clear();
                } else {
                    out.extend_from_slice(&data[..n]);
                }
            }
            self.pos += n;
            if stop.is_some() {
                if scan.broken {
                    return Ok(ValueEnd::Broken);
                }
                return Ok(finish(scan, over, total));
            }
        }
    }
}
