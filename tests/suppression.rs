//! Suppression files: the rendered error of every broken case under
//! `tests/suppressions/` (one snapshot per file), the sample file, and `picket scan
//! --suppress` end to end over the bundled samples.

use std::collections::BTreeMap;
use std::ffi::OsString;

use picket::finding::suppress::field_names;
use picket::finding::Suppressions;
use picket_tests::{picket, repo};
use serde_json::Value;

#[test]
fn suppression_file_errors() {
    insta::glob!("suppressions/*.yaml", |path| {
        let text = std::fs::read_to_string(path).expect("case file is readable");
        let name = format!(
            "tests/suppressions/{}",
            path.file_name().expect("named file").to_string_lossy()
        );
        let err = Suppressions::parse(&name, &text).expect_err("every case is broken");
        let rendered: Vec<String> = err.diagnostics().iter().map(|d| d.render(false)).collect();
        assert!(!rendered.is_empty(), "case {name} produced no diagnostic");
        insta::assert_snapshot!(rendered.join("\n"));
    });
}

#[test]
fn the_sample_suppression_file_is_valid() {
    let path = repo().join("docs/examples/suppressions.yaml");
    let suppressions = match Suppressions::load(&path) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render(false)),
    };
    let names: Vec<&str> = suppressions.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "approved-pentest-parrot",
            "root-break-glass-window",
            "public-website-bucket",
            "sandbox-low-severity",
            "monitoring-agents-host-mounts",
        ]
    );
    assert!(suppressions.iter().take(2).all(|s| s.reason().is_some()));
}

#[test]
fn the_docs_name_every_field() {
    let doc = std::fs::read_to_string(repo().join("docs/suppression.md")).expect("docs page");
    let missing: Vec<&str> = field_names()
        .filter(|f| !doc.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/suppression.md does not list {missing:?}"
    );
}

fn findings(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("one finding per line"))
        .collect()
}

/// A finding without what a suppression adds.
fn unsuppressed(mut finding: Value) -> Value {
    finding["service"]["archived"] = Value::Bool(false);
    if let Some(info) = finding["service"]["additionalInfo"].as_object_mut() {
        info.remove("suppressedBy");
    }
    finding
}

#[test]
fn scan_archives_what_the_sample_suppressions_match_and_keeps_everything() {
    let samples = repo().join("docs/samples");
    let samples = samples.to_str().expect("path");
    let file = repo().join("docs/examples/suppressions.yaml");
    let file = file.to_str().expect("path");
    let (code, out) = picket(&[
        "scan",
        samples,
        "--format",
        "jsonl",
        "--suppress",
        file,
        "--no-progress",
    ]);
    assert_eq!(code, 0, "{out}");
    let found = findings(&out);
    let archived: BTreeMap<&str, &str> = found
        .iter()
        .filter(|f| f["service"]["archived"] == true)
        .map(|f| {
            (
                f["rule"]["id"].as_str().expect("rule id"),
                f["service"]["additionalInfo"]["suppressedBy"]
                    .as_str()
                    .expect("suppressedBy"),
            )
        })
        .collect();
    assert_eq!(
        archived,
        BTreeMap::from([
            ("account.root-console-login", "root-break-glass-window"),
            ("account.root-credentials-used", "root-break-glass-window"),
            ("bucket.parrot-linux-s3-request", "approved-pentest-parrot"),
            ("recon.parrot-linux-api-call", "approved-pentest-parrot"),
        ])
    );
    for f in found.iter().filter(|f| f["service"]["archived"] == false) {
        assert!(
            f["service"]["additionalInfo"].get("suppressedBy").is_none(),
            "{f}"
        );
    }
    // Nothing is dropped: the same findings as without suppressions, in the same order.
    let (code, plain) = picket(&["scan", samples, "--format", "jsonl", "--no-progress"]);
    assert_eq!(code, 0);
    let plain = findings(&plain);
    assert!(plain.iter().all(|f| f["service"]["archived"] == false));
    let stripped: Vec<Value> = found.into_iter().map(unsuppressed).collect();
    assert_eq!(stripped, plain);

    // The table marks the archived findings and the summary counts them.
    let (code, table) = picket(&[
        "scan",
        samples,
        "--format",
        "table",
        "--suppress",
        file,
        "--no-progress",
    ]);
    assert_eq!(code, 0);
    assert_eq!(table.matches(" (archived)").count(), 4, "{table}");
    let summary = table
        .lines()
        .find(|l| l.starts_with("Findings: "))
        .expect("summary line");
    assert!(
        summary.starts_with(&format!("Findings: {} (", plain.len())),
        "{summary}"
    );
    assert!(summary.ends_with("), archived: 4"), "{summary}");
    let (_, table) = picket(&["scan", samples, "--format", "table", "--no-progress"]);
    assert!(!table.contains("archived"), "{table}");
}

/// Runs `picket ARGS…` in-process and returns the error it stops with.
fn picket_error(args: &[&str]) -> String {
    let mut argv: Vec<OsString> = vec!["picket".into()];
    argv.extend(args.iter().map(OsString::from));
    let mut out = Vec::new();
    let err = match picket::cli::run(argv, &mut out) {
        Ok(code) => panic!("picket succeeded with exit code {code}"),
        Err(err) => format!("{err:#}"),
    };
    assert!(out.is_empty(), "nothing is scanned nor printed");
    err
}

#[test]
fn scan_stops_before_scanning_on_a_broken_suppression_file() {
    let samples = repo().join("docs/samples");
    let samples = samples.to_str().expect("path");
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "suppressions:\n  - name: typo\n    criteria:\n      acountId: \"111122223333\"\n",
    )
    .expect("write");
    let broken = broken.to_str().expect("path");
    let err = picket_error(&["scan", samples, "--suppress", broken, "--no-progress"]);
    assert!(
        err.starts_with(&format!("1 error in suppression file {broken}\n")),
        "{err}"
    );
    assert!(
        err.contains("error[R305]: unknown criterion field `acountId`"),
        "{err}"
    );
    assert!(err.contains(&format!("--> {broken}:4:7")), "{err}");
    assert!(err.contains("help: did you mean `accountId`?"), "{err}");

    // The same name in two files.
    let sample = repo().join("docs/examples/suppressions.yaml");
    let sample = sample.to_str().expect("path");
    let err = picket_error(&[
        "scan",
        samples,
        "--suppress",
        sample,
        "--suppress",
        sample,
        "--no-progress",
    ]);
    assert!(err.starts_with("5 errors in suppression file"), "{err}");
    assert!(err.contains("error[R310]: duplicate suppression name `approved-pentest-parrot`"));

    // A file that cannot be read.
    let missing = dir.path().join("missing.yaml");
    let missing = missing.to_str().expect("path");
    let err = picket_error(&["scan", samples, "--suppress", missing, "--no-progress"]);
    assert!(
        err.starts_with(&format!("cannot read suppression file {missing}: ")),
        "{err}"
    );
}
