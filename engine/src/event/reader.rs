//! Input readers: files, directories and standard input to [`Event`]s.
//!
//! `bytes -> (gzip?) -> framing -> records -> classify -> Event`.
//!
//! Everything is told from the content, never from a file name: gzip by its magic
//! bytes (multi-member streams included), then the framing by the first bytes of each
//! record:
//!
//! - `{"Records": [` (any whitespace, one line or pretty-printed): a CloudTrail file.
//!   Its records are streamed one by one: each is cut out of the array by a byte scan
//!   and parsed on its own, so memory stays bounded by the largest record, a bad
//!   record costs only itself, and a truncated file keeps the records before the cut;
//! - `[`: a JSON array of records, streamed the same way;
//! - `{` on a line that closes it: JSON lines; each line is one record (of any
//!   source: every record is classified by its own keys, so files may mix sources),
//!   or several written back to back, as Firehose writes CloudWatch Logs
//!   subscription payloads; a line longer than the read buffer is read record by
//!   record, each within the limit, and a newline inside a record ends it as cut;
//! - `{` on a line that leaves it open (ending in `{`, `[`, `,` or `:`): a
//!   pretty-printed record that runs until its closing brace;
//! - anything else: a text line; a flow-log header (field names) sets the format of
//!   the lines after it, `<RFC 3339 timestamp> <message>` is a CloudWatch Logs text
//!   export, and other lines are flow-log records (default version 2 format).
//!
//! A JSON record is a CloudTrail, Route 53 Resolver or EKS audit event, a CloudWatch
//! Logs wrapper (unwrapped, see the `eks` module), a CloudTrail digest (the file is
//! skipped), or unknown (the file is skipped when it is the file's first record, else
//! an error). [`ReadOptions::source`] overrides the classification.
//!
//! Bad input never panics and never stops the other records or files: a malformed
//! record is an [`InputError`] with its line and reading goes on with the next one. A
//! line over [`ReadOptions::max_record_bytes`] is skipped without being buffered whole.
//! Nesting deeper than [`MAX_DEPTH`] is refused before parsing (sonic-rs would overflow
//! the stack). A read error (truncated gzip) ends the file, keeping what was read.
//!
//! Cost: one read buffer per file; a record that fits in it is parsed from there, else
//! from one record buffer reused for every record. The structural scan that cuts
//! records out of arrays and bounds their depth takes 64-byte blocks at a time (bit
//! masks of quotes, backslashes and brackets, the way simdjson finds strings), about a
//! quarter of the parse's cost; JSON lines skip it (a bracket count bounds the depth).
//! Each record is parsed once with sonic-rs and moved into its event. See
//! `examples/read_speed.rs` for the numbers, beside the parse-only floor.
//!
//! Framing and parsing are apart: the framing (gzip, cutting records and lines, line
//! numbers; only byte scans) hands what it cuts to a `Records` sink in input order.
//! [`read_stream`] parses each piece at once, from the read buffer; the [`batch`]
//! module copies them into [`Batch`]es that other threads parse, and settles the
//! results in input order ([`InputOrder`]) to the same events, errors and statistics.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use sonic_rs::{JsonContainerTrait, JsonValueMutTrait, JsonValueTrait, Value};

pub mod batch;
mod feed;
mod scan;

pub use batch::{
    frame_inputs, frame_path, frame_stream, Accepted, Batch, Buffers, InputOrder, Parsed, SendBatch,
};

use feed::{Feed, LineEnd, ValueEnd};
use scan::{too_deep, Scan};

use super::value::parse_rfc3339;
use super::vpcflow::{self, FlowFormat, FlowRecord};
use super::{cloudtrail, dns, eks, Event, Origin, Raw, Source};

/// The deepest nesting of arrays and objects a JSON record may have.
pub const MAX_DEPTH: u32 = 128;

/// Size of the read buffer.
const BUF_SIZE: usize = 256 * 1024;

