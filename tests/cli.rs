//! The `picket` command end to end, in-process: scanning the bundled samples, bad input,
//! and the rule author's commands.

use std::collections::BTreeSet;
use std::io::Write;

use picket::compile::stateful::{StageOp, Stateful};
use picket::compile::{compile, PackFiles};
use picket_tests::{picket, repo};
use serde_json::Value;

fn builtin_rule_ids() -> BTreeSet<String> {
    let (code, out) = picket(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: Vec<Value> = serde_json::from_str(&out).expect("rules JSON");
    rules
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

/// One day, in milliseconds: the sample logs cover less than that (one calendar day).
const SAMPLES_SPAN_MS: i64 = 24 * 60 * 60 * 1000;

/// Built-in rules that cannot fire on one day of logs: a stage of theirs learns a
/// baseline for a day or more (`after learning 14d`), and nothing passes it while it
/// learns.
fn rules_needing_more_history_than_the_samples() -> BTreeSet<String> {
    let compiled = compile(&[PackFiles::builtin()]);
    compiled
        .pack
        .rules
        .iter()
        .filter(|rule| match &rule.stateful {
            Some(Stateful::Stages(stages)) => stages.iter().any(|stage| match &stage.kind {
                StageOp::Baseline(b) => b.learning_ms >= SAMPLES_SPAN_MS,
                StageOp::Window(w) => w.baseline.as_ref().is_some_and(|b| {
                    i64::try_from(b.min_history)
                        .unwrap_or(i64::MAX)
                        .saturating_mul(w.over_ms)
                        >= SAMPLES_SPAN_MS
                }),
            }),
            Some(Stateful::Sequence(_)) | None => false,
        })
        .map(|rule| rule.meta.id.clone())
        .collect()
}

/// A fixture that must match `account.root-console-login`.
fn root_login_hit_fixture() -> std::path::PathBuf {
    std::fs::read_dir(repo().join("rules/account/root-console-login"))
        .expect("root-console-login fixtures")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("hit-"))
        })
        .expect("a hit fixture")
}

fn findings(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("one finding per line"))
        .collect()
}

#[test]
fn scanning_the_samples_fires_every_builtin_rule() {
    let samples = repo().join("docs/samples");
    let (code, out) = picket(&["scan", samples.to_str().expect("path"), "--format", "jsonl"]);
    assert_eq!(code, 0);
    let found = findings(&out);
    let fired: BTreeSet<String> = found
        .iter()
        .map(|f| f["rule"]["id"].as_str().expect("rule id").to_string())
        .collect();
    // The samples hold one day of logs: a rule that learns a baseline for a day or more
    // cannot fire on them, whatever they contain, so it is not expected to.
    let need_history = rules_needing_more_history_than_the_samples();
    let all = builtin_rule_ids();
    assert!(
        need_history.is_subset(&all),
        "{need_history:?} are not built-in rules"
    );
    let expected: BTreeSet<String> = all.difference(&need_history).cloned().collect();
    let silent: Vec<_> = expected.difference(&fired).collect();
    assert!(
        silent.is_empty(),
        "rules that found nothing in the samples: {silent:?}"
    );
    let mut ids = BTreeSet::new();
    for f in &found {
        assert!(
            ids.insert(f["id"].as_str().expect("id").to_string()),
            "duplicate finding id"
        );
        let sev = f["severity"].as_f64().expect("severity");
        assert!((1.0..=10.0).contains(&sev));
        assert!(f["service"]["count"].as_u64().expect("count") >= 1);
        assert!(f["service"]["eventFirstSeen"].as_str() <= f["service"]["eventLastSeen"].as_str());
        assert!(!f["matched"].as_array().expect("matched").is_empty());
        assert!(f["arn"]
            .as_str()
            .expect("arn")
            .starts_with("arn:aws:guardduty:"));
    }
}

