//! Trusted lists: no finding stands about an address the user trusts.
//!
//! GuardDuty raises no finding for an address on a trusted IP list. picket keeps such
//! findings but archives them, as a suppression rule would, so a reviewer can still see
//! what was trusted away: `service.archived` is set, `service.additionalInfo.suppressedBy`
//! says `trusted list <name>`, and `service.additionalInfo.trustedBy` names the list and
//! the entry that matched. The address judged is the remote one, the
//! `remoteIpDetails` of the finding's action (the caller of an API, the other end of a
//! connection, the client of a Kubernetes request). Lists scoped to accounts apply to
//! findings of those accounts only.

use serde_json::{json, Value};

use super::Finding;
use crate::event::parse_ip;
use crate::intel::{Intel, ListKind};

/// Archives the findings whose remote address is on a trusted list; returns how many
/// this call archived.
pub fn apply_all(intel: &Intel, findings: &mut [Finding]) -> usize {
    if intel.lists().all(|l| l.kind() != ListKind::Trusted) {
        return 0;
    }
    findings
        .iter_mut()
        .map(|f| apply(intel, f))
        .filter(|&archived| archived)
        .count()
}

/// Archives a finding whose remote address is trusted; true when it did.
pub fn apply(intel: &Intel, finding: &mut Finding) -> bool {
    if finding.service.archived {
        return false;
    }
    let account = (!finding.account_id.is_empty()).then_some(finding.account_id.as_str());
    let hit = remote_ips(&finding.service.action)
        .into_iter()
        .find_map(|ip| {
            intel
                .trusted(ip, account)
                .map(|h| (h.list.to_string(), h.indicator.into_owned(), ip))
        });
    let Some((list, indicator, ip)) = hit else {
        return false;
    };
    finding.service.archived = true;
    let by = json!({ "list": list, "entry": indicator, "ip": ip.to_string() });
    let reason = Value::String(format!("trusted list {list}"));
    let info = &mut finding.service.additional_info;
    if !info.is_object() {
        let value = info.take();
        *info = if value.is_null() {
            json!({})
        } else {
            json!({ "value": value })
        };
    }
    if let Some(map) = info.as_object_mut() {
        map.insert("suppressedBy".to_string(), reason);
        map.insert("trustedBy".to_string(), by);
    }
    true
}

/// The addresses under `remoteIpDetails` anywhere in an action.
fn remote_ips(action: &Value) -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    let Some(kinds) = action.as_object() else {
        return out;
    };
    for detail in kinds.values() {
        let Some(remote) = detail.get("remoteIpDetails") else {
            continue;
        };
        for key in ["ipAddressV4", "ipAddressV6"] {
            if let Some(ip) = remote.get(key).and_then(Value::as_str).and_then(parse_ip) {
                out.push(ip);
            }
        }
    }
    out
}