/// How to read inputs.
#[derive(Clone)]
pub struct ReadOptions {
    /// Treat every record as this source instead of classifying it (`--source`).
    /// `cloudtrail` still tells S3 data events apart.
    pub source: Option<Source>,
    /// The largest record (or line) read; larger ones are reported and skipped.
    pub max_record_bytes: usize,
    /// Called with the number of input bytes consumed since the last call (compressed
    /// bytes for gzip), for progress bars.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            source: None,
            max_record_bytes: 16 * 1024 * 1024,
            progress: None,
        }
    }
}

impl fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOptions")
            .field("source", &self.source)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What reading did, summed over files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Inputs opened.
    pub files: u64,
    /// Inputs skipped as a whole, with the reason (digest files, unrecognized content).
    pub skipped: Vec<(Arc<str>, String)>,
    /// Bytes read from the inputs (compressed size for gzip).
    pub bytes: u64,
    /// Bytes after decompression.
    pub decoded_bytes: u64,
    /// Events produced, per source.
    pub events: BTreeMap<Source, u64>,
    /// Errors reported.
    pub errors: u64,
}

impl ReadStats {
    /// Events produced, all sources.
    pub fn total_events(&self) -> u64 {
        self.events.values().sum()
    }
}

/// A problem with one input or one record of it; reading goes on after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The input file (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line, when the problem has one.
    pub line: Option<u64>,
    /// What is wrong: one line, lower case, no trailing period.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// An I/O error as a message: lower case, without the `(os error N)` suffix.
fn io_message(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Expands command-line inputs into files: directories are walked recursively in
/// sorted order, skipping hidden files and directories (names starting with `.`);
/// `-` (stdin) and files are kept as given. Paths that cannot be read are errors.
pub fn expand_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let error = |path: &Path, message: String| InputError {
        file: Arc::from(path.display().to_string()),
        line: None,
        message,
    };
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => errors.push(error(path, io_message(&e))),
            Ok(meta) if meta.is_dir() => {
                let walk = walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| {
                        e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                    });
                for entry in walk {
                    match entry {
                        Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                        Ok(_) => {}
                        Err(e) => {
                            let at = e.path().unwrap_or(path).to_path_buf();
                            let message = match e.io_error() {
                                Some(io) => io_message(io),
                                None => e.to_string(),
                            };
                            errors.push(error(&at, message));
                        }
                    }
                }
            }
            Ok(_) => files.push(path.clone()),
        }
    }
    (files, errors)
}

/// Reads one file (or stdin for `-`), calling `on_event` for each event and
/// `on_error` for each problem.
pub fn read_path(
    path: &Path,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    on_event: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(InputError),
) {
    if path.as_os_str() == "-" {
        read_stream("-", io::stdin().lock(), opts, stats, on_event, on_error);
        return;
    }
    let name = path.display().to_string();
    let fail = |message: String| InputError {
        file: Arc::from(name.as_str()),
        line: None,
        message,
    };
    if path.is_dir() {
        stats.errors += 1;
        on_error(fail("is a directory".to_owned()));
        return;
    }
    match File::open(path) {
        Ok(file) => read_stream(&name, file, opts, stats, on_event, on_error),
        Err(e) => {
            stats.errors += 1;
            on_error(fail(io_message(&e)));
        }
    }
}

/// Reads a whole file into memory: its events, its errors and the statistics.
/// Convenient for tests and fixtures; `picket scan` streams with [`read_path`].
pub fn read_all(path: &Path, opts: &ReadOptions) -> (Vec<Event>, Vec<InputError>, ReadStats) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut stats = ReadStats::default();
    read_path(path, opts, &mut stats, &mut |e| events.push(e), &mut |e| {
        errors.push(e)
    });
    (events, errors, stats)
}

/// Reads one input stream; `name` names it in origins and errors.
pub fn read_stream(
    name: &str,
    input: impl Read,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    on_event: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(InputError),
) {
    stats.files += 1;
    let consumed = Rc::new(Cell::new(0u64));
    let mut ctx = Ctx::new(Arc::from(name), opts, stats, on_event, on_error);
    let limit = opts.max_record_bytes;
    let decoded = frame(input, limit, opts.progress.clone(), &consumed, &mut ctx);
    ctx.stats.decoded_bytes += decoded;
    ctx.stats.bytes += consumed.get();
}

