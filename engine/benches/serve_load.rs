//! Load of `picket serve`, run as the real binary: CloudTrail events posted to its
//! ingest endpoint at a fixed rate for a minute, with a 1,000-rule pack, while one of
//! its rule files changes every 200 ms.
//!
//! ```text
//! cargo bench -p picket --bench serve_load
//! PICKET_LOAD_SECONDS=10 PICKET_LOAD_RATE=20000 cargo bench -p picket --bench serve_load
//! PICKET_LOAD_RELOAD_MS=600000 cargo bench -p picket --bench serve_load   # one reload only
//! ```
//!
//! The minute is measured after a warm-up at the same rate, with the same reloads
//! (`PICKET_LOAD_WARMUP_SECONDS`, 2 by default): the service's first second (first
//! findings inserted, memory first touched) is reported on a line of its own, and every
//! count (events, reloads, CPU) covers warm-up and minute together.
//!
//! It reports:
//! - the rate offered and sustained (events answered `200`, per second);
//! - event-to-finding latency: from the moment a batch was due to be sent (not when it
//!   was sent, so a slow server cannot hide its queue) to the `200`, which the endpoint
//!   gives once the batch's findings are stored; p50, p99, max; and how many seconds
//!   of the run had a p99 over 50 ms (a p99 over the whole run is set by its worst
//!   half second, so this tells one hiccup from a steady excess);
//! - the server's own histogram of read-to-commit time (`picket_event_to_finding_seconds`);
//! - reload latency: from writing the changed rule file to `/admin/status` showing the
//!   new pack version; p50, p99, max, and how many reloads there were;
//! - the CPU time the service used, in all, per million events and by thread (from
//!   `/proc`), which load from other processes on the machine does not inflate as it
//!   does latency;
//! - the CPU time the hypervisor gave to other machines meanwhile (steal, `/proc/stat`);
//! - that the counts reconcile: events accepted by the endpoint = events the service
//!   counted (`picket_events_total`) = events its pipeline matched;
//! - beside them, parse-only: the same events read with `picket::event::read_stream` on
//!   one thread, the floor of any work on them.
//!
//! The generated rules have no fixtures, so the pack's own tests are off
//! (`test_on_reload = false`); with tests on, a reload also runs them.
//! docs/performance.md has a run's output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "throughput/cloudtrail.rs"]
mod cloudtrail;
#[path = "throughput/dns.rs"]
#[allow(dead_code)]
mod dns;
#[path = "throughput/input.rs"]
#[allow(dead_code)]
mod input;
#[path = "throughput/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "throughput/ops.rs"]
mod ops;
#[path = "throughput/rng.rs"]
mod rng;
#[path = "throughput/rules.rs"]
#[allow(dead_code)]
mod rules;
#[path = "throughput/vpcflow.rs"]
#[allow(dead_code)]
mod vpcflow;
#[path = "throughput/world.rs"]
mod world;

const BIN: &str = env!("CARGO_BIN_EXE_picket");

/// Batches sent per second (the rate is split evenly over them).
const TICKS_PER_SECOND: u64 = 100;
/// Threads posting batches (a late batch does not hold up the next).
const SENDERS: usize = 8;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(admin: u16, path: &str) -> Option<String> {
    let mut r = agent()
        .get(format!("http://127.0.0.1:{admin}{path}"))
        .call()
        .ok()?;
    r.body_mut().read_to_string().ok()
}

fn version(admin: u16) -> Option<String> {
    let status: Value = serde_json::from_str(&get(admin, "/admin/status")?).ok()?;
    status["pack"]["version"].as_str().map(str::to_string)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1000.0)
}

/// A histogram's quantile from its cumulative buckets in the metrics text.
fn histogram_quantile(metrics: &str, name: &str, q: f64) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(&format!("{name}_bucket{{le=\"")) else {
            continue;
        };
        let (le, count) = rest.split_once("\"} ")?;
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        buckets.push((le, count.trim().parse().ok()?));
    }
    let total = buckets.last()?.1;
    let want = total * q;
    buckets.iter().find(|(_, c)| *c >= want).map(|(le, _)| *le)
}

