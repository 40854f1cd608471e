//! One match -> one [`Finding`], with resource and action shaped by the event's source.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{Finding, RuleRef, Service};
use crate::compile::ir::Test;
use crate::compile::CompiledRule;
use crate::event::{Event, FieldValue, Source};
use crate::intel::ListKind;

/// GuardDuty's severity band of a number.
pub fn severity_band(severity: f64) -> &'static str {
    if severity >= 9.0 {
        "Critical"
    } else if severity >= 7.0 {
        "High"
    } else if severity >= 4.0 {
        "Medium"
    } else {
        "Low"
    }
}

fn text(event: &Event, field: &str) -> Option<String> {
    match event.field(field)? {
        FieldValue::Null => None,
        FieldValue::Str(s) if s.is_empty() => None,
        FieldValue::Str(s) => Some(s.into_owned()),
        other => Some(other.to_string()),
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

fn ip_details(ip: Option<String>) -> Option<Value> {
    let ip = ip?;
    let key = if ip.contains(':') {
        "ipAddressV6"
    } else {
        "ipAddressV4"
    };
    Some(json!({ key: ip }))
}

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The aggregation key of a match: the rule's `group_by` values, `-` for missing ones.
pub fn group_key(rule: &CompiledRule, event: &Event) -> String {
    let mut key = String::new();
    for (i, (_, key_of)) in rule.group_by.iter().enumerate() {
        if i > 0 {
            key.push('\u{1f}');
        }
        match crate::run::eval::operand_value(key_of, event) {
            Some(FieldValue::Str(s)) => key.push_str(&s),
            Some(FieldValue::Null) | None => key.push('-'),
            Some(v) => key.push_str(&v.to_string()),
        }
    }
    key
}

/// Builds the finding for a rule that matched an event (count 1).
pub fn build(
    rule: &CompiledRule,
    event: &Event,
    key: &str,
    matched: Vec<String>,
    detector_id: &str,
    fallback_millis: i64,
) -> Finding {
    let meta = &rule.meta;
    let account = text(event, "account")
        .or_else(|| text(event, "actor.account"))
        .unwrap_or_default();
    let region = text(event, "region").unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(meta.id.as_bytes());
    hasher.update([0]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let time = rfc3339(event.time_millis().unwrap_or(fallback_millis));
    let (resource, action, role) = match event.source {
        Source::CloudTrail | Source::S3Data => api_call(
            event,
            meta.category == crate::compile::load::Category::Bucket,
        ),
        Source::VpcFlow => network(event),
        Source::Dns => dns(event),
        Source::Eks => kubernetes(event),
    };
    let group: Map<String, Value> = rule
        .group_by
        .iter()
        .map(|(name, f)| {
            (
                name.clone(),
                crate::run::eval::operand_value(f, event)
                    .map(|v| v.to_json())
                    .unwrap_or(Value::Null),
            )
        })
        .collect();
    Finding {
        schema_version: "2.0",
        arn: format!("arn:aws:guardduty:{region}:{account}:detector/{detector_id}/finding/{id}"),
        account_id: account,
        region,
        partition: "aws",
        id,
        finding_type: meta.finding_type.clone(),
        resource,
        service: Service {
            service_name: "guardduty",
            detector_id: detector_id.to_string(),
            action,
            evidence: evidence(rule, event),
            archived: false,
            count: 1,
            event_first_seen: time.clone(),
            event_last_seen: time.clone(),
            resource_role: role,
            additional_info: json!({
                "type": "default",
                "value": json!({
                    "rule": meta.id,
                    "ruleVersion": meta.version,
                    "source": event.source.name(),
                    "groupBy": group,
                    "mitre": meta.mitre,
                }).to_string(),
            }),
        },
        severity: meta.severity,
        created_at: time.clone(),
        updated_at: time,
        title: meta.title.clone(),
        description: meta.description.clone(),
        rule: RuleRef {
            id: meta.id.clone(),
            version: meta.version,
        },
        matched,
    }
}

/// Most indicators kept per list in a finding's `threatIntelligenceDetails`.
const MAX_THREAT_NAMES: usize = 20;

/// The evidence of a match: the event, and, when the rule tested threat or reference
/// lists, what each list held that the event matched (GuardDuty's
/// `threatIntelligenceDetails`: the list's name and the indicators).
fn evidence(rule: &CompiledRule, event: &Event) -> Value {
    let mut out = json!({ "events": [event_ref(event)] });
    add_intel_details(&mut out, rule, event);
    out
}

/// Adds to `evidence.threatIntelligenceDetails` the indicators of the rule's threat
/// and reference lists that `event` matched (trusted lists are not evidence of a
/// threat). A rule without list tests costs a walk over its predicates.
pub(crate) fn add_intel_details(evidence: &mut Value, rule: &CompiledRule, event: &Event) {
    for pred in &rule.preds {
        let Test::Intel { lhs, lists } = &pred.test else {
            continue;
        };
        let Some(value) = crate::run::eval::operand_value(lhs, event) else {
            continue;
        };
        for hit in crate::run::eval::intel_hits(lists, &value, event) {
            if hit.kind != ListKind::Trusted {
                add_threat_name(evidence, hit.list, &hit.indicator);
            }
        }
    }
}

/// Adds the `threatIntelligenceDetails` of `other` (a finding of the same rule and key)
/// to those of `evidence`; true when `evidence` changed.
pub fn merge_intel_details(evidence: &mut Value, other: &Value) -> bool {
    let Some(details) = other["threatIntelligenceDetails"].as_array() else {
        return false;
    };
    let mut changed = false;
    for d in details {
        let list = d["threatListName"].as_str().unwrap_or_default();
        for name in d["threatNames"].as_array().into_iter().flatten() {
            changed |= add_threat_name(evidence, list, name.as_str().unwrap_or_default());
        }
    }
    changed
}

/// Adds `indicator` to the threat names of `list` in `evidence`; true when it changed.
fn add_threat_name(evidence: &mut Value, list: &str, indicator: &str) -> bool {
    let Some(map) = evidence.as_object_mut() else {
        return false;
    };
    let mut changed = !map.contains_key("threatIntelligenceDetails");
    let details = map
        .entry("threatIntelligenceDetails")
        .or_insert_with(|| json!([]));
    let Some(details) = details.as_array_mut() else {
        return changed;
    };
    let entry = match details
        .iter()
        .position(|d| d["threatListName"].as_str() == Some(list))
    {
        Some(i) => &mut details[i],
        None => {
            details.push(json!({ "threatListName": list, "threatNames": [] }));
            changed = true;
            let last = details.len() - 1;
            &mut details[last]
        }
    };
    if let Some(names) = entry["threatNames"].as_array_mut() {
        if names.len() < MAX_THREAT_NAMES && !names.iter().any(|n| n.as_str() == Some(indicator)) {
            names.push(json!(indicator));
            changed = true;
        }
    }
    changed
}

/// A reference to an event: where it was read, its id and time.
pub fn event_ref(event: &Event) -> Value {
    let mut m = Map::new();
    m.insert("file".into(), json!(event.origin.file.as_ref()));
    if event.origin.line > 0 {
        m.insert("line".into(), json!(event.origin.line));
    }
    m.insert("record".into(), json!(event.origin.record));
    put(&mut m, "eventId", text(event, "event.id"));
    put(&mut m, "time", event.time_millis().map(rfc3339));
    Value::Object(m)
}

fn api_call(event: &Event, bucket_rule: bool) -> (Value, Value, &'static str) {
    let mut key = Map::new();
    put(&mut key, "accessKeyId", text(event, "actor.access_key"));
    put(&mut key, "principalId", text(event, "actor.principal_id"));
    put(&mut key, "userName", text(event, "actor.name"));
    put(&mut key, "userType", text(event, "actor.type"));
    let mut resource = Map::new();
    let bucket = text(event, "s3.bucket");
    let resource_type = if bucket.is_some() && (bucket_rule || event.source == Source::S3Data) {
        "S3Bucket"
    } else {
        "AccessKey"
    };
    resource.insert("resourceType".into(), json!(resource_type));
    resource.insert("accessKeyDetails".into(), Value::Object(key));
    if let Some(b) = bucket {
        resource.insert(
            "s3BucketDetails".into(),
            json!([{ "arn": format!("arn:aws:s3:::{b}"), "name": b, "type": "Destination" }]),
        );
    }
    if let Some(i) = text(event, "instance.id") {
        resource.insert("instanceDetails".into(), json!({ "instanceId": i }));
    }
    let mut call = Map::new();
    put(&mut call, "api", text(event, "api.operation"));
    put(&mut call, "serviceName", text(event, "api.service"));
    let remote_ip = text(event, "src.ip");
    call.insert(
        "callerType".into(),
        json!(if remote_ip.is_some() {
            "Remote IP"
        } else {
            "AWS Service"
        }),
    );
    put(&mut call, "remoteIpDetails", ip_details(remote_ip));
    put(
        &mut call,
        "domainDetails",
        text(event, "src.host").map(|d| json!({ "domain": d })),
    );
    put(&mut call, "errorCode", text(event, "error.code"));
    put(&mut call, "userAgent", text(event, "user_agent"));
    (
        Value::Object(resource),
        json!({ "actionType": "AWS_API_CALL", "awsApiCallAction": call }),
        "TARGET",
    )
}

fn is_private(ip: &str) -> bool {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        Ok(std::net::IpAddr::V6(v6)) => (v6.segments()[0] & 0xfe00) == 0xfc00 || v6.is_loopback(),
        Err(_) => false,
    }
}

fn network(event: &Event) -> (Value, Value, &'static str) {
    let src = text(event, "src.ip");
    let dst = text(event, "dst.ip");
    let direction = text(event, "net.direction");
    let outbound = match direction.as_deref() {
        Some("egress") => true,
        Some("ingress") => false,
        _ => src.as_deref().is_some_and(is_private) || !dst.as_deref().is_some_and(is_private),
    };
    let (local_ip, local_port, remote_ip, remote_port) = if outbound {
        (src, text(event, "src.port"), dst, text(event, "dst.port"))
    } else {
        (dst, text(event, "dst.port"), src, text(event, "src.port"))
    };
    let mut nic = Map::new();
    put(&mut nic, "networkInterfaceId", text(event, "net.interface"));
    put(&mut nic, "privateIpAddress", local_ip.clone());
    put(&mut nic, "subnetId", text(event, "net.subnet"));
    put(&mut nic, "vpcId", text(event, "net.vpc"));
    let mut instance = Map::new();
    put(&mut instance, "instanceId", text(event, "instance.id"));
    instance.insert("networkInterfaces".into(), json!([nic]));
    let port = |p: Option<String>| {
        p.and_then(|p| p.parse::<i64>().ok())
            .map(|p| json!({ "port": p }))
    };
    let mut conn = Map::new();
    conn.insert(
        "connectionDirection".into(),
        json!(if outbound { "OUTBOUND" } else { "INBOUND" }),
    );
    put(
        &mut conn,
        "protocol",
        text(event, "net.protocol_name").map(|p| p.to_uppercase()),
    );
    conn.insert(
        "blocked".into(),
        json!(text(event, "net.action").as_deref() == Some("REJECT")),
    );
    put(&mut conn, "localPortDetails", port(local_port));
    put(&mut conn, "remotePortDetails", port(remote_port));
    put(&mut conn, "localIpDetails", ip_details(local_ip));
    put(&mut conn, "remoteIpDetails", ip_details(remote_ip));
    (
        json!({ "resourceType": "Instance", "instanceDetails": instance }),
        json!({ "actionType": "NETWORK_CONNECTION", "networkConnectionAction": conn }),
        if outbound { "ACTOR" } else { "TARGET" },
    )
}

fn dns(event: &Event) -> (Value, Value, &'static str) {
    let mut nic = Map::new();
    put(&mut nic, "privateIpAddress", text(event, "src.ip"));
    put(&mut nic, "vpcId", text(event, "net.vpc"));
    let mut instance = Map::new();
    put(&mut instance, "instanceId", text(event, "instance.id"));
    instance.insert("networkInterfaces".into(), json!([nic]));
    let mut req = Map::new();
    put(&mut req, "domain", text(event, "dns.query"));
    put(
        &mut req,
        "protocol",
        text(event, "net.protocol_name").map(|p| p.to_uppercase()),
    );
    req.insert("blocked".into(), json!(false));
    (
        json!({ "resourceType": "Instance", "instanceDetails": instance }),
        json!({ "actionType": "DNS_REQUEST", "dnsRequestAction": req }),
        "ACTOR",
    )
}

fn kubernetes(event: &Event) -> (Value, Value, &'static str) {
    let mut user = Map::new();
    put(&mut user, "username", text(event, "k8s.user"));
    put(&mut user, "uid", text(event, "actor.principal_id"));
    put(
        &mut user,
        "groups",
        event.field("k8s.groups").map(|g| g.to_json()),
    );
    let mut workload = Map::new();
    put(&mut workload, "name", text(event, "k8s.name"));
    put(&mut workload, "namespace", text(event, "k8s.namespace"));
    put(&mut workload, "type", text(event, "k8s.resource"));
    let mut cluster = Map::new();
    put(&mut cluster, "name", text(event, "k8s.cluster"));
    let mut call = Map::new();
    put(&mut call, "requestUri", text(event, "k8s.uri"));
    put(&mut call, "verb", text(event, "k8s.verb"));
    put(
        &mut call,
        "sourceIps",
        event.field("sourceIPs").map(|v| v.to_json()),
    );
    put(&mut call, "userAgent", text(event, "user_agent"));
    put(
        &mut call,
        "remoteIpDetails",
        ip_details(text(event, "src.ip")),
    );
    put(
        &mut call,
        "statusCode",
        event.field("k8s.status_code").map(|v| v.to_json()),
    );
    (
        json!({
            "resourceType": "EKSCluster",
            "eksClusterDetails": cluster,
            "kubernetesDetails": {
                "kubernetesUserDetails": user,
                "kubernetesWorkloadDetails": workload,
            }
        }),
        json!({ "actionType": "KUBERNETES_API_CALL", "kubernetesApiCallAction": call }),
        "TARGET",
    )
}
