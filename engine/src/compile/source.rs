//! Source texts of a rule pack and positions inside them.
//!
//! Diagnostics point into the YAML file, not into the condition string: a condition
//! inside `when: |` starts several lines down and is indented. [`ScalarMap`] maps a byte
//! offset inside a scalar's value back to the byte offset in the file that holds it.

use std::sync::Arc;

use picket_grammar::{Diagnostic, Span};

/// One text file of a pack (rule, lists, macros) with its display name.
#[derive(Debug)]
pub struct SourceFile {
    /// Name shown in diagnostics, e.g. `rules/account/root-console-login.yaml`.
    pub name: Arc<str>,
    /// The whole text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps a text.
    pub fn new(name: impl Into<Arc<str>>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// Byte offset of a marked-yaml marker (1-based line, 1-based column in chars).
    pub fn offset_of(&self, marker: &marked_yaml::Marker) -> usize {
        let line = marker.line().saturating_sub(1);
        let Some(&start) = self.line_starts.get(line) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let col = marker.column().saturating_sub(1);
        start
            + rest
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(rest.len())
    }

    /// Span of a marked-yaml span; scalars often have no end marker, so `len_hint`
    /// (the length of the scalar as written) fills it in.
    pub fn span_of(&self, span: &marked_yaml::Span, len_hint: usize) -> Span {
        let start = span.start().map(|m| self.offset_of(m)).unwrap_or(0);
        let end = span
            .end()
            .map(|m| self.offset_of(m))
            .filter(|&e| e > start)
            .unwrap_or_else(|| (start + len_hint).min(self.text.len()));
        Span::new(start, end.max(start))
    }

    /// Byte offset of a 1-based line and 1-based column (in characters); past the end
    /// of a line, its end; past the last line, the end of the text.
    pub fn offset_at(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_len = rest.find('\n').unwrap_or(rest.len());
        start
            + rest[..line_len]
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(line_len, |(i, _)| i)
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line, col + 1)
    }
}

/// Maps offsets inside a YAML scalar's value to offsets in its file.
///
/// Built by walking the value and the file text side by side: characters that are equal
/// advance both; whitespace, quotes and escapes that YAML folded away are skipped in the
/// file. Works for plain, quoted, literal (`|`) and folded (`>`) scalars.
#[derive(Clone, Debug, Default)]
pub struct ScalarMap {
    /// For each byte of the value (plus one past the end), its offset in the file.
    offsets: Vec<u32>,
}

impl ScalarMap {
    /// Aligns `value` with the file text starting at `file_start`.
    pub fn new(file: &str, file_start: usize, value: &str) -> Self {
        let bytes = file.as_bytes();
        let mut j = file_start.min(bytes.len());
        // A quoted scalar's marker points at the quote.
        if let Some(&q) = bytes.get(j) {
            if (q == b'"' || q == b'\'') && !value.starts_with(q as char) {
                j += 1;
            }
        }
        let mut offsets = Vec::with_capacity(value.len() + 1);
        for ch in value.chars() {
            let want = ch as u32;
            if !ch.is_whitespace() {
                // Skip what YAML removed: indentation, line breaks, escapes, quotes.
                let mut k = j;
                while k < bytes.len()
                    && (bytes[k] as u32) != want
                    && matches!(
                        bytes[k],
                        b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'"' | b'\''
                    )
                {
                    k += 1;
                }
                if k < bytes.len() && (bytes[k] as u32 == want || !ch.is_ascii()) {
                    j = k;
                }
            }
            for _ in 0..ch.len_utf8() {
                offsets.push(j as u32);
            }
            if j < bytes.len() && (bytes[j] as u32 == want || ch.is_whitespace()) {
                j += if ch.is_ascii() { 1 } else { ch.len_utf8() };
                while j < bytes.len() && !file.is_char_boundary(j) {
                    j += 1;
                }
            }
        }
        offsets.push(j as u32);
        ScalarMap { offsets }
    }

    /// The file offset of a value offset.
    pub fn offset(&self, value_offset: usize) -> usize {
        let last = self.offsets.len().saturating_sub(1);
        self.offsets
            .get(value_offset.min(last))
            .copied()
            .unwrap_or(0) as usize
    }

    /// A span in the value turned into a span in the file.
    pub fn span(&self, span: &Span) -> Span {
        let start = self.offset(span.start());
        let end = if span.end() > span.start() {
            self.offset(span.end() - 1) + 1
        } else {
            start
        };
        Span::new(start, end.max(start))
    }
}

/// A diagnostic together with the file it points into.
#[derive(Clone, Debug)]
pub struct FileDiagnostic {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The diagnostic, its spans in file bytes.
    pub diagnostic: Diagnostic,
}

impl FileDiagnostic {
    /// Renders it like a compiler would.
    pub fn render(&self, color: bool) -> String {
        picket_grammar::render(&self.diagnostic, &self.file.name, &self.file.text, color)
    }

    /// `file:line:col: error[code]: message`, for logs.
    pub fn one_line(&self) -> String {
        let at = self
            .diagnostic
            .labels
            .iter()
            .find(|l| l.primary)
            .map(|l| self.file.line_col(l.span.start()))
            .unwrap_or((1, 1));
        let kind = if self.diagnostic.is_error() {
            "error"
        } else {
            "warning"
        };
        format!(
            "{}:{}:{}: {kind}[{}]: {}",
            self.file.name, at.0, at.1, self.diagnostic.code, self.diagnostic.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file: &str, value: &str, start: usize, needle: &str, expect_in_file: &str) {
        let map = ScalarMap::new(file, start, value);
        let at = value.find(needle).expect("needle in value");
        let span = map.span(&Span::new(at, at + needle.len()));
        assert_eq!(&file[span.start()..span.end()], expect_in_file);
    }

    #[test]
    fn literal_block_maps_lines_and_indentation() {
        let file = "when: |\n  a == 1\n  and bb == 2\n";
        check(file, "a == 1\nand bb == 2\n", 10, "bb", "bb");
    }

    #[test]
    fn folded_block_maps_across_folded_lines() {
        let file = "when: >\n    a == 1\n    and bb\n";
        check(file, "a == 1 and bb\n", 12, "bb", "bb");
    }

    #[test]
    fn double_quoted_skips_quote_and_escapes() {
        let file = "when: \"x == \\\"a\\\" and yy\"\n";
        check(file, "x == \"a\" and yy", 6, "yy", "yy");
    }

    #[test]
    fn line_col_is_one_based() {
        let f = SourceFile::new("f", "ab\ncd\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 2));
    }
}
