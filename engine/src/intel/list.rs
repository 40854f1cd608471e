//! One loaded list: its declaration (name, kind, file, format, account scope) and its
//! entries, indexed for lookups of addresses, domain names, URLs and text.
//!
//! Lookups take a field's value: an address (or text that parses as one) is searched
//! in the address table ([`AddrTable`]: the most specific network wins); a URL
//! (`scheme://…`) by exact match with its scheme and host lower-cased; a domain name
//! by suffix, label by label (`a.b.pool.example` is found through `pool.example`); any
//! other text by exact match. A list of values is in the list when one element is.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use rustc_hash::FxHashSet;

use super::ipset::AddrTable;
use super::parse::{Column, EntryError, Indicator, Parsed};
use crate::event::{parse_ip, FieldValue};

/// What a list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListKind {
    /// Known-bad indicators the user brings: rules of the `.Custom` finding types fire
    /// on them (`list(threat)` in a condition).
    Threat,
    /// Addresses the user trusts: no finding is raised about them (findings whose
    /// remote address is trusted are archived).
    Trusted,
    /// Data that specific rules read by name: Tor exit nodes, AWS address ranges,
    /// mining pools, user-agent fragments of offensive tools.
    Reference,
}

impl ListKind {
    /// The name used in manifests and conditions.
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Threat => "threat",
            ListKind::Trusted => "trusted",
            ListKind::Reference => "reference",
        }
    }

    /// The kind of that name.
    pub fn from_name(name: &str) -> Option<ListKind> {
        [ListKind::Threat, ListKind::Trusted, ListKind::Reference]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// How a list file is written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListFormat {
    /// One indicator per line, `#` comments.
    Text,
    /// One indicator per row, in a chosen column.
    Csv {
        /// The column.
        column: Column,
        /// Whether the first row names the columns.
        header: bool,
    },
    /// A STIX 2.1 bundle of indicators.
    Stix,
    /// AWS's published `ip-ranges.json`.
    AwsIpRanges,
}

impl ListFormat {
    /// The format a file name suggests: `.json` files are STIX bundles, unless the name
    /// says `ip-ranges`; `.csv` files are CSV of the first column with a header;
    /// anything else is text.
    pub fn from_path(path: &std::path::Path) -> ListFormat {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".json") {
            if name.contains("ip-ranges") {
                ListFormat::AwsIpRanges
            } else {
                ListFormat::Stix
            }
        } else if name.ends_with(".csv") {
            ListFormat::Csv {
                column: Column::Index(0),
                header: true,
            }
        } else {
            ListFormat::Text
        }
    }

    /// The name used in manifests.
    pub fn name(&self) -> &'static str {
        match self {
            ListFormat::Text => "text",
            ListFormat::Csv { .. } => "csv",
            ListFormat::Stix => "stix",
            ListFormat::AwsIpRanges => "aws-ip-ranges",
        }
    }

    /// Reads a file's text in this format.
    pub fn parse(&self, text: &str) -> Parsed {
        match self {
            ListFormat::Text => super::parse::parse_text(text),
            ListFormat::Csv { column, header } => super::parse::parse_csv(text, column, *header),
            ListFormat::Stix => super::parse::parse_stix(text),
            ListFormat::AwsIpRanges => super::parse::parse_aws_ip_ranges(text),
        }
    }
}

/// A list as declared: in a manifest, or on the command line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListSpec {
    /// The name rules use: `list("tor-exit-nodes")`.
    pub name: String,
    /// What it is for.
    pub kind: ListKind,
    /// The file.
    pub path: PathBuf,
    /// How the file is written.
    pub format: ListFormat,
    /// The accounts it applies to; `None`: every account.
    pub accounts: Option<Vec<String>>,
    /// What it holds, for people.
    pub description: Option<String>,
}

