//! Stateful rules at their edges: windows exactly at the threshold and one second
//! outside, late and out-of-order events, sequences, baselines and their learning
//! period, the memory cap; and a property test against a brute-force reference.
//!
//! Events are built by the small helpers below (a flow line or a CloudTrail record at a
//! given second), so each test reads as the series it sends.

use picket::compile::{compile, PackFiles, RulePack};
use picket::event::{read_stream, Event, ReadOptions, ReadStats};
use picket::run::{Matcher, StateConfig, StateStore};
use proptest::prelude::*;

/// 2026-11-20T10:00:00Z, in seconds.
const T0: i64 = 1_795_168_800;

/// A pack of one rule with this `when:` (and source).
fn pack(source: &str, when: &str) -> RulePack {
    let yaml = format!(
        "id: test.rule\ntype: Recon:EC2/Test\ntitle: t\nseverity: low\nsource: {source}\n\
         category: recon\ndescription: d\nwhen: |\n  {}\n",
        when.replace('\n', "\n  ")
    );
    let mut files = std::collections::BTreeMap::new();
    files.insert("recon/rule.yaml".to_owned(), yaml.into_bytes());
    let compiled = compile(&[PackFiles {
        root: "test".to_owned(),
        files,
    }]);
    let errors: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.is_error())
        .map(|d| d.render(false))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    compiled.pack
}

fn parse(text: &str) -> Vec<Event> {
    parse_in("t", text)
}

/// Events read from an input named `name`.
fn parse_in(name: &str, text: &str) -> Vec<Event> {
    let mut events = Vec::new();
    read_stream(
        name,
        text.as_bytes(),
        &ReadOptions::default(),
        &mut ReadStats::default(),
        &mut |e| events.push(e),
        &mut |e| panic!("{e}"),
    );
    events
}

/// A TCP flow at second `t` after [`T0`] (default format).
fn flow(t: i64, src: &str, dst: &str, sport: u16, dport: u16) -> Event {
    let start = T0 + t;
    let line = format!(
        "2 111122223333 eni-0a 10.0.0.1 10.0.0.2 1 2 6 1 40 {start} {} REJECT OK",
        start + 1
    )
    .replace(
        "10.0.0.1 10.0.0.2 1 2",
        &format!("{src} {dst} {sport} {dport}"),
    );
    parse(&line).pop().expect("one flow")
}

/// A CloudTrail record at second `t` after [`T0`].
fn call(t: i64, user: &str, ip: &str, op: &str, outcome_ok: bool) -> Event {
    let time = picket::event::format_millis((T0 + t) * 1000).replace(".000Z", "Z");
    let error = if outcome_ok {
        String::new()
    } else {
        r#","errorCode":"AccessDenied","errorMessage":"denied""#.to_string()
    };
    let login = if op == "ConsoleLogin" {
        format!(
            r#","responseElements":{{"ConsoleLogin":"{}"}}"#,
            if outcome_ok { "Success" } else { "Failure" }
        )
    } else {
        String::new()
    };
    let source = if op == "ConsoleLogin" {
        "signin.amazonaws.com"
    } else {
        "iam.amazonaws.com"
    };
    let line = format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","userName":"{user}","accountId":"111122223333"}},"eventTime":"{time}","eventSource":"{source}","eventName":"{op}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"aws-cli/2.15"{error}{login},"eventID":"e-{t}-{op}","recipientAccountId":"111122223333"}}"#
    );
    parse(&line).pop().expect("one record")
}

/// Runs events through the rule and its state; returns, per event, whether it fired,
/// and the store.
fn run_with(pack: &RulePack, events: &[Event], config: StateConfig) -> (Vec<bool>, StateStore) {
    let matcher = Matcher::new(pack);
    let mut state = StateStore::new(config);
    let fired = events
        .iter()
        .map(|e| {
            let mut fired = false;
            matcher.run_with_state(e, &mut state, |_| fired = true);
            fired
        })
        .collect();
    (fired, state)
}

