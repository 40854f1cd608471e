//! Throughput of picket on realistic synthetic input: CloudTrail against generated rule
//! packs of 10, 100, 1,000 and 10,000 rules, VPC flow and DNS against 100 rules each.
//!
//! ```text
//! cargo bench -p picket --bench throughput
//! ```
//!
//! For every input and pack it prints, on one thread and on one thread per core (the
//! input cut into as many chunks as cores, each read and matched by its own thread):
//! events/s and MB/s of
//! 1. parse only: `picket::event::read_stream` into a callback that drops the event
//!    (the floor every other figure is compared with);
//! 2. the reference evaluator: `eval::matches` for every rule of the event's source;
//! 3. the engine: `Matcher::run(&event, …)`, the matcher built once per pack beforehand;
//!
//! with the ratios engine / parse-only and engine / reference beside them, the pack's
//! compile time (rules and the matcher's index), the share of events that matched, and
//! the peak RSS (VmHWM). A second table splits the 1,000-rule pack by rule kind to show
//! which kinds cost the most.
//!
//! Inputs and packs are generated in memory from fixed seeds (see the modules under
//! `benches/throughput/`), so every run reads the same bytes; each measurement is
//! bounded to about a second, and the whole run to about three minutes on two cores.
//! `PICKET_BENCH_DUMP=<dir>` writes the inputs and packs there instead of measuring,
//! for `picket scan` or for reading them.
//!
//! docs/performance.md has a run's output and what it says.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use picket::compile::{compile, PackFiles, RulePack};
use picket::run::Matcher;

#[path = "throughput/cloudtrail.rs"]
mod cloudtrail;
#[path = "throughput/dns.rs"]
mod dns;
#[path = "throughput/input.rs"]
mod input;
#[path = "throughput/measure.rs"]
mod measure;
#[path = "throughput/ops.rs"]
mod ops;
#[path = "throughput/rng.rs"]
mod rng;
#[path = "throughput/rules.rs"]
mod rules;
#[path = "throughput/vpcflow.rs"]
mod vpcflow;
#[path = "throughput/world.rs"]
mod world;

use input::Lines;
use measure::{Measured, Work};

/// Bytes of CloudTrail JSON lines to generate.
const CLOUDTRAIL_BYTES: usize = 48_000_000;
/// Bytes of VPC flow lines.
const FLOW_BYTES: usize = 16_000_000;
/// Bytes of Resolver query log lines.
const DNS_BYTES: usize = 16_000_000;
/// Time for one measurement.
const BUDGET: Duration = Duration::from_millis(1000);
/// CloudTrail pack sizes.
const PACK_SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

fn rate(m: &Measured) -> String {
    let ev = m.events_per_sec();
    let ev = if ev >= 1e6 {
        format!("{:.2}M", ev / 1e6)
    } else if ev >= 1e3 {
        format!("{:.1}k", ev / 1e3)
    } else {
        format!("{ev:.0}")
    };
    format!("{ev} ev/s, {:.1} MB/s", m.mb_per_sec())
}

fn count(n: usize) -> String {
    if n >= 10_000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn ratio(a: &Measured, b: &Measured) -> String {
    format!("{:.2}", a.events_per_sec() / b.events_per_sec())
}

fn mb(x: Option<f64>) -> String {
    x.map_or_else(|| "?".to_string(), |v| format!("{v:.0} MB"))
}

/// Compiles a pack, best time of a few runs within half a second; no errors allowed.
fn compile_pack(label: &str, pack: &PackFiles) -> (Duration, RulePack) {
    let (took, compiled) = measure::time_best(Duration::from_millis(500), || {
        compile(std::slice::from_ref(pack))
    });
    let errors: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.is_error())
        .take(3)
        .map(|d| format!("{d:?}"))
        .collect();
    assert_eq!(
        compiled.error_count(),
        0,
        "{label} has compile errors: {errors:#?}"
    );
    assert_eq!(
        compiled.pack.len(),
        pack.yaml_files().count(),
        "{label}: every rule compiles"
    );
    (took, compiled.pack)
}

/// Counts of `"key":"value"` for one key, by scanning the generated JSON lines.
fn tally(lines: &Lines, key: &str) -> BTreeMap<String, usize> {
    let needle = format!("\"{key}\":\"");
    let text = std::str::from_utf8(&lines.data).expect("generated input is UTF-8");
    let mut out = BTreeMap::new();
    for (at, _) in text.match_indices(&needle) {
        let rest = &text[at + needle.len()..];
        let value = &rest[..rest.find('"').unwrap_or(0)];
        *out.entry(value.to_string()).or_insert(0) += 1;
    }
    out
}

