//! Scan speed by thread count: reading, matching the built-in rules and aggregating,
//! on one thread (`picket scan --threads 1`) and on several (`run::parallel`).
//!
//! ```text
//! cargo run --release -p picket --example scan_speed              # ~150 MB Records file
//! cargo run --release -p picket --example scan_speed -- 40        # ~40 MB
//! cargo run --release -p picket --example scan_speed -- PATH...   # your own files, dirs
//! ```
//!
//! The generated input is one CloudTrail `Records` document made of the records of
//! `docs/samples/cloudtrail`, repeated. Printed for the same inputs, best of three:
//! the floor (reading and parsing only, one thread), framing only (the part that runs
//! on one thread when scanning on several), framing into batches and then reading them
//! (the same work as the floor, split as a parallel scan splits it, on one thread), and
//! the scan with 1, 2, … threads up to the available parallelism, with the speed-up
//! over one thread.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use picket::compile::{compile, PackFiles};
use picket::event::{reader, ReadOptions, ReadStats};
use picket::finding::{Aggregator, DEFAULT_DETECTOR_ID};
use picket::run::{parallel, Matcher};

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed());
        out = Some(v);
    }
    (out.expect("at least one run"), best)
}

/// A Records document of about `mb` MB from the sample CloudTrail records.
fn generate(mb: usize, dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/samples/cloudtrail");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.to_string_lossy().contains("_CloudTrail_"))
        .collect();
    files.sort();
    let mut records = Vec::new();
    for path in files {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).expect("open sample"))
            .read_to_string(&mut text)
            .expect("gunzip sample");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("sample JSON");
        if let Some(r) = doc["Records"].as_array() {
            records.extend(r.iter().map(|r| serde_json::to_string(r).expect("JSON")));
        }
    }
    let path = dir.join("records.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let mut size = 0;
    out.write_all(b"{\"Records\":[\n").expect("write");
    'fill: loop {
        for r in &records {
            if size > 0 {
                out.write_all(b",\n").expect("write");
            }
            out.write_all(r.as_bytes()).expect("write");
            size += r.len() + 2;
            if size >= mb * 1_000_000 {
                break 'fill;
            }
        }
    }
    out.write_all(b"\n]}\n").expect("write");
    out.flush().expect("write");
    path
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = match args.first().map(|a| a.parse::<usize>()) {
        None => vec![generate(150, dir.path())],
        Some(Ok(mb)) => vec![generate(mb, dir.path())],
        Some(Err(_)) => {
            let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
            let (files, errors) = reader::expand_inputs(&paths);
            for e in errors {
                eprintln!("{e}");
            }
            files
        }
    };
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let compiled = compile(&[PackFiles::builtin()]);
    let pack = &compiled.pack;
    let matcher = Matcher::new(pack);
    let opts = ReadOptions::default();
    let now = chrono::Utc::now().timestamp_millis();
    let new_aggregator = || Aggregator::new(DEFAULT_DETECTOR_ID, now);
    let runs = 3;
    println!(
        "{} file(s), {:.1} MB, {} rules",
        files.len(),
        bytes as f64 / 1e6,
        pack.len()
    );
    let report = |what: &str, events: u64, took: Duration, base: Option<Duration>| {
        let secs = took.as_secs_f64();
        let speedup = base.map_or(String::new(), |b| {
            format!("  x{:.2}", b.as_secs_f64() / secs)
        });
        println!(
            "  {what:<24}{secs:>7.3} s {:>10.0} events/s {:>7.1} MB/s{speedup}",
            events as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
    };

    let (events, floor) = best(runs, || {
        let mut stats = ReadStats::default();
        for f in &files {
            reader::read_path(f, &opts, &mut stats, &mut |_| {}, &mut |_| {});
        }
        stats.total_events()
    });
    report("read only (floor)", events, floor, None);
    let (_, framing) = best(runs, || {
        let mut n = 0u64;
        reader::frame_inputs(&files, &opts, parallel::BATCH_BYTES, &mut |batch| {
            n += batch.len() as u64;
            Some(batch.into_buffers())
        });
        n
    });
    report("framing only", events, framing, None);
    let (_, split) = best(runs, || {
        let mut n = 0u64;
        reader::frame_inputs(&files, &opts, parallel::BATCH_BYTES, &mut |batch| {
            batch.parse(&opts, &mut |_| n += 1);
            Some(batch.into_buffers())
        });
        n
    });
    report("framed, then read", events, split, None);

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (_, one) = best(runs, || {
        let mut agg = new_aggregator();
        let mut stats = ReadStats::default();
        for f in &files {
            reader::read_path(
                f,
                &opts,
                &mut stats,
                &mut |event| {
                    matcher.run(&event, |m| {
                        agg.add(m, &event);
                    })
                },
                &mut |_| {},
            );
        }
        agg.finish().len()
    });
    report("scan, 1 thread", events, one, None);
    for n in 2..=threads.max(2) {
        let (_, took) = best(runs, || {
            let mut stats = ReadStats::default();
            let agg = parallel::scan(
                &files,
                &opts,
                &matcher,
                &mut picket::run::StateStore::new(Default::default()),
                n,
                &new_aggregator,
                &mut stats,
                &mut |_| {},
                &mut |_| {},
            );
            agg.finish().len()
        });
        report(&format!("scan, {n} threads"), events, took, Some(one));
    }
}
