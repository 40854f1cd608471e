//! What a reload can reuse from the engine before it: the substring automata, regex
//! sets and regex gates of the dispatch index, by the patterns they were built from.
//!
//! A field group's automaton depends only on its needles (and whether case is
//! ignored), its regex set only on its patterns, so a group whose tests did not change
//! gets the objects built before, whatever the test ids around them. After one rule file
//! changed, a reload of 1,000 rules builds the groups that file's tests are in, and no
//! others. Objects not used by a build are dropped after it, so the cache holds one
//! engine's worth.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Mutex;

use aho_corasick::packed::Searcher;
use aho_corasick::AhoCorasick;

/// Built objects of one kind, by their key, with the keys the build under way used.
struct Built<K, V> {
    by_key: HashMap<K, V>,
    used: HashSet<K>,
}

impl<K, V> Default for Built<K, V> {
    fn default() -> Self {
        Built {
            by_key: HashMap::new(),
            used: HashSet::new(),
        }
    }
}

impl<K: Hash + Eq, V> Built<K, V> {
    fn sweep(&mut self) {
        let used = std::mem::take(&mut self.used);
        self.by_key.retain(|k, _| used.contains(k));
    }
}

/// An automaton of needles and the SIMD detector of the same needles.
pub(super) type Automaton = Option<(AhoCorasick, Option<Searcher>)>;

/// The regexes of a field group as one set (`None` when too big to build), and the gate
/// of the literals their matches start with.
pub(super) type RegexSetAndGate = (Option<regex::RegexSet>, Option<Searcher>);

#[derive(Default)]
struct Entries {
    /// By (case ignored, needles).
    automata: Built<(bool, Vec<String>), Automaton>,
    /// By patterns.
    regexes: Built<Vec<String>, RegexSetAndGate>,
}

/// Automata and regex sets shared by successive builds of an engine.
#[derive(Default)]
pub struct BuildCache {
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for BuildCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BuildCache")
    }
}

/// How a build gets its costly objects: from a cache, or built every time.
#[derive(Clone, Copy)]
pub(super) struct Builder<'c>(pub(super) Option<&'c BuildCache>);

impl Builder<'_> {
    /// Runs `build`, or takes what it gave for this key before. Built outside the
    /// lock (another build may run meanwhile; the second result is dropped).
    fn cached<K: Hash + Eq + Clone, V: Clone>(
        self,
        pick: fn(&mut Entries) -> &mut Built<K, V>,
        key: K,
        build: impl FnOnce() -> V,
    ) -> V {
        let Some(cache) = self.0 else {
            return build();
        };
        if let Ok(mut e) = cache.entries.lock() {
            let built = pick(&mut e);
            built.used.insert(key.clone());
            if let Some(hit) = built.by_key.get(&key) {
                return hit.clone();
            }
        }
        let value = build();
        if let Ok(mut e) = cache.entries.lock() {
            pick(&mut e)
                .by_key
                .entry(key)
                .or_insert_with(|| value.clone());
        }
        value
    }

    pub(super) fn automaton(
        self,
        nocase: bool,
        needles: Vec<String>,
        build: impl FnOnce() -> Automaton,
    ) -> Automaton {
        self.cached(|e| &mut e.automata, (nocase, needles), build)
    }

    pub(super) fn regexes(
        self,
        patterns: Vec<String>,
        build: impl FnOnce() -> RegexSetAndGate,
    ) -> RegexSetAndGate {
        self.cached(|e| &mut e.regexes, patterns, build)
    }
}

impl BuildCache {
    /// Drops what the build that just ended did not use.
    pub(super) fn finish(&self) {
        if let Ok(mut e) = self.entries.lock() {
            e.automata.sweep();
            e.regexes.sweep();
        }
    }

    /// Objects held: automata, and regex sets with their gates.
    pub fn held(&self) -> (usize, usize) {
        self.entries
            .lock()
            .map(|e| (e.automata.by_key.len(), e.regexes.by_key.len()))
            .unwrap_or_default()
    }
}
