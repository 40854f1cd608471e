//! VPC Flow Logs records: one text line, space-separated fields.
//!
//! The field order is a [`FlowFormat`]: the default version 2 format (14 fields, no
//! header, as delivered to CloudWatch Logs) unless a header line of field names
//! (`version account-id interface-id srcaddr …`, as written at the top of each file
//! delivered to S3) defines a custom one with v3–v5 fields. A [`FlowRecord`] keeps the
//! line and the byte range of each field, so reading a field is a slice, not a copy.
//! `-` means the field has no value (NODATA / SKIPDATA records have `-` addresses).
//! Numeric fields (`srcport`, `bytes`, `start` …) read as integers.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::{Event, FieldValue, Raw};

/// The default format (version 2), in order.
pub const V2_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// Every documented field name (versions 2 to 5, plus the ECS fields of version 7 and
/// `reject-reason` of version 8).
pub(crate) const RAW_ROOTS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
];

/// Fields whose values are integers.
const NUMERIC: &[&str] = &[
    "version",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "tcp-flags",
    "traffic-path",
];

/// The order of fields in flow-log lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowFormat {
    names: Box<[Box<str>]>,
    /// Name -> (column, holds integers), for reading a field by name in one lookup.
    columns: rustc_hash::FxHashMap<Box<str>, (usize, bool)>,
    /// Where the format comes from, for messages: `default version 2 format` or
    /// `format from the header at line 3`.
    origin: String,
}

impl FlowFormat {
    /// The default version 2 format.
    pub fn v2() -> FlowFormat {
        FlowFormat::of(
            V2_FIELDS.iter().map(|n| Box::from(*n)).collect(),
            "default version 2 format".to_owned(),
        )
    }

    /// The format a header line defines (`line` is its line number, for messages).
    pub fn from_header(header: &str, line: u64) -> FlowFormat {
        FlowFormat::of(
            header.split_ascii_whitespace().map(Box::from).collect(),
            format!("format from the header at line {line}"),
        )
    }

    fn of(names: Box<[Box<str>]>, origin: String) -> FlowFormat {
        let mut columns = rustc_hash::FxHashMap::default();
        for (i, name) in names.iter().enumerate() {
            // A name given twice reads its first column, as a scan of the names would.
            columns.entry(name.clone()).or_insert((i, is_numeric(name)));
        }
        FlowFormat {
            names,
            columns,
            origin,
        }
    }

    /// The field names, in order.
    pub fn names(&self) -> &[Box<str>] {
        &self.names
    }

    /// The column of the field `name`.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.columns.get(name).map(|&(i, _)| i)
    }
}

/// True when the line is a header of field names: every token is a name made of
/// lower-case letters, digits and `-`, and at least two are documented flow fields.
pub(crate) fn is_header(line: &str) -> bool {
    let mut known = 0;
    for tok in line.split_ascii_whitespace() {
        let b = tok.as_bytes();
        if !b.first().is_some_and(u8::is_ascii_lowercase)
            || !b
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        {
            return false;
        }
        known += usize::from(RAW_ROOTS.contains(&tok));
    }
    known >= 2
}

/// True when the line has the shape of a record of `format` (used to recognize flow
/// content at the start of a file): the right number of fields and, when the format
/// starts with `version`, a number first.
pub(crate) fn looks_like_record(line: &str, format: &FlowFormat) -> bool {
    let mut toks = line.split_ascii_whitespace();
    let first = toks.next().unwrap_or("");
    let version_ok =
        format.names.first().map(|n| &**n) != Some("version") || first.parse::<u32>().is_ok();
    version_ok && 1 + toks.count() == format.names.len()
}

/// True for the fields whose values are integers (`srcport`, `bytes`, `start` …).
pub(crate) fn is_numeric(name: &str) -> bool {
    NUMERIC.contains(&name)
}

