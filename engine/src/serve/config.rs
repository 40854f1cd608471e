//! The configuration file of `picket serve` (`picket.toml`).
//!
//! The file is TOML; `docs/picket.toml` is the commented example. Reading it checks
//! everything that can be checked before starting: unknown keys, types, durations,
//! listen addresses, that watched folders and rule folders exist, unique input names,
//! route patterns and actions. Every error is a diagnostic with the file, line and
//! column of the value at fault (codes `S5xx`, listed in docs/errors.md), rendered like
//! rule diagnostics. Relative paths are relative to the folder of the configuration
//! file, so a config and its rules can move together.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use picket_grammar::ast::Span;
use picket_grammar::Diagnostic;
use serde::Deserialize;

use crate::cli::parse_list_arg;
use crate::event::Source;
use crate::intel::{ListKind, ListSpec};
use crate::serve::admin::AdminConfig;
use crate::serve::route::RouteConfig;

/// The configuration, checked, with paths resolved.
#[derive(Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// What to compile and how to reload it.
    pub rules: RulesConfig,
    /// State of stateful rules.
    pub state: StateSettings,
    /// The findings store (SQLite file).
    pub store: PathBuf,
    /// Where events come from.
    pub inputs: Vec<InputConfig>,
    /// Batching between the inputs and the engine.
    pub pipeline: PipelineConfig,
    /// The admin HTTP server.
    pub admin: AdminConfig,
    /// Routes for findings.
    pub routes: Vec<RouteConfig>,
    /// Where deliveries that failed for good are written.
    pub dead_letter: PathBuf,
    /// Logging.
    pub log: LogConfig,
    /// The detector id written into findings.
    pub detector_id: String,
}

/// Rule packs, lists and reloading.
#[derive(Debug, Clone)]
pub struct RulesConfig {
    /// Pack folders loaded besides the built-in rules.
    pub dirs: Vec<PathBuf>,
    /// Load the built-in rules.
    pub builtin: bool,
    /// Threat and trusted lists given outside packs.
    pub lists: Vec<ListSpec>,
    /// MaxMind databases.
    pub geoip: Vec<PathBuf>,
    /// Suppression files.
    pub suppress: Vec<PathBuf>,
    /// Run the fixture tests of the pack folders before taking a new pack.
    pub test_on_reload: bool,
    /// Watch the pack folders and list files and reload on change.
    pub watch: bool,
    /// How long writes must be quiet before a reload starts.
    pub reload_quiet: Duration,
}

/// State of stateful rules.
#[derive(Debug, Clone)]
pub struct StateSettings {
    /// Folder of the state snapshot; none keeps state in memory only.
    pub dir: Option<PathBuf>,
    /// Memory cap, bytes.
    pub memory_cap_bytes: usize,
    /// Allowed lateness, milliseconds.
    pub allowed_lateness_ms: i64,
    /// How often the state is snapshotted while running.
    pub snapshot_every: Duration,
}

/// One input.
#[derive(Debug, Clone)]
pub struct InputConfig {
    /// Its name, in metrics, positions and errors.
    pub name: String,
    /// Read every record as this source.
    pub source: Option<Source>,
    /// What it reads.
    pub kind: InputKind,
}

/// The kinds of input.
#[derive(Debug, Clone)]
pub enum InputKind {
    /// A folder tree that keeps receiving log files.
    Directory {
        /// The folder.
        path: PathBuf,
        /// How often the tree is scanned for changes (besides file-system events).
        poll: Duration,
        /// A compressed or whole-document file is read once unchanged this long.
        settle: Duration,
        /// Skip what the files hold at the first start (only what is added after).
        start_at_end: bool,
    },
    /// JSON lines on standard input.
    Stdin,
    /// An HTTP endpoint accepting JSON lines or CloudTrail `Records` batches.
    Http {
        /// Address to listen on.
        listen: SocketAddr,
        /// Bearer token required of senders.
        token: Option<String>,
        /// Largest request body, bytes.
        max_body_bytes: usize,
    },
}

/// Batching between inputs and the engine.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Largest batch, in events.
    pub batch_events: usize,
    /// Longest an input holds events before handing them on.
    pub batch_wait: Duration,
    /// Batches waiting for the engine before inputs wait.
    pub queue_batches: usize,
}

/// Log output.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// JSON lines instead of text.
    pub json: bool,
    /// Level filter (`info`, `debug`, `picket=debug,warn`…).
    pub level: String,
}

