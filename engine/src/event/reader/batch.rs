//! Framing apart from parsing, for reading on several threads.
//!
//! Framing (gzip, cutting records and lines out of the bytes, counting lines) is a cheap
//! byte scan; parsing, normalizing and what follows are the expensive part. So one
//! thread frames the inputs in order ([`frame_inputs`]) into [`Batch`]es: the raw
//! bytes of consecutive records of one input, each with its line, a few MB at a time;
//! any thread parses a batch ([`Batch::parse`]) into events and errors; and the results
//! are settled in input order by an [`InputOrder`], which gives exactly what reading
//! the input in one go gives: the same events (with the same lines and record
//! numbers), the same errors in the same order, the same statistics.
//!
//! What one record means can depend on the records before it in its input, in three
//! ways, each carried across batches:
//!
//! - the flow-log format set by a header line: the framer recognizes headers itself (a
//!   cheap test of the first token) and gives each batch the format in force at its
//!   start;
//! - the record number within the input (`Origin::record`, the count of events before
//!   it): a batch numbers its events from 0 and [`Accepted::record_base`] says what to
//!   add;
//! - whether anything of the input was recognized yet, which decides whether an
//!   unrecognized record skips the whole input or is one error: the first batch of an
//!   input knows (nothing was); a later batch parses as if something was and notes the
//!   first point where it would have skipped otherwise, and [`InputOrder`] settles it
//!   once the batches before are known. A skip ends the input: what follows is dropped,
//!   and the framer is told to stop reading it.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{frame, io_message, Ctx, InputError, ReadOptions, ReadStats, Records};
use crate::event::vpcflow::{self, FlowFormat};
use crate::event::{Event, Source};

/// Most records (lines) in one batch, whatever their size.
const MAX_BATCH_RECORDS: usize = 16 * 1024;

/// One piece of the framing of a batch, in input order.
#[derive(Debug)]
enum Item {
    /// A JSON value at `data[range]` (empty when too deep to parse).
    Json {
        range: Range<usize>,
        line: u64,
        deep: bool,
    },
    /// A line starting with `{` at `data[range]`.
    JsonLine { range: Range<usize>, line: u64 },
    /// A text line at `data[range]`.
    Text { range: Range<usize>, line: u64 },
    /// A text line over the record limit.
    LongText { bytes: u64, line: u64 },
    /// A framing problem (or an input that could not be opened).
    Error { line: Option<u64>, message: String },
    /// The input is skipped (it is empty).
    Skip(String),
}

/// Consecutive records of one input, framed but not parsed.
#[derive(Debug)]
pub struct Batch {
    file: Arc<str>,
    /// 0-based index of this batch within its input.
    index: u64,
    /// The flow-log format in force at the first record.
    flow: Arc<FlowFormat>,
    data: Vec<u8>,
    items: Vec<Item>,
    /// Inputs opened (1 on the first batch of an input that opened, else 0).
    files: u64,
    /// Input bytes read since the previous batch of the input (compressed for gzip).
    bytes: u64,
    /// Bytes after decompression (on the last batch of the input).
    decoded: u64,
    /// The lowest index of a batch of this input that skipped it (`u64::MAX`: none).
    skipped_at: Arc<AtomicU64>,
}

impl Batch {
    /// The input it is a piece of.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Bytes of records held.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when it holds no record bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Its storage, to reuse.
    pub fn into_buffers(self) -> Buffers {
        Buffers {
            data: self.data,
            items: self.items,
        }
    }

