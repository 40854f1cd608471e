//! The state store: windows, baselines and sequences of stateful rules, in event time.
//!
//! ```text
//! Matcher (stateless: the rule's condition held) --Match--> StateStore::observe
//!   late?  (event time < newest event time seen - allowed lateness) -> counted, dropped
//!   stage by stage (window, baseline) or the sequence, state keyed by rule + key
//!   --Match with what the state saw (count, window, first seen …)--> findings
//! ```
//!
//! Events are taken in the order they arrive, but every operator works in *event
//! time*: an event is placed where its time says, so the same events give the same
//! findings in any order that stays within the allowed lateness (default 15 minutes,
//! CloudTrail's usual delay). Each input (file or stream) has a watermark per source,
//! its newest event time: an event older than its input's watermark minus the allowed
//! lateness is *late*, counted in [`StateStats::late_events`] and left out of stateful
//! rules (stateless rules still see it). Inputs are independent, so files read one
//! after the other (region after region) are not late for each other, and they share
//! state. State is expired below the lowest horizon of the inputs that had events since
//! the last sweep. Events without a time cannot be placed and are counted as `untimed`.
//!
//! Semantics of each operator (docs/language.md has the user's version):
//! - a window (`count() >= 20 over 5m by k`) fires on an event when some window of that
//!   length (times compared in whole seconds, both ends included) holds the event and
//!   the aggregate reaches the threshold: `count`, `distinct` and `sum` only grow, so a
//!   late event that completes a window fires too. `min`, `max` and `avg` are taken over
//!   the window that ends at the event.
//! - a window against a baseline (`sum(x) > baseline * 10 over 1h by k after learning
//!   1d`) uses fixed windows (multiples of the length since the epoch); each window
//!   that closes (the newest event time passed its end by the allowed lateness) is one
//!   sample of the key's baseline (empty windows count as 0 once the key was seen).
//! - a baseline (`new (a, b) after learning 14d`) passes an event whose combination of
//!   values was seen fewer than N times before (N = 1 for `new`), once learning is over:
//!   learning starts at the rule's first event, or at each entity's (`by`) first event.
//! - a sequence fires on the event that completes it: every step's events in order of
//!   time (ties broken by arrival), all within the span, sharing the `by` values.
//!
//! [`reference`](mod@reference) is the same semantics written naively (every event kept, every window
//! recomputed); a property test holds the store to it.
//!
//! Memory is bounded: the store estimates its size and, over
//! [`StateConfig::memory_cap_bytes`], evicts the keys that were touched longest ago
//! ([`StateStats::evicted_keys`]). Old window entries and sequence steps are pruned as
//! event time moves on.

mod baseline;
pub mod reference;
mod sequence;
mod snapshot;
mod window;

pub(crate) use snapshot::fingerprint;
pub use snapshot::Restored;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::Match;
use crate::compile::ir::{FieldRef, Operand};
use crate::compile::stateful::{Key, StageOp, Stateful};
use crate::event::{format_millis, Event, FieldValue, Source};
use std::sync::Arc;

/// Default allowed lateness: 15 minutes.
pub const DEFAULT_LATENESS_MS: i64 = 15 * 60 * 1000;

/// Default memory cap: 256 MiB.
pub const DEFAULT_MEMORY_CAP: usize = 256 << 20;

/// Observations between sweeps of expired state.
const SWEEP_EVERY: u64 = 16_384;

/// How the store runs.
#[derive(Clone, Debug)]
pub struct StateConfig {
    /// Events older than the newest event time seen minus this are late.
    pub allowed_lateness_ms: i64,
    /// Estimated bytes of state above which the oldest keys are evicted.
    pub memory_cap_bytes: usize,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            allowed_lateness_ms: DEFAULT_LATENESS_MS,
            memory_cap_bytes: DEFAULT_MEMORY_CAP,
        }
    }
}

/// What the store did, for the scan summary and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// Events that met a stateful rule's condition.
    pub observed: u64,
    /// Of those, events older than the allowed lateness: left out of stateful rules.
    pub late_events: u64,
    /// Of those, events without a time.
    pub untimed_events: u64,
    /// Keys evicted to stay under the memory cap.
    pub evicted_keys: u64,
    /// Keys held now.
    pub keys: usize,
    /// Estimated bytes held now.
    pub bytes: usize,
}