/// A configuration error: rendered diagnostics.
#[derive(Debug)]
pub struct ConfigError {
    /// The diagnostics, rendered.
    pub rendered: String,
    /// How many errors.
    pub count: usize,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for ConfigError {}

// The file as written.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    state: RawState,
    #[serde(default)]
    store: RawStore,
    #[serde(default, rename = "input")]
    inputs: Vec<RawInput>,
    #[serde(default)]
    pipeline: RawPipeline,
    #[serde(default)]
    admin: AdminConfig,
    #[serde(default, rename = "route")]
    routes: Vec<RouteConfig>,
    #[serde(default)]
    routing: RawRouting,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    detector_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default = "yes")]
    builtin: bool,
    #[serde(default)]
    threat_lists: Vec<String>,
    #[serde(default)]
    trusted_lists: Vec<String>,
    #[serde(default)]
    geoip: Vec<String>,
    #[serde(default)]
    suppress: Vec<String>,
    #[serde(default = "yes")]
    test_on_reload: bool,
    #[serde(default = "yes")]
    watch: bool,
    #[serde(default = "default_quiet")]
    reload_quiet: String,
}

impl Default for RawRules {
    fn default() -> Self {
        RawRules {
            paths: Vec::new(),
            builtin: true,
            threat_lists: Vec::new(),
            trusted_lists: Vec::new(),
            geoip: Vec::new(),
            suppress: Vec::new(),
            test_on_reload: true,
            watch: true,
            reload_quiet: default_quiet(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_quiet() -> String {
    "100ms".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    #[serde(default)]
    dir: Option<String>,
    #[serde(default = "default_memory")]
    memory_mib: u64,
    #[serde(default = "default_lateness")]
    allowed_lateness: String,
    #[serde(default = "default_snapshot")]
    snapshot_every: String,
}

impl Default for RawState {
    fn default() -> Self {
        RawState {
            dir: None,
            memory_mib: default_memory(),
            allowed_lateness: default_lateness(),
            snapshot_every: default_snapshot(),
        }
    }
}

fn default_memory() -> u64 {
    (crate::run::state::DEFAULT_MEMORY_CAP >> 20) as u64
}

fn default_lateness() -> String {
    "15m".into()
}

fn default_snapshot() -> String {
    "5m".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(default = "default_store")]
    path: String,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            path: default_store(),
        }
    }
}

fn default_store() -> String {
    "findings.db".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    poll: Option<String>,
    #[serde(default)]
    settle: Option<String>,
    #[serde(default)]
    start_at: Option<String>,
    #[serde(default)]
    listen: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    max_body_bytes: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    #[serde(default = "default_batch")]
    batch_events: usize,
    #[serde(default = "default_batch_wait")]
    batch_wait: String,
    #[serde(default = "default_queue")]
    queue_batches: usize,
}

impl Default for RawPipeline {
    fn default() -> Self {
        RawPipeline {
            batch_events: default_batch(),
            batch_wait: default_batch_wait(),
            queue_batches: default_queue(),
        }
    }
}

fn default_batch() -> usize {
    2048
}

fn default_batch_wait() -> String {
    "20ms".into()
}

fn default_queue() -> usize {
    16
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouting {
    #[serde(default = "default_dead_letter")]
    dead_letter: String,
}

impl Default for RawRouting {
    fn default() -> Self {
        RawRouting {
            dead_letter: default_dead_letter(),
        }
    }
}

fn default_dead_letter() -> String {
    "dead-letter.jsonl".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default = "default_log_format")]
    format: String,
    #[serde(default = "default_level")]
    level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: default_log_format(),
            level: default_level(),
        }
    }
}

fn default_log_format() -> String {
    "text".into()
}

fn default_level() -> String {
    "info".into()
}

/// Parses a duration: a whole number and a unit, `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("`{text}` is not a duration; write a whole number and a unit: `200ms`, `90s`, `15m`, `2h`, `1d`")
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad());
    }
    let n: u64 = text[..digits].parse().map_err(|_| bad())?;
    let ms = match &text[digits..] {
        "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => None,
    };
    ms.map(Duration::from_millis).ok_or_else(bad)
}