struct Row {
    input: &'static str,
    rules: usize,
    threads: usize,
    parse: Measured,
    reference: Measured,
    engine: Measured,
    compile: Option<Duration>,
    rss: Option<f64>,
    agree: bool,
}

fn print_header() {
    println!(
        "| input | rules | threads | events (ref / engine) | parse only | reference | engine | engine / parse | engine / ref | events matched | compile | peak RSS | CPU got |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
}

fn print_row(r: &Row) {
    let matched = if r.threads == 1 {
        let c = r.reference.counts;
        format!(
            "{:.2}% ({:.1} matches/1k ev)",
            100.0 * c.matched as f64 / c.events.max(1) as f64,
            1000.0 * c.matches as f64 / c.events.max(1) as f64
        )
    } else {
        String::new()
    };
    let cpu = [r.parse, r.reference, r.engine]
        .iter()
        .map(|m| m.cpu_share)
        .try_fold(f64::MAX, |acc, s| s.map(|s| acc.min(s)))
        .map_or_else(|| "?".to_string(), |s| format!("{:.0}%", 100.0 * s));
    println!(
        "| {} | {} | {} | {} / {} | {} | {} | {} | {} | {}{} | {} | {} | {} | {} |",
        r.input,
        count(r.rules),
        r.threads,
        count(r.reference.events),
        count(r.engine.events),
        rate(&r.parse),
        rate(&r.reference),
        rate(&r.engine),
        ratio(&r.engine, &r.parse),
        ratio(&r.engine, &r.reference),
        if r.agree { "" } else { " (!)" },
        matched,
        r.compile
            .map_or_else(String::new, |d| format!("{:.1} ms", d.as_secs_f64() * 1e3)),
        if r.threads == 1 {
            mb(r.rss)
        } else {
            String::new()
        },
        cpu,
    );
}

/// Measures parse only, reference and engine (together) on one and on all cores and
/// prints the rows; false when the engine and the reference disagree on which rules
/// match.
fn run_pack(
    input: &'static str,
    lines: &Lines,
    threads: usize,
    pack: &RulePack,
    compile: Duration,
) -> bool {
    let mut agree_all = true;
    let mut rows = Vec::new();
    let thread_counts = if threads > 1 {
        vec![1, threads]
    } else {
        vec![1]
    };
    // Both thread counts read the same events, as many as one thread reads in a
    // quarter of the budget: all of them, or fewer for slow configurations.
    // The matcher's index is part of compiling a pack: built once, off the hot path.
    let (index, matcher) = measure::time_best(Duration::from_millis(500), || Matcher::new(pack));
    let compile = compile + index;
    let works = [Work::Parse, Work::Reference(pack), Work::Engine(&matcher)];
    let sizes: Vec<usize> = works
        .iter()
        .map(|&w| measure::events_per_pass(lines, w, BUDGET))
        .collect();
    for t in thread_counts {
        let [parse, reference, engine]: [Measured; 3] =
            measure::measure_together(lines, t, &works, &sizes, BUDGET)
                .try_into()
                .unwrap_or_else(|_| unreachable!("three works, three measurements"));
        // The engine must find what the reference finds, on the same events.
        let (check, _) = measure::parallel_pass(lines, reference.events, t, Work::Engine(&matcher));
        let agree = check == reference.counts;
        agree_all &= agree;
        rows.push(Row {
            input,
            rules: pack.len(),
            threads: t,
            parse,
            reference,
            engine,
            compile: (t == 1).then_some(compile),
            rss: None,
            agree,
        });
    }
    let rss = measure::peak_rss_mb();
    for mut r in rows {
        r.rss = rss;
        print_row(&r);
    }
    agree_all
}

/// Writes the inputs and the packs under `dir` (for `picket scan` and for reading them)
/// instead of measuring: `PICKET_BENCH_DUMP=dir cargo bench -p picket --bench throughput`.
fn dump(
    dir: &std::path::Path,
    world: &world::World,
    ct: &Lines,
    flow: &Lines,
    dns: &Lines,
) -> std::io::Result<()> {
    let write = |path: std::path::PathBuf, bytes: &[u8]| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)
    };
    write(dir.join("cloudtrail.jsonl"), &ct.data)?;
    write(dir.join("vpcflow.log"), &flow.data)?;
    write(dir.join("dns.jsonl"), &dns.data)?;
    let mut packs: Vec<PackFiles> = PACK_SIZES
        .iter()
        .enumerate()
        .map(|(k, &n)| rules::cloudtrail_pack(world, n, 100 + k as u64))
        .collect();
    packs.push(rules::flow_pack(world, 100, 200));
    packs.push(rules::dns_pack(world, 100, 300));
    for pack in packs {
        for (path, bytes) in &pack.files {
            write(dir.join(&pack.root).join(path), bytes)?;
        }
    }
    println!("wrote the inputs and packs to {}", dir.display());
    Ok(())
}

