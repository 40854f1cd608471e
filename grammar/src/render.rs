//! The one renderer of [`Diagnostic`]s, rustc style, built on `annotate-snippets`.
//!
//! ```text
//! error[G005]: `=` is not a comparison operator
//!  --> rules/x.yaml:12:22
//!    |
//! 12 |   api.operation = "ConsoleLogin"
//!    |                 ^ use `==` here
//!    |
//!    = help: use `==`
//! ```
//!
//! Every stage (the parser here, the engine's name and type checks, the rule-file
//! loader) renders through [`render`], so all messages look the same. Label spans are
//! byte offsets into the `source` handed to [`render`]; spans that are out of range or
//! not on a character boundary are clamped, so rendering never panics.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Severity};

/// Renders `diag` against `source` (the text its spans point into), naming the file
/// `origin` in the ` --> origin:line:col` header. With `color`, the output carries ANSI
/// escapes for a terminal; without, it is plain text (used by snapshot tests).
///
/// ```
/// use picket_grammar::{parse_condition, render};
/// let source = "a = 1";
/// let diag = parse_condition(source).unwrap_err();
/// let text = render(&diag, "rule.yaml", source, false);
/// assert!(text.starts_with("error[G005]: `=` is not a comparison operator\n --> rule.yaml:1:3\n"));
/// ```
pub fn render(diag: &Diagnostic, origin: &str, source: &str, color: bool) -> String {
    let level = match diag.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(diag.message.as_str()).id(diag.code);

    // The first primary label goes first, so the header points at it.
    let mut labels: Vec<_> = diag.labels.iter().collect();
    if let Some(i) = labels.iter().position(|l| l.primary) {
        let first = labels.remove(i);
        labels.insert(0, first);
    }

    let mut group = Group::with_title(title);
    if labels.is_empty() {
        group = group.element(Origin::path(origin));
    } else {
        let annotations = labels.iter().map(|label| {
            let kind = if label.primary {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let span = clamp(source, label.span.start()..label.span.end());
            let annotation = kind.span(span);
            if label.message.is_empty() {
                annotation
            } else {
                annotation.label(label.message.as_str())
            }
        });
        group = group.element(
            Snippet::source(source)
                .path(origin)
                .line_start(1)
                .annotations(annotations),
        );
    }
    for note in &diag.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    if let Some(help) = &diag.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }

    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = renderer.render(&[group]);
    out.push('\n');
    out
}

/// Line and column (both 1-based, the column counted in characters) of byte offset
/// `byte` in `source`, for one-line messages such as `rules/x.yaml:12:5: …`. An offset
/// past the end is taken as the end; one inside a character as that character.
///
/// ```
/// assert_eq!(picket_grammar::render::line_col("ab\ncé d", 6), (2, 3));
/// ```
pub fn line_col(source: &str, byte: usize) -> (usize, usize) {
    let byte = floor_boundary(source, byte.min(source.len()));
    let before = &source[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Makes `span` a valid range of `source` on character boundaries.
fn clamp(source: &str, span: Range<usize>) -> Range<usize> {
    let start = floor_boundary(source, span.start.min(source.len()));
    let end = ceil_boundary(source, span.end.min(source.len()).max(start));
    start..end
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Span;

    #[test]
    fn header_points_at_primary_label_in_the_file() {
        let source = "id: x\nwhen: |\n  a == 1\n  and b = 2\n";
        let diag = Diagnostic::error("G005", "`=` is not a comparison operator")
            .with_primary(Span::new(31, 32), "use `==` here")
            .with_help("use `==`");
        let out = render(&diag, "rules/x.yaml", source, false);
        assert!(out.contains(" --> rules/x.yaml:4:9\n"), "{out}");
        assert!(out.contains("4 |   and b = 2\n"), "{out}");
        assert!(out.contains("= help: use `==`"), "{out}");
        assert_eq!(line_col(source, 31), (4, 9));
    }

    #[test]
    fn warnings_and_label_free_diagnostics() {
        let diag = Diagnostic::warning("unused_macro", "macro `x` is never used")
            .with_note("remove it or use it");
        let out = render(&diag, "macros/m.yaml", "", false);
        assert!(out.starts_with("warning[unused_macro]: macro `x` is never used\n"));
        assert!(out.contains("macros/m.yaml"), "{out}");
        assert!(out.contains("= note: remove it or use it"), "{out}");
    }

    #[test]
    fn bad_spans_are_clamped() {
        let source = "é = \"日本\"\n";
        for (start, end) in [(0, 1), (1, 2), (5, 3), (6, 7), (100, 200), (0, 100), (7, 7)] {
            let diag = Diagnostic::error("G001", "x")
                .with_primary(Span::new(start, end), "here")
                .with_secondary(Span::new(end, start), "there");
            let _ = render(&diag, "f", source, false);
            let _ = render(&diag, "f", source, true);
            let _ = line_col(source, start);
        }
        assert_eq!(line_col(source, 1), (1, 1));
        assert_eq!(line_col(source, 1000), (2, 1));
    }
}
