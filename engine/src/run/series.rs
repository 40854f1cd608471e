//! Event series: a short YAML description that expands into many events spread over
//! time, so a stateful rule's fixture says "60 rejected flows, one a second, to ports
//! 1 to 60" instead of holding sixty lines.
//!
//! A fixture named `hit-….series.yaml` or `miss-….series.yaml` beside a rule is one:
//!
//! ```yaml
//! start: 2026-11-20T10:00:00Z          # time of the first event
//! series:
//!   - event: |                          # a template: one JSON event or one flow line
//!       2 111122223333 eni-0a1 198.51.100.23 10.0.12.34 40000 22 6 1 60 0 0 REJECT OK
//!     count: 60                         # events made from it (default 1)
//!     every: 1s                         # time between them (default 1s)
//!     set:                              # fields changed per event
//!       dstport: "{i+1}"
//!   - file: success.json                # a template in a file beside the fixture
//!     at: 5m                            # offset from `start` (default: right after
//!                                       # the previous group, `every` later)
//! ```
//!
//! The time of each event is written where its source keeps it (`eventTime`,
//! `query_timestamp`, `requestReceivedTimestamp`/`stageTimestamp`, a flow's `start` and
//! `end`). In `set`, a key is a dotted path of the JSON event (created when missing) or
//! a flow field name; a value is text in which `{i}` is the event's number in its
//! group (from 0), `{i+N}`, `{i-N}`, `{i*N}` and `{i*N+M}` are arithmetic on it, and `{hex:N}` is N hex
//! digits that differ per event (the same on every run). A value that reads as a number
//! where the template had a number stays a number.

use std::sync::Arc;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::Node;
use serde_json::Value;

use crate::compile::SourceFile;
use crate::event::{format_millis, parse_rfc3339};

/// Events one series may make at most.
pub const MAX_EVENTS: usize = 1_000_000;

/// An error in a series file, with its position.
#[derive(Debug)]
pub struct SeriesError(pub String);

