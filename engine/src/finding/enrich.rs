//! Geo details of a finding's remote address: `remoteIpDetails` gains `country`,
//! `city` and `organization` (GuardDuty's names) from the databases given with
//! `--geoip`, after the findings are aggregated (one lookup per finding, not per event).

use serde_json::{json, Map, Value};

use crate::event::{parse_ip, FieldValue};
use crate::intel::geo::{GeoAttr, GeoDb};

/// Adds geo details to the `remoteIpDetails` of every finding.
pub fn enrich_all(db: &GeoDb, findings: &mut [super::Finding]) {
    if db.is_empty() {
        return;
    }
    for finding in findings {
        let Some(kinds) = finding.service.action.as_object_mut() else {
            continue;
        };
        for detail in kinds.values_mut() {
            if let Some(Value::Object(remote)) = detail.get_mut("remoteIpDetails") {
                enrich(db, remote);
            }
        }
    }
}

fn enrich(db: &GeoDb, remote: &mut Map<String, Value>) {
    let ip = ["ipAddressV4", "ipAddressV6"]
        .iter()
        .find_map(|k| remote.get(*k).and_then(Value::as_str).and_then(parse_ip));
    let Some(ip) = ip else {
        return;
    };
    let text = |attr| match db.lookup(ip, attr) {
        Some(FieldValue::Str(s)) => Some(s.into_owned()),
        _ => None,
    };
    let mut country = Map::new();
    if let Some(code) = text(GeoAttr::Country) {
        country.insert("countryCode".into(), json!(code));
    }
    if let Some(name) = text(GeoAttr::CountryName) {
        country.insert("countryName".into(), json!(name));
    }
    if !country.is_empty() {
        remote.insert("country".into(), Value::Object(country));
    }
    if let Some(city) = text(GeoAttr::City) {
        remote.insert("city".into(), json!({ "cityName": city }));
    }
    let mut org = Map::new();
    if let Some(FieldValue::Int(asn)) = db.lookup(ip, GeoAttr::Asn) {
        org.insert("asn".into(), json!(asn.to_string()));
    }
    if let Some(name) = text(GeoAttr::AsOrg) {
        org.insert("asnOrg".into(), json!(name));
    }
    if !org.is_empty() {
        remote.insert("organization".into(), Value::Object(org));
    }
}
