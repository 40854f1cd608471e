//! EventBridge event patterns, compiled once and matched against a finding's event.
//!
//! A pattern is a JSON object whose keys are fields of the event and whose values are
//! either nested objects (the fields inside) or arrays of conditions, any of which may
//! hold; every field of an object must hold. `$or` joins sub-patterns. A field whose
//! value in the event is an array holds when one of its elements does. The conditions
//! are those of EventBridge: exact values (`"Recon:IAMUser/TorIPCaller"`, `7`, `true`,
//! `null`), `prefix`, `suffix`, `equals-ignore-case`, `anything-but`, `numeric`,
//! `exists`, `wildcard` and `cidr`.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value};

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    /// Every field holds, and every `$or` has a sub-pattern that holds.
    All {
        fields: Vec<(String, Field)>,
        ors: Vec<Vec<Node>>,
    },
}

#[derive(Debug, Clone)]
enum Field {
    Nested(Node),
    AnyOf(Vec<Cond>),
}

#[derive(Debug, Clone)]
enum Cond {
    Equals(Value),
    Prefix(String, bool),
    Suffix(String, bool),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Cond>),
    Numeric(Vec<(Cmp, f64)>),
    Exists(bool),
    Wildcard(Vec<String>),
    Cidr(IpNet),
}

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Pattern {
    /// Compiles a pattern; the error names the path inside it and what was expected.
    pub fn compile(pattern: &Value) -> Result<Pattern, String> {
        let Value::Object(obj) = pattern else {
            return Err("a pattern is a table of fields, like `{ detail = { severity = [{ numeric = [\">=\", 7] }] } }`".into());
        };
        Ok(Pattern {
            root: node(obj, "")?,
        })
    }

    /// Does `event` match?
    pub fn matches(&self, event: &Value) -> bool {
        holds(&self.root, event)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn node(obj: &Map<String, Value>, path: &str) -> Result<Node, String> {
    let mut fields = Vec::new();
    let mut ors = Vec::new();
    for (key, value) in obj {
        let here = join(path, key);
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err(format!("`{here}`: `$or` takes a list of patterns"));
            };
            let mut alts = Vec::new();
            for (i, alt) in alternatives.iter().enumerate() {
                let Value::Object(o) = alt else {
                    return Err(format!(
                        "`{here}[{i}]`: each `$or` alternative is a table of fields"
                    ));
                };
                alts.push(node(o, path)?);
            }
            if alts.is_empty() {
                return Err(format!("`{here}`: `$or` needs at least one pattern"));
            }
            ors.push(alts);
            continue;
        }
        let field = match value {
            Value::Object(o) => Field::Nested(node(o, &here)?),
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(format!("`{here}`: an empty list matches nothing; give at least one value or condition"));
                }
                Field::AnyOf(
                    items
                        .iter()
                        .map(|item| cond(item, &here))
                        .collect::<Result<_, _>>()?,
                )
            }
            other => {
                return Err(format!(
                    "`{here}`: values go in a list, `[{other}]` rather than `{other}`"
                ))
            }
        };
        fields.push((key.clone(), field));
    }
    Ok(Node::All { fields, ors })
}

fn text_or_ignore_case(v: &Value, path: &str, op: &str) -> Result<(String, bool), String> {
    match v {
        Value::String(s) => Ok((s.clone(), false)),
        Value::Object(o) if o.len() == 1 => match o.get("equals-ignore-case") {
            Some(Value::String(s)) => Ok((s.to_lowercase(), true)),
            _ => Err(format!(
                "`{path}`: `{op}` takes text, or `{{ equals-ignore-case = \"…\" }}`"
            )),
        },
        _ => Err(format!("`{path}`: `{op}` takes text")),
    }
}

