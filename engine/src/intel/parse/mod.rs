//! Reading list files into indicators: plain text (one entry a line), CSV (one column
//! of a table), STIX 2.1 (indicator patterns and cyber observables of a bundle) and AWS's
//! published `ip-ranges.json`. Each entry comes with the line it was read from; each bad
//! entry is an error with its line and column, and the rest of the file is still read, so
//! one load reports every mistake of a file.
//!
//! [`classify`] decides what an entry is (an address or network, a domain name, a URL,
//! or other text); the parsers of the formats only find the entries. None of them
//! panics, whatever the input.
//!
//! Lines and columns are 1-based; lines end at `\n`, and columns count characters from
//! the line's start (a byte-order mark at the start of the file is one), as diagnostics
//! count them.

mod aws;
mod csv;
mod json;
mod stix;
mod text;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;

use super::list::normalize_url;
use crate::event::parse_ip;

pub use self::aws::parse_aws_ip_ranges;
pub use self::csv::parse_csv;
pub use self::stix::parse_stix;
pub use self::text::parse_text;

/// One entry of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Indicator {
    /// An address (as a /32 or /128) or a network.
    Net(IpNet),
    /// A domain name, lower-cased, without a trailing dot; it also stands for every name
    /// under it (`pool.example` covers `a.b.pool.example`).
    Domain(String),
    /// A URL, with its scheme and host lower-cased.
    Url(String),
    /// Any other text (allowed only in reference lists, e.g. user-agent fragments).
    Text(String),
}

/// A problem with one entry or with the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// What is wrong, and how to fix it when that is known.
    pub message: String,
}

/// What a list file held.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// The entries, each with its 1-based line.
    pub entries: Vec<(Indicator, u32)>,
    /// The entries that could not be read.
    pub errors: Vec<EntryError>,
    /// Entries that are valid in their format but cannot be list entries (a STIX
    /// indicator on a file hash, a Snort rule): left out, with why.
    pub skipped: Vec<EntryError>,
}

/// The column of a CSV list that holds the indicators.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// By position, 0-based.
    Index(usize),
    /// By the name in the header row.
    Name(String),
}

/// What one entry is: an address (as a /32 or /128 network) or a CIDR network (host bits
/// are cleared: `10.1.2.3/8` is `10.0.0.0/8`); a URL (`scheme://host…`, scheme and host
/// lower-cased, the rest as written); a domain name (letters, digits, `-` and `_` in at
/// least two labels, the last not all digits; lower-cased, without a trailing dot or a
/// leading `*.`); or, for anything else, the text itself. Whitespace around the entry is
/// ignored; an entry with whitespace inside is text.
///
/// ```
/// use picket::intel::parse::{classify, Indicator};
/// assert_eq!(classify("198.51.100.0/24"), Indicator::Net("198.51.100.0/24".parse().unwrap()));
/// assert_eq!(classify("*.Pool.Example."), Indicator::Domain("pool.example".into()));
/// assert_eq!(classify("HTTP://Evil.Example/A"), Indicator::Url("http://evil.example/A".into()));
/// assert_eq!(classify("sqlmap/1.7"), Indicator::Text("sqlmap/1.7".into()));
/// ```
pub fn classify(entry: &str) -> Indicator {
    classify_trimmed(entry.trim())
}

/// [`classify`] of an entry without whitespace around it.
fn classify_trimmed(entry: &str) -> Indicator {
    let bytes = entry.as_bytes();
    if let Some(net) = fast_ipv4_net(bytes) {
        return Indicator::Net(net);
    }
    if let Some(net) = parse_net(entry) {
        return Indicator::Net(net);
    }
    if let Some(colon) = bytes.iter().position(|&b| b == b':') {
        if let Some(url) = url(entry, colon) {
            return Indicator::Url(url);
        }
    }
    if let Some(domain) = domain(entry) {
        return Indicator::Domain(domain);
    }
    Indicator::Text(entry.to_string())
}

