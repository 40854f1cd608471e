//! `entropy(x)`: Shannon entropy of a string, in bits per character.

use super::{one_string_arg, Example, Function};
use crate::event::{FieldType, FieldValue};

/// `entropy(x)`
pub struct Entropy;

/// Bits per character of `s`: 0 for one repeated character, `log2(n)` for `n`
/// characters used equally often. Random base32 runs near 5, hex near 4, English words
/// between 2.5 and 3.5.
pub fn shannon(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    let mut other: Vec<(char, u32)> = Vec::new();
    for c in s.chars() {
        total += 1;
        if c.is_ascii() {
            counts[c as usize] += 1;
        } else if let Some(e) = other.iter_mut().find(|e| e.0 == c) {
            e.1 += 1;
        } else {
            other.push((c, 1));
        }
    }
    if total == 0 {
        return 0.0;
    }
    let n = f64::from(total);
    counts
        .iter()
        .copied()
        .chain(other.iter().map(|e| e.1))
        .filter(|&c| c > 0)
        .map(|c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

impl Function for Entropy {
    fn name(&self) -> &'static str {
        "entropy"
    }
    fn summary(&self) -> &'static str {
        "Shannon entropy of a string in bits per character (0 for one repeated character; random hex is near 4, random base32 near 5, words lower)."
    }
    fn params(&self) -> &'static [(&'static str, FieldType)] {
        &[("x", FieldType::Str)]
    }
    fn check(&self, args: &[FieldType]) -> Result<FieldType, String> {
        one_string_arg("entropy", args).map(|()| FieldType::Float)
    }
    fn eval<'a>(&self, args: &[FieldValue<'a>]) -> Option<FieldValue<'a>> {
        match args.first()? {
            FieldValue::Str(s) => Some(FieldValue::Float((shannon(s) * 1000.0).round() / 1000.0)),
            _ => None,
        }
    }
    fn examples(&self) -> &'static [Example] {
        &[
            Example {
                call: "entropy(first_label(dns.query))",
                input: r#""mail""#,
                output: "2.0",
            },
            Example {
                call: "entropy(first_label(dns.query))",
                input: r#""aaaa""#,
                output: "0.0",
            },
            Example {
                call: "entropy(first_label(dns.query))",
                input: r#""k5qwy3tfoj2xg2lu""#,
                output: "3.875",
            },
        ]
    }
}