    /// Parses the records, calling `on_event` for each event (numbered from 0 within
    /// the batch); errors and statistics are in the result, for [`InputOrder::accept`].
    pub fn parse(&self, opts: &ReadOptions, on_event: &mut dyn FnMut(Event)) -> Parsed {
        let mut parsed = Parsed {
            file: Arc::clone(&self.file),
            first: self.index == 0,
            files: self.files,
            bytes: self.bytes,
            decoded: self.decoded,
            events: BTreeMap::new(),
            errors: Vec::new(),
            skipped: None,
            recognized: false,
            pending_skip: None,
            count: 0,
        };
        if self.skipped_at.load(Ordering::Relaxed) < self.index {
            // An earlier batch skipped the input: this one is dropped in any case.
            return parsed;
        }
        let mut stats = ReadStats::default();
        let mut errors = Vec::new();
        let mut on_error = |e| errors.push(e);
        // The batch's own copies of what every event points to: reference counts that
        // threads parsing other batches of the input do not touch.
        let file: Arc<str> = Arc::from(&*self.file);
        let mut ctx = Ctx::new(file, opts, &mut stats, on_event, &mut on_error);
        ctx.speculative = self.index > 0;
        ctx.flow = Arc::new(FlowFormat::clone(&self.flow));
        for item in &self.items {
            if ctx.done {
                break;
            }
            match item {
                Item::Json { range, line, deep } => {
                    ctx.json(&self.data[range.clone()], *line, *deep)
                }
                Item::JsonLine { range, line } => ctx.json_line(&self.data[range.clone()], *line),
                Item::Text { range, line } => ctx.text_line(&self.data[range.clone()], *line),
                Item::LongText { bytes, line } => ctx.long_text_line(*bytes, *line),
                Item::Error { line, message } => ctx.error(*line, message.clone()),
                Item::Skip(reason) => ctx.skip(reason.clone()),
            }
        }
        parsed.recognized = ctx.recognized;
        parsed.pending_skip = ctx.pending_skip.take();
        parsed.count = ctx.record;
        drop(ctx);
        if let Some((_, reason)) = stats.skipped.pop() {
            // Skipped here or earlier: what follows this batch is dropped.
            self.skipped_at.fetch_min(self.index, Ordering::Relaxed);
            parsed.skipped = Some(reason);
        }
        parsed.events = stats.events;
        parsed.errors = errors;
        parsed
    }
}

/// What parsing a batch produced besides its events, to be settled in input order by
/// [`InputOrder::accept`].
#[derive(Debug)]
pub struct Parsed {
    file: Arc<str>,
    first: bool,
    files: u64,
    bytes: u64,
    decoded: u64,
    /// Events per source.
    events: BTreeMap<Source, u64>,
    errors: Vec<InputError>,
    /// The batch skipped the input, for this reason.
    skipped: Option<String>,
    /// Something was recognized in the batch.
    recognized: bool,
    /// Where the batch would have skipped the input had nothing been recognized before
    /// it: the errors before that point and the reason.
    pending_skip: Option<(usize, String)>,
    /// Events produced.
    count: u64,
}

/// What of a parsed batch stands, once the batches before it are settled.
#[derive(Debug)]
pub struct Accepted {
    /// The input.
    pub file: Arc<str>,
    /// The first batch of its input.
    pub first: bool,
    /// Input bytes the batch accounts for (for progress).
    pub bytes: u64,
    /// Its errors to report, in order (already counted in the statistics).
    pub errors: Vec<InputError>,
    /// `Some(n)` when its events stand: add `n` to their record numbers (the events of
    /// the input before the batch). `None`: the input was skipped before or in the
    /// batch, and its events are dropped.
    pub record_base: Option<u64>,
}

/// Settles parsed batches in input order: which errors and events stand, the record
/// numbers, the statistics.
#[derive(Debug, Default)]
pub struct InputOrder {
    recognized: bool,
    done: bool,
    events: u64,
}

impl InputOrder {
    /// A new order, before the first batch.
    pub fn new() -> Self {
        InputOrder::default()
    }

