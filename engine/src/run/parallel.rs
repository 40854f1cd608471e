//! Parallel scan: inputs to aggregated findings on several threads, with exactly the
//! result of reading and matching them in order on one.
//!
//! ```text
//! framer thread --batches (bounded)--> N workers --results--> caller's thread
//!  read, gunzip, cut records           parse, normalize,      settle in input order,
//!  (a byte scan), a few MB a batch     match, aggregate       merge aggregators,
//!                                      into a batch's own     report errors
//!                                      Aggregator
//! ```
//!
//! The framer hands batches of raw records of one input (with their lines, see
//! [`reader::Batch`]) to the workers over a bounded channel. Each worker parses a
//! batch, runs the matcher on its events and folds the matches into an [`Aggregator`]
//! of its own. The caller's thread takes the results in input order: an
//! [`InputOrder`] settles what stands (errors, events, skipped inputs, record
//! numbers), the errors are reported, and the batch's aggregator is merged into the
//! total ([`Aggregator::merge`]), which gives the findings of adding every match in
//! input order.
//!
//! Memory is bounded: at most `2 × threads + 2` batches are between the framer and the
//! merge at any time, each of about [`BATCH_BYTES`] (plus one record); their storage
//! goes back to the framer once merged and is filled again.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use super::Matcher;
use crate::event::reader::{self, Batch, Buffers, InputOrder, Parsed};
use crate::event::{InputError, ReadOptions, ReadStats};
use crate::finding::Aggregator;

/// What a worker hands back: the batch parsed and its matches aggregated.
type Settle = (Parsed, Aggregator);

/// Record bytes per batch.
pub const BATCH_BYTES: usize = 1 << 20;

/// Reads `inputs` in order with `threads` workers (at least one) and matches every
/// event, returning the aggregated matches. Statistics are added to `stats`; errors
/// go to `on_error` in input order (and are counted in `stats`), `on_input` hears of
/// each input as its first batch is settled, and `opts.progress` of the input bytes
/// settled. Every aggregator comes from `new_aggregator`.
#[allow(clippy::too_many_arguments)]
pub fn scan(
    inputs: &[PathBuf],
    opts: &ReadOptions,
    matcher: &Matcher<'_>,
    threads: usize,
    new_aggregator: &(dyn Fn() -> Aggregator + Sync),
    stats: &mut ReadStats,
    on_input: &mut dyn FnMut(&str),
    on_error: &mut dyn FnMut(InputError),
) -> Aggregator {
    let threads = threads.max(1);
    let mut total = new_aggregator();
    thread::scope(|s| {
        // Declared in the scope so that a panic here drops them, which unblocks and
        // ends the other threads before the scope waits for them.
        let (work_tx, work_rx) = sync_channel::<(u64, Batch)>(threads);
        let (done_tx, done_rx) = channel::<(u64, Buffers, thread::Result<Settle>)>();
        // The storage of batches, handed back once a batch is merged: the framer waits
        // for one before it fills the next batch, which bounds what is held.
        let (free_tx, free_rx) = channel::<Buffers>();
        for _ in 0..2 * threads + 1 {
            let _ = free_tx.send(Buffers::default());
        }
        let framing = ReadOptions {
            progress: None,
            ..opts.clone()
        };
        let framer = thread::Builder::new().name("picket-frame".to_owned());
        spawned(framer.spawn_scoped(s, move || {
            let mut seq = 0u64;
            reader::frame_inputs(inputs, &framing, BATCH_BYTES, &mut |batch| {
                work_tx.send((seq, batch)).ok()?;
                seq += 1;
                free_rx.recv().ok()
            });
        }));
        let work_rx = Arc::new(Mutex::new(work_rx));
        for i in 0..threads {
            let done_tx = done_tx.clone();
            let work_rx = Arc::clone(&work_rx);
            let worker = thread::Builder::new().name(format!("picket-match-{i}"));
            spawned(worker.spawn_scoped(s, move || loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, batch)) = next else { return };
                let result = panic::catch_unwind(AssertUnwindSafe(|| {
                    let mut agg = new_aggregator();
                    let parsed = batch.parse(opts, &mut |event| {
                        matcher.run(&event, |m| {
                            agg.add(m, &event);
                        });
                    });
                    (parsed, agg)
                }));
                if done_tx.send((seq, batch.into_buffers(), result)).is_err() {
                    return;
                }
            }));
        }
        drop(done_tx);

        let mut order = InputOrder::new();
        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        for (seq, buffers, result) in done_rx {
            waiting.insert(seq, (buffers, result));
            while let Some((buffers, result)) = waiting.remove(&next) {
                next += 1;
                let (parsed, mut agg) = match result {
                    Ok(done) => done,
                    Err(payload) => panic::resume_unwind(payload),
                };
                let accepted = order.accept(parsed, stats);
                if accepted.first {
                    on_input(&accepted.file);
                }
                if let (Some(progress), true) = (&opts.progress, accepted.bytes > 0) {
                    progress(accepted.bytes);
                }
                for e in accepted.errors {
                    on_error(e);
                }
                if let Some(base) = accepted.record_base {
                    agg.offset_records(base);
                    total.merge(agg);
                }
                let _ = free_tx.send(buffers);
            }
        }
    });
    total
}

/// A thread that could not be started is a panic, as with `std::thread::spawn`.
fn spawned<T>(handle: std::io::Result<T>) -> T {
    match handle {
        Ok(handle) => handle,
        Err(e) => panic!("cannot start a thread: {e}"),
    }
}
