//! Windows: sliding windows against numbers, fixed windows against a key's baseline.
//!
//! A sliding window keeps, per key, one bucket per second that saw events (the count,
//! and per test its sum, min, max, or the hashes of the values for `distinct`), in time
//! order, plus running aggregates of the *tail*: the window that ends at the key's
//! newest second. An event in order (the key's newest) is judged on the tail; an event
//! that lands in the middle is judged by a sweep over the windows that hold it.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use picket_grammar::ast::AggFunc;
use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::{at, KeyState, Obs, Reading};
use crate::compile::ir::CmpOp;
use crate::compile::stateful::{Window, WindowTest};
use crate::event::FieldValue;

/// What one event adds to one test of a window.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value {
    /// `count()`
    One,
    /// A number (`sum`, `min`, `max`, `avg`).
    Num(f64),
    /// The hash of a value (`distinct`).
    Hash(u64),
}

/// The event's contribution to each test of the window, into `out`; false when an
/// aggregated field is missing (such an event does not count and does not pass).
pub(crate) fn values(w: &Window, reading: &mut Reading<'_>, out: &mut Vec<Value>) -> bool {
    out.clear();
    for t in &w.tests {
        match value(t, reading) {
            Some(v) => out.push(v),
            None => return false,
        }
    }
    true
}

fn value(t: &WindowTest, reading: &mut Reading<'_>) -> Option<Value> {
    let Some(arg) = &t.arg else {
        return Some(Value::One);
    };
    let v = reading.value(arg)?;
    if matches!(t.func, AggFunc::Distinct) {
        let mut h = FxHasher::default();
        match &v {
            FieldValue::Str(s) => s.hash(&mut h),
            FieldValue::Int(i) => i.hash(&mut h),
            FieldValue::Ip(ip) => ip.hash(&mut h),
            other => other.to_string().hash(&mut h),
        }
        return Some(Value::Hash(h.finish()));
    }
    let n = match v {
        FieldValue::Int(i) => i as f64,
        FieldValue::Float(f) if f.is_finite() => f,
        FieldValue::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite())?,
        _ => return None,
    };
    Some(Value::Num(n))
}

/// One test's aggregate within a bucket.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Part {
    /// Sum of the numbers (negative ones count as 0).
    sum: f64,
    /// Smallest and largest number.
    min: Option<f64>,
    max: Option<f64>,
    /// Value hashes (`distinct`), as a multiset (repeats next to each other merged).
    values: SmallVec<[u64; 2]>,
}

/// Events of one key in one second.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Bucket {
    sec: i64,
    count: u64,
    /// One per test of the window (most windows have one: kept inline).
    parts: SmallVec<[Part; 1]>,
}

impl Bucket {
    fn new(sec: i64, tests: usize) -> Bucket {
        Bucket {
            sec,
            count: 0,
            parts: smallvec::smallvec![Part::default(); tests],
        }
    }

    /// Adds an event; bit `i` of the result is set when test `i` stored a distinct
    /// value hash.
    fn add(&mut self, values: &[Value]) -> u64 {
        self.count += 1;
        let mut stored = 0u64;
        for (i, (part, v)) in self.parts.iter_mut().zip(values).enumerate() {
            let kept = match *v {
                Value::One => false,
                Value::Num(n) => {
                    part.sum += n.max(0.0);
                    part.min = Some(part.min.map_or(n, |m| m.min(n)));
                    part.max = Some(part.max.map_or(n, |m| m.max(n)));
                    false
                }
                Value::Hash(h) => {
                    let recent = part.values.iter().rev().take(4).any(|&x| x == h);
                    if !recent {
                        part.values.push(h);
                    }
                    !recent
                }
            };
            stored |= u64::from(kept) << i;
        }
        stored
    }

    fn hashes(&self) -> usize {
        self.parts.iter().map(|p| p.values.len()).sum()
    }
}

/// A running aggregate over a run of buckets.
#[derive(Default, Serialize, Deserialize)]
struct Running {
    count: u64,
    /// Per test: the sum.
    sums: SmallVec<[f64; 1]>,
    /// Per test: occurrences per value hash (`distinct` only).
    values: SmallVec<[FxHashMap<u64, u32>; 1]>,
}

impl Running {
    fn sized(&mut self, tests: usize) {
        if self.sums.len() != tests {
            self.sums = smallvec::smallvec![0.0; tests];
            self.values = (0..tests).map(|_| FxHashMap::default()).collect();
        }
    }

