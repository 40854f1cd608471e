//! `picket scan --state DIR`: consecutive scans share the state of stateful rules, so a
//! day's export scanned after two weeks of others sees what is new, and a sequence that
//! starts in one file and ends in the next is found; a broken state file is an error
//! that names it.

use std::path::Path;

use picket_tests::{picket, repo};
use serde_json::Value;

/// The events of a series fixture of a built-in rule, as JSON lines.
fn series(rule_dir: &str, text: &str) -> Vec<u8> {
    let dir = repo().join("rules").join(rule_dir);
    picket::run::series::expand("test.series.yaml", text, &|name| {
        std::fs::read_to_string(dir.join(name)).ok()
    })
    .expect("a valid series")
}

fn rule_ids(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a finding per line"))
        .map(|f| f["rule"]["id"].as_str().expect("rule id").to_string())
        .collect()
}

fn scan(path: &Path, state: Option<&Path>) -> Vec<String> {
    let mut args = vec![
        "scan".to_string(),
        path.display().to_string(),
        "--format".into(),
        "jsonl".into(),
        "--threads".into(),
        "1".into(),
    ];
    if let Some(s) = state {
        args.extend(["--state".into(), s.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out) = picket(&args);
    assert_eq!(code, 0);
    rule_ids(&out)
}

#[test]
fn consecutive_scans_share_baselines_and_sequences() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Two weeks and more of a role creating roles, then (next export) an access key.
    let history = series(
        "account/persistence-api-unusual-for-identity",
        "start: 2026-11-01T09:00:00Z\nseries:\n  - file: template-call.json\n    count: 10\n    every: 2d\n",
    );
    let today = series(
        "account/persistence-api-unusual-for-identity",
        "start: 2026-11-21T09:00:00Z\nseries:\n  - file: template-call.json\n    set: { eventName: CreateAccessKey }\n",
    );
    // Failed sign-ins at the end of one file, the success at the start of the next.
    let failures = series(
        "account/console-login-brute-force",
        "start: 2026-11-21T08:55:00Z\nseries:\n  - file: template-login-failure.json\n    count: 6\n    every: 30s\n",
    );
    let success = series(
        "account/console-login-brute-force",
        "start: 2026-11-21T09:01:00Z\nseries:\n  - file: template-login-success.json\n",
    );
    let day1 = dir.path().join("day1.jsonl");
    let day2 = dir.path().join("day2.jsonl");
    std::fs::write(&day1, [history, failures].concat()).expect("written");
    std::fs::write(&day2, [today, success].concat()).expect("written");

    // Without state, the second export alone shows nothing stateful.
    let alone = scan(&day2, None);
    assert!(!alone.contains(&"account.persistence-api-unusual-for-identity".to_string()));
    assert!(!alone.contains(&"account.console-login-brute-force".to_string()));

    let state = dir.path().join("state");
    let first = scan(&day1, Some(&state));
    assert!(state.join("state.json").exists());
    assert!(!first.contains(&"account.persistence-api-unusual-for-identity".to_string()));
    let second = scan(&day2, Some(&state));
    assert!(
        second.contains(&"account.persistence-api-unusual-for-identity".to_string()),
        "{second:?}"
    );
    assert!(
        second.contains(&"account.console-login-brute-force".to_string()),
        "{second:?}"
    );

    // The same as scanning both at once.
    let both = scan(dir.path(), None);
    for id in [
        "account.persistence-api-unusual-for-identity",
        "account.console-login-brute-force",
    ] {
        assert!(both.contains(&id.to_string()), "{both:?}");
    }
}

#[test]
fn a_broken_state_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("state.json"), "{\"format\": 1, ").expect("written");
    let samples = repo().join("rules/recon/ec2-portscan");
    let argv: Vec<std::ffi::OsString> = vec![
        "picket".into(),
        "scan".into(),
        samples.into(),
        "--state".into(),
        dir.path().into(),
    ];
    let mut out = Vec::new();
    let err = picket::cli::run(argv, &mut out).expect_err("refuses to start");
    let text = format!("{err:#}");
    assert!(
        text.contains("state.json: not a picket state snapshot"),
        "{text}"
    );
    assert!(text.contains("move the file away"), "{text}");
}

