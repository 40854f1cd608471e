//! `picket scan`: read logs, run the packs, print findings and a summary.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::PackSelection;
use crate::event::{reader, ReadOptions, ReadStats, Source};
use crate::finding::Suppressions;
use crate::finding::{output, severity_band, Aggregator, Finding, DEFAULT_DETECTOR_ID};
use crate::run::state::DEFAULT_MEMORY_CAP;
use crate::run::{Matcher, Profile, StateConfig, StateStore};

/// The state file inside `--state DIR`.
const STATE_FILE: &str = "state.json";

/// How often a long scan snapshots its state.
const STATE_AUTOSAVE: std::time::Duration = std::time::Duration::from_secs(300);

/// Input errors printed one by one before only counting the rest.
const MAX_PRINTED_ERRORS: u64 = 50;

#[derive(clap::Args, Debug)]
pub(super) struct ScanArgs {
    /// Files or directories to scan (`-` for standard input). Directories are walked.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    packs: PackSelection,
    /// Read every record as this source instead of detecting it from content.
    #[arg(long, value_parser = parse_source)]
    source: Option<Source>,
    /// Output format (default: table on a terminal, JSON lines otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Largest record (line or document) accepted, in bytes.
    #[arg(long, default_value_t = ReadOptions::default().max_record_bytes)]
    max_record_bytes: usize,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Threads reading and matching (default: the available parallelism; 1 reads and
    /// matches in order on one thread).
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
    /// After the scan, list the rules that cost the most time and how many events each
    /// was evaluated on, and the field tests (lookups, automata, regex sets) that cost
    /// the most (scans on one thread, so the timings are not disturbed).
    #[arg(long)]
    profile: bool,
    /// Archive the findings that match a rule of this suppression file (repeatable; see
    /// docs/suppression.md). Archived findings are still printed, marked as archived.
    #[arg(long = "suppress", value_name = "FILE")]
    suppress: Vec<PathBuf>,
    /// How late an event may arrive, behind the newest event time seen, and still count
    /// for stateful rules (windows, baselines, sequences); later ones are counted as
    /// late and left out of them. A duration: `90s`, `15m`, `2h`, `1d`.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration_ms)]
    allowed_lateness: i64,
    /// Memory for the state of stateful rules, in MiB; over it, the keys unused the
    /// longest are evicted (and counted).
    #[arg(long, value_name = "MIB", default_value_t = (DEFAULT_MEMORY_CAP >> 20) as u64)]
    state_memory: u64,
    /// Keep the state of stateful rules (baselines, open windows and sequences) in this
    /// folder: restored at the start when present, saved at the end (and every few
    /// minutes during a long scan), so consecutive scans share baselines.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
}

/// `90s`, `15m`, `2h`, `1d` in milliseconds.
fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "`{s}` is not a duration; write a whole number and a unit: `90s`, `15m`, `2h`, `1d`"
        )
    };
    let unit = s.chars().last().ok_or_else(bad)?;
    let factor = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return Err(bad()),
    };
    let n: i64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
    n.checked_mul(factor).filter(|v| *v >= 0).ok_or_else(bad)
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// A table for people.
    Table,
    /// One GuardDuty-shaped finding per line.
    Jsonl,
    /// A JSON array of findings.
    Json,
}

fn parse_source(s: &str) -> Result<Source, String> {
    Source::from_name(s).ok_or_else(|| {
        format!(
            "unknown source `{s}`; expected one of {}",
            Source::ALL.map(Source::name).join(", ")
        )
    })
}

