//! DNS names against the public suffix list: what `registered_domain`, `public_suffix`
//! and `dga_score` share.
//!
//! A name is looked up lower-cased and without its trailing dot. Names with an empty
//! label (`a..b.com`, `.`), IP addresses and empty strings have no public suffix. The
//! list is Mozilla's (ICANN and private sections, compiled into the `psl` crate); a
//! name whose last label is not on it takes the list's default rule `*`, so the
//! suffix of `ip-10-0-0-1.ec2.internal` is `internal`.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::event::FieldValue;

/// `name` lower-cased, without one trailing dot; `None` when it cannot be a DNS name
/// with a suffix (empty, an empty label, an IP address).
pub(super) fn normalize(name: &str) -> Option<Cow<'_, str>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.split('.').any(str::is_empty) || name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let has_upper = if name.is_ascii() {
        name.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        name.chars().any(char::is_uppercase)
    };
    Some(if has_upper {
        Cow::Owned(name.to_lowercase())
    } else {
        Cow::Borrowed(name)
    })
}

/// The registrable domain of a normalized name: its public suffix and the label left
/// of it.
pub(super) fn registered_domain(normalized: &str) -> Option<&str> {
    psl::domain_str(normalized)
}

/// The public suffix of a normalized name.
pub(super) fn public_suffix(normalized: &str) -> Option<&str> {
    psl::suffix_str(normalized)
}

/// The registrable label: the label of the registrable domain left of the suffix
/// (`example` for `a.example.co.uk`).
pub(super) fn registrable_label(normalized: &str) -> Option<&str> {
    let domain = registered_domain(normalized)?;
    domain.split('.').next().filter(|label| !label.is_empty())
}