fn run(pack: &RulePack, events: &[Event]) -> Vec<bool> {
    run_with(pack, events, StateConfig::default()).0
}

fn fired_at(fired: &[bool]) -> Vec<usize> {
    fired
        .iter()
        .enumerate()
        .filter(|(_, f)| **f)
        .map(|(i, _)| i)
        .collect()
}

const SCAN: &str = "net.protocol == 6 | distinct(dst.port) >= 5 over 1m by src.ip, dst.ip";

#[test]
fn window_fires_exactly_at_the_threshold() {
    let p = pack("vpcflow", SCAN);
    let four: Vec<Event> = (0..4)
        .map(|i| flow(i * 10, "10.0.0.1", "10.0.0.9", 40000, 100 + i as u16))
        .collect();
    assert!(fired_at(&run(&p, &four)).is_empty());
    let mut five = four;
    five.push(flow(40, "10.0.0.1", "10.0.0.9", 40000, 104));
    assert_eq!(fired_at(&run(&p, &five)), [4]);
    // A repeated port adds nothing.
    let mut repeat: Vec<Event> = (0..4)
        .map(|i| flow(i * 10, "10.0.0.1", "10.0.0.9", 40000, 100 + i as u16))
        .collect();
    repeat.push(flow(40, "10.0.0.1", "10.0.0.9", 40000, 103));
    assert!(fired_at(&run(&p, &repeat)).is_empty());
}

#[test]
fn window_includes_both_ends_and_not_one_second_more() {
    let p = pack("vpcflow", SCAN);
    // First and fifth exactly 60 s apart: one window of 1m holds them.
    let at = |last: i64| -> Vec<Event> {
        let mut v: Vec<Event> = (0..4)
            .map(|i| flow(i, "10.0.0.1", "10.0.0.9", 40000, 100 + i as u16))
            .collect();
        v[0] = flow(0, "10.0.0.1", "10.0.0.9", 40000, 100);
        v.push(flow(last, "10.0.0.1", "10.0.0.9", 40000, 104));
        v
    };
    // Events at 0,1,2,3 and 60: the window [0, 60] holds all five.
    assert_eq!(fired_at(&run(&p, &at(60))), [4]);
    // At 61 the window [1, 61] holds four.
    assert!(fired_at(&run(&p, &at(61))).is_empty());
}

#[test]
fn keys_do_not_mix() {
    let p = pack("vpcflow", SCAN);
    let events: Vec<Event> = (0..8)
        .map(|i| {
            let dst = if i % 2 == 0 { "10.0.0.9" } else { "10.0.0.8" };
            flow(i, "10.0.0.1", dst, 40000, 100 + i as u16)
        })
        .collect();
    assert!(fired_at(&run(&p, &events)).is_empty());
}

#[test]
fn late_events_are_counted_and_left_out() {
    let p = pack("vpcflow", SCAN);
    let mut events: Vec<Event> = (0..4)
        .map(|i| flow(i, "10.0.0.1", "10.0.0.9", 40000, 100 + i as u16))
        .collect();
    // Time moves on by 20 minutes (another key), then the fifth port arrives with its
    // true time: older than 15 minutes behind the newest, so it is late.
    events.push(flow(1200, "10.0.0.7", "10.0.0.9", 40000, 1));
    events.push(flow(4, "10.0.0.1", "10.0.0.9", 40000, 104));
    let (fired, state) = run_with(&p, &events, StateConfig::default());
    assert!(fired_at(&fired).is_empty());
    assert_eq!(state.stats().late_events, 1);
    // With 30 minutes of allowed lateness it is in time, and completes the window.
    let config = StateConfig {
        allowed_lateness_ms: 30 * 60 * 1000,
        ..StateConfig::default()
    };
    let (fired, state) = run_with(&p, &events, config);
    assert_eq!(fired_at(&fired), [5]);
    assert_eq!(state.stats().late_events, 0);
}

