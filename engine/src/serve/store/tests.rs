//! The store keeps what a commit wrote, all of it or nothing, aggregates findings as
//! GuardDuty does, and filters them.

use super::*;
use serde_json::json;

fn finding(id: &str, ty: &str, severity: f64, account: &str, last: &str) -> Value {
    json!({
        "id": id, "type": ty, "severity": severity, "accountId": account,
        "region": "us-east-1", "createdAt": last, "updatedAt": last,
        "rule": {"id": "account.test", "version": 1},
        "service": {
            "archived": false, "count": 1,
            "eventFirstSeen": last, "eventLastSeen": last,
            "evidence": {"events": [{"id": format!("{id}-{last}")}]}
        }
    })
}

fn store() -> (tempfile::TempDir, FindingStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FindingStore::open(&dir.path().join("sub").join("f.db")).expect("open");
    (dir, store)
}

#[test]
fn merging_counts_widens_times_caps_evidence_and_keeps_the_archive_state() {
    let mut stored = finding("a", "T", 5.0, "1", "2026-11-20T10:00:00.000Z");
    stored["service"]["archived"] = json!(true);
    stored["service"]["evidence"]["threatIntelligenceDetails"] =
        json!([{"threatListName": "tor", "threatNames": ["198.51.100.1"]}]);
    let mut newer = finding("a", "T", 5.0, "1", "2026-11-20T11:00:00.000Z");
    newer["service"]["count"] = json!(12);
    newer["service"]["eventFirstSeen"] = json!("2026-11-20T09:00:00.000Z");
    newer["createdAt"] = json!("2026-11-20T11:00:00.000Z");
    newer["service"]["evidence"]["events"] =
        json!((0..12).map(|i| json!({"id": i})).collect::<Vec<_>>());
    newer["service"]["evidence"]["threatIntelligenceDetails"] = json!([
        {"threatListName": "tor", "threatNames": ["198.51.100.2"]},
        {"threatListName": "custom", "threatNames": ["bad.example"]}
    ]);
    merge_finding(&mut stored, &newer);
    let s = &stored["service"];
    assert_eq!(s["count"], 13);
    assert_eq!(s["eventFirstSeen"], "2026-11-20T09:00:00.000Z");
    assert_eq!(s["eventLastSeen"], "2026-11-20T11:00:00.000Z");
    assert_eq!(stored["updatedAt"], "2026-11-20T11:00:00.000Z");
    assert_eq!(stored["createdAt"], "2026-11-20T10:00:00.000Z");
    assert_eq!(s["archived"], true, "a person's archive stays");
    let events = s["evidence"]["events"].as_array().expect("events");
    assert_eq!(events.len(), MAX_EVIDENCE_EVENTS);
    assert_eq!(
        events[0]["id"], "a-2026-11-20T10:00:00.000Z",
        "the first event first"
    );
    assert_eq!(events[1]["id"], 0);
    let intel = s["evidence"]["threatIntelligenceDetails"].to_string();
    assert!(intel.contains("198.51.100.1") && intel.contains("198.51.100.2"));
    assert!(intel.contains("bad.example"));
}

