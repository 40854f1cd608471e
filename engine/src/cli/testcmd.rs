//! `picket test`, `picket check` and `picket explain`: the rule author's loop.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use comfy_table::{presets, Table};

use super::{compile_and_report, PackSelection};
use crate::compile::load::Expect;
use crate::compile::{CompileOptions, PackFiles};
use crate::event::{reader, Event, ReadOptions, ReadStats};
use crate::run::{eval, fixtures};

/// Packs for `test`/`check`: the built-in pack, plus the given directories. Returns the
/// packs and the indexes of the ones under test.
fn packs_under_test(dirs: &[PathBuf]) -> Result<(Vec<PackFiles>, Vec<usize>)> {
    let mut packs = vec![PackFiles::builtin()];
    if dirs.is_empty() {
        return Ok((packs, vec![0]));
    }
    let mut tested = Vec::new();
    for d in dirs {
        let canonical = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
        let is_builtin = canonical.ends_with("rules")
            && canonical
                .parent()
                .is_some_and(|p| p.join("engine").join("Cargo.toml").exists());
        if is_builtin {
            // Testing the source tree of the built-in rules: read it from disk instead.
            packs[0] =
                PackFiles::from_dir(d).with_context(|| format!("cannot read {}", d.display()))?;
            tested.push(0);
        } else {
            packs.push(
                PackFiles::from_dir(d).with_context(|| format!("cannot read {}", d.display()))?,
            );
            tested.push(packs.len() - 1);
        }
    }
    Ok((packs, tested))
}

pub(super) fn run_tests(dir: Option<PathBuf>, verbose: bool, out: &mut dyn Write) -> Result<u8> {
    let dirs: Vec<PathBuf> = dir.into_iter().collect();
    let (packs, tested) = packs_under_test(&dirs)?;
    let compiled = compile_and_report(&packs, &CompileOptions::for_fixtures());
    let mut results = Vec::new();
    for i in &tested {
        results.extend(fixtures::run_pack_tests(&packs, &compiled.pack, *i));
    }
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_header(["result", "rule", "case", "expect", "matched"]);
    let mut failed = 0;
    for r in &results {
        let ok = r.passed();
        if !ok {
            failed += 1;
        }
        if ok && !verbose {
            continue;
        }
        let expect = match r.expect {
            Some(Expect::Match) => "match",
            Some(Expect::NoMatch) => "no match",
            None => "-",
        };
        let mut case = r.case.clone();
        for e in &r.errors {
            case.push_str(&format!("\n{e}"));
        }
        t.add_row(vec![
            if ok { "pass" } else { "FAIL" }.to_string(),
            r.rule.clone(),
            case,
            expect.to_string(),
            format!("{}/{}", r.matched, r.events),
        ]);
    }
    if verbose || failed > 0 {
        writeln!(out, "{t}")?;
    }
    let rules: std::collections::BTreeSet<&str> = results.iter().map(|r| r.rule.as_str()).collect();
    writeln!(
        out,
        "{} rules, {} cases: {} passed, {} failed",
        rules.len(),
        results.len(),
        results.len() - failed,
        failed
    )?;
    let errors = compiled.error_count();
    if errors > 0 {
        writeln!(out, "{errors} rule error(s): see above")?;
    }
    Ok(if failed > 0 || errors > 0 { 1 } else { 0 })
}

pub(super) fn run_check(dirs: &[PathBuf], deny_warnings: bool, out: &mut dyn Write) -> Result<u8> {
    let (packs, tested) = packs_under_test(dirs)?;
    let compiled = compile_and_report(&packs, &CompileOptions::for_fixtures());
    let mut missing = 0;
    for i in &tested {
        for r in fixtures::run_pack_tests(&packs, &compiled.pack, *i) {
            if r.expect.is_none() {
                missing += 1;
                eprintln!("error[R208]: {}", r.errors.join("; "));
            }
        }
    }
    let errors = compiled.error_count() + missing;
    let warnings = compiled.diagnostics.len() - compiled.error_count();
    let rules = compiled
        .pack
        .rules
        .iter()
        .filter(|r| tested.contains(&r.pack))
        .count();
    writeln!(
        out,
        "{rules} rules compiled: {errors} error(s), {warnings} warning(s)"
    )?;
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        1
    } else {
        0
    })
}

