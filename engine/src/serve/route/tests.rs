//! Routes deliver what their patterns match, retry what fails for now, and write what
//! fails for good to the dead-letter file: at the end, matched = delivered + failed.

use super::*;
use std::sync::atomic::AtomicUsize;

fn finding(ty: &str, severity: f64) -> Value {
    json!({
        "id": format!("id-{ty}"), "type": ty, "severity": severity,
        "accountId": "111122223333", "region": "eu-west-1",
        "updatedAt": "2026-11-20T10:00:00.000Z",
        "service": {"count": 1, "archived": false}
    })
}

fn quick() -> RetryConfig {
    RetryConfig {
        attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

fn route(name: &str, pattern: Value, action: ActionConfig) -> RouteConfig {
    RouteConfig {
        name: name.into(),
        pattern,
        action,
        retry: quick(),
    }
}

fn dead_letters(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON dead letter"))
        .collect()
}

/// A webhook receiver answering with `codes` in turn (then 200), keeping the bodies.
fn receiver(codes: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("listen");
    let url = format!(
        "http://{}/hook",
        server.server_addr().to_ip().expect("an IP address")
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (b, c) = (Arc::clone(&bodies), Arc::clone(&calls));
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let n = c.fetch_add(1, Ordering::Relaxed);
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            b.lock().expect("lock").push(body);
            let code = codes.get(n).copied().unwrap_or(200);
            let _ = request.respond(tiny_http::Response::empty(code));
        }
    });
    (url, bodies, calls)
}

fn webhook(url: &str) -> ActionConfig {
    ActionConfig::Webhook {
        url: url.into(),
        headers: [("X-Test".to_string(), "yes".to_string())].into(),
        timeout: Duration::from_secs(2),
    }
}

#[test]
fn a_webhook_gets_the_envelope_and_retries_server_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, bodies, calls) = receiver(vec![500, 503]);
    let router = Router::new(
        vec![route(
            "hook",
            json!({"detail": {"severity": [{"numeric": [">=", 7]}]}}),
            webhook(&url),
        )],
        dir.path().join("dead.jsonl"),
    )
    .expect("router");
    router.route(&finding("Recon:IAMUser/TorIPCaller", 5.0), true);
    router.route(&finding("UnauthorizedAccess:EC2/TorClient", 8.0), true);
    assert!(router.flush(Duration::from_secs(10)));
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "two failures, then success"
    );
    let body: Value = serde_json::from_str(&bodies.lock().expect("lock")[2]).expect("JSON body");
    assert_eq!(body["detail-type"], "GuardDuty Finding");
    assert_eq!(body["source"], "picket");
    assert_eq!(body["account"], "111122223333");
    assert_eq!(body["detail"]["type"], "UnauthorizedAccess:EC2/TorClient");
    let first: Value = serde_json::from_str(&bodies.lock().expect("lock")[0]).expect("JSON");
    assert_eq!(first["id"], body["id"], "a retry carries the same event id");
    let s = &router.stats()[0];
    assert_eq!(
        (s.matched, s.delivered, s.retries, s.failed, s.queued),
        (1, 1, 2, 0, 0)
    );
    assert!(dead_letters(&dir.path().join("dead.jsonl")).is_empty());
}

#[test]
fn client_errors_and_unreachable_hosts_end_in_the_dead_letter_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dead = dir.path().join("dead.jsonl");
    let (url, _, calls) = receiver(vec![400]);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        format!("http://127.0.0.1:{port}/")
    };
    let router = Router::new(
        vec![
            route("bad-request", json!({"source": ["picket"]}), webhook(&url)),
            route(
                "nobody-home",
                json!({"source": ["picket"]}),
                webhook(&closed),
            ),
        ],
        dead.clone(),
    )
    .expect("router");
    router.route(&finding("Recon:IAMUser/TorIPCaller", 5.0), true);
    assert!(router.flush(Duration::from_secs(20)));
    assert_eq!(calls.load(Ordering::Relaxed), 1, "a 400 is not retried");
    let letters = dead_letters(&dead);
    assert_eq!(letters.len(), 2);
    let by = |route: &str| {
        letters
            .iter()
            .find(|l| l["route"] == route)
            .unwrap_or_else(|| panic!("a dead letter of {route}"))
            .clone()
    };
    assert_eq!(by("bad-request")["attempts"], 1);
    assert_eq!(by("bad-request")["reason"], "HTTP 400");
    assert_eq!(by("nobody-home")["attempts"], 3);
    assert_eq!(
        by("nobody-home")["event"]["detail"]["type"],
        "Recon:IAMUser/TorIPCaller"
    );
    for s in router.stats() {
        assert_eq!(s.matched, s.delivered + s.failed, "{s:?}");
    }
}