    /// Takes the next batch in input order (every batch, in the order framed), adding
    /// to `stats`.
    pub fn accept(&mut self, parsed: Parsed, stats: &mut ReadStats) -> Accepted {
        stats.files += parsed.files;
        stats.bytes += parsed.bytes;
        stats.decoded_bytes += parsed.decoded;
        if parsed.first {
            *self = InputOrder::default();
        }
        let mut accepted = Accepted {
            file: Arc::clone(&parsed.file),
            first: parsed.first,
            bytes: parsed.bytes,
            errors: Vec::new(),
            record_base: None,
        };
        if self.done {
            return accepted;
        }
        if let (false, Some((before, reason))) = (self.recognized, parsed.pending_skip) {
            // Nothing was recognized before the batch: it skips the input where it
            // would have, and nothing after that point stands (no event came before it).
            let mut errors = parsed.errors;
            errors.truncate(before);
            stats.errors += errors.len() as u64;
            stats.skipped.push((parsed.file, reason));
            self.done = true;
            accepted.errors = errors;
            return accepted;
        }
        stats.errors += parsed.errors.len() as u64;
        for (source, n) in parsed.events {
            *stats.events.entry(source).or_default() += n;
        }
        if let Some(reason) = parsed.skipped {
            stats.skipped.push((parsed.file, reason));
            self.done = true;
        }
        self.recognized |= parsed.recognized;
        accepted.errors = parsed.errors;
        accepted.record_base = Some(self.events);
        self.events += parsed.count;
        accepted
    }
}

/// The storage of a batch, reused: `send` hands back the storage of a batch it is
/// done with (or a new one) for the framer to fill next.
#[derive(Debug, Default)]
pub struct Buffers {
    data: Vec<u8>,
    items: Vec<Item>,
}

impl Buffers {
    fn cleared(mut self) -> Self {
        self.data.clear();
        self.items.clear();
        self
    }
}

/// What `send` does with a batch: takes it and returns the storage for the next one
/// (`Some(Buffers::default())` for new storage), or `None` to stop framing.
pub type SendBatch<'s> = dyn FnMut(Batch) -> Option<Buffers> + 's;

/// Frames files (or stdin for `-`) in order into batches of about `batch_bytes` of
/// records, handing each to `send`. Inputs that cannot be opened are a batch with the
/// error.
pub fn frame_inputs(
    paths: &[PathBuf],
    opts: &ReadOptions,
    batch_bytes: usize,
    send: &mut SendBatch<'_>,
) {
    let mut buffers = Buffers::default();
    for path in paths {
        match frame_path(path, opts, batch_bytes, buffers, send) {
            Some(next) => buffers = next,
            None => return,
        }
    }
}

/// Frames one file (or stdin for `-`) into batches (see [`frame_inputs`]), the first
/// one in `buffers`. Returns the storage `send` gave back last, or `None` when it
/// asked to stop.
pub fn frame_path(
    path: &Path,
    opts: &ReadOptions,
    batch_bytes: usize,
    buffers: Buffers,
    send: &mut SendBatch<'_>,
) -> Option<Buffers> {
    if path.as_os_str() == "-" {
        return frame_stream("-", io::stdin().lock(), opts, batch_bytes, buffers, send);
    }
    let name = path.display().to_string();
    let message = if path.is_dir() {
        "is a directory".to_owned()
    } else {
        match File::open(path) {
            Ok(file) => return frame_stream(&name, file, opts, batch_bytes, buffers, send),
            Err(e) => io_message(&e),
        }
    };
    let mut cutter = Cutter::new(Arc::from(name), batch_bytes, buffers, send);
    cutter.batch.files = 0;
    cutter.error(None, message);
    cutter.finish(0, 0)
}

/// Frames one input stream into batches (see [`frame_path`]); `name` names it in
/// origins and errors.
pub fn frame_stream(
    name: &str,
    input: impl Read,
    opts: &ReadOptions,
    batch_bytes: usize,
    buffers: Buffers,
    send: &mut SendBatch<'_>,
) -> Option<Buffers> {
    let consumed = Rc::new(Cell::new(0u64));
    let mut cutter = Cutter::new(Arc::from(name), batch_bytes, buffers, send);
    cutter.consumed = Some(Rc::clone(&consumed));
    let decoded = frame(input, opts.max_record_bytes, None, &consumed, &mut cutter);
    cutter.finish(consumed.get(), decoded)
}

/// Copies what framing cuts out of one input into batches and sends them.
struct Cutter<'s, 'f> {
    batch: Batch,
    batch_bytes: usize,
    send: &'s mut SendBatch<'f>,
    /// `send` asked to stop.
    stopped: bool,
    /// The flow-log format in force (for the next batch).
    flow: Arc<FlowFormat>,
    /// Input bytes read so far, and the part of them already given to a batch.
    consumed: Option<Rc<Cell<u64>>>,
    counted: u64,
}

