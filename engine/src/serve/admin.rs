//! The admin HTTP server of `picket serve`:
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /health` | `200 ok` while the process runs (no token needed) |
//! | `GET /ready` | `200` while the service takes events, `503` while it stops (no token) |
//! | `GET /metrics` | Prometheus metrics, OpenMetrics text |
//! | `GET /admin/status` | JSON: the pack in service, the last reload, inputs, pipeline |
//! | `POST /admin/reload` | reloads the packs; `200` with the new version, `409` with the errors that kept the old pack |
//!
//! It binds 127.0.0.1 by default. With a `token`, `/metrics` and `/admin/*` need
//! `Authorization: Bearer TOKEN`; binding an address reachable from other hosts without
//! a token is refused.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

/// `[admin]` of the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address and port.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer token for `/metrics` and `/admin/*`.
    #[serde(default)]
    pub token: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:9464".into()
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: default_listen(),
            token: None,
        }
    }
}

/// What the admin server asks of the service.
pub trait AdminHandler: Send + Sync {
    /// `/admin/status`.
    fn status(&self) -> Value;
    /// `/ready`.
    fn ready(&self) -> bool;
    /// `POST /admin/reload`: the new pack, or why the old one stays.
    fn reload(&self) -> Result<Value, String>;
    /// `/metrics`.
    fn metrics(&self) -> String;
}

/// The addresses `listen` names.
fn addresses(listen: &str) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| format!("`{listen}` is not an address and port, like `127.0.0.1:9464`: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("`{listen}` names no address"));
    }
    Ok(addrs)
}

/// Checks `[admin]` before starting.
pub fn check_config(config: &AdminConfig) -> Result<(), String> {
    let addrs = addresses(&config.listen)?;
    let open = addrs.iter().any(|a| !is_loopback(a.ip()));
    if open && config.token.is_none() {
        return Err(format!(
            "the admin server would listen on {}, reachable from other hosts, without a token: set `token` under [admin], or listen on 127.0.0.1",
            config.listen
        ));
    }
    Ok(())
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    }
}

/// A running admin server.
pub struct AdminServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AdminServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops it and waits for its thread.
    pub fn shutdown(mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the server on its own thread.
pub fn start(config: &AdminConfig, handler: Arc<dyn AdminHandler>) -> Result<AdminServer, String> {
    check_config(config)?;
    let addrs = addresses(&config.listen)?;
    let server = tiny_http::Server::http(&addrs[..])
        .map_err(|e| format!("the admin server cannot listen on {}: {e}", config.listen))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| "the admin server has no IP address".to_string())?;
    let server = Arc::new(server);
    let token = config.token.clone();
    let serving = Arc::clone(&server);
    let thread = std::thread::Builder::new()
        .name("admin".into())
        .spawn(move || {
            for request in serving.incoming_requests() {
                let response = respond(&request, token.as_deref(), handler.as_ref());
                if let Err(e) = request.respond(response) {
                    tracing::debug!(error = %e, "admin: the client went away");
                }
            }
        })
        .map_err(|e| format!("cannot start the admin server: {e}"))?;
    Ok(AdminServer {
        server,
        addr,
        thread: Some(thread),
    })
}

type Response = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn reply(status: u16, content_type: &str, body: String) -> Response {
    let mut r = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes()) {
        r.add_header(h);
    }
    r
}

fn reply_json(status: u16, body: &Value) -> Response {
    reply(status, "application/json", body.to_string())
}

fn with_header(mut r: Response, name: &str, value: &str) -> Response {
    if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
        r.add_header(h);
    }
    r
}

fn respond(
    request: &tiny_http::Request,
    token: Option<&str>,
    handler: &dyn AdminHandler,
) -> Response {
    use tiny_http::Method;
    let path = request.url().split('?').next().unwrap_or("");
    let method = request.method();
    let allowed = match path {
        "/health" | "/ready" | "/metrics" | "/admin/status" => "GET",
        "/admin/reload" => "POST",
        _ => return reply_json(404, &json!({"error": "not found"})),
    };
    let method_ok = match allowed {
        "GET" => *method == Method::Get || *method == Method::Head,
        _ => *method == Method::Post,
    };
    if !method_ok {
        return with_header(
            reply_json(405, &json!({"error": format!("use {allowed}")})),
            "Allow",
            allowed,
        );
    }
    let open = matches!(path, "/health" | "/ready");
    if let (Some(token), false) = (token, open) {
        let header = request
            .headers()
            .iter()
            .find(|h| {
                h.field
                    .as_str()
                    .as_str()
                    .eq_ignore_ascii_case("authorization")
            })
            .map(|h| h.value.as_str());
        if !crate::serve::input::http::token_ok(token, header) {
            return with_header(
                reply_json(401, &json!({"error": "missing or wrong bearer token"})),
                "WWW-Authenticate",
                "Bearer",
            );
        }
    }
    match path {
        "/health" => reply(200, "text/plain", "ok\n".into()),
        "/ready" => {
            if handler.ready() {
                reply(200, "text/plain", "ready\n".into())
            } else {
                reply(503, "text/plain", "stopping\n".into())
            }
        }
        "/metrics" => reply(200, crate::serve::metrics::CONTENT_TYPE, handler.metrics()),
        "/admin/status" => reply_json(200, &handler.status()),
        _ => match handler.reload() {
            Ok(v) => reply_json(200, &v),
            Err(e) => reply_json(409, &json!({"error": e})),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    struct Fake {
        ready: AtomicBool,
        reload_fails: bool,
    }

    impl AdminHandler for Fake {
        fn status(&self) -> Value {
            json!({"pack": {"rules": 3}})
        }
        fn ready(&self) -> bool {
            self.ready.load(Ordering::Relaxed)
        }
        fn reload(&self) -> Result<Value, String> {
            if self.reload_fails {
                Err("rules/a.yaml:3:7: error".into())
            } else {
                Ok(json!({"version": "v2"}))
            }
        }
        fn metrics(&self) -> String {
            "picket_up 1\n# EOF\n".into()
        }
    }

    fn serve(token: Option<&str>, reload_fails: bool) -> (AdminServer, Arc<Fake>) {
        let fake = Arc::new(Fake {
            ready: AtomicBool::new(true),
            reload_fails,
        });
        let config = AdminConfig {
            listen: "127.0.0.1:0".into(),
            token: token.map(str::to_string),
        };
        let server = start(&config, Arc::clone(&fake) as Arc<dyn AdminHandler>).expect("start");
        (server, fake)
    }

    fn call(server: &AdminServer, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("http://{}{path}", server.local_addr());
        let mut response = match (method, token) {
            ("POST", Some(t)) => agent
                .post(&url)
                .header("Authorization", &format!("Bearer {t}"))
                .send_empty(),
            ("POST", None) => agent.post(&url).send_empty(),
            (_, Some(t)) => agent
                .get(&url)
                .header("Authorization", &format!("Bearer {t}"))
                .call(),
            (_, None) => agent.get(&url).call(),
        }
        .expect("a response");
        let code = response.status().as_u16();
        (
            code,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    #[test]
    fn every_endpoint_answers() {
        let (server, fake) = serve(None, false);
        assert_eq!(call(&server, "GET", "/health", None), (200, "ok\n".into()));
        assert_eq!(call(&server, "GET", "/ready", None).0, 200);
        fake.ready.store(false, Ordering::Relaxed);
        assert_eq!(call(&server, "GET", "/ready", None).0, 503);
        assert_eq!(
            call(&server, "GET", "/metrics", None),
            (200, "picket_up 1\n# EOF\n".into())
        );
        let (code, body) = call(&server, "GET", "/admin/status", None);
        assert_eq!(code, 200);
        assert!(body.contains("\"rules\":3"));
        assert_eq!(
            call(&server, "POST", "/admin/reload", None),
            (200, "{\"version\":\"v2\"}".into())
        );
        assert_eq!(call(&server, "GET", "/admin/reload", None).0, 405);
        assert_eq!(call(&server, "POST", "/metrics", None).0, 405);
        assert_eq!(call(&server, "GET", "/nope", None).0, 404);
        server.shutdown();
    }

    #[test]
    fn a_token_guards_metrics_and_admin_but_not_health() {
        let (server, _) = serve(Some("s3cret"), true);
        assert_eq!(call(&server, "GET", "/health", None).0, 200);
        assert_eq!(call(&server, "GET", "/ready", None).0, 200);
        assert_eq!(call(&server, "GET", "/metrics", None).0, 401);
        assert_eq!(call(&server, "GET", "/metrics", Some("wrong")).0, 401);
        assert_eq!(call(&server, "GET", "/metrics", Some("s3cret")).0, 200);
        assert_eq!(call(&server, "GET", "/admin/status", None).0, 401);
        let (code, body) = call(&server, "POST", "/admin/reload", Some("s3cret"));
        assert_eq!(code, 409, "a rejected reload");
        assert!(body.contains("rules/a.yaml:3:7"));
        server.shutdown();
    }

    #[test]
    fn an_open_address_needs_a_token() {
        let open = AdminConfig {
            listen: "0.0.0.0:0".into(),
            token: None,
        };
        let e = check_config(&open).expect_err("refused");
        assert!(e.contains("reachable from other hosts"), "{e}");
        let fake: Arc<dyn AdminHandler> = Arc::new(Fake {
            ready: AtomicBool::new(true),
            reload_fails: false,
        });
        assert!(start(&open, Arc::clone(&fake)).is_err());
        let guarded = AdminConfig {
            token: Some("t".into()),
            ..open
        };
        let server = start(&guarded, fake).expect("starts with a token");
        server.shutdown();
        assert!(check_config(&AdminConfig {
            listen: "not an address".into(),
            token: None
        })
        .is_err());
    }
}
