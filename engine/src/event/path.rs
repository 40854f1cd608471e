//! Raw paths: walking a JSON record along a path, and parsing dotted path text.
//!
//! Walking follows the rule language: an object key is looked up; an array met where a
//! key follows reaches every element (implicit "any"), and all values found are
//! flattened into one [`FieldValue::List`]; an index selects one element. A missing key,
//! a wrong kind of container or `null` means "missing" (`None`). Nothing is copied: the
//! values borrow from the record.

use picket_grammar::ast::Segment;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::FieldValue;

/// One step of a path, whether written in the catalog (`&str`, always a key) or parsed
/// from a rule ([`Segment`]).
pub(crate) trait Step {
    /// The key, when this step is one.
    fn key(&self) -> Option<&str>;
    /// The index, when this step is one.
    fn index(&self) -> Option<usize>;
}

impl Step for &str {
    fn key(&self) -> Option<&str> {
        Some(self)
    }
    fn index(&self) -> Option<usize> {
        None
    }
}

impl Step for Segment {
    fn key(&self) -> Option<&str> {
        match self {
            Segment::Name(n) => Some(n),
            Segment::Index(_) => None,
        }
    }
    fn index(&self) -> Option<usize> {
        match self {
            Segment::Name(_) => None,
            Segment::Index(i) => Some(*i as usize),
        }
    }
}

/// The value at `path` in `root`, or `None` when missing or null.
pub(crate) fn walk<'a, S: Step>(root: &'a Value, path: &[S]) -> Option<FieldValue<'a>> {
    let mut v = root;
    for (i, step) in path.iter().enumerate() {
        if let Some(key) = step.key() {
            if let Some(arr) = v.as_array() {
                let mut out = Vec::new();
                for el in arr.iter() {
                    collect(el, &path[i..], &mut out);
                }
                return (!out.is_empty()).then_some(FieldValue::List(out));
            }
            v = v.as_object()?.get(&key)?;
        } else {
            v = v.as_array()?.get(step.index()?)?;
        }
    }
    match FieldValue::from_json(v) {
        FieldValue::Null => None,
        other => Some(other),
    }
}

/// Appends every non-null value reached from `v` along `path` to `out`, flattening arrays.
fn collect<'a, S: Step>(v: &'a Value, path: &[S], out: &mut Vec<FieldValue<'a>>) {
    let Some((step, rest)) = path.split_first() else {
        match FieldValue::from_json(v) {
            FieldValue::Null => {}
            FieldValue::List(items) => out.extend(items.into_iter().filter(|x| !x.is_null())),
            other => out.push(other),
        }
        return;
    };
    if let Some(key) = step.key() {
        if let Some(arr) = v.as_array() {
            for el in arr.iter() {
                collect(el, path, out);
            }
        } else if let Some(next) = v.as_object().and_then(|o| o.get(&key)) {
            collect(next, rest, out);
        }
    } else if let Some(next) = step.index().and_then(|ix| v.as_array()?.get(ix)) {
        collect(next, rest, out);
    }
}

/// The JSON value at a path of keys, without crossing arrays (for accessor functions).
pub(crate) fn get<'a>(root: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut v = root;
    for key in path {
        v = v.as_object()?.get(key)?;
    }
    (!v.is_null()).then_some(v)
}

/// The string at a path of keys.
pub(crate) fn get_str<'a>(root: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(root, path)?.as_str()
}

/// Parses dotted path text as written in rules: `a.b`, `resources[0].ARN`,
/// `annotations["authorization.k8s.io/decision"]`. Returns `None` when malformed.
pub fn parse_dotted(text: &str) -> Option<Vec<Segment>> {
    let b = text.as_bytes();
    let mut segs = Vec::new();
    let mut i = 0;
    let mut expect_name = true;
    while i < b.len() {
        match b[i] {
            b'[' => {
                i += 1;
                if b.get(i) == Some(&b'"') {
                    i += 1;
                    let mut name = String::new();
                    loop {
                        match *b.get(i)? {
                            b'"' => break,
                            b'\\' => {
                                name.push(char::from(*b.get(i + 1)?));
                                i += 2;
                            }
                            _ => {
                                let ch = text[i..].chars().next()?;
                                name.push(ch);
                                i += ch.len_utf8();
                            }
                        }
                    }
                    i += 1;
                    segs.push(Segment::Name(name));
                } else {
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    segs.push(Segment::Index(text[start..i].parse().ok()?));
                }
                if b.get(i) != Some(&b']') {
                    return None;
                }
                i += 1;
                expect_name = false;
            }
            b'.' if !expect_name => {
                i += 1;
                expect_name = true;
            }
            _ if expect_name => {
                let start = i;
                while i < b.len() && !matches!(b[i], b'.' | b'[') {
                    if b[i] == b']' {
                        return None;
                    }
                    i += 1;
                }
                if start == i {
                    return None;
                }
                segs.push(Segment::Name(text[start..i].to_owned()));
                expect_name = false;
            }
            _ => return None,
        }
    }
    (!segs.is_empty() && !expect_name).then_some(segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Segment {
        Segment::Name(s.to_owned())
    }

    #[test]
    fn parses_dotted_paths() {
        assert_eq!(parse_dotted("a.b"), Some(vec![name("a"), name("b")]));
        assert_eq!(
            parse_dotted("resources[0].ARN"),
            Some(vec![name("resources"), Segment::Index(0), name("ARN")])
        );
        assert_eq!(
            parse_dotted(r#"annotations["authorization.k8s.io/decision"]"#),
            Some(vec![
                name("annotations"),
                name("authorization.k8s.io/decision")
            ])
        );
        assert_eq!(parse_dotted("log-status"), Some(vec![name("log-status")]));
        for bad in ["", "a.", ".a", "a..b", "a[", "a[x]", "a[\"b\"", "a]b"] {
            assert_eq!(parse_dotted(bad), None, "{bad}");
        }
    }

    #[test]
    fn walks_objects_arrays_and_indexes() {
        let v: Value = sonic_rs::from_str(
            r#"{"a":{"b":"x","n":null},"r":[{"ARN":"1"},{"ARN":"2"},{"x":3},{"ARN":["3","4"]}],
                "c":[{"p":[{"q":1},{"q":2}]},{"p":[{"q":3}]}]}"#,
        )
        .unwrap();
        let p = |s: &str| parse_dotted(s).unwrap();
        assert_eq!(walk(&v, &p("a.b")), Some(FieldValue::str("x")));
        assert_eq!(walk(&v, &p("a.n")), None);
        assert_eq!(walk(&v, &p("a.z")), None);
        assert_eq!(walk(&v, &p("a.b.c")), None);
        assert_eq!(walk(&v, &p("r[1].ARN")), Some(FieldValue::str("2")));
        assert_eq!(walk(&v, &p("r[9].ARN")), None);
        assert_eq!(
            walk(&v, &p("r.ARN")).unwrap().to_string(),
            r#"["1","2","3","4"]"#
        );
        assert_eq!(walk(&v, &p("c.p.q")).unwrap().to_string(), "[1,2,3]");
        assert_eq!(walk(&v, &p("r.nothing")), None);
        assert_eq!(walk(&v, &["a", "b"]), Some(FieldValue::str("x")));
    }
}