/// The state of every stateful rule. One per stream; not shared between threads (the
/// parallel scan feeds it in input order from the merge).
pub struct StateStore {
    config: StateConfig,
    /// The newest event time of each input and source.
    inputs: FxHashMap<(Source, Arc<str>), Watermark>,
    /// The input of the last observation, kept apart from `inputs` while it lasts.
    current: Option<((Source, Arc<str>), Watermark)>,
    /// Observations so far: the arrival order, and the age of keys for eviction.
    seq: u64,
    rules: FxHashMap<String, RuleEntry>,
    stats: StateStats,
    bytes: usize,
    last_sweep: u64,
    /// Keys held after the last sweep.
    swept_keys: u64,
    autosave: Option<Autosave>,
    /// Scratch: its contributions to a window's tests.
    values: Vec<window::Value>,
}

/// Saving a snapshot now and then while events flow.
struct Autosave {
    path: std::path::PathBuf,
    every: std::time::Duration,
    last: std::time::Instant,
    /// The last error, if saving failed.
    error: Option<String>,
}

/// The newest event time of one input (a file, or standard input) and source.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Watermark {
    newest: i64,
    /// Had events since the last sweep.
    touched: bool,
}

/// The state of one rule, with the fingerprint of the definition that wrote it.
#[derive(Serialize, Deserialize)]
struct RuleEntry {
    fingerprint: String,
    state: RuleState,
}

/// The state of one rule.
#[derive(Serialize, Deserialize)]
enum RuleState {
    Stages(Vec<StageState>),
    Sequence(Keyed<sequence::SeqKey>),
}

#[derive(Serialize, Deserialize)]
enum StageState {
    Window(Keyed<window::WindowKey>),
    Anomaly(Keyed<window::AnomalyKey>),
    Baseline(baseline::BaselineState),
}

/// Per-key state with the bookkeeping for memory and eviction.
#[derive(Serialize, Deserialize)]
struct Keyed<T> {
    map: FxHashMap<KeyId, Slot<T>>,
    /// The window or sequence span, for expiry.
    span_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct Slot<T> {
    state: T,
    /// Observation number of the last touch.
    touched: u64,
    /// Estimated bytes, as last computed.
    bytes: usize,
}

impl<T> Keyed<T> {
    fn new(span_ms: i64) -> Self {
        Keyed {
            map: FxHashMap::default(),
            span_ms,
        }
    }
}

/// Bytes a map entry costs beyond its state's own heap: the table slot (key and `Slot`,
/// control byte, with the table's spare room: half again on average).
fn entry_bytes<T>() -> usize {
    (std::mem::size_of::<(KeyId, Slot<T>)>() + 1) * 3 / 2
}

/// State that can say how much memory it holds and drop what time has made useless.
trait KeyState: Default {
    /// False for state that time never makes useless (baselines): sweeps skip it.
    const EXPIRES: bool = true;
    /// Estimated heap bytes (not counting the key).
    fn bytes(&self) -> usize;
    /// Drops what no event at or after `horizon_ms` (the oldest time an event can have
    /// without being late) can use, for a window or sequence `span_ms` long. True when
    /// nothing is left.
    fn expire(&mut self, horizon_ms: i64, span_ms: i64) -> bool;
}

impl<T: KeyState> Keyed<T> {
    /// Runs `f` on the key's state (created when new), keeping the store's byte count.
    fn with<R>(
        &mut self,
        key: KeyId,
        seq: u64,
        bytes: &mut usize,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        let slot = match self.map.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                *bytes += entry_bytes::<T>();
                e.insert(Slot {
                    state: T::default(),
                    touched: seq,
                    bytes: 0,
                })
            }
        };
        let out = f(&mut slot.state);
        slot.touched = seq;
        let now = slot.state.bytes();
        *bytes = *bytes + now - slot.bytes;
        slot.bytes = now;
        out
    }
}

/// The bookkeeping of a keyed store, whatever its state: what the store sweeps, evicts
/// and counts, over every rule and stage alike.
trait Store {
    /// Keys held.
    fn keys(&self) -> usize;
    /// Estimated bytes held, as the slots last computed them.
    fn held_bytes(&self) -> usize;
    /// When each key was last touched.
    fn ages(&self, out: &mut Vec<u64>);
    /// Drops what no event at or after `horizon_ms` can use.
    fn expire(&mut self, horizon_ms: i64, bytes: &mut usize);
    /// Evicts keys touched before `cutoff`; returns how many.
    fn evict(&mut self, cutoff: u64, bytes: &mut usize) -> u64;
}