    fn add(&mut self, b: &Bucket) {
        self.sized(b.parts.len());
        self.count += b.count;
        for (i, part) in b.parts.iter().enumerate() {
            self.sums[i] += part.sum;
            for &h in &part.values {
                *self.values[i].entry(h).or_default() += 1;
            }
        }
    }

    fn add_values(&mut self, values: &[Value], stored: u64) {
        self.sized(values.len());
        self.count += 1;
        for (i, v) in values.iter().enumerate() {
            match *v {
                Value::One => {}
                Value::Num(n) => self.sums[i] += n.max(0.0),
                Value::Hash(h) if stored >> i & 1 == 1 => {
                    *self.values[i].entry(h).or_default() += 1
                }
                Value::Hash(_) => {}
            }
        }
    }

    fn remove(&mut self, b: &Bucket) {
        self.count -= b.count;
        for (i, part) in b.parts.iter().enumerate().take(self.sums.len()) {
            self.sums[i] = if self.count == 0 {
                0.0
            } else {
                (self.sums[i] - part.sum).max(0.0)
            };
            for h in &part.values {
                if let Some(n) = self.values[i].get_mut(h) {
                    *n -= 1;
                    if *n == 0 {
                        self.values[i].remove(h);
                    }
                }
            }
        }
    }

    fn clear(&mut self) {
        self.count = 0;
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.values.iter_mut().for_each(FxHashMap::clear);
    }

    /// The value of growing test `i`.
    fn growing(&self, i: usize, func: AggFunc) -> f64 {
        match func {
            AggFunc::Distinct => self.values.get(i).map_or(0, FxHashMap::len) as f64,
            AggFunc::Sum => self.sums.get(i).copied().unwrap_or(0.0),
            _ => self.count as f64,
        }
    }
}

/// A sliding window of one key.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct WindowKey {
    buckets: VecDeque<Bucket>,
    /// Index (into `buckets`) of the tail window's first bucket.
    tail_start: usize,
    tail: Running,
    /// Value hashes held in all buckets, for the memory estimate.
    hashes: usize,
}

/// `value op limit` for the comparisons a window allows.
pub(crate) fn holds_number(value: f64, op: CmpOp, limit: f64) -> bool {
    match op {
        CmpOp::Gt => value > limit,
        CmpOp::Ge => value >= limit,
        CmpOp::Lt => value < limit,
        CmpOp::Le => value <= limit,
        _ => false,
    }
}

/// The most tests a window has (the grammar allows no more).
const MAX_TESTS: usize = picket_grammar::MAX_WINDOW_TESTS;

/// The values of a window's tests.
type Aggs = [f64; MAX_TESTS];

/// A number in an explanation: integers without a fraction.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// The explanation of a window that passed: each test's value, and the window.
fn explain(w: &Window, aggs: &[f64], from_sec: i64, to_sec: i64) -> String {
    let values: Vec<String> = if w.tests.len() == 1 {
        vec![num(aggs[0])]
    } else {
        w.tests
            .iter()
            .zip(aggs)
            .map(|(t, v)| format!("{} {}", t.text, num(*v)))
            .collect()
    };
    format!(
        "{} from {} to {}",
        values.join(", "),
        at(from_sec * 1000),
        at(to_sec * 1000)
    )
}

