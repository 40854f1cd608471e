//! Windows: sliding windows against a number, fixed windows against a key's baseline.
//!
//! A sliding window keeps, per key, one bucket per second that saw events (count, sum,
//! min, max, and the hashes of the values for `distinct`), in time order, plus running
//! aggregates of the *tail*: the window that ends at the key's newest second. An event
//! in order (the key's newest) is judged on the tail in constant time; an event that
//! lands in the middle is judged by a sweep over the windows that hold it.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use picket_grammar::ast::AggFunc;
use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};

use super::{at, operand_value, KeyState, Obs};
use crate::compile::ir::CmpOp;
use crate::compile::stateful::{Window, WindowLimit};
use crate::event::{Event, FieldValue};

/// What one event adds to a window.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value {
    /// `count()`
    One,
    /// A number (`sum`, `min`, `max`, `avg`).
    Num(f64),
    /// The hash of a value (`distinct`).
    Hash(u64),
}

/// The event's contribution to the window, or `None` when the aggregated field is
/// missing (such an event does not count and does not pass).
pub(crate) fn value(w: &Window, event: &Event) -> Option<Value> {
    let Some(arg) = &w.arg else {
        return Some(Value::One);
    };
    let v = operand_value(arg, event)?;
    if matches!(w.func, AggFunc::Distinct) {
        let mut h = FxHasher::default();
        match &v {
            FieldValue::Str(s) => s.hash(&mut h),
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

/// Events of one key in one second.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Bucket {
    sec: i64,
    count: u64,
    sum: f64,
    /// Smallest and largest number (none for `count()` and `distinct`).
    min: Option<f64>,
    max: Option<f64>,
    /// Value hashes (`distinct`), as a multiset (repeats next to each other merged).
    values: Vec<u64>,
}

impl Bucket {
    fn new(sec: i64) -> Bucket {
        Bucket {
            sec,
            count: 0,
            sum: 0.0,
            min: None,
            max: None,
            values: Vec::new(),
        }
    }

    /// Adds a value; true when a distinct value hash was stored.
    fn add(&mut self, v: Value) -> bool {
        self.count += 1;
        match v {
            Value::One => false,
            Value::Num(n) => {
                // Sums only grow: negative numbers count as 0.
                self.sum += n.max(0.0);
                self.min = Some(self.min.map_or(n, |m| m.min(n)));
                self.max = Some(self.max.map_or(n, |m| m.max(n)));
                false
            }
            Value::Hash(h) => {
                let recent = self.values.iter().rev().take(4).any(|&x| x == h);
                if !recent {
                    self.values.push(h);
                }
                !recent
            }
        }
    }
}

/// A running aggregate over a run of buckets.
#[derive(Default, Serialize, Deserialize)]
struct Running {
    count: u64,
    sum: f64,
    /// Occurrences per value hash (`distinct` only).
    values: FxHashMap<u64, u32>,
}

impl Running {
    fn add(&mut self, b: &Bucket) {
        self.count += b.count;
        self.sum += b.sum;
        for &h in &b.values {
            *self.values.entry(h).or_default() += 1;
        }
    }

    fn add_value(&mut self, v: Value, stored: bool) {
        self.count += 1;
        match v {
            Value::One => {}
            Value::Num(n) => self.sum += n.max(0.0),
            Value::Hash(h) if stored => *self.values.entry(h).or_default() += 1,
            Value::Hash(_) => {}
        }
    }

    fn remove(&mut self, b: &Bucket) {
        self.count -= b.count;
        self.sum = (self.sum - b.sum).max(0.0);
        if self.count == 0 {
            self.sum = 0.0;
        }
        for h in &b.values {
            if let Some(n) = self.values.get_mut(h) {
                *n -= 1;
                if *n == 0 {
                    self.values.remove(h);
                }
            }
        }
    }

    fn clear(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.values.clear();
    }

    /// The growing aggregates.
    fn growing(&self, func: AggFunc) -> f64 {
        match func {
            AggFunc::Distinct => self.values.len() as f64,
            AggFunc::Sum => self.sum,
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

fn holds(value: f64, op: CmpOp, limit: f64) -> bool {
    match op {
        CmpOp::Gt => value > limit,
        CmpOp::Ge => value >= limit,
        CmpOp::Lt => value < limit,
        CmpOp::Le => value <= limit,
        _ => false,
    }
}

/// A number in an explanation: integers without a fraction.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

impl WindowKey {
    /// Adds the event and judges the windows that hold it. Returns the explanation when
    /// the stage passes.
    pub(crate) fn observe(
        &mut self,
        w: &Window,
        obs: &Obs,
        value: Option<Value>,
    ) -> Option<String> {
        let value = value?;
        let WindowLimit::Number(limit) = w.limit else {
            return None;
        };
        let span = w.over_ms / 1000;
        let sec = obs.time.div_euclid(1000);
        let newest = self.buckets.back().map(|b| b.sec);
        if newest.is_none_or(|n| sec >= n) {
            // In order: the tail is the window that ends here.
            if newest != Some(sec) {
                self.buckets.push_back(Bucket::new(sec));
            }
            let last = self.buckets.len() - 1;
            let stored = self.buckets[last].add(value);
            self.hashes += stored as usize;
            self.tail.add_value(value, stored);
            while self.buckets[self.tail_start].sec < sec - span {
                self.tail.remove(&self.buckets[self.tail_start]);
                self.tail_start += 1;
            }
            let first = self.buckets[self.tail_start].sec;
            let agg = match w.func {
                AggFunc::Count | AggFunc::Distinct | AggFunc::Sum => self.tail.growing(w.func),
                _ => self.ending_at(w.func, self.tail_start, last),
            };
            return holds(agg, w.op, limit).then(|| explain(agg, first, sec));
        }
        // Out of order: place the event, then sweep.
        let pos = self.buckets.partition_point(|b| b.sec < sec);
        if self.buckets.get(pos).is_none_or(|b| b.sec != sec) {
            self.buckets.insert(pos, Bucket::new(sec));
            if pos < self.tail_start {
                self.tail_start += 1;
            }
        }
        let stored = self.buckets[pos].add(value);
        self.hashes += stored as usize;
        if pos >= self.tail_start {
            self.tail.add_value(value, stored);
        }
        match w.func {
            AggFunc::Count | AggFunc::Distinct | AggFunc::Sum => {
                self.sweep(w.func, sec, span, w.op, limit)
            }
            _ => {
                let start = self.buckets.partition_point(|b| b.sec < sec - span);
                let agg = self.ending_at(w.func, start, pos);
                holds(agg, w.op, limit).then(|| explain(agg, self.buckets[start].sec, sec))
            }
        }
    }

    /// `min`/`max`/`avg` over buckets `from..=to`.
    fn ending_at(&self, func: AggFunc, from: usize, to: usize) -> f64 {
        let run = self.buckets.range(from..=to);
        match func {
            AggFunc::Min => run.filter_map(|b| b.min).fold(f64::INFINITY, f64::min),
            AggFunc::Max => run.filter_map(|b| b.max).fold(f64::NEG_INFINITY, f64::max),
            _ => {
                let (mut sum, mut count) = (0.0, 0u64);
                for b in run {
                    // `avg` keeps signed values: recompute from min..max is impossible,
                    // so the bucket sum (negatives clamped) is used; see docs.
                    sum += b.sum;
                    count += b.count;
                }
                if count == 0 {
                    0.0
                } else {
                    sum / count as f64
                }
            }
        }
    }

    /// The windows that hold second `sec`: each starting at a bucket in
    /// `sec - span ..= sec` and `span` long. Returns the first that passes.
    fn sweep(&self, func: AggFunc, sec: i64, span: i64, op: CmpOp, limit: f64) -> Option<String> {
        let mut run = Running::default();
        let mut start = self.buckets.partition_point(|b| b.sec < sec - span);
        let mut end = start; // one past the last bucket in the window
        while start < self.buckets.len() && self.buckets[start].sec <= sec {
            let from = self.buckets[start].sec;
            while end < self.buckets.len() && self.buckets[end].sec <= from + span {
                run.add(&self.buckets[end]);
                end += 1;
            }
            let agg = run.growing(func);
            if holds(agg, op, limit) {
                return Some(explain(agg, from, self.buckets[end - 1].sec));
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

fn explain(agg: f64, from_sec: i64, to_sec: i64) -> String {
    format!(
        "{} from {} to {}",
        num(agg),
        at(from_sec * 1000),
        at(to_sec * 1000)
    )
}

impl KeyState for WindowKey {
    fn bytes(&self) -> usize {
        self.buckets.len() * std::mem::size_of::<Bucket>()
            + self.hashes * 8
            + self.tail.values.len() * 16
            + std::mem::size_of::<Self>()
    }

    fn expire(&mut self, horizon_ms: i64, span_ms: i64) -> bool {
        // A window that holds an event at or after the horizon starts at or after
        // `horizon - span`: older buckets serve no event that is not late.
        let oldest_sec = horizon_ms.saturating_sub(span_ms).div_euclid(1000);
        while self.buckets.front().is_some_and(|b| b.sec < oldest_sec) {
            if let Some(b) = self.buckets.pop_front() {
                self.hashes -= b.values.len();
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
        value: Option<Value>,
    ) -> Option<String> {
        let value = value?;
        let WindowLimit::Baseline {
            factor,
            sigma,
            floor,
            min_history,
        } = w.limit
        else {
            return None;
        };
        let span_ms = w.over_ms.max(1000);
        self.close(span_ms, obs.horizon);
        let idx = obs.time.div_euclid(span_ms);
        if self.closed_through.is_some_and(|c| idx <= c) {
            return None;
        }
        let add = match value {
            Value::Num(n) => n.max(0.0),
            _ => 1.0,
        };
        let pos = self.open.partition_point(|&(i, _)| i < idx);
        if self.open.get(pos).is_none_or(|&(i, _)| i != idx) {
            self.open.insert(pos, (idx, 0.0));
        }
        self.open[pos].1 += add;
        let current = self.open[pos].1;
        if self.n < min_history {
            return None;
        }
        let sd = if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let limit = match (factor, sigma) {
            (Some(f), _) => self.mean * f,
            (None, Some(z)) => self.mean + z * sd,
            (None, None) => self.mean,
        };
        let pass = holds(current, w.op, limit) && floor.is_none_or(|f| current >= f);
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
        self.open.len() * 16 + std::mem::size_of::<Self>()
    }

    fn expire(&mut self, horizon_ms: i64, span_ms: i64) -> bool {
        // The baseline is the point of this state: it stays until evicted.
        self.close(span_ms.max(1000), horizon_ms);
        false
    }
}
