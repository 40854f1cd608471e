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

pub mod builds;
mod dispatch;
pub mod eval;
pub mod fixtures;
pub mod parallel;
mod profile;
mod project;
pub mod series;
pub mod state;

pub use dispatch::{Dispatch, GroupTimes};
pub use profile::Profile;
pub use state::{StateConfig, StateStats, StateStore};

use crate::compile::{CompiledRule, RulePack};
use crate::event::Event;

/// A rule that matched an event, with the predicates that held.
#[derive(Debug)]
pub struct Match<'p> {
    /// The rule.
    pub rule: &'p CompiledRule,
    /// Texts of the predicates that held (`not …` for negated ones that did not). For a
    /// stateful rule, empty until the state store fires it, which fills in the
    /// predicates and what the state saw.
    pub matched: Vec<String>,
}

/// A rule pack ready to match: the rules and the dispatch index built from them.
///
/// An immutable value: built once, off the hot path ([`Engine::new`] does all the
/// work: automata, regex sets, address tables), shared by any number of threads, and
/// replaced whole when the pack changes: hold it in an `Arc` and swap the `Arc`.
/// Scans already running keep the engine they started with; per-thread caches belong to
/// one engine and are dropped when a thread meets another.
pub struct Engine {
    pack: RulePack,
    dispatch: Dispatch,
}

impl Engine {
    /// Builds the dispatch index of a pack.
    pub fn new(pack: RulePack) -> Engine {
        let dispatch = Dispatch::new(&pack);
        Engine { pack, dispatch }
    }

    /// [`Engine::new`], reusing the automata and regex sets `cache` holds from the
    /// engine before (a reload): only the field groups whose tests changed are built.
    pub fn with_cache(pack: RulePack, cache: &builds::BuildCache) -> Engine {
        let dispatch = Dispatch::with_cache(&pack, cache);
        Engine { pack, dispatch }
    }

    /// The rules.
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// A matcher over the engine (costs nothing).
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            pack: &self.pack,
            dispatch: Index::Shared(&self.dispatch),
        }
    }
}

/// The dispatch index a matcher uses: its own, or an engine's.
enum Index<'p> {
    Own(Box<Dispatch>),
    Shared(&'p Dispatch),
}

/// Runs a pack over events: the dispatch index picks the rules an event can match,
/// the evaluator runs those.
pub struct Matcher<'p> {
    pack: &'p RulePack,
    dispatch: Index<'p>,
}

impl<'p> Matcher<'p> {
    /// A matcher over a pack (builds its dispatch index; [`Engine`] builds it once for
    /// many matchers).
    pub fn new(pack: &'p RulePack) -> Self {
        Matcher {
            pack,
            dispatch: Index::Own(Box::new(Dispatch::new(pack))),
        }
    }

    /// The dispatch index, for diagnostics.
    pub fn dispatch(&self) -> &Dispatch {
        match &self.dispatch {
            Index::Own(d) => d,
            Index::Shared(d) => d,
        }
    }

    /// [`Matcher::run`], with stateful rules run through `state`: `on_match` hears of
    /// a stateless rule when its condition holds, of a stateful one when it fires.
    pub fn run_with_state(
        &self,
        event: &Event,
        state: &mut StateStore,
        mut on_match: impl FnMut(Match<'p>),
    ) {
        let mut stateful: smallvec::SmallVec<[Match<'p>; 4]> = smallvec::SmallVec::new();
        self.run(event, |m| {
            if m.rule.stateful.is_none() {
                on_match(m);
            } else {
                stateful.push(m);
            }
        });
        if !stateful.is_empty() {
            state.observe_event(event, stateful, on_match);
        }
    }

    /// Calls `on_match` for every rule of the event's source that matches it, in rule
    /// order.
    pub fn run(&self, event: &Event, mut on_match: impl FnMut(Match<'p>)) {
        let rules = &self.pack.rules;
        self.dispatch().candidates(event, &mut |i, known| {
            let rule = &rules[i as usize];
            if eval::matches_with(rule, event, known) {
                // A stateful rule's match is explained only if the state makes it
                // fire (most do not): the state store fills `matched` then.
                let matched = if rule.stateful.is_some() {
                    Vec::new()
                } else {
                    eval::explain_with(rule, event, known)
                };
                on_match(Match { rule, matched });
            }
        });
    }
}
