//! Aggregation: repeated matches of one rule on one group key update one finding.

use std::collections::HashMap;

use super::build::{add_intel_details, build, event_ref, group_key, merge_intel_details, rfc3339};
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
            widen(f, first, last, time, time);
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
            add_intel_details(&mut f.service.evidence, m.rule, event);
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

    /// Folds in the findings of an aggregator that saw the matches after this one's
    /// (the same detector and fallback time): the result is exactly that of adding all
    /// of `later`'s matches here, in its order. Counts add, first and last seen are the
    /// earlier and the later, evidence keeps the first events in order, and a finding
    /// already here keeps what came of its first event (`matched`, resource, action).
    pub fn merge(&mut self, later: Aggregator) {
        let mut slots: Vec<Option<(String, String)>> = vec![None; later.findings.len()];
        for (slot, i) in later.index {
            slots[i] = Some(slot);
        }
        for ((finding, first, last), slot) in later.findings.into_iter().zip(slots) {
            let Some(slot) = slot else { continue };
            let Some(&i) = self.index.get(&slot) else {
                self.index.insert(slot, self.findings.len());
                self.findings.push((finding, first, last));
                continue;
            };
            let (f, at_first, at_last) = &mut self.findings[i];
            f.service.count += finding.service.count;
            widen(f, at_first, at_last, first, last);
            merge_intel_details(&mut f.service.evidence, &finding.service.evidence);
            let more = evidence(finding.service.evidence);
            if let Some(events) = f
                .service
                .evidence
                .get_mut("events")
                .and_then(|e| e.as_array_mut())
            {
                let room = MAX_EVIDENCE_EVENTS.saturating_sub(events.len());
                events.extend(more.into_iter().take(room));
            }
        }
    }

    /// Adds `by` to the record numbers of the evidence events: for an aggregator of
    /// events numbered from 0 within a batch of one input, `by` being the number of
    /// events of the input before the batch.
    pub fn offset_records(&mut self, by: u64) {
        if by == 0 {
            return;
        }
        for (f, _, _) in &mut self.findings {
            let Some(events) = f
                .service
                .evidence
                .get_mut("events")
                .and_then(|e| e.as_array_mut())
            else {
                continue;
            };
            for record in events.iter_mut().filter_map(|e| e.get_mut("record")) {
                if let Some(n) = record.as_u64() {
                    *record = (n + by).into();
                }
            }
        }
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

/// The evidence events of a finding.
fn evidence(mut evidence: serde_json::Value) -> Vec<serde_json::Value> {
    match evidence.get_mut("events").map(serde_json::Value::take) {
        Some(serde_json::Value::Array(events)) => events,
        _ => Vec::new(),
    }
}

/// Widens a finding's event-time window (`first`..`last`, in milliseconds) to include
/// `from`..`to`, keeping its first/last-seen and created/updated times in step.
fn widen(f: &mut Finding, first: &mut i64, last: &mut i64, from: i64, to: i64) {
    if from < *first {
        *first = from;
        f.service.event_first_seen = rfc3339(from);
        f.created_at = rfc3339(from);
    }
    if to > *last {
        *last = to;
        f.service.event_last_seen = rfc3339(to);
        f.updated_at = rfc3339(to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, PackFiles, RulePack};
    use crate::event::{read_stream, ReadOptions, ReadStats};
    use crate::run::Matcher;

    fn pack() -> RulePack {
        let rule = |id: &str, when: &str, group: &str| {
            format!(
                "id: {id}\ntype: Recon:IAMUser/Test\ntitle: t\nseverity: low\nsource: cloudtrail\n\
                 category: account\ndescription: d\nwhen: {when}\ngroup_by: [{group}]\n"
            )
        };
        let mut files = std::collections::BTreeMap::new();
        files.insert(
            "account/by-user.yaml".to_owned(),
            rule(
                "account.by-user",
                r#"api.operation == "ListUsers" or api.operation == "GetUser""#,
                "actor.name",
            )
            .into_bytes(),
        );
        files.insert(
            "account/by-op.yaml".to_owned(),
            rule(
                "account.by-op",
                r#"api.service == "iam.amazonaws.com""#,
                "api.operation",
            )
            .into_bytes(),
        );
        let compiled = compile(&[PackFiles {
            root: "test".to_owned(),
            files,
        }]);
        assert_eq!(compiled.error_count(), 0);
        compiled.pack
    }

    /// Events of three users and two operations, times out of order, one without a time.
    fn events() -> Vec<Event> {
        let mut text = String::new();
        for i in 0..40u32 {
            let op = if i % 3 == 0 { "GetUser" } else { "ListUsers" };
            let user = ["alice", "bob", "carol"][(i % 7 % 3) as usize];
            let minute = (i * 17) % 60;
            let time = if i == 25 {
                String::new()
            } else {
                format!(r#","eventTime":"2024-05-01T10:{minute:02}:00Z""#)
            };
            text.push_str(&format!(
                r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","userName":"{user}"}}{time},"eventSource":"iam.amazonaws.com","eventName":"{op}","eventID":"id-{i}","recipientAccountId":"111122223333"}}"#
            ));
            text.push('\n');
        }
        let mut events = Vec::new();
        read_stream(
            "t.jsonl",
            text.as_bytes(),
            &ReadOptions::default(),
            &mut ReadStats::default(),
            &mut |e| events.push(e),
            &mut |e| panic!("{e}"),
        );
        assert_eq!(events.len(), 40);
        events
    }

    fn aggregate(matcher: &Matcher<'_>, events: &[Event]) -> Aggregator {
        let mut agg = Aggregator::new("detector", 1_700_000_000_000);
        for event in events {
            matcher.run(event, |m| {
                agg.add(m, event);
            });
        }
        agg
    }

    fn json(agg: Aggregator) -> String {
        serde_json::to_string_pretty(&agg.finish()).unwrap()
    }

    #[test]
    fn merge_equals_adding_in_order_at_every_split() {
        let pack = pack();
        let matcher = Matcher::new(&pack);
        let events = events();
        let whole = aggregate(&matcher, &events);
        assert_eq!(whole.len(), 5);
        let want = json(whole);
        for split in 0..=events.len() {
            let mut agg = aggregate(&matcher, &events[..split]);
            agg.merge(aggregate(&matcher, &events[split..]));
            assert_eq!(json(agg), want, "split at {split}");
        }
        // Many pieces, merged one after the other.
        let mut agg = aggregate(&matcher, &[]);
        for piece in events.chunks(3) {
            agg.merge(aggregate(&matcher, piece));
        }
        assert_eq!(json(agg), want);
    }

    #[test]
    fn merge_keeps_counts_times_evidence_and_the_first_match() {
        let pack = pack();
        let matcher = Matcher::new(&pack);
        let events = events();
        let mut agg = aggregate(&matcher, &events[..20]);
        agg.merge(aggregate(&matcher, &events[20..]));
        let findings = agg.finish();
        let by_user: Vec<_> = findings
            .iter()
            .filter(|f| f.rule.id == "account.by-user")
            .collect();
        let total: u64 = by_user.iter().map(|f| f.service.count).sum();
        assert_eq!(total, 40);
        for f in &by_user {
            let evidence = f.service.evidence["events"].as_array().unwrap();
            assert_eq!(evidence.len(), MAX_EVIDENCE_EVENTS);
            let records: Vec<u64> = evidence
                .iter()
                .map(|e| e["record"].as_u64().unwrap())
                .collect();
            assert!(records.windows(2).all(|w| w[0] < w[1]), "{records:?}");
            assert!(f.service.event_first_seen <= f.service.event_last_seen);
            assert_eq!(f.created_at, f.service.event_first_seen);
            assert_eq!(f.updated_at, f.service.event_last_seen);
        }
        // The event without a time counts at the fallback time (2023), the earliest.
        let ops: Vec<_> = findings
            .iter()
            .filter(|f| f.rule.id == "account.by-op")
            .collect();
        assert_eq!(ops.len(), 2);
        let list_users = ops.iter().find(|f| f.service.count == 26).unwrap();
        assert_eq!(
            list_users.service.event_first_seen,
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(
            list_users.service.event_last_seen,
            "2024-05-01T10:59:00.000Z"
        );
        // `matched` is the first event's: event 0 is a GetUser by alice.
        let alice = by_user
            .iter()
            .find(|f| f.service.evidence["events"][0]["eventId"] == "id-0")
            .unwrap();
        assert_eq!(alice.matched, ["api.operation == \"GetUser\""]);
    }

    #[test]
    fn offset_records_shifts_evidence_record_numbers() {
        let pack = pack();
        let matcher = Matcher::new(&pack);
        let events = events();
        let mut agg = aggregate(&matcher, &events[..3]);
        agg.offset_records(100);
        for f in agg.finish() {
            for e in f.service.evidence["events"].as_array().unwrap() {
                assert!(e["record"].as_u64().unwrap() >= 100);
            }
        }
    }
}