pub(super) fn run(args: ScanArgs, out: &mut dyn Write) -> Result<u8> {
    let started = Instant::now();
    let suppressions = Suppressions::load_all(&args.suppress)
        .map_err(|e| anyhow::anyhow!(e.render(std::io::stderr().is_terminal())))?;
    let compiled = args.packs.compile()?;
    if compiled.error_count() > 0 {
        eprintln!(
            "warning: {} rule error(s); scanning with the {} rule(s) that compiled",
            compiled.error_count(),
            compiled.pack.len()
        );
    }
    if compiled.pack.is_empty() {
        anyhow::bail!("no rule compiled; nothing to scan with");
    }
    let pack = &compiled.pack;
    let matcher = Matcher::new(pack);

    let (inputs, input_errors) = reader::expand_inputs(&args.paths);
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let progress = if args.no_progress || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb
    };
    let pb = progress.clone();
    let opts = ReadOptions {
        source: args.source,
        max_record_bytes: args.max_record_bytes,
        progress: Some(Arc::new(move |n| pb.inc(n))),
    };

    let mut stats = ReadStats::default();
    let mut printed = 0u64;
    let mut report_error = |e: &dyn std::fmt::Display| {
        if printed < MAX_PRINTED_ERRORS {
            progress.suspend(|| eprintln!("error: {e}"));
        }
        printed += 1;
    };
    for e in &input_errors {
        report_error(e);
    }
    let now_millis = chrono::Utc::now().timestamp_millis();
    let new_aggregator = || Aggregator::new(DEFAULT_DETECTOR_ID, now_millis);
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let mut profile = args.profile.then(|| Profile::new(pack));
    let mut state = StateStore::new(StateConfig {
        allowed_lateness_ms: args.allowed_lateness,
        memory_cap_bytes: usize::try_from(args.state_memory.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
    });
    let state_file = args.state.as_ref().map(|dir| dir.join(STATE_FILE));
    let mut restored = None;
    if let (Some(dir), Some(file)) = (&args.state, &state_file) {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the state folder {}: {e}", dir.display())
        })?;
        if file.exists() {
            let r = state.restore(file, pack).map_err(|e| {
                anyhow::anyhow!(
                    "cannot restore the state: {e}\nmove the file away to start with no state"
                )
            })?;
            restored = Some(r);
        }
        state.autosave(file.clone(), STATE_AUTOSAVE);
    }
    let agg = if threads == 1 || profile.is_some() {
        let mut agg = new_aggregator();
        for path in &inputs {
            progress.set_message(path.display().to_string());
            let mut on_event = |event: crate::event::Event| match profile.as_mut() {
                Some(p) => matcher.run_profiled(&event, p, |m| {
                    if let Some(m) = state.route(m, &event) {
                        agg.add(m, &event);
                    }
                }),
                None => matcher.run_with_state(&event, &mut state, |m| {
                    agg.add(m, &event);
                }),
            };
            let mut on_error = |e: crate::event::InputError| report_error(&e);
            reader::read_path(path, &opts, &mut stats, &mut on_event, &mut on_error);
        }
        agg
    } else {
        crate::run::parallel::scan(
            &inputs,
            &opts,
            &matcher,
            &mut state,
            threads,
            &new_aggregator,
            &mut stats,
            &mut |file| progress.set_message(file.to_owned()),
            &mut |e| report_error(&e),
        )
    };
    progress.finish_and_clear();
    if printed > MAX_PRINTED_ERRORS {
        eprintln!(
            "error: … and {} more input errors",
            printed - MAX_PRINTED_ERRORS
        );
    }
    let mut findings = agg.finish();
    if let Some(geo) = &pack.geo {
        crate::finding::enrich::enrich_all(geo, &mut findings);
    }
    crate::finding::trusted::apply_all(&pack.intel, &mut findings);
    suppressions.apply_all(&mut findings);
    if let Some(file) = &state_file {
        state
            .save(file)
            .map_err(|e| anyhow::anyhow!("cannot save the state to {}: {e}", file.display()))?;
    }
    let elapsed = started.elapsed().as_secs_f64();

    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let mut summary = summary(
        &findings,
        &stats,
        input_errors.len() as u64,
        elapsed,
        pack.len(),
    );
    if pack.rules.iter().any(|r| r.stateful.is_some()) {
        summary.push('\n');
        summary.push_str(&state_summary(&state.stats()));
    }
    if let (Some(dir), Some(r)) = (&args.state, &restored) {
        summary.push_str(&format!(
            "\n  state: restored {} rule(s) from {}, saved again at the end",
            r.rules,
            dir.display()
        ));
        if r.dropped > 0 {
            summary.push_str(&format!(
                "; the state of {} rule(s) that changed or are gone was dropped",
                r.dropped
            ));
        }
    } else if let Some(dir) = &args.state {
        summary.push_str(&format!("\n  state: saved to {}", dir.display()));
    }
    if let Some(e) = state.autosave_error() {
        summary.push_str(&format!(
            "\n  state: a snapshot during the scan failed: {e}"
        ));
    }
    if let Some(p) = &profile {
        summary.push_str(&format!("\n\n{}", p.table(pack, 15)));
        summary.push_str(&format!("\n\n{}", p.groups_table(matcher.dispatch(), 10)));
        for line in matcher.dispatch().describe() {
            summary.push_str(&format!("\n  dispatch {line}"));
        }
    }
    match format {
        Format::Table => {
            if findings.is_empty() {
                writeln!(out, "No findings.")?;
            } else {
                writeln!(out, "{}", output::table(&findings))?;
            }
            writeln!(out, "\n{summary}")?;
        }
        Format::Jsonl => {
            output::write_jsonl(&findings, out)?;
            eprintln!("{summary}");
        }
        Format::Json => {
            output::write_json(&findings, out)?;
            eprintln!("{summary}");
        }
    }
    Ok(0)
}

