//! `lower(s)`: the string in lower case.

use super::{map_strings, one_string_arg, Example, Function};
use crate::event::{FieldType, FieldValue};

/// `lower(s)`
pub struct Lower;

impl Function for Lower {
    fn name(&self) -> &'static str {
        "lower"
    }
    fn summary(&self) -> &'static str {
        "The string in lower case (each element, for a list)."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("s", FieldType::Str)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        one_string_arg(self.name(), args)?;
        Ok(args[0])
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        map_strings(args.first()?, &str::to_lowercase)
    }
    fn examples(&self) -> &'static [Example] {
        &[
            Example {
                call: "lower(user_agent)",
                input: r#""Boto3/1.34 Python/3.12 Linux/6.6.9-Kali""#,
                output: r#""boto3/1.34 python/3.12 linux/6.6.9-kali""#,
            },
            Example {
                call: "lower(actor.groups)",
                input: r#"["System:Masters", "dev"]"#,
                output: r#"["system:masters", "dev"]"#,
            },
        ]
    }
}