impl<T: KeyState> Store for Keyed<T> {
    fn keys(&self) -> usize {
        self.map.len()
    }

    fn expire(&mut self, horizon_ms: i64, bytes: &mut usize) {
        if !T::EXPIRES {
            return;
        }
        let span = self.span_ms;
        self.map.retain(|_, slot| {
            let empty = slot.state.expire(horizon_ms, span);
            let now = slot.state.bytes();
            *bytes = *bytes + now - slot.bytes;
            slot.bytes = now;
            if empty {
                *bytes -= entry_bytes::<T>() + now;
            }
            !empty
        });
    }

    fn ages(&self, out: &mut Vec<u64>) {
        out.extend(self.map.values().map(|s| s.touched));
    }

    fn held_bytes(&self) -> usize {
        self.map
            .values()
            .map(|s| entry_bytes::<T>() + s.bytes)
            .sum()
    }

    fn evict(&mut self, cutoff: u64, bytes: &mut usize) -> u64 {
        let before = self.map.len();
        self.map.retain(|_, slot| {
            let keep = slot.touched >= cutoff;
            if !keep {
                *bytes -= entry_bytes::<T>() + slot.bytes;
            }
            keep
        });
        (before - self.map.len()) as u64
    }
}

impl StateStore {
    /// An empty store.
    pub fn new(config: StateConfig) -> StateStore {
        StateStore {
            config,
            inputs: FxHashMap::default(),
            current: None,
            seq: 0,
            rules: FxHashMap::default(),
            stats: StateStats::default(),
            bytes: 0,
            last_sweep: 0,
            swept_keys: 0,
            autosave: None,
            values: Vec::new(),
        }
    }

    /// Saves a snapshot to `path` every `every` (of wall-clock time, checked as events
    /// arrive), on top of the snapshot the owner takes at shutdown.
    pub fn autosave(&mut self, path: std::path::PathBuf, every: std::time::Duration) {
        self.autosave = Some(Autosave {
            path,
            every,
            last: std::time::Instant::now(),
            error: None,
        });
    }

    /// The error of the last automatic snapshot, if it failed.
    pub fn autosave_error(&self) -> Option<&str> {
        self.autosave.as_ref()?.error.as_deref()
    }

    /// What the store did so far.
    pub fn stats(&self) -> StateStats {
        let mut stats = self.stats.clone();
        stats.bytes = self.bytes;
        stats.keys = self.rules.values().map(|e| e.state.keys()).sum();
        stats
    }

    /// The horizon below which state may be dropped: the lowest of the inputs that had
    /// events since the last sweep (an input that went quiet does not hold state back).
    /// Clears their marks.
    fn sweep_horizon(&mut self) -> i64 {
        let lateness = self.config.allowed_lateness_ms;
        let mut low = self
            .current
            .as_ref()
            .map_or(i64::MAX, |(_, w)| w.newest.saturating_sub(lateness));
        for w in self.inputs.values_mut() {
            if w.touched {
                low = low.min(w.newest.saturating_sub(lateness));
                w.touched = false;
            }
        }
        if low == i64::MAX {
            i64::MIN
        } else {
            low
        }
    }

    /// The watermark of the event's input (and source), made current.
    fn watermark(&mut self, event: &Event) -> &mut Watermark {
        let same = self
            .current
            .as_ref()
            .is_some_and(|((s, f), _)| *s == event.source && Arc::ptr_eq(f, &event.origin.file));
        if !same {
            if let Some((k, mut w)) = self.current.take() {
                w.touched = true;
                self.inputs.insert(k, w);
            }
            let key = (event.source, event.origin.file.clone());
            let w = self.inputs.remove(&key).unwrap_or(Watermark {
                newest: i64::MIN,
                touched: true,
            });
            self.current = Some((key, w));
        }
        match &mut self.current {
            Some((_, w)) => w,
            None => unreachable!("set above"),
        }
    }

