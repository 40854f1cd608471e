//! AWS's published address ranges, `ip-ranges.json`.

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{kind, offset_in, serde_error, string};
use super::{parse_net, shorten, strip_bom, Indicator, Parsed, Positions};

/// Where to get the file, for messages.
const DOWNLOAD: &str = "download it again from https://ip-ranges.amazonaws.com/ip-ranges.json";

/// The top of the file (`syncToken` and `createDate` are not needed).
#[derive(Deserialize)]
struct Ranges<'a> {
    #[serde(borrow, default)]
    prefixes: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ipv6_prefixes: Option<&'a RawValue>,
}

/// One prefix (`region`, `service` and `network_border_group` are not needed).
#[derive(Deserialize)]
struct Prefix<'a> {
    #[serde(borrow, default)]
    ip_prefix: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ipv6_prefix: Option<&'a RawValue>,
}

/// Reads AWS's `ip-ranges.json`: every network of `prefixes[].ip_prefix` and
/// `ipv6_prefixes[].ipv6_prefix`, of any service and region, each with the line of its
/// prefix. A prefix that is not a network of its family is an error at its place; a
/// file that is not JSON is one error where the JSON goes wrong.
pub fn parse_aws_ip_ranges(src: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut pos = Positions::new(src);
    let (body, base) = strip_bom(src);
    let what = "the file is not valid JSON";
    let top: &RawValue = match serde_json::from_str(body) {
        Ok(top) => top,
        Err(e) => {
            parsed
                .errors
                .push(serde_error(&mut pos, base, &e, what, DOWNLOAD));
            return parsed;
        }
    };
    let top_at = offset_in(src, top.get());
    if !top.get().starts_with('{') {
        parsed.errors.push(pos.error(
            top_at,
            format!(
                "the file holds {}, not AWS's address ranges (an object with `prefixes` \
                 and `ipv6_prefixes`); {DOWNLOAD}",
                kind(top)
            ),
        ));
        return parsed;
    }
    let ranges: Ranges<'_> = match serde_json::from_str(top.get()) {
        Ok(r) => r,
        Err(e) => {
            let what = "the file cannot be read as AWS's address ranges";
            parsed
                .errors
                .push(serde_error(&mut pos, top_at, &e, what, DOWNLOAD));
            return parsed;
        }
    };
    if ranges.prefixes.is_none() && ranges.ipv6_prefixes.is_none() {
        parsed.errors.push(pos.error(
            top_at,
            format!(
                "the file has neither `prefixes` nor `ipv6_prefixes`, so it is not AWS's \
                 address ranges; {DOWNLOAD}"
            ),
        ));
        return parsed;
    }
    let families = [
        (ranges.prefixes, "prefixes", Family::V4),
        (ranges.ipv6_prefixes, "ipv6_prefixes", Family::V6),
    ];
    for (list, list_name, family) in families {
        if let Some(list) = list {
            read_list(src, &mut pos, list, list_name, family, &mut parsed);
        }
    }
    parsed
}

/// The address family of a list of prefixes.
#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
}

/// Reads one of the lists, `prefixes` or `ipv6_prefixes`.
fn read_list(
    src: &str,
    pos: &mut Positions<'_>,
    list: &RawValue,
    list_name: &str,
    family: Family,
    parsed: &mut Parsed,
) {
    let list_at = offset_in(src, list.get());
    let items: Vec<&RawValue> = match serde_json::from_str(list.get()) {
        Ok(items) if list.get().starts_with('[') => items,
        _ => {
            parsed.errors.push(pos.error(
                list_at,
                format!(
                    "`{list_name}` is {}, not a list of prefixes; {DOWNLOAD}",
                    kind(list)
                ),
            ));
            return;
        }
    };
    let (key, example) = match family {
        Family::V4 => ("ip_prefix", "3.5.140.0/22"),
        Family::V6 => ("ipv6_prefix", "2600:1f14::/35"),
    };
    for item in items {
        let item_at = offset_in(src, item.get());
        if !item.get().starts_with('{') {
            parsed.errors.push(pos.error(
                item_at,
                format!(
                    "this entry of `{list_name}` is {}, not an object with `{key}`; \
                     {DOWNLOAD}",
                    kind(item)
                ),
            ));
            continue;
        }
        let prefix: Prefix<'_> = match serde_json::from_str(item.get()) {
            Ok(prefix) => prefix,
            Err(e) => {
                let what = format!("this entry of `{list_name}` cannot be read");
                parsed
                    .errors
                    .push(serde_error(pos, item_at, &e, &what, DOWNLOAD));
                continue;
            }
        };
        let value = match family {
            Family::V4 => prefix.ip_prefix,
            Family::V6 => prefix.ipv6_prefix,
        };
        let Some(value) = value else {
            parsed.errors.push(pos.error(
                item_at,
                format!("this entry of `{list_name}` has no `{key}`; {DOWNLOAD}"),
            ));
            continue;
        };
        let value_at = offset_in(src, value.get());
        let Some(text) = string(value) else {
            parsed.errors.push(pos.error(
                value_at,
                format!(
                    "`{key}` is {}, not a network in quotes such as \"{example}\"; {DOWNLOAD}",
                    kind(value)
                ),
            ));
            continue;
        };
        match (family, parse_net(text.trim())) {
            (Family::V4, Some(net @ IpNet::V4(_))) | (Family::V6, Some(net @ IpNet::V6(_))) => {
                let (line, _) = pos.at(value_at);
                parsed.entries.push((Indicator::Net(net), line));
            }
            _ => {
                let family_name = match family {
                    Family::V4 => "an IPv4",
                    Family::V6 => "an IPv6",
                };
                parsed.errors.push(pos.error(
                    value_at,
                    format!(
                        "`{}` is not {family_name} network such as {example}; fix `{key}` \
                         or {DOWNLOAD}",
                        shorten(&text)
                    ),
                ));
            }
        }
    }
}
