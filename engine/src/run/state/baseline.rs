//! Baselines: combinations of values seen before (`new`, `rare`), with a learning
//! period per rule or per entity.

use serde::{Deserialize, Serialize};

use super::{at, KeyHasher, KeyState, Keyed, Obs, Reading, Store};
use crate::compile::stateful::Baseline;

/// What one combination of values was seen as.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Term {
    /// Earliest event time.
    first: i64,
    /// Events seen with it.
    count: u64,
    /// First seen after learning was over (it can pass `for D`).
    novel: bool,
}

impl KeyState for Term {
    const EXPIRES: bool = false;

    fn bytes(&self) -> usize {
        0
    }
    fn expire(&mut self, _: i64, _: i64) -> bool {
        false
    }
}

/// When an entity was first seen.
#[derive(Serialize, Deserialize)]
pub(crate) struct FirstSeen(i64);

impl Default for FirstSeen {
    fn default() -> Self {
        FirstSeen(i64::MAX)
    }
}

impl KeyState for FirstSeen {
    const EXPIRES: bool = false;

    fn bytes(&self) -> usize {
        0
    }
    fn expire(&mut self, _: i64, _: i64) -> bool {
        false
    }
}

/// The baseline of one stage.
#[derive(Serialize, Deserialize)]
pub(crate) struct BaselineState {
    /// Learning start of a stage without entities: the earliest event time.
    start: Option<i64>,
    entities: Keyed<FirstSeen>,
    terms: Keyed<Term>,
}

impl Default for BaselineState {
    fn default() -> Self {
        BaselineState {
            start: None,
            entities: Keyed::new(0),
            terms: Keyed::new(0),
        }
    }
}

impl BaselineState {
    /// Learns the event's combination; returns the explanation when it passes.
    pub(crate) fn observe(
        &mut self,
        def: &Baseline,
        obs: &Obs,
        reading: &mut Reading<'_>,
        bytes: &mut usize,
    ) -> Option<String> {
        let t = obs.time;
        let mut h = KeyHasher::new();
        let start = if def.by.is_empty() {
            let s = self.start.map_or(t, |s| s.min(t));
            self.start = Some(s);
            s
        } else {
            h.keys(&def.by, reading);
            self.entities.with(h.finish(), obs.seq, bytes, |e| {
                e.0 = e.0.min(t);
                e.0
            })
        };
        h.separator();
        h.keys(&def.terms, reading);
        let key = h.finish();
        let learned = t >= start.saturating_add(def.learning_ms);
        self.terms.with(key, obs.seq, bytes, |term| {
            let before = term.count;
            if before == 0 {
                term.first = t;
                term.novel = learned;
            } else {
                term.first = term.first.min(t);
            }
            term.count = term.count.saturating_add(1);
            if !learned {
                return None;
            }
            if before < def.seen_below {
                return Some(match (before, def.seen_below) {
                    (0, _) => format!("first seen (learning since {})", at(start)),
                    (n, _) => format!("seen {n} time(s) before (learning since {})", at(start)),
                });
            }
            let recent = def
                .novelty_ms
                .is_some_and(|d| term.novel && t - term.first <= d);
            recent.then(|| format!("first seen at {}", at(term.first)))
        })
    }

    /// Its keyed stores: entities and combinations.
    pub(crate) fn stores(&self) -> [&dyn Store; 2] {
        [&self.entities, &self.terms]
    }

    /// [`BaselineState::stores`], to change.
    pub(crate) fn stores_mut(&mut self) -> [&mut dyn Store; 2] {
        [&mut self.entities, &mut self.terms]
    }
}
