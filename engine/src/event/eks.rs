//! EKS (Kubernetes) audit events, and the CloudWatch Logs shapes they arrive in.
//!
//! An audit event is an `audit.k8s.io/v1` `Event` object (`kind`, `apiVersion`,
//! `auditID`, `verb`, `user`, `objectRef` …), kept whole as parsed. EKS sends its
//! control-plane audit log to CloudWatch Logs, so the events usually come wrapped:
//!
//! - an export record per line: `{"timestamp": 1714550400000, "message": "<event JSON>"}`
//!   (optionally with `logGroup`/`logGroupName`, `logStream`, `ingestionTime` …);
//! - a subscription payload (what a subscription filter sends to Lambda, Kinesis or
//!   Firehose, usually gzipped): `{"messageType": "DATA_MESSAGE", "logGroup":
//!   "/aws/eks/<cluster>/cluster", "logEvents": [{"id", "timestamp", "message"}]}`;
//!   `CONTROL_MESSAGE` payloads carry no events.
//!
//! The wrappers are recognized here and unwrapped by the reader, which classifies each
//! message by its own content (a wrapper may just as well carry CloudTrail or flow-log
//! lines). The log group is kept on the event ([`Event::log_group`]); `k8s.cluster` is
//! the `<cluster>` of an `/aws/eks/<cluster>/cluster` group.

use std::borrow::Cow;

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::path::{get, get_str};
use super::value::parse_rfc3339;
use super::{Event, FieldValue, Raw};

/// The top-level keys of an `audit.k8s.io/v1` `Event`.
pub(crate) const RAW_ROOTS: &[&str] = &[
    "kind",
    "apiVersion",
    "level",
    "auditID",
    "stage",
    "requestURI",
    "verb",
    "user",
    "impersonatedUser",
    "sourceIPs",
    "userAgent",
    "objectRef",
    "responseStatus",
    "requestObject",
    "responseObject",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "annotations",
];

/// True when the JSON object is a Kubernetes audit event.
pub(crate) fn is_record(v: &Value) -> bool {
    let api = get_str(v, &["apiVersion"]).unwrap_or("");
    (get_str(v, &["kind"]) == Some("Event") && api.starts_with("audit.k8s.io/"))
        || (v.get("auditID").is_some() && v.get("verb").is_some() && v.get("stage").is_some())
}

/// A CloudWatch Logs wrapper around log events.
pub(crate) enum Wrapper<'a> {
    /// A subscription payload with its events (each has a `message`).
    Subscription {
        /// The log group, when given.
        log_group: Option<&'a str>,
        /// The `logEvents` array.
        events: &'a [Value],
    },
    /// A subscription `CONTROL_MESSAGE`: no events.
    Control,
    /// One exported log event.
    Record {
        /// The log group, when given.
        log_group: Option<&'a str>,
        /// The log event's text.
        message: &'a str,
    },
}

/// Recognizes a CloudWatch Logs wrapper.
pub(crate) fn wrapper(v: &Value) -> Option<Wrapper<'_>> {
    let log_group = get_str(v, &["logGroup"]).or_else(|| get_str(v, &["logGroupName"]));
    if let Some(kind) = get_str(v, &["messageType"]) {
        if kind == "CONTROL_MESSAGE" {
            return Some(Wrapper::Control);
        }
        let events = get(v, &["logEvents"])?.as_array()?;
        return Some(Wrapper::Subscription {
            log_group,
            events: events.as_slice(),
        });
    }
    let message = get_str(v, &["message"])?;
    get(v, &["timestamp"])?;
    Some(Wrapper::Record { log_group, message })
}

/// The cluster name of an EKS control-plane log group `/aws/eks/<cluster>/cluster`.
pub fn cluster_from_log_group(group: &str) -> Option<&str> {
    let name = group.strip_prefix("/aws/eks/")?.strip_suffix("/cluster")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

fn json(ev: &Event) -> Option<&Value> {
    match &ev.raw {
        Raw::Json(v) => Some(v),
        Raw::Flow(_) => None,
    }
}

/// `time`: `requestReceivedTimestamp`, else `stageTimestamp`.
pub(crate) fn time(ev: &Event) -> Option<FieldValue<'_>> {
    let v = json(ev)?;
    let text =
        get_str(v, &["requestReceivedTimestamp"]).or_else(|| get_str(v, &["stageTimestamp"]))?;
    parse_rfc3339(text).map(FieldValue::Time)
}

/// `outcome`: `failure` when `responseStatus.code` is 400 or more.
pub(crate) fn outcome(ev: &Event) -> Option<FieldValue<'_>> {
    let code = get(json(ev)?, &["responseStatus", "code"])?.as_i64()?;
    Some(FieldValue::str(if code >= 400 {
        "failure"
    } else {
        "success"
    }))
}

/// `src.ip`: the first of `sourceIPs`.
pub(crate) fn src_ip(ev: &Event) -> Option<FieldValue<'_>> {
    let ip = get(json(ev)?, &["sourceIPs"])?
        .as_array()?
        .first()?
        .as_str()?;
    Some(FieldValue::str(ip))
}

/// `actor.type`: `ServiceAccount`, `Anonymous`, `Node` or `User`, from `user.username`.
pub(crate) fn actor_type(ev: &Event) -> Option<FieldValue<'_>> {
    let user = get_str(json(ev)?, &["user", "username"])?;
    let kind = if user.starts_with("system:serviceaccount:") {
        "ServiceAccount"
    } else if user == "system:anonymous" {
        "Anonymous"
    } else if user.starts_with("system:node:") {
        "Node"
    } else {
        "User"
    };
    Some(FieldValue::str(kind))
}