    /// Where a match goes: a stateless rule's match passes as it is, a stateful rule's
    /// through [`StateStore::observe`].
    pub fn route<'p>(&mut self, m: Match<'p>, event: &Event) -> Option<Match<'p>> {
        if m.rule.stateful.is_none() {
            return Some(m);
        }
        self.observe(m, event)
    }

    /// A match of a stateful rule's condition: runs the rule's stages or sequence on it.
    /// Returns the match, with what the state saw added to its explanation, when the
    /// rule fires on this event.
    pub fn observe<'p>(&mut self, m: Match<'p>, event: &Event) -> Option<Match<'p>> {
        let mut reading = Reading::new(event);
        self.observe_in(m, &mut reading)
    }

    /// [`StateStore::observe`] for every stateful match of one event (the event's time
    /// and the fields the state reads are read once for them all); `on_fire` hears of
    /// the rules that fire, in order.
    pub fn observe_event<'p>(
        &mut self,
        event: &Event,
        matches: impl IntoIterator<Item = Match<'p>>,
        mut on_fire: impl FnMut(Match<'p>),
    ) {
        let mut reading = Reading::new(event);
        for m in matches {
            if let Some(m) = self.observe_in(m, &mut reading) {
                on_fire(m);
            }
        }
    }

    fn observe_in<'p>(&mut self, mut m: Match<'p>, reading: &mut Reading<'_>) -> Option<Match<'p>> {
        let stateful = m.rule.stateful.as_ref()?;
        self.stats.observed += 1;
        let event = reading.event;
        let Some(time) = reading.time() else {
            self.stats.untimed_events += 1;
            return None;
        };
        let lateness = self.config.allowed_lateness_ms;
        let watermark = self.watermark(event);
        if time < watermark.newest.saturating_sub(lateness) {
            self.stats.late_events += 1;
            return None;
        }
        watermark.newest = watermark.newest.max(time);
        let horizon = watermark.newest.saturating_sub(lateness);
        self.seq += 1;
        let obs = Obs {
            time,
            seq: self.seq,
            horizon,
        };
        let rule = m.rule;
        if !self.rules.contains_key(&rule.meta.id) {
            self.rules.insert(
                rule.meta.id.clone(),
                RuleEntry {
                    fingerprint: snapshot::fingerprint(rule),
                    state: RuleState::new(stateful),
                },
            );
        }
        let entry = self.rules.get_mut(&rule.meta.id)?;
        let values = &mut self.values;
        let fired = match (&mut entry.state, stateful) {
            (RuleState::Stages(states), Stateful::Stages(stages)) => {
                let mut notes = Vec::new();
                let mut pass = true;
                for (st, stage) in states.iter_mut().zip(stages) {
                    let note = match (st, &stage.kind) {
                        (StageState::Window(keyed), StageOp::Window(w)) => {
                            let key = key_id(&w.by, reading);
                            let present = window::values(w, reading, values);
                            keyed.with(key, obs.seq, &mut self.bytes, |k| {
                                k.observe(w, &obs, present.then_some(&values[..]))
                            })
                        }
                        (StageState::Anomaly(keyed), StageOp::Window(w)) => {
                            let key = key_id(&w.by, reading);
                            let present = window::values(w, reading, values);
                            keyed.with(key, obs.seq, &mut self.bytes, |k| {
                                k.observe(w, &obs, present.then_some(&values[..]))
                            })
                        }
                        (StageState::Baseline(b), StageOp::Baseline(def)) => {
                            b.observe(def, &obs, reading, &mut self.bytes)
                        }
                        _ => None,
                    };
                    match note {
                        Some(n) => notes.push(format!("{}: {n}", stage.text)),
                        None => {
                            pass = false;
                            break;
                        }
                    }
                }
                pass.then_some(notes)
            }
            (RuleState::Sequence(keyed), Stateful::Sequence(seq)) => {
                let steps: Vec<bool> = seq
                    .steps
                    .iter()
                    .map(|s| super::eval::cond_holds(&s.cond, &rule.preds, event))
                    .collect();
                let key = key_id(&seq.by, reading);
                keyed
                    .with(key, obs.seq, &mut self.bytes, |k| {
                        k.observe(seq, &obs, &steps)
                    })
                    .map(|note| vec![format!("{}: {note}", sequence_text(seq))])
            }
            _ => None,
        };
        self.maintain();
        let notes = fired?;
        if m.matched.is_empty() {
            m.matched = super::eval::explain(rule, event);
        }
        m.matched.extend(notes);
        Some(m)
    }

    /// Expires old state now and then, evicts when over the memory cap, and saves
    /// when a snapshot is due.
    fn maintain(&mut self) {
        if self.seq.is_multiple_of(4096)
            && self
                .autosave
                .as_ref()
                .is_some_and(|a| a.last.elapsed() >= a.every)
        {
            let result = self.autosave.as_ref().map(|a| self.save(&a.path));
            if let (Some(a), Some(result)) = (self.autosave.as_mut(), result) {
                a.last = std::time::Instant::now();
                a.error = result.err().map(|e| format!("{}: {e}", a.path.display()));
            }
        }
        // Sweeps cost a visit of every key: at most one per as many observations.
        if self.seq - self.last_sweep >= SWEEP_EVERY.max(self.swept_keys) {
            self.last_sweep = self.seq;
            let horizon = self.sweep_horizon();
            for entry in self.rules.values_mut() {
                entry.state.expire(horizon, &mut self.bytes);
            }
            self.swept_keys = self.rules.values().map(|e| e.state.keys() as u64).sum();
        }
        if self.bytes > self.config.memory_cap_bytes {
            self.evict();
        }
    }

    /// Evicts the keys touched longest ago until the estimate is under 90% of the cap.
    fn evict(&mut self) {
        let horizon = self.sweep_horizon();
        for entry in self.rules.values_mut() {
            entry.state.expire(horizon, &mut self.bytes);
        }
        if self.bytes <= self.config.memory_cap_bytes {
            return;
        }
        let mut ages = Vec::new();
        for entry in self.rules.values() {
            entry.state.ages(&mut ages);
        }
        ages.sort_unstable();
        let target = self.config.memory_cap_bytes / 10 * 9;
        // Evict in rounds of a tenth of the keys, oldest first, until under target.
        let step = (ages.len() / 10).max(1);
        let mut at = 0;
        while self.bytes > target && at < ages.len() {
            at = (at + step).min(ages.len());
            let cutoff = ages[at - 1] + 1;
            for entry in self.rules.values_mut() {
                self.stats.evicted_keys += entry.state.evict(cutoff, &mut self.bytes);
            }
        }
    }
}

