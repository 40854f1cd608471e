//! Timing: reading generated input through `picket::event::read_stream` and doing one
//! kind of work per event (nothing, the reference evaluator over every rule of the
//! event's source, the engine's `Matcher`, or reading some fields), on one thread or on
//! one thread per core over equal chunks; plus the machine description, the CPU time
//! the threads got and the process's peak memory.
//!
//! Every measurement is time-bounded: a short calibration picks how many events one
//! pass takes (all of them when that is fast enough, fewer for slow configurations such
//! as the reference evaluator over 10,000 rules, never fewer than 1,000), then passes
//! repeat until about a second has gone by (at least three; longer for slow ones),
//! and the fastest pass is reported. Work that is compared (parse only, reference,
//! engine) is measured in the same window, a pass of each in turn, so that other load
//! on the machine skews the ratios less than the absolute figures.

use std::time::{Duration, Instant};

use picket::compile::RulePack;
use picket::event::{read_stream, FieldDef, ReadOptions, ReadStats};
use picket::run::{eval, Matcher};

use super::input::Lines;

/// What to do with each event read.
#[derive(Clone, Copy)]
pub enum Work<'p> {
    /// Nothing: the cost of reading and parsing, the floor.
    Parse,
    /// `eval::matches` of every rule of the event's source.
    Reference(&'p RulePack),
    /// `Matcher::run`, the matcher built beforehand (as a scan builds it once).
    Engine(&'p Matcher<'p>),
    /// Read each of these catalog fields once (what one predicate's field access costs).
    Fields(&'p [&'static FieldDef]),
}

/// What one pass over some input did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events read.
    pub events: u64,
    /// Events with at least one matching rule.
    pub matched: u64,
    /// Rule matches.
    pub matches: u64,
    /// Input errors (there should be none).
    pub errors: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.events += o.events;
        self.matched += o.matched;
        self.matches += o.matches;
        self.errors += o.errors;
    }
}

/// Reads `bytes` and does `work` on each event.
pub fn pass(bytes: &[u8], work: Work) -> Counts {
    let opts = ReadOptions::default();
    let mut stats = ReadStats::default();
    let mut c = Counts::default();
    let mut errors = 0;
    match work {
        Work::Parse => read_stream(
            "bench",
            bytes,
            &opts,
            &mut stats,
            &mut |event| {
                std::hint::black_box(&event);
                c.events += 1;
            },
            &mut |_| errors += 1,
        ),
        Work::Reference(pack) => read_stream(
            "bench",
            bytes,
            &opts,
            &mut stats,
            &mut |event| {
                let mut n = 0;
                for rule in pack.rules_for(event.source) {
                    n += u64::from(eval::matches(rule, &event));
                }
                c.events += 1;
                c.matched += u64::from(n > 0);
                c.matches += n;
            },
            &mut |_| errors += 1,
        ),
        Work::Fields(fields) => read_stream(
            "bench",
            bytes,
            &opts,
            &mut stats,
            &mut |event| {
                for f in fields {
                    c.matches += u64::from(f.get(&event).is_some());
                }
                c.events += 1;
            },
            &mut |_| errors += 1,
        ),
        Work::Engine(matcher) => {
            read_stream(
                "bench",
                bytes,
                &opts,
                &mut stats,
                &mut |event| {
                    let mut n = 0;
                    matcher.run(&event, |m| {
                        std::hint::black_box(&m);
                        n += 1;
                    });
                    c.events += 1;
                    c.matched += u64::from(n > 0);
                    c.matches += n;
                },
                &mut |_| errors += 1,
            );
        }
    }
    c.errors = errors;
    c
}

/// CPU time the calling thread has run, in nanoseconds (Linux schedstat; `None`
/// elsewhere).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// [`pass`], with the CPU time the thread got for it.
fn timed_pass(bytes: &[u8], work: Work) -> (Counts, Option<u64>) {
    let before = thread_cpu_ns();
    let counts = pass(bytes, work);
    let cpu = thread_cpu_ns()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(b));
    (counts, cpu)
}

/// One pass over the first `n` events of `lines`, cut into `threads` chunks read in
/// parallel (one scoped thread each; with one thread, on the caller's); with the CPU
/// time all threads got.
pub fn parallel_pass(lines: &Lines, n: usize, threads: usize, work: Work) -> (Counts, Option<u64>) {
    if threads <= 1 {
        return timed_pass(lines.prefix(n), work);
    }
    let chunks = lines.chunks(n, threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&(bytes, _)| s.spawn(move || timed_pass(bytes, work)))
            .collect();
        let mut total = Counts::default();
        let mut cpu = Some(0);
        for h in handles {
            let (counts, ns) = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            total += counts;
            cpu = cpu.zip(ns).map(|(a, b)| a + b);
        }
        (total, cpu)
    })
}

