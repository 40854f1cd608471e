//! `first_label(x)`: the leftmost label of a domain name.

use super::{map_strings, one_string_arg, Example, Function};
use crate::event::{FieldType, FieldValue};

/// `first_label(x)`
pub struct FirstLabel;

impl Function for FirstLabel {
    fn name(&self) -> &'static str {
        "first_label"
    }
    fn summary(&self) -> &'static str {
        "The leftmost label of a domain name (the text before the first dot; the whole name when it has none)."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("name", FieldType::Str)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        one_string_arg("first_label", args).map(|()| FieldType::Str)
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        map_strings(args.first()?, &|s| {
            s.split('.').next().unwrap_or_default().to_string()
        })
    }
    fn examples(&self) -> &'static [Example] {
        &[
            Example {
                call: "first_label(dns.query)",
                input: r#""k5qwy3tfoj2xg2lu.t.example.net.""#,
                output: r#""k5qwy3tfoj2xg2lu""#,
            },
            Example {
                call: "first_label(dns.query)",
                input: r#""localhost""#,
                output: r#""localhost""#,
            },
        ]
    }
}
