//! Inputs of `picket serve`: each runs on its own thread and hands [`Batch`]es of
//! events to the pipeline through a bounded channel (an input waits when the engine is
//! behind, so memory stays bounded).
//!
//! - [`directory`]: a folder tree tailed with [`tail::Tailer`], woken by file-system
//!   events and by a poll; each batch carries the file positions it reaches.
//! - [`stdin`]: JSON lines (or anything `scan` reads) on standard input, batched by
//!   size and time.
//! - [`http`]: an ingest endpoint; a request is answered once its events are matched
//!   and their findings stored.

pub mod http;
pub mod tail;

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::{read_stream, Event, InputError, ReadOptions, ReadStats, Source};

use super::config::{InputConfig, InputKind};

/// Events of one input, processed and committed together.
pub struct Batch {
    /// Index of the input in the configuration.
    pub input: usize,
    /// The events, in input order.
    pub events: Vec<Event>,
    /// Problems met reading them.
    pub errors: Vec<InputError>,
    /// Events per source.
    pub by_source: Vec<(Source, u64)>,
    /// Input positions after this batch: `(key, JSON)`, stored with its findings.
    pub positions: Vec<(String, String)>,
    /// When its first event was read.
    pub arrived: Instant,
    /// Told the outcome once the batch is committed (HTTP ingest waits for it).
    pub done: Option<Sender<Result<Committed, String>>>,
}

/// What committing a batch did.
#[derive(Clone, Debug, Default)]
pub struct Committed {
    /// Events matched.
    pub events: usize,
    /// Findings created or updated.
    pub findings: usize,
}

/// Counters an input keeps for status and metrics.
#[derive(Default)]
pub struct InputCounters {
    /// Events read.
    pub events: AtomicU64,
    /// Errors met.
    pub errors: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Finished (standard input at its end).
    pub finished: AtomicBool,
}

impl InputCounters {
    /// Counts what one read took in.
    pub fn add(&self, bytes: usize, events: usize, errors: usize) {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.events.fetch_add(events as u64, Ordering::Relaxed);
        self.errors.fetch_add(errors as u64, Ordering::Relaxed);
    }
}

/// A running input.
pub struct Running {
    /// Its configuration.
    pub config: InputConfig,
    /// Its counters.
    pub counters: Arc<InputCounters>,
    /// Its thread.
    pub thread: Option<std::thread::JoinHandle<()>>,
    /// The ingest server's address, for `http`.
    pub local_addr: Option<std::net::SocketAddr>,
    /// Stops the ingest server, for `http`.
    pub server: Option<Arc<tiny_http::Server>>,
}

/// What every input needs.
#[derive(Clone)]
pub struct Context {
    /// Where batches go.
    pub batches: SyncSender<Batch>,
    /// Set at shutdown.
    pub stop: Arc<AtomicBool>,
    /// Batching.
    pub batch_events: usize,
    /// Batching.
    pub batch_wait: Duration,
    /// Largest record.
    pub max_record_bytes: usize,
    /// Counts batches in the queue.
    pub queued: Arc<crate::serve::pipeline::PipelineCounters>,
}

impl Context {
    /// Hands a batch to the pipeline (waiting while the queue is full); false once the
    /// pipeline is gone.
    pub fn send(&self, batch: Batch) -> bool {
        self.queued.queued.fetch_add(1, Ordering::Relaxed);
        if self.batches.send(batch).is_ok() {
            return true;
        }
        self.queued.queued.fetch_sub(1, Ordering::Relaxed);
        false
    }
}

/// Reads bytes as `scan` does (gzip, JSON lines, `Records` documents, flow-log text):
/// the events and errors, with line numbers counted from `first_line`.
pub fn read_bytes(
    name: &str,
    data: &[u8],
    first_line: u64,
    source: Option<Source>,
    max_record_bytes: usize,
) -> (Vec<Event>, Vec<InputError>, ReadStats) {
    let opts = ReadOptions {
        source,
        max_record_bytes,
        progress: None,
    };
    let mut stats = ReadStats::default();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let shift = first_line.saturating_sub(1);
    read_stream(
        name,
        Cursor::new(data),
        &opts,
        &mut stats,
        &mut |mut e: Event| {
            e.origin.line += shift;
            events.push(e)
        },
        &mut |mut e: InputError| {
            if let Some(l) = e.line.as_mut() {
                *l += shift;
            }
            errors.push(e)
        },
    );
    (events, errors, stats)
}