/// A timed measurement.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Events per pass.
    pub events: usize,
    /// Input bytes per pass.
    pub bytes: usize,
    /// The fastest pass.
    pub best: Duration,
    /// What a pass did.
    pub counts: Counts,
    /// CPU time the benchmark threads got over all passes, as a share of wall time ×
    /// threads: well under 1 when other processes took the cores.
    pub cpu_share: Option<f64>,
}

impl Measured {
    /// Events per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.best.as_secs_f64()
    }

    /// Megabytes (10^6) of input per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / self.best.as_secs_f64() / 1e6
    }
}

/// How many events one single-thread pass of `work` should read: a quarter of the
/// budget's worth (so that at least three passes fit), found by doubling the events of
/// a pass until it takes 40 ms; never fewer than 1,000 events, so that slow
/// configurations still see a fair sample (they then take longer than the budget).
pub fn events_per_pass(lines: &Lines, work: Work, budget: Duration) -> usize {
    let mut n = 32.min(lines.len());
    let per_event = loop {
        let start = Instant::now();
        std::hint::black_box(pass(lines.prefix(n), work));
        let took = start.elapsed().as_secs_f64();
        if took >= 0.04 || n == lines.len() {
            break took / n as f64;
        }
        n = (n * 2).min(lines.len());
    };
    let target = budget.as_secs_f64() / 4.0;
    ((target / per_event) as usize).max(1_000).min(lines.len())
}

/// Measures several kinds of work in the same time window, one pass of each in turn,
/// so that whatever else runs on the machine slows them alike and their ratios hold;
/// about `budget` for each. Each work reads the first `sizes[i]` events, cut among
/// the threads.
pub fn measure_together(
    lines: &Lines,
    threads: usize,
    works: &[Work],
    sizes: &[usize],
    budget: Duration,
) -> Vec<Measured> {
    let mut best = vec![Duration::MAX; works.len()];
    let mut counts = vec![Counts::default(); works.len()];
    let mut wall = vec![Duration::ZERO; works.len()];
    let mut cpu = vec![Some(0u64); works.len()];
    let started = Instant::now();
    let total = budget * works.len() as u32;
    let mut rounds = 0;
    loop {
        for (i, &work) in works.iter().enumerate() {
            let start = Instant::now();
            let (c, ns) = parallel_pass(lines, sizes[i], threads, work);
            let took = start.elapsed();
            counts[i] = c;
            best[i] = best[i].min(took);
            wall[i] += took;
            cpu[i] = cpu[i].zip(ns).map(|(a, b)| a + b);
        }
        rounds += 1;
        if rounds >= 50 || (rounds >= 3 && started.elapsed() >= total) {
            break;
        }
    }
    (0..works.len())
        .map(|i| {
            assert_eq!(
                counts[i].events, sizes[i] as u64,
                "every generated record is one event"
            );
            assert_eq!(
                counts[i].errors, 0,
                "the generated input reads without errors"
            );
            Measured {
                events: sizes[i],
                bytes: lines.prefix(sizes[i]).len(),
                best: best[i],
                counts: counts[i],
                cpu_share: cpu[i]
                    .map(|ns| ns as f64 / 1e9 / (wall[i].as_secs_f64() * threads as f64)),
            }
        })
        .collect()
}

/// Best of a few runs of `f`, repeated until `budget` is spent (at least once).
pub fn time_best<T>(budget: Duration, mut f: impl FnMut() -> T) -> (Duration, T) {
    let started = Instant::now();
    let mut best = Duration::MAX;
    loop {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        if started.elapsed() >= budget {
            return (best, out);
        }
    }
}

/// The CPU model, from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// Logical CPUs listed in /proc/cpuinfo.
pub fn cpuinfo_processors() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| s.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0)
}

/// A `/proc/meminfo` or `/proc/self/status` value in kB.
fn proc_kb(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Total memory in MB.
pub fn mem_total_mb() -> Option<u64> {
    proc_kb("/proc/meminfo", "MemTotal:").map(|kb| kb / 1024)
}

/// Peak resident set size of this process (VmHWM) in MB.
pub fn peak_rss_mb() -> Option<f64> {
    proc_kb("/proc/self/status", "VmHWM:").map(|kb| kb as f64 / 1024.0)
}

/// Current resident set size (VmRSS) in MB.
pub fn rss_mb() -> Option<f64> {
    proc_kb("/proc/self/status", "VmRSS:").map(|kb| kb as f64 / 1024.0)
}

/// Resets the peak RSS to the current RSS (Linux: `5` into /proc/self/clear_refs), so
/// that the next [`peak_rss_mb`] shows the peak of what follows. False when refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The load average over the last minute (other work on the machine skews figures).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}