#[test]
fn a_commit_stores_findings_and_positions_together_or_neither() {
    let (dir, mut store) = store();
    let path = store.path().to_path_buf();
    let first = store
        .commit(
            &[finding("a", "T", 5.0, "1", "2026-11-20T10:00:00.000Z")],
            &[("dir:logs:a.jsonl".into(), "{\"offset\":10}".into())],
        )
        .expect("commit");
    assert!(first[0].new);
    let bad = store.commit(
        &[
            finding("a", "T", 5.0, "1", "2026-11-20T11:00:00.000Z"),
            json!({"type": "no id"}),
        ],
        &[("dir:logs:a.jsonl".into(), "{\"offset\":99}".into())],
    );
    assert!(bad.is_err());
    assert_eq!(
        store.checkpoint("dir:logs:a.jsonl").expect("read"),
        Some("{\"offset\":10}".to_string()),
        "the failed commit left the position"
    );
    let all = store.list(&Filter::default()).expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["service"]["count"], 1, "and the finding");
    let second = store
        .commit(
            &[finding("a", "T", 5.0, "1", "2026-11-20T11:00:00.000Z")],
            &[("dir:logs:a.jsonl".into(), "{\"offset\":20}".into())],
        )
        .expect("commit");
    assert!(!second[0].new);
    assert_eq!(second[0].finding["service"]["count"], 2);
    drop(store);
    // Reopened: persisted, in WAL mode, readable by a second connection.
    let reopened = FindingStore::open(&path).expect("reopen");
    let reader = FindingStore::open_existing(&path).expect("second connection");
    assert_eq!(reader.count(&Filter::default()).expect("count"), 1);
    assert_eq!(
        reopened.checkpoints().expect("checkpoints"),
        vec![(
            "dir:logs:a.jsonl".to_string(),
            "{\"offset\":20}".to_string()
        )]
    );
    let mode: String = reopened
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
    drop(dir);
}

