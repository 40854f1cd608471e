//! The reference evaluator of stateful rules: the semantics of docs/language.md
//! ("Stateful rules") written as directly as possible, with every event kept and every
//! window recomputed, for tests to hold [`StateStore`](super::StateStore) against.
//!
//! It covers sliding windows (against numbers), baselines (`new`, `rare`, `for`),
//! sequences and stages in a row; windows against a baseline are left to the store's own
//! edge tests (their fixed windows close as event time moves on, which is the store's
//! bookkeeping rather than a formula). Lateness is the store's: per input and source,
//! an event older than the newest of its input minus the allowed lateness is left out.
//! Quadratic and worse: for tests only.

use std::collections::HashMap;

use picket_grammar::ast::AggFunc;

use super::window::{holds_number, Value};
use super::{key_id, KeyId, Reading, StateConfig};
use crate::compile::stateful::{Baseline, Sequence, StageOp, Stateful, Window};
use crate::compile::CompiledRule;
use crate::event::Event;
use crate::run::eval;

/// For each event, in order: did the rule fire on it? `None` when the rule's stateful
/// part is one the reference does not cover (a window against a baseline).
pub fn fired(rule: &CompiledRule, events: &[Event], config: &StateConfig) -> Option<Vec<bool>> {
    let stateful = rule.stateful.as_ref()?;
    if let Stateful::Stages(stages) = stateful {
        if stages
            .iter()
            .any(|s| matches!(&s.kind, StageOp::Window(w) if w.is_anomaly()))
        {
            return None;
        }
    }
    let mut newest: HashMap<(crate::event::Source, String), i64> = HashMap::new();
    // What each stage (or the sequence) has seen: (event index, time) of the events
    // that reached it, in arrival order.
    let stage_count = match stateful {
        Stateful::Stages(s) => s.len(),
        Stateful::Sequence(_) => 1,
    };
    let mut reached: Vec<Vec<(usize, i64)>> = vec![Vec::new(); stage_count];
    let mut reported_ends: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let held = rule.meta.sources.contains(&event.source) && eval::matches(rule, event);
        let Some(time) = event.time_millis().filter(|_| held) else {
            out.push(false);
            continue;
        };
        let input = (event.source, event.origin.file.to_string());
        let top = newest.entry(input).or_insert(i64::MIN);
        if time < top.saturating_sub(config.allowed_lateness_ms) {
            out.push(false);
            continue;
        }
        *top = (*top).max(time);
        let fired = match stateful {
            Stateful::Stages(stages) => {
                let mut pass = true;
                for (s, stage) in stages.iter().enumerate() {
                    reached[s].push((i, time));
                    let ok = match &stage.kind {
                        StageOp::Window(w) => window(w, events, &reached[s], i, time),
                        StageOp::Baseline(b) => baseline(b, events, &reached[s], i, time),
                    };
                    if !ok {
                        pass = false;
                        break;
                    }
                }
                pass
            }
            Stateful::Sequence(seq) => {
                reached[0].push((i, time));
                sequence(rule, seq, events, &reached[0], &mut reported_ends)
            }
        };
        out.push(fired);
    }
    Some(out)
}

fn key(keys: &[crate::compile::stateful::Key], event: &Event) -> KeyId {
    key_id(keys, &mut Reading::new(event))
}

/// Each test's value over the events `within`.
fn aggregates(w: &Window, events: &[Event], within: &[usize]) -> Option<Vec<f64>> {
    let mut out = Vec::new();
    for (t, test) in w.tests.iter().enumerate() {
        let mut values = Vec::new();
        for &j in within {
            let mut vs = Vec::new();
            if !super::window::values(w, &mut Reading::new(&events[j]), &mut vs) {
                continue;
            }
            values.push(vs[t]);
        }
        let nums = || {
            values.iter().filter_map(|v| match v {
                Value::Num(n) => Some(*n),
                _ => None,
            })
        };
        out.push(match test.func {
            AggFunc::Count => values.len() as f64,
            AggFunc::Distinct => {
                let mut hashes: Vec<u64> = values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Hash(h) => Some(*h),
                        _ => None,
                    })
                    .collect();
                hashes.sort_unstable();
                hashes.dedup();
                hashes.len() as f64
            }
            AggFunc::Sum => nums().map(|n| n.max(0.0)).sum(),
            AggFunc::Min => nums().fold(f64::INFINITY, f64::min),
            AggFunc::Max => nums().fold(f64::NEG_INFINITY, f64::max),
            AggFunc::Avg => {
                if values.is_empty() {
                    0.0
                } else {
                    nums().map(|n| n.max(0.0)).sum::<f64>() / values.len() as f64
                }
            }
        });
    }
    Some(out)
}

