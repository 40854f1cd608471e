//! `picket serve`, run as the real binary: log files written into a watched folder
//! become findings in the store; a rule added mid-stream is picked up, a broken one is
//! rejected while the running pack keeps matching; `kill -9` and a restart neither lose
//! nor duplicate an event; the HTTP ingest endpoint answers once events are stored;
//! metrics and status say what happened.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_picket");

/// A free TCP port on the loopback interface.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A rule on one eventName, with a hit and a miss fixture beside it.
fn write_rule(pack: &Path, name: &str, event_name: &str) {
    let dir = pack.join("account");
    std::fs::create_dir_all(dir.join(name)).expect("mkdir");
    let rule = format!(
        "id: account.{name}\ntype: Discovery:IAMUser/AnomalousBehavior\ntitle: {event_name} was called\n\
         severity: medium\nsource: cloudtrail\ncategory: account\ndescription: Test rule.\n\
         when: api.operation == \"{event_name}\"\ngroup_by: [actor.arn]\n"
    );
    std::fs::write(dir.join(format!("{name}.yaml")), rule).expect("write rule");
    std::fs::write(
        dir.join(name).join("hit-1.json"),
        event(event_name, "fixture", 0).to_string(),
    )
    .expect("write fixture");
    std::fs::write(
        dir.join(name).join("miss-1.json"),
        event("SomethingElse", "fixture", 0).to_string(),
    )
    .expect("write fixture");
}

/// A CloudTrail management event.
fn event(event_name: &str, user: &str, n: u64) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEEXAMPLE01",
            "arn": format!("arn:aws:iam::111122223333:user/{user}"),
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLEEXAMPLE01",
            "userName": user
        },
        "eventTime": format!("2026-11-20T10:{:02}:{:02}Z", (n / 60) % 60, n % 60),
        "eventSource": "iam.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{n}"),
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    })
}

fn lines(events: impl IntoIterator<Item = Value>) -> String {
    events.into_iter().map(|e| format!("{e}\n")).collect()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log file");
    f.write_all(text.as_bytes()).expect("append");
    f.sync_all().expect("sync");
}

/// A running `picket serve`, killed if a test fails before stopping it.
struct Serving(Option<Child>);

