//! The pipeline: one thread that takes batches from the inputs, in arrival order, and
//! for each one runs the current engine, folds the matches into findings, commits the
//! findings and the inputs' positions to the store in one transaction, then routes the
//! findings.
//!
//! When batches wait in the queue (the engine is behind), up to [`GROUP_EVENTS`] events
//! of them are matched and committed together: one aggregation and one transaction for
//! the group, so the store's work per event falls as load rises (group commit).
//!
//! A group is matched against one engine, taken when the group starts: a reload that
//! lands meanwhile applies from the next group, so no event meets half of a pack. When
//! the engine has changed, the state store first adopts the new pack (state of unchanged
//! rules carries over). A commit that fails (a full disk, a locked database) is retried
//! with backoff: the pipeline, and through the bounded queue the inputs, wait, and no
//! batch is skipped. At shutdown the queue is drained before the state is saved.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::finding::{severity_band, Aggregator};
use crate::run::StateStore;

use super::input::{Batch, Committed};
use super::store::FindingStore;
use super::{Loaded, Service};

/// Most events matched and committed together when batches wait.
pub const GROUP_EVENTS: usize = 5_000;

/// Counters of the pipeline, for status.
#[derive(Default)]
pub struct PipelineCounters {
    /// Batches committed.
    pub batches: AtomicU64,
    /// Events matched.
    pub events: AtomicU64,
    /// Findings created or updated.
    pub findings: AtomicU64,
    /// Batches waiting.
    pub queued: AtomicU64,
    /// Commits that failed and were retried.
    pub commit_retries: AtomicU64,
    /// Input positions as last committed, by checkpoint key (`dir:{input}:{file}`):
    /// the position, and the number of the commit that wrote it (0: before this run).
    pub positions: Mutex<BTreeMap<String, (String, u64)>>,
}

/// What the pipeline thread owns.
pub struct Pipeline {
    /// The service (engine, metrics, router).
    pub service: Arc<Service>,
    /// The state of stateful rules.
    pub state: StateStore,
    /// The findings store.
    pub store: FindingStore,
    /// Where the state snapshot goes.
    pub state_file: Option<std::path::PathBuf>,
}

