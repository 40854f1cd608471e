//! Rule compilation: `YAML -> RuleDef -> AST -> IR -> RulePack`.
//!
//! - [`load`]: YAML files of a pack into [`load::RuleDef`]s, lists and macros, keeping
//!   positions ([`source`] maps condition offsets back into the file).
//! - the AST comes from the `picket-grammar` crate.
//! - [`resolve`]: names, types, literals, macro expansion; AST into [`ir`].
//! - [`stateful`]: windows, baselines and sequences of a rule's `when:`.
//! - [`pack`]: the immutable [`RulePack`], rules indexed by source.
//! - [`cache`]: what a reload reuses from the compilation before it.
//!
//! Every error is a [`FileDiagnostic`] naming file, line and column.

pub mod cache;
pub mod ir;
pub mod load;
pub mod pack;
pub mod reload;
pub mod resolve;
pub mod source;
pub mod stateful;

pub use pack::{
    compile, compile_with, CompileOptions, Compiled, CompiledRule, PackFiles, RuleMeta, RulePack,
};
pub use source::{FileDiagnostic, SourceFile};
