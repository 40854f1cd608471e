//! `picket findings` over a store filled with the sample day's findings: filters, the
//! table, show by id prefix, archive and unarchive, and finding the store through the
//! serve configuration.

use picket::serve::store::FindingStore;
use picket_tests::{picket, repo};
use serde_json::Value;

/// A store holding the findings of `picket scan docs/samples`.
fn sample_store() -> (tempfile::TempDir, String, Vec<Value>) {
    let samples = repo().join("docs").join("samples");
    let (code, out) = picket(&[
        "scan",
        &samples.display().to_string(),
        "--format",
        "jsonl",
        "--threads",
        "1",
    ]);
    assert_eq!(code, 0);
    let findings: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a finding per line"))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("findings.db");
    let mut store = FindingStore::open(&db).expect("open");
    store.commit(&findings, &[]).expect("commit");
    (dir, db.display().to_string(), findings)
}

fn list(db: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "findings", "list", "--db", db, "--format", "json", "--limit", "1000",
    ];
    args.extend_from_slice(extra);
    let (code, out) = picket(&args);
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).expect("a JSON array")
}

#[test]
fn filters_select_what_they_say() {
    let (_dir, db, all) = sample_store();
    let unarchived = all
        .iter()
        .filter(|f| f["service"]["archived"] == false)
        .count();
    assert_eq!(list(&db, &[]).len(), unarchived);
    assert_eq!(list(&db, &["--all"]).len(), all.len());
    let high = list(&db, &["--severity", "high", "--all"]);
    assert!(!high.is_empty());
    assert!(high
        .iter()
        .all(|f| f["severity"].as_f64().unwrap_or(0.0) >= 7.0));
    assert_eq!(
        high.len(),
        all.iter()
            .filter(|f| f["severity"].as_f64().unwrap_or(0.0) >= 7.0)
            .count()
    );
    let recon = list(&db, &["--type", "Recon:*", "--all"]);
    assert!(!recon.is_empty());
    assert!(recon
        .iter()
        .all(|f| f["type"].as_str().unwrap_or("").starts_with("Recon:")));
    let late = list(&db, &["--since", "2026-11-20T23:00:00Z", "--all"]);
    assert!(late
        .iter()
        .all(|f| f["service"]["eventLastSeen"].as_str().unwrap_or("") >= "2026-11-20T23:00:00"));
    assert!(late.len() < all.len());
    let rule = list(&db, &["--rule", "instance.tor-client", "--all"]);
    assert_eq!(rule.len(), 1);
    let (code, _) = picket(&["findings", "list", "--db", &db, "--severity", "loud"]);
    assert_eq!(code, 2, "a bad severity is a usage error");
}

#[test]
fn show_archive_and_unarchive_by_id_or_prefix() {
    let (_dir, db, all) = sample_store();
    let id = all
        .iter()
        .find(|f| f["service"]["archived"] == false)
        .and_then(|f| f["id"].as_str())
        .expect("an unarchived finding")
        .to_string();
    let (code, out) = picket(&["findings", "show", &id[..10], "--db", &db]);
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(shown["id"], id.as_str());
    let (code, out) = picket(&["findings", "show", &id, "--db", &db, "--format", "table"]);
    assert_eq!(code, 0);
    assert!(out.contains("evidence:") && out.contains(&id), "{out}");
    assert_eq!(
        picket(&["findings", "show", "ffffffffffff", "--db", &db]).0,
        1
    );

    let before = list(&db, &[]).len();
    let (code, out) = picket(&["findings", "archive", &id, "--db", &db]);
    assert_eq!((code, out.trim()), (0, "1 finding(s) archived"));
    assert_eq!(list(&db, &[]).len(), before - 1);
    assert!(list(&db, &["--archived"])
        .iter()
        .any(|f| f["id"] == id.as_str()));
    let (code, out) = picket(&["findings", "archive", &id, "nosuchid", "--db", &db]);
    assert_eq!(code, 1, "an unknown id");
    assert!(out.contains("already were"), "{out}");
    let (code, _) = picket(&["findings", "unarchive", &id, "--db", &db]);
    assert_eq!(code, 0);
    assert_eq!(list(&db, &[]).len(), before);
}

#[test]
fn the_table_shows_severity_type_resource_and_id() {
    let (_dir, db, _) = sample_store();
    let (code, out) = picket(&[
        "findings",
        "list",
        "--db",
        &db,
        "--rule",
        "instance.tor-relay",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn the_store_is_found_through_the_serve_config() {
    let (dir, _db, all) = sample_store();
    let config = dir.path().join("picket.toml");
    std::fs::write(&config, "[store]\npath = \"findings.db\"\n").expect("config");
    let (code, out) = picket(&[
        "findings",
        "list",
        "--config",
        &config.display().to_string(),
        "--all",
        "--format",
        "json",
        "--limit",
        "1000",
    ]);
    assert_eq!(code, 0);
    let listed: Vec<Value> = serde_json::from_str(&out).expect("JSON");
    assert_eq!(listed.len(), all.len());
    let err = picket::cli::run(
        vec!["picket".into(), "findings".into(), "list".into()],
        &mut Vec::new(),
    )
    .expect_err("no store named");
    assert!(err.to_string().contains("--db"), "{err}");
}
