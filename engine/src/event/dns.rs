//! Route 53 Resolver query logs: one JSON object per DNS query made from a VPC.
//!
//! A record is recognized by `query_name` together with `query_timestamp` or
//! `query_type`, and kept whole as parsed. `dns.query` drops the trailing dot of the
//! fully qualified `query_name`; `net.protocol_name` is the `transport` lower-cased.

use std::borrow::Cow;

use sonic_rs::{JsonValueTrait, Value};

use super::path::get_str;
use super::{Event, FieldValue, Raw};

/// The documented top-level keys of a Resolver query log record.
pub(crate) const RAW_ROOTS: &[&str] = &[
    "version",
    "account_id",
    "region",
    "vpc_id",
    "query_timestamp",
    "query_name",
    "query_type",
    "query_class",
    "rcode",
    "answers",
    "srcaddr",
    "srcport",
    "transport",
    "srcids",
    "firewall_rule_action",
    "firewall_rule_group_id",
    "firewall_domain_list_id",
];

/// True when the JSON object is a Resolver query log record.
pub(crate) fn is_record(v: &Value) -> bool {
    v.get("query_name").is_some()
        && (v.get("query_timestamp").is_some() || v.get("query_type").is_some())
}

fn json(ev: &Event) -> Option<&Value> {
    match &ev.raw {
        Raw::Json(v) => Some(v),
        Raw::Flow(_) => None,
    }
}

/// `dns.query`: `query_name` without its trailing dot.
pub(crate) fn query(ev: &Event) -> Option<FieldValue<'_>> {
    let name = get_str(json(ev)?, &["query_name"])?;
    let name = name.strip_suffix('.').unwrap_or(name);
    Some(FieldValue::str(name))
}

/// `net.protocol_name`: `transport` lower-cased (`udp`, `tcp`, `doh` …).
pub(crate) fn transport(ev: &Event) -> Option<FieldValue<'_>> {
    let t = get_str(json(ev)?, &["transport"])?;
    Some(FieldValue::Str(match t {
        "UDP" => Cow::Borrowed("udp"),
        "TCP" => Cow::Borrowed("tcp"),
        t if t.bytes().any(|c| c.is_ascii_uppercase()) => Cow::Owned(t.to_ascii_lowercase()),
        t => Cow::Borrowed(t),
    }))
}

#[cfg(test)]
mod tests {
    use crate::event::reader::tests::{check_fields, read_fixture, FieldCase};
    use crate::event::Source;

    /// Every catalog field served for Resolver records, checked on `testdata/dns/`.
    #[test]
    fn serves_every_catalog_field() {
        let cases: &[FieldCase] = &[
            (
                "dns/resolver.jsonl",
                0,
                &[
                    ("source", "dns"),
                    ("time", "2024-05-01T09:12:44Z"),
                    ("account", "111122223333"),
                    ("region", "us-east-1"),
                    ("src.ip", "10.0.1.25"),
                    ("src.port", "53124"),
                    ("instance.id", "i-0a1b2c3d4e5f67890"),
                    ("net.vpc", "vpc-0b1d2b3f4e5a6b7c8"),
                    ("net.protocol_name", "udp"),
                    ("dns.query", "www.example.com"),
                    ("dns.type", "A"),
                    ("dns.class", "IN"),
                    ("dns.rcode", "NOERROR"),
                    (
                        "dns.answers",
                        r#"["www.example.com.edgesuite.net.","192.0.2.44"]"#,
                    ),
                ],
            ),
            (
                "dns/resolver.jsonl",
                1,
                &[
                    ("dns.query", "xmr.pool.minergate.com"),
                    ("dns.rcode", "NXDOMAIN"),
                    ("dns.type", "TXT"),
                    ("net.protocol_name", "tcp"),
                ],
            ),
            (
                "dns/resolver.jsonl",
                2,
                &[("net.protocol_name", "doh"), ("dns.type", "AAAA")],
            ),
        ];
        check_fields(cases, &[Source::Dns]);
    }

    #[test]
    fn missing_answers_and_instance() {
        let events = read_fixture("dns/resolver.jsonl");
        // No answers (NXDOMAIN): missing, not an empty list.
        assert!(events[1].field("dns.answers").is_none());
        // No instance behind the query (it came through an inbound endpoint).
        assert!(events[2].field("instance.id").is_none());
    }
}