fn cond(item: &Value, path: &str) -> Result<Cond, String> {
    let Value::Object(o) = item else {
        return Ok(Cond::Equals(item.clone()));
    };
    if o.len() != 1 {
        return Err(format!(
            "`{path}`: a condition is a table with one key (`prefix`, `numeric`, `exists`…)"
        ));
    }
    let Some((op, arg)) = o.iter().next() else {
        return Err(format!("`{path}`: an empty condition"));
    };
    let at = format!("{path}.{op}");
    match op.as_str() {
        "prefix" => text_or_ignore_case(arg, &at, op).map(|(s, i)| Cond::Prefix(s, i)),
        "suffix" => text_or_ignore_case(arg, &at, op).map(|(s, i)| Cond::Suffix(s, i)),
        "equals-ignore-case" => match arg {
            Value::String(s) => Ok(Cond::EqualsIgnoreCase(s.to_lowercase())),
            _ => Err(format!("`{at}`: takes text")),
        },
        "exists" => match arg {
            Value::Bool(b) => Ok(Cond::Exists(*b)),
            _ => Err(format!("`{at}`: takes true or false")),
        },
        "wildcard" => match arg {
            Value::String(s) => Ok(Cond::Wildcard(s.split('*').map(str::to_string).collect())),
            _ => Err(format!("`{at}`: takes text with `*`")),
        },
        "cidr" => match arg.as_str().map(str::parse::<IpNet>) {
            Some(Ok(net)) => Ok(Cond::Cidr(net)),
            _ => Err(format!("`{at}`: takes a network like \"10.0.0.0/8\"")),
        },
        "numeric" => numeric(arg, &at),
        "anything-but" => {
            let inner = match arg {
                Value::Array(values) => values
                    .iter()
                    .map(|v| match v {
                        Value::Object(_) | Value::Array(_) => Err(format!(
                            "`{at}`: a list after `anything-but` holds plain values"
                        )),
                        other => Ok(Cond::Equals(other.clone())),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Value::Object(inner) if inner.len() == 1 => {
                    let c = cond(arg, &at)?;
                    if !matches!(
                        c,
                        Cond::Prefix(..) | Cond::Suffix(..) | Cond::EqualsIgnoreCase(_) | Cond::Wildcard(_)
                    ) {
                        return Err(format!(
                            "`{at}`: `anything-but` takes values, `prefix`, `suffix`, `equals-ignore-case` or `wildcard`"
                        ));
                    }
                    vec![c]
                }
                Value::Object(_) => {
                    return Err(format!("`{at}`: one condition inside `anything-but`"))
                }
                other => vec![Cond::Equals(other.clone())],
            };
            Ok(Cond::AnythingBut(inner))
        }
        other => Err(format!(
            "`{path}`: unknown condition `{other}`; EventBridge patterns know prefix, suffix, equals-ignore-case, anything-but, numeric, exists, wildcard and cidr"
        )),
    }
}

fn numeric(arg: &Value, at: &str) -> Result<Cond, String> {
    let bad = || {
        format!("`{at}`: `numeric` needs an operator and a number, or two of each: [\">\", 0, \"<=\", 5]")
    };
    let Value::Array(items) = arg else {
        return Err(bad());
    };
    if items.len() != 2 && items.len() != 4 {
        return Err(bad());
    }
    let mut out = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str() {
            Some("<") => Cmp::Lt,
            Some("<=") => Cmp::Le,
            Some("=") => Cmp::Eq,
            Some(">=") => Cmp::Ge,
            Some(">") => Cmp::Gt,
            _ => return Err(bad()),
        };
        let n = pair[1].as_f64().ok_or_else(bad)?;
        out.push((op, n));
    }
    Ok(Cond::Numeric(out))
}

fn holds(node: &Node, event: &Value) -> bool {
    let Node::All { fields, ors } = node;
    fields.iter().all(|(key, field)| {
        let value = event.get(key);
        match field {
            Field::Nested(inner) => match value {
                Some(Value::Object(_)) => holds(inner, value.unwrap_or(&Value::Null)),
                Some(Value::Array(items)) => items.iter().any(|v| holds(inner, v)),
                _ => holds_missing(inner),
            },
            Field::AnyOf(conds) => conds.iter().any(|c| cond_holds(c, value)),
        }
    }) && ors.iter().all(|alts| alts.iter().any(|a| holds(a, event)))
}

/// A nested pattern over a missing object holds only when it asks for nothing to exist.
fn holds_missing(node: &Node) -> bool {
    let Node::All { fields, ors } = node;
    fields.iter().all(|(_, f)| match f {
        Field::Nested(inner) => holds_missing(inner),
        Field::AnyOf(conds) => conds.iter().any(|c| matches!(c, Cond::Exists(false))),
    }) && ors.iter().all(|alts| alts.iter().any(holds_missing))
}

fn cond_holds(c: &Cond, value: Option<&Value>) -> bool {
    match (c, value) {
        (Cond::Exists(want), v) => {
            let present = !matches!(v, None | Some(Value::Object(_)));
            present == *want
        }
        (_, None) => false,
        (_, Some(Value::Array(items))) => items.iter().any(|v| scalar_holds(c, v)),
        (_, Some(v)) => scalar_holds(c, v),
    }
}

fn scalar_holds(c: &Cond, v: &Value) -> bool {
    let text = v.as_str();
    match c {
        Cond::Equals(want) => match (want, v) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            _ => want == v,
        },
        Cond::Prefix(p, false) => text.is_some_and(|t| t.starts_with(p.as_str())),
        Cond::Prefix(p, true) => text.is_some_and(|t| t.to_lowercase().starts_with(p.as_str())),
        Cond::Suffix(s, false) => text.is_some_and(|t| t.ends_with(s.as_str())),
        Cond::Suffix(s, true) => text.is_some_and(|t| t.to_lowercase().ends_with(s.as_str())),
        Cond::EqualsIgnoreCase(s) => text.is_some_and(|t| t.to_lowercase() == *s),
        Cond::AnythingBut(not) => {
            !matches!(v, Value::Object(_)) && !not.iter().any(|n| scalar_holds(n, v))
        }
        Cond::Numeric(cmps) => v.as_f64().is_some_and(|x| {
            cmps.iter().all(|(op, n)| match op {
                Cmp::Lt => x < *n,
                Cmp::Le => x <= *n,
                Cmp::Eq => x == *n,
                Cmp::Ge => x >= *n,
                Cmp::Gt => x > *n,
            })
        }),
        Cond::Exists(_) => true,
        Cond::Wildcard(parts) => text.is_some_and(|t| wildcard(parts, t)),
        Cond::Cidr(net) => text
            .and_then(|t| t.parse::<IpAddr>().ok())
            .is_some_and(|ip| net.contains(&ip)),
    }
}

