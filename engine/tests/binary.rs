//! Smoke tests of the real `picket` binary: exit codes, and what goes to standard error
//! (rule diagnostics with file:line:col, input errors as file:line: reason), which the
//! in-process tests of the `tests` crate cannot see.

use std::path::{Path, PathBuf};
use std::process::Command;

fn picket() -> Command {
    Command::new(env!("CARGO_BIN_EXE_picket"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn scan_of_the_samples_prints_findings_and_a_summary() {
    let out = picket()
        .args(["scan", "docs/samples", "--format", "jsonl"])
        .current_dir(repo())
        .output()
        .expect("picket runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.lines().count() >= 26, "{stdout}");
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a finding per line");
        assert!(v["type"].is_string() && v["rule"]["id"].is_string());
    }
    assert!(stderr.contains("Scanned "), "{stderr}");
    assert!(stderr.contains("events by source: cloudtrail "), "{stderr}");
    assert!(stderr.contains("parse errors: 0"), "{stderr}");
    assert!(stderr.contains("1 CloudTrail digest"), "{stderr}");
}

#[test]
fn bad_input_is_reported_with_file_and_line_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flow = dir.path().join("flows.log");
    std::fs::write(
        &flow,
        "2 111122223333 eni-0a1b2c3d 10.0.1.5 198.51.100.7 49152 3333 6 10 840 1700000000 1700000060 ACCEPT OK\n\
         2 111122223333 eni-0a1b2c3d garbage\n\
         2 111122223333 eni-0a1b2c3d 10.0.1.5 198.51.100.7 49153 3333 6 10 840 1700000000 1700000060 ACCEPT OK\n",
    )
    .expect("write");
    let out = picket()
        .args(["scan", "--format", "jsonl"])
        .arg(&flow)
        .output()
        .expect("picket runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:2:", flow.display());
    assert!(stderr.contains(&want), "expected `{want}` in:\n{stderr}");
    assert!(stderr.contains("parse errors: 1"), "{stderr}");
    assert!(stderr.contains("vpcflow 2"), "{stderr}");
}

#[test]
fn a_broken_rule_is_reported_at_its_position_and_the_others_still_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("account")).expect("mkdir");
    std::fs::write(
        dir.path().join("account/typo.yaml"),
        "id: account.typo\ntype: Policy:IAMUser/RootCredentialUsage\ntitle: t\nseverity: low\n\
         source: cloudtrail\ncategory: account\ndescription: d\nwhen: |\n  api.operation == \"ConsoleLogin\"\n  and actor.tpye == \"Root\"\n",
    )
    .expect("write");
    let out = picket()
        .args(["scan", "docs/samples", "--format", "jsonl", "--rules"])
        .arg(dir.path())
        .current_dir(repo())
        .output()
        .expect("picket runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[C101]: unknown field `actor.tpye`"),
        "{stderr}"
    );
    assert!(stderr.contains("account/typo.yaml:10:7"), "{stderr}");
    assert!(stderr.contains("did you mean `actor.type`?"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).is_empty(),
        "built-in rules still ran"
    );
}

#[test]
fn deeply_nested_rule_yaml_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("account")).expect("mkdir");
    let deep = format!(
        "id: account.deep\nwhen: {}{}\n",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    std::fs::write(dir.path().join("account/deep.yaml"), deep).expect("write");
    let out = picket()
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("picket runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[R201]"));
}

#[test]
fn unknown_arguments_exit_with_usage_error() {
    let out = picket()
        .args(["scan", "--format", "xml", "x"])
        .output()
        .expect("picket runs");
    assert_eq!(out.status.code(), Some(2));
    let out = picket()
        .args(["scan", "--source", "cloudtrial", "x"])
        .output()
        .expect("picket runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown source `cloudtrial`"));
}

#[test]
fn profile_lists_rule_costs_without_changing_findings() {
    let run = |extra: &[&str]| {
        picket()
            .args(["scan", "docs/samples", "--format", "jsonl"])
            .args(extra)
            .current_dir(repo())
            .output()
            .expect("picket runs")
    };
    let plain = run(&[]);
    let profiled = run(&["--profile"]);
    assert!(plain.status.success() && profiled.status.success());
    assert_eq!(plain.stdout, profiled.stdout);
    // The profile covers every event the scan read (the summary writes thousands with
    // commas, the profile without).
    let plain_stderr = String::from_utf8_lossy(&plain.stderr);
    let events: String = plain_stderr
        .split(" events with ")
        .next()
        .and_then(|head| head.rsplit(", ").next())
        .expect("the summary counts events")
        .replace(',', "");
    let stderr = String::from_utf8_lossy(&profiled.stderr);
    assert!(
        stderr.contains(&format!("Rule profile: {events} events")),
        "{events} events: {stderr}"
    );
    assert!(
        stderr.contains("instance.mining-pool-port-contacted"),
        "{stderr}"
    );
    assert!(stderr.contains("dispatch cloudtrail:"), "{stderr}");
}
