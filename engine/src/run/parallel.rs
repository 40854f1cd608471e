//! Parallel scan: inputs to aggregated findings on several threads, with exactly the
//! result of reading and matching them in order on one.
//!
//! ```text
//! caller's thread --batches (bounded)--> N-1 workers
//!  read, gunzip, cut records (a byte     parse, normalize, match, aggregate into the
//!  scan), ~1 MB a batch; parses a        batch's own Aggregator; then merge what is
//!  batch itself when the workers         done in input order
//!  have no room for it
//! ```
//!
//! The caller's thread frames the inputs into batches of raw records of one input
//! (with their lines, see [`reader::Batch`]) and hands them to the workers over a
//! bounded channel; when the channel is full it parses the batch itself, so `threads`
//! threads are busy, the framing being the smaller part of the work. Parsing a batch
//! runs the matcher on its events and folds the matches into an [`Aggregator`] of the
//! batch's own. The thread that finishes a batch then merges, under a lock, every
//! finished batch that is next in input order: an [`InputOrder`] settles what stands
//! (errors, events, skipped inputs, record numbers), the errors are reported, and the
//! batch's aggregator is merged into the total ([`Aggregator::merge`]), which gives the
//! findings of adding every match in input order. No thread waits for another but to
//! get work or storage. The statistics are the same too, but for the bytes read of an input
//! skipped part way (a CloudTrail digest, unrecognized content): reading on one thread
//! stops at the record that skips it, the framer may have read further by the time it
//! hears of it.
//!
//! Memory is bounded: at most `4 × threads` batches are between the framer and the
//! merge at any time, each of about [`BATCH_BYTES`] (plus one record); their storage
//! goes back to the framer once merged and is filled again.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Sender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use super::{Match, Matcher, StateStore};
use crate::event::reader::{self, Batch, Buffers, InputOrder, Parsed};
use crate::event::{Event, InputError, ReadOptions, ReadStats};
use crate::finding::Aggregator;

/// Record bytes per batch.
pub const BATCH_BYTES: usize = 1 << 20;

/// A batch parsed and its matches aggregated, with the events that met a stateful
/// rule's condition (for the merge to run the state on, in input order), or the panic
/// that stopped it.
type Done<'p> = thread::Result<(Parsed, Aggregator, Vec<Held<'p>>)>;

/// An event and the matches of stateful rules' conditions on it.
type Held<'p> = (Event, Vec<Match<'p>>);

/// Reads `inputs` in order on `threads` threads (the caller's and `threads - 1` more,
/// at least one) and matches every event, returning the aggregated matches. Stateful
/// rules run through `state`, in input order, as on one thread.
/// Statistics are added to `stats`; errors go to `on_error` in input order (and are
/// counted in `stats`), `on_input` hears of each input as its first batch is settled,
/// and `opts.progress` of the input bytes settled. Every aggregator comes from
/// `new_aggregator`. The callbacks run on any of the threads, one at a time.
#[allow(clippy::too_many_arguments)]
pub fn scan<'p>(
    inputs: &[PathBuf],
    opts: &ReadOptions,
    matcher: &Matcher<'p>,
    state: &mut StateStore,
    threads: usize,
    new_aggregator: &(dyn Fn() -> Aggregator + Sync),
    stats: &mut ReadStats,
    on_input: &mut (dyn FnMut(&str) + Send),
    on_error: &mut (dyn FnMut(InputError) + Send),
) -> Aggregator {
    let workers = threads.max(2) - 1;
    // Parses a batch and aggregates its matches, keeping a panic for the end.
    let work = |batch: Batch| {
        let done = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut agg = new_aggregator();
            let mut held: Vec<Held<'p>> = Vec::new();
            let parsed = batch.parse(opts, &mut |event| {
                let mut stateful = Vec::new();
                matcher.run(&event, |m| {
                    if m.rule.stateful.is_some() {
                        stateful.push(m);
                    } else {
                        agg.add(m, &event);
                    }
                });
                if !stateful.is_empty() {
                    held.push((event, stateful));
                }
            });
            (parsed, agg, held)
        }));
        (batch.into_buffers(), done)
    };
    // The storage of batches, handed back once a batch is merged: the framer waits for
    // one before it fills the next batch, which bounds what is held. Some slack, for
    // batches finished early wait for the ones before them to be merged.
    let (free_tx, free_rx) = channel::<Buffers>();
    for _ in 1..4 * (workers + 1) {
        let _ = free_tx.send(Buffers::default());
    }
    let merge = Mutex::new(Merge {
        order: InputOrder::new(),
        waiting: BTreeMap::new(),
        next: 0,
        total: new_aggregator(),
        state,
        stats,
        on_input,
        on_error,
        opts,
        free: free_tx,
        failed: None,
    });
    thread::scope(|s| {
        // Declared in the scope so that a panic here drops it, which ends the workers
        // before the scope waits for them.
        let (work_tx, work_rx) = sync_channel::<(u64, Batch)>(workers);
        let work_rx = Arc::new(Mutex::new(work_rx));
        for i in 0..workers {
            let work_rx = Arc::clone(&work_rx);
            let (work, merge) = (&work, &merge);
            let worker = thread::Builder::new().name(format!("picket-match-{i}"));
            spawned(worker.spawn_scoped(s, move || loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, batch)) = next else { return };
                let (buffers, done) = work(batch);
                lock(merge).take(seq, buffers, done);
            }));
        }
        let framing = ReadOptions {
            progress: None,
            ..opts.clone()
        };
        let mut seq = 0u64;
        reader::frame_inputs(inputs, &framing, BATCH_BYTES, &mut |batch| {
            match work_tx.try_send((seq, batch)) {
                Ok(()) => {}
                Err(TrySendError::Full((seq, batch))) => {
                    let (buffers, done) = work(batch);
                    lock(&merge).take(seq, buffers, done);
                }
                Err(TrySendError::Disconnected(_)) => return None,
            }
            seq += 1;
            free_rx.recv().ok()
        });
    });
    let merge = match merge.into_inner() {
        Ok(merge) => merge,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(payload) = merge.failed {
        panic::resume_unwind(payload);
    }
    debug_assert!(merge.waiting.is_empty());
    merge.total
}