/// A step of a key path in the file, to find where a value is written.
#[derive(Clone, Debug)]
enum Step {
    Key(&'static str),
    Index(usize),
}

/// Collects diagnostics against the file's text.
struct Checker<'a> {
    root: Option<toml::Spanned<toml::de::DeTable<'a>>>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    fn new(text: &'a str) -> Self {
        Checker {
            root: toml::de::DeTable::parse(text).ok(),
            diagnostics: Vec::new(),
        }
    }

    /// The span of the value at `path` (or of the nearest table above it that exists).
    fn span(&self, path: &[Step]) -> Span {
        let Some(root) = &self.root else {
            return Span::new(0, 0);
        };
        let mut span = root.span();
        let mut value: Option<&toml::de::DeValue<'a>> = None;
        let mut table = Some(root.get_ref());
        for step in path {
            let next = match (step, table, value) {
                (Step::Key(k), Some(t), _) => t.get(*k),
                (Step::Index(i), _, Some(toml::de::DeValue::Array(a))) => a.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            span = next.span();
            value = Some(next.get_ref());
            table = match next.get_ref() {
                toml::de::DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        Span::new(span.start, span.end)
    }

    fn error(&mut self, code: &'static str, path: &[Step], message: String, label: &str) {
        let span = self.span(path);
        self.diagnostics
            .push(Diagnostic::error(code, message).with_primary(span, label));
    }

    fn error_help(
        &mut self,
        code: &'static str,
        path: &[Step],
        message: String,
        label: &str,
        help: String,
    ) {
        let span = self.span(path);
        self.diagnostics.push(
            Diagnostic::error(code, message)
                .with_primary(span, label)
                .with_help(help),
        );
    }

    fn duration(&mut self, path: &[Step], text: &str) -> Duration {
        match parse_duration(text) {
            Ok(d) => d,
            Err(e) => {
                self.error("S502", path, e, "not a duration");
                Duration::ZERO
            }
        }
    }
}

impl Config {
    /// Reads and checks the configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            rendered: format!("error: cannot read {}: {e}", path.display()),
            count: 1,
        })?;
        Config::parse(path, &text)
    }

    /// Checks the text of a configuration file read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let fail = |diagnostics: &[Diagnostic]| ConfigError {
            rendered: diagnostics
                .iter()
                .map(|d| picket_grammar::render(d, &name, text, false))
                .collect::<Vec<_>>()
                .join("\n"),
            count: diagnostics.len(),
        };
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim_end_matches('\n').to_string();
                let d = Diagnostic::error("S501", message)
                    .with_primary(Span::new(span.start, span.end), "here");
                return Err(fail(&[d]));
            }
        };
        let mut c = Checker::new(text);
        let config = build(raw, &base, &mut c);
        if c.diagnostics.is_empty() {
            Ok(Config {
                path: path.to_path_buf(),
                ..config
            })
        } else {
            Err(fail(&c.diagnostics))
        }
    }
}

