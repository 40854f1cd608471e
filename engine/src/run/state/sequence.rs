//! Sequences: steps in order of event time, all within a span, per key.
//!
//! Each key keeps, per step, the (time, arrival) of the recent events that met it. An
//! event can complete sequences that end at a last-step event at or after it, so those
//! ends are checked; a sequence ending at `x` exists when, going back from `x`, each
//! step (last to first) finds its events before the previous step's earliest one. Taking
//! the latest events each time gives the latest possible start, so the check is exact.

use serde::{Deserialize, Serialize};

use super::{at, KeyState, Obs};
use crate::compile::stateful::Sequence;

/// Events kept per step and key; the oldest go first beyond this.
const MAX_PER_STEP: usize = 4096;

/// Ends of sequences already reported, per key.
const MAX_REPORTED: usize = 64;

/// An event: time in milliseconds, then arrival number.
type Point = (i64, u64);

/// The sequence state of one key.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct SeqKey {
    steps: Vec<Vec<Point>>,
    reported: Vec<u64>,
}

impl SeqKey {
    /// Adds the event to the steps it met (`met[j]`); returns the explanation when it
    /// completes a sequence.
    pub(crate) fn observe(&mut self, def: &Sequence, obs: &Obs, met: &[bool]) -> Option<String> {
        let n = def.steps.len();
        if self.steps.len() != n {
            self.steps = vec![Vec::new(); n];
        }
        let me: Point = (obs.time, obs.seq);
        for (list, _) in self.steps.iter_mut().zip(met).filter(|(_, m)| **m) {
            let pos = list.partition_point(|p| *p < me);
            list.insert(pos, me);
            if list.len() > MAX_PER_STEP {
                list.remove(0);
            }
        }
        if !met.iter().any(|m| *m) {
            return None;
        }
        // Every sequence the event completes is reported now (one explanation, the
        // first), so that a later event does not fire for what this one completed.
        let last = &self.steps[n - 1];
        let from = last.partition_point(|p| *p < me);
        let mut completed = Vec::new();
        for &end in &last[from..] {
            if end.0 - me.0 > def.within_ms {
                break;
            }
            if self.reported.contains(&end.1) {
                continue;
            }
            if let Some(start) = self.start_of(def, end) {
                if end.0 - start.0 <= def.within_ms {
                    completed.push((start, end));
                }
            }
        }
        let (start, end) = *completed.first()?;
        for (_, e) in &completed {
            if self.reported.len() >= MAX_REPORTED {
                self.reported.remove(0);
            }
            self.reported.push(e.1);
        }
        Some(format!("from {} to {}", at(start.0), at(end.0)))
    }

    /// The latest start of a sequence that ends at `end` (a last-step event).
    fn start_of(&self, def: &Sequence, end: Point) -> Option<Point> {
        let n = def.steps.len();
        // The last step: `end` and the latest others before it.
        let mut cursor = end;
        let extra = def.steps[n - 1].times as usize - 1;
        cursor = latest_before(&self.steps[n - 1], cursor, extra)?.unwrap_or(cursor);
        for j in (0..n - 1).rev() {
            cursor = latest_before(&self.steps[j], cursor, def.steps[j].times as usize)?
                .unwrap_or(cursor);
        }
        Some(cursor)
    }
}

/// The earliest of the `count` latest points strictly before `bound`: `None` when there
/// are fewer, `Some(None)` when `count` is 0.
fn latest_before(list: &[Point], bound: Point, count: usize) -> Option<Option<Point>> {
    if count == 0 {
        return Some(None);
    }
    let below = list.partition_point(|p| *p < bound);
    (below >= count).then(|| Some(list[below - count]))
}

impl KeyState for SeqKey {
    fn bytes(&self) -> usize {
        self.steps
            .iter()
            .map(|s| s.capacity() * 16 + 24)
            .sum::<usize>()
            + self.reported.capacity() * 8
            + std::mem::size_of::<Self>()
    }

    fn expire(&mut self, horizon_ms: i64, span_ms: i64) -> bool {
        let oldest = horizon_ms.saturating_sub(span_ms);
        for list in &mut self.steps {
            let keep = list.partition_point(|p| p.0 < oldest);
            list.drain(..keep);
        }
        self.steps.iter().all(Vec::is_empty)
    }
}
