//! `picket serve`: continuous monitoring.
//!
//! Inputs (watched directories, standard input, an HTTP ingest endpoint) feed one
//! pipeline that runs the current engine (swapped whole on reload) and the state of
//! stateful rules over each batch of events, then commits the batch's findings and the
//! inputs' positions to the findings store in one transaction, then routes the findings.
//!
//! Modules: [`config`] (the TOML file), [`store`] (SQLite findings store), [`route`]
//! (EventBridge-style routes and their actions), [`metrics`] (Prometheus), [`admin`]
//! (the admin HTTP server).

pub mod admin;
pub mod metrics;
pub mod route;
pub mod store;

pub mod config;
pub mod input;
pub mod pipeline;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use arc_swap::ArcSwap;
use serde_json::{json, Value};

use crate::compile::reload::Reloader;
use crate::compile::{CompileOptions, Compiled, PackFiles};
use crate::finding::Suppressions;
use crate::intel::geo::GeoDb;
use crate::run::{fixtures, Engine, StateConfig, StateStore};

use config::{Config, InputKind};
use input::tail::FilePos;
use metrics::Metrics;
use pipeline::{Pipeline, PipelineCounters};
use route::Router;
use store::FindingStore;

/// The state file inside the state folder.
const STATE_FILE: &str = "state.json";

/// A compiled pack in service: the engine and what came with it.
pub struct Loaded {
    /// The rules and their dispatch index.
    pub engine: Engine,
    /// A short hash of the rules' definitions: equal packs have equal versions.
    pub version: String,
    /// Suppression rules read with the pack.
    pub suppressions: Suppressions,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
}

/// The outcome of the last reload, for status.
#[derive(Clone, Debug, Default)]
struct LastReload {
    at: String,
    ok: bool,
    reason: String,
    error: Option<String>,
    seconds: f64,
}

/// A reload asked for: why, and who waits for the outcome.
struct ReloadRequest {
    reason: &'static str,
    reply: Option<Sender<Result<Value, String>>>,
}

/// The running service: what the pipeline, the reload worker and the admin server share.
pub struct Service {
    /// The configuration.
    pub config: Config,
    /// The engine in service, swapped whole by reloads.
    pub current: ArcSwap<Loaded>,
    /// Metrics.
    pub metrics: Metrics,
    /// Routes.
    pub router: Router,
    /// Pipeline counters.
    pub pipeline: Arc<PipelineCounters>,
    /// Input names, by index.
    pub inputs_names: Vec<String>,
    inputs: Mutex<Vec<InputStatus>>,
    reloader: Reloader,
    reloads: Mutex<Option<Sender<ReloadRequest>>>,
    last_reload: Mutex<LastReload>,
    stop: Arc<AtomicBool>,
    started: Instant,
    generation: AtomicU64,
    /// The engine replaced by the last reload, freed by the next one (by then the
    /// pipeline has let go of it), so that freeing a large pack is not the pipeline's work.
    retired: Mutex<Option<Arc<Loaded>>>,
}

/// What status shows of an input.
struct InputStatus {
    name: String,
    kind: &'static str,
    detail: String,
    counters: Arc<input::InputCounters>,
}

impl Service {
    /// True once shutdown has begun.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Asks for a reload; with `wait`, returns its outcome.
    fn request_reload(&self, reason: &'static str, wait: bool) -> Result<Value, String> {
        let (tx, rx) = mpsc::channel();
        let sent = self
            .reloads
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .map(|s| {
                s.send(ReloadRequest {
                    reason,
                    reply: wait.then_some(tx),
                })
                .is_ok()
            })
            .unwrap_or(false);
        if !sent {
            return Err("shutting down".into());
        }
        if !wait {
            return Ok(json!({"queued": true}));
        }
        rx.recv_timeout(Duration::from_secs(120))
            .map_err(|_| "the reload did not finish in time".to_string())?
    }

    /// Compiles the configured packs and lists; the new engine, or the errors that
    /// keep the running one.
    fn build(&self) -> Result<Loaded, String> {
        build_loaded(&self.config, &self.reloader)
    }