fn main() {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("# picket throughput");
    println!();
    println!(
        "machine: {}, {} logical CPUs ({} in /proc/cpuinfo), {} MB RAM; load average at start {}",
        measure::cpu_model(),
        threads,
        measure::cpuinfo_processors(),
        measure::mem_total_mb().map_or_else(|| "?".to_string(), |m| m.to_string()),
        measure::load_average()
    );
    println!(
        "build: {} profile; each figure is the fastest of >= 3 passes over >= {} s, parse only / reference / engine interleaved; all-core = the same events cut into {} chunks, one thread each ({} cores); \"CPU got\" = CPU time the benchmark threads got / (wall time x threads), lowest of the row",
        if cfg!(debug_assertions) { "debug (numbers meaningless)" } else { "optimized" },
        BUDGET.as_secs_f64(),
        threads,
        threads
    );

    // Inputs.
    let gen_start = Instant::now();
    let mut seed_rng = rng::Rng::new(0x5eed_0f91_c7e7);
    let world = world::World::new(&mut seed_rng);
    let ct = cloudtrail::generate(&world, 1, CLOUDTRAIL_BYTES);
    let flow = vpcflow::generate(&world, 2, FLOW_BYTES);
    let dns = dns::generate(&world, 3, DNS_BYTES);
    let gen_took = gen_start.elapsed();
    let [min, median, mean, p99, max] = ct.size_stats();
    let names = tally(&ct, "eventName");
    let sources = tally(&ct, "eventSource");
    let types: BTreeMap<String, usize> = {
        let text = std::str::from_utf8(&ct.data).expect("generated input is UTF-8");
        let mut out = BTreeMap::new();
        for (at, _) in text.match_indices("\"userIdentity\":{\"type\":\"") {
            let rest = &text[at + 24..];
            *out.entry(rest[..rest.find('"').unwrap_or(0)].to_string())
                .or_insert(0) += 1;
        }
        out
    };
    let errors = tally(&ct, "errorCode");
    let denied: usize = errors
        .iter()
        .filter(|(k, _)| k.contains("AccessDenied") || k.contains("Unauthorized"))
        .map(|(_, v)| v)
        .sum();
    let all_errors: usize = errors.values().sum();
    let pct = |n: usize| 100.0 * n as f64 / ct.len() as f64;
    println!();
    println!(
        "inputs (generated in {:.1} s, kept in memory):",
        gen_took.as_secs_f64()
    );
    println!(
        "- cloudtrail: {:.1} MB, {} JSON lines of {min}..{max} bytes (median {median}, mean {mean}, p99 {p99}); {} eventNames of {} eventSources; identities {}; errors {:.1}% (AccessDenied/Unauthorized {:.1}%); S3 data events {:.1}%",
        ct.data.len() as f64 / 1e6,
        ct.len(),
        names.len(),
        sources.len(),
        types
            .iter()
            .map(|(k, v)| format!("{k} {:.1}%", pct(*v)))
            .collect::<Vec<_>>()
            .join(", "),
        pct(all_errors),
        pct(denied),
        pct(["GetObject", "PutObject", "HeadObject", "DeleteObject"]
            .iter()
            .map(|o| names.get(*o).copied().unwrap_or(0))
            .sum()),
    );
    println!(
        "- vpcflow: {:.1} MB, {} lines (default version 2 format)",
        flow.data.len() as f64 / 1e6,
        flow.len()
    );
    println!(
        "- dns: {:.1} MB, {} Route 53 Resolver query log lines",
        dns.data.len() as f64 / 1e6,
        dns.len()
    );
    println!(
        "- rule mix of the CloudTrail packs: {}",
        rules::MIX
            .iter()
            .map(|(k, s)| format!("{k} {s}%"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "- memory: {} resident after generating the inputs",
        mb(measure::rss_mb())
    );
    if let Some(dir) = std::env::var_os("PICKET_BENCH_DUMP") {
        let dir = std::path::Path::new(&dir);
        if let Err(e) = dump(dir, &world, &ct, &flow, &dns) {
            eprintln!("cannot write to {}: {e}", dir.display());
            std::process::exit(1);
        }
        return;
    }
    let can_reset = measure::reset_peak_rss();
    if !can_reset {
        println!("- peak RSS cannot be reset here: each figure is the process's peak so far");
    }

    println!();
    println!("## Throughput");
    println!();
    print_header();
    let mut agree = true;
    let mut packs = BTreeMap::new();
    for (k, &n) in PACK_SIZES.iter().enumerate() {
        measure::reset_peak_rss();
        let files = rules::cloudtrail_pack(&world, n, 100 + k as u64);
        let (took, pack) = compile_pack(&format!("cloudtrail pack of {n}"), &files);
        agree &= run_pack("cloudtrail", &ct, threads, &pack, took);
        if n == 1_000 {
            packs.insert(n, files);
        }
    }
    for (input, lines, files) in [
        ("vpcflow", &flow, rules::flow_pack(&world, 100, 200)),
        ("dns", &dns, rules::dns_pack(&world, 100, 300)),
    ] {
        measure::reset_peak_rss();
        let (took, pack) = compile_pack(&format!("{input} pack"), &files);
        agree &= run_pack(input, lines, threads, &pack, took);
    }
    if !agree {
        println!();
        println!(
            "(!) the engine and the reference evaluator found different matches on the same events"
        );
    }

    // Which kinds of rule cost the most: the 1,000-rule pack split by kind.
    println!();
    println!("## Cost by rule kind (CloudTrail, the 1,000-rule pack split by kind, one thread)");
    println!();
    println!("| kind | rules | engine | ns per event per rule (above parse) | share of the full pack's matching time |");
    println!("|---|--:|--:|--:|--:|");
    let files = packs.remove(&1_000).expect("the 1,000-rule pack was kept");
    let (_, full) = compile_pack("cloudtrail pack of 1000", &files);
    let subs: Vec<(&str, RulePack)> = rules::MIX
        .iter()
        .map(|&(kind, _)| {
            let sub = PackFiles {
                root: format!("{}-{kind}", files.root),
                files: files
                    .files
                    .iter()
                    .filter(|(p, _)| p.contains(&format!("/gen-{kind}-")))
                    .map(|(p, b)| (p.clone(), b.clone()))
                    .collect(),
            };
            (kind, compile_pack(kind, &sub).1)
        })
        .collect();
    // What reading one field costs, for comparison with the cost of a rule.
    let names = [
        "api.service",
        "api.operation",
        "actor.type",
        "actor.arn",
        "error.code",
        "user_agent",
    ];
    let fields: Vec<&'static picket::event::FieldDef> = names
        .iter()
        .filter_map(|n| picket::event::catalog::lookup(n))
        .collect();
    let full_matcher = Matcher::new(&full);
    let sub_matchers: Vec<Matcher<'_>> = subs.iter().map(|(_, p)| Matcher::new(p)).collect();
    let mut works = vec![
        Work::Parse,
        Work::Fields(&fields),
        Work::Engine(&full_matcher),
    ];
    works.extend(sub_matchers.iter().map(Work::Engine));
    let sizes: Vec<usize> = works
        .iter()
        .map(|&w| measure::events_per_pass(&ct, w, BUDGET))
        .collect();
    let m = measure::measure_together(&ct, 1, &works, &sizes, BUDGET);
    let parse_per_event = 1.0 / m[0].events_per_sec();
    let above_parse = |x: &Measured| (1.0 / x.events_per_sec() - parse_per_event).max(0.0);
    let full_cost = above_parse(&m[2]);
    for ((kind, pack), x) in subs.iter().zip(&m[3..]) {
        println!(
            "| {kind} | {} | {} | {:.1} | {:.0}% |",
            pack.len(),
            rate(x),
            above_parse(x) * 1e9 / pack.len().max(1) as f64,
            100.0 * above_parse(x) / full_cost.max(f64::MIN_POSITIVE)
        );
    }
    println!(
        "| all | {} | {} | {:.1} | 100% |",
        full.len(),
        rate(&m[2]),
        full_cost * 1e9 / full.len().max(1) as f64
    );
    println!();
    println!(
        "parse only {}; reading {} through the catalog costs {:.1} ns per field per event on top of parsing ({}).",
        rate(&m[0]),
        names.map(|n| format!("`{n}`")).join(", "),
        above_parse(&m[1]) * 1e9 / fields.len().max(1) as f64,
        rate(&m[1])
    );
    println!();
    println!(
        "total time {:.0} s; load average at the end {}",
        started.elapsed().as_secs_f64(),
        measure::load_average()
    );
}