/// Applies `part` (a part of a normalized name) to a name, or to each name of a list;
/// names without that part are missing (left out of a list). The result borrows from
/// the event when the name needed no lower-casing.
pub(super) fn map_names<'a>(
    value: &FieldValue<'a>,
    part: fn(&str) -> Option<&str>,
) -> Option<FieldValue<'a>> {
    match value {
        FieldValue::Str(Cow::Borrowed(name)) => {
            let name: &'a str = name;
            Some(FieldValue::Str(match normalize(name)? {
                Cow::Borrowed(n) => Cow::Borrowed(part(n)?),
                Cow::Owned(n) => Cow::Owned(part(&n)?.to_string()),
            }))
        }
        FieldValue::Str(Cow::Owned(name)) => {
            let normalized = normalize(name)?;
            Some(FieldValue::Str(Cow::Owned(part(&normalized)?.to_string())))
        }
        FieldValue::List(items) => Some(FieldValue::List(
            items.iter().filter_map(|i| map_names(i, part)).collect(),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        assert_eq!(
            normalize("WWW.Example.COM.").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(normalize("example.com").as_deref(), Some("example.com"));
        assert!(matches!(normalize("example.com"), Some(Cow::Borrowed(_))));
        for bad in [
            "",
            ".",
            "..",
            "a..b.com",
            ".example.com",
            "10.0.0.1",
            "::1",
            "example.com..",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parts() {
        assert_eq!(
            registered_domain("a.b.example.co.uk"),
            Some("example.co.uk")
        );
        assert_eq!(public_suffix("a.b.example.co.uk"), Some("co.uk"));
        assert_eq!(registrable_label("a.b.example.co.uk"), Some("example"));
        assert_eq!(registered_domain("co.uk"), None);
        assert_eq!(registered_domain("com"), None);
        assert_eq!(registrable_label("localhost"), None);
        // Private-section suffixes: each customer name is its own registrable domain.
        assert_eq!(
            registered_domain("d111111abcdef8.cloudfront.net"),
            Some("d111111abcdef8.cloudfront.net")
        );
        // The default rule `*` for names outside the list.
        assert_eq!(
            registered_domain("ip-10-0-0-1.ec2.internal"),
            Some("ec2.internal")
        );
    }

    #[test]
    fn borrows_when_it_can() {
        let v = FieldValue::str("www.example.com");
        assert!(matches!(
            map_names(&v, registered_domain),
            Some(FieldValue::Str(Cow::Borrowed("example.com")))
        ));
        let v = FieldValue::str("WWW.EXAMPLE.COM");
        assert!(
            matches!(map_names(&v, registered_domain), Some(FieldValue::Str(Cow::Owned(s))) if s == "example.com")
        );
    }

    mod no_panic {
        use super::super::super::lookup;
        use crate::event::FieldValue;
        use proptest::prelude::*;

        const FUNCTIONS: [&str; 3] = ["dga_score", "public_suffix", "registered_domain"];

        fn eval_all(s: &str) {
            for name in FUNCTIONS {
                let f = lookup(name).expect("registered");
                let _ = f.eval(&[FieldValue::str(s)]);
                let _ = f.eval(&[FieldValue::Str(s.to_string().into())]);
                let _ = f.eval(&[FieldValue::List(vec![
                    FieldValue::str(s),
                    FieldValue::Int(1),
                ])]);
            }
        }

        proptest! {
            #[test]
            fn any_string(s in "\\PC{0,300}") {
                eval_all(&s);
            }

            #[test]
            fn name_like_strings(s in "[a-zA-Z0-9._*\\-]{0,80}(\\.[a-zA-Z\\-]{0,12}){0,4}\\.?") {
                eval_all(&s);
            }

            #[test]
            fn very_long_names(label in "[a-z0-9]{1,63}", repeat in 1usize..40) {
                let name = format!("{}.com", vec![label.as_str(); repeat].join("."));
                eval_all(&name);
            }

            #[test]
            fn scores_stay_in_the_unit_interval(s in "[a-zA-Z0-9\\-]{1,63}\\.(com|net|co\\.uk|ddns\\.net)") {
                let f = lookup("dga_score").expect("registered");
                match f.eval(&[FieldValue::str(&s)]) {
                    Some(FieldValue::Float(x)) => prop_assert!((0.0..=1.0).contains(&x), "{s}: {x}"),
                    // Internationalized labels are not judged; a name that is itself a
                    // public suffix (`za.com` is one, in the private section) has no
                    // registrable label.
                    None => prop_assert!(
                        s.to_lowercase().starts_with("xn--")
                            || super::super::registered_domain(&s.to_lowercase()).is_none(),
                        "{s} has no score"
                    ),
                    other => prop_assert!(false, "{s}: {other:?}"),
                }
            }

            #[test]
            fn registered_domain_ends_the_name(s in "[a-z0-9\\-]{1,20}(\\.[a-z0-9\\-]{1,20}){0,3}\\.(com|co\\.uk|s3\\.amazonaws\\.com)") {
                // The registered domain is the public suffix and one more label of the
                // name; a name without one is itself a public suffix.
                let domain = lookup("registered_domain").expect("registered");
                let suffix = lookup("public_suffix").expect("registered");
                let Some(FieldValue::Str(sfx)) = suffix.eval(&[FieldValue::str(&s)]) else {
                    return Err(TestCaseError::fail(format!("{s} has no public suffix")));
                };
                match domain.eval(&[FieldValue::str(&s)]) {
                    Some(FieldValue::Str(d)) => {
                        prop_assert!(s.ends_with(&format!(".{d}")) || s == d, "{s} -> {d}");
                        let label = d.strip_suffix(sfx.as_ref()).and_then(|l| l.strip_suffix('.'));
                        prop_assert!(label.is_some_and(|l| !l.is_empty() && !l.contains('.')), "{s} -> {d} / {sfx}");
                    }
                    None => prop_assert_eq!(sfx.as_ref(), s.as_str()),
                    other => prop_assert!(false, "{s}: {other:?}"),
                }
            }
        }
    }
}
