//! The HTTP ingest endpoint, for log shippers (Fluent Bit's `http` output, Vector's
//! `http` sink and the like).
//!
//! `POST /ingest` (or `POST /`) with a body of JSON lines, a CloudTrail `Records`
//! document, flow-log text, or any of them gzipped (by `Content-Encoding: gzip` or by
//! the bytes themselves). The request is answered once its events are matched and
//! their findings stored, so a shipper that gets `200` can forget the data: `200` with
//! `{"accepted": events, "errors": [...], "findings": n}`; `400` when nothing in the
//! body could be read; `401` without the configured bearer token; `413` over the size
//! limit; `503` while shutting down. A shipper that gets no `200` sends again.

use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{read_bytes, Batch, Context, InputCounters};
use crate::event::Source;

/// How the endpoint runs.
pub struct Settings {
    /// The input's index.
    pub index: usize,
    /// Required bearer token.
    pub token: Option<String>,
    /// Largest body.
    pub max_body_bytes: usize,
    /// Read every record as this source.
    pub source: Option<Source>,
}

/// Threads reading requests. Each waits, once its batch is queued, until the batch is
/// committed; with fewer threads than the shipper's connections, a request would wait
/// unread (its sender blocked on a full socket) while the others' batches commit. 16
/// idle threads cost little; under `serve_load`, 4 gave a p99 of 31-93 ms, 16 gave
/// 16-55 ms and a fifth less CPU per event (larger groups per commit).
pub const HANDLERS: usize = 16;

/// Longest a request waits for its batch to be committed.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves requests until the server is unblocked at shutdown.
pub fn serve(
    server: &tiny_http::Server,
    settings: &Settings,
    ctx: &Context,
    counters: &InputCounters,
) {
    for mut request in server.incoming_requests() {
        let (status, body) = handle(&mut request, settings, ctx, counters);
        let mut response =
            tiny_http::Response::from_string(body.to_string()).with_status_code(status);
        for (name, value) in [
            ("Content-Type", "application/json"),
            ("WWW-Authenticate", "Bearer"),
        ] {
            if name == "WWW-Authenticate" && status != 401 {
                continue;
            }
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        if let Err(e) = request.respond(response) {
            tracing::debug!(error = %e, "ingest: the client went away before the answer");
        }
        if ctx.stop.load(Ordering::Relaxed) {
            break;
        }
    }
}

/// Wakes every handler thread blocked on the server (at shutdown).
pub fn unblock(server: &tiny_http::Server) {
    for _ in 0..HANDLERS {
        server.unblock();
    }
}

fn header(request: &tiny_http::Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

fn handle(
    request: &mut tiny_http::Request,
    settings: &Settings,
    ctx: &Context,
    counters: &InputCounters,
) -> (u16, serde_json::Value) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    if path != "/ingest" && path != "/" {
        return (404, json!({"error": "not found; POST events to /ingest"}));
    }
    if *request.method() != tiny_http::Method::Post {
        return (405, json!({"error": "POST events to /ingest"}));
    }
    if let Some(token) = &settings.token {
        if !token_ok(token, header(request, "Authorization").as_deref()) {
            return (401, json!({"error": "missing or wrong bearer token"}));
        }
    }
    if ctx.stop.load(Ordering::Relaxed) {
        return (503, json!({"error": "shutting down"}));
    }
    if request
        .body_length()
        .is_some_and(|n| n > settings.max_body_bytes)
    {
        return (
            413,
            json!({"error": format!("the body is over {} bytes", settings.max_body_bytes)}),
        );
    }
    let data = match read_limited(request.as_reader(), settings.max_body_bytes) {
        Ok(Some(data)) => data,
        Ok(None) => {
            return (
                413,
                json!({"error": format!("the body is over {} bytes", settings.max_body_bytes)}),
            )
        }
        Err(e) => return (400, json!({"error": format!("cannot read the body: {e}")})),
    };
    ingest(&data, settings, ctx, counters)
}

/// Checks the bearer token, in time independent of where the texts differ.
pub(crate) fn token_ok(expected: &str, header: Option<&str>) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), given.trim().as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads a request body up to `limit` bytes; `None` when it is longer.
fn read_limited(body: &mut dyn Read, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    body.take(limit as u64 + 1).read_to_end(&mut data)?;
    Ok((data.len() <= limit).then_some(data))
}

/// Turns a body into a batch, sends it and waits for its commit.
fn ingest(
    data: &[u8],
    settings: &Settings,
    ctx: &Context,
    counters: &InputCounters,
) -> (u16, serde_json::Value) {
    let arrived = Instant::now();
    let (events, errors, stats) =
        read_bytes("http", data, 1, settings.source, ctx.max_record_bytes);
    counters.add(data.len(), events.len(), errors.len());
    let shown: Vec<String> = errors.iter().take(20).map(|e| e.to_string()).collect();
    if events.is_empty() {
        let status = if errors.is_empty() { 200 } else { 400 };
        return (
            status,
            json!({"accepted": 0, "errors": shown, "findings": 0}),
        );
    }
    let accepted = events.len();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let batch = Batch {
        input: settings.index,
        events,
        errors,
        by_source: stats.events.iter().map(|(s, n)| (*s, *n)).collect(),
        positions: Vec::new(),
        arrived,
        done: Some(done_tx),
    };
    if !ctx.send(batch) {
        return (503, json!({"error": "shutting down"}));
    }
    match done_rx.recv_timeout(COMMIT_TIMEOUT) {
        Ok(Ok(committed)) => (
            200,
            json!({"accepted": accepted, "errors": shown, "findings": committed.findings}),
        ),
        Ok(Err(e)) => (503, json!({"error": e})),
        Err(_) => (
            503,
            json!({"error": "the events were not committed in time; send them again"}),
        ),
    }
}
