//! Rule tests: runs each rule of a pack over its fixtures (the `hit-*` / `miss-*` files
//! in the folder named after the rule, and inline `tests:`), and says what held.

use super::eval;
use crate::compile::load::Expect;
use crate::compile::{CompiledRule, PackFiles, RulePack};
use crate::event::{reader, Event, ReadOptions, ReadStats};
use crate::finding::{Aggregator, Finding, DEFAULT_DETECTOR_ID};
use crate::run::{series, Match, StateConfig, StateStore};

/// The outcome of one rule on one fixture.
#[derive(Debug)]
pub struct CaseResult {
    /// Rule id.
    pub rule: String,
    /// Case name (fixture file name or inline test name).
    pub case: String,
    /// Fixture path inside the pack.
    pub fixture: String,
    /// What was expected; `None` for a rule that lacks a hit or miss fixture.
    pub expect: Option<Expect>,
    /// Events read from the fixture.
    pub events: usize,
    /// Events that matched (for a stateful rule: events on which it fired).
    pub matched: usize,
    /// The rule is stateful: a hit fixture passes when it fires at least once.
    pub stateful: bool,
    /// Problems reading the fixture, or a missing fixture.
    pub errors: Vec<String>,
    /// Findings raised on the fixture.
    pub findings: Vec<Finding>,
}

impl CaseResult {
    /// Did the case pass? A hit fixture passes when every event matches (a stateful
    /// rule: when it fires at least once), a miss fixture when none does (never fires);
    /// unreadable or empty fixtures fail.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
            && self.events > 0
            && match self.expect {
                Some(Expect::Match) if self.stateful => self.matched > 0,
                Some(Expect::Match) => self.matched == self.events,
                Some(Expect::NoMatch) => self.matched == 0,
                None => false,
            }
    }
}

fn run_case(
    rule: &CompiledRule,
    fixture: &str,
    bytes: &[u8],
    expect: Expect,
    case: String,
) -> CaseResult {
    let mut events: Vec<Event> = Vec::new();
    let mut errors = Vec::new();
    let mut stats = ReadStats::default();
    let opts = ReadOptions {
        source: None,
        ..ReadOptions::default()
    };
    reader::read_stream(
        fixture,
        bytes,
        &opts,
        &mut stats,
        &mut |e| events.push(e),
        &mut |e| errors.push(e.to_string()),
    );
    let mut agg = Aggregator::new(DEFAULT_DETECTOR_ID, 0);
    let mut state = StateStore::new(StateConfig::default());
    let mut matched = 0;
    for event in &events {
        if !rule.meta.sources.contains(&event.source) {
            errors.push(format!(
                "{fixture}: event is {} but the rule reads {}",
                event.source,
                rule.meta.source_names()
            ));
            continue;
        }
        if eval::matches(rule, event) {
            let m = Match {
                rule,
                matched: eval::explain(rule, event),
            };
            if let Some(m) = state.route(m, event) {
                matched += 1;
                agg.add(m, event);
            }
        }
    }
    CaseResult {
        rule: rule.meta.id.clone(),
        case,
        fixture: fixture.to_string(),
        expect: Some(expect),
        events: events.len(),
        matched,
        stateful: rule.stateful.is_some(),
        errors,
        findings: agg.finish(),
    }
}

/// Runs every rule of pack number `pack_index` (in the slice given to `compile`) over
/// its fixtures and inline tests.
pub fn run_pack_tests(packs: &[PackFiles], pack: &RulePack, pack_index: usize) -> Vec<CaseResult> {
    let files = &packs[pack_index];
    let mut out = Vec::new();
    for rule in pack.rules.iter().filter(|r| r.pack == pack_index) {
        let mut cases: Vec<(String, String, Expect)> = files
            .fixtures(&rule.path)
            .into_iter()
            .map(|(path, hit)| {
                let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                (
                    name,
                    path,
                    if hit { Expect::Match } else { Expect::NoMatch },
                )
            })
            .collect();
        let dir = rule
            .path
            .rsplit_once('/')
            .map(|(d, _)| format!("{d}/"))
            .unwrap_or_default();
        for t in &rule.tests {
            cases.push((
                t.name.clone(),
                normalize(&format!("{dir}{}", t.event.value)),
                t.expect,
            ));
        }
        for expect in [Expect::Match, Expect::NoMatch] {
            if !cases.iter().any(|c| c.2 == expect) {
                let kind = if expect == Expect::Match {
                    "hit"
                } else {
                    "miss"
                };
                out.push(CaseResult {
                    rule: rule.meta.id.clone(),
                    case: format!("(no {kind} fixture)"),
                    fixture: String::new(),
                    expect: None,
                    events: 0,
                    matched: 0,
                    stateful: rule.stateful.is_some(),
                    errors: vec![format!(
                        "{} has no {kind} fixture: add {}/{kind}-<what>.json",
                        rule.meta.id,
                        rule.path.trim_end_matches(".yaml").trim_end_matches(".yml")
                    )],
                    findings: Vec::new(),
                });
            }
        }
        for (name, path, expect) in cases {
            match files.files.get(&path) {
                Some(bytes) if path.ends_with(".series.yaml") => {
                    let shown = files.display(&path);
                    let folder = path.rsplit_once('/').map_or("", |(d, _)| d);
                    let read = |rel: &str| {
                        let p = normalize(&format!("{folder}/{rel}"));
                        files
                            .files
                            .get(&p)
                            .and_then(|b| String::from_utf8(b.clone()).ok())
                    };
                    let text = String::from_utf8_lossy(bytes);
                    match series::expand(&shown, &text, &read) {
                        Ok(events) => out.push(run_case(rule, &shown, &events, expect, name)),
                        Err(e) => out.push(CaseResult {
                            rule: rule.meta.id.clone(),
                            case: name,
                            fixture: shown,
                            expect: Some(expect),
                            events: 0,
                            matched: 0,
                            stateful: rule.stateful.is_some(),
                            errors: vec![e.to_string()],
                            findings: Vec::new(),
                        }),
                    }
                }
                Some(bytes) => out.push(run_case(rule, &files.display(&path), bytes, expect, name)),
                None => out.push(CaseResult {
                    rule: rule.meta.id.clone(),
                    case: name,
                    fixture: files.display(&path),
                    expect: Some(expect),
                    events: 0,
                    matched: 0,
                    stateful: rule.stateful.is_some(),
                    errors: vec![format!("fixture {} not found", files.display(&path))],
                    findings: Vec::new(),
                }),
            }
        }
    }
    out
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}