pub(super) fn run_explain(
    rule_id: &str,
    event_path: &Path,
    sel: &PackSelection,
    out: &mut dyn Write,
) -> Result<u8> {
    let compiled = sel.compile()?;
    let Some(rule) = compiled.pack.rule(rule_id) else {
        let ids = compiled.pack.rules.iter().map(|r| r.meta.id.as_str());
        match picket_grammar::suggest::nearest(rule_id, ids) {
            Some(n) => bail!("no rule `{rule_id}`; did you mean `{n}`?"),
            None => bail!("no rule `{rule_id}`; `picket rules` lists them"),
        }
    };
    let mut events: Vec<Event> = Vec::new();
    let mut stats = ReadStats::default();
    reader::read_path(
        event_path,
        &ReadOptions::default(),
        &mut stats,
        &mut |e| events.push(e),
        &mut |e| eprintln!("error: {e}"),
    );
    if events.is_empty() {
        bail!("no event read from {}", event_path.display());
    }
    let mut any = false;
    // A stateful rule: the events go through its windows, baselines or sequence in
    // file order, and each line says whether the rule fired on that event.
    let mut state = rule
        .stateful
        .is_some()
        .then(|| crate::run::StateStore::new(crate::run::StateConfig::default()));
    for event in &events {
        let line = if event.origin.line > 0 {
            format!("{}:{}", event.origin.file, event.origin.line)
        } else {
            format!("{} record {}", event.origin.file, event.origin.record)
        };
        if !rule.meta.sources.contains(&event.source) {
            writeln!(
                out,
                "{line} ({}): not read by {} (it reads {})",
                event.source,
                rule.meta.id,
                rule.meta.source_names()
            )?;
            continue;
        }
        let matched = eval::matches(rule, event);
        let fired = match (&mut state, matched) {
            (Some(state), true) => Some(state.observe(
                crate::run::Match {
                    rule,
                    matched: Vec::new(),
                },
                event,
            )),
            _ => None,
        };
        any |= matched && fired.as_ref().is_none_or(Option::is_some);
        let verdict = match (&fired, matched) {
            (Some(Some(_)), _) => "MATCH, and the rule FIRES",
            (Some(None), _) => "MATCH (the stateful part did not fire on this event)",
            (None, true) => "MATCH",
            (None, false) => "no match",
        };
        writeln!(out, "{line} ({}): {verdict}", event.source)?;
        if let Some(Some(m)) = &fired {
            let stateful_lines = m.matched.iter().filter(|t| {
                !rule
                    .preds
                    .iter()
                    .any(|p| &p.text == *t || format!("not {}", p.text) == **t)
            });
            for text in stateful_lines {
                writeln!(out, "  fired {text}")?;
            }
        }
        let held_in_match = if matched {
            eval::explain(rule, event)
        } else {
            Vec::new()
        };
        for p in &rule.preds {
            let mark = if p.test.reads_element() {
                if held_in_match.contains(&p.text) {
                    "true "
                } else if held_in_match.contains(&format!("not {}", p.text)) {
                    "false"
                } else {
                    "each "
                }
            } else if eval::test(&p.test, event) {
                "true "
            } else {
                "false"
            };
            writeln!(out, "  {mark} {}", p.text)?;
        }
    }
    writeln!(
        out,
        "(`each`: tested per element inside any(…)/all(…); `not …` parts hold when false)"
    )?;
    if let Some(state) = &state {
        let stats = state.stats();
        if stats.late_events + stats.untimed_events > 0 {
            writeln!(
                out,
                "({} late and {} untimed events were left out of the stateful part)",
                stats.late_events, stats.untimed_events
            )?;
        }
    }
    Ok(if any { 0 } else { 1 })
}
