//! `upper(s)`: the string in upper case.

use super::{map_strings, one_string_arg, Example, Function};
use crate::event::{FieldType, FieldValue};

/// `upper(s)`
pub struct Upper;

impl Function for Upper {
    fn name(&self) -> &'static str {
        "upper"
    }
    fn summary(&self) -> &'static str {
        "The string in upper case (each element, for a list)."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("s", FieldType::Str)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        one_string_arg(self.name(), args)?;
        Ok(args[0])
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        map_strings(args.first()?, &str::to_uppercase)
    }
    fn examples(&self) -> &'static [Example] {
        &[Example {
            call: "upper(dns.type)",
            input: r#""aaaa""#,
            output: r#""AAAA""#,
        }]
    }
}