/// A loaded list.
#[derive(Debug)]
pub struct IntelList {
    spec: ListSpec,
    /// Networks, by entry number of the address table.
    nets: Vec<IpNet>,
    addrs: AddrTable,
    domains: FxHashSet<Box<str>>,
    urls: FxHashSet<Box<str>>,
    texts: Vec<Box<str>>,
    text_set: FxHashSet<Box<str>>,
    /// A hash of the file's bytes, to tell a changed file on reload.
    pub(crate) content_hash: u64,
}

/// An indicator of a list that a value matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit<'l> {
    /// The list's name.
    pub list: &'l str,
    /// The list's kind.
    pub kind: ListKind,
    /// What the list holds that matched, as the list writes it (`198.51.100.0/24`,
    /// `pool.example`).
    pub indicator: Cow<'l, str>,
}

impl IntelList {
    /// A list of `parsed` entries. Text entries (neither address, network, domain nor
    /// URL) are allowed in reference lists only; in threat and trusted lists each is an
    /// error, as GuardDuty rejects them. Any error rejects the whole list.
    pub fn build(
        spec: ListSpec,
        parsed: Parsed,
        content_hash: u64,
    ) -> Result<IntelList, Vec<EntryError>> {
        let Parsed {
            entries: parsed_entries,
            mut errors,
            ..
        } = parsed;
        let mut nets = Vec::new();
        let mut domains = FxHashSet::default();
        let mut urls = FxHashSet::default();
        let mut texts: Vec<Box<str>> = Vec::new();
        let mut text_set = FxHashSet::default();
        for (indicator, line) in parsed_entries {
            match indicator {
                Indicator::Net(net) => nets.push(net),
                Indicator::Domain(d) => {
                    domains.insert(d.into_boxed_str());
                }
                Indicator::Url(u) => {
                    urls.insert(u.into_boxed_str());
                }
                Indicator::Text(t) if spec.kind == ListKind::Reference => {
                    let t: Box<str> = t.into_boxed_str();
                    if text_set.insert(t.clone()) {
                        texts.push(t);
                    }
                }
                Indicator::Text(t) => {
                    let address_like = t
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'));
                    let message = if address_like {
                        format!(
                            "`{}` is not a valid IP address or CIDR network (octets go up to \
                             255, IPv4 prefixes up to /32, IPv6 up to /128)",
                            shorten(&t)
                        )
                    } else {
                        format!(
                            "`{}` is not an IP address, a CIDR network, a domain name or a URL; \
                             a {} list holds only those",
                            shorten(&t),
                            spec.kind.name()
                        )
                    };
                    errors.push(EntryError {
                        line,
                        column: 1,
                        message,
                    })
                }
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| (e.line, e.column));
            return Err(errors);
        }
        nets.sort_by_key(|n| (n.network(), n.prefix_len()));
        nets.dedup();
        let addrs = AddrTable::new(nets.iter().enumerate().map(|(i, n)| (*n, i as u32)));
        Ok(IntelList {
            spec,
            nets,
            addrs,
            domains,
            urls,
            texts,
            text_set,
            content_hash,
        })
    }

    /// Its declaration.
    pub fn spec(&self) -> &ListSpec {
        &self.spec
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Its kind.
    pub fn kind(&self) -> ListKind {
        self.spec.kind
    }

    /// Number of entries (distinct).
    pub fn len(&self) -> usize {
        self.nets.len() + self.domains.len() + self.urls.len() + self.texts.len()
    }

    /// True when the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text entries (reference lists), in file order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(|t| &**t)
    }

    /// Whether the list applies to events of `account` (a list without scope applies
    /// to every account; a scoped list to none when the account is unknown).
    pub fn applies_to(&self, account: Option<&str>) -> bool {
        match &self.spec.accounts {
            None => true,
            Some(scope) => account.is_some_and(|a| scope.iter().any(|s| s == a)),
        }
    }

    /// Whether `value` is on the list (for a list value, whether an element is): what
    /// conditions ask, without building the matched entry's text.
    pub fn contains(&self, value: &FieldValue<'_>) -> bool {
        match value {
            FieldValue::Ip(ip) => self.addrs.lookup(*ip).is_some(),
            FieldValue::Str(s) => match may_be_ip(s).then(|| parse_ip(s)).flatten() {
                Some(ip) => self.addrs.lookup(ip).is_some(),
                None => self.lookup_name(s).is_some(),
            },
            FieldValue::List(items) => items.iter().any(|v| self.contains(v)),
            _ => false,
        }
    }

