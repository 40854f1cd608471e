//! Routing findings: picket's counterpart of GuardDuty → EventBridge → a target.
//!
//! GuardDuty publishes each new or updated finding as an EventBridge event
//! (`detail-type: "GuardDuty Finding"`, the finding in `detail`); EventBridge rules pick
//! events with patterns and hand them to targets such as a Lambda function that
//! responds (isolates an instance, disables a key). picket does the same in one process:
//! each finding stored is wrapped in the same shape ([`envelope`]), matched against
//! every route's [`pattern::Pattern`], and handed to the route's action ([`action`]): a
//! file, a webhook, or a command that reads the event on standard input (the Lambda
//! analog).
//!
//! Deliveries never hold up the pipeline: each route has a worker thread and a bounded
//! queue. A failed delivery is retried with exponential backoff and jitter; one that
//! fails for good (retries exhausted, a webhook's `4xx`, a full queue, or shutdown with
//! deliveries pending) is appended to the dead-letter file with the reason, so nothing is
//! dropped silently.

pub mod action;
pub mod pattern;

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use action::ActionConfig;
use action::{Action, Failure};
use pattern::Pattern;

/// Deliveries a route holds before new ones go to the dead-letter file.
const QUEUE: usize = 1024;

/// A route, as configured (`[[route]]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Its name, in metrics and dead letters.
    pub name: String,
    /// An EventBridge event pattern over the finding's event.
    pub pattern: Value,
    /// What to do with a matching finding.
    pub action: ActionConfig,
    /// Retries of failed deliveries.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// Retries of a route.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts in all, the first included (default 5).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Wait before the first retry (default 500ms); doubles each time.
    #[serde(default = "default_initial", deserialize_with = "action::duration")]
    pub initial_backoff: Duration,
    /// Longest wait between attempts (default 30s).
    #[serde(default = "default_max", deserialize_with = "action::duration")]
    pub max_backoff: Duration,
}

fn default_attempts() -> u32 {
    5
}

fn default_initial() -> Duration {
    Duration::from_millis(500)
}

fn default_max() -> Duration {
    Duration::from_secs(30)
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            attempts: default_attempts(),
            initial_backoff: default_initial(),
            max_backoff: default_max(),
        }
    }
}

/// Checks routes before starting: `(index, message)` per problem.
pub fn check_routes(routes: &[RouteConfig]) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    for (i, r) in routes.iter().enumerate() {
        if !names.insert(r.name.as_str()) {
            problems.push((i, format!("two routes are named `{}`", r.name)));
        }
        if let Err(e) = Pattern::compile(&r.pattern) {
            problems.push((i, format!("route `{}`: pattern {e}", r.name)));
        }
        if r.retry.attempts == 0 {
            problems.push((
                i,
                format!("route `{}`: `attempts` must be at least 1", r.name),
            ));
        }
        if let ActionConfig::Webhook { url, .. } = &r.action {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push((
                    i,
                    format!("route `{}`: `{url}` is not an http(s) URL", r.name),
                ));
            }
        }
    }
    problems
}

