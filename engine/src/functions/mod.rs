//! Functions callable from conditions: one file per function, each a unit struct
//! implementing [`Function`] with its documentation and examples. [`all`] is the
//! registry; the compiler resolves calls against it, `docs/functions.md` is generated
//! from it, and one test runs every example.

mod dga_model;
mod dga_score;
mod domain;
mod entropy;
mod first_label;
mod len;
mod lower;
mod public_suffix;
mod registered_domain;
mod upper;

use crate::event::{FieldType, FieldValue};

/// A worked example: the call, the value of its argument, and the result.
pub struct Example {
    /// The call as written in a condition, e.g. `lower(user_agent)`.
    pub call: &'static str,
    /// The argument value, as JSON text.
    pub input: &'static str,
    /// The result, as JSON text.
    pub output: &'static str,
}

/// A function of the condition language.
pub trait Function: Send + Sync {
    /// Name used in conditions.
    fn name(&self) -> &'static str;
    /// One-sentence summary.
    fn summary(&self) -> &'static str;
    /// Parameter names and types, for docs and arity checks.
    fn params(&self) -> &'static [(&'static str, FieldType)];
    /// Result type for the given argument types, or why they do not fit.
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String>;
    /// Evaluates the function; `None` when an argument is missing or of the wrong kind.
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>>;
    /// Examples (also tests).
    fn examples(&self) -> &'static [Example];
}

static ALL: &[&dyn Function] = &[
    &dga_score::DgaScore,
    &entropy::Entropy,
    &first_label::FirstLabel,
    &len::Len,
    &lower::Lower,
    &public_suffix::PublicSuffix,
    &registered_domain::RegisteredDomain,
    &upper::Upper,
];

/// Every function, sorted by name.
pub fn all() -> &'static [&'static dyn Function] {
    ALL
}

/// The function with that name.
pub fn lookup(name: &str) -> Option<&'static dyn Function> {
    ALL.iter().copied().find(|f| f.name() == name)
}

/// Checks that a single argument is a string (or a list of strings, or untyped).
fn one_string_arg(name: &str, args: &[FieldType]) -> Result<(), String> {
    match args {
        [FieldType::Str | FieldType::StrList | FieldType::Any] => Ok(()),
        [other] => Err(format!("`{name}` takes a string, found {}", other.name())),
        _ => Err(format!("`{name}` takes 1 argument, found {}", args.len())),
    }
}

/// Applies a string function to a value or to each element of a list.
fn map_strings<'a>(v: &FieldValue<'a>, f: &dyn Fn(&str) -> String) -> Option<FieldValue<'a>> {
    match v {
        FieldValue::Str(s) => Some(FieldValue::Str(f(s).into())),
        FieldValue::List(items) => Some(FieldValue::List(
            items.iter().filter_map(|i| map_strings(i, f)).collect(),
        )),
        _ => None,
    }
}

/// Markdown reference of every function (docs/functions.md).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Functions\n\nGenerated from the function registry (`engine/src/functions/`); do not edit by hand.\nRegenerate with `picket docs docs/`.\n",
    );
    for f in all() {
        let params: Vec<String> = f
            .params()
            .iter()
            .map(|(n, t)| format!("{n}: {}", t.name()))
            .collect();
        out.push_str(&format!(
            "\n## `{}({})`\n\n{}\n\n| call | argument | result |\n|---|---|---|\n",
            f.name(),
            params.join(", "),
            f.summary()
        ));
        for ex in f.examples() {
            out.push_str(&format!(
                "| `{}` | `{}` | `{}` |\n",
                ex.call, ex.input, ex.output
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_json(text: &str) -> FieldValue<'static> {
        let v: serde_json::Value = serde_json::from_str(text).expect("example JSON");
        fn conv(v: serde_json::Value) -> FieldValue<'static> {
            match v {
                serde_json::Value::String(s) => FieldValue::Str(s.into()),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => FieldValue::Int(i),
                    None => FieldValue::Float(n.as_f64().unwrap_or(0.0)),
                },
                serde_json::Value::Bool(b) => FieldValue::Bool(b),
                serde_json::Value::Array(a) => FieldValue::List(a.into_iter().map(conv).collect()),
                _ => FieldValue::Null,
            }
        }
        conv(v)
    }

    #[test]
    fn every_example_holds() {
        for f in all() {
            assert!(!f.examples().is_empty(), "{} has no example", f.name());
            for ex in f.examples() {
                let got = f.eval(&[from_json(ex.input)]).map(|v| v.to_json());
                let want: serde_json::Value =
                    serde_json::from_str(ex.output).expect("example JSON");
                assert_eq!(got, Some(want), "{}: {}", f.name(), ex.call);
            }
        }
    }

    #[test]
    fn registry_is_sorted_and_unique() {
        let names: Vec<_> = all().iter().map(|f| f.name()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