/// `actor.arn`: the IAM identity EKS maps the user from (`user.extra.arn[0]`).
pub(crate) fn actor_arn(ev: &Event) -> Option<FieldValue<'_>> {
    let arn = get(json(ev)?, &["user", "extra", "arn"])?;
    let arn = match arn.as_array() {
        Some(list) => list.first()?.as_str()?,
        None => arn.as_str()?,
    };
    Some(FieldValue::str(arn))
}

/// `k8s.cluster`: the cluster named by the event's CloudWatch Logs log group.
pub(crate) fn cluster(ev: &Event) -> Option<FieldValue<'_>> {
    let group = ev.log_group.as_deref()?;
    cluster_from_log_group(group).map(|c| FieldValue::Str(Cow::Borrowed(c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::reader::tests::{check_fields, read_fixture, FieldCase};
    use crate::event::Source;

    #[test]
    fn cluster_names() {
        assert_eq!(
            cluster_from_log_group("/aws/eks/prod-eu/cluster"),
            Some("prod-eu")
        );
        assert_eq!(cluster_from_log_group("/aws/eks//cluster"), None);
        assert_eq!(cluster_from_log_group("/aws/lambda/x"), None);
    }

    /// Every catalog field served for audit events, checked on `testdata/eks/`.
    #[test]
    fn serves_every_catalog_field() {
        let cases: &[FieldCase] = &[
            (
                "eks/audit.jsonl",
                0,
                &[
                    ("source", "eks"),
                    ("time", "2024-05-01T10:20:30.123Z"),
                    ("event.id", "7f3c2a9e-1b4d-4c8e-9f2a-6d5e4c3b2a10"),
                    ("outcome", "success"),
                    ("user_agent", "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625"),
                    ("src.ip", "198.51.100.23"),
                    ("actor.type", "User"),
                    ("actor.arn", "arn:aws:sts::111122223333:assumed-role/eks-admins/alice"),
                    ("actor.name", "arn:aws:sts::111122223333:assumed-role/eks-admins/alice"),
                    ("actor.principal_id", "aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID1234"),
                    ("actor.groups", r#"["system:masters","system:authenticated"]"#),
                    ("k8s.verb", "create"),
                    ("k8s.resource", "pods"),
                    ("k8s.subresource", "exec"),
                    ("k8s.namespace", "payments"),
                    ("k8s.name", "api-6d9f7c8b5-x2x7q"),
                    ("k8s.user", "arn:aws:sts::111122223333:assumed-role/eks-admins/alice"),
                    ("k8s.groups", r#"["system:masters","system:authenticated"]"#),
                    ("k8s.uri", "/api/v1/namespaces/payments/pods/api-6d9f7c8b5-x2x7q/exec?command=sh&stdin=true&stdout=true&tty=true"),
                    ("k8s.stage", "ResponseStarted"),
                    ("k8s.status_code", "101"),
                    ("k8s.decision", "allow"),
                    ("k8s.reason", "EKS Access Policy: allowed by ClusterRoleBinding \"arn:aws:iam::111122223333:role/eks-admins+arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\" of ClusterRole \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\" to User \"alice\""),
                ],
            ),
            (
                "eks/audit.jsonl",
                1,
                &[
                    ("actor.type", "Anonymous"),
                    ("outcome", "failure"),
                    ("error.code", "Forbidden"),
                    ("error.message", "secrets is forbidden: User \"system:anonymous\" cannot list resource \"secrets\" in API group \"\" at the cluster scope"),
                    ("k8s.status_code", "403"),
                    ("k8s.decision", "forbid"),
                    ("time", "2024-05-01T10:21:00.500Z"),
                ],
            ),
            (
                "eks/audit.jsonl",
                2,
                &[
                    ("actor.type", "ServiceAccount"),
                    ("k8s.api_group", "rbac.authorization.k8s.io"),
                    ("k8s.resource", "clusterrolebindings"),
                ],
            ),
            (
                "eks/audit.jsonl",
                3,
                &[("actor.type", "Node"), ("time", "2024-05-01T10:23:00Z")],
            ),
            (
                "eks/subscription.json",
                0,
                &[("k8s.cluster", "prod-eu"), ("k8s.verb", "get")],
            ),
        ];
        check_fields(cases, &[Source::Eks]);
    }

    #[test]
    fn cloudwatch_shapes_unwrap() {
        let exported = read_fixture("eks/cloudwatch-export.jsonl");
        assert_eq!(exported.len(), 2);
        assert!(exported.iter().all(|e| e.source == Source::Eks));
        assert_eq!(exported[0].field("k8s.verb").unwrap().to_string(), "list");
        // The export record names its log group on the first line only.
        assert_eq!(
            exported[0].field("k8s.cluster").unwrap().to_string(),
            "staging"
        );
        assert!(exported[1].field("k8s.cluster").is_none());

        let sub = read_fixture("eks/subscription.json");
        assert_eq!(sub.len(), 2);
        assert_eq!(sub[1].origin.record, 1);
        assert_eq!(sub[1].field("k8s.verb").unwrap().to_string(), "delete");
        assert_eq!(
            sub[1].log_group.as_deref(),
            Some("/aws/eks/prod-eu/cluster")
        );
    }
}