impl std::fmt::Display for SeriesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Expands a series file into the bytes of its events (JSON lines, or flow lines after
/// the template's header when it has one). `read` gives the text of a file named in the
/// series, relative to the series file.
pub fn expand(
    name: &str,
    text: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, SeriesError> {
    let file = Arc::new(SourceFile::new(name, text.to_string()));
    let at = |node: &Node| -> String {
        let offset = node.span().start().map(|m| file.offset_of(m)).unwrap_or(0);
        let (line, col) = file.line_col(offset);
        format!("{name}:{line}:{col}")
    };
    let err = |node: &Node, msg: String| SeriesError(format!("{}: {msg}", at(node)));
    let root = marked_yaml::parse_yaml(0, text)
        .map_err(|e| SeriesError(format!("{name}: invalid YAML: {e}")))?;
    let top = root.as_mapping().ok_or_else(|| {
        err(
            &root,
            "a series is a mapping with `start` and `series`".into(),
        )
    })?;
    check_keys(top, &["start", "series"], &err)?;
    let start_node = top.get_node("start").ok_or_else(|| {
        err(
            &root,
            "missing `start` (the time of the first event)".into(),
        )
    })?;
    let start = scalar(start_node)
        .and_then(|s| parse_rfc3339(s.as_str()))
        .ok_or_else(|| {
            err(
                start_node,
                "`start` must be a time such as 2026-11-20T10:00:00Z".into(),
            )
        })?;
    let groups_node = top
        .get_node("series")
        .ok_or_else(|| err(&root, "missing `series` (a list of event groups)".into()))?;
    let groups = groups_node.as_sequence().ok_or_else(|| {
        err(
            groups_node,
            "`series` must be a list of event groups".into(),
        )
    })?;

    let mut out = String::new();
    let mut header_written: Option<String> = None;
    let mut next_at = start;
    let mut total = 0usize;
    for group in groups.iter() {
        let g = group.as_mapping().ok_or_else(|| {
            err(
                group,
                "an event group is a mapping (`event:` or `file:`, `count:` …)".into(),
            )
        })?;
        check_keys(g, &["event", "file", "count", "every", "at", "set"], &err)?;
        let template_text = match (g.get_node("event"), g.get_node("file")) {
            (Some(e), None) => scalar(e).map(|s| s.as_str().to_string()).ok_or_else(|| {
                err(
                    e,
                    "`event` must be text: a JSON object or a flow line".into(),
                )
            })?,
            (None, Some(f)) => {
                let path = scalar(f).ok_or_else(|| err(f, "`file` must be a file name".into()))?;
                read(path.as_str())
                    .ok_or_else(|| err(f, format!("cannot read `{}`", path.as_str())))?
            }
            _ => {
                return Err(err(
                    group,
                    "give the template as `event:` or as `file:` (one of them)".into(),
                ))
            }
        };
        let count = match g.get_node("count") {
            Some(n) => scalar(n)
                .and_then(|s| s.as_str().parse::<usize>().ok())
                .filter(|c| *c >= 1)
                .ok_or_else(|| err(n, "`count` must be a whole number, 1 or more".into()))?,
            None => 1,
        };
        total += count;
        if total > MAX_EVENTS {
            return Err(err(
                group,
                format!("a series makes at most {MAX_EVENTS} events"),
            ));
        }
        let every = match g.get_node("every") {
            Some(n) => duration(n)
                .ok_or_else(|| err(n, "`every` must be a duration: 500ms, 1s, 5m, 1h".into()))?,
            None => 1000,
        };
        let first = match g.get_node("at") {
            Some(n) => {
                start
                    + duration(n).ok_or_else(|| {
                        err(
                            n,
                            "`at` must be a duration from `start`: 0s, 90s, 5m".into(),
                        )
                    })?
            }
            None => next_at,
        };
        let mut sets = Vec::new();
        if let Some(n) = g.get_node("set") {
            let m = n
                .as_mapping()
                .ok_or_else(|| err(n, "`set` maps field paths to values".into()))?;
            for (k, v) in m.iter() {
                let value = scalar(v)
                    .ok_or_else(|| err(v, "a value of `set` is text such as \"{i+1}\"".into()))?;
                check_placeholders(value.as_str()).map_err(|m| err(v, m))?;
                sets.push((k.as_str().to_string(), value.as_str().to_string()));
            }
        }
        let template = Template::parse(&template_text).map_err(|m| err(group, m))?;
        if let (
            Template::Flow {
                header: Some(h), ..
            },
            None,
        ) = (&template, &header_written)
        {
            out.push_str(h);
            out.push('\n');
            header_written = Some(h.clone());
        }
        for i in 0..count {
            let t = first + every * i as i64;
            let line = template.make(i, t, &sets).map_err(|m| err(group, m))?;
            out.push_str(&line);
            out.push('\n');
        }
        next_at = first + every * count as i64;
    }
    Ok(out.into_bytes())
}

fn scalar(node: &Node) -> Option<&MarkedScalarNode> {
    node.as_scalar()
}

fn check_keys(
    map: &MarkedMappingNode,
    allowed: &[&str],
    err: &dyn Fn(&Node, String) -> SeriesError,
) -> Result<(), SeriesError> {
    for (k, v) in map.iter() {
        if !allowed.contains(&k.as_str()) {
            let hint = picket_grammar::suggest::nearest(k.as_str(), allowed.iter().copied())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(err(
                v,
                format!(
                    "unknown key `{}` (expected {}){hint}",
                    k.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// `500ms`, `1s`, `5m`, `2h`, `1d` in milliseconds.
fn duration(node: &Node) -> Option<i64> {
    let s = scalar(node)?.as_str().trim();
    let (digits, factor) = if let Some(d) = s.strip_suffix("ms") {
        (d, 1)
    } else {
        let unit = s.chars().last()?;
        let factor = match unit {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return None,
        };
        (&s[..s.len() - 1], factor)
    };
    digits.parse::<i64>().ok()?.checked_mul(factor)
}

/// An event template.
enum Template {
    Json(Value),
    Flow {
        header: Option<String>,
        fields: Vec<String>,
        values: Vec<String>,
    },
}

impl Template {
    fn parse(text: &str) -> Result<Template, String> {
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let v: Value = serde_json::from_str(trimmed)
                .map_err(|e| format!("the template is not valid JSON: {e}"))?;
            if !v.is_object() {
                return Err("a JSON template must be an object".into());
            }
            return Ok(Template::Json(v));
        }
        let lines: Vec<&str> = trimmed.lines().filter(|l| !l.trim().is_empty()).collect();
        let (header, record) = match lines.as_slice() {
            [record] => (None, *record),
            [header, record] => (Some(header.trim().to_string()), *record),
            _ => {
                return Err(
                    "a flow template is one record line, or a header line and one record line"
                        .into(),
                )
            }
        };
        let fields: Vec<String> = match &header {
            Some(h) => h.split_whitespace().map(str::to_string).collect(),
            None => crate::event::V2_FIELDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let values: Vec<String> = record.split_whitespace().map(str::to_string).collect();
        if values.len() != fields.len() {
            return Err(format!(
                "the flow template has {} values for {} fields",
                values.len(),
                fields.len()
            ));
        }
        Ok(Template::Flow {
            header,
            fields,
            values,
        })
    }

    /// Event number `i` at time `t` (milliseconds).
    fn make(&self, i: usize, t: i64, sets: &[(String, String)]) -> Result<String, String> {
        match self {
            Template::Json(v) => {
                let mut v = v.clone();
                let time = format_millis(t);
                let time = time.replace(".000Z", "Z");
                let obj = v.as_object_mut().ok_or("not an object")?;
                for key in [
                    "eventTime",
                    "query_timestamp",
                    "requestReceivedTimestamp",
                    "stageTimestamp",
                ] {
                    if obj.contains_key(key) {
                        obj.insert(key.to_string(), Value::String(time.clone()));
                    }
                }
                for (path, value) in sets {
                    let text = substitute(value, i)?;
                    set_path(&mut v, path, &text)?;
                }
                serde_json::to_string(&v).map_err(|e| e.to_string())
            }
            Template::Flow { fields, values, .. } => {
                let mut values = values.clone();
                let pos = |name: &str| fields.iter().position(|f| f == name);
                let secs = t.div_euclid(1000);
                if let (Some(s), Some(e)) = (pos("start"), pos("end")) {
                    let length = match (values[s].parse::<i64>(), values[e].parse::<i64>()) {
                        (Ok(a), Ok(b)) if b >= a => b - a,
                        _ => 0,
                    };
                    values[s] = secs.to_string();
                    values[e] = (secs + length).to_string();
                }
                for (name, value) in sets {
                    let p = pos(name).ok_or_else(|| {
                        format!(
                            "`{name}` is not a field of this flow format ({})",
                            fields.join(" ")
                        )
                    })?;
                    values[p] = substitute(value, i)?;
                }
                Ok(values.join(" "))
            }
        }
    }
}

/// Checks the placeholders of a `set` value.
fn check_placeholders(text: &str) -> Result<(), String> {
    substitute(text, 0).map(|_| ())
}

/// Replaces `{i}`, `{i+N}`, `{i*N+M}` … and `{hex:N}` in `text`.
fn substitute(text: &str, i: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{text}`"))?;
        let inner = rest[open + 1..open + close].replace(' ', "");
        let n = i as i64;
        let value = if let Some(linear) = inner.strip_prefix('i') {
            linear_of(linear, n).ok_or_else(|| bad(&inner))?.to_string()
        } else if let Some(k) = inner.strip_prefix("hex:") {
            let digits: usize = k.parse().map_err(|_| bad(&inner))?;
            if digits > 64 {
                return Err(format!("`{{hex:{digits}}}`: at most 64 digits"));
            }
            hex(i, digits)
        } else {
            return Err(bad(&inner));
        };
        out.push_str(&value);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn bad(inner: &str) -> String {
    format!(
        "unknown placeholder `{{{inner}}}`: use {{i}}, {{i+N}}, {{i*N}}, {{i*N+M}} or {{hex:N}}"
    )
}

/// `i`, then optionally `*A`, then optionally `+B` or `-B`: `A × i + B`.
fn linear_of(rest: &str, i: i64) -> Option<i64> {
    let (factor, rest) = match rest.strip_prefix('*') {
        Some(r) => {
            let end = r.find(['+', '-']).unwrap_or(r.len());
            (r[..end].parse::<i64>().ok()?, &r[end..])
        }
        None => (1, rest),
    };
    let offset = match rest.chars().next() {
        None => 0,
        Some('+') => rest[1..].parse::<i64>().ok()?,
        Some('-') => -rest[1..].parse::<i64>().ok()?,
        Some(_) => return None,
    };
    i.checked_mul(factor)?.checked_add(offset)
}

/// `digits` hex digits that differ per `i` and look random (splitmix64).
fn hex(i: usize, digits: usize) -> String {
    let mut out = String::new();
    let mut state = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    while out.len() < digits {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.push_str(&format!("{z:016x}"));
    }
    out.truncate(digits);
    out
}

/// Sets `path` (dotted keys) in a JSON object, creating objects on the way; a number
/// stays a number when the text reads as one.
fn set_path(v: &mut Value, path: &str, text: &str) -> Result<(), String> {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (k, part) in parts.iter().enumerate() {
        let obj = cur
            .as_object_mut()
            .ok_or_else(|| format!("`{path}`: `{}` is not an object", parts[..k].join(".")))?;
        if k + 1 == parts.len() {
            let was_number = obj.get(*part).is_some_and(Value::is_number);
            let new = match (was_number, text.parse::<i64>(), text.parse::<f64>()) {
                (true, Ok(n), _) => Value::from(n),
                (true, _, Ok(f)) => Value::from(f),
                _ => Value::String(text.to_string()),
            };
            obj.insert(part.to_string(), new);
            return Ok(());
        }
        cur = obj
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        let bytes = expand("s.series.yaml", text, &|_| None).unwrap();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn flow_series_spreads_times_and_sets_fields() {
        let out = lines(
            "start: 2026-11-20T10:00:00Z\nseries:\n  - event: \"2 111122223333 eni-1 198.51.100.23 10.0.12.34 40000 22 6 1 60 100 160 REJECT OK\"\n    count: 3\n    every: 2s\n    set: {dstport: \"{i+1}\"}\n  - event: \"2 111122223333 eni-1 198.51.100.23 10.0.12.34 40000 22 6 1 60 100 160 REJECT OK\"\n",
        );
        assert_eq!(out.len(), 4);
        let t0 = 1_795_168_800; // 2026-11-20T10:00:00Z
        assert_eq!(
            out[0],
            format!(
                "2 111122223333 eni-1 198.51.100.23 10.0.12.34 40000 1 6 1 60 {t0} {} REJECT OK",
                t0 + 60
            )
        );
        assert!(out[2].contains(&format!(" 3 6 1 60 {} ", t0 + 4)));
        // The next group follows the previous one, `every` later.
        assert!(out[3].contains(&format!(" 22 6 1 60 {} ", t0 + 6)));
    }

    #[test]
    fn json_series_writes_the_time_and_paths() {
        let out = lines(
            "start: 2026-11-20T10:00:00Z\nseries:\n  - event: '{\"eventTime\":\"x\",\"n\":1,\"a\":{\"b\":\"c\"}}'\n    count: 2\n    every: 90s\n    at: 1m\n    set: {n: \"{i*10}\", a.b: \"q-{hex:8}\", a.new.deep: \"{i}\"}\n",
        );
        let v: Vec<Value> = out
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(v[0]["eventTime"], "2026-11-20T10:01:00Z");
        assert_eq!(v[1]["eventTime"], "2026-11-20T10:02:30Z");
        assert_eq!(v[1]["n"], 10);
        assert_eq!(v[0]["a"]["new"]["deep"], "0");
        let (h0, h1) = (
            v[0]["a"]["b"].as_str().unwrap(),
            v[1]["a"]["b"].as_str().unwrap(),
        );
        assert_eq!(h0.len(), 10);
        assert_ne!(h0, h1);
        // Deterministic.
        assert_eq!(out, lines("start: 2026-11-20T10:00:00Z\nseries:\n  - event: '{\"eventTime\":\"x\",\"n\":1,\"a\":{\"b\":\"c\"}}'\n    count: 2\n    every: 90s\n    at: 1m\n    set: {n: \"{i*10}\", a.b: \"q-{hex:8}\", a.new.deep: \"{i}\"}\n"));
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            substitute("p{i*7+41000}-{i-1}-{i}", 3).unwrap(),
            "p41021-2-3"
        );
        assert_eq!(substitute("{i*2}", 5).unwrap(), "10");
        assert!(substitute("{i+}", 1).is_err());
        assert!(substitute("{i*x}", 1).is_err());
        assert!(substitute("{k}", 1).is_err());
    }

    #[test]
    fn errors_name_the_position() {
        let e = expand(
            "x.series.yaml",
            "start: 2026-11-20T10:00:00Z\nseries:\n  - event: '{}'\n    cuont: 3\n",
            &|_| None,
        )
        .unwrap_err();
        assert_eq!(e.0, "x.series.yaml:4:12: unknown key `cuont` (expected event, file, count, every, at, set); did you mean `count`?");
        let e = expand("x.series.yaml", "start: yesterday\nseries: []\n", &|_| None).unwrap_err();
        assert!(
            e.0.starts_with("x.series.yaml:1:8: `start` must be a time"),
            "{e}"
        );
        let e = expand(
            "x.series.yaml",
            "start: 2026-11-20T10:00:00Z\nseries:\n  - event: '{}'\n    set: {a: \"{j}\"}\n",
            &|_| None,
        )
        .unwrap_err();
        assert!(e.0.contains("unknown placeholder `{j}`"), "{e}");
        let e = expand(
            "x.series.yaml",
            "start: 2026-11-20T10:00:00Z\nseries:\n  - file: missing.json\n",
            &|_| None,
        )
        .unwrap_err();
        assert!(e.0.contains("cannot read `missing.json`"), "{e}");
        let e = expand("x.series.yaml", "start: [", &|_| None).unwrap_err();
        assert!(e.0.starts_with("x.series.yaml: invalid YAML"), "{e}");
    }
}
