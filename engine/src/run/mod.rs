//! Matching: evaluates compiled rules on events.
//!
//! [`eval`] is the reference tree-walking evaluator: it runs a rule's [`Cond`] over an
//! event and, for a match, explains which predicates held. [`Matcher`] dispatches an
//! event to the rules of its source only. [`parallel`] reads and matches inputs on
//! several threads with the result of doing it in order on one.
//!
//! [`Cond`]: crate::compile::ir::Cond

pub mod eval;
pub mod fixtures;
pub mod parallel;

use crate::compile::{CompiledRule, RulePack};
use crate::event::Event;

/// A rule that matched an event, with the predicates that held.
#[derive(Debug)]
pub struct Match<'p> {
    /// The rule.
    pub rule: &'p CompiledRule,
    /// Texts of the predicates that held (`not …` for negated ones that did not).
    pub matched: Vec<String>,
}

/// Runs a pack over events.
pub struct Matcher<'p> {
    pack: &'p RulePack,
}

impl<'p> Matcher<'p> {
    /// A matcher over a pack.
    pub fn new(pack: &'p RulePack) -> Self {
        Matcher { pack }
    }

    /// Calls `on_match` for every rule of the event's source that matches it.
    pub fn run(&self, event: &Event, mut on_match: impl FnMut(Match<'p>)) {
        for rule in self.pack.rules_for(event.source) {
            if eval::matches(rule, event) {
                on_match(Match {
                    rule,
                    matched: eval::explain(rule, event),
                });
            }
        }
    }
}