impl RuleState {
    fn new(stateful: &Stateful) -> RuleState {
        match stateful {
            Stateful::Sequence(s) => RuleState::Sequence(Keyed::new(s.within_ms)),
            Stateful::Stages(stages) => RuleState::Stages(
                stages
                    .iter()
                    .map(|s| match &s.kind {
                        StageOp::Window(w) if w.is_anomaly() => {
                            StageState::Anomaly(Keyed::new(w.over_ms))
                        }
                        StageOp::Window(w) => StageState::Window(Keyed::new(w.over_ms)),
                        StageOp::Baseline(_) => {
                            StageState::Baseline(baseline::BaselineState::default())
                        }
                    })
                    .collect(),
            ),
        }
    }

    /// Every keyed store of the rule.
    fn stores(&self) -> Vec<&dyn Store> {
        match self {
            RuleState::Sequence(k) => vec![k],
            RuleState::Stages(stages) => stages
                .iter()
                .flat_map(|s| -> Vec<&dyn Store> {
                    match s {
                        StageState::Window(k) => vec![k],
                        StageState::Anomaly(k) => vec![k],
                        StageState::Baseline(b) => b.stores().to_vec(),
                    }
                })
                .collect(),
        }
    }

    /// [`RuleState::stores`], to change.
    fn stores_mut(&mut self) -> Vec<&mut dyn Store> {
        match self {
            RuleState::Sequence(k) => vec![k],
            RuleState::Stages(stages) => stages
                .iter_mut()
                .flat_map(|s| -> Vec<&mut dyn Store> {
                    match s {
                        StageState::Window(k) => vec![k],
                        StageState::Anomaly(k) => vec![k],
                        StageState::Baseline(b) => b.stores_mut().into(),
                    }
                })
                .collect(),
        }
    }

    fn held_bytes(&self) -> usize {
        self.stores().iter().map(|s| s.held_bytes()).sum()
    }

    fn keys(&self) -> usize {
        self.stores().iter().map(|s| s.keys()).sum()
    }

    fn expire(&mut self, horizon: i64, bytes: &mut usize) {
        for s in self.stores_mut() {
            s.expire(horizon, bytes);
        }
    }

    fn ages(&self, out: &mut Vec<u64>) {
        for s in self.stores() {
            s.ages(out);
        }
    }

    fn evict(&mut self, cutoff: u64, bytes: &mut usize) -> u64 {
        self.stores_mut()
            .into_iter()
            .map(|s| s.evict(cutoff, bytes))
            .sum()
    }
}

/// One observation: when it happened, its arrival number, and the oldest time an event
/// may have without being late (after this one moved time on).
pub(crate) struct Obs {
    time: i64,
    seq: u64,
    horizon: i64,
}

/// A key of the state: a 128-bit SipHash of the key values (their types and bytes), so
/// that keys cost 16 bytes and no text is built per event. Collisions would need about
/// 2^64 distinct keys.
pub(crate) type KeyId = u128;

