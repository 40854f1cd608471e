//! Reader tests: every framing, and every kind of bad input.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::scan::string_end;
use super::*;
use crate::event::FieldValue;

/// The events of a fixture under `engine/src/event/testdata/`; fails on any error.
pub(crate) fn read_fixture(rel: &str) -> Vec<Event> {
    let path = testdata(rel);
    let (events, errors, stats) = read_all(&path, &ReadOptions::default());
    assert!(errors.is_empty(), "{rel}: {errors:?}");
    assert!(stats.skipped.is_empty(), "{rel}: {:?}", stats.skipped);
    events
}

/// One fixture record and the catalog fields expected of it (`(name, Display)`).
pub(crate) type FieldCase = (&'static str, usize, &'static [(&'static str, &'static str)]);

/// Checks each case's expected field values, and that the cases cover every catalog
/// field that applies to `sources`.
pub(crate) fn check_fields(cases: &[FieldCase], sources: &[Source]) {
    let mut covered = std::collections::BTreeSet::new();
    for (file, index, expected) in cases {
        let events = read_fixture(file);
        let ev = &events[*index];
        assert!(
            sources.contains(&ev.source),
            "{file}[{index}] is {}",
            ev.source
        );
        for (name, want) in *expected {
            let def = crate::event::catalog::lookup(name).unwrap();
            let got = def.get(ev).map(|v| v.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{file}[{index}] {name}");
            covered.insert(*name);
        }
    }
    for source in sources {
        for def in crate::event::catalog::all()
            .iter()
            .filter(|d| d.applies_to(*source))
            // Geo fields are read through the geo databases (intel::geo's tests).
            .filter(|d| d.geo(*source).is_none())
        {
            assert!(
                covered.contains(def.name),
                "no test for {} on {source}",
                def.name
            );
        }
    }
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/event/testdata")
        .join(rel)
}

/// Everything reading `bytes` produced.
struct Outcome {
    events: Vec<Event>,
    errors: Vec<InputError>,
    stats: ReadStats,
}

impl Outcome {
    fn messages(&self) -> Vec<String> {
        self.errors.iter().map(|e| e.to_string()).collect()
    }
    fn sources(&self) -> Vec<Source> {
        self.events.iter().map(|e| e.source).collect()
    }
    fn lines(&self) -> Vec<u64> {
        self.events.iter().map(|e| e.origin.line).collect()
    }
}

/// Reads `input` with [`read_stream`], and checks that framing it into batches of a few
/// sizes, parsing them apart and settling them in order gives the same.
fn read_with(name: &str, mut input: impl Read, opts: &ReadOptions) -> Outcome {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).unwrap();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut stats = ReadStats::default();
    read_stream(
        name,
        &bytes[..],
        opts,
        &mut stats,
        &mut |e| events.push(e),
        &mut |e| errors.push(e),
    );
    let out = Outcome {
        events,
        errors,
        stats,
    };
    for batch_bytes in [1, 150, 4096, 1 << 20] {
        let batched = read_batched(name, &bytes, opts, batch_bytes);
        let what = format!("{name} in batches of {batch_bytes} bytes");
        assert_eq!(batched.errors, out.errors, "{what}");
        assert_eq!(
            format!("{:?}", batched.events),
            format!("{:?}", out.events),
            "{what}"
        );
        let mut stats = batched.stats.clone();
        if !out.stats.skipped.is_empty() {
            // Batches are framed ahead of parsing: a skipped input may be read further.
            stats.bytes = out.stats.bytes;
            stats.decoded_bytes = out.stats.decoded_bytes;
        }
        assert_eq!(stats, out.stats, "{what}");
    }
    out
}

/// Reads `bytes` framed into batches, each parsed on its own and settled in order.
fn read_batched(name: &str, bytes: &[u8], opts: &ReadOptions, batch_bytes: usize) -> Outcome {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut stats = ReadStats::default();
    let mut order = InputOrder::new();
    let framing = ReadOptions {
        progress: None,
        ..opts.clone()
    };
    let buffers = Buffers::default();
    frame_stream(name, bytes, &framing, batch_bytes, buffers, &mut |batch| {
        let mut batch_events = Vec::new();
        let parsed = batch.parse(opts, &mut |e| batch_events.push(e));
        let buffers = batch.into_buffers();
        let accepted = order.accept(parsed, &mut stats);
        errors.extend(accepted.errors);
        if let Some(base) = accepted.record_base {
            for mut e in batch_events {
                e.origin.record += base;
                events.push(e);
            }
        }
        Some(buffers)
    });
    Outcome {
        events,
        errors,
        stats,
    }
}

fn read_bytes(bytes: &[u8]) -> Outcome {
    read_with("t.json", bytes, &ReadOptions::default())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn fixture_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(rel)).unwrap()
}

/// A CloudTrail record on one line, numbered through its eventID.
fn ct_line(i: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","userName":"u{i}"}},"eventTime":"2024-05-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"id-{i}","recipientAccountId":"111122223333"}}"#
    )
}