#[test]
fn explain_shows_where_a_stateful_rule_fires() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logins = series(
        "account/console-login-brute-force",
        "start: 2026-11-21T08:55:00Z\nseries:\n  - file: template-login-failure.json\n    count: 5\n    every: 30s\n  - file: template-login-success.json\n",
    );
    let path = dir.path().join("logins.jsonl");
    std::fs::write(&path, logins).expect("written");
    let (code, out) = picket(&[
        "explain",
        "account.console-login-brute-force",
        path.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.matches("the stateful part did not fire").count(),
        5,
        "{out}"
    );
    assert_eq!(out.matches("the rule FIRES").count(), 1, "{out}");
    assert!(
        out.contains("within 15m by src.ip: from 2026-11-21T08:55:00Z"),
        "{out}"
    );
    // Without the success, the condition holds five times and the rule never fires.
    let failures = series(
        "account/console-login-brute-force",
        "start: 2026-11-21T08:55:00Z\nseries:\n  - file: template-login-failure.json\n    count: 5\n",
    );
    std::fs::write(&path, failures).expect("written");
    let (code, out) = picket(&[
        "explain",
        "account.console-login-brute-force",
        path.to_str().expect("path"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("FIRES"), "{out}");
}

/// A reload moves the state to the new pack: the state of a rule whose definition did
/// not change is kept (it still fires across the reload), a changed rule starts afresh,
/// a removed rule's state is freed.
#[test]
fn a_reload_keeps_the_state_of_unchanged_rules_only() {
    use picket::compile::{compile, PackFiles};
    use picket::run::{Engine, StateConfig, StateStore};

    let failures = series(
        "account/console-login-brute-force",
        "start: 2026-11-21T08:55:00Z\nseries:\n  - file: template-login-failure.json\n    count: 6\n    every: 30s\n",
    );
    let success = series(
        "account/console-login-brute-force",
        "start: 2026-11-21T09:01:00Z\nseries:\n  - file: template-login-success.json\n",
    );
    let read = |bytes: &[u8]| {
        let mut events = Vec::new();
        picket::event::read_stream(
            "t",
            bytes,
            &picket::event::ReadOptions::default(),
            &mut picket::event::ReadStats::default(),
            &mut |e| events.push(e),
            &mut |e| panic!("{e}"),
        );
        events
    };
    let rule = "account.console-login-brute-force";
    // Runs `events` through `engine`, returning the rules that fired.
    let run = |engine: &Engine, state: &mut StateStore, events: &[picket::event::Event]| {
        let matcher = engine.matcher();
        let mut fired = Vec::new();
        for e in events {
            matcher.run_with_state(e, state, |m| fired.push(m.rule.meta.id.clone()));
        }
        fired
    };
    let builtin = PackFiles::builtin();
    let engine = Engine::new(compile(std::slice::from_ref(&builtin)).pack);
    let failures = read(&failures);
    let success = read(&success);

    // Unchanged: the failures seen before the reload count after it.
    let mut state = StateStore::new(StateConfig::default());
    assert!(!run(&engine, &mut state, &failures).contains(&rule.to_string()));
    let held = state.stats().keys;
    assert!(held > 0);
    let same = Engine::new(compile(std::slice::from_ref(&builtin)).pack);
    let kept = state.adopt(same.pack());
    assert_eq!(kept.dropped, 0);
    assert!(kept.rules >= 1);
    assert_eq!(state.stats().keys, held);
    assert!(run(&same, &mut state, &success).contains(&rule.to_string()));

    // Changed (seven failures needed): it starts afresh and does not fire.
    let mut state = StateStore::new(StateConfig::default());
    run(&engine, &mut state, &failures);
    let mut changed = builtin.clone();
    let path = changed
        .files
        .keys()
        .find(|p| p.ends_with("console-login-brute-force.yaml"))
        .expect("the rule")
        .clone();
    let text = String::from_utf8(changed.files[&path].clone()).expect("UTF-8");
    let edited = text.replacen("at least 5 times", "at least 7 times", 1);
    assert_ne!(edited, text, "the rule's threshold is `at least 5 times`");
    changed.files.insert(path.clone(), edited.into_bytes());
    let new = Engine::new(compile(std::slice::from_ref(&changed)).pack);
    let moved = state.adopt(new.pack());
    assert!(moved.dropped >= 1);
    assert!(!run(&new, &mut state, &success).contains(&rule.to_string()));

    // Removed: its state is freed.
    let mut state = StateStore::new(StateConfig::default());
    run(&engine, &mut state, &failures);
    let mut without = builtin.clone();
    without.files.remove(&path);
    let fewer = Engine::new(compile(std::slice::from_ref(&without)).pack);
    state.adopt(fewer.pack());
    assert_eq!(state.stats().keys, 0, "only that rule held state");
}
