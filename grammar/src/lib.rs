//! The condition language of picket rules.
//!
//! `text -> pest pairs -> AST`. This crate knows nothing about events, fields or YAML:
//! it turns the text of a rule's `when:` (or a macro body) into an [`ast::Expr`] whose
//! every node carries a [`Span`] of byte offsets into that text, and it reports syntax
//! errors as [`Diagnostic`]s. Name resolution and type checking happen in the engine,
//! which reuses [`Diagnostic`] and [`render()`] so every error looks the same.
//!
//! Pipeline of the whole project: `YAML -> RuleDef -> AST -> IR -> RulePack`; this crate
//! owns the `AST` step.
#![deny(missing_docs)]

pub mod ast;
pub mod diagnostic;
mod parser;
pub mod print;
pub mod render;
pub mod suggest;

pub use ast::Span;
pub use diagnostic::{Diagnostic, Label, Severity};
pub use parser::{parse_condition, parse_detection, MAX_NESTING, MAX_OPERATORS, MAX_WINDOW_TESTS};
pub use print::to_sexpr;
pub use render::render;