#[test]
fn out_of_order_within_lateness_gives_the_same_findings() {
    let p = pack("vpcflow", SCAN);
    // Five ports in 40 s, delivered newest first.
    let events: Vec<Event> = (0..5)
        .rev()
        .map(|i| flow(i * 10, "10.0.0.1", "10.0.0.9", 40000, 100 + i as u16))
        .collect();
    assert_eq!(fired_at(&run(&p, &events)), [4]);
}

#[test]
fn count_and_sum_windows() {
    let p = pack("vpcflow", "dst.port == 22 | count() > 3 over 5m by src.ip");
    let events: Vec<Event> = (0..5)
        .map(|i| flow(i * 60, "203.0.113.5", "10.0.0.9", 40000 + i as u16, 22))
        .collect();
    // Four events at 0..180 s: the fourth makes count 4 > 3.
    assert_eq!(fired_at(&run(&p, &events)), [3, 4]);
    let p = pack("vpcflow", "true | sum(net.bytes) >= 120 over 1m by src.ip");
    let events: Vec<Event> = (0..3)
        .map(|i| flow(i * 30, "203.0.113.5", "10.0.0.9", 40000, 22))
        .collect();
    // 40 bytes each: 120 within [0, 60].
    assert_eq!(fired_at(&run(&p, &events)), [2]);
}

const BRUTE: &str =
    "api.operation == \"ConsoleLogin\" and outcome == \"failure\" at least 3 times\n\
                     then api.operation == \"ConsoleLogin\" and outcome == \"success\"\n\
                     within 10m by src.ip";

#[test]
fn sequence_needs_every_step_in_order_within_the_span() {
    let p = pack("cloudtrail", BRUTE);
    let login = |t: i64, ok: bool| call(t, "alice", "198.51.100.7", "ConsoleLogin", ok);
    // Three failures then a success, 10 minutes from first to last: fires on the success.
    let events = vec![
        login(0, false),
        login(60, false),
        login(120, false),
        login(600, true),
    ];
    assert_eq!(fired_at(&run(&p, &events)), [3]);
    // One second more: the first failure is out; two failures are not enough.
    let events = vec![
        login(0, false),
        login(60, false),
        login(120, false),
        login(601, true),
    ];
    assert!(fired_at(&run(&p, &events)).is_empty());
    // Two failures only.
    let events = vec![login(0, false), login(60, false), login(120, true)];
    assert!(fired_at(&run(&p, &events)).is_empty());
    // The success before the failures is no sequence.
    let events = vec![
        login(0, true),
        login(60, false),
        login(70, false),
        login(80, false),
    ];
    assert!(fired_at(&run(&p, &events)).is_empty());
    // Delivered out of order (the success first, the failures after, all in time): the
    // last failure to arrive completes it.
    let events = vec![
        login(300, true),
        login(0, false),
        login(60, false),
        login(120, false),
    ];
    assert_eq!(fired_at(&run(&p, &events)), [3]);
    // Another address's failures do not count.
    let other = call(10, "alice", "198.51.100.8", "ConsoleLogin", false);
    let events = vec![login(0, false), other, login(60, false), login(120, true)];
    assert!(fired_at(&run(&p, &events)).is_empty());
}

#[test]
fn sequence_fires_once_per_completing_event() {
    let p = pack("cloudtrail", BRUTE);
    let login = |t: i64, ok: bool| call(t, "alice", "198.51.100.7", "ConsoleLogin", ok);
    let events = vec![
        login(0, false),
        login(1, false),
        login(2, false),
        login(3, true),
        login(4, true),
    ];
    // Each success completes a sequence (the finding aggregates them); a failure after
    // them completes nothing new.
    let mut with_failure = events;
    with_failure.push(login(5, false));
    assert_eq!(fired_at(&run(&p, &with_failure)), [3, 4]);
}

const NEW_API: &str = "outcome == \"success\" | new api.operation by actor.arn after learning 1d";