impl Pipeline {
    /// Runs until every sender of `batches` is gone and the queue is drained.
    pub fn run(mut self, batches: Receiver<Batch>) -> StateStore {
        let mut engine: Option<Arc<Loaded>> = None;
        let mut last_snapshot = Instant::now();
        let every = self.service.config.state.snapshot_every;
        loop {
            match batches.recv_timeout(Duration::from_millis(500)) {
                Ok(batch) => {
                    let mut group = vec![batch];
                    let mut events = group[0].events.len();
                    while events < GROUP_EVENTS {
                        match batches.try_recv() {
                            Ok(more) => {
                                events += more.events.len();
                                group.push(more);
                            }
                            Err(_) => break,
                        }
                    }
                    self.service
                        .pipeline
                        .queued
                        .fetch_sub(group.len() as u64, Ordering::Relaxed);
                    let current = self.service.current.load_full();
                    if !engine.as_ref().is_some_and(|e| Arc::ptr_eq(e, &current)) {
                        let kept = self.state.adopt(current.engine.pack());
                        if engine.is_some() {
                            tracing::info!(
                                version = %current.version,
                                state_kept = kept.rules,
                                state_dropped = kept.dropped,
                                "matching with the new pack"
                            );
                        }
                        engine = Some(Arc::clone(&current));
                    }
                    self.process(&current, group);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.report_state();
            if every > Duration::ZERO && last_snapshot.elapsed() >= every {
                self.snapshot();
                last_snapshot = Instant::now();
            }
        }
        self.snapshot();
        self.state
    }

    fn report_state(&self) {
        let s = self.state.stats();
        self.service
            .metrics
            .state(s.keys as u64, s.bytes as u64, s.late_events, s.evicted_keys);
    }

    /// Saves the state, when a state folder is configured.
    fn snapshot(&self) {
        let Some(file) = &self.state_file else {
            return;
        };
        if let Err(e) = self.state.save(file) {
            tracing::error!(file = %file.display(), error = %e, "cannot save the state");
        }
    }

    fn process(&mut self, loaded: &Loaded, group: Vec<Batch>) {
        let service = &self.service;
        for batch in &group {
            let input = service
                .inputs_names
                .get(batch.input)
                .map(String::as_str)
                .unwrap_or("?");
            for (source, n) in &batch.by_source {
                service.metrics.events_in(input, source.name(), *n);
            }
            if !batch.errors.is_empty() {
                service
                    .metrics
                    .parse_errors(input, batch.errors.len() as u64);
                for e in batch.errors.iter().take(20) {
                    tracing::warn!(input, "{e}");
                }
                if batch.errors.len() > 20 {
                    tracing::warn!(input, "… and {} more input errors", batch.errors.len() - 20);
                }
            }
        }
        let events: usize = group.iter().map(|b| b.events.len()).sum();
        let positions: Vec<(String, String)> = group
            .iter()
            .flat_map(|b| b.positions.iter().cloned())
            .collect();
        let started = Instant::now();
        let matcher = loaded.engine.matcher();
        let now = chrono::Utc::now().timestamp_millis();
        let mut agg = Aggregator::new(&service.config.detector_id, now);
        for event in group.iter().flat_map(|b| &b.events) {
            matcher.run_with_state(event, &mut self.state, |m| {
                agg.add(m, event);
            });
        }
        let mut findings = agg.finish();
        let pack = loaded.engine.pack();
        if let Some(geo) = &pack.geo {
            crate::finding::enrich::enrich_all(geo, &mut findings);
        }
        crate::finding::trusted::apply_all(&pack.intel, &mut findings);
        loaded.suppressions.apply_all(&mut findings);
        let values: Vec<serde_json::Value> = findings
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect();
        service
            .metrics
            .batch(events as u64, started.elapsed().as_secs_f64());

        // Commit, retrying until it holds or the service stops.
        let mut backoff = Duration::from_millis(200);
        let upserted = loop {
            match self.store.commit(&values, &positions) {
                Ok(u) => break Some(u),
                Err(e) => {
                    service
                        .pipeline
                        .commit_retries
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, retry_in = ?backoff, "cannot commit findings and positions");
                    if service.stopping() && backoff >= Duration::from_secs(5) {
                        break None;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        };
        let Some(upserted) = upserted else {
            for batch in group {
                if let Some(done) = batch.done {
                    let _ = done.send(Err("the findings store is not writable".into()));
                }
            }
            return;
        };
        for batch in &group {
            service
                .metrics
                .event_to_finding_latency(batch.arrived.elapsed().as_secs_f64());
        }
        for u in &upserted {
            let ty = u.finding["type"].as_str().unwrap_or("");
            let severity = u.finding["severity"].as_f64().unwrap_or(0.0);
            service.metrics.finding(ty, severity_band(severity), u.new);
            if u.new {
                tracing::info!(
                    id = %u.id,
                    r#type = ty,
                    severity,
                    rule = u.finding["rule"]["id"].as_str().unwrap_or(""),
                    "new finding"
                );
            }
            service.router.route(&u.finding, u.new);
        }
        tracing::debug!(
            batches = group.len(),
            events,
            findings = upserted.len(),
            seconds = started.elapsed().as_secs_f64(),
            "committed"
        );
        let p = &service.pipeline;
        if !positions.is_empty() {
            let commit = p.batches.load(Ordering::Relaxed) + 1;
            if let Ok(mut committed) = p.positions.lock() {
                committed.extend(positions.into_iter().map(|(k, v)| (k, (v, commit))));
            }
        }
        p.batches.fetch_add(group.len() as u64, Ordering::Relaxed);
        p.events.fetch_add(events as u64, Ordering::Relaxed);
        p.findings
            .fetch_add(upserted.len() as u64, Ordering::Relaxed);
        // Answer every waiting request first; freeing the events comes after.
        for batch in &group {
            if let Some(done) = &batch.done {
                let _ = done.send(Ok(Committed {
                    events: batch.events.len(),
                    findings: upserted.len(),
                }));
            }
        }
        drop(group);
    }
}
