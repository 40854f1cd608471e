//! A compiled pack ([`Engine`]) is an immutable value shared across threads and swapped
//! whole: alternating two engines on the same threads, event by event, finds exactly
//! what the reference evaluator finds for each (per-thread caches never leak from one
//! engine to the other), and an `Arc<Engine>` replaced while other threads scan leaves
//! each pass consistent with one engine.

use std::sync::{Arc, RwLock};

use picket::compile::{compile, PackFiles};
use picket::event::{read_stream, Event, ReadOptions, ReadStats};
use picket::run::{eval, Engine};

/// An engine over `rules` (name, condition) of the CloudTrail source.
fn engine(rules: &[(&str, &str)]) -> Engine {
    engine_of("cloudtrail", rules)
}

/// An engine over `rules` (name, condition) of one source.
fn engine_of(source: &str, rules: &[(&str, &str)]) -> Engine {
    let mut files = PackFiles::default();
    for (name, when) in rules {
        let text = format!(
            "id: account.{name}\ntype: Policy:IAMUser/RootCredentialUsage\ntitle: t\nseverity: low\nsource: {source}\ncategory: account\ndescription: d\nwhen: '{when}'\n"
        );
        files
            .files
            .insert(format!("account/{name}.yaml"), text.into_bytes());
    }
    let compiled = compile(&[files]);
    assert_eq!(compiled.error_count(), 0);
    Engine::new(compiled.pack)
}

fn events() -> Vec<Event> {
    let agents = [
        "aws-cli/2.15 kali",
        "Boto3/1.34",
        "curl/8.4",
        "aws-cli/2.15 KALI",
    ];
    let ops = ["ListUsers", "CreateAccessKey", "AssumeRole"];
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(&format!(
            r#"{{"eventVersion":"1.09","eventTime":"2026-11-20T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"{}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.{}","userAgent":"{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u"}},"recipientAccountId":"111122223333","eventType":"AwsApiCall"}}"#,
            ops[i % 3],
            i % 7,
            agents[i % 4],
        ));
        text.push('\n');
    }
    let mut out = Vec::new();
    read_stream(
        "e.jsonl",
        text.as_bytes(),
        &ReadOptions::default(),
        &mut ReadStats::default(),
        &mut |e| out.push(e),
        &mut |e| panic!("{e}"),
    );
    out
}

/// Rule ids matched per event, by the reference evaluator.
fn reference(engine: &Engine, events: &[Event]) -> Vec<Vec<String>> {
    events
        .iter()
        .map(|e| {
            engine
                .pack()
                .rules_for(e.source)
                .filter(|r| eval::matches(r, e))
                .map(|r| r.meta.id.clone())
                .collect()
        })
        .collect()
}

/// Rule ids matched per event.
fn matches(engine: &Engine, events: &[Event]) -> Vec<Vec<String>> {
    let matcher = engine.matcher();
    events
        .iter()
        .map(|e| {
            let mut ids = Vec::new();
            matcher.run(e, |m| ids.push(m.rule.meta.id.clone()));
            ids
        })
        .collect()
}

#[test]
fn engines_alternating_on_one_thread_find_what_the_reference_finds() {
    // The same field, different tests: a cache of one engine's automaton results
    // used by the other would show.
    let a = engine(&[
        ("kali", "user_agent contains~ \"kali\""),
        ("list", "api.operation == \"ListUsers\""),
    ]);
    let b = engine(&[
        ("curl", "user_agent contains \"curl\""),
        ("kali_exact", "user_agent contains \"kali\""),
        ("net", "src.ip in cidr(198.51.100.0/30)"),
    ]);
    let events = events();
    let alone_a = reference(&a, &events);
    let alone_b = reference(&b, &events);
    assert_eq!(matches(&a, &events), alone_a);
    assert_eq!(matches(&b, &events), alone_b);
    assert!(alone_a.iter().any(|m| m.len() == 2), "{alone_a:?}");
    assert!(alone_b.iter().any(|m| m.len() == 2), "{alone_b:?}");
    let (ma, mb) = (a.matcher(), b.matcher());
    for (i, e) in events.iter().enumerate() {
        for (m, expected) in [(&ma, &alone_a[i]), (&mb, &alone_b[i])] {
            let mut ids = Vec::new();
            m.run(e, |hit| ids.push(hit.rule.meta.id.clone()));
            assert_eq!(&ids, expected, "event {i}");
        }
    }
}

#[test]
fn engines_alternating_on_flow_records_read_their_own_columns() {
    // Different fields at the same slots: a column table of one engine used by the
    // other would read the wrong columns.
    let a = engine_of("vpcflow", &[("ssh", "dst.port == 22")]);
    let b = engine_of(
        "vpcflow",
        &[
            ("reject", "net.action == \"REJECT\""),
            ("tcp", "net.protocol == 6"),
        ],
    );
    let mut text = String::new();
    for (i, (port, action)) in [
        (22, "ACCEPT"),
        (443, "REJECT"),
        (22, "REJECT"),
        (80, "ACCEPT"),
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "2 111122223333 eni-0a1b2c3d 10.0.0.{i} 10.0.1.5 50000 {port} 6 10 840 1700000000 1700000060 {action} OK\n"
        ));
    }
    let mut events = Vec::new();
    read_stream(
        "flows.log",
        text.as_bytes(),
        &ReadOptions::default(),
        &mut ReadStats::default(),
        &mut |e| events.push(e),
        &mut |e| panic!("{e}"),
    );
    assert_eq!(events.len(), 4);
    let (alone_a, alone_b) = (reference(&a, &events), reference(&b, &events));
    let (ma, mb) = (a.matcher(), b.matcher());
    for (i, e) in events.iter().enumerate() {
        for (m, expected) in [(&ma, &alone_a[i]), (&mb, &alone_b[i])] {
            let mut ids = Vec::new();
            m.run(e, |hit| ids.push(hit.rule.meta.id.clone()));
            assert_eq!(&ids, expected, "flow {i}");
        }
    }
}

#[test]
fn a_shared_engine_is_swapped_whole_while_threads_scan() {
    fn is_shareable<T: Send + Sync + 'static>() {}
    is_shareable::<Engine>();
    let a = Arc::new(engine(&[("kali", "user_agent contains~ \"kali\"")]));
    let b = Arc::new(engine(&[("curl", "user_agent contains \"curl\"")]));
    let events = Arc::new(events());
    let expected = [reference(&a, &events), reference(&b, &events)];
    let current = Arc::new(RwLock::new(Arc::clone(&a)));
    let scanners: Vec<_> = (0..2)
        .map(|_| {
            let (current, events, expected) =
                (Arc::clone(&current), Arc::clone(&events), expected.clone());
            std::thread::spawn(move || {
                for round in 0..50 {
                    // Each pass takes the engine of the moment and keeps it to the end.
                    let engine = Arc::clone(&current.read().expect("lock"));
                    let got = matches(&engine, &events);
                    assert!(got == expected[0] || got == expected[1], "round {round}");
                }
            })
        })
        .collect();
    for i in 0..200 {
        let next = if i % 2 == 0 { &b } else { &a };
        *current.write().expect("lock") = Arc::clone(next);
    }
    for s in scanners {
        s.join().expect("scanner");
    }
}
