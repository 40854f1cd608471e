//! `public_suffix(name)`: the public suffix ("eTLD") of a DNS name.

use super::domain::{map_names, public_suffix};
use super::{one_string_arg, Example, Function};
use crate::event::{FieldType, FieldValue};

/// `public_suffix(name)`
pub struct PublicSuffix;

impl Function for PublicSuffix {
    fn name(&self) -> &'static str {
        "public_suffix"
    }
    fn summary(&self) -> &'static str {
        "The public suffix of a DNS name (\"eTLD\"): the longest match on Mozilla's public suffix list (ICANN and private sections; the last label when none matches), lower-cased, without the trailing dot. Missing for an IP address or a name with an empty label; each element, for a list."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("name", FieldType::Str)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        one_string_arg(self.name(), args)?;
        Ok(args[0])
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        map_names(args.first()?, public_suffix)
    }
    fn examples(&self) -> &'static [Example] {
        &[
            Example {
                call: "public_suffix(dns.query)",
                input: r#""a.b.example.co.uk.""#,
                output: r#""co.uk""#,
            },
            Example {
                call: "public_suffix(dns.query)",
                input: r#""my-bucket.s3.us-east-1.amazonaws.com""#,
                output: r#""s3.us-east-1.amazonaws.com""#,
            },
            Example {
                call: "public_suffix(dns.query)",
                input: r#""ip-10-0-12-34.ec2.internal""#,
                output: r#""internal""#,
            },
        ]
    }
}