/// An address (as a /32 or /128) or a CIDR network with its host bits cleared; `None`
/// for anything else.
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    let bytes = s.as_bytes();
    // An IPv4 address starts with a digit; an IPv6 address holds a colon.
    if !bytes.first()?.is_ascii_digit() && !bytes.contains(&b':') {
        return None;
    }
    let (addr, prefix) = match bytes.iter().position(|&b| b == b'/') {
        Some(slash) => (s.get(..slash)?, Some(s.get(slash + 1..)?)),
        None => (s, None),
    };
    let ip = parse_ip(addr)?;
    let max = match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let len = match prefix {
        None => max,
        Some(p) => {
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u8>().ok().filter(|&n| n <= max)?
        }
    };
    IpNet::new(ip, len).ok().map(|net| net.trunc())
}

/// An IPv4 address in dotted-quad form (read by the event reader's one-pass parser)
/// with an optional `/prefix` of 1–2 digits; `None` for anything else (which
/// [`parse_net`] then decides). Most entries of large lists are these.
fn fast_ipv4_net(b: &[u8]) -> Option<IpNet> {
    if !(7..=18).contains(&b.len()) {
        return None;
    }
    let (addr, len) = match memchr::memchr(b'/', b) {
        Some(slash) => (&b[..slash], Some(&b[slash + 1..])),
        None => (b, None),
    };
    let addr = crate::event::fast_ipv4(addr)?;
    let len = match len {
        None => 32,
        Some(digits)
            if (1..=2).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) =>
        {
            digits.iter().fold(0u8, |n, d| n * 10 + (d - b'0'))
        }
        Some(_) => return None,
    };
    let net = ipnet::Ipv4Net::new(addr, len).ok()?;
    Some(IpNet::V4(net.trunc()))
}

/// `s`, whose first colon is at byte `colon`, as a list keeps URLs, if it is one: a
/// scheme (a letter, then letters, digits, `+`, `-` or `.`), `://`, a host that is not
/// empty, and no whitespace.
fn url(s: &str, colon: usize) -> Option<String> {
    let scheme = s.get(..colon)?;
    let rest = s.get(colon + 1..)?.strip_prefix("//")?;
    let mut scheme = scheme.bytes();
    if !scheme.next()?.is_ascii_alphabetic()
        || !scheme.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_end == 0 || s.contains(char::is_whitespace) {
        return None;
    }
    Some(normalize_url(s).into_owned())
}

/// `s` as a list keeps domain names, if it is one (see [`classify`]).
fn domain(s: &str) -> Option<String> {
    let s = s.strip_prefix("*.").unwrap_or(s);
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() > 253 {
        return None;
    }
    let mut labels = 0;
    let mut last = "";
    for label in s.split('.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

/// At most 60 characters of `s`, for messages.
fn shorten(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(60) {
        Some((i, _)) => Cow::Owned(format!("{}…", s.get(..i).unwrap_or(s))),
        None => Cow::Borrowed(s),
    }
}

/// `n` as a line or column number (files of 4 billion lines are not read anyway).
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The text after a UTF-8 byte-order mark, and the mark's length in bytes.
fn strip_bom(src: &str) -> (&str, usize) {
    match src.strip_prefix('\u{feff}') {
        Some(body) => (body, src.len() - body.len()),
        None => (src, 0),
    }
}

/// Line and column of byte offsets in a text. Lookups are fastest in increasing order
/// of offsets (a column is counted on from the one before on the same line), so a
/// file of one long line is not counted again for each entry.
struct Positions<'a> {
    src: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    /// The last lookup: offset, line index, column.
    last: (usize, usize, u32),
}

impl<'a> Positions<'a> {
    fn new(src: &'a str) -> Positions<'a> {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i + 1))
            .collect();
        Positions {
            src,
            starts,
            last: (0, 0, 1),
        }
    }

    /// 1-based line and column of `offset` (clamped to the text).
    fn at(&mut self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let (from, column) = match self.last {
            (last, last_line, column) if last_line == line && last <= offset => (last, column),
            _ => (self.starts.get(line).copied().unwrap_or(0), 1),
        };
        let column = column.saturating_add(to_u32(
            self.src.get(from..offset).map_or(0, |s| s.chars().count()),
        ));
        self.last = (offset, line, column);
        (to_u32(line + 1), column)
    }

    /// An error at `offset`.
    fn error(&mut self, offset: usize, message: String) -> EntryError {
        let (line, column) = self.at(offset);
        EntryError {
            line,
            column,
            message,
        }
    }
}
