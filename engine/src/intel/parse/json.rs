//! What the JSON formats (STIX, `ip-ranges.json`) share: where a value is in the file,
//! and errors of `serde_json` as list errors.

use serde_json::value::RawValue;

use super::{EntryError, Positions};

/// Byte offset of `part`, a slice of `src`, in `src` (0 if it is not one).
pub(super) fn offset_in(src: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .checked_sub(src.as_ptr() as usize)
        .filter(|&o| o <= src.len())
        .unwrap_or(0)
}

/// The error `e` of `serde_json` reading the text that starts at byte `base` of the
/// file, at its place in the file, with `help` after its message.
pub(super) fn serde_error(
    pos: &mut Positions<'_>,
    base: usize,
    e: &serde_json::Error,
    what: &str,
    help: &str,
) -> EntryError {
    // serde_json counts lines from `base`, and columns in bytes from the line's start
    // (0 before its first character).
    let bytes = pos.src.as_bytes().get(base..).unwrap_or_default();
    let line_start = match e.line() {
        0 | 1 => base,
        line => memchr::memchr_iter(b'\n', bytes)
            .nth(line - 2)
            .map_or(pos.src.len(), |i| base + i + 1),
    };
    let offset = line_start.saturating_add(e.column().saturating_sub(1));
    pos.error(offset, format!("{what}: {}; {help}", serde_message(e)))
}

/// The message of a `serde_json` error, without its position.
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_string(),
        None => text,
    }
}

/// A JSON string's text; `None` for any other value.
pub(super) fn string(raw: &RawValue) -> Option<String> {
    serde_json::from_str(raw.get()).ok()
}

/// What kind of JSON value `raw` is, for messages.
pub(super) fn kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}
