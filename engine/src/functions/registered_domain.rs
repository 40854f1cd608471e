//! `registered_domain(name)`: the registrable domain of a DNS name ("eTLD+1").

use super::domain::{map_names, registered_domain};
use super::{one_string_arg, Example, Function};
use crate::event::{FieldType, FieldValue};

/// `registered_domain(name)`
pub struct RegisteredDomain;

impl Function for RegisteredDomain {
    fn name(&self) -> &'static str {
        "registered_domain"
    }
    fn summary(&self) -> &'static str {
        "The registrable domain of a DNS name (\"eTLD+1\"): its public suffix on Mozilla's public suffix list (ICANN and private sections) and the one label left of it, lower-cased, without the trailing dot. Missing for a name that is itself a public suffix, a single label, an IP address or a name with an empty label; each element, for a list."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("name", FieldType::Str)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        one_string_arg(self.name(), args)?;
        Ok(args[0])
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        map_names(args.first()?, registered_domain)
    }
    fn examples(&self) -> &'static [Example] {
        &[
            Example {
                call: "registered_domain(dns.query)",
                input: r#""a.b.Example.co.uk.""#,
                output: r#""example.co.uk""#,
            },
            Example {
                call: "registered_domain(dns.query)",
                input: r#""d111111abcdef8.cloudfront.net""#,
                output: r#""d111111abcdef8.cloudfront.net""#,
            },
            Example {
                call: "registered_domain(dns.answers)",
                input: r#"["www.example.com", "co.uk", "mail.example.org"]"#,
                output: r#"["example.com", "example.org"]"#,
            },
        ]
    }
}