/// `parts` are the pieces of a wildcard text between its `*`s.
fn wildcard(parts: &[String], text: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut left) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return left.is_empty();
    };
    for part in middle {
        match left.find(part.as_str()) {
            Some(i) => left = &left[i + part.len()..],
            None => return false,
        }
    }
    left.len() >= last.len() && left.ends_with(last.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "detail-type": "GuardDuty Finding",
            "source": "picket",
            "account": "111122223333",
            "region": "eu-west-1",
            "resources": [],
            "detail": {
                "type": "Recon:IAMUser/TorIPCaller",
                "severity": 5.0,
                "service": {
                    "archived": false,
                    "action": {"awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}
                },
                "tags": ["prod", "eu"]
            }
        })
    }

    fn m(pattern: Value) -> bool {
        Pattern::compile(&pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .matches(&event())
    }

    #[test]
    fn each_condition_matches_and_misses() {
        let cases = [
            (json!({"detail-type": ["GuardDuty Finding"]}), true),
            (json!({"detail-type": ["Other"]}), false),
            (json!({"detail": {"severity": [5]}}), true),
            (
                json!({"detail": {"severity": [{"numeric": [">=", 7]}]}}),
                false,
            ),
            (
                json!({"detail": {"severity": [{"numeric": [">", 4, "<=", 5]}]}}),
                true,
            ),
            (
                json!({"detail": {"severity": [{"numeric": ["=", 5]}]}}),
                true,
            ),
            (json!({"detail": {"type": [{"prefix": "Recon:"}]}}), true),
            (
                json!({"detail": {"type": [{"prefix": "UnauthorizedAccess:"}]}}),
                false,
            ),
            (
                json!({"detail": {"type": [{"prefix": {"equals-ignore-case": "recon:iam"}}]}}),
                true,
            ),
            (
                json!({"detail": {"type": [{"suffix": "TorIPCaller"}]}}),
                true,
            ),
            (
                json!({"detail": {"type": [{"suffix": {"equals-ignore-case": "toripcaller"}}]}}),
                true,
            ),
            (
                json!({"detail": {"type": [{"equals-ignore-case": "recon:iamuser/toripcaller"}]}}),
                true,
            ),
            (
                json!({"account": [{"anything-but": "111122223333"}]}),
                false,
            ),
            (
                json!({"account": [{"anything-but": ["444455556666"]}]}),
                true,
            ),
            (
                json!({"detail": {"type": [{"anything-but": {"prefix": "Recon:"}}]}}),
                false,
            ),
            (
                json!({"detail": {"type": [{"anything-but": {"prefix": "Policy:"}}]}}),
                true,
            ),
            (json!({"detail": {"service": {"archived": [false]}}}), true),
            (json!({"detail": {"missing": [{"exists": false}]}}), true),
            (json!({"detail": {"missing": [{"exists": true}]}}), false),
            (json!({"detail": {"type": [{"exists": true}]}}), true),
            (
                json!({"detail": {"type": [{"wildcard": "Recon:*/Tor*"}]}}),
                true,
            ),
            (json!({"detail": {"type": [{"wildcard": "*EC2*"}]}}), false),
            (
                json!({"detail": {"service": {"action": {"awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": [{"cidr": "198.51.100.0/24"}]}}}}}}),
                true,
            ),
            (
                json!({"detail": {"service": {"action": {"awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": [{"cidr": "10.0.0.0/8"}]}}}}}}),
                false,
            ),
            // Arrays in the event: any element.
            (json!({"detail": {"tags": ["eu"]}}), true),
            (json!({"detail": {"tags": ["us"]}}), false),
            // OR within a field, AND across fields.
            (
                json!({"detail": {"severity": [{"numeric": [">=", 7]}, 5], "type": [{"prefix": "Recon:"}]}}),
                true,
            ),
            (
                json!({"detail": {"severity": [5], "type": [{"prefix": "Policy:"}]}}),
                false,
            ),
            // $or across fields.
            (
                json!({"$or": [{"account": ["999"]}, {"detail": {"severity": [5]}}]}),
                true,
            ),
            (
                json!({"$or": [{"account": ["999"]}, {"region": ["us-east-1"]}]}),
                false,
            ),
            // A nested object that is absent.
            (
                json!({"detail": {"nothing": {"here": [{"exists": false}]}}}),
                true,
            ),
            (json!({"detail": {"nothing": {"here": ["x"]}}}), false),
        ];
        for (pattern, expected) in cases {
            assert_eq!(m(pattern.clone()), expected, "{pattern}");
        }
    }

    #[test]
    fn wildcards_anchor_both_ends() {
        let w =
            |p: &str, t: &str| wildcard(&p.split('*').map(str::to_string).collect::<Vec<_>>(), t);
        assert!(w("a*c", "abc"));
        assert!(w("a*c", "ac"));
        assert!(!w("a*c", "abcd"));
        assert!(w("*", "anything"));
        assert!(w("ab*ab", "abab"));
        assert!(!w("ab*ab", "aba"));
        assert!(w("exact", "exact"));
        assert!(!w("exact", "exactly"));
    }

    #[test]
    fn mistakes_name_their_place() {
        let errors: Vec<String> = [
            json!([1]),
            json!({"detail": {"severity": 7}}),
            json!({"detail": {"severity": []}}),
            json!({"detail": {"severity": [{"numeric": [">=", "seven"]}]}}),
            json!({"detail": {"severity": [{"numeric": [">="]}]}}),
            json!({"detail": {"type": [{"prefix": 3}]}}),
            json!({"detail": {"type": [{"startswith": "Recon"}]}}),
            json!({"detail": {"type": [{"prefix": "a", "suffix": "b"}]}}),
            json!({"detail": {"ip": [{"cidr": "10.0.0.0/33"}]}}),
            json!({"detail": {"type": [{"anything-but": {"numeric": [">", 1]}}]}}),
            json!({"$or": {"a": ["b"]}}),
        ]
        .iter()
        .map(|p| {
            Pattern::compile(p)
                .err()
                .unwrap_or_else(|| panic!("{p} compiled"))
        })
        .collect();
        insta::assert_snapshot!(errors.join("\n"));
    }
}