fn counter_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// CPU seconds (user + system) used so far by each kind of thread of process `pid`
/// (threads named `input-load-0`, `input-load-1`… count as `input-load`), most first.
fn thread_cpu(pid: u32) -> Vec<(String, f64)> {
    /// The unit of times in `/proc/*/stat` (USER_HZ), 100 on Linux.
    const TICKS_PER_SECOND: f64 = 100.0;
    let mut by_kind: std::collections::BTreeMap<String, f64> = Default::default();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (name) state ppid …`: the name may hold spaces, so split at the last `)`.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].trim_end_matches(|c: char| c.is_ascii_digit());
        let name = name.strip_suffix('-').unwrap_or(name).to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After the name: state is field 3 of stat(5), utime 14 and stime 15.
        let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok());
        if let (Some(user), Some(system)) = (ticks(14), ticks(15)) {
            *by_kind.entry(name).or_default() += (user + system) / TICKS_PER_SECOND;
        }
    }
    let mut out: Vec<(String, f64)> = by_kind.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

fn write_pack(dir: &Path, files: &picket::compile::PackFiles) {
    for (rel, bytes) in &files.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, bytes).expect("write rule");
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = env_u64("PICKET_LOAD_SECONDS", 60);
    let warmup = env_u64("PICKET_LOAD_WARMUP_SECONDS", 2);
    let rate = env_u64("PICKET_LOAD_RATE", 50_000);
    let reload_every = Duration::from_millis(env_u64("PICKET_LOAD_RELOAD_MS", 200));
    let per_tick = (rate / TICKS_PER_SECOND).max(1) as usize;

    println!("# picket serve under load\n");
    println!(
        "machine: {}, {} logical CPUs; load average at start {}",
        measure::cpu_model(),
        measure::cpuinfo_processors(),
        measure::load_average()
    );

    // Input and pack, as in the throughput benchmark.
    let mut seed = rng::Rng::new(0x5eed_0f91_c7e7);
    let world = world::World::new(&mut seed);
    let events = cloudtrail::generate(&world, 1, 24_000_000);
    let pack = rules::cloudtrail_pack(&world, 1000, 102);
    let dir = tempfile::tempdir().expect("temp dir");
    let rules_dir = dir.path().join("rules");
    write_pack(&rules_dir, &pack);
    let changing: PathBuf = pack
        .files
        .keys()
        .find(|k| k.ends_with(".yaml"))
        .map(|k| rules_dir.join(k))
        .expect("a rule file");
    let original = std::fs::read_to_string(&changing).expect("read rule");

    // Parse-only floor on the same events.
    let floor = {
        let n = events.len().min(10_000);
        let bytes = events.prefix(n);
        let start = Instant::now();
        let mut count = 0u64;
        let mut stats = picket::event::ReadStats::default();
        picket::event::read_stream(
            "floor",
            bytes,
            &picket::event::ReadOptions::default(),
            &mut stats,
            &mut |_e| count += 1,
            &mut |_e| {},
        );
        count as f64 / start.elapsed().as_secs_f64()
    };

    let admin = free_port();
    let ingest = free_port();
    std::fs::write(
        dir.path().join("picket.toml"),
        format!(
            "[rules]\npaths = [\"rules\"]\nbuiltin = false\ntest_on_reload = false\nreload_quiet = \"10ms\"\n\n\
             [store]\npath = \"findings.db\"\n\n[[input]]\ntype = \"http\"\nname = \"load\"\nlisten = \"127.0.0.1:{ingest}\"\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n[log]\nlevel = \"warn\"\n"
        ),
    )
    .expect("config");
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(dir.path().join("picket.toml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).expect("log"))
        .spawn()
        .expect("start picket serve");
    let started = Instant::now();
    while get(admin, "/ready").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "picket serve did not start: {}",
            std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "pack: 1,000 generated CloudTrail rules; ready {:.2} s after start",
        started.elapsed().as_secs_f64()
    );
    println!(
        "offered: {rate} events/s for {seconds} s after {warmup} s of warm-up, in {TICKS_PER_SECOND} batches a second of {per_tick} events (HTTP POST /ingest, {SENDERS} senders); a rule file rewritten every {} ms\n",
        reload_every.as_millis()
    );

    // Senders: batches are due at fixed times; latency counts from the due time.
    let url = format!("http://127.0.0.1:{ingest}/ingest");
    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<(Instant, usize)>(1024);
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));
    // (due, seconds from due to answer) per batch answered.
    let latencies = Arc::new(Mutex::new(Vec::<(Instant, f64)>::new()));
    let accepted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let lines = Arc::new(events);
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (rx, lat, acc, fail, lines, url) = (
            Arc::clone(&jobs_rx),
            Arc::clone(&latencies),
            Arc::clone(&accepted),
            Arc::clone(&failed),
            Arc::clone(&lines),
            url.clone(),
        );
        senders.push(std::thread::spawn(move || {
            // The load generator shares the two cores with the service, where a
            // shipper would run elsewhere: at a lower priority it takes the CPU the
            // service leaves. Latency still counts from the moment a batch was due, so
            // a batch sent late is counted late.
            picket::serve::lower_priority(10);
            let agent = agent();
            loop {
                let job = rx.lock().ok().and_then(|r| r.recv().ok());
                let Some((due, start)) = job else { break };
                let n = lines.len();
                let mut body = Vec::with_capacity(per_tick * 1600);
                for i in 0..per_tick {
                    let k = (start + i) % n;
                    let from = if k == 0 { 0 } else { lines.ends[k - 1] };
                    body.extend_from_slice(&lines.data[from..lines.ends[k]]);
                }
                match agent.post(&url).send(&body[..]) {
                    Ok(r) if r.status().as_u16() == 200 => {
                        acc.fetch_add(per_tick as u64, Ordering::Relaxed);
                        if let Ok(mut l) = lat.lock() {
                            l.push((due, due.elapsed().as_secs_f64()));
                        }
                    }
                    _ => {
                        fail.fetch_add(per_tick as u64, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    // Reloads: rewrite a rule (its severity alternates, so the version changes) and time
    // until the service shows the new version.
    let done = Arc::new(AtomicBool::new(false));
    let reloads = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut flip = false;
            let mut last = version(admin);
            while !done.load(Ordering::Relaxed) {
                let tick = Instant::now();
                flip = !flip;
                let text: String = original
                    .lines()
                    .map(|l| match (flip, l.starts_with("severity:")) {
                        (true, true) => "severity: 9.5".to_string(),
                        _ => l.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                let written = Instant::now();
                if std::fs::File::create(&changing)
                    .and_then(|mut f| f.write_all(text.as_bytes()))
                    .is_err()
                {
                    break;
                }
                let mut seen = None;
                while written.elapsed() < Duration::from_secs(5) {
                    let v = version(admin);
                    if v.is_some() && v != last {
                        seen = Some(written.elapsed().as_secs_f64());
                        last = v;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                out.push(seen);
                while tick.elapsed() < reload_every && !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            out
        })
    };

    // Feed.
    let steal_start = cpu_steal();
    let feed_start = Instant::now();
    let tick = Duration::from_secs(1) / TICKS_PER_SECOND as u32;
    let total_ticks = (warmup + seconds) * TICKS_PER_SECOND;
    let measure_start = feed_start + Duration::from_secs(warmup);
    let mut next = 0usize;
    for t in 0..total_ticks {
        let due = feed_start + tick * t as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if jobs_tx.send((due, next)).is_err() {
            break;
        }
        next += per_tick;
    }
    drop(jobs_tx);
    for s in senders {
        let _ = s.join();
    }
    let fed = feed_start.elapsed().as_secs_f64();
    let steal = cpu_steal()
        .zip(steal_start)
        .map(|((s1, t1), (s0, t0))| 100.0 * (s1 - s0) as f64 / (t1 - t0).max(1) as f64);
    done.store(true, Ordering::Relaxed);
    let reloads = reloads.join().unwrap_or_default();

    // Counts.
    std::thread::sleep(Duration::from_millis(300));
    let metrics = get(admin, "/metrics").unwrap_or_default();
    let status: Value = get(admin, "/admin/status")
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let cpu = thread_cpu(child.id());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().ok();

    let accepted = accepted.load(Ordering::Relaxed);
    let failed = failed.load(Ordering::Relaxed);
    let counted = counter_sum(&metrics, "picket_events_total{") as u64;
    let matched = status["pipeline"]["events"].as_u64().unwrap_or(0);
    let answered = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    // Warm-up apart; the minute whole, and per second (by due time).
    let (mut warm, mut lat): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut by_second: Vec<Vec<f64>> = vec![Vec::new(); seconds as usize + 1];
    for (due, l) in &answered {
        if *due < measure_start {
            warm.push(*l);
            continue;
        }
        lat.push(*l);
        let s = due.duration_since(measure_start).as_secs() as usize;
        if let Some(v) = by_second.get_mut(s) {
            v.push(*l);
        }
    }
    warm.sort_by(f64::total_cmp);
    lat.sort_by(f64::total_cmp);
    let second_p99: Vec<(usize, f64)> = by_second
        .iter_mut()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(s, v)| {
            v.sort_by(f64::total_cmp);
            (s, percentile(v, 0.99))
        })
        .collect();
    let mut rl: Vec<f64> = reloads.iter().flatten().copied().collect();
    rl.sort_by(f64::total_cmp);
    let missed_reloads = reloads.iter().filter(|r| r.is_none()).count();

    println!("| measure | value |");
    println!("|---|--:|");
    println!(
        "| parse only (one thread, same events) | {:.0} events/s |",
        floor
    );
    println!("| offered | {rate} events/s |");
    println!(
        "| sustained (answered 200) | {:.0} events/s |",
        accepted as f64 / fed
    );
    println!(
        "| event to finding stored, p50 / p99 / max | {} / {} / {} |",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or(f64::NAN))
    );
    println!(
        "| the same in the {warmup} s of warm-up before the minute | {} / {} / {} |",
        ms(percentile(&warm, 0.5)),
        ms(percentile(&warm, 0.99)),
        ms(warm.last().copied().unwrap_or(f64::NAN))
    );
    let mut over: Vec<&(usize, f64)> = second_p99.iter().filter(|(_, p)| *p > 0.050).collect();
    over.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!(
        "| seconds whose batches' p99 is over 50 ms | {} of {}{} |",
        over.len(),
        second_p99.len(),
        if over.is_empty() {
            String::new()
        } else {
            format!(
                " (worst: {})",
                over.iter()
                    .take(6)
                    .map(|(s, p)| format!("second {s} {}", ms(*p)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let server_q = |q| {
        histogram_quantile(&metrics, "picket_event_to_finding_seconds", q)
            .map(|s| format!("≤ {}", ms(s)))
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "| read to commit in the server (histogram bucket), p50 / p99 | {} / {} |",
        server_q(0.5),
        server_q(0.99)
    );
    println!(
        "| reloads seen / rule files written | {} / {} |",
        rl.len(),
        reloads.len()
    );
    println!(
        "| reload visible after the write, p50 / p99 / max | {} / {} / {} |",
        ms(percentile(&rl, 0.5)),
        ms(percentile(&rl, 0.99)),
        ms(rl.last().copied().unwrap_or(f64::NAN))
    );
    println!(
        "| events accepted / counted by the service / matched by the pipeline | {accepted} / {counted} / {matched} |"
    );
    println!("| events refused or failed | {failed} |");
    println!(
        "| findings stored | {} |",
        status["pipeline"]["findings"].as_u64().unwrap_or(0)
    );
    let cpu_total: f64 = cpu.iter().map(|(_, s)| s).sum();
    println!(
        "| CPU of the service, in all / per million events | {cpu_total:.1} s / {:.2} s |",
        cpu_total / (matched.max(1) as f64 / 1e6)
    );
    println!(
        "| CPU by thread | {} |",
        cpu.iter()
            .filter(|(_, s)| *s >= 0.05)
            .map(|(name, s)| format!("{name} {s:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| exit after SIGTERM | {} |",
        exit.map(|e| e.to_string()).unwrap_or_else(|| "-".into())
    );
    let reconciled = accepted == counted && counted == matched && failed == 0;
    println!(
        "\ncounts reconcile: {}; reloads missed: {missed_reloads}; load average at the end {}; CPU stolen by the hypervisor during the feed {}",
        if reconciled { "yes" } else { "NO" },
        measure::load_average(),
        steal
            .map(|s| format!("{s:.1}%"))
            .unwrap_or_else(|| "-".into())
    );
}

/// (steal, total) jiffies of all CPUs, from `/proc/stat`: time the hypervisor gave
/// this machine's CPUs to others.
fn cpu_steal() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    Some((*fields.get(7)?, fields.iter().take(8).sum()))
}