impl WindowKey {
    /// Adds the event and judges the windows that hold it. Returns the explanation when
    /// the stage passes.
    pub(crate) fn observe(
        &mut self,
        w: &Window,
        obs: &Obs,
        values: Option<&[Value]>,
    ) -> Option<String> {
        let values = values?;
        let n = w.tests.len();
        let span = w.over_ms / 1000;
        let sec = obs.time.div_euclid(1000);
        let newest = self.buckets.back().map(|b| b.sec);
        if newest.is_none_or(|last| sec >= last) {
            // In order: the tail is the window that ends here.
            if newest != Some(sec) {
                if self.buckets.capacity() == 0 {
                    // Most keys see one second only: room for one bucket, not four.
                    self.buckets.reserve_exact(1);
                }
                self.buckets.push_back(Bucket::new(sec, n));
            }
            let last = self.buckets.len() - 1;
            let stored = self.buckets[last].add(values);
            self.hashes += stored.count_ones() as usize;
            self.tail.add_values(values, stored);
            while self.buckets[self.tail_start].sec < sec - span {
                self.tail.remove(&self.buckets[self.tail_start]);
                self.tail_start += 1;
            }
            let aggs = self.aggregates(w, self.tail_start, last, Some(&self.tail));
            let first = self.buckets[self.tail_start].sec;
            return self.pass(w, &aggs).then(|| explain(w, &aggs, first, sec));
        }
        // Out of order: place the event, then judge the windows that hold it.
        let pos = self.buckets.partition_point(|b| b.sec < sec);
        if self.buckets.get(pos).is_none_or(|b| b.sec != sec) {
            self.buckets.insert(pos, Bucket::new(sec, n));
            if pos < self.tail_start {
                self.tail_start += 1;
            }
        }
        let stored = self.buckets[pos].add(values);
        self.hashes += stored.count_ones() as usize;
        if pos >= self.tail_start {
            self.tail.add_values(values, stored);
        }
        if w.grows() {
            return self.sweep(w, sec, span);
        }
        let start = self.buckets.partition_point(|b| b.sec < sec - span);
        let aggs = self.aggregates(w, start, pos, None);
        self.pass(w, &aggs)
            .then(|| explain(w, &aggs, self.buckets[start].sec, sec))
    }

    fn pass(&self, w: &Window, aggs: &[f64]) -> bool {
        w.tests
            .iter()
            .zip(aggs)
            .all(|(t, v)| holds_number(*v, t.op, t.limit))
    }

    /// Each test's value over buckets `from..=to`; growing ones from `running` when it
    /// covers exactly that run.
    fn aggregates(&self, w: &Window, from: usize, to: usize, running: Option<&Running>) -> Aggs {
        let computed;
        let running = match running {
            Some(r) => r,
            None => {
                let mut r = Running::default();
                for b in self.buckets.range(from..=to) {
                    r.add(b);
                }
                computed = r;
                &computed
            }
        };
        let mut out = [0.0; MAX_TESTS];
        for (i, t) in w.tests.iter().enumerate().take(MAX_TESTS) {
            let run = self.buckets.range(from..=to);
            out[i] = match t.func {
                AggFunc::Count | AggFunc::Distinct | AggFunc::Sum => running.growing(i, t.func),
                AggFunc::Min => run
                    .filter_map(|b| b.parts[i].min)
                    .fold(f64::INFINITY, f64::min),
                AggFunc::Max => run
                    .filter_map(|b| b.parts[i].max)
                    .fold(f64::NEG_INFINITY, f64::max),
                AggFunc::Avg => {
                    if running.count == 0 {
                        0.0
                    } else {
                        running.sums.get(i).copied().unwrap_or(0.0) / running.count as f64
                    }
                }
            };
        }
        out
    }

    /// The windows that hold second `sec`: each starting at a bucket in
    /// `sec - span ..= sec` and `span` long. Returns the first that passes.
    fn sweep(&self, w: &Window, sec: i64, span: i64) -> Option<String> {
        let mut run = Running::default();
        let mut start = self.buckets.partition_point(|b| b.sec < sec - span);
        let mut end = start; // one past the last bucket in the window
        while start < self.buckets.len() && self.buckets[start].sec <= sec {
            let from = self.buckets[start].sec;
            while end < self.buckets.len() && self.buckets[end].sec <= from + span {
                run.add(&self.buckets[end]);
                end += 1;
            }
            let mut aggs = [0.0; MAX_TESTS];
            for (i, t) in w.tests.iter().enumerate().take(MAX_TESTS) {
                aggs[i] = run.growing(i, t.func);
            }
            if self.pass(w, &aggs) {
                return Some(explain(w, &aggs, from, self.buckets[end - 1].sec));
            }
            run.remove(&self.buckets[start]);
            start += 1;
            if start >= end {
                run.clear();
                end = start;
            }
        }
        None
    }
}

impl KeyState for WindowKey {
    fn bytes(&self) -> usize {
        use std::mem::size_of;
        let tests = self.tail.sums.len();
        let map = |len: usize| (len * (size_of::<(u64, u32)>() + 1)) * 3 / 2;
        self.buckets.capacity() * size_of::<Bucket>()
            + if tests > 1 {
                self.buckets.len() * tests * size_of::<Part>()
            } else {
                0
            }
            + self.hashes * size_of::<u64>()
            + tests * (size_of::<f64>() + size_of::<FxHashMap<u64, u32>>())
            + self.tail.values.iter().map(|m| map(m.len())).sum::<usize>()
    }

