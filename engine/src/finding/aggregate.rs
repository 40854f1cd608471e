//! Aggregation: repeated matches of one rule on one group key update one finding.

use std::collections::HashMap;

use super::build::{build, event_ref, group_key, rfc3339};
use super::Finding;
use crate::event::Event;
use crate::run::Match;

/// Evidence entries kept per finding (the first ones seen).
pub const MAX_EVIDENCE_EVENTS: usize = 10;

/// Folds matches into findings keyed by rule id and group key.
pub struct Aggregator {
    detector_id: String,
    fallback_millis: i64,
    index: HashMap<(String, String), usize>,
    findings: Vec<(Finding, i64, i64)>,
}

impl Aggregator {
    /// A new aggregator; `fallback_millis` is the time used for events without one.
    pub fn new(detector_id: &str, fallback_millis: i64) -> Self {
        Aggregator {
            detector_id: detector_id.to_string(),
            fallback_millis,
            index: HashMap::new(),
            findings: Vec::new(),
        }
    }

    /// Adds a match. Returns true when it opened a new finding.
    pub fn add(&mut self, m: Match<'_>, event: &Event) -> bool {
        let key = group_key(m.rule, event);
        let time = event.time_millis().unwrap_or(self.fallback_millis);
        let slot = (m.rule.meta.id.clone(), key);
        if let Some(&i) = self.index.get(&slot) {
            let (f, first, last) = &mut self.findings[i];
            f.service.count += 1;
            if time < *first {
                *first = time;
                f.service.event_first_seen = rfc3339(time);
                f.created_at = rfc3339(time);
            }
            if time > *last {
                *last = time;
                f.service.event_last_seen = rfc3339(time);
                f.updated_at = rfc3339(time);
            }
            if let Some(events) = f
                .service
                .evidence
                .get_mut("events")
                .and_then(|e| e.as_array_mut())
            {
                if events.len() < MAX_EVIDENCE_EVENTS {
                    events.push(event_ref(event));
                }
            }
            return false;
        }
        let finding = build(
            m.rule,
            event,
            &slot.1,
            m.matched,
            &self.detector_id,
            self.fallback_millis,
        );
        self.index.insert(slot, self.findings.len());
        self.findings.push((finding, time, time));
        true
    }

    /// Number of findings so far.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// True when nothing matched.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings, most severe first, then by first event time.
    pub fn finish(self) -> Vec<Finding> {
        let mut out: Vec<(Finding, i64)> = self
            .findings
            .into_iter()
            .map(|(f, first, _)| (f, first))
            .collect();
        out.sort_by(|(a, at), (b, bt)| {
            b.severity
                .partial_cmp(&a.severity)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(at.cmp(bt))
                .then(a.id.cmp(&b.id))
        });
        out.into_iter().map(|(f, _)| f).collect()
    }
}
