//! Plain-text lists: one entry a line, `#` comments.

use super::{classify_trimmed, fast_ipv4_net, shorten, to_u32, EntryError, Indicator, Parsed};

/// Reads a text list: one entry a line, classified by [`classify`]. Blank lines and
/// lines whose first non-blank character is `#` are skipped; a comment after an entry
/// (whitespace, then `#`) is dropped; whitespace around an entry is ignored. Lines may
/// end with `\n` or `\r\n`, and a byte-order mark at the start is ignored.
///
/// A line that holds an address, network, domain name or URL followed by more text
/// (`198.51.100.7 203.0.113.9`) is an error, at the entry's column; any other line with
/// whitespace inside (`Nmap Scripting Engine`) is a text entry, which only reference
/// lists accept.
pub fn parse_text(src: &str) -> Parsed {
    let bytes = src.as_bytes();
    let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    let mut parsed = Parsed {
        entries: Vec::with_capacity(lines),
        errors: Vec::new(),
        skipped: Vec::new(),
    };
    let mut start = 0;
    let mut line_no = 0u32;
    while start < src.len() {
        line_no = line_no.saturating_add(1);
        let end = memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default())
            .map_or(src.len(), |i| start + i);
        let mut line = src.get(start..end).unwrap_or_default();
        let line_start = start;
        start = end + 1;
        // Columns count the byte-order mark, as the file's text holds it.
        let mut column = 1;
        if line_start == 0 {
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest;
                column += 1;
            }
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(net) = fast_ipv4_net(line.as_bytes()) {
            parsed.entries.push((Indicator::Net(net), line_no));
            continue;
        }
        let entry = line.trim_start();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let lead = line.len() - entry.len();
        if lead > 0 {
            column += to_u32(line.get(..lead).map_or(0, |s| s.chars().count()));
        }
        let entry = strip_comment(entry).trim_end();
        let indicator = classify_trimmed(entry);
        if matches!(indicator, Indicator::Text(_)) && entry.contains(char::is_whitespace) {
            let first = entry.split(char::is_whitespace).next().unwrap_or_default();
            if !matches!(classify_trimmed(first), Indicator::Text(_)) {
                parsed.errors.push(EntryError {
                    line: line_no,
                    column,
                    message: format!(
                        "`{}` holds more than one value; write one entry per line \
                         (a comment after an entry starts with ` #`)",
                        shorten(entry)
                    ),
                });
                continue;
            }
        }
        parsed.entries.push((indicator, line_no));
    }
    parsed
}

/// `s` without a comment at its end: whitespace, then `#` and anything after. `s` does
/// not start with whitespace or `#`.
fn strip_comment(s: &str) -> &str {
    for i in memchr::memchr_iter(b'#', s.as_bytes()) {
        let before = s.get(..i).unwrap_or_default();
        if before.chars().next_back().is_some_and(char::is_whitespace) {
            return before;
        }
    }
    s
}