#[test]
fn baseline_learns_then_fires_on_what_is_new() {
    let p = pack("cloudtrail", NEW_API);
    let day = 86_400;
    let events = vec![
        call(0, "alice", "198.51.100.7", "ListUsers", true),
        call(3600, "alice", "198.51.100.7", "GetUser", true),
        // One second before learning ends: new, but still learning.
        call(day - 1, "alice", "198.51.100.7", "ListRoles", true),
        // Learning is over: known operations pass quietly, a new one fires.
        call(day, "alice", "198.51.100.7", "ListUsers", true),
        call(day, "alice", "198.51.100.7", "CreateAccessKey", true),
        // Only the first time.
        call(day + 10, "alice", "198.51.100.7", "CreateAccessKey", true),
        // Bob's learning started when he was first seen.
        call(day + 20, "bob", "198.51.100.7", "CreateAccessKey", true),
        // A failure does not meet the condition at all.
        call(day + 30, "alice", "198.51.100.7", "DeleteUser", false),
    ];
    assert_eq!(fired_at(&run(&p, &events)), [4]);
}

#[test]
fn rare_and_novelty_baselines() {
    let p = pack(
        "cloudtrail",
        "true | rare api.operation by actor.arn seen < 2 after learning 1h",
    );
    let events = vec![
        call(0, "alice", "198.51.100.7", "ListUsers", true),
        call(3600, "alice", "198.51.100.7", "GetUser", true),
        call(3601, "alice", "198.51.100.7", "GetUser", true),
        call(3602, "alice", "198.51.100.7", "GetUser", true),
    ];
    // Seen 0 and 1 times before: both fire; then it is no longer rare.
    assert_eq!(fired_at(&run(&p, &events)), [1, 2]);
    let p = pack(
        "cloudtrail",
        "true | new api.operation by actor.arn for 10m after learning 1h",
    );
    let events = vec![
        call(0, "alice", "198.51.100.7", "ListUsers", true),
        call(3600, "alice", "198.51.100.7", "GetUser", true),
        call(4200, "alice", "198.51.100.7", "GetUser", true),
        call(4201, "alice", "198.51.100.7", "GetUser", true),
        // Seen during learning: never new.
        call(4202, "alice", "198.51.100.7", "ListUsers", true),
    ];
    // New for 10 minutes (both ends included) after it was first seen.
    assert_eq!(fired_at(&run(&p, &events)), [1, 2]);
}

#[test]
fn stages_pass_events_on_in_order() {
    // A principal new to a bucket that then reads a lot of it.
    let p = pack(
        "cloudtrail",
        "api.operation == \"GetUser\"\n| new actor.arn by src.ip for 1h after learning 1h\n| count() >= 3 over 5m by actor.arn",
    );
    let events = vec![
        call(0, "alice", "198.51.100.7", "GetUser", true),
        call(4000, "alice", "198.51.100.7", "GetUser", true),
        call(4001, "alice", "198.51.100.7", "GetUser", true),
        call(4002, "alice", "198.51.100.7", "GetUser", true),
        call(4003, "mallory", "198.51.100.7", "GetUser", true),
        call(4004, "mallory", "198.51.100.7", "GetUser", true),
        call(4005, "mallory", "198.51.100.7", "GetUser", true),
    ];
    // Alice was seen while learning: her reads never reach the window. Mallory is new.
    assert_eq!(fired_at(&run(&p, &events)), [6]);
}