    fn reload_now(&self, reason: &str) -> Result<Value, String> {
        let started = Instant::now();
        let outcome = self.build();
        let seconds = started.elapsed().as_secs_f64();
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut last = LastReload {
            at,
            ok: outcome.is_ok(),
            reason: reason.to_string(),
            error: None,
            seconds,
        };
        let result = match outcome {
            Ok(loaded) => {
                let rules = loaded.engine.pack().len();
                let version = loaded.version.clone();
                let changed = self.current.load().version != version;
                let old = self.current.swap(Arc::new(loaded));
                if let Ok(mut retired) = self.retired.lock() {
                    *retired = Some(old);
                }
                self.generation.fetch_add(1, Ordering::Relaxed);
                self.metrics.reload(true, seconds, &version, rules);
                tracing::info!(reason, %version, rules, seconds, changed, "pack reloaded");
                Ok(
                    json!({"version": version, "rules": rules, "seconds": seconds, "changed": changed}),
                )
            }
            Err(e) => {
                let current = self.current.load();
                self.metrics.reload(
                    false,
                    seconds,
                    &current.version,
                    current.engine.pack().len(),
                );
                tracing::error!(reason, "reload rejected; the running pack stays:\n{e}");
                last.error = Some(e.clone());
                Err(e)
            }
        };
        if let Ok(mut l) = self.last_reload.lock() {
            *l = last;
        }
        result
    }
}

