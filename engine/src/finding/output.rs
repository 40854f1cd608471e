//! Writing findings: JSON lines for machines, a table for people.

use std::io::{self, Write};

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use serde_json::Value;

use super::{severity_band, Finding};

/// One finding per line.
pub fn write_jsonl(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A JSON array of findings.
pub fn write_json(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings)?;
    out.write_all(b"\n")
}

fn short_resource(f: &Finding) -> String {
    let r = &f.resource;
    let s = |v: &Value| v.as_str().map(str::to_string);
    let pick = |paths: &[&[&str]]| {
        paths.iter().find_map(|p| {
            let mut v = r;
            for k in p.iter() {
                v = v.get(k)?;
            }
            s(v)
        })
    };
    match r.get("resourceType").and_then(Value::as_str) {
        Some("S3Bucket") => pick(&[&["s3BucketDetails", "0", "name"]])
            .or_else(|| r.pointer("/s3BucketDetails/0/name").and_then(s))
            .map(|b| format!("bucket {b}")),
        Some("AccessKey") => pick(&[
            &["accessKeyDetails", "userName"],
            &["accessKeyDetails", "accessKeyId"],
        ]),
        Some("Instance") => pick(&[&["instanceDetails", "instanceId"]])
            .or_else(|| {
                r.pointer("/instanceDetails/networkInterfaces/0/networkInterfaceId")
                    .and_then(s)
            })
            .or_else(|| {
                r.pointer("/instanceDetails/networkInterfaces/0/privateIpAddress")
                    .and_then(s)
            }),
        Some("EKSCluster") => r
            .pointer("/kubernetesDetails/kubernetesUserDetails/username")
            .and_then(s)
            .map(|u| match r.pointer("/eksClusterDetails/name").and_then(s) {
                Some(c) => format!("{u} @ {c}"),
                None => u,
            }),
        _ => None,
    }
    .unwrap_or_else(|| "-".to_string())
}

/// Findings as a table for a terminal.
pub fn table(findings: &[Finding]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "severity",
            "type",
            "count",
            "account / region",
            "resource",
            "last seen",
            "rule",
        ]);
    for f in findings {
        t.add_row(vec![
            Cell::new(format!("{} {:.1}", severity_band(f.severity), f.severity)),
            Cell::new(&f.finding_type),
            Cell::new(f.service.count).set_alignment(CellAlignment::Right),
            Cell::new(format!("{} {}", f.account_id, f.region).trim().to_string()),
            Cell::new(short_resource(f)),
            Cell::new(&f.service.event_last_seen),
            Cell::new(&f.rule.id),
        ]);
    }
    t.to_string()
}