#[test]
fn volume_above_the_baseline() {
    let p = pack(
        "vpcflow",
        "true | sum(net.bytes) > baseline * 10 over 1h by src.ip after learning 3h",
    );
    let series = |quiet_hours: i64| {
        let mut events = Vec::new();
        // Quiet hours (40 bytes each), then a busy hour after an empty one.
        for h in 3 - quiet_hours..3 {
            events.push(flow(h * 3600 + 10, "10.0.0.1", "198.51.100.9", 40000, 443));
        }
        for i in 0..11 {
            events.push(flow(
                4 * 3600 + 1200 + i,
                "10.0.0.1",
                "198.51.100.9",
                40000,
                443,
            ));
        }
        events
    };
    // The fourth hour is empty (counts as 0); each flow is 40 bytes: the limit is 10 ×
    // the mean of 40, 40, 40 and 0 (30), so the 8th flow of the busy hour (320) fires.
    let fired = fired_at(&run(&p, &series(3)));
    assert_eq!(fired.first(), Some(&(3 + 7)), "{fired:?}");
    // With one quiet hour the key has two closed windows (the quiet one and the empty
    // one) when the busy hour starts: less than the 3 hours of learning.
    assert!(fired_at(&run(&p, &series(1))).is_empty());
    // With two, it has three: enough.
    assert!(!fired_at(&run(&p, &series(2))).is_empty());
}

#[test]
fn memory_cap_evicts_the_oldest_keys() {
    let p = pack("vpcflow", SCAN);
    let events: Vec<Event> = (0..20_000)
        .map(|i| {
            let src = format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256);
            flow(i / 100, &src, "10.0.0.9", 40000, 100)
        })
        .collect();
    let (_, free) = run_with(&p, &events, StateConfig::default());
    let stats = free.stats();
    assert_eq!(stats.evicted_keys, 0);
    assert!(stats.keys > 0);
    let per_key = stats.bytes / stats.keys;
    eprintln!(
        "window state: {} keys, {} bytes, {per_key} bytes per key",
        stats.keys, stats.bytes
    );
    let cap = 200 * 1024;
    let config = StateConfig {
        memory_cap_bytes: cap,
        ..StateConfig::default()
    };
    let (_, capped) = run_with(&p, &events, config);
    let stats = capped.stats();
    assert!(stats.evicted_keys > 0);
    assert!(stats.bytes <= cap, "{} > {cap}", stats.bytes);
}

// ---------------------------------------------------------------------------------------
// Property test: the store against a brute-force reference.