/// Compiles packs and lists, checks them, runs their tests when asked, and builds the
/// engine.
fn build_loaded(config: &Config, reloader: &Reloader) -> Result<Loaded, String> {
    let (packs, compiled) = reloader
        .reload_packs()
        .map_err(|e| format!("cannot read the rule packs: {e}"))?;
    let errors: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.is_error())
        .map(|d| d.one_line())
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "{} rule error(s):\n{}",
            errors.len(),
            errors.join("\n")
        ));
    }
    if config.rules.test_on_reload {
        test_packs(&packs, usize::from(config.rules.builtin))?;
    }
    let suppressions =
        Suppressions::load_all(&config.rules.suppress).map_err(|e| e.render(false))?;
    let version = pack_version(&compiled);
    Ok(Loaded {
        engine: reloader.engine(compiled.pack),
        version,
        suppressions,
        loaded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// Runs the fixture tests of the pack folders (not of the built-in pack, tested with
/// picket itself).
fn test_packs(packs: &[PackFiles], first_user_pack: usize) -> Result<(), String> {
    if packs.len() <= first_user_pack {
        return Ok(());
    }
    let compiled = crate::compile::compile_with(packs, &CompileOptions::for_fixtures());
    let mut failures = Vec::new();
    for i in first_user_pack..packs.len() {
        for case in fixtures::run_pack_tests(packs, &compiled.pack, i) {
            if !case.passed() {
                let mut line = format!(
                    "rule {} case {}: expected {}, matched {}/{}",
                    case.rule,
                    case.case,
                    match case.expect {
                        Some(crate::compile::load::Expect::Match) => "match",
                        Some(crate::compile::load::Expect::NoMatch) => "no match",
                        None => "a hit and a miss fixture",
                    },
                    case.matched,
                    case.events
                );
                for e in &case.errors {
                    line.push_str(&format!("; {e}"));
                }
                failures.push(line);
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} rule test(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

/// A short hash of the rules' definitions.
fn pack_version(compiled: &Compiled) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for r in &compiled.pack.rules {
        h.update(r.meta.id.as_bytes());
        h.update([0]);
        h.update(crate::run::state::fingerprint(r).as_bytes());
        h.update([0]);
        h.update(r.meta.severity.to_bits().to_le_bytes());
        h.update(r.meta.finding_type.as_bytes());
        h.update([0]);
    }
    for list in compiled.pack.intel.lists() {
        h.update(list.name().as_bytes());
        h.update(list.content_hash.to_le_bytes());
    }
    let digest = h.finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Most file positions `/admin/status` lists per input (the most recently read first).
const STATUS_POSITIONS: usize = 100;

impl Service {
    /// The positions committed for a folder input's files: how many files, and the
    /// [`STATUS_POSITIONS`] most recently read, each with its offset and line.
    fn committed_positions(&self, input: &str) -> (usize, Vec<Value>) {
        let prefix = input::position_key(input, "");
        let Ok(committed) = self.pipeline.positions.lock() else {
            return (0, Vec::new());
        };
        let mut files: Vec<(&str, &str, u64)> = committed
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, (pos, commit))| (&k[prefix.len()..], pos.as_str(), *commit))
            .collect();
        let count = files.len();
        files.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));
        let shown = files
            .into_iter()
            .take(STATUS_POSITIONS)
            .filter_map(|(file, pos, _)| {
                let pos = serde_json::from_str::<FilePos>(pos).ok()?;
                Some(json!({"file": file, "offset": pos.offset, "line": pos.line}))
            })
            .collect();
        (count, shown)
    }
}

impl admin::AdminHandler for Service {
    fn status(&self) -> Value {
        let current = self.current.load();
        let last = self
            .last_reload
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        let inputs: Vec<Value> = self
            .inputs
            .lock()
            .map(|inputs| {
                inputs
                    .iter()
                    .map(|i| {
                        let mut status = json!({
                            "name": i.name,
                            "type": i.kind,
                            "detail": i.detail,
                            "events": i.counters.events.load(Ordering::Relaxed),
                            "errors": i.counters.errors.load(Ordering::Relaxed),
                            "bytesRead": i.counters.bytes.load(Ordering::Relaxed),
                            "finished": i.counters.finished.load(Ordering::Relaxed),
                        });
                        if i.kind == "directory" {
                            let (files, positions) = self.committed_positions(&i.name);
                            status["files"] = json!(files);
                            status["positions"] = Value::Array(positions);
                        }
                        status
                    })
                    .collect()
            })
            .unwrap_or_default();
        let p = &self.pipeline;
        json!({
            "pack": {
                "version": current.version,
                "rules": current.engine.pack().len(),
                "loadedAt": current.loaded_at,
                "reloads": self.generation.load(Ordering::Relaxed),
            },
            "lastReload": if last.at.is_empty() { Value::Null } else { json!({
                "at": last.at, "ok": last.ok, "reason": last.reason,
                "error": last.error, "seconds": last.seconds,
            })},
            "inputs": inputs,
            "pipeline": {
                "batches": p.batches.load(Ordering::Relaxed),
                "events": p.events.load(Ordering::Relaxed),
                "findings": p.findings.load(Ordering::Relaxed),
                "queued": p.queued.load(Ordering::Relaxed),
                "commitRetries": p.commit_retries.load(Ordering::Relaxed),
            },
            "store": self.config.store.display().to_string(),
            "uptimeSeconds": self.started.elapsed().as_secs(),
            "stopping": self.stopping(),
        })
    }

    fn ready(&self) -> bool {
        !self.stopping()
    }

    fn reload(&self) -> Result<Value, String> {
        self.request_reload("admin", true)
    }

    fn metrics(&self) -> String {
        for r in self.router.stats() {
            self.metrics.sink(
                &r.name,
                r.matched,
                r.delivered,
                r.retries,
                r.failed,
                r.queued,
            );
        }
        if let Ok(inputs) = self.inputs.lock() {
            for i in inputs.iter() {
                self.metrics
                    .input_position(&i.name, i.counters.bytes.load(Ordering::Relaxed));
            }
        }
        self.metrics
            .queue_depth(self.pipeline.queued.load(Ordering::Relaxed));
        self.metrics.render()
    }
}

/// Options of `picket serve` given on the command line.
#[derive(Debug, Default, Clone)]
pub struct ServeOptions {
    /// Log as JSON lines, whatever the configuration says.
    pub log_json: Option<bool>,
    /// Check the configuration and the packs, then exit.
    pub check: bool,
}

/// Starts logging as configured (once per process).
fn init_logging(config: &Config, options: &ServeOptions) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = options.log_json.unwrap_or(config.log.json);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Runs `picket serve` until SIGINT or SIGTERM (or, with only standard input, its
/// end). Returns the exit code.
pub fn run(config: Config, options: &ServeOptions) -> Result<u8> {
    init_logging(&config, options);
    let geo = if config.rules.geoip.is_empty() {
        None
    } else {
        Some(Arc::new(
            GeoDb::open(&config.rules.geoip).map_err(anyhow::Error::msg)?,
        ))
    };
    let reloader = Reloader::new(
        config.rules.dirs.clone(),
        config.rules.builtin,
        CompileOptions {
            lists: config.rules.lists.clone(),
            geo,
            ..CompileOptions::default()
        },
    );
    let loaded = build_loaded(&config, &reloader).map_err(|e| {
        anyhow::anyhow!("the rule packs do not load, so picket serve does not start:\n{e}")
    })?;
    if options.check {
        println!(
            "configuration {} is valid: {} rules (pack {}), {} input(s), {} route(s)",
            config.path.display(),
            loaded.engine.pack().len(),
            loaded.version,
            config.inputs.len(),
            config.routes.len()
        );
        return Ok(0);
    }
    let store = FindingStore::open(&config.store)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot open the findings store {}", config.store.display()))?;
    let router = Router::new(config.routes.clone(), config.dead_letter.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut state = StateStore::new(StateConfig {
        allowed_lateness_ms: config.state.allowed_lateness_ms,
        memory_cap_bytes: config.state.memory_cap_bytes,
    });
    let state_file = match &config.state.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the state folder {}", dir.display()))?;
            let file = dir.join(STATE_FILE);
            if file.exists() {
                let r = state
                    .restore(&file, loaded.engine.pack())
                    .map_err(anyhow::Error::msg)
                    .context("cannot restore the state; move the file away to start afresh")?;
                tracing::info!(rules = r.rules, dropped = r.dropped, "state restored");
            }
            Some(file)
        }
        None => None,
    };

    // Durable positions of folder inputs.
    let mut positions: HashMap<String, HashMap<String, FilePos>> = HashMap::new();
    let checkpoints = store.checkpoints().map_err(|e| anyhow::anyhow!("{e}"))?;
    for (key, value) in &checkpoints {
        let Some(rest) = key.strip_prefix("dir:") else {
            continue;
        };
        let Some((input, file)) = rest.split_once(':') else {
            continue;
        };
        if let Ok(pos) = serde_json::from_str::<FilePos>(value) {
            positions
                .entry(input.to_string())
                .or_default()
                .insert(file.to_string(), pos);
        }
    }

    let metrics = Metrics::new();
    metrics.reload(true, 0.0, &loaded.version, loaded.engine.pack().len());
    let stop = Arc::new(AtomicBool::new(false));
    let pipeline_counters = Arc::new(PipelineCounters {
        positions: Mutex::new(checkpoints.into_iter().map(|(k, v)| (k, (v, 0))).collect()),
        ..Default::default()
    });
    let service = Arc::new(Service {
        inputs_names: config.inputs.iter().map(|i| i.name.clone()).collect(),
        current: ArcSwap::from_pointee(loaded),
        metrics,
        router,
        pipeline: Arc::clone(&pipeline_counters),
        inputs: Mutex::new(Vec::new()),
        reloader,
        reloads: Mutex::new(None),
        last_reload: Mutex::new(LastReload::default()),
        stop: Arc::clone(&stop),
        started: Instant::now(),
        generation: AtomicU64::new(0),
        retired: Mutex::new(None),
        config,
    });

    // Reloads: one worker; requests that pile up while it works are served by one pass.
    let (reload_tx, reload_rx) = mpsc::channel::<ReloadRequest>();
    if let Ok(mut r) = service.reloads.lock() {
        *r = Some(reload_tx.clone());
    }
    let reload_worker = {
        let service = Arc::clone(&service);
        std::thread::Builder::new()
            .name("reload".into())
            .spawn(move || reload_loop(&service, &reload_rx))?
    };
    let watch = if service.config.rules.watch {
        let mut paths = service.reloader.watched_paths();
        paths.extend(service.config.rules.suppress.iter().cloned());
        let tx = reload_tx.clone();
        match crate::compile::reload::watch(&paths, service.config.rules.reload_quiet, move || {
            let _ = tx.send(ReloadRequest {
                reason: "files changed",
                reply: None,
            });
        }) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the rule folders; reload with SIGHUP or POST /admin/reload");
                None
            }
        }
    } else {
        None
    };

    // Signals.
    let (shutdown_tx, shutdown_rx) = mpsc::channel::<&'static str>();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])
    .context("cannot install signal handlers")?;
    let signal_handle = signals.handle();
    {
        let shutdown_tx = shutdown_tx.clone();
        let reload_tx = reload_tx.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    match signal {
                        signal_hook::consts::SIGHUP => {
                            let _ = reload_tx.send(ReloadRequest {
                                reason: "SIGHUP",
                                reply: None,
                            });
                        }
                        signal_hook::consts::SIGINT => {
                            let _ = shutdown_tx.send("SIGINT");
                        }
                        _ => {
                            let _ = shutdown_tx.send("SIGTERM");
                        }
                    }
                }
            })?;
    }
    drop(reload_tx);

    // Pipeline.
    let (batch_tx, batch_rx) =
        mpsc::sync_channel::<input::Batch>(service.config.pipeline.queue_batches);
    let pipeline = Pipeline {
        service: Arc::clone(&service),
        state,
        store,
        state_file,
    };
    let pipeline_thread = std::thread::Builder::new()
        .name("pipeline".into())
        .spawn(move || pipeline.run(batch_rx))?;

    // Inputs.
    let ctx = input::Context {
        batches: batch_tx,
        stop: Arc::clone(&stop),
        batch_events: service.config.pipeline.batch_events,
        batch_wait: service.config.pipeline.batch_wait,
        max_record_bytes: crate::event::ReadOptions::default().max_record_bytes,
        queued: Arc::clone(&pipeline_counters),
    };
    let mut running = Vec::new();
    for (i, cfg) in service.config.inputs.iter().enumerate() {
        let mine = positions.remove(&cfg.name).unwrap_or_default();
        let r = input::start(i, cfg.clone(), ctx.clone(), mine)
            .with_context(|| format!("cannot start input `{}`", cfg.name))?;
        let (kind, detail) = match &cfg.kind {
            InputKind::Directory { path, .. } => ("directory", path.display().to_string()),
            InputKind::Stdin => ("stdin", "-".to_string()),
            InputKind::Http { .. } => (
                "http",
                r.local_addr.map(|a| a.to_string()).unwrap_or_default(),
            ),
        };
        tracing::info!(input = %cfg.name, kind, detail, "input started");
        if let Ok(mut inputs) = service.inputs.lock() {
            inputs.push(InputStatus {
                name: cfg.name.clone(),
                kind,
                detail,
                counters: Arc::clone(&r.counters),
            });
        }
        running.push(r);
    }
    drop(ctx);

    // Admin.
    let admin = admin::start(
        &service.config.admin,
        Arc::clone(&service) as Arc<dyn admin::AdminHandler>,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        admin = %admin.local_addr(),
        version = %service.current.load().version,
        rules = service.current.load().engine.pack().len(),
        "picket serve is running"
    );

    // Wait for a signal, or for every input to finish (standard input at its end).
    let reason = loop {
        match shutdown_rx.recv_timeout(Duration::from_millis(200)) {
            Ok(reason) => break reason,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let all_finished = !running.is_empty()
                    && running.iter().all(|r| {
                        matches!(r.config.kind, InputKind::Stdin)
                            && r.counters.finished.load(Ordering::Relaxed)
                    });
                if all_finished {
                    break "end of input";
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break "signals gone",
        }
    };
    tracing::info!(reason, "shutting down: draining the inputs");
    stop.store(true, Ordering::Relaxed);
    for r in &running {
        if let Some(server) = &r.server {
            input::http::unblock(server);
        }
    }
    for r in running.iter_mut() {
        // Standard input may be blocked in a read that nothing interrupts: it is left.
        if matches!(r.config.kind, InputKind::Stdin) && !r.counters.finished.load(Ordering::Relaxed)
        {
            continue;
        }
        if let Some(t) = r.thread.take() {
            let _ = t.join();
        }
    }
    drop(running);
    // The pipeline drains the queue, then saves the state.
    let state = pipeline_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the pipeline thread failed"))?;
    let stats = state.stats();
    if let Ok(mut r) = service.reloads.lock() {
        *r = None;
    }
    if !service.router.flush(Duration::from_secs(10)) {
        tracing::warn!("some deliveries did not finish in time; they go to the dead-letter file");
    }
    service.router.shutdown(Duration::ZERO);
    signal_handle.close();
    drop(watch);
    let _ = reload_worker.join();
    admin.shutdown();
    tracing::info!(
        events = service.pipeline.events.load(Ordering::Relaxed),
        findings = service.pipeline.findings.load(Ordering::Relaxed),
        state_keys = stats.keys,
        "stopped"
    );
    Ok(0)
}