fn event_ids(out: &Outcome) -> Vec<String> {
    out.events
        .iter()
        .map(|e| e.field("event.id").unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- framings

#[test]
fn pretty_records_file_streams_records_with_their_lines() {
    let out = read_fixture("cloudtrail/records.json");
    assert_eq!(out.len(), 3);
    let lines: Vec<u64> = out.iter().map(|e| e.origin.line).collect();
    assert_eq!(lines, [3, 49, 91]);
    let records: Vec<u64> = out.iter().map(|e| e.origin.record).collect();
    assert_eq!(records, [0, 1, 2]);
    assert!(out
        .iter()
        .all(|e| *e.origin.file == *testdata("cloudtrail/records.json").display().to_string()));
}

#[test]
fn one_line_records_file_gzipped_without_gz_name() {
    let body = format!(
        r#"{{"Records":[{},{},{}]}}"#,
        ct_line(0),
        ct_line(1),
        ct_line(2)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("111122223333_CloudTrail_us-east-1_20240501T0000Z_abc.json");
    std::fs::write(&path, gzip(body.as_bytes())).unwrap();
    let (events, errors, stats) = read_all(&path, &ReadOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].field("actor.name").unwrap().to_string(), "u2");
    assert_eq!(stats.events.get(&Source::CloudTrail), Some(&3));
    assert_eq!(stats.decoded_bytes, body.len() as u64);
    assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn records_not_first_key_and_extra_keys() {
    // `Records` after another key: parsed whole, records moved out.
    let body = format!(r#"{{"x":1,"Records":[{},{}]}}"#, ct_line(0), ct_line(1));
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    // Keys after the streamed `Records` array are skipped.
    let body = format!(
        "{{\"Records\" : [ {} ] , \"extra\": {{\"a\": [1, \"]\"]}} }}\n{}\n",
        ct_line(0),
        ct_line(1)
    );
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    // An empty trail file.
    let out = read_bytes(b"{\"Records\":[]}");
    assert!(out.events.is_empty() && out.errors.is_empty() && out.stats.skipped.is_empty());
}

#[test]
fn single_pretty_event() {
    let events = read_fixture("cloudtrail/root-console-login.json");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].origin.line, 1);
    assert_eq!(events[0].source, Source::CloudTrail);
}

#[test]
fn several_pretty_events_in_a_row() {
    let one = fixture_bytes("cloudtrail/root-console-login.json");
    let two = fixture_bytes("cloudtrail/console-login-failure.json");
    let mut body = one.clone();
    body.extend_from_slice(&two);
    let out = read_bytes(&body);
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(out.events.len(), 2);
    let second_line = 1 + one.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(out.lines(), [1, second_line]);
}

#[test]
fn json_lines_of_mixed_sources_classified_per_record() {
    let mut body = String::new();
    body.push_str(&ct_line(0));
    body.push('\n');
    body.push_str(
        std::str::from_utf8(&fixture_bytes("dns/resolver.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    );
    body.push_str("\r\n\n");
    body.push_str(
        std::str::from_utf8(&fixture_bytes("eks/audit.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    );
    body.push('\n');
    body.push_str(
        std::str::from_utf8(&fixture_bytes("s3data/data-events.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    );
    body.push('\n');
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(
        out.sources(),
        [Source::CloudTrail, Source::Dns, Source::Eks, Source::S3Data]
    );
    assert_eq!(out.lines(), [1, 2, 4, 5]);
    assert_eq!(out.stats.total_events(), 4);
}

#[test]
fn json_array_of_events() {
    let body = format!("[\n  {},\n  {}\n]\n", ct_line(0), ct_line(1));
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(out.lines(), [2, 3]);
}

#[test]
fn flow_log_text_default_and_header_formats() {
    let events = read_fixture("vpcflow/default-v2.log");
    assert_eq!(events.len(), 5);
    assert!(events.iter().all(|e| e.source == Source::VpcFlow));
    let events = read_fixture("vpcflow/custom-v5.log");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].origin.line, 2);
    assert_eq!(events[0].field("az-id").unwrap().to_string(), "euw1-az2");
    assert_eq!(events[0].field("traffic-path"), Some(FieldValue::Int(8)));
    assert!(events[0].field("sublocation-id").is_none());
}

#[test]
fn header_defined_custom_flow_format() {
    let body = "srcaddr dstaddr dstport action flow-direction\n\
                10.0.0.1 10.0.0.2 22 REJECT ingress\n\
                10.0.0.3 192.0.2.1 443 ACCEPT egress\n";
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(out.events.len(), 2);
    let ev = &out.events[0];
    assert_eq!(ev.field("dst.port"), Some(FieldValue::Int(22)));
    assert_eq!(ev.field("net.direction").unwrap().to_string(), "ingress");
    assert!(ev.field("src.port").is_none());
    assert!(ev.field("time").is_none());
    // A second header mid-file switches the format.
    let body = format!("{body}version srcaddr\n3 10.9.9.9\n");
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(
        out.events[2].field("src.ip").unwrap().to_string(),
        "10.9.9.9"
    );
}

#[test]
fn flow_nodata_line_is_an_event_without_addresses() {
    let body =
        "2 111122223333 eni-0f9e8d7c6b5a43210 - - - - - - - 1714550400 1714550460 - NODATA\n";
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    let ev = &out.events[0];
    assert_eq!(ev.field("net.log_status").unwrap().to_string(), "NODATA");
    assert!(ev.field("src.ip").is_none() && ev.field("dst.ip").is_none());
    assert_eq!(ev.time_millis(), Some(1_714_550_400_000));
}

#[test]
fn wrong_flow_field_count_names_file_and_line() {
    let body = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1714550400 1714550460 ACCEPT OK\n\
                2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1714550400\n\
                2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1714550400 1714550460 ACCEPT OK\n";
    let out = read_with("flows.log", body.as_bytes(), &ReadOptions::default());
    assert_eq!(out.events.len(), 2);
    assert_eq!(
        out.messages(),
        ["flows.log:2: expected 14 fields (default version 2 format), found 11"]
    );
    let body = "srcaddr dstaddr\n10.0.0.1\n";
    let out = read_with("flows.log", body.as_bytes(), &ReadOptions::default());
    assert_eq!(
        out.messages(),
        ["flows.log:2: expected 2 fields (format from the header at line 1), found 1"]
    );
}

#[test]
fn cloudwatch_text_export_lines() {
    let audit = std::str::from_utf8(&fixture_bytes("eks/audit.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let body = format!(
        "2024-05-01T10:20:30.123Z {audit}\n\
         2024-05-01T10:20:31.000Z 2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1714550400 1714550460 ACCEPT OK\n"
    );
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(out.sources(), [Source::Eks, Source::VpcFlow]);
}

#[test]
fn gzipped_subscription_payload_and_control_message() {
    let body = fixture_bytes("eks/subscription.json");
    let out = read_bytes(&gzip(&body));
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(out.events.len(), 2);
    assert_eq!(
        out.events[0].field("k8s.cluster").unwrap().to_string(),
        "prod-eu"
    );
    let control = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1714561200000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
    let out = read_bytes(control);
    assert!(out.events.is_empty() && out.errors.is_empty() && out.stats.skipped.is_empty());
    // Flow-log lines delivered through a subscription.
    let flows = r#"{"messageType":"DATA_MESSAGE","logGroup":"vpc-flow-logs","logEvents":[{"id":"1","timestamp":1,"message":"2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1714550400 1714550460 ACCEPT OK"},{"id":"2","timestamp":1}]}"#;
    let out = read_bytes(flows.as_bytes());
    assert_eq!(out.sources(), [Source::VpcFlow]);
    assert_eq!(out.messages(), ["t.json:1: log event without a message"]);
}

#[test]
fn source_override() {
    let body = br#"{"verb":"get","user":{"username":"system:anonymous"}}"#;
    let opts = ReadOptions {
        source: Some(Source::Eks),
        ..ReadOptions::default()
    };
    let out = read_with("t.json", &body[..], &opts);
    assert_eq!(out.sources(), [Source::Eks]);
    assert_eq!(
        out.events[0].field("actor.type").unwrap().to_string(),
        "Anonymous"
    );
    // Without it, the file is not recognized.
    let out = read_bytes(body);
    assert!(out.events.is_empty());
    assert_eq!(out.stats.skipped.len(), 1);
    // `cloudtrail` still tells S3 data events apart.
    let opts = ReadOptions {
        source: Some(Source::CloudTrail),
        ..ReadOptions::default()
    };
    let out = read_with(
        "t.json",
        &fixture_bytes("s3data/data-events.jsonl")[..],
        &opts,
    );
    assert_eq!(
        out.sources(),
        [Source::S3Data, Source::S3Data, Source::CloudTrail]
    );
}

// ---------------------------------------------------------------- skipped inputs

#[test]
fn digest_file_is_skipped_not_an_error() {
    let digest = br#"{"awsAccountId":"111122223333","digestStartTime":"2024-05-01T00:00:00Z","digestEndTime":"2024-05-01T01:00:00Z","digestS3Bucket":"org-trail-logs","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_org_us-east-1_20240501T010000Z.json.gz","digestPublicKeyFingerprint":"0123456789abcdef0123456789abcdef","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2024-05-01T00:59:58Z","oldestEventTime":"2024-05-01T00:00:03Z","previousDigestS3Bucket":"org-trail-logs","previousDigestHashValue":"abcdef","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"0a1b","logFiles":[]}"#;
    let out = read_with("digest.json.gz", &gzip(digest)[..], &ReadOptions::default());
    assert!(out.events.is_empty());
    assert!(out.errors.is_empty());
    assert_eq!(out.stats.errors, 0);
    assert_eq!(
        out.stats.skipped,
        [(
            Arc::from("digest.json.gz"),
            "CloudTrail digest file".to_owned()
        )]
    );
}

#[test]
fn content_after_errors_only_is_still_the_first_recognized() {
    // Malformed records recognize nothing: what comes next decides whether the input
    // is skipped. Read in batches, the deciding record is in a later batch than the
    // errors (`read_with` checks every batching against reading in one go).
    let good = ct_line(0);
    let digest = r#"{"awsAccountId":"111122223333","digestStartTime":"2024-05-01T00:00:00Z","digestEndTime":"2024-05-01T01:00:00Z","digestPublicKeyFingerprint":"0123","logFiles":[]}"#;
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{{broken\n{{\"name\": \"x\"}}\n{good}\n"),
            "unrecognized content: a JSON object with keys name",
        ),
        (
            format!("{{broken\nhello there\n{good}\n"),
            "unrecognized content: first line `hello there`",
        ),
        (
            format!("{{broken\n{digest}\n{good}\n"),
            "CloudTrail digest file",
        ),
    ];
    for (body, reason) in &cases {
        let out = read_bytes(body.as_bytes());
        assert!(out.events.is_empty(), "{body}");
        assert_eq!(out.errors.len(), 1, "{body}: {:?}", out.messages());
        assert_eq!(out.errors[0].line, Some(1));
        assert_eq!(
            out.stats.skipped,
            [(Arc::from("t.json"), reason.to_string())]
        );
    }
    // Binary content after an error: skipped too.
    let mut body = b"{broken\n\xff\xfe\x00binary\n".to_vec();
    body.extend_from_slice(good.as_bytes());
    let out = read_bytes(&body);
    assert!(out.events.is_empty());
    assert_eq!(out.errors.len(), 1);
    assert_eq!(
        out.stats.skipped,
        [(
            Arc::from("t.json"),
            "binary content (not UTF-8 text)".to_owned()
        )]
    );
    // Once something is recognized, the same records are errors.
    let body = format!("{{broken\n{good}\n{{\"name\": \"x\"}}\nhello there\n{good}\n");
    let out = read_bytes(body.as_bytes());
    assert_eq!(event_ids(&out), ["id-0", "id-0"]);
    assert_eq!(out.errors.len(), 3, "{:?}", out.messages());
    assert_eq!(out.events[1].origin.record, 1);
    assert!(out.stats.skipped.is_empty());
}

#[test]
fn unknown_content_is_skipped_with_a_reason() {
    let cases: &[(&[u8], &str)] = &[
        (b"# Notes\nSome text here.\n", "unrecognized content: first line `# Notes`"),
        (b"{\"name\": \"x\", \"size\": 3}\n{\"name\": \"y\"}\n", "unrecognized content: a JSON object with keys name, size"),
        (b"[1, 2, 3]", "unrecognized content: a json number value, not an object"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe\n", "binary content (not UTF-8 text)"),
        (b"", "empty input"),
        (b"  \n\n", "empty input"),
        (b"2024-05-01T10:00:00Z INFO service started\n", "unrecognized content: first line `2024-05-01T10:00:00Z INFO service started`"),
        (br#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{}}]}"#, "unrecognized content: a JSON object with keys eventVersion, eventSource, eventName, s3"),
    ];
    for (body, reason) in cases {
        let out = read_bytes(body);
        assert!(
            out.events.is_empty() && out.errors.is_empty(),
            "{reason}: {:?}",
            out.messages()
        );
        assert_eq!(out.stats.skipped.len(), 1, "{reason}");
        assert_eq!(out.stats.skipped[0].1, *reason);
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn malformed_line_in_the_middle_keeps_events_before_and_after() {
    let body = format!(
        "{}\n{}\n{{\"eventVersion\": \"1.09\", \"eventName\": oops}}\n{}\n{}\n",
        ct_line(0),
        ct_line(1),
        ct_line(2),
        ct_line(3)
    );
    let out = read_with("trail.jsonl", body.as_bytes(), &ReadOptions::default());
    assert_eq!(event_ids(&out), ["id-0", "id-1", "id-2", "id-3"]);
    assert_eq!(out.lines(), [1, 2, 4, 5]);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].line, Some(3));
    let message = out.messages().remove(0);
    assert!(message.starts_with("trail.jsonl:3: "), "{message}");
    assert!(!message.contains('\n'), "{message}");
    assert_eq!(out.stats.errors, 1);
    // A truncated line that opens more than it closes stays one error.
    let body = format!(
        "{}\n{{\"eventVersion\": \"1.09\", \"userIdentity\": {{\"type\n{}\n",
        ct_line(0),
        ct_line(1)
    );
    let out = read_bytes(body.as_bytes());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(out.errors.len(), 1, "{:?}", out.messages());
    assert_eq!(out.errors[0].line, Some(2));
}

#[test]
fn truncated_gzip_names_the_file_and_keeps_events_read() {
    let body: String = (0..2000).map(|i| ct_line(i) + "\n").collect();
    let gz = gzip(body.as_bytes());
    let cut = &gz[..gz.len() * 2 / 3];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.json.gz");
    std::fs::write(&path, cut).unwrap();
    let (events, errors, stats) = read_all(&path, &ReadOptions::default());
    assert!(
        events.len() > 100 && events.len() < 2000,
        "{}",
        events.len()
    );
    assert_eq!(errors.len(), 1);
    let message = errors[0].to_string();
    assert!(
        message.starts_with(&format!(
            "{}: gzip stream is truncated or corrupt after line ",
            path.display()
        )),
        "{message}"
    );
    assert_eq!(stats.errors, 1);
    // The events kept are whole and in order.
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(ev.field("event.id").unwrap().to_string(), format!("id-{i}"));
    }
}

#[test]
fn truncated_records_file_keeps_records_before_the_cut() {
    let body = format!(
        r#"{{"Records":[{},{},{}]}}"#,
        ct_line(0),
        ct_line(1),
        ct_line(2)
    );
    let cut = &body[..body.len() - 40];
    let out = read_bytes(cut.as_bytes());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(
        out.messages(),
        ["t.json:1: unexpected end of input in the record starting at line 1"]
    );
}

#[test]
fn invalid_utf8_is_an_error_for_that_line() {
    let mut body = Vec::new();
    body.extend_from_slice(ct_line(0).as_bytes());
    body.extend_from_slice(b"\n{\"eventVersion\":\"1.09\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"Get\xff\xfeUser\",\"eventID\":\"x\"}\n");
    body.extend_from_slice(ct_line(1).as_bytes());
    body.push(b'\n');
    let out = read_bytes(&body);
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].line, Some(2));
    assert!(
        out.errors[0].message.to_lowercase().contains("utf"),
        "{}",
        out.errors[0]
    );
    // In flow-log text too.
    let body = b"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n2 1 eni-\xff 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n";
    let out = read_bytes(body);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.messages(), ["t.json:2: invalid UTF-8 at byte 9"]);
}

fn cursor(text: String) -> std::io::Cursor<Vec<u8>> {
    std::io::Cursor::new(text.into_bytes())
}

/// A reader that yields a long run of one byte without holding it in memory.
fn long_line(prefix: &'static str, len: u64, suffix: &'static str) -> impl Read {
    let filler = len - prefix.len() as u64 - suffix.len() as u64;
    prefix
        .as_bytes()
        .chain(std::io::repeat(b'a').take(filler))
        .chain(suffix.as_bytes())
}

#[test]
fn fifty_megabyte_line_is_skipped_not_buffered() {
    let len = 50 * 1024 * 1024;
    let input = cursor(format!("{}\n", ct_line(0)))
        .chain(long_line("{\"eventName\":\"", len, "\"}"))
        .chain(cursor(format!("\n{}\n", ct_line(1))));
    let out = read_with("big.jsonl", input, &ReadOptions::default());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(
        out.messages(),
        [format!(
            "big.jsonl:2: line 2 is {len} bytes, over the limit of 16777216"
        )]
    );
    // The same inside a streamed Records array.
    let input = cursor(format!("{{\"Records\":[{},", ct_line(0)))
        .chain(long_line("{\"eventName\":\"", len, "\"}"))
        .chain(cursor(format!(",{}]}}", ct_line(1))));
    let out = read_with("big.json", input, &ReadOptions::default());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(
        out.messages(),
        [format!(
            "big.json:1: the record at line 1 is {len} bytes, over the limit of 16777216"
        )]
    );
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let depth = 100_000;
    let nested = |open: &str, close: &str| format!("{}{}", open.repeat(depth), close.repeat(depth));
    for deep in [nested("[", "]"), nested("{\"a\":", "}")] {
        let body = format!("{}\n{}\n{}\n", ct_line(0), deep, ct_line(1));
        let out = read_bytes(body.as_bytes());
        assert_eq!(event_ids(&out), ["id-0", "id-1"]);
        assert_eq!(
            out.messages(),
            ["t.json:2: the record is nested deeper than 128 levels"]
        );
    }
    // Unclosed, at the start of the input (array framing) and inside a Records array.
    let out = read_bytes("[".repeat(1_000_000).as_bytes());
    assert!(out.events.is_empty());
    assert_eq!(out.errors.len(), 1, "{:?}", out.messages());
    let body = format!(
        "{{\"Records\":[{},{}]}}",
        ct_line(0),
        nested("{\"a\":", "}")
    );
    let out = read_bytes(body.as_bytes());
    assert_eq!(event_ids(&out), ["id-0"]);
    assert_eq!(
        out.messages(),
        ["t.json:1: the record is nested deeper than 128 levels"]
    );
    // Inside a CloudWatch Logs message.
    let message = nested("[", "]");
    let body = format!("{{\"timestamp\":1,\"message\":\"{{\\\"a\\\":{message}}}\"}}\n");
    let out = read_bytes(body.as_bytes());
    assert_eq!(
        out.messages(),
        ["t.json:1: log event message is nested deeper than 128 levels"]
    );
    // 128 levels are fine.
    let ok = format!("{{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"X\",\"eventID\":\"d\",\"requestParameters\":{}}}", nested("[", "]").get(depth - 127..depth + 127).unwrap());
    let out = read_bytes(ok.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(out.events.len(), 1);
}

#[test]
fn sonic_errors_keep_their_first_line() {
    let out = read_bytes(b"{\"eventName\": [1, 2,, 3]}\n");
    assert_eq!(out.errors.len(), 1);
    let m = &out.errors[0].message;
    assert!(!m.contains('\n') && !m.is_empty(), "{m:?}");
}

#[test]
fn unrecognized_record_after_recognized_ones_is_an_error() {
    let body = format!("{}\n{{\"hello\":1}}\n{}\n", ct_line(0), ct_line(1));
    let out = read_bytes(body.as_bytes());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(
        out.messages(),
        ["t.json:2: unrecognized record: a JSON object with keys hello"]
    );
}

#[test]
fn array_syntax_errors_resume_at_the_next_line() {
    let body = format!("[{} {}]\n{}\n", ct_line(0), ct_line(1), ct_line(2));
    let out = read_bytes(body.as_bytes());
    assert_eq!(event_ids(&out), ["id-0", "id-2"]);
    assert_eq!(out.errors.len(), 1);
    assert!(
        out.errors[0].message.starts_with("expected `,` or `]`"),
        "{}",
        out.errors[0]
    );
}

// ---------------------------------------------------------------- files and options

#[test]
fn expand_inputs_walks_sorted_skips_hidden_and_reports_missing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("b/sub")).unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    for f in [
        "b/sub/z.json",
        "b/a.json",
        "a.json.gz",
        ".hidden.json",
        ".git/config",
        "b/.x",
    ] {
        std::fs::write(root.join(f), "{}").unwrap();
    }
    let missing = root.join("nope.json");
    let (files, errors) = expand_inputs(&[root.to_path_buf(), PathBuf::from("-"), missing.clone()]);
    let rel: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .map_or(p.display().to_string(), |r| r.display().to_string())
        })
        .collect();
    assert_eq!(rel, ["a.json.gz", "b/a.json", "b/sub/z.json", "-"]);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        format!("{}: no such file or directory", missing.display())
    );
    // A hidden file named explicitly is read.
    let (files, _) = expand_inputs(&[root.join(".hidden.json")]);
    assert_eq!(files.len(), 1);
}

#[test]
fn read_path_reports_unopenable_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut stats = ReadStats::default();
    let mut errors = Vec::new();
    read_path(
        dir.path(),
        &ReadOptions::default(),
        &mut stats,
        &mut |_| {},
        &mut |e| errors.push(e),
    );
    read_path(
        &dir.path().join("missing"),
        &ReadOptions::default(),
        &mut stats,
        &mut |_| {},
        &mut |e| errors.push(e),
    );
    assert_eq!(stats.errors, 2);
    assert_eq!(errors[0].message, "is a directory");
    assert_eq!(errors[1].message, "no such file or directory");
    assert_eq!(errors[1].line, None);
}

#[test]
fn progress_reports_every_input_byte() {
    let body = fixture_bytes("cloudtrail/records.json");
    let gz = gzip(&body);
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let opts = ReadOptions {
        progress: Some(Arc::new(move |n| {
            counter.fetch_add(n, Ordering::Relaxed);
        })),
        ..ReadOptions::default()
    };
    let out = read_with("t.json.gz", &gz[..], &opts);
    assert_eq!(out.events.len(), 3);
    assert_eq!(seen.load(Ordering::Relaxed), gz.len() as u64);
    assert_eq!(out.stats.bytes, gz.len() as u64);
    assert_eq!(out.stats.decoded_bytes, body.len() as u64);
    assert_eq!(out.stats.files, 1);
}

#[test]
fn small_record_limit_applies_to_lines_and_records() {
    let opts = ReadOptions {
        max_record_bytes: 64,
        ..ReadOptions::default()
    };
    let body = format!("{}\n", ct_line(0));
    let out = read_with("t.json", body.as_bytes(), &opts);
    assert!(out.events.is_empty());
    assert_eq!(
        out.messages(),
        [format!(
            "t.json:1: line 1 is {} bytes, over the limit of 64",
            body.len() - 1
        )]
    );
}

#[test]
fn input_error_display() {
    let e = InputError {
        file: Arc::from("a.json"),
        line: Some(3),
        message: "bad".to_owned(),
    };
    assert_eq!(e.to_string(), "a.json:3: bad");
    let e = InputError { line: None, ..e };
    assert_eq!(e.to_string(), "a.json: bad");
}

#[test]
fn raw_paths_on_events() {
    use picket_grammar::ast::Segment;
    let events = read_fixture("cloudtrail/records.json");
    let ev = &events[2];
    let path = crate::event::parse_dotted("resources[0].ARN").unwrap();
    assert_eq!(
        ev.raw_get(&path).unwrap().to_string(),
        "arn:aws:s3:::org-trail-logs"
    );
    assert_eq!(
        ev.field("resources.type").unwrap().to_string(),
        r#"["AWS::S3::Bucket"]"#
    );
    assert_eq!(
        ev.field("additionalEventData.bytesTransferredOut"),
        Some(FieldValue::Int(540))
    );
    assert!(ev.field("responseElements").is_none());
    assert!(ev.field("requestParameters").unwrap().as_object().is_some());
    let flows = read_fixture("vpcflow/default-v2.log");
    let name = |n: &str| vec![Segment::Name(n.to_owned())];
    assert_eq!(
        flows[0].raw_get(&name("bytes")),
        Some(FieldValue::Int(4820))
    );
    assert_eq!(
        flows[0].raw_get(&name("action")),
        Some(FieldValue::str("ACCEPT"))
    );
    assert_eq!(flows[3].raw_get(&name("srcaddr")), None);
    assert_eq!(flows[0].raw_get(&name("nope")), None);
    assert_eq!(
        flows[0].raw_get(&[Segment::Name("a".into()), Segment::Name("b".into())]),
        None
    );
    let eks = read_fixture("eks/audit.jsonl");
    assert_eq!(
        eks[0]
            .field(r#"annotations["authorization.k8s.io/decision"]"#)
            .unwrap()
            .to_string(),
        "allow"
    );
    assert_eq!(
        eks[2]
            .field("requestObject.subjects.name")
            .unwrap()
            .to_string(),
        r#"["deployer"]"#
    );
}

#[test]
fn records_and_lines_across_buffer_boundaries() {
    let n = 3000;
    let records: Vec<String> = (0..n).map(ct_line).collect();
    let want: Vec<String> = (0..n).map(|i| format!("id-{i}")).collect();
    // Pretty-ish Records document, one record per line after the opening line.
    let body = format!("{{\n\"Records\": [\n{}\n]}}\n", records.join(",\n"));
    assert!(body.len() > 2 * BUF_SIZE);
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(event_ids(&out), want);
    assert_eq!(out.lines(), (3..3 + n as u64).collect::<Vec<_>>());
    // JSON lines.
    let body: String = records.iter().map(|r| format!("{r}\r\n")).collect();
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(event_ids(&out), want);
    assert_eq!(out.lines(), (1..=n as u64).collect::<Vec<_>>());
}

#[test]
fn string_end_finds_the_first_quote_or_backslash() {
    for len in 0..150 {
        for at in 0..=len {
            for stop in [b'"', b'\\'] {
                let mut bytes = vec![b'x'; len];
                if at < len {
                    bytes[at] = stop;
                }
                // Bytes that trip naive zero-byte tricks must not match.
                if at > 0 {
                    bytes[at - 1] = b'"' + 128;
                }
                let want = (at < len).then_some(at);
                assert_eq!(string_end(&bytes), want, "len {len} at {at}");
            }
        }
    }
}

#[test]
fn scan_resumes_at_every_split() {
    let text = br#"{"a":"x\"y\\","b":["]",{"c":"\\\"}"}],"d":"\u0041"} tail"#;
    let mut whole = Scan::default();
    let end = whole.feed(text, true, &mut 0);
    assert_eq!(end, Some(text.len() - 5));
    for split in 0..text.len() {
        let mut scan = Scan::default();
        let got = match scan.feed(&text[..split], true, &mut 0) {
            Some(n) => Some(n),
            None => scan.feed(&text[split..], true, &mut 0).map(|n| split + n),
        };
        assert_eq!(got, end, "split at {split}");
    }
}

/// Random JSON-like text: strings with escapes and brackets inside, brackets, commas,
/// colons, spaces, newlines and letters outside (backslashes only inside strings, as
/// in any valid JSON).
fn random_jsonish(next: &mut impl FnMut() -> u64) -> Vec<u8> {
    let mut text = vec![b'{'];
    let tokens = (next() % 120) as usize;
    for _ in 0..tokens {
        match next() % 8 {
            0 | 1 => {
                text.push(b'"');
                for _ in 0..next() % 90 {
                    let pieces: [&[u8]; 8] = [
                        b"a", b"\\\\", b"\\\"", b"{", b"]", b"\n", b"x y", b"\\u0041",
                    ];
                    text.extend_from_slice(pieces[(next() % 8) as usize]);
                }
                text.push(b'"');
            }
            2 => text.push(b'{'),
            3 => text.push(b'['),
            4 => text.push(b'}'),
            5 => text.push(b']'),
            6 => text.extend_from_slice(b", :"),
            _ => text.extend_from_slice(b"\n 1 true"),
        }
    }
    text
}

/// The block scan agrees with the byte scan, whole and split at any point.
#[test]
fn block_scan_matches_byte_scan() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..4000 {
        let text = random_jsonish(&mut next);
        for stop in [true, false] {
            let mut reference = Scan::default();
            let mut want_lines = 0;
            let want = reference.feed_bytes(&text, stop, &mut want_lines);
            let split = (next() % (text.len() as u64 + 1)) as usize;
            let mut scan = Scan::default();
            let mut lines = 0;
            let got = match scan.feed(&text[..split], stop, &mut lines) {
                Some(n) => Some(n),
                None => scan
                    .feed(&text[split..], stop, &mut lines)
                    .map(|n| split + n),
            };
            let shown = String::from_utf8_lossy(&text);
            assert_eq!(
                got, want,
                "round {round} stop {stop} split {split}: {shown}"
            );
            assert_eq!(
                lines, want_lines,
                "round {round} stop {stop} lines: {shown}"
            );
            if want.is_none() {
                assert_eq!(
                    (scan.depth, scan.in_str, scan.too_deep),
                    (reference.depth, reference.in_str, reference.too_deep),
                    "round {round} state: {shown}"
                );
            }
        }
    }
}

/// Garbage (backslashes outside strings, stray quotes) never panics.
#[test]
fn block_scan_survives_garbage() {
    let alphabet = b"{}[]\"\\ab:,\n";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let len = (seed % 500) as usize;
        let mut text = vec![b'['];
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        for stop in [true, false] {
            let mut scan = Scan::default();
            if let Some(n) = scan.feed(&text, stop, &mut 0) {
                assert!(n <= text.len());
            }
        }
    }
}

#[test]
fn parse_errors_point_at_their_line() {
    let body = format!(
        "{}\n{{\n  \"eventVersion\": \"1.09\",\n  \"eventName\": \"X\"\n  \"eventSource\": \"iam.amazonaws.com\"\n}}\n{}\n",
        ct_line(0),
        ct_line(1)
    );
    let out = read_bytes(body.as_bytes());
    assert_eq!(event_ids(&out), ["id-0", "id-1"]);
    assert_eq!(
        out.messages(),
        ["t.json:5: expected this character to be either a ',' or a ']' while parsing at column 3"]
    );
    let out = read_bytes(b"{\"eventName\": oops}\n");
    assert_eq!(
        out.messages(),
        ["t.json:1: invalid JSON value at column 15 of the record"]
    );
}

/// A CloudWatch Logs subscription payload carrying `n` audit events.
fn payload(cluster: &str, first: usize, n: usize) -> String {
    let events: Vec<String> = (first..first + n)
        .map(|i| {
            let audit = format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a-{i}","stage":"ResponseComplete","verb":"get","user":{{"username":"u"}}}}"#
            );
            format!(
                r#"{{"id":"{i}","timestamp":1714561200000,"message":{}}}"#,
                serde_json::to_string(&audit).unwrap()
            )
        })
        .collect();
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/eks/{cluster}/cluster","logStream":"kube-apiserver-audit-1","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
        events.join(",")
    )
}

fn audit_ids(out: &Outcome) -> Vec<String> {
    out.events
        .iter()
        .map(|e| e.field("event.id").unwrap().to_string())
        .collect()
}

#[test]
fn concatenated_records_on_one_line() {
    // Short: several records back to back, and spaced.
    let body = format!(
        "{}{} {}\n{}\n",
        ct_line(0),
        ct_line(1),
        ct_line(2),
        ct_line(3)
    );
    let out = read_bytes(body.as_bytes());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert_eq!(event_ids(&out), ["id-0", "id-1", "id-2", "id-3"]);
    assert_eq!(out.lines(), [1, 1, 1, 2]);
    // Firehose: gzip members, each a subscription payload with no newline, the whole
    // object one line much longer than the read buffer.
    let mut gz = Vec::new();
    let mut want = Vec::new();
    for p in 0..40 {
        gz.extend(gzip(payload("prod", p * 100, 100).as_bytes()));
        want.extend((p * 100..p * 100 + 100).map(|i| format!("a-{i}")));
    }
    let out = read_with("firehose", &gz[..], &ReadOptions::default());
    assert!(out.errors.is_empty(), "{:?}", out.messages());
    assert!(out.stats.decoded_bytes > 2 * BUF_SIZE as u64);
    assert_eq!(audit_ids(&out), want);
    assert!(out
        .events
        .iter()
        .all(|e| e.field("k8s.cluster").unwrap().to_string() == "prod"));
}

#[test]
fn long_line_cut_inside_a_record_resumes_at_the_next_line() {
    let long = payload("prod", 0, 2000);
    assert!(long.len() > BUF_SIZE);
    let cut = &long[..long.len() - 100];
    let body = format!("{}\n{long}{cut}\n{}\n", ct_line(0), ct_line(1));
    let out = read_bytes(body.as_bytes());
    assert_eq!(out.messages(), ["t.json:2: line 2 ends inside a record"]);
    assert_eq!(out.events.len(), 2 + 2000);
    assert_eq!(out.events.last().unwrap().origin.line, 3);
}