/// Does some window of `span` seconds (both ends included) that holds second `t` hold
/// at least `n` different ports among `seen` (second, port)?
fn reference_window(seen: &[(i64, u16)], t: i64, span: i64, n: usize) -> bool {
    (t - span..=t).any(|start| {
        let mut ports: Vec<u16> = seen
            .iter()
            .filter(|(s, _)| *s >= start && *s <= start + span)
            .map(|(_, p)| *p)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports.len() >= n
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random flows of two sources, in an order that moves them up to a few minutes,
    /// with a short allowed lateness so that some are late: each event fires exactly
    /// when the reference says a window holding it reaches the threshold (among the
    /// events not late so far).
    #[test]
    fn windows_agree_with_the_reference(
        flows in proptest::collection::vec((0i64..600, 0u16..8, 0u8..2), 1..120),
        lateness in prop_oneof![Just(60i64), Just(300), Just(100_000)],
    ) {
        let p = pack("vpcflow", "true | distinct(dst.port) >= 4 over 1m by src.ip");
        let events: Vec<Event> = flows
            .iter()
            .map(|(t, port, src)| flow(*t, &format!("10.0.0.{src}"), "10.0.0.9", 40000, *port))
            .collect();
        let config = StateConfig { allowed_lateness_ms: lateness * 1000, ..StateConfig::default() };
        let (fired, _) = run_with(&p, &events, config);
        let mut newest = i64::MIN;
        let mut seen: [Vec<(i64, u16)>; 2] = [Vec::new(), Vec::new()];
        for (i, (t, port, src)) in flows.iter().enumerate() {
            if *t < newest.saturating_sub(lateness) {
                prop_assert!(!fired[i], "late event {i} fired");
                continue;
            }
            newest = newest.max(*t);
            let s = &mut seen[*src as usize];
            s.push((*t, *port));
            let want = reference_window(s, *t, 60, 4);
            prop_assert_eq!(fired[i], want, "event {} of {:?}", i, flows);
        }
    }

    /// Random failures and successes of two addresses: a success or a failure fires
    /// exactly when it completes a sequence the reference finds.
    #[test]
    fn sequences_agree_with_the_reference(
        logins in proptest::collection::vec((0i64..900, any::<bool>(), 0u8..2), 1..40),
    ) {
        let p = pack("cloudtrail", BRUTE);
        let events: Vec<Event> = logins
            .iter()
            .map(|(t, ok, ip)| call(*t, "alice", &format!("198.51.100.{ip}"), "ConsoleLogin", *ok))
            .collect();
        let fired = run(&p, &events);
        // Reference: the successes that end a sequence among the logins arrived so far
        // (three failures of the same address before them, in (time, arrival) order,
        // the earliest of the three latest at most 600 s before); an arrival fires when
        // that set grows.
        let ends = |arrived: &[(i64, bool, u8)]| -> Vec<usize> {
            (0..arrived.len())
                .filter(|&j| {
                    let (t_end, ok, ip) = arrived[j];
                    if !ok {
                        return false;
                    }
                    let mut before: Vec<(i64, usize)> = arrived
                        .iter()
                        .enumerate()
                        .filter(|(k, (t, ok2, ip2))| !ok2 && *ip2 == ip && (*t, *k) < (t_end, j))
                        .map(|(k, (t, _, _))| (*t, k))
                        .collect();
                    before.sort_unstable();
                    before.len() >= 3 && t_end - before[before.len() - 3].0 <= 600
                })
                .collect()
        };
        let mut previous: Vec<usize> = Vec::new();
        for i in 0..logins.len() {
            let now = ends(&logins[..=i]);
            prop_assert_eq!(fired[i], now != previous, "arrival {} of {:?}", i, logins);
            previous = now;
        }
    }
}

/// A mixed stream for the restart test: scans, logins, new APIs, and time passing.
fn restart_cases() -> Vec<(RulePack, Vec<Event>)> {
    let scan: Vec<Event> = (0..40)
        .map(|i| flow(i * 3, "10.0.0.1", "10.0.0.9", 40000, 100 + (i % 7) as u16))
        .collect();
    let login = |t: i64, ok: bool| call(t, "alice", "198.51.100.7", "ConsoleLogin", ok);
    let logins = vec![
        login(0, false),
        login(30, false),
        login(60, false),
        login(90, true),
        login(100, false),
        login(400, false),
        login(410, false),
        login(420, true),
    ];
    let day = 86_400;
    let apis = vec![
        call(0, "alice", "198.51.100.7", "ListUsers", true),
        call(day / 2, "alice", "198.51.100.7", "GetUser", true),
        call(day + 5, "alice", "198.51.100.7", "CreateAccessKey", true),
        call(day + 6, "bob", "198.51.100.7", "CreateAccessKey", true),
        call(2 * day + 7, "bob", "198.51.100.7", "CreateUser", true),
        call(2 * day + 8, "alice", "198.51.100.7", "CreateUser", true),
    ];
    let mut volume = Vec::new();
    for h in 0..6 {
        volume.push(flow(h * 3600 + 5, "10.0.0.1", "198.51.100.9", 40000, 443));
    }
    for i in 0..12 {
        volume.push(flow(7 * 3600 + i, "10.0.0.1", "198.51.100.9", 40000, 443));
    }
    vec![
        (
            pack(
                "vpcflow",
                "true | distinct(dst.port) >= 5 over 1m by src.ip, dst.ip",
            ),
            scan,
        ),
        (pack("cloudtrail", BRUTE), logins),
        (pack("cloudtrail", NEW_API), apis),
        (
            pack(
                "vpcflow",
                "true | sum(net.bytes) > baseline * 5 over 1h by src.ip after learning 3h",
            ),
            volume,
        ),
    ]
}

#[test]
fn a_restart_from_a_snapshot_gives_what_an_uninterrupted_run_gives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    for (p, events) in restart_cases() {
        let whole = run(&p, &events);
        assert!(whole.iter().any(|f| *f), "the case fires somewhere");
        for split in 0..=events.len() {
            let (mut fired, first) = run_with(&p, &events[..split], StateConfig::default());
            first.save(&path).expect("saved");
            drop(first);
            let matcher = Matcher::new(&p);
            let mut second = StateStore::new(StateConfig::default());
            let restored = second.restore(&path, &p).expect("restored");
            assert_eq!(restored.dropped, 0);
            for e in &events[split..] {
                let mut f = false;
                matcher.run_with_state(e, &mut second, |_| f = true);
                fired.push(f);
            }
            assert_eq!(fired, whole, "split at {split}");
        }
    }
}

#[test]
fn a_changed_rule_starts_fresh_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    let (_, events) = restart_cases().swap_remove(2);
    let p = pack("cloudtrail", NEW_API);
    let (_, store) = run_with(&p, &events[..2], StateConfig::default());
    store.save(&path).expect("saved");
    let changed = pack(
        "cloudtrail",
        "outcome == \"success\" | new api.operation by actor.arn after learning 2d",
    );
    let mut fresh = StateStore::new(StateConfig::default());
    let restored = fresh.restore(&path, &changed).expect("restored");
    assert_eq!(
        restored,
        picket::run::state::Restored {
            rules: 0,
            dropped: 1
        }
    );
    // A file that is not a snapshot is an error that names it.
    std::fs::write(&path, b"{\"format\": 1, \"newest\": [").expect("written");
    let err = fresh.restore(&path, &p).expect_err("not a snapshot");
    assert!(
        err.contains("state.json: not a picket state snapshot (line 1"),
        "{err}"
    );
}

