//! `len(x)`: length of a string in characters, or number of elements of a list.

use super::{Example, Function};
use crate::event::{FieldType, FieldValue};

/// `len(x)`
pub struct Len;

impl Function for Len {
    fn name(&self) -> &'static str {
        "len"
    }
    fn summary(&self) -> &'static str {
        "Length of a string in characters, or the number of elements of a list."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("x", FieldType::Any)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        match args {
            [FieldType::Str | FieldType::StrList | FieldType::Any] => Ok(FieldType::Int),
            [other] => Err(format!(
                "`len` takes a string or a list, found {}",
                other.name()
            )),
            _ => Err(format!("`len` takes 1 argument, found {}", args.len())),
        }
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        match args.first()? {
            FieldValue::Str(s) => Some(FieldValue::Int(s.chars().count() as i64)),
            FieldValue::List(items) => Some(FieldValue::Int(items.len() as i64)),
            _ => None,
        }
    }
    fn examples(&self) -> &'static [Example] {
        &[
            Example {
                call: "len(dns.query)",
                input: r#""a3f9c1.exfil.example.com""#,
                output: "24",
            },
            Example {
                call: "len(actor.groups)",
                input: r#"["system:masters", "system:authenticated"]"#,
                output: "2",
            },
        ]
    }
}
