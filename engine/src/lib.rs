//! picket: threat detection for AWS logs with declarative, testable rules.
//!
//! `bytes -> event (reader, normalizer) -> compile/run -> finding -> sinks`.

pub mod event;