#[test]
fn tests_joined_by_and_hold_on_the_same_window() {
    let p = pack(
        "vpcflow",
        "true | distinct(src.port) >= 3 and sum(net.bytes) >= 200 over 1m by dst.ip",
    );
    // Three ports but 120 bytes: the second test fails.
    let few: Vec<Event> = (0..3)
        .map(|i| flow(i, "10.0.0.1", "10.0.0.9", 40000 + i as u16, 443))
        .collect();
    assert!(fired_at(&run(&p, &few)).is_empty());
    // Five flows of one port: 200 bytes, one port.
    let one_port: Vec<Event> = (0..5)
        .map(|i| flow(i, "10.0.0.1", "10.0.0.9", 40000, 443))
        .collect();
    assert!(fired_at(&run(&p, &one_port)).is_empty());
    // Five flows from three ports: both hold at the fifth.
    let both: Vec<Event> = (0..5)
        .map(|i| flow(i, "10.0.0.1", "10.0.0.9", 40000 + (i % 3) as u16, 443))
        .collect();
    assert_eq!(fired_at(&run(&p, &both)), [4]);
    // The same flows newest first: the last to arrive completes the window.
    let reversed: Vec<Event> = (0..5)
        .rev()
        .map(|i| flow(i, "10.0.0.1", "10.0.0.9", 40000 + (i % 3) as u16, 443))
        .collect();
    assert_eq!(fired_at(&run(&p, &reversed)), [4]);
}

#[test]
fn keys_can_be_calls() {
    let p = pack(
        "cloudtrail",
        "true | count() >= 2 over 1m by lower(actor.name)",
    );
    let events = vec![
        call(0, "Alice", "198.51.100.7", "GetUser", true),
        call(1, "alice", "198.51.100.7", "GetUser", true),
    ];
    assert_eq!(fired_at(&run(&p, &events)), [1]);
    let p = pack("cloudtrail", "true | count() >= 2 over 1m by actor.name");
    assert!(fired_at(&run(&p, &events)).is_empty());
}