/// The in-order merge of finished batches, shared by the threads.
struct Merge<'a, 'p> {
    order: InputOrder,
    /// Finished batches waiting for the ones before them.
    waiting: BTreeMap<u64, (Buffers, Done<'p>)>,
    /// The next batch in input order.
    next: u64,
    total: Aggregator,
    state: &'a mut StateStore,
    stats: &'a mut ReadStats,
    on_input: &'a mut (dyn FnMut(&str) + Send),
    on_error: &'a mut (dyn FnMut(InputError) + Send),
    opts: &'a ReadOptions,
    /// Storage of merged batches, back to the framer.
    free: Sender<Buffers>,
    /// A panic while parsing or merging, raised again at the end.
    failed: Option<Box<dyn std::any::Any + Send>>,
}

impl<'p> Merge<'_, 'p> {
    /// A finished batch: merges it and the ones after it that are finished, in order.
    fn take(&mut self, seq: u64, buffers: Buffers, done: Done<'p>) {
        self.waiting.insert(seq, (buffers, done));
        while let Some((buffers, done)) = self.waiting.remove(&self.next) {
            self.next += 1;
            if self.failed.is_none() {
                let merged = match done {
                    Ok(done) => panic::catch_unwind(AssertUnwindSafe(|| self.merge(done))),
                    Err(payload) => Err(payload),
                };
                if let Err(payload) = merged {
                    self.failed = Some(payload);
                }
            }
            // After a panic, batches are still taken (and dropped) so that the
            // framer gets storage and goes on to the end.
            let _ = self.free.send(buffers);
        }
    }

    fn merge(&mut self, (parsed, mut agg, held): (Parsed, Aggregator, Vec<Held<'p>>)) {
        let accepted = self.order.accept(parsed, self.stats);
        if accepted.first {
            (self.on_input)(&accepted.file);
        }
        if let (Some(progress), true) = (&self.opts.progress, accepted.bytes > 0) {
            progress(accepted.bytes);
        }
        for e in accepted.errors {
            (self.on_error)(e);
        }
        if let Some(base) = accepted.record_base {
            agg.offset_records(base);
            self.total.merge(agg);
            for (mut event, matches) in held {
                event.origin.record += base;
                let total = &mut self.total;
                self.state.observe_event(&event, matches, |m| {
                    total.add(m, &event);
                });
            }
        }
    }
}

/// The merge, even after a panic elsewhere (which it records and survives).
fn lock<'m, 'a, 'p>(merge: &'m Mutex<Merge<'a, 'p>>) -> MutexGuard<'m, Merge<'a, 'p>> {
    match merge.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A thread that could not be started is a panic, as with `std::thread::spawn`.
fn spawned<T>(handle: std::io::Result<T>) -> T {
    match handle {
        Ok(handle) => handle,
        Err(e) => panic!("cannot start a thread: {e}"),
    }
}
