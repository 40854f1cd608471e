//! Lists and geo databases from the command line, end to end: `--geoip`, a STIX threat
//! list, a broken list that does not stop the scan.

use picket_tests::{picket, repo};
use serde_json::Value;

fn findings(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("one finding per line"))
        .collect()
}

fn path(rel: &str) -> String {
    repo().join(rel).to_str().expect("UTF-8 path").to_string()
}

/// The Kali fixture calls from 203.0.113.66, which the fixture databases place in
/// Seattle, in AS64498.
#[test]
fn geoip_fills_remote_ip_details() {
    let event = path("rules/recon/kali-linux-api-call/hit-aws-cli-v2-list-users.json");
    let (city, asn) = (
        path("rules/intel/fixtures/geo-city.mmdb"),
        path("rules/intel/fixtures/geo-asn.mmdb"),
    );
    let args = [
        "scan", &event, "--format", "jsonl", "--geoip", &city, "--geoip", &asn,
    ];
    let (code, out) = picket(&args);
    assert_eq!(code, 0);
    let found = findings(&out);
    let kali = found
        .iter()
        .find(|f| f["rule"]["id"] == "recon.kali-linux-api-call")
        .expect("the Kali rule fires");
    let remote = &kali["service"]["action"]["awsApiCallAction"]["remoteIpDetails"];
    assert_eq!(remote["ipAddressV4"], "203.0.113.66", "{remote}");
    assert_eq!(remote["country"]["countryCode"], "US", "{remote}");
    assert_eq!(
        remote["country"]["countryName"], "United States",
        "{remote}"
    );
    assert_eq!(remote["city"]["cityName"], "Seattle", "{remote}");
    assert_eq!(remote["organization"]["asn"], "64498", "{remote}");
    assert_eq!(
        remote["organization"]["asnOrg"], "Example Hosting US",
        "{remote}"
    );

    let (_, plain) = picket(&["scan", &event, "--format", "jsonl"]);
    assert!(!plain.contains("countryCode"), "no database, no place");
}

#[test]
fn a_file_that_is_not_a_geo_database_is_refused() {
    let not_db = path("rules/intel/tor-exit-nodes.txt");
    let mut argv: Vec<std::ffi::OsString> = ["picket", "scan", "--geoip", &not_db, "-"]
        .iter()
        .map(Into::into)
        .collect();
    argv.push("--format".into());
    argv.push("jsonl".into());
    let err = picket::cli::run(argv, &mut Vec::new()).expect_err("refused");
    assert!(
        format!("{err:#}").contains("tor-exit-nodes.txt is not a MaxMind database"),
        "{err:#}"
    );
}

/// A STIX 2.1 bundle as a threat list: the attacker's address of the samples is an
/// indicator, a file-hash indicator beside it is left out (with a warning), and the
/// findings name the list.
#[test]
fn a_stix_bundle_works_as_a_threat_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("partner-feed.json");
    std::fs::write(
        &bundle,
        r#"{"type": "bundle", "id": "bundle--6f1d3c84-0b1e-4f0e-9c43-8b8f3b1b2a11", "objects": [
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--1", "created": "2026-11-01T00:00:00Z",
   "modified": "2026-11-01T00:00:00Z", "valid_from": "2026-11-01T00:00:00Z", "pattern_type": "stix",
   "pattern": "[ipv4-addr:value = '203.0.113.66'] OR [domain-name:value = 'cdnsync.example']"},
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--2", "created": "2026-11-01T00:00:00Z",
   "modified": "2026-11-01T00:00:00Z", "valid_from": "2026-11-01T00:00:00Z", "pattern_type": "stix",
   "pattern": "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"}
]}"#,
    )
    .expect("write the bundle");
    let samples = path("docs/samples");
    let list = bundle.to_str().expect("path");
    let (code, out) = picket(&["scan", &samples, "--threat-list", list, "--format", "jsonl"]);
    assert_eq!(code, 0);
    let found = findings(&out);
    let custom: Vec<&Value> = found
        .iter()
        .filter(|f| f["type"].as_str().is_some_and(|t| t.ends_with(".Custom")))
        .collect();
    assert!(!custom.is_empty(), "the attacker's calls are on the list");
    for f in &custom {
        let details = &f["service"]["evidence"]["threatIntelligenceDetails"][0];
        assert_eq!(details["threatListName"], "partner-feed", "{f}");
        assert_eq!(details["threatNames"][0], "203.0.113.66", "{f}");
    }
    let dns: Vec<&Value> = found
        .iter()
        .filter(|f| f["rule"]["id"] == "instance.threat-list-domain-queried")
        .collect();
    assert!(
        !dns.is_empty(),
        "the backdoor's lookups are under a listed domain"
    );
    assert_eq!(
        dns[0]["service"]["evidence"]["threatIntelligenceDetails"][0]["threatNames"][0],
        "cdnsync.example"
    );
}

/// A threat list with a bad entry is reported and left out; the scan runs with every
/// rule, and nothing fires on the list's entries.
#[test]
fn a_broken_threat_list_is_left_out_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("bad.txt");
    std::fs::write(&broken, "203.0.113.66\n203.0.113.666\n").expect("write");
    let samples = path("docs/samples");
    let list = broken.to_str().expect("path");
    let (code, out) = picket(&["scan", &samples, "--threat-list", list, "--format", "jsonl"]);
    assert_eq!(code, 0);
    let found = findings(&out);
    assert!(!found.is_empty(), "the other rules still run");
    assert!(
        found
            .iter()
            .all(|f| !f["type"].as_str().unwrap_or_default().ends_with(".Custom")),
        "the broken list is not used"
    );
}