    /// The indicator `value` matches, if any (for a list value, the first element's).
    pub fn lookup<'l>(&'l self, value: &FieldValue<'_>) -> Option<Hit<'l>> {
        match value {
            FieldValue::Ip(ip) => self.lookup_ip(*ip),
            FieldValue::Str(s) => self.lookup_text(s),
            FieldValue::List(items) => items.iter().find_map(|v| self.lookup(v)),
            _ => None,
        }
    }

    fn hit<'l>(&'l self, indicator: Cow<'l, str>) -> Hit<'l> {
        Hit {
            list: &self.spec.name,
            kind: self.spec.kind,
            indicator,
        }
    }

    fn lookup_ip(&self, ip: IpAddr) -> Option<Hit<'_>> {
        let net = self.nets.get(self.addrs.lookup(ip)? as usize)?;
        let text = if net.prefix_len() == net.max_prefix_len() {
            net.addr().to_string()
        } else {
            net.to_string()
        };
        Some(self.hit(Cow::Owned(text)))
    }

    fn lookup_text(&self, s: &str) -> Option<Hit<'_>> {
        match may_be_ip(s).then(|| parse_ip(s)).flatten() {
            Some(ip) => self.lookup_ip(ip),
            None => self.lookup_name(s),
        }
    }

    /// A text that is not an address: a URL, a domain name or other text. Kinds of
    /// entry the list does not have are not looked for.
    fn lookup_name(&self, s: &str) -> Option<Hit<'_>> {
        if s.contains("://") {
            if self.urls.is_empty() {
                return None;
            }
            let url = normalize_url(s);
            return self
                .urls
                .get(url.as_ref())
                .map(|u| self.hit(Cow::Borrowed(&**u)));
        }
        if let Some(hit) = self.lookup_domain(s) {
            return Some(hit);
        }
        if self.text_set.is_empty() {
            return None;
        }
        self.text_set.get(s).map(|t| self.hit(Cow::Borrowed(&**t)))
    }

    /// `s` or the nearest parent domain of it in the list.
    fn lookup_domain(&self, s: &str) -> Option<Hit<'_>> {
        if self.domains.is_empty() || !s.contains('.') {
            return None;
        }
        let trimmed = s.strip_suffix('.').unwrap_or(s);
        let lowered: Cow<'_, str> = if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(trimmed.to_ascii_lowercase())
        } else {
            Cow::Borrowed(trimmed)
        };
        let mut name: &str = &lowered;
        loop {
            if let Some(d) = self.domains.get(name) {
                return Some(self.hit(Cow::Borrowed(&**d)));
            }
            name = name.split_once('.')?.1;
        }
    }

    /// Heap bytes held, roughly.
    pub fn heap_bytes(&self) -> usize {
        let strings = |set: &FxHashSet<Box<str>>| {
            set.iter().map(|s| s.len() + 24).sum::<usize>() + set.capacity() * 8
        };
        self.nets.capacity() * std::mem::size_of::<IpNet>()
            + self.addrs.heap_bytes()
            + strings(&self.domains)
            + strings(&self.urls)
            + 2 * strings(&self.text_set)
    }
}

/// Whether text can be an IP address at all: IPv4 starts with a digit, IPv6 has a
/// colon. Domain names, which most text values are, skip the address parser.
fn may_be_ip(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit) || s.contains(':')
}

/// A URL with its scheme and host lower-cased, as lists keep URLs.
pub(crate) fn normalize_url(url: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    if !scheme
        .bytes()
        .chain(host.bytes())
        .any(|b| b.is_ascii_uppercase())
    {
        return Cow::Borrowed(url);
    }
    Cow::Owned(format!(
        "{}://{}{path}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

/// At most 60 characters of `s`, for messages.
fn shorten(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(60) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}
