//! CSV lists: one column of a table holds the indicators.

use ::csv::{ReaderBuilder, StringRecord};

use super::{classify, shorten, strip_bom, Column, EntryError, Parsed, Positions};

/// Most column names listed in the message about a missing column.
const MAX_NAMES: usize = 20;

/// Reads a CSV list: the cells of `column` (by position from 0, or by its name in the
/// header row), each classified by [`classify`] with the line of its row. Fields are
/// separated by commas and may be quoted (`"a,b"`, with `""` for a quote); lines
/// starting with `#` are comments; blank rows and empty cells are skipped. With
/// `has_header`, the first row names the columns and holds no entry.
///
/// A row too short to have the column is an error at its line; a column named but
/// missing from the header (or named in a file read without a header) is one error at
/// the header's line, and nothing is read.
pub fn parse_csv(src: &str, column: &Column, has_header: bool) -> Parsed {
    let mut parsed = Parsed::default();
    let mut pos = Positions::new(src);
    let (body, base) = strip_bom(src);
    let mut index = match column {
        Column::Index(i) => Some(*i),
        Column::Name(name) if !has_header => {
            parsed.errors.push(EntryError {
                line: 1,
                column: 1,
                message: format!(
                    "the column `{}` is chosen by name, but the file is read without a \
                     header row; set `header: true`, or choose the column by its number \
                     (`column: 0` is the first)",
                    shorten(name)
                ),
            });
            return parsed;
        }
        Column::Name(_) => None,
    };
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(body.as_bytes());
    let mut record = StringRecord::new();
    let mut header_pending = has_header;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Reading text with rows of any length, the reader reports no error;
                // should one come, the rest is not read (the reader may not move on).
                let at = e.position().map_or(body.len(), |p| byte(p.byte()));
                let at = base + record_start(body, at);
                parsed.errors.push(pos.error(
                    at,
                    format!("this row cannot be read as CSV: {e}; fix the row"),
                ));
                break;
            }
        }
        let row_at = record_start(
            body,
            record.position().map_or(body.len(), |p| byte(p.byte())),
        );
        if header_pending {
            header_pending = false;
            if let Column::Name(name) = column {
                match find_column(&record, name) {
                    Some(i) => index = Some(i),
                    None => {
                        parsed
                            .errors
                            .push(missing_column(&mut pos, base + row_at, name, &record));
                        return parsed;
                    }
                }
            }
            continue;
        }
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let Some(i) = index else {
            // Only a column named in a header is looked for, and the header came first.
            break;
        };
        match record.get(i) {
            Some(cell) => {
                let cell = cell.trim();
                if cell.is_empty() {
                    continue;
                }
                let (line, _) = pos.at(base + field_start(body, row_at, i));
                parsed.entries.push((classify(cell), line));
            }
            None => {
                let fields = match record.len() {
                    1 => "1 field".to_string(),
                    n => format!("{n} fields"),
                };
                let message = match column {
                    Column::Index(_) => format!(
                        "this row has {fields}, but the list reads column {i} (counted from \
                         0, so each row needs at least {}); fix the row, or choose another \
                         column with `column:`",
                        i.saturating_add(1)
                    ),
                    Column::Name(name) => format!(
                        "this row has {fields}, but the column `{}` is field {} of the \
                         header; fix the row",
                        shorten(name),
                        i.saturating_add(1)
                    ),
                };
                parsed.errors.push(pos.error(base + row_at, message));
            }
        }
    }
    parsed
}

/// The position of the column `name` in the header `row`: written as it is, or else
/// with other upper and lower case.
fn find_column(row: &StringRecord, name: &str) -> Option<usize> {
    let name = name.trim();
    row.iter()
        .position(|h| h.trim() == name)
        .or_else(|| row.iter().position(|h| h.trim().eq_ignore_ascii_case(name)))
}

/// The error for a column `name` missing from `header`, which starts at byte `at`.
fn missing_column(
    pos: &mut Positions<'_>,
    at: usize,
    name: &str,
    header: &StringRecord,
) -> EntryError {
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    let mut listed: Vec<String> = names
        .iter()
        .take(MAX_NAMES)
        .map(|n| format!("`{}`", shorten(n)))
        .collect();
    if names.len() > MAX_NAMES {
        listed.push(format!("and {} more", names.len() - MAX_NAMES));
    }
    let hint = match picket_grammar::suggest::nearest(name, names.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => {
            "set `column:` to one of them, or to a column's number (0 is the first)".to_string()
        }
    };
    pos.error(
        at,
        format!(
            "the header has no column `{}`; its columns are {}; {hint}",
            shorten(name),
            listed.join(", ")
        ),
    )
}

/// A byte offset of the reader as an offset in the text.
fn byte(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// Where the row the reader says starts at byte `at` of `body` really starts: the
/// reader's position is the end of the row before, so blank lines and comment lines
/// in between are skipped here.
fn record_start(body: &str, at: usize) -> usize {
    let bytes = body.as_bytes();
    let mut at = at.min(bytes.len());
    loop {
        match bytes.get(at) {
            Some(b'\r' | b'\n') => at += 1,
            Some(b'#') => {
                at = memchr::memchr2(b'\r', b'\n', bytes.get(at..).unwrap_or_default())
                    .map_or(bytes.len(), |i| at + i);
            }
            _ => return at,
        }
    }
}

/// Where field `index` of the row starting at byte `row` of `body` starts (its first
/// character that is not a space, a tab or its opening quote), read as the reader reads
/// fields: a quote opens a quoted field only at the field's start, `""` inside one is a
/// quote, and text after its closing quote belongs to the field.
fn field_start(body: &str, row: usize, index: usize) -> usize {
    let bytes = body.as_bytes();
    let mut at = row;
    for _ in 0..index {
        if bytes.get(at) == Some(&b'"') {
            at += 1;
            loop {
                match bytes.get(at) {
                    None => return at,
                    Some(b'"') if bytes.get(at + 1) == Some(&b'"') => at += 2,
                    Some(b'"') => {
                        at += 1;
                        break;
                    }
                    Some(_) => at += 1,
                }
            }
        }
        loop {
            match bytes.get(at) {
                None | Some(b'\r' | b'\n') => return at,
                Some(b',') => {
                    at += 1;
                    break;
                }
                Some(_) => at += 1,
            }
        }
    }
    if bytes.get(at) == Some(&b'"') {
        at += 1;
    }
    while matches!(bytes.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    at
}