impl<'s, 'f> Cutter<'s, 'f> {
    fn new(
        file: Arc<str>,
        batch_bytes: usize,
        buffers: Buffers,
        send: &'s mut SendBatch<'f>,
    ) -> Self {
        let flow = Arc::new(FlowFormat::v2());
        let Buffers { data, items } = buffers.cleared();
        Cutter {
            batch: Batch {
                file,
                index: 0,
                flow: Arc::clone(&flow),
                data,
                items,
                files: 1,
                bytes: 0,
                decoded: 0,
                skipped_at: Arc::new(AtomicU64::new(u64::MAX)),
            },
            batch_bytes: batch_bytes.max(1),
            send,
            stopped: false,
            flow,
            consumed: None,
            counted: 0,
        }
    }

    /// Adds bytes to the batch; their range.
    fn push_data(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.batch.data.len();
        self.batch.data.extend_from_slice(bytes);
        start..self.batch.data.len()
    }

    /// Adds an item, and sends the batch when it is full.
    fn push(&mut self, item: Item) {
        self.batch.items.push(item);
        if self.batch.data.len() >= self.batch_bytes || self.batch.items.len() >= MAX_BATCH_RECORDS
        {
            if let Some(buffers) = self.send_batch() {
                let Buffers { data, items } = buffers.cleared();
                self.batch.data = data;
                self.batch.items = items;
            }
        }
    }

    /// Sends the batch and starts the next one of the input, without storage; returns
    /// the storage `send` gave back.
    fn send_batch(&mut self) -> Option<Buffers> {
        if self.stopped {
            return None;
        }
        let next = Batch {
            file: Arc::clone(&self.batch.file),
            index: self.batch.index + 1,
            flow: Arc::clone(&self.flow),
            data: Vec::new(),
            items: Vec::new(),
            files: 0,
            bytes: 0,
            decoded: 0,
            skipped_at: Arc::clone(&self.batch.skipped_at),
        };
        let mut batch = std::mem::replace(&mut self.batch, next);
        if let Some(consumed) = &self.consumed {
            batch.bytes = consumed.get() - self.counted;
            self.counted = consumed.get();
        }
        let buffers = (self.send)(batch);
        self.stopped = buffers.is_none();
        buffers
    }

    /// Sends the last batch of the input (even when empty: it carries the counts);
    /// returns the storage `send` gave back.
    fn finish(mut self, consumed: u64, decoded: u64) -> Option<Buffers> {
        self.consumed = None;
        self.batch.bytes = consumed - self.counted;
        self.batch.decoded = decoded;
        self.send_batch()
    }
}

impl Records for Cutter<'_, '_> {
    fn done(&self) -> bool {
        self.stopped || self.batch.skipped_at.load(Ordering::Relaxed) != u64::MAX
    }

    fn json(&mut self, bytes: &[u8], line: u64, deep: bool) {
        let range = if deep { 0..0 } else { self.push_data(bytes) };
        self.push(Item::Json { range, line, deep });
    }

    fn json_line(&mut self, bytes: &[u8], line: u64) {
        let range = self.push_data(bytes);
        self.push(Item::JsonLine { range, line });
    }

    fn text_line(&mut self, bytes: &[u8], line: u64) {
        // A header line sets the format of the lines after it, in later batches too.
        // Headers start with a lower-case name; records with digits or addresses.
        if bytes.first().is_some_and(u8::is_ascii_lowercase) {
            if let Ok(text) = std::str::from_utf8(bytes) {
                let text = text.trim();
                if vpcflow::is_header(text) {
                    self.flow = Arc::new(FlowFormat::from_header(text, line));
                }
            }
        }
        let range = self.push_data(bytes);
        self.push(Item::Text { range, line });
    }

    fn long_text_line(&mut self, n: u64, line: u64) {
        self.push(Item::LongText { bytes: n, line });
    }

    fn error(&mut self, line: Option<u64>, message: String) {
        self.push(Item::Error { line, message });
    }

    fn skip(&mut self, reason: String) {
        self.push(Item::Skip(reason));
    }
}