/// Opens one input stream (gzip or not, told by its first two bytes) and frames it,
/// handing records, lines and problems (read errors included) to `out` in input order.
/// `consumed` counts the input bytes read, `progress` hears of them as they are.
/// Returns the bytes after decompression.
fn frame<R: Records>(
    input: impl Read,
    limit: usize,
    progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    consumed: &Rc<Cell<u64>>,
    out: &mut R,
) -> u64 {
    let mut counting = Counting {
        inner: input,
        count: Rc::clone(consumed),
        progress,
    };
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < head.len() {
        match counting.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                out.error(None, io_message(&e));
                return 0;
            }
        }
    }
    let gzip = head[..n] == [0x1f, 0x8b];
    let chained = (&head[..n]).chain(counting);
    let inner: Box<dyn Read + '_> = if gzip {
        Box::new(MultiGzDecoder::new(chained))
    } else {
        Box::new(chained)
    };
    let mut feed = Feed::new(inner);
    let mut framer = Framer { out, limit };
    if let Err(e) = framer.run(&mut feed) {
        let what = if gzip {
            "gzip stream is truncated or corrupt"
        } else {
            "read failed"
        };
        let message = format!("{what} after line {}: {}", feed.line, io_message(&e));
        framer.out.error(None, message);
    }
    feed.decoded
}

/// Counts the bytes read from the input and reports them to the progress callback.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        if let (Some(progress), true) = (&self.progress, n > 0) {
            progress(n as u64);
        }
        Ok(n)
    }
}

/// The length of a `{"Records": [` prefix (any whitespace) at the start of `data`.
fn records_prefix(data: &[u8]) -> Option<usize> {
    let ws = |i: &mut usize| {
        while data.get(*i).is_some_and(|c| c.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    let mut i = 0;
    let expect = |i: &mut usize, token: &[u8]| -> Option<()> {
        ws(i);
        data.get(*i..*i + token.len()).filter(|t| *t == token)?;
        *i += token.len();
        Some(())
    };
    expect(&mut i, b"{")?;
    expect(&mut i, b"\"Records\"")?;
    expect(&mut i, b":")?;
    expect(&mut i, b"[")?;
    Some(i)
}

/// True when a line leaves a JSON value open for the following lines.
fn continues(line: &[u8]) -> bool {
    let last = line.iter().rev().find(|c| !c.is_ascii_whitespace());
    matches!(last, Some(b'{' | b'[' | b',' | b':'))
}

/// A parser error as one line, and the input line it is on, for a record that starts
/// at line `start`. sonic-rs writes `<what> at line L column C` (relative to the
/// record) and then a snippet of the input on more lines: only `<what>` is kept, and
/// the position is made absolute.
fn parse_error(e: &sonic_rs::Error, start: u64) -> (u64, String) {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").trim();
    let what = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let mut chars = what.chars();
    let what: String = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "invalid JSON".to_owned(),
    };
    if e.line() == 0 {
        return (start, what);
    }
    let line = start + e.line() as u64 - 1;
    let of_record = if e.line() == 1 { " of the record" } else { "" };
    (line, format!("{what} at column {}{of_record}", e.column()))
}

/// The source a JSON record belongs to, by its keys.
fn classify(v: &Value) -> Option<Source> {
    if cloudtrail::is_record(v) {
        Some(cloudtrail::source_of(v))
    } else if dns::is_record(v) {
        Some(Source::Dns)
    } else if eks::is_record(v) {
        Some(Source::Eks)
    } else {
        None
    }
}

/// A short description of an unrecognized JSON value, for messages.
fn describe(v: &Value) -> String {
    match v.as_object() {
        Some(obj) => {
            let keys: Vec<&str> = obj.iter().map(|(k, _)| k).take(6).collect();
            let more = if obj.len() > keys.len() { ", …" } else { "" };
            format!("a JSON object with keys {}{more}", keys.join(", "))
        }
        None => format!("a JSON {:?} value, not an object", v.get_type()).to_lowercase(),
    }
}

/// What framing cuts out of one input, handed on in input order. [`Ctx`] parses each
/// piece at once (`read_stream`); the batch framer ([`batch`]) copies them into batches
/// that other threads parse.
trait Records {
    /// True when the input is skipped: framing may stop.
    fn done(&self) -> bool;
    /// One JSON value (an element of an array, a pretty-printed record, a record of a
    /// long line) starting at `line`; nested too deep to parse when `deep`.
    fn json(&mut self, bytes: &[u8], line: u64, deep: bool);
    /// A whole line starting with `{` that does not begin a pretty-printed record: one
    /// record, or several written back to back.
    fn json_line(&mut self, bytes: &[u8], line: u64);
    /// A line that does not start with `{` or `[`, without its line end.
    fn text_line(&mut self, bytes: &[u8], line: u64);
    /// A text line of `n` bytes, over the record limit (dropped).
    fn long_text_line(&mut self, n: u64, line: u64);
    /// A problem with the input at `line`.
    fn error(&mut self, line: Option<u64>, message: String);
    /// The input is skipped as a whole, for this reason.
    fn skip(&mut self, reason: String);
}

/// The framing of one input: cuts records and lines out of the read buffer, each with
/// the line it starts on, and hands them to `out`. No parsing happens here: only byte
/// scans (newlines, the structural scan of JSON values).
struct Framer<'o, R> {
    out: &'o mut R,
    /// [`ReadOptions::max_record_bytes`].
    limit: usize,
}