/// Nice value of the reload thread: compiling a pack waits for the pipeline and the
/// inputs.
const RELOAD_NICE: i32 = 10;
/// Nice value of the HTTP ingest handlers: the pipeline, one thread that every batch
/// passes through, gets the CPU before the handlers reading and parsing the next ones.
pub(crate) const INGEST_NICE: i32 = 5;

/// Lowers the calling thread's CPU priority to `nice`, so that its work takes the time
/// the threads above it leave rather than time from them (Linux; elsewhere nothing).
pub fn lower_priority(nice: i32) {
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` has no preconditions; `setpriority` on the calling thread's
        // id changes only that thread's nice value and reports failure by its result.
        let done = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, nice)
        };
        if done != 0 {
            tracing::debug!(nice, "cannot lower a thread's priority");
        }
    }
}

fn reload_loop(service: &Service, requests: &Receiver<ReloadRequest>) {
    lower_priority(RELOAD_NICE);
    while let Ok(first) = requests.recv() {
        let mut waiting = vec![first];
        while let Ok(more) = requests.try_recv() {
            waiting.push(more);
        }
        let reason = waiting[0].reason;
        let result = service.reload_now(reason);
        for r in waiting {
            if let Some(reply) = r.reply {
                let _ = reply.send(result.clone());
            }
        }
        if service.stopping() {
            break;
        }
    }
}
