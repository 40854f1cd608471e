//! The optimized matcher agrees with the reference evaluator.
//!
//! Property test: random rule packs (equality, `in`, `!=`, substring, `exists`,
//! quantifiers, `and`/`or`/`not` over a small vocabulary, so rules and events collide
//! often) and random CloudTrail events; for every event, the rules `Matcher` reports and
//! their explanations must be exactly those of evaluating every rule of the source with
//! the reference evaluator.

use picket::compile::{compile, PackFiles, RulePack};
use picket::event::{read_stream, Event, ReadOptions, ReadStats};
use picket::run::builds::BuildCache;
use picket::run::{eval, Engine, Matcher};
use proptest::prelude::*;

const OPS: &[&str] = &[
    "StopLogging",
    "DeleteTrail",
    "PutBucketPolicy",
    "ListUsers",
    "ConsoleLogin",
];
const SERVICES: &[&str] = &[
    "cloudtrail.amazonaws.com",
    "s3.amazonaws.com",
    "iam.amazonaws.com",
];
const AGENTS: &[&str] = &[
    "aws-cli/2.15 kali",
    "Boto3/1.34",
    "console.amazonaws.com",
    "Parrot/1",
];
const TYPES: &[&str] = &["Root", "IAMUser", "AssumedRole", "AWSService"];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(list)
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(OPS).prop_map(|o| format!("api.operation == \"{o}\"")),
        pick(OPS).prop_map(|o| format!("eventName == \"{o}\"")),
        proptest::sample::subsequence(OPS, 1..4).prop_map(|v| format!(
            "api.operation in ({})",
            v.iter()
                .map(|o| format!("\"{o}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        pick(OPS).prop_map(|o| format!("api.operation != \"{o}\"")),
        pick(OPS).prop_map(|o| format!("api.operation ~= \"{}\"", o.to_lowercase())),
        pick(SERVICES).prop_map(|s| format!("api.service == \"{s}\"")),
        pick(TYPES).prop_map(|t| format!("actor.type == \"{t}\"")),
        prop_oneof![Just("kali"), Just("KALI"), Just("boto"), Just("parrot")]
            .prop_map(|n| format!("user_agent contains~ \"{n}\"")),
        Just("error.code exists".to_string()),
        prop_oneof![Just("aws-cli"), Just("AWS-CLI"), Just("Boto3"), Just("")]
            .prop_map(|n| format!("user_agent startswith \"{n}\"")),
        prop_oneof![Just("kali"), Just("KALI"), Just("/1"), Just(".com")]
            .prop_map(|n| format!("user_agent endswith~ \"{n}\"")),
        prop_oneof![Just("kali"), Just("Boto"), Just("amazonaws")]
            .prop_map(|n| format!("user_agent contains \"{n}\"")),
        prop_oneof![Just("aws-cli"), Just("AWS-CLI"), Just("Boto3")]
            .prop_map(|n| format!("user_agent startswith~ \"{n}\"")),
        proptest::sample::subsequence(TYPES, 1..3).prop_map(|v| format!(
            "actor.type in~ ({})",
            v.iter()
                .map(|o| format!("\"{}\"", o.to_uppercase()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Just("resources.type == \"AWS::S3::Bucket\"".to_string()),
        Just("resources.ARN endswith \":role/x\"".to_string()),
        Just("resources.type contains~ \"iam\"".to_string()),
        Just("userIdentity.type == \"Root\"".to_string()),
        Just("lower(user_agent) contains \"kali\"".to_string()),
        Just("error.code in (\"AccessDenied\", \"Throttling\")".to_string()),
        prop_oneof![
            Just("kali"),
            Just("^aws-cli\\/"),
            Just("[0-9]$"),
            Just("KALI")
        ]
        .prop_map(|re| format!("user_agent matches /{re}/")),
        Just("user_agent matches /kali/i".to_string()),
        Just("resources.ARN matches /:role\\/x$/".to_string()),
        prop_oneof![
            Just("198.51.100.0/24"),
            Just("10.0.0.0/8"),
            Just("198.51.100.7"),
            Just("2001:db8::/32")
        ]
        .prop_map(|n| format!("src.ip in cidr(\"{n}\")")),
        Just("sourceIPAddress in cidr(198.51.0.0/16, 203.0.113.0/24)".to_string()),
        Just("src.ip in (\"198.51.100.7\", \"2001:db8::5\")".to_string()),
        Just("src.ip == 10.1.2.3".to_string()),
        prop_oneof![Just("3"), Just("7"), Just("200")]
            .prop_map(|n| format!("requestParameters.count == {n}")),
        Just("requestParameters.count in (1, 3, 200)".to_string()),
        prop_oneof![Just("<"), Just("<="), Just(">"), Just(">="), Just("!=")]
            .prop_map(|op| format!("requestParameters.count {op} 3")),
        Just("requestParameters.ports > 100".to_string()),
        Just("eventTime >= \"2026-11-20T10:00:00Z\"".to_string()),
        Just("src.ip != 10.1.2.3".to_string()),
        Just("requestParameters.ports in (22, 3389)".to_string()),
        Just("requestParameters.ports == 22".to_string()),
        Just("sourceIPAddress == 198.51.100.7".to_string()),
        Just("sourceIPAddress in (\"198.51.100.7\", \"ec2.amazonaws.com\")".to_string()),
        Just("outcome == \"success\"".to_string()),
        Just(
            "any(resources, type == \"AWS::S3::Bucket\" and ARN startswith \"arn:aws:s3\")"
                .to_string()
        ),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn event() -> impl Strategy<Value = String> {
    (
        pick(OPS),
        pick(SERVICES),
        pick(AGENTS),
        pick(TYPES),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just("198.51.100.7"), Just("10.1.2.3"), Just("ec2.amazonaws.com"), Just("2001:db8::5")],
        prop_oneof![Just("3"), Just("3.0"), Just("3.5"), Just("\"3\""), Just("200")],
        prop_oneof![Just("[22, 443]"), Just("[8080]"), Just("22.0"), Just("[]")],
    )
        .prop_map(|(op, svc, ua, ty, failed, bucket, ip, count, ports)| {
            let error = if failed { r#""errorCode":"AccessDenied","# } else { "" };
            let resources = if bucket {
                r#""resources":[{"type":"AWS::IAM::Role","ARN":"arn:aws:iam::111122223333:role/x"},{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b"}],"#
            } else {
                r#""resources":[{"type":"AWS::S3::Bucket","ARN":"arn:aws:iam::111122223333:role/x"}],"#
            };
            format!(
                r#"{{"eventVersion":"1.09","eventTime":"2026-11-20T10:00:00Z","eventSource":"{svc}","eventName":"{op}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{ua}",{error}{resources}"userIdentity":{{"type":"{ty}","arn":"arn:aws:iam::111122223333:user/u","accountId":"111122223333"}},"requestParameters":{{"count":{count},"ports":{ports}}},"recipientAccountId":"111122223333","eventType":"AwsApiCall"}}"#
            )
        })
}

fn pack_of(conds: &[String]) -> PackFiles {
    let mut files = PackFiles::default();
    for (i, when) in conds.iter().enumerate() {
        let text = format!(
            "id: account.r{i}\ntype: Policy:IAMUser/RootCredentialUsage\ntitle: t\nseverity: low\nsource: cloudtrail\ncategory: account\ndescription: d\nwhen: '{}'\n",
            when.replace('\'', "''")
        );
        files
            .files
            .insert(format!("account/r{i}.yaml"), text.into_bytes());
    }
    files
}

fn parse_events(events: &[String]) -> Vec<Event> {
    let text = events.join("\n");
    let mut parsed: Vec<Event> = Vec::new();
    read_stream(
        "e.jsonl",
        text.as_bytes(),
        &ReadOptions::default(),
        &mut ReadStats::default(),
        &mut |e| parsed.push(e),
        &mut |e| panic!("{e}"),
    );
    assert_eq!(parsed.len(), events.len());
    parsed
}

/// Every event: the rules `matcher` reports, with their explanations, are those the
/// reference evaluator finds among all the rules of the event's source.
fn agrees(pack: &RulePack, matcher: &Matcher<'_>, events: &[Event]) -> Result<(), TestCaseError> {
    for ev in events {
        let mut fast = Vec::new();
        matcher.run(ev, |m| fast.push((m.rule.meta.id.clone(), m.matched)));
        let slow: Vec<_> = pack
            .rules_for(ev.source)
            .filter(|r| eval::matches(r, ev))
            .map(|r| (r.meta.id.clone(), eval::explain(r, ev)))
            .collect();
        prop_assert_eq!(fast, slow);
    }
    Ok(())
}

fn compiled(conds: &[String]) -> Result<RulePack, TestCaseError> {
    let compiled = compile(&[pack_of(conds)]);
    prop_assert_eq!(
        compiled.error_count(),
        0,
        "{:?}",
        compiled
            .diagnostics
            .iter()
            .map(|d| d.render(false))
            .collect::<Vec<_>>()
    );
    Ok(compiled.pack)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn matcher_agrees_with_reference(conds in proptest::collection::vec(condition(), 1..12),
                                     events in proptest::collection::vec(event(), 1..20)) {
        let pack = compiled(&conds)?;
        agrees(&pack, &Matcher::new(&pack), &parse_events(&events))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A reload: the engine of a second pack, built with the automata and regex sets
    /// of the first one's engine at hand, matches as the reference evaluator does. The
    /// second pack keeps some of the first one's rules, in another order, and adds some.
    #[test]
    fn engine_built_on_the_one_before_agrees_with_reference(
        first in proptest::collection::vec(condition(), 1..12),
        kept in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
        added in proptest::collection::vec(condition(), 0..6),
        events in proptest::collection::vec(event(), 1..20),
    ) {
        let cache = BuildCache::default();
        let before = Engine::with_cache(compiled(&first)?, &cache);
        let mut second: Vec<String> = kept.iter().map(|i| i.get(&first).clone()).collect();
        second.extend(added);
        let events = parse_events(&events);
        agrees(before.pack(), &before.matcher(), &events)?;
        let after = Engine::with_cache(compiled(&second)?, &cache);
        agrees(after.pack(), &after.matcher(), &events)?;
        // The cache holds what the second engine uses, as a cache built for it alone.
        let alone = BuildCache::default();
        let _ = Engine::with_cache(compiled(&second)?, &alone);
        prop_assert_eq!(cache.held(), alone.held());
    }
}