/// The EventBridge-shaped event of a finding. Its `id` is derived from the finding's
/// id, update time and count, so a retried delivery carries the same id and a receiver
/// can drop duplicates.
pub fn envelope(finding: &Value, new: bool) -> Value {
    let mut h = Sha256::new();
    for part in [
        &finding["id"],
        &finding["updatedAt"],
        &finding["service"]["count"],
    ] {
        h.update(part.to_string().as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    json!({
        "version": "0",
        "id": id,
        "detail-type": "GuardDuty Finding",
        "source": "picket",
        "account": finding["accountId"],
        "time": finding["updatedAt"],
        "region": finding["region"],
        "resources": [],
        "picket": { "new": new },
        "detail": finding,
    })
}

/// Counters of one route.
#[derive(Clone, Debug, Default)]
pub struct RouteStats {
    /// The route.
    pub name: String,
    /// Findings its pattern matched.
    pub matched: u64,
    /// Deliveries that succeeded.
    pub delivered: u64,
    /// Attempts retried.
    pub retries: u64,
    /// Deliveries written to the dead-letter file.
    pub failed: u64,
    /// Deliveries waiting or in progress.
    pub queued: u64,
}

#[derive(Default)]
struct Counters {
    matched: AtomicU64,
    delivered: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
    pending: AtomicU64,
}

struct Delivery {
    event: Value,
    first_attempt: String,
}

struct Route {
    name: String,
    pattern: Pattern,
    sender: Mutex<Option<SyncSender<Delivery>>>,
    counters: Arc<Counters>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Appends failed deliveries to the dead-letter file.
struct DeadLetters {
    path: PathBuf,
    lock: Mutex<()>,
    /// Dead letters that could not even be written.
    lost: AtomicU64,
}

impl DeadLetters {
    fn write(&self, route: &str, reason: &str, attempts: u32, first: &str, event: &Value) {
        let line = json!({
            "route": route,
            "reason": reason,
            "attempts": attempts,
            "firstAttempt": first,
            "lastAttempt": now(),
            "event": event,
        });
        let _guard = self.lock.lock();
        let written = (|| -> std::io::Result<()> {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            f.write_all(format!("{line}\n").as_bytes())?;
            f.sync_data()
        })();
        match written {
            Ok(()) => tracing::warn!(
                route,
                reason,
                attempts,
                "delivery failed; written to the dead-letter file"
            ),
            Err(e) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                tracing::error!(route, reason, file = %self.path.display(), error = %e, "delivery failed and the dead-letter file cannot be written: {line}");
            }
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Routes findings to their routes' actions.
pub struct Router {
    routes: Vec<Route>,
    dead: Arc<DeadLetters>,
    stop: Arc<AtomicBool>,
}

impl Router {
    /// Compiles the routes and starts their workers.
    pub fn new(routes: Vec<RouteConfig>, dead_letter: PathBuf) -> Result<Router, String> {
        if let Some((_, e)) = check_routes(&routes).into_iter().next() {
            return Err(e);
        }
        let dead = Arc::new(DeadLetters {
            path: dead_letter,
            lock: Mutex::new(()),
            lost: AtomicU64::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let mut out = Vec::new();
        for config in routes {
            let pattern = Pattern::compile(&config.pattern)?;
            let (tx, rx) = sync_channel::<Delivery>(QUEUE);
            let counters = Arc::new(Counters::default());
            let worker = {
                let counters = Arc::clone(&counters);
                let dead = Arc::clone(&dead);
                let stop = Arc::clone(&stop);
                let name = config.name.clone();
                let action = Action::new(&config.action);
                let retry = config.retry.clone();
                std::thread::Builder::new()
                    .name(format!("route-{name}"))
                    .spawn(move || work(&name, action, &retry, &rx, &counters, &dead, &stop))
                    .map_err(|e| format!("cannot start route `{}`: {e}", config.name))?
            };
            out.push(Route {
                name: config.name,
                pattern,
                sender: Mutex::new(Some(tx)),
                counters,
                worker: Mutex::new(Some(worker)),
            });
        }
        Ok(Router {
            routes: out,
            dead,
            stop,
        })
    }

    /// Hands a stored finding to every route whose pattern matches its event. Never
    /// waits: a route whose queue is full gets a dead letter instead.
    pub fn route(&self, finding: &Value, new: bool) {
        if self.routes.is_empty() {
            return;
        }
        let event = envelope(finding, new);
        for r in &self.routes {
            if !r.pattern.matches(&event) {
                continue;
            }
            r.counters.matched.fetch_add(1, Ordering::Relaxed);
            r.counters.pending.fetch_add(1, Ordering::Relaxed);
            let delivery = Delivery {
                event: event.clone(),
                first_attempt: now(),
            };
            let sent = match r.sender.lock().ok().as_ref().and_then(|s| s.as_ref()) {
                Some(s) => s.try_send(delivery),
                None => Err(TrySendError::Disconnected(delivery)),
            };
            if let Err(e) = sent {
                let (reason, d) = match e {
                    TrySendError::Full(d) => ("queue full", d),
                    TrySendError::Disconnected(d) => ("shutdown", d),
                };
                self.dead
                    .write(&r.name, reason, 0, &d.first_attempt, &d.event);
                r.counters.failed.fetch_add(1, Ordering::Relaxed);
                r.counters.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until every queued delivery is done (delivered or dead-lettered), up to
    /// `timeout`; true when all are.
    pub fn flush(&self, timeout: Duration) -> bool {
        let start = Instant::now();
        loop {
            let pending: u64 = self
                .routes
                .iter()
                .map(|r| r.counters.pending.load(Ordering::Relaxed))
                .sum();
            if pending == 0 {
                return true;
            }
            if start.elapsed() >= timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Delivers what it can within `timeout`, then stops the workers: deliveries still
    /// queued go to the dead-letter file.
    pub fn shutdown(&self, timeout: Duration) {
        self.flush(timeout);
        self.stop.store(true, Ordering::Relaxed);
        for r in &self.routes {
            if let Ok(mut s) = r.sender.lock() {
                s.take();
            }
            if let Some(w) = r.worker.lock().ok().and_then(|mut w| w.take()) {
                let _ = w.join();
            }
        }
    }

    /// Per-route counters.
    pub fn stats(&self) -> Vec<RouteStats> {
        self.routes
            .iter()
            .map(|r| RouteStats {
                name: r.name.clone(),
                matched: r.counters.matched.load(Ordering::Relaxed),
                delivered: r.counters.delivered.load(Ordering::Relaxed),
                retries: r.counters.retries.load(Ordering::Relaxed),
                failed: r.counters.failed.load(Ordering::Relaxed),
                queued: r.counters.pending.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Dead letters that could not be written.
    pub fn lost(&self) -> u64 {
        self.dead.lost.load(Ordering::Relaxed)
    }
}

/// A route's worker: delivers in order, retrying with backoff.
fn work(
    name: &str,
    mut action: Action,
    retry: &RetryConfig,
    deliveries: &Receiver<Delivery>,
    counters: &Counters,
    dead: &DeadLetters,
    stop: &AtomicBool,
) {
    let mut seed = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    for d in deliveries.iter() {
        let mut attempts = 0;
        let mut backoff = retry.initial_backoff;
        let outcome = loop {
            if stop.load(Ordering::Relaxed) {
                break Err("shutdown".to_string());
            }
            attempts += 1;
            match action.deliver(&d.event) {
                Ok(()) => break Ok(()),
                Err(Failure::Permanent(e)) => break Err(e),
                Err(Failure::Retry(e)) if attempts >= retry.attempts => {
                    break Err(format!("{e} (after {attempts} attempts)"))
                }
                Err(Failure::Retry(e)) => {
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(route = name, error = %e, attempt = attempts, "delivery failed; retrying");
                    // Full jitter in [backoff/2, backoff].
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let half = backoff / 2;
                    let jitter = half.mul_f64((seed % 1000) as f64 / 1000.0);
                    sleep_unless_stopped(half + jitter, stop);
                    backoff = (backoff * 2).min(retry.max_backoff);
                }
            }
        };
        match outcome {
            Ok(()) => {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(reason) => {
                dead.write(name, &reason, attempts, &d.first_attempt, &d.event);
                counters.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        counters.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let start = Instant::now();
    while start.elapsed() < total && !stop.load(Ordering::Relaxed) {
        std::thread::sleep((total - start.elapsed()).min(Duration::from_millis(20)));
    }
}

#[cfg(test)]
mod tests;
