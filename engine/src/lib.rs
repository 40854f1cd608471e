//! picket: threat detection for AWS logs with declarative, testable rules.
//!
//! `bytes -> event (normalized) -> matcher (compiled rule pack) -> findings -> output`.
//!
//! - [`event`]: readers and one normalizer per source (CloudTrail, S3 data events,
//!   VPC Flow Logs, Route 53 Resolver, EKS audit), and the field catalog.
//! - [`compile`]: `YAML -> RuleDef -> AST -> IR -> RulePack`, with diagnostics that
//!   point into the rule files.
//! - [`functions`]: functions of the condition language.
//! - [`run`]: evaluation of a pack over events, and rule tests over fixtures.
//! - [`finding`]: GuardDuty-shaped findings, aggregation and output.
//! - [`cli`]: the `picket` command.

pub mod cli;
pub mod compile;
pub mod event;
pub mod finding;
pub mod functions;
pub mod intel;
pub mod run;
pub mod serve;

/// The built-in rule library (`rules/` at the repository root), embedded at build time.
pub static BUILTIN_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../rules");