/// Does some window holding the event (or, with `min`/`max`/`avg`, the one ending at
/// it) pass every test, among the events of the event's key that reached the stage?
fn window(w: &Window, events: &[Event], reached: &[(usize, i64)], i: usize, time: i64) -> bool {
    let mut probe = Vec::new();
    if !super::window::values(w, &mut Reading::new(&events[i]), &mut probe) {
        return false;
    }
    let k = key(&w.by, &events[i]);
    let span = w.over_ms / 1000;
    let sec = time.div_euclid(1000);
    let same: Vec<(usize, i64)> = reached
        .iter()
        .filter(|(j, _)| key(&w.by, &events[*j]) == k)
        .map(|(j, t)| (*j, t.div_euclid(1000)))
        .filter(|(j, _)| {
            let mut vs = Vec::new();
            super::window::values(w, &mut Reading::new(&events[*j]), &mut vs)
        })
        .collect();
    let pass = |from: i64, to: i64| {
        let within: Vec<usize> = same
            .iter()
            .filter(|(_, s)| *s >= from && *s <= to)
            .map(|(j, _)| *j)
            .collect();
        aggregates(w, events, &within).is_some_and(|aggs| {
            w.tests
                .iter()
                .zip(&aggs)
                .all(|(t, v)| holds_number(*v, t.op, t.limit))
        })
    };
    if !w.grows() {
        return pass(sec - span, sec);
    }
    (sec - span..=sec).any(|start| pass(start, start + span))
}

/// `new`/`rare`/`for`: learning from the earliest time of the rule (or entity) among
/// the events that reached the stage; counts of the combination among those before.
fn baseline(b: &Baseline, events: &[Event], reached: &[(usize, i64)], i: usize, time: i64) -> bool {
    let entity = key(&b.by, &events[i]);
    let term_of = |j: usize| (key(&b.by, &events[j]), key(&b.terms, &events[j]));
    let term = term_of(i);
    let start = reached
        .iter()
        .filter(|(j, _)| b.by.is_empty() || key(&b.by, &events[*j]) == entity)
        .map(|(_, t)| *t)
        .min()
        .unwrap_or(time);
    let learned = time >= start.saturating_add(b.learning_ms);
    if !learned {
        return false;
    }
    let before: Vec<(usize, i64)> = reached
        .iter()
        .take_while(|(j, _)| *j != i)
        .filter(|(j, _)| term_of(*j) == term)
        .copied()
        .collect();
    if (before.len() as u64) < b.seen_below {
        return true;
    }
    let Some(novelty) = b.novelty_ms else {
        return false;
    };
    // New for a while: the combination's first arrival came after learning (as it stood
    // then), and its earliest time is at most `novelty` ago.
    let Some(first_at) = reached.iter().position(|(j, _)| term_of(*j) == term) else {
        return false;
    };
    let (_, first_arrival_time) = reached[first_at];
    let start_then = reached[..=first_at]
        .iter()
        .filter(|(j, _)| b.by.is_empty() || key(&b.by, &events[*j]) == entity)
        .map(|(_, t)| *t)
        .min()
        .unwrap_or(first_arrival_time);
    let novel = first_arrival_time >= start_then.saturating_add(b.learning_ms);
    let earliest = before.iter().map(|(_, t)| *t).fold(time, i64::min);
    novel && time - earliest <= novelty
}

/// The sequences completed so far (their last-step events); fires when an event adds
/// one that was not complete before.
fn sequence(
    rule: &CompiledRule,
    seq: &Sequence,
    events: &[Event],
    reached: &[(usize, i64)],
    reported: &mut Vec<usize>,
) -> bool {
    let n = seq.steps.len();
    let met = |j: usize, s: usize| eval::cond_holds(&seq.steps[s].cond, &rule.preds, &events[j]);
    let k = |j: usize| key(&seq.by, &events[j]);
    let mut any = false;
    for &(end, end_time) in reached {
        if reported.contains(&end) || !met(end, n - 1) {
            continue;
        }
        // Going back from `end`: the latest events of each step before the previous
        // step's earliest, in (time, arrival) order.
        let order = |j: usize, t: i64| (t, reached.iter().position(|(x, _)| *x == j).unwrap_or(0));
        let mut cursor = order(end, end_time);
        let mut ok = true;
        for s in (0..n).rev() {
            let need = seq.steps[s].times as usize - usize::from(s == n - 1);
            let mut candidates: Vec<(i64, usize)> = reached
                .iter()
                .filter(|(j, t)| met(*j, s) && k(*j) == k(end) && order(*j, *t) < cursor)
                .map(|(j, t)| order(*j, *t))
                .collect();
            candidates.sort_unstable();
            if candidates.len() < need {
                ok = false;
                break;
            }
            if need > 0 {
                cursor = candidates[candidates.len() - need];
            }
        }
        if ok && end_time - cursor.0 <= seq.within_ms {
            reported.push(end);
            any = true;
        }
    }
    any
}
