//! Threat intelligence and enrichment: threat lists, trusted lists and reference lists
//! (Tor exit nodes, AWS address ranges, mining pools), their formats, and geo/ASN
//! lookups, as rules see them.
//!
//! Lists are declared under `intel:` in a pack's YAML (`rules/intel/lists.yaml` for the
//! built-in ones) or given on the command line (`--threat-list`, `--trusted-list`);
//! [`Intel::load`] reads them into an immutable set that the compiled pack holds. A
//! list that fails to load (a missing file, one bad entry) is never half-loaded: it is
//! left out with every error and its line, or, on a reload, the list loaded before stays.
//!
//! Modules: [`parse`] (file formats), [`ipset`] (address tables), [`list`] (one list and
//! its lookups).

pub mod geo;
pub mod ipset;
pub mod list;
pub mod mmdb;
pub mod parse;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use picket_grammar::{Diagnostic, Span};

use crate::compile::source::{FileDiagnostic, SourceFile};
use crate::event::FieldValue;
pub use list::{Hit, IntelList, ListFormat, ListKind, ListSpec};

/// Most errors reported for one list file; the rest are counted.
const MAX_ERRORS_PER_LIST: usize = 20;

/// The loaded lists, by name.
#[derive(Debug, Default)]
pub struct Intel {
    lists: BTreeMap<String, Arc<IntelList>>,
    /// Lists declared but not loaded (their file is missing or has errors).
    failed: std::collections::BTreeSet<String>,
}

/// A list to load: its declaration, its file's bytes, and where it was declared.
pub struct ListSource {
    /// The declaration.
    pub spec: ListSpec,
    /// The file's bytes, or why it could not be read.
    pub bytes: Result<Vec<u8>, String>,
    /// The file's name in messages.
    pub display: String,
    /// Where the declaration is written (for errors about the whole list); `None` for
    /// lists given on the command line.
    pub declared_at: Option<(Arc<SourceFile>, Span)>,
}

impl Intel {
    /// Loads `sources`. A list with any error is left out, or, when `previous` holds a
    /// list of the same name, that one is kept. Lists whose declaration and bytes did not
    /// change since `previous` are reused, not read again. Returns the set and every
    /// error.
    pub fn load(
        sources: Vec<ListSource>,
        previous: Option<&Intel>,
    ) -> (Intel, Vec<FileDiagnostic>) {
        let mut lists = BTreeMap::new();
        let mut failed = std::collections::BTreeSet::new();
        let mut diags = Vec::new();
        for source in sources {
            let name = source.spec.name.clone();
            if lists.contains_key(&name) {
                diags.push(whole_list_error(
                    &source,
                    "I403",
                    format!("list `{name}` is declared twice"),
                    "each list needs a name of its own",
                ));
                continue;
            }
            let old = previous.and_then(|p| p.lists.get(&name));
            match load_one(&source, old, &mut diags) {
                Ok(list) => {
                    lists.insert(name, list);
                }
                Err(mut errs) => {
                    diags.append(&mut errs);
                    match old {
                        Some(old) => {
                            lists.insert(name, Arc::clone(old));
                        }
                        None => {
                            failed.insert(name);
                        }
                    }
                }
            }
        }
        (Intel { lists, failed }, diags)
    }

    /// Whether a list of that name was declared but could not be loaded.
    pub fn failed(&self, name: &str) -> bool {
        self.failed.contains(name)
    }

    /// The list of that name.
    pub fn get(&self, name: &str) -> Option<&Arc<IntelList>> {
        self.lists.get(name)
    }

    /// Every list, by name.
    pub fn lists(&self) -> impl Iterator<Item = &Arc<IntelList>> {
        self.lists.values()
    }

    /// The names of the lists, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }

    /// The lists of one kind.
    pub fn of_kind(&self, kind: ListKind) -> Vec<Arc<IntelList>> {
        self.lists
            .values()
            .filter(|l| l.kind() == kind)
            .cloned()
            .collect()
    }