#[test]
fn each_input_has_its_own_watermark() {
    // Two flow log files covering the same day, read one after the other (as a scan
    // reads a folder): the second file's events are not late because the first one
    // went further, and a scan in the second file still fires.
    let p = pack("vpcflow", SCAN);
    let line = |t: i64, dport: u16| {
        format!(
            "2 111122223333 eni-0a 10.0.0.1 10.0.0.9 40000 {dport} 6 1 40 {} {} REJECT OK\n",
            T0 + t,
            T0 + t + 1
        )
    };
    let first: String = (0..24).map(|h| line(h * 3600, 1)).collect();
    let second: String = (0..5).map(|i| line(3600 + i, 100 + i as u16)).collect();
    let mut events = parse_in("vpc-a.log", &first);
    events.extend(parse_in("vpc-b.log", &second));
    let (fired, state) = run_with(&p, &events, StateConfig::default());
    assert_eq!(state.stats().late_events, 0);
    // The first file's port 1 at 01:00 and the second file's ports 100 to 103 make five
    // within a minute: state is shared across inputs.
    assert_eq!(fired_at(&fired), [27, 28]);
    // Within one input, an event 16 minutes behind its newest is late.
    let mut events = parse_in("vpc-a.log", &first);
    events.extend(parse_in("vpc-a.log", &line(23 * 3600 - 16 * 60, 7)));
    let (_, state) = run_with(&p, &events, StateConfig::default());
    assert_eq!(state.stats().late_events, 1);
}

// ---------------------------------------------------------------------------------------
// Property test: the store against the library's reference evaluator of stateful rules.

/// Flow rules of every window and baseline kind the reference covers.
const FLOW_RULES: &[&str] = &[
    "true | distinct(dst.port) >= 3 over 1m by src.ip",
    "true | count() > 4 over 2m by src.ip, dst.port",
    "true | sum(net.bytes) >= 150 over 30s",
    "true | distinct(dst.port) >= 2 and sum(net.bytes) >= 100 over 1m by src.ip",
    "true | max(net.bytes) >= 70 over 1m by src.ip",
    "true | avg(net.bytes) < 50 over 1m by src.ip",
    "true | new dst.port by src.ip after learning 2m",
    "true | rare dst.port by src.ip seen < 3 after learning 1m",
    "true | new dst.port by src.ip for 1m after learning 2m",
    "true | new (src.ip, dst.port) after learning 3m | count() >= 2 over 1m by src.ip",
    "dst.port < 4 at least 2 times then dst.port >= 6 within 2m by src.ip",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random flows from two inputs, out of order by up to several minutes, with a short
    /// allowed lateness so that some are late: every event fires exactly when the
    /// reference evaluator says.
    #[test]
    fn the_store_agrees_with_the_reference_evaluator(
        rule in 0..FLOW_RULES.len(),
        flows in proptest::collection::vec((0i64..900, 0u16..8, 0u8..2, 1u32..100, 0u8..2), 1..80),
        lateness in prop_oneof![Just(60i64), Just(240), Just(100_000)],
    ) {
        let p = pack("vpcflow", FLOW_RULES[rule]);
        let events: Vec<Event> = flows
            .iter()
            .map(|(t, port, src, bytes, input)| {
                let line = format!(
                    "2 111122223333 eni-0a 10.0.0.{src} 10.0.0.9 40000 {port} 6 1 {bytes} {} {} REJECT OK",
                    T0 + t,
                    T0 + t + 1
                );
                parse_in(&format!("input-{input}.log"), &line).pop().expect("one flow")
            })
            .collect();
        let config = StateConfig { allowed_lateness_ms: lateness * 1000, ..StateConfig::default() };
        let (fired, _) = run_with(&p, &events, config.clone());
        let want = picket::run::state::reference::fired(&p.rules[0], &events, &config)
            .expect("covered by the reference");
        prop_assert_eq!(fired, want, "rule `{}` on {:?}", FLOW_RULES[rule], flows);
    }
}