#[test]
fn scan_reports_bad_lines_and_keeps_the_good_ones() {
    let hit = root_login_hit_fixture();
    let event: Value = serde_json::from_slice(&std::fs::read(hit).expect("read")).expect("JSON");
    let line = serde_json::to_string(&event).expect("serialize");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::File::create(dir.path().join("mixed.jsonl")).expect("create");
    writeln!(f, "{line}").expect("write");
    writeln!(f, "{{\"eventVersion\": \"1.08\", broken").expect("write");
    writeln!(f, "{line}").expect("write");
    drop(f);
    // A truncated gzip file beside it must not stop the scan either.
    std::fs::write(
        dir.path().join("truncated.json.gz"),
        [0x1f, 0x8b, 0x08, 0x00, 0x00],
    )
    .expect("write");
    let (code, out) = picket(&[
        "scan",
        dir.path().to_str().expect("path"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let found = findings(&out);
    let root: Vec<_> = found
        .iter()
        .filter(|f| f["rule"]["id"] == "account.root-console-login")
        .collect();
    assert_eq!(root.len(), 1, "{out}");
    assert_eq!(
        root[0]["service"]["count"], 2,
        "both good events aggregate into one finding"
    );
}

#[test]
fn check_rejects_a_broken_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("account")).expect("mkdir");
    std::fs::write(
        dir.path().join("account/broken.yaml"),
        "id: account.broken\ntype: Policy:IAMUser/RootCredentialUsage\ntitle: t\nseverity: low\nsource: cloudtrail\ncategory: account\ndescription: d\nwhen: actor.tpye == \"Root\"\n",
    )
    .expect("write");
    let (code, out) = picket(&["check", dir.path().to_str().expect("path")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error"), "{out}");
}

#[test]
fn test_command_passes_on_the_builtin_library() {
    let (code, out) = picket(&["test"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(", 0 failed"), "{out}");
}

#[test]
fn explain_shows_each_predicate() {
    let hit = root_login_hit_fixture();
    let (code, out) = picket(&[
        "explain",
        "account.root-console-login",
        hit.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("MATCH"), "{out}");
    assert!(out.contains("true "), "{out}");
}

#[test]
fn test_command_runs_inline_tests_and_fixtures_of_a_user_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_dir = dir.path().join("instance");
    std::fs::create_dir_all(rule_dir.join("stratum-port")).expect("mkdir");
    // The rule uses a list of the built-in pack (`mining_ports`).
    std::fs::write(
        rule_dir.join("stratum-port.yaml"),
        "id: instance.stratum-port\ntype: CryptoCurrency:EC2/BitcoinTool.B\ntitle: t\nseverity: high\n\
         source: vpcflow\ncategory: instance\ndescription: d\nwhen: dst.port in mining_ports and net.action == \"ACCEPT\"\n\
         tests:\n  - name: accepted stratum flow\n    event: stratum-port/accepted.log\n    expect: match\n\
         \x20 - name: wrongly expected\n    event: stratum-port/rejected.log\n    expect: match\n",
    )
    .expect("write rule");
    let line = |action: &str| {
        format!("2 111122223333 eni-0a1b2c3d 10.0.1.5 198.51.100.7 49152 3333 6 10 840 1700000000 1700000060 {action} OK\n")
    };
    std::fs::write(rule_dir.join("stratum-port/accepted.log"), line("ACCEPT")).expect("write");
    std::fs::write(rule_dir.join("stratum-port/rejected.log"), line("REJECT")).expect("write");
    std::fs::write(
        rule_dir.join("stratum-port/hit-accepted.log"),
        line("ACCEPT"),
    )
    .expect("write");
    std::fs::write(
        rule_dir.join("stratum-port/miss-rejected.log"),
        line("REJECT"),
    )
    .expect("write");

    let (code, out) = picket(&["test", dir.path().to_str().expect("path")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("1 rules, 4 cases: 3 passed, 1 failed"),
        "{out}"
    );
    let failing: Vec<&str> = out.lines().filter(|l| l.contains("FAIL")).collect();
    assert_eq!(failing.len(), 1, "{out}");
    assert!(failing[0].contains("wrongly expected"), "{out}");
}