impl<R: Records> Framer<'_, R> {
    fn run(&mut self, feed: &mut Feed) -> io::Result<()> {
        if feed.peek(3)?.starts_with(b"\xEF\xBB\xBF") {
            feed.consume(3);
        }
        let mut buf = Vec::new();
        let mut empty = true;
        while !self.out.done() {
            let Some(first) = feed.skip_ws()? else { break };
            empty = false;
            let line = feed.line;
            match first {
                b'[' => {
                    feed.consume(1);
                    self.array(feed, line, &mut buf)?;
                }
                b'{' => match records_prefix(feed.peek(4096)?) {
                    Some(n) => {
                        feed.consume_counting(n);
                        if self.array(feed, line, &mut buf)? {
                            self.close_records(feed)?;
                        }
                    }
                    None => self.json_line(feed, line, &mut buf)?,
                },
                _ => self.text_line(feed, line, &mut buf)?,
            }
        }
        if empty {
            self.out.skip("empty input".to_owned());
        }
        Ok(())
    }

    /// A line starting with `{`: one record (JSON lines), several written one after
    /// the other, or the first line of a pretty-printed one (a line that leaves its
    /// first value open and ends in `{`, `[`, `,` or `:`).
    fn json_line(&mut self, feed: &mut Feed, line: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        if !feed.line_buffered()? {
            return self.long_line(feed, line, buf);
        }
        let limit = self.limit;
        let loc = match feed.read_line(buf, limit)? {
            LineEnd::Eof => return Ok(()),
            LineEnd::TooLong(n) => {
                let message = format!("line {line} is {n} bytes, over the limit of {limit}");
                self.out.error(Some(line), message);
                return Ok(());
            }
            LineEnd::Line(loc) => loc,
        };
        let bytes = loc.bytes(feed, buf);
        // A complete JSON value ends in `}`: only a line that does not can open a
        // pretty-printed record, so JSON lines are not scanned here.
        if continues(bytes) {
            let mut scan = Scan::default();
            if scan.feed(bytes, true, &mut 0).is_none() {
                let start = bytes.to_vec();
                *buf = start;
                buf.push(b'\n');
                return self.rest_of_record(feed, line, buf, scan);
            }
        }
        self.out.json_line(bytes, line);
        Ok(())
    }

    /// The lines after the first of a pretty-printed record (`buf` holds the first).
    fn rest_of_record(
        &mut self,
        feed: &mut Feed,
        line: u64,
        buf: &mut Vec<u8>,
        mut scan: Scan,
    ) -> io::Result<()> {
        let limit = self.limit;
        match feed.scan_value(buf, &mut scan, limit)? {
            ValueEnd::Complete(_) => self.out.json(buf, line, false),
            ValueEnd::TooDeep => self.out.json(&[], line, true),
            ValueEnd::TooLong(n) => self.out.error(
                Some(line),
                format!("the record at line {line} is {n} bytes, over the limit of {limit}"),
            ),
            ValueEnd::Eof | ValueEnd::Broken => self.out.error(
                Some(line),
                format!("unexpected end of input in the record starting at line {line}"),
            ),
        }
        Ok(())
    }

    /// A line longer than the read buffer: its records one by one, each within the
    /// record limit (CloudWatch Logs subscription payloads delivered by Firehose are
    /// written one after the other with no newline between them).
    fn long_line(&mut self, feed: &mut Feed, line: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        let limit = self.limit;
        let mut first = true;
        while !self.out.done() {
            if matches!(feed.skip_inline_ws()?, None | Some(b'\n')) {
                break;
            }
            buf.clear();
            let mut scan = Scan {
                guard: true,
                ..Scan::default()
            };
            match feed.scan_value(buf, &mut scan, limit)? {
                ValueEnd::Complete(loc) => self.out.json(loc.bytes(feed, buf), line, false),
                ValueEnd::TooDeep => self.out.json(&[], line, true),
                ValueEnd::TooLong(n) => {
                    let alone = first && matches!(feed.skip_inline_ws()?, None | Some(b'\n'));
                    let message = if alone {
                        format!("line {line} is {n} bytes, over the limit of {limit}")
                    } else {
                        format!("a record on line {line} is {n} bytes, over the limit of {limit}")
                    };
                    self.out.error(Some(line), message);
                }
                ValueEnd::Broken => {
                    self.out
                        .error(Some(line), format!("line {line} ends inside a record"));
                    break;
                }
                ValueEnd::Eof => {
                    let message = format!("unexpected end of input in line {line}");
                    self.out.error(Some(line), message);
                    break;
                }
            }
            first = false;
        }
        Ok(())
    }

    /// The elements of a JSON array (the `[` is consumed), each one record. False when
    /// the array did not end well (the error is reported).
    fn array(&mut self, feed: &mut Feed, open: u64, buf: &mut Vec<u8>) -> io::Result<bool> {
        let limit = self.limit;
        let mut first = true;
        while !self.out.done() {
            let Some(mut next) = feed.skip_ws()? else {
                let message = format!(
                    "unexpected end of input: the array opened at line {open} is not closed"
                );
                self.out.error(Some(feed.line), message);
                return Ok(false);
            };
            if next == b']' {
                feed.consume(1);
                return Ok(true);
            }
            if !first {
                if next != b',' {
                    let message = format!(
                        "expected `,` or `]` after a record of the array opened at line {open}, found `{}`",
                        char::from(next).escape_default()
                    );
                    self.out.error(Some(feed.line), message);
                    feed.skip_line()?;
                    return Ok(false);
                }
                feed.consume(1);
                match feed.skip_ws()? {
                    Some(b) => next = b,
                    None => continue,
                }
                if next == b']' {
                    // A trailing comma: tolerated.
                    feed.consume(1);
                    return Ok(true);
                }
            }
            first = false;
            let line = feed.line;
            buf.clear();
            let mut scan = Scan::default();
            match feed.scan_value(buf, &mut scan, limit)? {
                ValueEnd::Complete(loc) => self.out.json(loc.bytes(feed, buf), line, false),
                ValueEnd::TooDeep => self.out.json(&[], line, true),
                ValueEnd::TooLong(n) => self.out.error(
                    Some(line),
                    format!("the record at line {line} is {n} bytes, over the limit of {limit}"),
                ),
                ValueEnd::Eof | ValueEnd::Broken => {
                    let message =
                        format!("unexpected end of input in the record starting at line {line}");
                    self.out.error(Some(line), message);
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// After the `Records` array: the closing brace, or other keys to skip.
    fn close_records(&mut self, feed: &mut Feed) -> io::Result<()> {
        if self.out.done() {
            return Ok(());
        }
        match feed.skip_ws()? {
            Some(b'}') => feed.consume(1),
            Some(b',') => {
                feed.consume(1);
                let line = feed.line;
                let mut scan = Scan {
                    depth: 1,
                    started: true,
                    ..Scan::default()
                };
                if let ValueEnd::Eof | ValueEnd::Broken =
                    feed.scan_value(&mut Vec::new(), &mut scan, 0)?
                {
                    let message = "unexpected end of input: the Records object is not closed";
                    self.out.error(Some(line), message.to_owned());
                }
            }
            Some(other) => {
                let message = format!(
                    "expected `}}` after the Records array, found `{}`",
                    char::from(other).escape_default()
                );
                self.out.error(Some(feed.line), message);
                feed.skip_line()?;
            }
            None => {
                let message = "unexpected end of input: the Records object is not closed";
                self.out.error(Some(feed.line), message.to_owned());
            }
        }
        Ok(())
    }

    /// A line that does not start with `{` or `[`.
    fn text_line(&mut self, feed: &mut Feed, line: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        match feed.read_line(buf, self.limit)? {
            LineEnd::Eof => {}
            LineEnd::TooLong(n) => self.out.long_text_line(n, line),
            LineEnd::Line(loc) => self.out.text_line(loc.bytes(feed, buf), line),
        }
        Ok(())
    }
}

/// Parsing state of one input (or of one batch of it): turns what framing cut out into
/// events and errors.
struct Ctx<'a> {
    file: Arc<str>,
    opts: &'a ReadOptions,
    stats: &'a mut ReadStats,
    on_event: &'a mut dyn FnMut(Event),
    on_error: &'a mut dyn FnMut(InputError),
    /// Events produced so far.
    record: u64,
    /// Some record (or a flow header or wrapper) was recognized.
    recognized: bool,
    /// Stop reading this input (skipped).
    done: bool,
    /// The flow-log format of the lines that follow.
    flow: Arc<FlowFormat>,
    /// Errors reported so far.
    errors: usize,
    /// A batch after the first of its input: whether the batches before it recognized
    /// anything is not known yet, so a record that would skip the input if they did not
    /// is taken as if they did (an error), and the first such point is kept in
    /// `pending_skip` for the in-order merge to settle.
    speculative: bool,
    /// The first point where the input would be skipped were nothing recognized before
    /// this batch: the errors reported before it and the reason.
    pending_skip: Option<(usize, String)>,
}

impl<'a> Ctx<'a> {
    fn new(
        file: Arc<str>,
        opts: &'a ReadOptions,
        stats: &'a mut ReadStats,
        on_event: &'a mut dyn FnMut(Event),
        on_error: &'a mut dyn FnMut(InputError),
    ) -> Self {
        Ctx {
            file,
            opts,
            stats,
            on_event,
            on_error,
            record: 0,
            recognized: false,
            done: false,
            flow: Arc::new(FlowFormat::v2()),
            errors: 0,
            speculative: false,
            pending_skip: None,
        }
    }
}

impl Records for Ctx<'_> {
    fn done(&self) -> bool {
        self.done
    }

    fn error(&mut self, line: Option<u64>, message: String) {
        self.stats.errors += 1;
        self.errors += 1;
        (self.on_error)(InputError {
            file: Arc::clone(&self.file),
            line,
            message,
        });
    }

    fn skip(&mut self, reason: String) {
        self.stats.skipped.push((Arc::clone(&self.file), reason));
        self.done = true;
    }

    /// Parses one JSON record and hands it on.
    fn json(&mut self, bytes: &[u8], line: u64, deep: bool) {
        if deep {
            let message = format!("the record is nested deeper than {MAX_DEPTH} levels");
            self.error(Some(line), message);
            return;
        }
        match sonic_rs::from_slice::<Value>(bytes) {
            Ok(v) => self.dispatch(v, line),
            Err(e) => {
                let (at, message) = parse_error(&e, line);
                self.error(Some(at), message);
            }
        }
    }

    fn json_line(&mut self, bytes: &[u8], line: u64) {
        // Fast path: with this few brackets the line cannot nest too deep, so it goes
        // straight to the parser (no scan); one record is the common case.
        if memchr::memchr2_iter(b'{', b'[', bytes).count() <= MAX_DEPTH as usize {
            if let Ok(v) = sonic_rs::from_slice::<Value>(bytes) {
                self.dispatch(v, line);
                return;
            }
        }
        // Several records on the line (concatenated payloads), a deep or a malformed
        // one.
        let mut rest = bytes;
        while !self.done {
            let blank = rest.iter().take_while(|c| c.is_ascii_whitespace()).count();
            rest = &rest[blank..];
            if rest.is_empty() {
                break;
            }
            let mut scan = Scan::default();
            match scan.feed(rest, true, &mut 0) {
                Some(n) => {
                    self.json(&rest[..n], line, scan.too_deep);
                    rest = &rest[n..];
                }
                None => {
                    self.json(rest, line, scan.too_deep);
                    break;
                }
            }
        }
    }

    fn text_line(&mut self, bytes: &[u8], line: u64) {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.text(text, line),
            Err(e) => {
                if !self.recognized
                    && self.skip_unless_recognized("binary content (not UTF-8 text)".to_owned())
                {
                    return;
                }
                let message = format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1);
                self.error(Some(line), message);
            }
        }
    }

    fn long_text_line(&mut self, n: u64, line: u64) {
        if !self.recognized
            && self.skip_unless_recognized(format!(
                "unrecognized content: a first line of {n} bytes that is not JSON"
            ))
        {
            return;
        }
        let limit = self.opts.max_record_bytes;
        let message = format!("line {line} is {n} bytes, over the limit of {limit}");
        self.error(Some(line), message);
    }
}

