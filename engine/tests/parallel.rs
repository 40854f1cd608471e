//! `picket scan --threads N` gives what `--threads 1` (reading and matching in order on
//! one thread) gives: the same findings byte for byte, the same input errors in the
//! same order, the same summary; on the samples, on one big CloudTrail file, and on
//! JSON lines and flow logs with bad records in the middle, each several batches long.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Standard output and standard error of `picket scan PATH --threads N`, with the
/// summary's timing taken out.
fn scan(path: &Path, threads: usize) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["scan", "--format", "jsonl", "--threads"])
        .arg(threads.to_string())
        .arg(path)
        .current_dir(repo())
        .output()
        .expect("picket runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    let stderr = stderr
        .lines()
        .map(|l| match l.find(" rules in ") {
            Some(i) if l.starts_with("Scanned ") => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    (stdout, stderr)
}

fn same_with_threads(path: &Path) -> (String, String) {
    let one = scan(path, 1);
    for threads in [2, 4] {
        let many = scan(path, threads);
        assert_eq!(many.1, one.1, "standard error, --threads {threads}");
        assert!(many.0 == one.0, "findings differ with --threads {threads}");
    }
    one
}

/// The CloudTrail records of the samples.
fn sample_records() -> Vec<Value> {
    let mut records = Vec::new();
    let mut stack = vec![repo().join("docs/samples/cloudtrail")];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().contains("_CloudTrail_") {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let mut text = String::new();
        MultiGzDecoder::new(std::fs::File::open(path).expect("open"))
            .read_to_string(&mut text)
            .expect("gunzip");
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        records.extend(doc["Records"].as_array().expect("Records").iter().cloned());
    }
    assert!(records.len() > 1000);
    records
}

#[test]
fn samples_give_the_same_with_any_thread_count() {
    let (out, err) = same_with_threads(&repo().join("docs/samples"));
    assert!(out.lines().count() >= 26);
    assert!(err.contains("1 CloudTrail digest"), "{err}");
}

#[test]
fn big_inputs_with_bad_records_give_the_same_with_any_thread_count() {
    let records = sample_records();
    let dir = tempfile::tempdir().expect("tempdir");

    // One pretty-printed Records document of several batches (about 5 MB).
    let mut doc = String::from("{\"Records\": [\n");
    let mut n = 0;
    while doc.len() < 5_000_000 {
        for r in &records {
            if n > 0 {
                doc.push_str(",\n");
            }
            doc.push_str(&serde_json::to_string_pretty(r).expect("JSON"));
            n += 1;
        }
    }
    doc.push_str("\n]}\n");
    std::fs::write(dir.path().join("a-trail.json"), &doc).expect("write");

    // The same gzipped, cut short: the records before the cut stand.
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(doc.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    std::fs::write(dir.path().join("b-trail.json.gz"), &gz[..gz.len() * 2 / 3]).expect("write");

    // JSON lines with malformed, unrecognized and too deep records in the middle.
    let audit = std::fs::read_to_string(
        repo().join("docs/samples/eks/prod-cluster-audit-2026-11-20.jsonl"),
    )
    .expect("audit sample");
    let mut lines = String::new();
    let mut i = 0;
    while lines.len() < 3_000_000 {
        for (r, a) in records.iter().zip(audit.lines().cycle()) {
            lines.push_str(&serde_json::to_string(r).expect("JSON"));
            lines.push('\n');
            lines.push_str(a);
            lines.push('\n');
            i += 1;
            match i % 997 {
                100 => lines.push_str("{\"eventVersion\": \"1.08\", broken\n"),
                300 => lines.push_str("{\"name\": \"not a log record\"}\n"),
                500 => {
                    lines.push_str(&"[".repeat(200));
                    lines.push_str(&"]".repeat(200));
                    lines.push('\n');
                }
                _ => {}
            }
        }
    }
    std::fs::write(dir.path().join("c-mixed.jsonl"), &lines).expect("write");

    // Flow logs with a header naming custom fields, and bad lines, in several batches:
    // the header's format holds in every batch.
    let flow_dir =
        repo().join("docs/samples/vpcflow/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20");
    let flow_file = std::fs::read_dir(flow_dir)
        .expect("flow samples")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".log.gz"))
        .expect("a flow sample");
    let mut flow_text = String::new();
    MultiGzDecoder::new(std::fs::File::open(flow_file).expect("open"))
        .read_to_string(&mut flow_text)
        .expect("gunzip");
    let (header, body) = flow_text.split_once('\n').expect("a header line");
    assert!(header.starts_with("version "));
    let mut flows = format!("{header}\n");
    let mut k = 0;
    while flows.len() < 2_500_000 {
        for l in body.lines() {
            flows.push_str(l);
            flows.push('\n');
            k += 1;
            if k % 1999 == 0 {
                flows.push_str("2 111122223333 eni-0a1b2c3d garbage\n");
            }
        }
    }
    std::fs::write(dir.path().join("d-flows.log"), &flows).expect("write");

    // A file of errors only, then one unrecognized: skipped after its errors.
    let mut junk = String::new();
    while junk.len() < 1_500_000 {
        junk.push_str("{\"eventVersion\": \"1.08\", \"eventName\": \"ListUsers\", \"oops\" }\n");
    }
    junk.push_str("just some text\n");
    junk.push_str(&serde_json::to_string(&records[0]).expect("JSON"));
    junk.push('\n');
    std::fs::write(dir.path().join("e-junk.jsonl"), &junk).expect("write");

    let (out, err) = same_with_threads(dir.path());
    assert!(out.lines().count() >= 10, "{out}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert!(errors.len() > 10, "{err}");
    assert!(err.contains("c-mixed.jsonl:"), "{err}");
    assert!(err.contains("gzip stream is truncated"), "{err}");
    assert!(
        err.contains("d-flows.log:2001: expected 29 fields (format from the header at line 1)"),
        "{err}"
    );
    assert!(
        err.contains("e-junk.jsonl: unrecognized content: first line `just some text`"),
        "{err}"
    );
}
