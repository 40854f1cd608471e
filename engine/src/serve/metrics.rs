//! Prometheus metrics of `picket serve`, served as OpenMetrics text on `/metrics`.
//!
//! Every name starts with `picket_`. Counters the service keeps as running totals
//! elsewhere (routes' deliveries, the state store's late events) are set from those
//! totals: each metric only goes up, by the difference since the last reading, and a
//! total that restarts (a route recreated) counts from its new value.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputSource {
    input: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputLabel {
    input: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    r#type: String,
    severity: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The metrics.
pub struct Metrics {
    registry: Registry,
    events: Family<InputSource, Counter>,
    input_errors: Family<InputLabel, Counter>,
    input_bytes: Family<InputLabel, Gauge>,
    findings: Family<FindingLabels, Counter>,
    batch_seconds: Histogram,
    eval_seconds: Counter<f64, AtomicU64>,
    latency: Histogram,
    reloads: Family<ResultLabel, Counter>,
    reload_seconds: Histogram,
    pack_rules: Gauge,
    pack_info: Family<VersionLabel, Gauge>,
    state_keys: Gauge,
    state_bytes: Gauge,
    late_events: Counter,
    evicted: Counter,
    route_matched: Family<RouteLabel, Counter>,
    route_delivered: Family<RouteLabel, Counter>,
    route_retries: Family<RouteLabel, Counter>,
    route_failures: Family<RouteLabel, Counter>,
    route_queue: Family<RouteLabel, Gauge>,
    queue: Gauge,
    start_time: FloatGauge,
    /// Last totals read, to turn totals into increments.
    totals: Mutex<Totals>,
}

#[derive(Default)]
struct Totals {
    version: Option<String>,
    late: u64,
    evicted: u64,
    routes: HashMap<String, [u64; 4]>,
}

/// Adds to `counter` what `total` grew by since `last` (all of it when it went down).
fn advance(counter: &Counter, last: &mut u64, total: u64) {
    let delta = if total >= *last { total - *last } else { total };
    if delta > 0 {
        counter.inc_by(delta);
    }
    *last = total;
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let seconds = || Histogram::new(exponential_buckets(0.0001, 4.0, 9));
        let m = Metrics {
            events: Family::default(),
            input_errors: Family::default(),
            input_bytes: Family::default(),
            findings: Family::default(),
            batch_seconds: seconds(),
            eval_seconds: Counter::default(),
            latency: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            reloads: Family::default(),
            reload_seconds: seconds(),
            pack_rules: Gauge::default(),
            pack_info: Family::default(),
            state_keys: Gauge::default(),
            state_bytes: Gauge::default(),
            late_events: Counter::default(),
            evicted: Counter::default(),
            route_matched: Family::default(),
            route_delivered: Family::default(),
            route_retries: Family::default(),
            route_failures: Family::default(),
            route_queue: Family::default(),
            queue: Gauge::default(),
            start_time: FloatGauge::default(),
            totals: Mutex::new(Totals::default()),
            registry: Registry::default(),
        };
        r.register(
            "picket_events",
            "Events read, by input and source",
            m.events.clone(),
        );
        r.register(
            "picket_input_errors",
            "Input errors (malformed records, unreadable files), by input",
            m.input_errors.clone(),
        );
        r.register(
            "picket_input_bytes_read",
            "Bytes read so far, by input",
            m.input_bytes.clone(),
        );
        r.register(
            "picket_findings",
            "Findings created (kind=new) or updated (kind=update), by type and severity band",
            m.findings.clone(),
        );
        r.register(
            "picket_batch_eval_seconds",
            "Time to match one batch of events",
            m.batch_seconds.clone(),
        );
        r.register(
            "picket_eval_seconds",
            "Time spent matching events",
            m.eval_seconds.clone(),
        );
        r.register(
            "picket_event_to_finding_seconds",
            "From reading an event to its finding being stored",
            m.latency.clone(),
        );
        r.register(
            "picket_reloads",
            "Pack reloads, by result",
            m.reloads.clone(),
        );
        r.register(
            "picket_reload_seconds",
            "Time to compile, test and swap in a pack",
            m.reload_seconds.clone(),
        );
        r.register(
            "picket_pack_rules",
            "Rules of the pack in service",
            m.pack_rules.clone(),
        );
        r.register(
            "picket_pack_info",
            "The pack in service (1 for its version)",
            m.pack_info.clone(),
        );
        r.register(
            "picket_state_keys",
            "Keys held by stateful rules",
            m.state_keys.clone(),
        );
        r.register(
            "picket_state_bytes",
            "Estimated bytes held by stateful rules",
            m.state_bytes.clone(),
        );
        r.register(
            "picket_late_events",
            "Events older than the allowed lateness, left out of stateful rules",
            m.late_events.clone(),
        );
        r.register(
            "picket_state_evicted_keys",
            "Keys evicted at the state memory cap",
            m.evicted.clone(),
        );
        r.register(
            "picket_route_matched",
            "Findings a route's pattern matched",
            m.route_matched.clone(),
        );
        r.register(
            "picket_route_delivered",
            "Deliveries that succeeded",
            m.route_delivered.clone(),
        );
        r.register(
            "picket_route_retries",
            "Delivery attempts retried",
            m.route_retries.clone(),
        );
        r.register(
            "picket_route_failures",
            "Deliveries that failed for good (written to the dead-letter file)",
            m.route_failures.clone(),
        );
        r.register(
            "picket_route_queue",
            "Deliveries waiting, by route",
            m.route_queue.clone(),
        );
        r.register(
            "picket_pipeline_queue",
            "Batches waiting for the engine",
            m.queue.clone(),
        );
        r.register(
            "picket_start_time_seconds",
            "When the service started (unix time)",
            m.start_time.clone(),
        );
        m.start_time
            .set(chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
        for result in ["success", "failure"] {
            let _ = m.reloads.get_or_create(&ResultLabel {
                result: result.into(),
            });
        }
        Metrics { registry: r, ..m }
    }

    /// The metrics as OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Events read by an input, of a source.
    pub fn events_in(&self, input: &str, source: &str, n: u64) {
        self.events
            .get_or_create(&InputSource {
                input: input.into(),
                source: source.into(),
            })
            .inc_by(n);
    }

    /// Errors met by an input.
    pub fn parse_errors(&self, input: &str, n: u64) {
        self.input_errors
            .get_or_create(&InputLabel {
                input: input.into(),
            })
            .inc_by(n);
    }

    /// A finding stored, new or updated.
    pub fn finding(&self, finding_type: &str, severity_band: &str, new: bool) {
        self.findings
            .get_or_create(&FindingLabels {
                r#type: finding_type.into(),
                severity: severity_band.to_ascii_lowercase(),
                kind: if new { "new" } else { "update" }.into(),
            })
            .inc();
    }

    /// A batch matched.
    pub fn batch(&self, _events: u64, eval_seconds: f64) {
        self.batch_seconds.observe(eval_seconds);
        self.eval_seconds.inc_by(eval_seconds);
    }

    /// The time from reading a batch to storing its findings.
    pub fn event_to_finding_latency(&self, seconds: f64) {
        self.latency.observe(seconds);
    }

    /// A reload, and the pack in service after it.
    pub fn reload(&self, ok: bool, seconds: f64, pack_version: &str, rules: usize) {
        self.reloads
            .get_or_create(&ResultLabel {
                result: if ok { "success" } else { "failure" }.into(),
            })
            .inc();
        self.reload_seconds.observe(seconds);
        self.pack_rules.set(rules as i64);
        let Ok(mut totals) = self.totals.lock() else {
            return;
        };
        if totals.version.as_deref() != Some(pack_version) {
            if let Some(old) = totals.version.take() {
                self.pack_info.remove(&VersionLabel { version: old });
            }
            self.pack_info
                .get_or_create(&VersionLabel {
                    version: pack_version.into(),
                })
                .set(1);
            totals.version = Some(pack_version.into());
        }
    }

    /// The state store's size and running totals.
    pub fn state(&self, keys: u64, bytes: u64, late_events_total: u64, evicted_total: u64) {
        self.state_keys.set(keys as i64);
        self.state_bytes.set(bytes as i64);
        if let Ok(mut t) = self.totals.lock() {
            advance(&self.late_events, &mut t.late, late_events_total);
            advance(&self.evicted, &mut t.evicted, evicted_total);
        }
    }

    /// A route's running totals.
    pub fn sink(
        &self,
        route: &str,
        matched: u64,
        delivered: u64,
        retries: u64,
        failed: u64,
        queued: u64,
    ) {
        let label = RouteLabel {
            route: route.into(),
        };
        self.route_queue.get_or_create(&label).set(queued as i64);
        let Ok(mut t) = self.totals.lock() else {
            return;
        };
        let last = t.routes.entry(route.to_string()).or_default();
        for (i, (family, total)) in [
            (&self.route_matched, matched),
            (&self.route_delivered, delivered),
            (&self.route_retries, retries),
            (&self.route_failures, failed),
        ]
        .into_iter()
        .enumerate()
        {
            advance(&family.get_or_create(&label), &mut last[i], total);
        }
    }

    /// Bytes an input has read.
    pub fn input_position(&self, input: &str, bytes: u64) {
        self.input_bytes
            .get_or_create(&InputLabel {
                input: input.into(),
            })
            .set(bytes as i64);
    }

    /// Batches waiting for the engine.
    pub fn queue_depth(&self, n: u64) {
        self.queue.set(n as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counters_and_gauges_show_in_the_text() {
        let m = Metrics::new();
        m.events_in("logs", "cloudtrail", 45);
        m.events_in("logs", "cloudtrail", 5);
        m.parse_errors("logs", 2);
        m.finding("Recon:IAMUser/MaliciousIPCaller", "High", true);
        m.reload(true, 0.1, "abc", 53);
        m.reload(false, 0.2, "abc", 53);
        m.state(10, 2048, 3, 0);
        let text = m.render();
        assert_eq!(
            value(
                &text,
                "picket_events_total{input=\"logs\",source=\"cloudtrail\"}"
            ),
            Some(50.0)
        );
        assert_eq!(
            value(&text, "picket_input_errors_total{input=\"logs\"}"),
            Some(2.0)
        );
        assert_eq!(
            value(&text, "picket_findings_total{type=\"Recon:IAMUser/MaliciousIPCaller\",severity=\"high\",kind=\"new\"}"),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "picket_reloads_total{result=\"failure\"}"),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "picket_reloads_total{result=\"success\"}"),
            Some(1.0)
        );
        assert_eq!(value(&text, "picket_pack_info{version=\"abc\"}"), Some(1.0));
        assert_eq!(value(&text, "picket_state_keys"), Some(10.0));
        assert_eq!(value(&text, "picket_late_events_total"), Some(3.0));
        assert!(text.contains("# HELP picket_events Events read"));
        assert!(text.contains("# TYPE picket_batch_eval_seconds histogram"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn totals_only_move_counters_up_and_the_version_label_follows_the_pack() {
        let m = Metrics::new();
        m.sink("hook", 10, 8, 3, 2, 1);
        m.sink("hook", 12, 10, 3, 2, 0);
        // The route restarted: its totals start again.
        m.sink("hook", 4, 4, 0, 0, 0);
        m.state(0, 0, 5, 1);
        m.state(0, 0, 7, 1);
        m.reload(true, 0.1, "v1", 2);
        m.reload(true, 0.1, "v2", 3);
        let text = m.render();
        assert_eq!(
            value(&text, "picket_route_matched_total{route=\"hook\"}"),
            Some(16.0)
        );
        assert_eq!(
            value(&text, "picket_route_delivered_total{route=\"hook\"}"),
            Some(14.0)
        );
        assert_eq!(
            value(&text, "picket_route_failures_total{route=\"hook\"}"),
            Some(2.0)
        );
        assert_eq!(
            value(&text, "picket_route_queue{route=\"hook\"}"),
            Some(0.0)
        );
        assert_eq!(value(&text, "picket_late_events_total"), Some(7.0));
        assert_eq!(value(&text, "picket_state_evicted_keys_total"), Some(1.0));
        assert_eq!(value(&text, "picket_pack_info{version=\"v2\"}"), Some(1.0));
        assert!(!text.contains("version=\"v1\""), "the old version is gone");
        assert_eq!(value(&text, "picket_pack_rules"), Some(3.0));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.events_in("in\"put\\x\n", "dns", 1);
        let text = m.render();
        assert!(
            text.contains(r#"input="in\"put\\x\n""#),
            "escaped label:\n{text}"
        );
    }
}