/// Hashes key values into a [`KeyId`].
pub(crate) struct KeyHasher(siphasher::sip128::SipHasher13);

impl KeyHasher {
    pub(crate) fn new() -> KeyHasher {
        KeyHasher(siphasher::sip128::SipHasher13::new())
    }

    /// Adds the values of `keys` in the event (missing ones as missing).
    pub(crate) fn keys(&mut self, keys: &[Key], reading: &mut Reading<'_>) {
        for (_, key) in keys {
            let v = reading.value(key);
            self.value(v.as_ref());
        }
    }

    /// A boundary between groups of values (entity keys and terms).
    pub(crate) fn separator(&mut self) {
        use std::hash::Hasher;
        self.0.write_u8(0xfe);
    }

    fn value(&mut self, v: Option<&FieldValue<'_>>) {
        use std::hash::Hasher;
        let h = &mut self.0;
        match v {
            None | Some(FieldValue::Null) => h.write_u8(0),
            Some(FieldValue::Str(s)) => {
                h.write_u8(1);
                h.write_usize(s.len());
                h.write(s.as_bytes());
            }
            Some(FieldValue::Int(i)) => {
                h.write_u8(2);
                h.write_i64(*i);
            }
            Some(FieldValue::Float(f)) => {
                h.write_u8(3);
                h.write_u64(f.to_bits());
            }
            Some(FieldValue::Bool(b)) => {
                h.write_u8(4);
                h.write_u8(u8::from(*b));
            }
            Some(FieldValue::Ip(std::net::IpAddr::V4(ip))) => {
                h.write_u8(5);
                h.write(&ip.octets());
            }
            Some(FieldValue::Ip(std::net::IpAddr::V6(ip))) => {
                h.write_u8(6);
                h.write(&ip.octets());
            }
            Some(FieldValue::Time(t)) => {
                h.write_u8(7);
                h.write_i64(*t);
            }
            Some(FieldValue::List(items)) => {
                h.write_u8(8);
                h.write_usize(items.len());
                for item in items {
                    self.value(Some(item));
                }
            }
            Some(other @ FieldValue::Object(_)) => {
                let text = other.to_string();
                h.write_u8(9);
                h.write_usize(text.len());
                h.write(text.as_bytes());
            }
        }
    }

    pub(crate) fn finish(&self) -> KeyId {
        use siphasher::sip128::Hasher128;
        self.0.finish128().as_u128()
    }
}

/// The [`KeyId`] of the values of `keys` in an event.
pub(crate) fn key_id(keys: &[Key], reading: &mut Reading<'_>) -> KeyId {
    let mut h = KeyHasher::new();
    h.keys(keys, reading);
    h.finish()
}

/// An event being observed: its time and the catalog fields the state read, each read
/// once however many rules and keys use it.
pub(crate) struct Reading<'e> {
    event: &'e Event,
    time: Option<Option<i64>>,
    fields: SmallVec<[(*const crate::event::FieldDef, Option<FieldValue<'e>>); 8]>,
}

impl<'e> Reading<'e> {
    pub(crate) fn new(event: &'e Event) -> Reading<'e> {
        Reading {
            event,
            time: None,
            fields: SmallVec::new(),
        }
    }

    fn time(&mut self) -> Option<i64> {
        let event = self.event;
        *self.time.get_or_insert_with(|| event.time_millis())
    }

    /// The value of an operand (a catalog field from the memo).
    pub(crate) fn value(&mut self, o: &Operand) -> Option<FieldValue<'e>> {
        match o {
            Operand::Field(FieldRef::Catalog(def)) => {
                let ptr: *const crate::event::FieldDef = *def;
                if let Some((_, v)) = self.fields.iter().find(|(p, _)| *p == ptr) {
                    return v.clone();
                }
                let v = super::eval::operand_value(o, self.event);
                self.fields.push((ptr, v.clone()));
                v
            }
            _ => super::eval::operand_value(o, self.event),
        }
    }
}

fn sequence_text(seq: &crate::compile::stateful::Sequence) -> String {
    let steps: Vec<&str> = seq.steps.iter().map(|s| s.text.as_str()).collect();
    format!("{} {}", steps.join(" then "), seq.text)
}

/// `2024-05-01T10:00:00.000Z`, for explanations.
pub(crate) fn at(ms: i64) -> String {
    format_millis(ms)
}