impl Serving {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("running")
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A folder with a config, a rule pack and a watched log folder.
struct Setup {
    dir: tempfile::TempDir,
    admin: u16,
    ingest: u16,
}

impl Setup {
    fn new(extra: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("logs")).expect("mkdir");
        write_rule(&dir.path().join("rules"), "marker-one", "MarkerOne");
        let admin = free_port();
        let ingest = free_port();
        let config = format!(
            r#"
[rules]
paths = ["rules"]
builtin = false
reload_quiet = "50ms"

[store]
path = "findings.db"

[state]
dir = "state"

[[input]]
type = "directory"
path = "logs"
poll = "100ms"
settle = "300ms"

[pipeline]
batch_wait = "10ms"

[admin]
listen = "127.0.0.1:{admin}"
{extra}
"#
        );
        let config = config.replace("INGEST_PORT", &ingest.to_string());
        std::fs::write(dir.path().join("picket.toml"), config).expect("write config");
        Setup { dir, admin, ingest }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn start(&self) -> Serving {
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(self.path("picket.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("serve.log")).expect("log file"))
            .spawn()
            .expect("start picket serve");
        let serving = Serving(Some(child));
        self.wait("the service to be ready", Duration::from_secs(60), || {
            self.get("/ready").is_some_and(|(code, _)| code == 200)
        });
        serving
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut response = agent
            .get(format!("http://127.0.0.1:{}{path}", self.admin))
            .call()
            .ok()?;
        let code = response.status().as_u16();
        let body = response.body_mut().read_to_string().ok()?;
        Some((code, body))
    }

    fn status(&self) -> Value {
        let (_, body) = self.get("/admin/status").expect("status");
        serde_json::from_str(&body).expect("status JSON")
    }

    fn wait(&self, what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > limit {
                let log = std::fs::read_to_string(self.path("serve.log")).unwrap_or_default();
                panic!("timed out waiting for {what}; serve log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The findings in the store, through `picket findings list`.
    fn findings(&self) -> Vec<Value> {
        let out = Command::new(BIN)
            .args([
                "findings", "list", "--all", "--limit", "100000", "--format", "json",
            ])
            .arg("--db")
            .arg(self.path("findings.db"))
            .output()
            .expect("picket findings list");
        assert!(
            out.status.success(),
            "picket findings list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("a JSON array of findings")
    }

    /// Events counted into findings of `rule`.
    fn events_of(&self, rule: &str) -> u64 {
        self.findings()
            .iter()
            .filter(|f| f["rule"]["id"] == rule)
            .map(|f| f["service"]["count"].as_u64().unwrap_or(0))
            .sum()
    }
}

fn stop(mut serving: Serving) -> std::process::ExitStatus {
    let mut child = serving.0.take().expect("running");
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "picket serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn files_become_findings_and_rules_reload_while_running() {
    let s = Setup::new(
        "\n[[route]]\nname = \"two\"\npattern = { detail = { rule = { id = [\"account.marker-two\"] } } }\naction = { type = \"file\", path = \"routed.jsonl\" }\n",
    );
    let child = s.start();
    let log = s.path("logs/trail.jsonl");
    append(
        &log,
        &lines((0..30).map(|n| event("MarkerOne", &format!("user{}", n % 3), n))),
    );
    s.wait("30 events of marker-one", Duration::from_secs(30), || {
        s.events_of("account.marker-one") == 30
    });
    let findings = s.findings();
    assert_eq!(findings.len(), 3, "one finding per user");
    assert!(findings.iter().all(|f| f["service"]["count"] == 10));

    // A new rule mid-stream.
    write_rule(&s.path("rules"), "marker-two", "MarkerTwo");
    s.wait("the pack with two rules", Duration::from_secs(30), || {
        s.status()["pack"]["rules"] == 2
    });
    append(
        &log,
        &lines((30..40).map(|n| event("MarkerTwo", "user9", n))),
    );
    s.wait("marker-two findings", Duration::from_secs(30), || {
        s.events_of("account.marker-two") == 10
    });

    // A broken rule: rejected with its position, the running pack stays.
    std::fs::write(
        s.path("rules/account/broken.yaml"),
        "id: account.broken\ntype: Discovery:IAMUser/AnomalousBehavior\ntitle: t\nseverity: low\n\
         source: cloudtrail\ncategory: account\ndescription: d\nwhen: api.operation ==\n",
    )
    .expect("write broken rule");
    s.wait("the reload to be rejected", Duration::from_secs(30), || {
        s.status()["lastReload"]["ok"] == false
    });
    let status = s.status();
    let error = status["lastReload"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("broken.yaml:8:"),
        "the error names the file and line: {error}"
    );
    assert_eq!(status["pack"]["rules"], 2);
    append(
        &log,
        &lines((40..45).map(|n| event("MarkerTwo", "user9", n))),
    );
    s.wait("more marker-two events", Duration::from_secs(30), || {
        s.events_of("account.marker-two") == 15
    });

    // The route saw the marker-two findings, as EventBridge-shaped events.
    let routed = std::fs::read_to_string(s.path("routed.jsonl")).expect("the routed file");
    let routed: Vec<Value> = routed
        .lines()
        .map(|l| serde_json::from_str(l).expect("one event per line"))
        .collect();
    assert!(!routed.is_empty());
    assert!(routed
        .iter()
        .all(|e| e["detail-type"] == "GuardDuty Finding"
            && e["detail"]["rule"]["id"] == "account.marker-two"));
    assert_eq!(routed[0]["picket"]["new"], true);

    let (code, metrics) = s.get("/metrics").expect("metrics");
    assert_eq!(code, 200);
    assert!(
        metrics.lines().any(
            |l| l.starts_with("picket_reloads_total{result=\"failure\"}") && !l.ends_with(" 0")
        ),
        "a failed reload is counted:\n{metrics}"
    );
    let events_line = metrics
        .lines()
        .find(|l| l.starts_with("picket_events_total{") && l.contains("source=\"cloudtrail\""))
        .expect("events counter");
    assert!(events_line.ends_with(" 45"), "{events_line}");

    let status = stop(child);
    assert!(status.success(), "exit status {status}");
    assert!(
        s.path("state/state.json").exists(),
        "state saved at shutdown"
    );
}

#[test]
fn kill_9_and_restart_lose_and_duplicate_nothing() {
    let s = Setup::new("");
    let per_piece: u64 = 200;
    let total: u64 = per_piece * 18;
    let mut child = s.start();
    let mut written = 0u64;
    // Several files, written in pieces while the service runs; it is killed midway.
    for round in 0..6 {
        for file in 0..3 {
            let start = written;
            let n = per_piece;
            append(
                &s.path(&format!("logs/part-{file}.jsonl")),
                &lines((start..start + n).map(|i| event("MarkerOne", &format!("u{}", i % 50), i))),
            );
            written += n;
        }
        // Killed once right after a write (mid-read) and once a moment later.
        if round == 1 || round == 3 {
            std::thread::sleep(Duration::from_millis(if round == 1 { 5 } else { 120 }));
            child.child().kill().expect("kill -9");
            child.child().wait().expect("reap");
            child = s.start();
        }
    }
    assert_eq!(written, total);
    s.wait("every event counted", Duration::from_secs(60), || {
        s.events_of("account.marker-one") >= total
    });
    // Settle, then check nothing more is counted (no duplicates arrive late).
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(s.events_of("account.marker-one"), total);
    assert_eq!(s.findings().len(), 50);

    // Status shows each file's committed position, carried over the restarts: at its end.
    let status = s.status();
    let input = &status["inputs"][0];
    assert_eq!(input["files"], 3, "{input}");
    let mut positions: Vec<(String, u64, u64)> = input["positions"]
        .as_array()
        .expect("positions")
        .iter()
        .map(|p| {
            let offset = p["offset"].as_u64().expect("offset");
            let line = p["line"].as_u64().expect("line");
            (p["file"].as_str().expect("file").to_string(), offset, line)
        })
        .collect();
    positions.sort();
    for (k, (file, offset, line)) in positions.iter().enumerate() {
        let name = format!("part-{k}.jsonl");
        assert!(file.ends_with(&name), "{file}");
        let size = std::fs::metadata(s.path(&format!("logs/{name}")))
            .expect("size")
            .len();
        assert_eq!((*offset, *line), (size, per_piece * 6), "{file}");
    }
    assert!(stop(child).success());
}

#[test]
fn the_ingest_endpoint_answers_once_events_are_stored() {
    let s = Setup::new(
        "\n[[input]]\ntype = \"http\"\nname = \"shipper\"\nlisten = \"127.0.0.1:INGEST_PORT\"\ntoken = \"s3cret\"\n",
    );
    let child = s.start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://127.0.0.1:{}/ingest", s.ingest);
    let body = lines((0..5).map(|n| event("MarkerOne", "shipper-user", n)));
    let denied = agent
        .post(&url)
        .send(body.as_bytes())
        .expect("post without token");
    assert_eq!(denied.status().as_u16(), 401);
    let mut ok = agent
        .post(&url)
        .header("Authorization", "Bearer s3cret")
        .send(body.as_bytes())
        .expect("post");
    assert_eq!(ok.status().as_u16(), 200);
    let answer: Value =
        serde_json::from_str(&ok.body_mut().read_to_string().expect("body")).expect("JSON");
    assert_eq!(answer["accepted"], 5);
    // Answered after the commit: the findings are already in the store.
    assert_eq!(s.events_of("account.marker-one"), 5);
    // A CloudTrail Records document, gzipped.
    let doc = json!({"Records": (5..8).map(|n| event("MarkerOne", "shipper-user", n)).collect::<Vec<_>>()});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(doc.to_string().as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let ok = agent
        .post(&url)
        .header("Authorization", "Bearer s3cret")
        .send(&gz[..])
        .expect("post gzip");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(s.events_of("account.marker-one"), 8);
    let bad = agent
        .post(&url)
        .header("Authorization", "Bearer s3cret")
        .send(&b"{not json\n"[..])
        .expect("post garbage");
    assert_eq!(bad.status().as_u16(), 400);
    assert!(stop(child).success());
}

#[test]
fn standard_input_is_read_to_its_end_then_the_service_stops() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_rule(&dir.path().join("rules"), "marker-one", "MarkerOne");
    std::fs::write(
        dir.path().join("picket.toml"),
        format!(
            "[rules]\npaths = [\"rules\"]\nbuiltin = false\nwatch = false\n\n[store]\npath = \"f.db\"\n\n[[input]]\ntype = \"stdin\"\n\n[admin]\nlisten = \"127.0.0.1:{}\"\n",
            free_port()
        ),
    )
    .expect("config");
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(dir.path().join("picket.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(lines((0..100).map(|n| event("MarkerOne", "piped", n))).as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = Command::new(BIN)
        .args(["findings", "list", "--format", "json", "--db"])
        .arg(dir.path().join("f.db"))
        .output()
        .expect("list");
    let findings: Vec<Value> = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["service"]["count"], 100);
}

#[test]
fn a_broken_config_does_not_start_and_says_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("picket.toml"),
        "[[input]]\ntype = \"directory\"\npath = \"missing\"\n",
    )
    .expect("config");
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(dir.path().join("picket.toml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("picket.toml:3:8"), "{err}");
    assert!(err.contains("is not a folder"), "{err}");
}

/// Serving the sample day from a watched folder stores the findings `picket scan` prints
/// for it, with the same ids and counts.
#[test]
fn serving_the_samples_stores_what_a_scan_finds() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let samples = repo.join("docs").join("samples");
    let threats = repo.join("docs").join("examples").join("threat-list.txt");
    let mut out = Vec::new();
    let code = picket::cli::run(
        [
            "picket",
            "scan",
            &samples.display().to_string(),
            "--threat-list",
            &threats.display().to_string(),
            "--format",
            "jsonl",
            "--threads",
            "1",
        ]
        .iter()
        .map(Into::into)
        .collect(),
        &mut out,
    )
    .expect("scan");
    assert_eq!(code, 0);
    let mut scanned: Vec<(String, u64)> = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a finding"))
        .map(|f| {
            (
                f["id"].as_str().unwrap_or("").to_string(),
                f["service"]["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    scanned.sort();

    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    for entry in walk(&samples) {
        let rel = entry.strip_prefix(&samples).expect("inside");
        let to = logs.join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &to).expect("copy");
    }
    let admin = free_port();
    std::fs::write(
        dir.path().join("picket.toml"),
        format!(
            "[rules]\nthreat_lists = [\"{}\"]\nwatch = false\n\n[store]\npath = \"f.db\"\n\n\
             [[input]]\ntype = \"directory\"\npath = \"logs\"\npoll = \"100ms\"\nsettle = \"100ms\"\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n",
            threats.display()
        ),
    )
    .expect("config");
    let s = Setup {
        dir,
        admin,
        ingest: 0,
    };
    let child = s.start();
    let events: u64 = walk(&samples)
        .iter()
        .map(|f| {
            let (events, _, _) = picket::event::read_all(f, &picket::event::ReadOptions::default());
            events.len() as u64
        })
        .sum();
    s.wait("every sample event", Duration::from_secs(120), || {
        s.status()["pipeline"]["events"].as_u64() == Some(events)
    });
    let listed = Command::new(BIN)
        .args([
            "findings", "list", "--all", "--limit", "100000", "--format", "json", "--db",
        ])
        .arg(s.path("f.db"))
        .output()
        .expect("list");
    let mut served: Vec<(String, u64)> = serde_json::from_slice::<Vec<Value>>(&listed.stdout)
        .expect("JSON")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or("").to_string(),
                f["service"]["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    served.sort();
    assert_eq!(served, scanned);
    assert!(stop(child).success());
}

/// The sample files (not the generator and README).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path.extension().is_some_and(|e| e == "md" || e == "py") {
            out.push(path);
        }
    }
    out
}