#[test]
fn a_file_route_appends_and_rotates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("out").join("findings.jsonl");
    let router = Router::new(
        vec![route(
            "file",
            json!({"detail": {"type": [{"prefix": "Recon:"}]}}),
            ActionConfig::File {
                path: path.clone(),
                max_bytes: 800,
                keep: 2,
                envelope: false,
            },
        )],
        dir.path().join("dead.jsonl"),
    )
    .expect("router");
    for i in 0..12 {
        router.route(&finding(&format!("Recon:IAMUser/T{i}"), 2.0), true);
        router.route(&finding("Policy:S3/Other", 2.0), true);
    }
    assert!(router.flush(Duration::from_secs(5)));
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let current = read(&path);
    let one = read(&dir.path().join("out").join("findings.jsonl.1"));
    let two = read(&dir.path().join("out").join("findings.jsonl.2"));
    assert!(
        !dir.path().join("out").join("findings.jsonl.3").exists(),
        "keeps 2"
    );
    for text in [&current, &one, &two] {
        assert!(
            !text.is_empty() && text.len() <= 800,
            "{} bytes",
            text.len()
        );
        for line in text.lines() {
            let f: Value = serde_json::from_str(line).expect("a bare finding per line");
            assert!(f["type"].as_str().unwrap_or("").starts_with("Recon:"));
        }
    }
    assert!(current.contains("T11"), "the newest in the current file");
    assert_eq!(router.stats()[0].delivered, 12);
}

#[test]
fn a_command_reads_the_event_and_failures_retry_then_dead_letter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("got.json");
    let dead = dir.path().join("dead.jsonl");
    let router = Router::new(
        vec![
            route(
                "respond",
                json!({"source": ["picket"]}),
                ActionConfig::Command {
                    program: "sh".into(),
                    args: vec!["-c".into(), format!("cat > '{}'", out.display())],
                    timeout: Duration::from_secs(5),
                },
            ),
            route(
                "fails",
                json!({"source": ["picket"]}),
                ActionConfig::Command {
                    program: "sh".into(),
                    args: vec!["-c".into(), "echo broken >&2; exit 3".into()],
                    timeout: Duration::from_secs(5),
                },
            ),
            route(
                "hangs",
                json!({"source": ["picket"]}),
                ActionConfig::Command {
                    program: "sleep".into(),
                    args: vec!["10".into()],
                    timeout: Duration::from_millis(100),
                },
            ),
        ],
        dead.clone(),
    )
    .expect("router");
    router.route(&finding("Recon:IAMUser/TorIPCaller", 5.0), false);
    assert!(router.flush(Duration::from_secs(15)));
    let got: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the command wrote"))
            .expect("JSON");
    assert_eq!(got["detail"]["type"], "Recon:IAMUser/TorIPCaller");
    assert_eq!(got["picket"]["new"], false);
    let letters = dead_letters(&dead);
    assert_eq!(letters.len(), 2);
    let fails = letters
        .iter()
        .find(|l| l["route"] == "fails")
        .expect("fails");
    assert!(
        fails["reason"].as_str().unwrap_or("").contains("broken"),
        "{fails}"
    );
    assert_eq!(fails["attempts"], 3);
    let hangs = letters
        .iter()
        .find(|l| l["route"] == "hangs")
        .expect("hangs");
    assert!(
        hangs["reason"].as_str().unwrap_or("").contains("killed"),
        "{hangs}"
    );
}

#[test]
fn shutdown_writes_what_is_still_queued_to_the_dead_letter_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dead = dir.path().join("dead.jsonl");
    let router = Router::new(
        vec![RouteConfig {
            retry: RetryConfig {
                attempts: 100,
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(50),
            },
            ..route(
                "slow",
                json!({"source": ["picket"]}),
                ActionConfig::Command {
                    program: "false".into(),
                    args: vec![],
                    timeout: Duration::from_secs(1),
                },
            )
        }],
        dead.clone(),
    )
    .expect("router");
    for i in 0..5 {
        router.route(&finding(&format!("T{i}"), 1.0), true);
    }
    router.shutdown(Duration::from_millis(100));
    let letters = dead_letters(&dead);
    assert_eq!(letters.len(), 5, "nothing dropped silently");
    assert!(letters
        .iter()
        .all(|l| l["reason"].as_str().unwrap_or("").contains("shutdown")));
    let s = &router.stats()[0];
    assert_eq!(s.matched, s.delivered + s.failed);
    assert_eq!(s.queued, 0);
}

#[test]
fn routes_are_checked_before_starting() {
    let bad = vec![
        route(
            "a",
            json!({"detail": {"severity": 7}}),
            webhook("http://x/"),
        ),
        route("a", json!({}), webhook("ftp://x/")),
    ];
    let problems: Vec<String> = check_routes(&bad)
        .into_iter()
        .map(|(i, e)| format!("{i}: {e}"))
        .collect();
    insta::assert_snapshot!(problems.join("\n"));
    assert!(Router::new(bad, "dead".into()).is_err());
}
