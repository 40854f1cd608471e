//! One diagnostic type for every stage: syntax (`G0xx`), names and types (`C1xx`),
//! rule-file schema (`R2xx`); warnings carry snake_case names. Codes are never reused.

use crate::ast::Span;

/// How bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The rule cannot be used.
    Error,
    /// The rule is used, but something is likely wrong.
    Warning,
}

/// A message about a place in a source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code such as `G001`, or a warning name such as `unused_macro`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// One line, lower case, no trailing period: what is wrong.
    pub message: String,
    /// Places in the source; the first primary one is where the problem is.
    pub labels: Vec<Label>,
    /// Extra lines printed as `= note: …`.
    pub notes: Vec<String>,
    /// Printed as `= help: …`: what to write instead.
    pub help: Option<String>,
}

/// A span with a short message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
    /// Primary labels mark the problem; secondary ones give context.
    pub primary: bool,
}

impl Diagnostic {
    /// A new error with no labels yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }
    /// A new warning with no labels yet.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }
    /// Adds the primary label.
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }
    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }
    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Moves every label through `map` (used to turn spans inside a condition into
    /// spans inside the YAML file that holds it).
    pub fn map_spans(mut self, map: impl Fn(&Span) -> Span) -> Self {
        for label in &mut self.labels {
            label.span = map(&label.span);
        }
        self
    }
    /// Is it an error?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