/// One flow-log record: the line, where each field is, and the format naming them.
pub struct FlowRecord {
    line: Box<str>,
    spans: Box<[(u32, u32)]>,
    format: Arc<FlowFormat>,
}

impl FlowRecord {
    /// Splits a line by `format`. The error says how many fields were expected.
    pub fn parse(line: &str, format: &Arc<FlowFormat>) -> Result<FlowRecord, String> {
        let line = line.trim_end();
        let base = line.as_ptr() as usize;
        // Sized for the format (one allocation): a collect would grow 4, 8, 16 ….
        let mut spans = Vec::with_capacity(format.names.len());
        spans.extend(line.split_ascii_whitespace().map(|tok| {
            let start = tok.as_ptr() as usize - base;
            (start as u32, (start + tok.len()) as u32)
        }));
        let spans = spans.into_boxed_slice();
        if spans.len() != format.names.len() {
            return Err(format!(
                "expected {} fields ({}), found {}",
                format.names.len(),
                format.origin,
                spans.len()
            ));
        }
        Ok(FlowRecord {
            line: Box::from(line),
            spans,
            format: Arc::clone(format),
        })
    }

    /// The text of a field; `None` when the format has no such field or it is `-`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let (s, e) = self.spans[self.format.position(name)?];
        let text = &self.line[s as usize..e as usize];
        (text != "-").then_some(text)
    }

    /// A field as a value: integers for numeric fields, text otherwise.
    pub fn value(&self, name: &str) -> Option<FieldValue<'_>> {
        let &(index, numeric) = self.format.columns.get(name)?;
        self.value_at(index, numeric)
    }

    /// [`FlowRecord::value`] of the field `name` found at column `index` of the format
    /// (for readers that look the column up once per format).
    pub(crate) fn value_at(&self, index: usize, numeric: bool) -> Option<FieldValue<'_>> {
        let &(s, e) = self.spans.get(index)?;
        let text = &self.line[s as usize..e as usize];
        if text == "-" {
            return None;
        }
        if numeric {
            if let Ok(n) = text.parse::<i64>() {
                return Some(FieldValue::Int(n));
            }
        }
        Some(FieldValue::Str(Cow::Borrowed(text)))
    }

    /// The whole line.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The format naming the fields.
    pub fn format(&self) -> &FlowFormat {
        &self.format
    }

    /// The shared format, to tell whether two records have the same one.
    pub(crate) fn format_arc(&self) -> &Arc<FlowFormat> {
        &self.format
    }

    /// Every field as `(name, text)`, `-` included.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.format
            .names
            .iter()
            .zip(self.spans.iter())
            .map(|(n, &(s, e))| (&**n, &self.line[s as usize..e as usize]))
    }
}

impl fmt::Debug for FlowRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowRecord")
            .field("line", &self.line)
            .finish()
    }
}

fn flow(ev: &Event) -> Option<&FlowRecord> {
    match &ev.raw {
        Raw::Flow(r) => Some(r),
        Raw::Json(_) => None,
    }
}