fn build(raw: RawConfig, base: &Path, c: &mut Checker<'_>) -> Config {
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    // Rules.
    let r = raw.rules;
    let mut dirs = Vec::new();
    for (i, p) in r.paths.iter().enumerate() {
        let dir = resolve(p);
        if !dir.is_dir() {
            c.error(
                "S503",
                &[Step::Key("rules"), Step::Key("paths"), Step::Index(i)],
                format!("rule pack folder {} does not exist", dir.display()),
                "no such folder",
            );
        }
        dirs.push(dir);
    }
    if dirs.is_empty() && !r.builtin {
        c.error(
            "S503",
            &[Step::Key("rules"), Step::Key("builtin")],
            "no rules: `builtin = false` needs at least one folder in `paths`".into(),
            "no rules left",
        );
    }
    let mut lists = Vec::new();
    for (key, kind, items) in [
        ("threat_lists", ListKind::Threat, &r.threat_lists),
        ("trusted_lists", ListKind::Trusted, &r.trusted_lists),
    ] {
        for (i, item) in items.iter().enumerate() {
            let at = [Step::Key("rules"), Step::Key(key), Step::Index(i)];
            match parse_list_arg(item, kind) {
                Ok(mut spec) => {
                    spec.path = resolve(&spec.path.to_string_lossy());
                    if !spec.path.is_file() {
                        c.error(
                            "S503",
                            &at,
                            format!("list file {} does not exist", spec.path.display()),
                            "no such file",
                        );
                    }
                    lists.push(spec);
                }
                Err(e) => c.error("S502", &at, e, "not `[NAME=]FILE`"),
            }
        }
    }
    let mut existing_files = |key: &'static str, items: &[String]| -> Vec<PathBuf> {
        items
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let file = resolve(p);
                if !file.is_file() {
                    c.error(
                        "S503",
                        &[Step::Key("rules"), Step::Key(key), Step::Index(i)],
                        format!("{} does not exist", file.display()),
                        "no such file",
                    );
                }
                file
            })
            .collect()
    };
    let geoip = existing_files("geoip", &r.geoip);
    let suppress = existing_files("suppress", &r.suppress);
    let reload_quiet = c.duration(
        &[Step::Key("rules"), Step::Key("reload_quiet")],
        &r.reload_quiet,
    );
    let rules = RulesConfig {
        dirs,
        builtin: r.builtin,
        lists,
        geoip,
        suppress,
        test_on_reload: r.test_on_reload,
        watch: r.watch,
        reload_quiet,
    };

    // State.
    let s = raw.state;
    let state = StateSettings {
        dir: s.dir.as_deref().map(resolve),
        memory_cap_bytes: usize::try_from(s.memory_mib.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
        allowed_lateness_ms: c
            .duration(
                &[Step::Key("state"), Step::Key("allowed_lateness")],
                &s.allowed_lateness,
            )
            .as_millis() as i64,
        snapshot_every: c.duration(
            &[Step::Key("state"), Step::Key("snapshot_every")],
            &s.snapshot_every,
        ),
    };

    // Inputs.
    let mut inputs: Vec<InputConfig> = Vec::new();
    for (i, input) in raw.inputs.into_iter().enumerate() {
        if let Some(input) = build_input(input, i, &resolve, c) {
            if inputs.iter().any(|x| x.name == input.name) {
                c.error_help(
                    "S504",
                    &[Step::Key("input"), Step::Index(i)],
                    format!("two inputs are named `{}`", input.name),
                    "second input of that name",
                    "give each input its own `name`: positions and metrics are kept by name".into(),
                );
            }
            inputs.push(input);
        }
    }
    if inputs.is_empty() {
        c.error_help(
            "S504",
            &[],
            "no input: nothing would be read".into(),
            "",
            "add an `[[input]]` table, e.g. `type = \"directory\"` and `path = \"logs\"`".into(),
        );
    }
    let stdin_inputs = inputs
        .iter()
        .filter(|i| matches!(i.kind, InputKind::Stdin))
        .count();
    if stdin_inputs > 1 {
        c.error(
            "S504",
            &[Step::Key("input")],
            "standard input can be read by one input only".into(),
            "",
        );
    }

    // Pipeline.
    let p = raw.pipeline;
    if p.batch_events == 0 || p.queue_batches == 0 {
        c.error(
            "S502",
            &[Step::Key("pipeline")],
            "`batch_events` and `queue_batches` must be at least 1".into(),
            "",
        );
    }
    let pipeline = PipelineConfig {
        batch_events: p.batch_events.max(1),
        batch_wait: c.duration(
            &[Step::Key("pipeline"), Step::Key("batch_wait")],
            &p.batch_wait,
        ),
        queue_batches: p.queue_batches.max(1),
    };

    // Admin and routes (their shape was checked when the file was read).
    let admin = raw.admin;
    if let Err(e) = crate::serve::admin::check_config(&admin) {
        c.error("S505", &[Step::Key("admin"), Step::Key("listen")], e, "");
    }
    let mut routes = raw.routes;
    for r in &mut routes {
        if let crate::serve::route::ActionConfig::File { path, .. } = &mut r.action {
            *path = resolve(&path.to_string_lossy());
        }
    }
    for (i, e) in crate::serve::route::check_routes(&routes) {
        c.error("S506", &[Step::Key("route"), Step::Index(i)], e, "");
    }

    // Log.
    let json = match raw.log.format.as_str() {
        "text" => false,
        "json" => true,
        other => {
            c.error(
                "S502",
                &[Step::Key("log"), Step::Key("format")],
                format!("unknown log format `{other}`: write `text` or `json`"),
                "",
            );
            false
        }
    };
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&raw.log.level) {
        c.error(
            "S502",
            &[Step::Key("log"), Step::Key("level")],
            format!("`{}` is not a log level filter: {e}", raw.log.level),
            "",
        );
    }

    Config {
        path: PathBuf::new(),
        rules,
        state,
        store: resolve(&raw.store.path),
        inputs,
        pipeline,
        admin,
        routes,
        dead_letter: resolve(&raw.routing.dead_letter),
        log: LogConfig {
            json,
            level: raw.log.level,
        },
        detector_id: raw
            .detector_id
            .unwrap_or_else(|| crate::finding::DEFAULT_DETECTOR_ID.to_string()),
    }
}