/// The state line of the summary: what stateful rules saw and held.
fn state_summary(s: &crate::run::StateStats) -> String {
    let mut line = format!(
        "  stateful rules: {} events, {} keys held (~{:.1} MB)",
        thousands(s.observed),
        thousands(s.keys as u64),
        s.bytes as f64 / 1e6
    );
    if s.late_events > 0 {
        line.push_str(&format!(
            "; {} late events left out (older than --allowed-lateness behind the newest)",
            thousands(s.late_events)
        ));
    }
    if s.untimed_events > 0 {
        line.push_str(&format!(
            "; {} events without a time left out",
            thousands(s.untimed_events)
        ));
    }
    if s.evicted_keys > 0 {
        line.push_str(&format!(
            "; {} keys evicted at the --state-memory cap",
            thousands(s.evicted_keys)
        ));
    }
    line
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn summary(
    findings: &[Finding],
    stats: &ReadStats,
    input_errors: u64,
    elapsed: f64,
    rules: usize,
) -> String {
    let events: u64 = Source::ALL
        .iter()
        .map(|s| stats.events.get(s).copied().unwrap_or(0))
        .sum();
    let mut s = String::new();
    let rate = if elapsed > 0.0 {
        events as f64 / elapsed
    } else {
        0.0
    };
    s.push_str(&format!(
        "Scanned {} file(s), {:.1} MB, {} events with {} rules in {:.2} s ({} events/s)\n",
        stats.files,
        stats.bytes as f64 / 1e6,
        thousands(events),
        rules,
        elapsed,
        thousands(rate as u64)
    ));
    let per_source: Vec<String> = Source::ALL
        .iter()
        .map(|src| {
            format!(
                "{} {}",
                src.name(),
                thousands(stats.events.get(src).copied().unwrap_or(0))
            )
        })
        .collect();
    s.push_str(&format!("  events by source: {}\n", per_source.join(", ")));
    s.push_str(&format!(
        "  parse errors: {}\n",
        thousands(stats.errors + input_errors)
    ));
    if !stats.skipped.is_empty() {
        let digests = stats
            .skipped
            .iter()
            .filter(|(_, r)| r.contains("digest"))
            .count();
        let other: Vec<_> = stats
            .skipped
            .iter()
            .filter(|(_, r)| !r.contains("digest"))
            .collect();
        s.push_str(&format!(
            "  skipped files: {} CloudTrail digest, {} not a log format picket reads\n",
            digests,
            other.len()
        ));
        for (file, reason) in other.iter().take(5) {
            s.push_str(&format!("    {file}: {reason}\n"));
        }
        if other.len() > 5 {
            s.push_str(&format!("    … and {} more\n", other.len() - 5));
        }
    }
    let mut bands: BTreeMap<u8, u64> = BTreeMap::new();
    let mut types: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for f in findings {
        let rank = match severity_band(f.severity) {
            "Critical" => 0,
            "High" => 1,
            "Medium" => 2,
            _ => 3,
        };
        *bands.entry(rank).or_default() += 1;
        let e = types.entry(f.finding_type.as_str()).or_default();
        e.0 += 1;
        e.1 += f.service.count;
    }
    let band = |r: u8| bands.get(&r).copied().unwrap_or(0);
    s.push_str(&format!(
        "Findings: {} (critical {}, high {}, medium {}, low {})",
        findings.len(),
        band(0),
        band(1),
        band(2),
        band(3)
    ));
    let archived = findings.iter().filter(|f| f.service.archived).count();
    if archived > 0 {
        s.push_str(&format!(", archived: {archived}"));
    }
    if !types.is_empty() {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::NOTHING)
            .set_header(["  type", "findings", "events"]);
        for (ty, (n, events)) in types {
            t.add_row(vec![format!("  {ty}"), n.to_string(), events.to_string()]);
        }
        s.push('\n');
        s.push_str(&t.to_string());
    }
    s
}