/// `net.protocol_name`: `tcp`, `udp`, `icmp`, `icmpv6`, else the number.
pub(crate) fn protocol_name(ev: &Event) -> Option<FieldValue<'_>> {
    let text = flow(ev)?.get("protocol")?;
    Some(FieldValue::Str(match text {
        "6" => Cow::Borrowed("tcp"),
        "17" => Cow::Borrowed("udp"),
        "1" => Cow::Borrowed("icmp"),
        "58" => Cow::Borrowed("icmpv6"),
        other => Cow::Borrowed(other),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::reader::tests::{check_fields, read_fixture, FieldCase};
    use crate::event::Source;

    #[test]
    fn splits_and_types_fields() {
        let fmt = Arc::new(FlowFormat::v2());
        let r = FlowRecord::parse(
            "2 111122223333 eni-0a1b2c3d 10.0.1.5 203.0.113.9 49152 443 6 10 840 1714550400 1714550460 ACCEPT OK",
            &fmt,
        )
        .unwrap();
        assert_eq!(r.get("srcaddr"), Some("10.0.1.5"));
        assert_eq!(r.value("dstport"), Some(FieldValue::Int(443)));
        assert_eq!(r.value("action"), Some(FieldValue::str("ACCEPT")));
        assert_eq!(r.get("vpc-id"), None);
        assert_eq!(r.fields().count(), 14);
        let err = FlowRecord::parse("2 111122223333 eni-0a1b2c3d", &fmt).err();
        assert_eq!(
            err.as_deref(),
            Some("expected 14 fields (default version 2 format), found 3")
        );
    }

    #[test]
    fn recognizes_headers() {
        assert!(is_header(&V2_FIELDS.join(" ")));
        assert!(is_header("srcaddr dstaddr flow-direction"));
        assert!(!is_header(
            "2 111122223333 eni-1 - - - - - - - 1 2 - NODATA"
        ));
        assert!(!is_header("hello world"));
        assert!(!is_header("Version srcaddr"));
    }

    /// Every catalog field served for flow records, checked on `testdata/vpcflow/`.
    #[test]
    fn serves_every_catalog_field() {
        let cases: &[FieldCase] = &[
            (
                "vpcflow/default-v2.log",
                0,
                &[
                    ("source", "vpcflow"),
                    ("time", "2024-05-01T08:00:00Z"),
                    ("account", "111122223333"),
                    ("src.ip", "10.0.1.25"),
                    ("src.port", "49152"),
                    ("dst.ip", "198.51.100.7"),
                    ("dst.port", "443"),
                    ("net.interface", "eni-0a1b2c3d4e5f67890"),
                    ("net.protocol", "6"),
                    ("net.protocol_name", "tcp"),
                    ("net.packets", "12"),
                    ("net.bytes", "4820"),
                    ("net.action", "ACCEPT"),
                    ("net.log_status", "OK"),
                    ("net.start", "2024-05-01T08:00:00Z"),
                    ("net.end", "2024-05-01T08:00:58Z"),
                ],
            ),
            (
                "vpcflow/default-v2.log",
                1,
                &[("net.protocol_name", "udp"), ("net.action", "REJECT")],
            ),
            (
                "vpcflow/default-v2.log",
                2,
                &[("net.protocol_name", "icmp")],
            ),
            (
                "vpcflow/custom-v5.log",
                0,
                &[
                    ("source", "vpcflow"),
                    ("region", "eu-west-1"),
                    ("net.vpc", "vpc-0123456789abcdef0"),
                    ("net.subnet", "subnet-0fedcba9876543210"),
                    ("instance.id", "i-0123456789abcdef0"),
                    ("net.tcp_flags", "19"),
                    ("net.direction", "egress"),
                    ("src.ip", "10.20.3.14"),
                    ("dst.ip", "192.0.2.77"),
                    ("net.protocol_name", "tcp"),
                ],
            ),
            (
                "vpcflow/custom-v5.log",
                1,
                &[
                    ("net.direction", "ingress"),
                    ("net.protocol_name", "icmpv6"),
                ],
            ),
        ];
        check_fields(cases, &[Source::VpcFlow]);
    }

    #[test]
    fn nodata_records_have_status_and_no_addresses() {
        let events = read_fixture("vpcflow/default-v2.log");
        let ev = events
            .iter()
            .find(|e| {
                e.field("net.log_status")
                    .is_some_and(|v| v.as_str() == Some("NODATA"))
            })
            .unwrap();
        assert!(ev.field("src.ip").is_none());
        assert!(ev.field("dst.port").is_none());
        assert!(ev.field("net.action").is_none());
        assert_eq!(ev.field("account").unwrap().to_string(), "111122223333");
        assert!(ev.time_millis().is_some());
        let skip = events.iter().find(|e| {
            e.field("net.log_status")
                .is_some_and(|v| v.as_str() == Some("SKIPDATA"))
        });
        assert!(skip.is_some());
    }
}