fn build_input(
    input: RawInput,
    i: usize,
    resolve: &dyn Fn(&str) -> PathBuf,
    c: &mut Checker<'_>,
) -> Option<InputConfig> {
    let at = |key: &'static str| [Step::Key("input"), Step::Index(i), Step::Key(key)];
    let source = match input.source.as_deref() {
        None => None,
        Some(s) => match Source::from_name(s) {
            Some(s) => Some(s),
            None => {
                c.error(
                    "S502",
                    &at("source"),
                    format!(
                        "unknown source `{s}`; expected one of {}",
                        Source::ALL.map(Source::name).join(", ")
                    ),
                    "",
                );
                None
            }
        },
    };
    // Keys that belong to another kind of input are mistakes, not ignored.
    let mut only = |kind: &str, allowed: &[&str], input: &RawInput| {
        let present = [
            ("path", input.path.is_some()),
            ("poll", input.poll.is_some()),
            ("settle", input.settle.is_some()),
            ("start_at", input.start_at.is_some()),
            ("listen", input.listen.is_some()),
            ("token", input.token.is_some()),
            ("max_body_bytes", input.max_body_bytes.is_some()),
        ];
        for (key, is) in present {
            if is && !allowed.contains(&key) {
                c.error(
                    "S502",
                    &at(key),
                    format!("`{key}` does not apply to a `{kind}` input"),
                    "",
                );
            }
        }
    };
    let kind = match input.kind.as_str() {
        "directory" => {
            only("directory", &["path", "poll", "settle", "start_at"], &input);
            let Some(path) = input.path.as_deref() else {
                c.error(
                    "S502",
                    &[Step::Key("input"), Step::Index(i)],
                    "a `directory` input needs `path`".into(),
                    "",
                );
                return None;
            };
            let path = resolve(path);
            if !path.is_dir() {
                c.error(
                    "S503",
                    &at("path"),
                    format!("{} is not a folder", path.display()),
                    "no such folder",
                );
            }
            let poll = c.duration(&at("poll"), input.poll.as_deref().unwrap_or("1s"));
            let settle = c.duration(&at("settle"), input.settle.as_deref().unwrap_or("2s"));
            let start_at_end = match input.start_at.as_deref().unwrap_or("beginning") {
                "beginning" => false,
                "end" => true,
                other => {
                    c.error(
                        "S502",
                        &at("start_at"),
                        format!("`start_at = \"{other}\"`: write `beginning` or `end`"),
                        "",
                    );
                    false
                }
            };
            InputKind::Directory {
                path,
                poll,
                settle,
                start_at_end,
            }
        }
        "stdin" => {
            only("stdin", &[], &input);
            InputKind::Stdin
        }
        "http" => {
            only("http", &["listen", "token", "max_body_bytes"], &input);
            let text = input.listen.as_deref().unwrap_or("127.0.0.1:8514");
            let listen = match text.parse::<SocketAddr>() {
                Ok(a) => a,
                Err(_) => {
                    c.error(
                        "S502",
                        &at("listen"),
                        format!("`{text}` is not an address and port, like `127.0.0.1:8514`"),
                        "",
                    );
                    return None;
                }
            };
            if !listen.ip().is_loopback() && input.token.is_none() {
                c.error_help(
                    "S502",
                    &at("listen"),
                    format!("the ingest endpoint listens on {listen}, reachable from other hosts, without a token"),
                    "",
                    "set `token` (senders then send `Authorization: Bearer TOKEN`), or listen on 127.0.0.1".into(),
                );
            }
            InputKind::Http {
                listen,
                token: input.token.clone(),
                max_body_bytes: input.max_body_bytes.unwrap_or(64 << 20),
            }
        }
        other => {
            c.error(
                "S502",
                &at("type"),
                format!("unknown input type `{other}`: write `directory`, `stdin` or `http`"),
                "",
            );
            return None;
        }
    };
    let name = input.name.unwrap_or_else(|| match &kind {
        InputKind::Directory { path, .. } => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "directory".into()),
        InputKind::Stdin => "stdin".into(),
        InputKind::Http { .. } => "http".into(),
    });
    Some(InputConfig { name, source, kind })
}

#[cfg(test)]
mod tests;