    fn expire(&mut self, horizon_ms: i64, span_ms: i64) -> bool {
        // A window that holds an event at or after the horizon starts at or after
        // `horizon - span`: older buckets serve no event that is not late.
        let oldest_sec = horizon_ms.saturating_sub(span_ms).div_euclid(1000);
        while self.buckets.front().is_some_and(|b| b.sec < oldest_sec) {
            if let Some(b) = self.buckets.pop_front() {
                self.hashes -= b.hashes();
                if self.tail_start == 0 {
                    self.tail.remove(&b);
                } else {
                    self.tail_start -= 1;
                }
            }
        }
        self.buckets.is_empty()
    }
}

/// Fixed windows of one key against its own history (`> baseline * F`).
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct AnomalyKey {
    /// Windows not closed yet: (window number, aggregate), ascending.
    open: VecDeque<(i64, f64)>,
    /// The last window folded into the baseline.
    closed_through: Option<i64>,
    /// Windows in the baseline, their mean and sum of squared deviations (Welford).
    n: u64,
    mean: f64,
    m2: f64,
}

impl AnomalyKey {
    /// Folds `count` windows of value `v` into the baseline.
    fn fold(&mut self, v: f64, count: u64) {
        if count == 0 {
            return;
        }
        let (n_a, n_b) = (self.n as f64, count as f64);
        let n = n_a + n_b;
        let delta = v - self.mean;
        self.mean += delta * n_b / n;
        self.m2 += delta * delta * n_a * n_b / n;
        self.n += count;
    }

    /// Closes the windows that ended at or before `horizon_ms`: those that saw events,
    /// and the empty ones between them and after them (once the key was seen).
    fn close(&mut self, span_ms: i64, horizon_ms: i64) {
        let last_closable = horizon_ms.div_euclid(span_ms) - 1;
        while let Some(&(idx, v)) = self.open.front() {
            if idx > last_closable {
                break;
            }
            self.open.pop_front();
            if let Some(c) = self.closed_through {
                self.fold(0.0, (idx - c - 1).max(0) as u64);
            }
            self.fold(v, 1);
            self.closed_through = Some(idx);
        }
        if let Some(c) = self.closed_through {
            if last_closable > c {
                self.fold(0.0, (last_closable - c) as u64);
                self.closed_through = Some(last_closable);
            }
        }
    }

    pub(crate) fn observe(
        &mut self,
        w: &Window,
        obs: &Obs,
        values: Option<&[Value]>,
    ) -> Option<String> {
        let values = values?;
        let (Some(limit), Some(test)) = (&w.baseline, w.tests.first()) else {
            return None;
        };
        let span_ms = w.over_ms.max(1000);
        self.close(span_ms, obs.horizon);
        let idx = obs.time.div_euclid(span_ms);
        if self.closed_through.is_some_and(|c| idx <= c) {
            return None;
        }
        let add = match values.first() {
            Some(Value::Num(n)) => n.max(0.0),
            _ => 1.0,
        };
        let pos = self.open.partition_point(|&(i, _)| i < idx);
        if self.open.get(pos).is_none_or(|&(i, _)| i != idx) {
            self.open.insert(pos, (idx, 0.0));
        }
        self.open[pos].1 += add;
        let current = self.open[pos].1;
        if self.n < limit.min_history {
            return None;
        }
        let sd = if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let threshold = match (limit.factor, limit.sigma) {
            (Some(f), _) => self.mean * f,
            (None, Some(z)) => self.mean + z * sd,
            (None, None) => self.mean,
        };
        let pass =
            holds_number(current, test.op, threshold) && limit.floor.is_none_or(|f| current >= f);
        pass.then(|| {
            format!(
                "{} in the window from {}, baseline mean {} (sd {}) over {} windows",
                num(current),
                at(idx * span_ms),
                num(self.mean),
                num(sd),
                self.n
            )
        })
    }
}

impl KeyState for AnomalyKey {
    fn bytes(&self) -> usize {
        self.open.capacity() * std::mem::size_of::<(i64, f64)>()
    }

    fn expire(&mut self, horizon_ms: i64, span_ms: i64) -> bool {
        // The baseline is the point of this state: it stays until evicted.
        self.close(span_ms.max(1000), horizon_ms);
        false
    }
}
