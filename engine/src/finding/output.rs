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

fn short_resource(f: &Value) -> String {
    let r = &f["resource"];
    // The first of these JSON pointers that holds a string.
    let first = |pointers: &[&str]| {
        pointers
            .iter()
            .find_map(|p| r.pointer(p).and_then(Value::as_str).map(str::to_string))
    };
    match r.get("resourceType").and_then(Value::as_str) {
        Some("S3Bucket") => first(&["/s3BucketDetails/0/name"]).map(|b| format!("bucket {b}")),
        Some("AccessKey") => first(&[
            "/accessKeyDetails/userName",
            "/accessKeyDetails/accessKeyId",
        ]),
        Some("Instance") => first(&[
            "/instanceDetails/instanceId",
            "/instanceDetails/networkInterfaces/0/networkInterfaceId",
            "/instanceDetails/networkInterfaces/0/privateIpAddress",
        ]),
        Some("EKSCluster") => first(&["/kubernetesDetails/kubernetesUserDetails/username"])
            // EKS names IAM principals by ARN; the name after the last `/` is enough here.
            .map(|u| match u.strip_prefix("arn:") {
                Some(_) => u.rsplit('/').next().unwrap_or(&u).to_string(),
                None => u,
            })
            .map(|u| match first(&["/eksClusterDetails/name"]) {
                Some(c) => format!("{u} @ {c}"),
                None => u,
            }),
        _ => None,
    }
    .unwrap_or_else(|| "-".to_string())
}

/// Findings as a table for a terminal: the type over the rule that raised it (with
/// `(archived)` after the type of an archived finding), the resource over its account and
/// region.
pub fn table(findings: &[Finding]) -> String {
    let values: Vec<Value> = findings
        .iter()
        .filter_map(|f| serde_json::to_value(f).ok())
        .collect();
    table_of_json(&values, false)
}

/// [`table`] for findings as JSON (as the findings store keeps them); `with_id` adds the
/// finding id under the last-seen time, for `picket findings show` and `archive`.
pub fn table_of_json(findings: &[Value], with_id: bool) -> String {
    let mut t = Table::new();
    let last_header = if with_id {
        "last seen (UTC)\nid"
    } else {
        "last seen (UTC)"
    };
    t.load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "severity",
            "finding / rule",
            "count",
            "resource / account",
            last_header,
        ]);
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    for f in findings {
        let place = format!("{} {}", text(&f["accountId"]), text(&f["region"]));
        let last = text(&f["service"]["eventLastSeen"]).replace('T', " ");
        let last = last
            .split('.')
            .next()
            .unwrap_or(&last)
            .trim_end_matches('Z')
            .to_string();
        let last = if with_id {
            format!("{last}\n{}", text(&f["id"]))
        } else {
            last
        };
        let archived = if f["service"]["archived"].as_bool() == Some(true) {
            " (archived)"
        } else {
            ""
        };
        let severity = f["severity"].as_f64().unwrap_or(0.0);
        t.add_row(vec![
            Cell::new(format!("{} {:.1}", severity_band(severity), severity)),
            Cell::new(format!(
                "{}{archived}\n{}",
                text(&f["type"]),
                text(&f["rule"]["id"])
            )),
            Cell::new(f["service"]["count"].as_u64().unwrap_or(0))
                .set_alignment(CellAlignment::Right),
            Cell::new(format!("{}\n{}", short_resource(f), place.trim())),
            Cell::new(last),
        ]);
    }
    t.to_string()
}