    /// The first trusted list (by name) that holds `ip` and applies to `account`.
    pub fn trusted(&self, ip: IpAddr, account: Option<&str>) -> Option<Hit<'_>> {
        self.lists
            .values()
            .filter(|l| l.kind() == ListKind::Trusted && l.applies_to(account))
            .find_map(|l| l.lookup(&FieldValue::Ip(ip)))
    }
}

/// Reads one list; `old` is reused when nothing changed.
fn load_one(
    source: &ListSource,
    old: Option<&Arc<IntelList>>,
    warnings: &mut Vec<FileDiagnostic>,
) -> Result<Arc<IntelList>, Vec<FileDiagnostic>> {
    let bytes = match &source.bytes {
        Ok(b) => b,
        Err(why) => {
            return Err(vec![whole_list_error(
                source,
                "I401",
                format!("cannot read list file {}: {why}", source.display),
                "check the path; it is relative to the file that declares the list",
            )])
        }
    };
    let hash = {
        let mut h = siphasher::sip::SipHasher13::new();
        bytes.hash(&mut h);
        h.finish()
    };
    if let Some(old) = old.filter(|o| o.content_hash == hash && *o.spec() == source.spec) {
        return Ok(Arc::clone(old));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.valid_up_to();
            let text = String::from_utf8_lossy(bytes).into_owned();
            let file = Arc::new(SourceFile::new(source.display.clone(), text));
            return Err(vec![FileDiagnostic {
                file,
                diagnostic: Diagnostic::error("I402", "the list file is not UTF-8 text")
                    .with_primary(Span::new(valid, valid + 1), "invalid byte")
                    .with_help("save the file as UTF-8"),
            }]);
        }
    };
    let mut parsed = source.spec.format.parse(text);
    let skipped = std::mem::take(&mut parsed.skipped);
    let list = IntelList::build(source.spec.clone(), parsed, hash)
        .map(Arc::new)
        .map_err(|errors| entry_errors(source, text, &errors))?;
    if !skipped.is_empty() {
        warnings.push(skipped_warning(source, text, &skipped));
    }
    Ok(list)
}

/// One warning for the entries a list file holds that a list cannot (a STIX indicator
/// on a file hash): where the first one is, and how many there are.
fn skipped_warning(
    source: &ListSource,
    text: &str,
    skipped: &[parse::EntryError],
) -> FileDiagnostic {
    let file = Arc::new(SourceFile::new(source.display.clone(), text.to_string()));
    let first = &skipped[0];
    let at = file.offset_at(first.line as usize, first.column as usize);
    let end = text[at..].find(['\n', '\r']).map_or(text.len(), |i| at + i);
    let count = match skipped.len() {
        1 => "1 entry".to_string(),
        n => format!("{n} entries"),
    };
    FileDiagnostic {
        file: Arc::clone(&file),
        diagnostic: Diagnostic::warning(
            "skipped_entries",
            format!(
                "{count} of list `{}` left out: {}",
                source.spec.name, first.message
            ),
        )
        .with_primary(Span::new(at, end.max(at)), "the first one")
        .with_note("the rest of the list is loaded"),
    }
}

/// Diagnostics for bad entries, pointing into the list file (at most
/// [`MAX_ERRORS_PER_LIST`], then a count).
fn entry_errors(
    source: &ListSource,
    text: &str,
    errors: &[parse::EntryError],
) -> Vec<FileDiagnostic> {
    let file = Arc::new(SourceFile::new(source.display.clone(), text.to_string()));
    let mut out: Vec<FileDiagnostic> = errors
        .iter()
        .take(MAX_ERRORS_PER_LIST)
        .map(|e| {
            let at = file.offset_at(e.line as usize, e.column as usize);
            let end = text[at..].find(['\n', '\r']).map_or(text.len(), |i| at + i);
            FileDiagnostic {
                file: Arc::clone(&file),
                diagnostic: Diagnostic::error("I402", e.message.clone())
                    .with_primary(Span::new(at, end.max(at)), "here")
                    .with_note(format!(
                        "list `{}` is not loaded until every entry is valid",
                        source.spec.name
                    )),
            }
        })
        .collect();
    if errors.len() > MAX_ERRORS_PER_LIST {
        let rest = errors.len() - MAX_ERRORS_PER_LIST;
        out.push(whole_list_error(
            source,
            "I402",
            format!("… and {rest} more errors in {}", source.display),
            "fix the entries above first; the rest are often the same mistake",
        ));
    }
    out
}