fn by_source(stats: &ReadStats) -> Vec<(Source, u64)> {
    stats.events.iter().map(|(s, n)| (*s, *n)).collect()
}

/// Starts an input's thread. `positions` are the durable positions of its files (for a
/// folder).
pub fn start(
    index: usize,
    config: InputConfig,
    ctx: Context,
    positions: std::collections::HashMap<String, tail::FilePos>,
) -> std::io::Result<Running> {
    let counters = Arc::new(InputCounters::default());
    let mut running = Running {
        config: config.clone(),
        counters: Arc::clone(&counters),
        thread: None,
        local_addr: None,
        server: None,
    };
    let name = format!("input-{}", config.name);
    match &config.kind {
        InputKind::Directory {
            path,
            poll,
            settle,
            start_at_end,
        } => {
            let tailer = tail::Tailer::new(path.clone(), *settle, positions, *start_at_end);
            let poll = *poll;
            let source = config.source;
            let input_name = config.name.clone();
            running.thread = Some(std::thread::Builder::new().name(name).spawn(move || {
                directory(index, &input_name, tailer, poll, source, ctx, &counters)
            })?);
        }
        InputKind::Stdin => {
            let source = config.source;
            running.thread = Some(
                std::thread::Builder::new()
                    .name(name)
                    .spawn(move || stdin(index, source, ctx, &counters))?,
            );
        }
        InputKind::Http {
            listen,
            token,
            max_body_bytes,
        } => {
            let server = tiny_http::Server::http(listen)
                .map_err(|e| std::io::Error::other(format!("cannot listen on {listen}: {e}")))?;
            let server = Arc::new(server);
            running.local_addr = server.server_addr().to_ip();
            running.server = Some(Arc::clone(&server));
            let settings = http::Settings {
                index,
                token: token.clone(),
                max_body_bytes: *max_body_bytes,
                source: config.source,
            };
            // Several requests are read and parsed at once; their batches still reach
            // the pipeline one at a time, each answered once committed.
            let settings = Arc::new(settings);
            let mut handlers = Vec::new();
            for i in 0..http::HANDLERS {
                let (server, settings, ctx, counters) = (
                    Arc::clone(&server),
                    Arc::clone(&settings),
                    ctx.clone(),
                    Arc::clone(&counters),
                );
                handlers.push(
                    std::thread::Builder::new()
                        .name(format!("{name}-{i}"))
                        .spawn(move || {
                            super::lower_priority(super::INGEST_NICE);
                            http::serve(&server, &settings, &ctx, &counters)
                        })?,
                );
            }
            running.thread = Some(std::thread::Builder::new().name(name).spawn(move || {
                for h in handlers {
                    let _ = h.join();
                }
            })?);
        }
    }
    Ok(running)
}

/// The position key of a file of a folder input.
pub fn position_key(input: &str, file_key: &str) -> String {
    format!("dir:{input}:{file_key}")
}