impl Ctx<'_> {
    /// At a record that skips the input when nothing before it was recognized (call it
    /// only then): skips and returns true, or, in a speculative batch, keeps the point
    /// as the pending skip and returns false (the record is taken as an error).
    fn skip_unless_recognized(&mut self, reason: String) -> bool {
        debug_assert!(!self.recognized);
        if self.speculative {
            self.pending_skip.get_or_insert((self.errors, reason));
            return false;
        }
        self.skip(reason);
        true
    }

    /// An unrecognized record: the whole input is skipped when nothing in it was
    /// recognized yet, else the record is an error.
    fn unrecognized(&mut self, line: u64, what: String) {
        if !self.recognized
            && self.opts.source.is_none()
            && self.skip_unless_recognized(format!("unrecognized content: {what}"))
        {
            return;
        }
        self.error(Some(line), format!("unrecognized record: {what}"));
    }

    fn emit(&mut self, source: Source, raw: Raw, line: u64, log_group: Option<Arc<str>>) {
        self.recognized = true;
        *self.stats.events.entry(source).or_default() += 1;
        let event = Event {
            source,
            raw,
            origin: Origin {
                file: Arc::clone(&self.file),
                line,
                record: self.record,
            },
            log_group,
        };
        self.record += 1;
        (self.on_event)(event);
    }

    /// A parsed top-level JSON value: a container of records, a wrapper, or a record.
    fn dispatch(&mut self, mut v: Value, line: u64) {
        if !v.is_object() {
            self.unrecognized(line, describe(&v));
            return;
        }
        // Records first: their keys are found early, containers' keys are misses.
        if self.opts.source.is_none() {
            if let Some(source) = classify(&v) {
                self.emit(source, Raw::Json(v), line, None);
                return;
            }
        }
        if v.get("Records").is_some_and(|r| r.is_array()) {
            // `Records` not first: parsed whole; move each record out of the array.
            let records = v
                .as_object_mut()
                .and_then(|o| o.remove(&"Records"))
                .and_then(Value::into_array);
            for record in records.into_iter().flatten() {
                if self.done {
                    break;
                }
                self.record(record, line, None);
            }
            return;
        }
        if cloudtrail::is_digest(&v) {
            self.skip("CloudTrail digest file".to_owned());
            return;
        }
        match eks::wrapper(&v) {
            Some(eks::Wrapper::Control) => self.recognized = true,
            Some(eks::Wrapper::Subscription { log_group, events }) => {
                self.recognized = true;
                let group = log_group.map(Arc::from);
                for event in events {
                    match event.get("message").and_then(|m| m.as_str()) {
                        Some(message) => self.message(message, line, group.clone()),
                        None => self.error(Some(line), "log event without a message".to_owned()),
                    }
                }
            }
            Some(eks::Wrapper::Record { log_group, message }) => {
                self.recognized = true;
                self.message(message, line, log_group.map(Arc::from));
            }
            None => self.record(v, line, None),
        }
    }

    /// One record, classified by its keys (or by `--source`).
    fn record(&mut self, v: Value, line: u64, log_group: Option<Arc<str>>) {
        let source = match self.opts.source {
            Some(Source::CloudTrail) => cloudtrail::source_of(&v),
            Some(Source::VpcFlow) => {
                let message = "a JSON record, but the source is vpcflow".to_owned();
                self.error(Some(line), message);
                return;
            }
            Some(source) => source,
            None => match classify(&v) {
                Some(source) => source,
                None => {
                    let what = describe(&v);
                    self.unrecognized(line, what);
                    return;
                }
            },
        };
        self.emit(source, Raw::Json(v), line, log_group);
    }

    /// The text of a CloudWatch Logs event: a JSON record or a flow-log line.
    fn message(&mut self, message: &str, line: u64, log_group: Option<Arc<str>>) {
        let text = message.trim();
        if !text.starts_with('{') {
            self.flow_line(text, line, log_group);
            return;
        }
        if too_deep(text.as_bytes()) {
            let message = format!("log event message is nested deeper than {MAX_DEPTH} levels");
            self.error(Some(line), message);
            return;
        }
        match sonic_rs::from_str::<Value>(text) {
            Ok(v) => {
                if self.opts.source.is_none() && classify(&v).is_none() {
                    let message = format!("unrecognized log event message: {}", describe(&v));
                    self.error(Some(line), message);
                } else {
                    self.record(v, line, log_group);
                }
            }
            Err(e) => {
                let (_, message) = parse_error(&e, 1);
                self.error(Some(line), format!("log event message: {message}"));
            }
        }
    }

    fn text(&mut self, text: &str, line: u64) {
        let text = text.trim();
        if let Some((stamp, rest)) = text.split_once(' ') {
            let rest = rest.trim_start();
            // CloudWatch Logs text export: `<timestamp> <message>`, when the message is
            // a record (other timestamped text is some other log).
            if parse_rfc3339(stamp).is_some()
                && (rest.starts_with('{') || vpcflow::looks_like_record(rest, &self.flow))
            {
                self.recognized = true;
                self.message(rest, line, None);
                return;
            }
        }
        if vpcflow::is_header(text) {
            self.flow = Arc::new(FlowFormat::from_header(text, line));
            self.recognized = true;
            return;
        }
        if !self.recognized
            && self.opts.source.is_none()
            && !vpcflow::looks_like_record(text, &self.flow)
        {
            let preview: String = text.chars().take(60).collect();
            let more = if preview.len() < text.len() {
                "…"
            } else {
                ""
            };
            let reason = format!("unrecognized content: first line `{preview}{more}`");
            if self.skip_unless_recognized(reason) {
                return;
            }
        }
        self.flow_line(text, line, None);
    }

    fn flow_line(&mut self, text: &str, line: u64, log_group: Option<Arc<str>>) {
        if let Some(source) = self.opts.source.filter(|s| *s != Source::VpcFlow) {
            let message = format!("a text line, but the source is {source}");
            self.error(Some(line), message);
            return;
        }
        match FlowRecord::parse(text, &self.flow) {
            Ok(record) => self.emit(Source::VpcFlow, Raw::Flow(record), line, log_group),
            Err(message) => self.error(Some(line), message),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