#[test]
fn filters_select_by_severity_type_account_time_rule_and_archive() {
    let (_dir, mut store) = store();
    store
        .commit(
            &[
                finding(
                    "low",
                    "Recon:IAMUser/A",
                    2.0,
                    "111",
                    "2026-11-20T10:00:00.000Z",
                ),
                finding("med", "Recon:EC2/B", 5.0, "222", "2026-11-21T10:00:00.000Z"),
                finding(
                    "high",
                    "UnauthorizedAccess:EC2/C",
                    8.0,
                    "111",
                    "2026-11-22T10:00:00.000Z",
                ),
            ],
            &[],
        )
        .expect("commit");
    store
        .set_archived(&["med".to_string()], true)
        .expect("archive");
    let ids = |f: Filter| -> Vec<String> {
        let mut v: Vec<String> = store
            .list(&f)
            .expect("list")
            .iter()
            .map(|x| x["id"].as_str().unwrap_or("").to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(Filter {
            min_severity: Some(4.0),
            ..Filter::default()
        }),
        ["high", "med"]
    );
    assert_eq!(
        ids(Filter {
            types: vec!["Recon:*".into()],
            ..Filter::default()
        }),
        ["low", "med"]
    );
    assert_eq!(
        ids(Filter {
            types: vec!["Recon:EC2/B".into()],
            ..Filter::default()
        }),
        ["med"]
    );
    assert_eq!(
        ids(Filter {
            accounts: vec!["111".into()],
            ..Filter::default()
        }),
        ["high", "low"]
    );
    assert_eq!(
        ids(Filter {
            since: Some("2026-11-21T00:00:00Z".into()),
            until: Some("2026-11-21T23:59:59Z".into()),
            ..Filter::default()
        }),
        ["med"]
    );
    assert_eq!(
        ids(Filter {
            archived: Some(false),
            ..Filter::default()
        }),
        ["high", "low"]
    );
    assert_eq!(
        ids(Filter {
            archived: Some(true),
            ..Filter::default()
        }),
        ["med"]
    );
    assert_eq!(
        ids(Filter {
            rule: Some("account.other".into()),
            ..Filter::default()
        }),
        Vec::<String>::new()
    );
    // Newest first, limited.
    let newest = store
        .list(&Filter {
            limit: Some(1),
            ..Filter::default()
        })
        .expect("list");
    assert_eq!(newest[0]["id"], "high");
    // Archiving changes the stored JSON too, and only what changes is counted.
    assert_eq!(
        store.get("med").expect("get").expect("found")["service"]["archived"],
        true
    );
    assert_eq!(
        store
            .set_archived(&["med".into(), "nope".into()], true)
            .expect("again"),
        0
    );
}

#[test]
fn ids_resolve_by_unique_prefix() {
    let (_dir, mut store) = store();
    store
        .commit(
            &[
                finding("abcdef0001", "T", 1.0, "1", "2026-11-20T10:00:00.000Z"),
                finding("abcdef0002", "T", 1.0, "1", "2026-11-20T10:00:00.000Z"),
            ],
            &[],
        )
        .expect("commit");
    assert!(store.get("abcdef0001").expect("get").is_some());
    assert!(store.get("abcdef00").is_err(), "ambiguous");
    assert!(store.get("abcdef000").is_err(), "ambiguous");
    assert_eq!(
        store.resolve("abcdef0002").expect("resolve"),
        ["abcdef0002"]
    );
    assert!(store.get("abc").expect("too short").is_none());
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.db");
    std::fs::write(
        &path,
        "this is not sqlite, but it is long enough to have a header......",
    )
    .expect("write");
    let e = FindingStore::open(&path).err().expect("an error");
    assert!(e.to_string().contains("x.db"), "{e}");
    assert!(e.to_string().contains("not a SQLite database"), "{e}");
    let missing = FindingStore::open_existing(&dir.path().join("none.db"))
        .err()
        .expect("an error");
    assert!(missing.to_string().contains("no such file"), "{missing}");
}

#[test]
fn a_second_writer_waits_for_the_first() {
    let (_dir, mut store) = store();
    store
        .commit(
            &[finding("a", "T", 5.0, "1", "2026-11-20T10:00:00.000Z")],
            &[],
        )
        .expect("commit");
    let path = store.path().to_path_buf();
    // The first writer holds the write lock for a moment.
    let holder = std::thread::spawn(move || {
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("BEGIN IMMEDIATE; UPDATE findings SET count = count WHERE id = 'a';")
            .expect("lock");
        std::thread::sleep(std::time::Duration::from_millis(300));
        conn.execute_batch("COMMIT;").expect("commit");
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let started = std::time::Instant::now();
    let changed = store
        .set_archived(&["a".to_string()], true)
        .expect("waits, then archives");
    assert_eq!(changed, 1);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    holder.join().expect("holder");
}

#[test]
fn an_archive_by_another_process_survives_updates_of_a_remembered_finding() {
    let (_dir, mut store) = store();
    let f = finding("a", "T", 5.0, "1", "2026-11-20T10:00:00.000Z");
    store.commit(std::slice::from_ref(&f), &[]).expect("commit");
    let mut cli = FindingStore::open_existing(store.path()).expect("second connection");
    assert_eq!(
        cli.set_archived(&["a".to_string()], true).expect("archive"),
        1
    );
    let later = finding("a", "T", 5.0, "1", "2026-11-20T12:00:00.000Z");
    let u = store.commit(&[later], &[]).expect("update");
    assert_eq!(u[0].finding["service"]["archived"], true);
    assert_eq!(u[0].finding["service"]["count"], 2);
    let stored = cli.get("a").expect("get").expect("found");
    assert_eq!(stored["service"]["archived"], true);
    assert_eq!(
        stored["service"]["eventLastSeen"],
        "2026-11-20T12:00:00.000Z"
    );
    // A failed commit forgets what it held in memory rather than keep a half state.
    assert!(store
        .commit(
            &[
                finding("a", "T", 5.0, "1", "2026-11-20T13:00:00.000Z"),
                json!({})
            ],
            &[]
        )
        .is_err());
    let u = store
        .commit(
            &[finding("a", "T", 5.0, "1", "2026-11-20T14:00:00.000Z")],
            &[],
        )
        .expect("update");
    assert_eq!(
        u[0].finding["service"]["count"], 3,
        "the failed commit added nothing"
    );
}

/// The JSON column of a finding, as written (before the columns are put back in).
fn raw_json(store: &FindingStore, id: &str) -> Value {
    let text: String = store
        .conn
        .query_row("SELECT finding FROM findings WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("row");
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn an_update_with_full_evidence_writes_its_columns_and_reads_whole() {
    let (_dir, mut store) = store();
    let path = store.path().to_path_buf();
    let mut first = finding("a", "T", 5.0, "1", "2026-11-20T10:00:00.000Z");
    first["service"]["evidence"]["events"] = json!((0..MAX_EVIDENCE_EVENTS)
        .map(|i| json!({"id": i}))
        .collect::<Vec<_>>());
    first["service"]["count"] = json!(MAX_EVIDENCE_EVENTS);
    store.commit(&[first], &[]).expect("commit");
    let written = raw_json(&store, "a");

    // Evidence full, no new intelligence: the JSON stays as written, the columns move.
    let update = finding("a", "T", 5.0, "1", "2026-11-20T11:00:00.000Z");
    let out = store.commit(&[update], &[]).expect("update");
    assert_eq!(out[0].finding["service"]["count"], 11);
    assert_eq!(raw_json(&store, "a"), written, "the JSON was not rewritten");
    let read = store.get("a").expect("get").expect("found");
    assert_eq!(read, *out[0].finding, "a read gives the finding as updated");
    assert_eq!(read["service"]["eventLastSeen"], "2026-11-20T11:00:00.000Z");
    assert_eq!(read["updatedAt"], "2026-11-20T11:00:00.000Z");
    assert_eq!(store.list(&Filter::default()).expect("list")[0], read);

    // A store opened afresh (nothing remembered) reads the columns back before merging.
    drop(store);
    let mut store = FindingStore::open(&path).expect("reopen");
    let out = store
        .commit(
            &[finding("a", "T", 5.0, "1", "2026-11-20T12:00:00.000Z")],
            &[],
        )
        .expect("update after reopening");
    assert_eq!(out[0].finding["service"]["count"], 12);
    assert_eq!(
        out[0].finding["service"]["eventFirstSeen"],
        "2026-11-20T10:00:00.000Z"
    );
    assert_eq!(
        store.get("a").expect("get").expect("found"),
        *out[0].finding
    );

    // New threat intelligence changes the JSON: it is written again, columns and all.
    let mut intel = finding("a", "T", 5.0, "1", "2026-11-20T13:00:00.000Z");
    intel["service"]["evidence"]["threatIntelligenceDetails"] =
        json!([{"threatListName": "tor", "threatNames": ["198.51.100.7"]}]);
    let out = store.commit(&[intel], &[]).expect("update with intel");
    let raw = raw_json(&store, "a");
    assert_eq!(raw["service"]["count"], 13);
    assert!(raw.to_string().contains("198.51.100.7"));
    assert_eq!(
        store.get("a").expect("get").expect("found"),
        *out[0].finding
    );
}

#[test]
fn a_store_of_schema_1_reads_and_is_marked_2_when_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.db");
    {
        let mut store = FindingStore::open(&path).expect("open");
        store
            .commit(
                &[finding("a", "T", 5.0, "1", "2026-11-20T10:00:00.000Z")],
                &[],
            )
            .expect("commit");
        store
            .conn
            .execute_batch("PRAGMA user_version=1;")
            .expect("mark as schema 1");
    }
    let reader = FindingStore::open_existing(&path).expect("a schema 1 store opens");
    let version = |s: &FindingStore| -> i64 {
        s.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version")
    };
    assert_eq!(version(&reader), 1, "reading does not change it");
    assert_eq!(reader.list(&Filter::default()).expect("list").len(), 1);
    let served = FindingStore::open(&path).expect("open to serve");
    assert_eq!(version(&served), SCHEMA_VERSION);
}

/// The serving store's commits land in the log; a thread of its own copies them into
/// the database file while the store stays open (the writer never checkpoints).
#[test]
fn the_log_is_copied_into_the_database_file_while_the_store_is_open() {
    let (_dir, mut store) = store();
    let path = store.path().to_path_buf();
    let file_len = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = file_len();
    let findings: Vec<Value> = (0..200)
        .map(|i| finding(&format!("f{i}"), "T", 5.0, "1", "2026-11-20T10:00:00.000Z"))
        .collect();
    store.commit(&findings, &[]).expect("commit");
    let autocheckpoint: i64 = store
        .conn
        .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(
        autocheckpoint, 0,
        "the writer leaves checkpoints to the thread"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_len() <= before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        file_len() > before,
        "the database file grew from {before} bytes"
    );
    let reader = FindingStore::open_existing(store.path()).expect("second connection");
    assert_eq!(reader.list(&Filter::default()).expect("list").len(), 200);
}
