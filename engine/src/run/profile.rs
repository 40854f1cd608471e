//! Rule profiling: how many events each rule was evaluated on, how many it matched, and
//! the time spent evaluating it, so a rule author sees what slows their pack
//! (`picket scan --profile`).

use std::time::Instant;

use super::dispatch as dispatch_known;
use super::{eval, Dispatch, GroupTimes, Match, Matcher};
use crate::compile::RulePack;
use crate::event::Event;

/// Per-rule counters, indexed like [`RulePack::rules`].
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Events each rule was evaluated on (after dispatch).
    pub visits: Vec<u64>,
    /// Events each rule matched.
    pub matches: Vec<u64>,
    /// Nanoseconds spent evaluating each rule (explanations of matches included).
    pub nanos: Vec<u64>,
    /// Events seen.
    pub events: u64,
    /// Time in the dispatch stage's groups of tests (shared by the rules with a test
    /// in them).
    pub groups: GroupTimes,
}

impl Profile {
    /// Empty counters for a pack.
    pub fn new(pack: &RulePack) -> Profile {
        let n = pack.rules.len();
        Profile {
            visits: vec![0; n],
            matches: vec![0; n],
            nanos: vec![0; n],
            events: 0,
            groups: GroupTimes::default(),
        }
    }

    /// Adds another profile of the same pack (from another thread).
    pub fn merge(&mut self, other: &Profile) {
        for (a, b) in self.visits.iter_mut().zip(&other.visits) {
            *a += b;
        }
        for (a, b) in self.matches.iter_mut().zip(&other.matches) {
            *a += b;
        }
        for (a, b) in self.nanos.iter_mut().zip(&other.nanos) {
            *a += b;
        }
        self.events += other.events;
        self.groups.merge(&other.groups);
    }

    /// The `top` most expensive groups of tests of the dispatch stage as a table: each
    /// is one field's lookups (hash sets, address ranges) or its substring automaton
    /// and regex set, run once per event for every rule with a test in it.
    pub fn groups_table(&self, dispatch: &Dispatch, top: usize) -> String {
        let labels = dispatch.group_labels();
        let mut rows: Vec<(u64, u64, &str)> = Vec::new();
        for (s, source_labels) in labels.iter().enumerate() {
            for (g, label) in source_labels.iter().enumerate() {
                let runs = self.groups.runs[s].get(g).copied().unwrap_or(0);
                let nanos = self.groups.nanos[s].get(g).copied().unwrap_or(0);
                if runs > 0 {
                    rows.push((nanos, runs, label));
                }
            }
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(b.2)));
        let total: u64 = rows.iter().map(|r| r.0).sum();
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
            .set_header([
                "tests",
                "time (ms)",
                "share",
                "events run",
                "of all events",
                "ns per run",
            ]);
        for (nanos, runs, label) in rows.iter().take(top) {
            t.add_row(vec![
                label.to_string(),
                format!("{:.2}", *nanos as f64 / 1e6),
                format!("{:.1}%", 100.0 * *nanos as f64 / total.max(1) as f64),
                runs.to_string(),
                format!("{:.1}%", 100.0 * *runs as f64 / self.events.max(1) as f64),
                format!("{:.0}", *nanos as f64 / (*runs).max(1) as f64),
            ]);
        }
        format!(
            "Dispatch profile: {:.2} ms in grouped tests (reading their fields included)\n{t}",
            total as f64 / 1e6
        )
    }

    /// The `top` most expensive rules as a table.
    pub fn table(&self, pack: &RulePack, top: usize) -> String {
        let mut order: Vec<usize> = (0..self.nanos.len()).collect();
        order.sort_by(|&a, &b| self.nanos[b].cmp(&self.nanos[a]).then(a.cmp(&b)));
        let total: u64 = self.nanos.iter().sum();
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
            .set_header([
                "rule",
                "time (ms)",
                "share",
                "events visited",
                "of all events",
                "ns per visit",
                "matches",
            ]);
        for &i in order.iter().take(top) {
            let visits = self.visits[i];
            t.add_row(vec![
                pack.rules[i].meta.id.clone(),
                format!("{:.2}", self.nanos[i] as f64 / 1e6),
                format!("{:.1}%", 100.0 * self.nanos[i] as f64 / total.max(1) as f64),
                visits.to_string(),
                format!("{:.1}%", 100.0 * visits as f64 / self.events.max(1) as f64),
                format!("{:.0}", self.nanos[i] as f64 / visits.max(1) as f64),
                self.matches[i].to_string(),
            ]);
        }
        format!(
            "Rule profile: {} events, {:.2} ms evaluating rules\n{t}",
            self.events,
            total as f64 / 1e6
        )
    }
}

impl<'p> Matcher<'p> {
    /// Like [`Matcher::run`], also counting visits, matches and time per rule.
    pub fn run_profiled(
        &self,
        event: &Event,
        profile: &mut Profile,
        mut on_match: impl FnMut(Match<'p>),
    ) {
        let rules = &self.pack.rules;
        profile.events += 1;
        let mut visits = |i: u32, known: &dispatch_known::Known<'_>| {
            let rule = &rules[i as usize];
            let start = Instant::now();
            let hit = eval::matches_with(rule, event, known);
            let matched = hit.then(|| eval::explain_with(rule, event, known));
            let i = i as usize;
            profile.nanos[i] += start.elapsed().as_nanos() as u64;
            profile.visits[i] += 1;
            if let Some(matched) = matched {
                profile.matches[i] += 1;
                on_match(Match { rule, matched });
            }
        };
        let mut groups = std::mem::take(&mut profile.groups);
        self.dispatch()
            .candidates_timed(event, &mut visits, Some(&mut groups));
        profile.groups = groups;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, PackFiles};
    use crate::event::{read_stream, ReadOptions, ReadStats};

    #[test]
    fn counts_visits_and_matches_per_rule() {
        let compiled = compile(&[PackFiles::builtin()]);
        let pack = &compiled.pack;
        let matcher = Matcher::new(pack);
        let line = r#"{"eventVersion":"1.09","eventTime":"2026-11-20T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0 kali","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u","accountId":"111122223333","userName":"u"},"requestParameters":{"name":"main"},"recipientAccountId":"111122223333","eventType":"AwsApiCall"}"#;
        let mut events = Vec::new();
        read_stream(
            "e",
            line.as_bytes(),
            &ReadOptions::default(),
            &mut ReadStats::default(),
            &mut |e| events.push(e),
            &mut |e| panic!("{e}"),
        );
        let mut profile = Profile::new(pack);
        let mut plain = Vec::new();
        matcher.run(&events[0], |m| plain.push(m.rule.meta.id.clone()));
        let mut profiled = Vec::new();
        matcher.run_profiled(&events[0], &mut profile, |m| {
            profiled.push(m.rule.meta.id.clone())
        });
        assert_eq!(plain, profiled);
        assert!(profiled.contains(&"account.cloudtrail-logging-disabled".to_string()));
        assert_eq!(profile.matches.iter().sum::<u64>(), profiled.len() as u64);
        let visited = profile.visits.iter().filter(|&&v| v > 0).count();
        let cloudtrail_rules = pack.rule_indexes(crate::event::Source::CloudTrail).len();
        assert!(
            visited < cloudtrail_rules,
            "dispatch skips rules: {visited} of {cloudtrail_rules}"
        );
        assert!(profile
            .table(pack, 5)
            .contains("account.cloudtrail-logging-disabled"));
        let groups = profile.groups_table(matcher.dispatch(), 50);
        assert!(groups.contains("cloudtrail api.operation: "), "{groups}");
    }
}