fn directory(
    index: usize,
    input: &str,
    mut tailer: tail::Tailer,
    poll: Duration,
    source: Option<Source>,
    ctx: Context,
    counters: &InputCounters,
) {
    let (wake_tx, wake_rx) = std::sync::mpsc::channel::<()>();
    // File-system events wake the poll early; the poll alone is enough without them.
    let watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if e.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_))) {
            let _ = wake_tx.send(());
        }
    })
    .and_then(|mut w| {
        notify::Watcher::watch(&mut w, tailer.root(), notify::RecursiveMode::Recursive)?;
        Ok(w)
    });
    if let Err(e) = &watcher {
        tracing::warn!(input, error = %e, "file-system events unavailable; polling only");
    }
    let tick = poll
        .min(Duration::from_millis(250))
        .max(Duration::from_millis(10));
    let mut last_poll = Instant::now() - poll;
    while !ctx.stop.load(Ordering::Relaxed) {
        let woken = matches!(wake_rx.recv_timeout(tick), Ok(()));
        while wake_rx.try_recv().is_ok() {}
        if !woken && last_poll.elapsed() < poll {
            continue;
        }
        last_poll = Instant::now();
        loop {
            let (chunks, errors) = tailer.poll(16);
            for e in errors {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(input, file = %e.file.display(), "{}", e.message);
            }
            if chunks.is_empty() {
                break;
            }
            for chunk in chunks {
                let arrived = Instant::now();
                let name = chunk.file.display().to_string();
                let (events, errors, stats) = read_bytes(
                    &name,
                    &chunk.data,
                    chunk.first_line,
                    source,
                    ctx.max_record_bytes,
                );
                for (file, reason) in &stats.skipped {
                    tracing::info!(input, file = %file, "not read: {reason}");
                }
                counters.add(chunk.data.len(), events.len(), errors.len());
                let position = serde_json::to_string(&chunk.pos).unwrap_or_default();
                let batch = Batch {
                    input: index,
                    events,
                    errors,
                    by_source: by_source(&stats),
                    positions: vec![(position_key(input, &chunk.key), position)],
                    arrived,
                    done: None,
                };
                if !ctx.send(batch) {
                    return;
                }
            }
            if ctx.stop.load(Ordering::Relaxed) {
                return;
            }
        }
    }
    drop(watcher);
}

/// Reads standard input to its end, handing events on in batches of `batch_events` or
/// every `batch_wait`, whichever comes first.
fn stdin(index: usize, source: Option<Source>, ctx: Context, counters: &InputCounters) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Event, InputError>>(ctx.batch_events);
    let opts = ReadOptions {
        source,
        max_record_bytes: ctx.max_record_bytes,
        progress: None,
    };
    let reader = std::thread::Builder::new()
        .name("stdin-reader".into())
        .spawn(move || {
            let mut stats = ReadStats::default();
            let events = tx.clone();
            read_stream(
                "-",
                std::io::stdin().lock(),
                &opts,
                &mut stats,
                &mut |e| {
                    let _ = events.send(Ok(e));
                },
                &mut |e| {
                    let _ = tx.send(Err(e));
                },
            );
        });
    if let Err(e) = reader {
        tracing::error!(error = %e, "cannot start reading standard input");
        return;
    }
    batch_stream(index, &rx, &ctx, counters);
    counters.finished.store(true, Ordering::Relaxed);
}

/// Forms batches from a stream of events, by size and by time.
fn batch_stream(
    index: usize,
    rx: &Receiver<Result<Event, InputError>>,
    ctx: &Context,
    counters: &InputCounters,
) {
    let mut events: Vec<Event> = Vec::new();
    let mut errors: Vec<InputError> = Vec::new();
    let mut first: Option<Instant> = None;
    let flush =
        |events: &mut Vec<Event>, errors: &mut Vec<InputError>, first: &mut Option<Instant>| {
            if events.is_empty() && errors.is_empty() {
                return true;
            }
            let mut counts: std::collections::BTreeMap<Source, u64> = Default::default();
            for e in events.iter() {
                *counts.entry(e.source).or_default() += 1;
            }
            let batch = Batch {
                input: index,
                events: std::mem::take(events),
                errors: std::mem::take(errors),
                by_source: counts.into_iter().collect(),
                positions: Vec::new(),
                arrived: first.take().unwrap_or_else(Instant::now),
                done: None,
            };
            ctx.send(batch)
        };
    loop {
        let wait = match first {
            Some(t) => ctx.batch_wait.saturating_sub(t.elapsed()),
            None => Duration::from_millis(250),
        };
        match rx.recv_timeout(wait) {
            Ok(item) => {
                first.get_or_insert_with(Instant::now);
                match item {
                    Ok(e) => {
                        counters.events.fetch_add(1, Ordering::Relaxed);
                        events.push(e);
                    }
                    Err(e) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        errors.push(e);
                    }
                }
                if events.len() >= ctx.batch_events && !flush(&mut events, &mut errors, &mut first)
                {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if !flush(&mut events, &mut errors, &mut first) {
                    return;
                }
                if ctx.stop.load(Ordering::Relaxed) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                flush(&mut events, &mut errors, &mut first);
                return;
            }
        }
    }
}
