//! Matching: evaluates compiled rules on events.
//!
//! [`eval`] is the reference tree-walking evaluator: it runs a rule's [`Cond`] over an
//! event and, for a match, explains which predicates held. [`Matcher`] runs a pack: the
//! dispatch stage ([`Dispatch`]) computes the literal tests of all rules per field and
//! picks the rules an event can match; the evaluator runs those. [`parallel`] reads and
//! matches inputs on several threads with the result of doing it in order on one.
//! [`Profile`] counts the cost of each rule.
//!
//! [`Cond`]: crate::compile::ir::Cond

mod dispatch;
pub mod eval;
pub mod fixtures;
pub mod parallel;
mod profile;
mod project;

pub use dispatch::Dispatch;
pub use profile::Profile;

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

/// Runs a pack over events: the dispatch index picks the rules an event can match,
/// the evaluator runs those.
pub struct Matcher<'p> {
    pack: &'p RulePack,
    dispatch: Dispatch,
}

impl<'p> Matcher<'p> {
    /// A matcher over a pack (builds its dispatch index).
    pub fn new(pack: &'p RulePack) -> Self {
        Matcher {
            pack,
            dispatch: Dispatch::new(pack),
        }
    }

    /// The dispatch index, for diagnostics.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Calls `on_match` for every rule of the event's source that matches it, in rule
    /// order.
    pub fn run(&self, event: &Event, mut on_match: impl FnMut(Match<'p>)) {
        let rules = &self.pack.rules;
        self.dispatch.candidates(event, &mut |i, known| {
            let rule = &rules[i as usize];
            if eval::matches_with(rule, event, known) {
                on_match(Match {
                    rule,
                    matched: eval::explain_with(rule, event, known),
                });
            }
        });
    }
}