/// An error about a whole list, at its declaration (or at the list file's start).
fn whole_list_error(
    source: &ListSource,
    code: &'static str,
    message: String,
    help: &str,
) -> FileDiagnostic {
    let (file, span) = match &source.declared_at {
        Some((file, span)) => (Arc::clone(file), span.clone()),
        None => (
            Arc::new(SourceFile::new(source.display.clone(), String::new())),
            Span::new(0, 0),
        ),
    };
    FileDiagnostic {
        file,
        diagnostic: Diagnostic::error(code, message)
            .with_primary(span, format!("list `{}`", source.spec.name))
            .with_help(help.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn spec(name: &str, kind: ListKind, accounts: Option<&[&str]>) -> ListSpec {
        ListSpec {
            name: name.to_string(),
            kind,
            path: PathBuf::from(format!("{name}.txt")),
            format: ListFormat::Text,
            accounts: accounts.map(|a| a.iter().map(|s| s.to_string()).collect()),
            description: None,
        }
    }

    fn source(name: &str, kind: ListKind, text: &str) -> ListSource {
        ListSource {
            spec: spec(name, kind, None),
            bytes: Ok(text.as_bytes().to_vec()),
            display: format!("{name}.txt"),
            declared_at: None,
        }
    }

    fn load(sources: Vec<ListSource>, previous: Option<&Intel>) -> (Intel, Vec<String>) {
        let (intel, diags) = Intel::load(sources, previous);
        (intel, diags.iter().map(|d| d.render(false)).collect())
    }

    fn ip(s: &str) -> FieldValue<'static> {
        FieldValue::Ip(s.parse().expect("test address"))
    }

    #[test]
    fn lookups_by_kind_of_entry() {
        let text = "# mixed\n198.51.100.0/24\n198.51.100.7\n2001:db8:bad::/48\npool.example\nHTTP://Evil.Example/Payload?x=1\n";
        let (intel, errors) = load(vec![source("feed", ListKind::Threat, text)], None);
        assert!(errors.is_empty(), "{errors:?}");
        let list = intel.get("feed").expect("loaded");
        assert_eq!(list.len(), 5);
        let hit = |v: FieldValue<'_>| list.lookup(&v).map(|h| h.indicator.into_owned());
        assert_eq!(hit(ip("198.51.100.7")).as_deref(), Some("198.51.100.7"));
        assert_eq!(hit(ip("198.51.100.8")).as_deref(), Some("198.51.100.0/24"));
        assert_eq!(
            hit(FieldValue::str("198.51.100.9")).as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(
            hit(ip("2001:db8:bad:1::1")).as_deref(),
            Some("2001:db8:bad::/48")
        );
        assert_eq!(hit(ip("198.51.101.1")), None);
        assert_eq!(
            hit(FieldValue::str("a.b.Pool.Example.")).as_deref(),
            Some("pool.example")
        );
        assert_eq!(
            hit(FieldValue::str("pool.example")).as_deref(),
            Some("pool.example")
        );
        assert_eq!(hit(FieldValue::str("mypool.example")), None);
        assert_eq!(hit(FieldValue::str("example")), None);
        assert_eq!(
            hit(FieldValue::str("http://EVIL.example/Payload?x=1")).as_deref(),
            Some("http://evil.example/Payload?x=1")
        );
        assert_eq!(
            hit(FieldValue::str("http://evil.example/payload?x=1")),
            None
        );
        let many = FieldValue::List(vec![FieldValue::str("x.test"), ip("198.51.100.7")]);
        assert_eq!(hit(many).as_deref(), Some("198.51.100.7"));
        assert_eq!(hit(FieldValue::Int(7)), None);
    }

    #[test]
    fn text_entries_belong_in_reference_lists_only() {
        let (intel, errors) = load(
            vec![
                source(
                    "agents",
                    ListKind::Reference,
                    "Nmap Scripting Engine\nsqlmap\n",
                ),
                source("bad", ListKind::Threat, "198.51.100.7\nsqlmap\n"),
            ],
            None,
        );
        assert_eq!(intel.get("agents").map(|l| l.texts().count()), Some(2));
        assert!(intel.get("bad").is_none() && intel.failed("bad"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("bad.txt:2:1"), "{}", errors[0]);
        assert!(
            errors[0].contains("a threat list holds only those"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_scoped_list_applies_to_its_accounts_only() {
        let mut scoped = source("team", ListKind::Trusted, "192.0.2.10\n");
        scoped.spec.accounts = Some(vec!["111122223333".to_string()]);
        let (intel, errors) = load(vec![scoped], None);
        assert!(errors.is_empty(), "{errors:?}");
        let addr = "192.0.2.10".parse().expect("address");
        assert!(intel.trusted(addr, Some("111122223333")).is_some());
        assert!(intel.trusted(addr, Some("444455556666")).is_none());
        assert!(intel.trusted(addr, None).is_none());
    }

    /// A reload keeps a list whose new file is broken, and reuses a list whose file did
    /// not change (the same `Arc`).
    #[test]
    fn reload_keeps_the_old_list_on_errors_and_reuses_unchanged_ones() {
        let (first, errors) = load(
            vec![
                source("a", ListKind::Threat, "198.51.100.7\n"),
                source("b", ListKind::Threat, "203.0.113.9\n"),
            ],
            None,
        );
        assert!(errors.is_empty());
        let (second, errors) = load(
            vec![
                source("a", ListKind::Threat, "198.51.100.7\nnot an entry at all\n"),
                source("b", ListKind::Threat, "203.0.113.9\n"),
                source("c", ListKind::Threat, "192.0.2.0/24\n"),
            ],
            Some(&first),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (a1, a2) = (first.get("a").expect("a"), second.get("a").expect("a kept"));
        assert!(Arc::ptr_eq(a1, a2), "the broken reload keeps the old list");
        assert!(!second.failed("a"));
        assert!(Arc::ptr_eq(
            first.get("b").expect("b"),
            second.get("b").expect("b")
        ));
        assert!(second.get("c").is_some());
        let (third, errors) = load(
            vec![source("a", ListKind::Threat, "198.51.100.8\n")],
            Some(&second),
        );
        assert!(errors.is_empty());
        let a3 = third.get("a").expect("a reloaded");
        assert!(!Arc::ptr_eq(a2, a3), "a changed file is read again");
        assert!(a3.lookup(&ip("198.51.100.8")).is_some());
        assert!(
            third.get("b").is_none(),
            "a list no longer declared is gone"
        );
    }

    #[test]
    fn unreadable_files_and_duplicate_names_are_errors() {
        let mut missing = source("gone", ListKind::Threat, "");
        missing.bytes = Err("No such file or directory".to_string());
        let (intel, errors) = load(
            vec![
                missing,
                source("dup", ListKind::Threat, "192.0.2.1\n"),
                source("dup", ListKind::Trusted, "192.0.2.2\n"),
            ],
            None,
        );
        assert!(intel.failed("gone"));
        assert_eq!(intel.get("dup").map(|l| l.kind()), Some(ListKind::Threat));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("I401") && errors[0].contains("No such file"));
        assert!(errors[1].contains("I403") && errors[1].contains("declared twice"));
    }
}
