//! The `picket` command end to end, in-process: scanning the bundled samples, bad input,
//! and the rule author's commands.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use picket::compile::ir::Test;
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

/// Built-in rules that test a kind of list the user brings (`src.ip in list(threat)`):
/// compiled without `--threat-list`, the lists they test are none, and they cannot fire.
fn rules_reading_lists_not_given() -> BTreeSet<String> {
    let compiled = compile(&[PackFiles::builtin()]);
    compiled
        .pack
        .rules
        .iter()
        .filter(|rule| {
            rule.preds
                .iter()
                .any(|pred| matches!(&pred.test, Test::Intel { lists, .. } if lists.is_empty()))
        })
        .map(|rule| rule.meta.id.clone())
        .collect()
}

/// The entries of a text list: every line that is not blank or a comment.
fn list_entries(path: &std::path::Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .expect("read list")
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Does a list entry (an IPv4 address, an IPv4 network, a domain) cover `value`?
fn entry_covers(entry: &str, value: &str) -> bool {
    use std::net::Ipv4Addr;
    if let Ok(ip) = value.parse::<Ipv4Addr>() {
        let (net, bits) = entry.split_once('/').unwrap_or((entry, "32"));
        let (Ok(net), Ok(bits)) = (net.parse::<Ipv4Addr>(), bits.parse::<u32>()) else {
            return false;
        };
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        return u32::from(ip) & mask == u32::from(net) & mask;
    }
    let value = value.trim_end_matches('.').to_ascii_lowercase();
    value == entry || value.ends_with(&format!(".{entry}"))
}

/// The remote address of a finding's action (`remoteIpDetails`), if it has one.
fn remote_ip(finding: &Value) -> Option<String> {
    let action = finding["service"]["action"].as_object()?;
    action.values().find_map(|detail| {
        detail["remoteIpDetails"]["ipAddressV4"]
            .as_str()
            .map(str::to_string)
    })
}

/// How many findings each rule raised.
fn per_rule<'a>(found: impl IntoIterator<Item = &'a Value>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in found {
        *counts
            .entry(f["rule"]["id"].as_str().expect("rule id").to_string())
            .or_insert(0) += 1;
    }
    counts
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
    // cannot fire on them, whatever they contain, so it is not expected to. Nor can a
    // rule on the user's own threat lists when none is given (see
    // `scanning_the_samples_with_threat_and_trusted_lists`).
    let need_history = rules_needing_more_history_than_the_samples();
    let need_lists = rules_reading_lists_not_given();
    let all = builtin_rule_ids();
    assert!(
        need_history.is_subset(&all),
        "{need_history:?} are not built-in rules"
    );
    assert!(
        need_lists.is_subset(&all),
        "{need_lists:?} are not built-in rules"
    );
    for id in &need_lists {
        assert!(!fired.contains(id), "{id} fired without a threat list");
    }
    let expected: BTreeSet<String> = all
        .difference(&need_history)
        .filter(|id| !need_lists.contains(*id))
        .cloned()
        .collect();
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
fn scanning_the_samples_with_threat_and_trusted_lists() {
    let samples = repo().join("docs/samples");
    let samples = samples.to_str().expect("path");
    let threat_file = repo().join("docs/examples/threat-list.txt");
    let trusted_file = repo().join("docs/examples/trusted-list.txt");
    let (code, plain) = picket(&["scan", samples, "--format", "jsonl"]);
    assert_eq!(code, 0);
    let plain = findings(&plain);
    let (code, out) = picket(&[
        "scan",
        samples,
        "--threat-list",
        threat_file.to_str().expect("path"),
        "--trusted-list",
        trusted_file.to_str().expect("path"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let found = findings(&out);

    // Every rule on the user's threat lists fires, and says which entry of which list
    // it matched.
    let threat_rules = rules_reading_lists_not_given();
    assert_eq!(threat_rules.len(), 5, "{threat_rules:?}");
    let threats = list_entries(&threat_file);
    let on_threats: Vec<&Value> = found
        .iter()
        .filter(|f| threat_rules.contains(f["rule"]["id"].as_str().expect("rule id")))
        .collect();
    let fired: BTreeSet<String> = per_rule(on_threats.iter().copied()).into_keys().collect();
    assert_eq!(fired, threat_rules);
    for f in &on_threats {
        let details = f["service"]["evidence"]["threatIntelligenceDetails"]
            .as_array()
            .unwrap_or_else(|| panic!("no threatIntelligenceDetails: {f}"));
        let names: Vec<&str> = details
            .iter()
            .filter(|d| d["threatListName"] == "threat-list")
            .flat_map(|d| d["threatNames"].as_array().expect("threatNames"))
            .map(|n| n.as_str().expect("threat name"))
            .collect();
        assert!(!names.is_empty(), "the threat list is not named: {f}");
        let matched = remote_ip(f).or_else(|| {
            f["service"]["action"]["dnsRequestAction"]["domain"]
                .as_str()
                .map(str::to_string)
        });
        let matched = matched.unwrap_or_else(|| panic!("no address or domain: {f}"));
        for name in names {
            assert!(threats.contains(name), "{name} is not on the list: {f}");
            assert!(
                entry_covers(name, &matched),
                "{name} does not cover {matched}"
            );
        }
    }

    // The trusted address's finding is archived, marked with the list and the entry.
    let trusted = list_entries(&trusted_file);
    let archived: Vec<&Value> = found
        .iter()
        .filter(|f| f["service"]["archived"] == true)
        .collect();
    assert_eq!(archived.len(), 1, "{archived:?}");
    for f in &archived {
        let ip = remote_ip(f).expect("remote address");
        let info = &f["service"]["additionalInfo"];
        assert_eq!(info["suppressedBy"], "trusted list trusted-list", "{f}");
        assert_eq!(info["trustedBy"]["list"], "trusted-list", "{f}");
        assert_eq!(info["trustedBy"]["ip"], ip.as_str(), "{f}");
        let entry = info["trustedBy"]["entry"].as_str().expect("entry");
        assert!(trusted.contains(entry), "{entry} is not on the list");
        assert!(entry_covers(entry, &ip), "{entry} does not cover {ip}");
    }
    for f in found.iter().filter(|f| f["service"]["archived"] == false) {
        let ip = remote_ip(f);
        assert!(
            ip.is_none_or(|ip| !trusted.iter().any(|e| entry_covers(e, &ip))),
            "a finding about a trusted address is not archived: {f}"
        );
        assert!(
            f["service"]["additionalInfo"].get("trustedBy").is_none(),
            "{f}"
        );
    }

    // Everything else is what the scan finds without the lists.
    let others = per_rule(
        found
            .iter()
            .filter(|f| !threat_rules.contains(f["rule"]["id"].as_str().expect("rule id"))),
    );
    assert_eq!(others, per_rule(&plain));
    assert!(plain.iter().all(|f| f["service"]["archived"] == false));
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
