//! Suppression tests on findings the engine builds from one event of each source: every
//! operator and short name, list semantics, and the field table against build.rs.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::compile::{compile, PackFiles, RulePack};
use crate::event::{read_stream, Event, ReadOptions, ReadStats};
use crate::finding::Aggregator;
use crate::run::Matcher;

/// One rule per source; the severities are all different, for the ordering operators.
fn pack() -> RulePack {
    let rules = [
        (
            "recon/list-users",
            "Recon:IAMUser/UserPermissions",
            "2.0",
            "cloudtrail",
            r#"api.operation == "ListUsers""#,
            "actor.arn",
        ),
        (
            "bucket/policy-changed",
            "Policy:S3/BucketAnonymousAccessGranted",
            "8.0",
            "cloudtrail",
            r#"api.operation == "PutBucketPolicy""#,
            "s3.bucket",
        ),
        (
            "instance/stratum",
            "CryptoCurrency:EC2/BitcoinTool.B",
            "5.0",
            "vpcflow",
            r#"dst.port == 3333 and net.action == "ACCEPT""#,
            "net.interface",
        ),
        (
            "instance/pool-dns",
            "CryptoCurrency:EC2/BitcoinTool.B!DNS",
            "7.5",
            "dns",
            r#"dns.query == "xmr.pool.example""#,
            "instance.id",
        ),
        (
            "kubernetes/exec",
            "Execution:Kubernetes/ExecInKubeSystemPod",
            "9.5",
            "eks",
            r#"k8s.subresource == "exec""#,
            "k8s.user",
        ),
    ];
    let mut files = std::collections::BTreeMap::new();
    for (path, ty, severity, source, when, group) in rules {
        let (category, name) = path.split_once('/').expect("category/name");
        files.insert(
            format!("{path}.yaml"),
            format!(
                "id: {category}.{name}\ntype: {ty}\ntitle: t\nseverity: {severity}\n\
                 source: {source}\ncategory: {category}\ndescription: d\nwhen: '{when}'\n\
                 group_by: [{group}]\n"
            )
            .into_bytes(),
        );
    }
    let compiled = compile(&[PackFiles {
        root: "test".to_owned(),
        files,
    }]);
    let errors: Vec<String> = compiled.diagnostics.iter().map(|d| d.one_line()).collect();
    assert_eq!(compiled.error_count(), 0, "{errors:?}");
    compiled.pack
}

const JSON_EVENTS: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAALICE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAALICE","userName":"alice"},"eventTime":"2026-11-20T09:02:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66","userAgent":"aws-cli/2.22.4","eventID":"ct-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDABOB","arn":"arn:aws:iam::444455556666:user/bob","accountId":"444455556666","accessKeyId":"AKIABOB","userName":"bob"},"eventTime":"2026-11-20T09:34:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","sourceIPAddress":"2001:db8::5","userAgent":"aws-cli/2.22.4","requestParameters":{"bucketName":"acme-exports"},"eventID":"ct-2","eventType":"AwsApiCall","recipientAccountId":"444455556666"}
{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b","query_timestamp":"2026-11-20T12:30:58Z","query_name":"xmr.pool.example.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"198.51.100.77","Type":"A","Class":"IN"}],"srcaddr":"10.0.12.34","srcport":"33172","transport":"UDP","srcids":{"instance":"i-0dns"}}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"k8s-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/pods/coredns-x/exec?command=sh","verb":"create","user":{"username":"arn:aws:iam::111122223333:user/ci-deploy","uid":"aws-iam-authenticator:111122223333:AIDACI","groups":["system:authenticated"],"extra":{"arn":["arn:aws:iam::111122223333:user/ci-deploy"]}},"sourceIPs":["203.0.113.66"],"userAgent":"kubectl/v1.31.2","objectRef":{"resource":"pods","namespace":"kube-system","name":"coredns-x","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-20T12:11:05.183911Z","stageTimestamp":"2026-11-20T12:11:05.200034Z","annotations":{"authorization.k8s.io/decision":"allow"}}
"#;

/// A flow of the default format (no region, no instance id): 10.0.1.5 to a stratum port.
const FLOW: &str =
    "2 111122223333 eni-0a1b2c3d 10.0.1.5 198.51.100.7 49152 3333 6 10 840 1700000000 1700000060 ACCEPT OK\n";

fn read(name: &str, text: &str) -> Vec<Event> {
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

/// One finding per rule, unarchived.
fn findings() -> Vec<Finding> {
    let pack = pack();
    let matcher = Matcher::new(&pack);
    let mut agg = Aggregator::new("detector", 1_700_000_000_000);
    let mut events = read("events.jsonl", JSON_EVENTS);
    events.extend(read("flows.log", FLOW));
    assert_eq!(events.len(), 5);
    for event in &events {
        matcher.run(event, |m| {
            agg.add(m, event);
        });
    }
    let findings = agg.finish();
    let rules: BTreeSet<&str> = findings.iter().map(|f| f.rule.id.as_str()).collect();
    assert_eq!(rules.len(), 5, "one finding per rule: {rules:?}");
    assert!(findings.iter().all(|f| !f.service.archived));
    findings
}

fn load(yaml: &str) -> Suppressions {
    match Suppressions::parse("test.yaml", yaml) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render(false)),
    }
}

/// A file of one rule named `t` with these criteria (YAML lines, indented by six).
fn rule(criteria: &str) -> Suppressions {
    let criteria: String = criteria
        .lines()
        .map(|l| format!("      {}\n", l.trim()))
        .collect();
    load(&format!(
        "suppressions:\n  - name: t\n    criteria:\n{criteria}"
    ))
}

/// The rules (without category) whose findings the criteria archive.
fn archived(criteria: &str) -> Vec<&'static str> {
    let suppressions = rule(criteria);
    let mut findings = findings();
    let n = suppressions.apply_all(&mut findings);
    let mut out: Vec<&'static str> = findings
        .iter()
        .filter(|f| f.service.archived)
        .map(|f| match f.rule.id.as_str() {
            "recon.list-users" => "list-users",
            "bucket.policy-changed" => "policy-changed",
            "instance.stratum" => "stratum",
            "instance.pool-dns" => "pool-dns",
            "kubernetes.exec" => "exec",
            other => panic!("unexpected rule {other}"),
        })
        .collect();
    assert_eq!(n, out.len());
    out.sort_unstable();
    out
}

const NONE: &[&str] = &[];

#[test]
fn a_matching_rule_archives_and_names_itself_and_the_rest_stay_as_they_were() {
    let suppressions = load(
        "suppressions:\n  - name: recon-reviewed\n    reason: the audit team lists users\n    criteria:\n      type: Recon:IAMUser/UserPermissions\n",
    );
    let mut findings = findings();
    let before: Vec<Value> = findings
        .iter()
        .map(|f| serde_json::to_value(f).expect("JSON"))
        .collect();
    let mut names = Vec::new();
    for f in &mut findings {
        names.push(suppressions.apply(f).map(str::to_string));
    }
    for ((f, name), before) in findings.iter().zip(&names).zip(&before) {
        let after = serde_json::to_value(f).expect("JSON");
        if f.rule.id == "recon.list-users" {
            assert_eq!(name.as_deref(), Some("recon-reviewed"));
            assert!(f.service.archived);
            assert_eq!(after["service"]["archived"], true);
            assert_eq!(
                after["service"]["additionalInfo"]["suppressedBy"],
                "recon-reviewed"
            );
            // GuardDuty's own keys of additionalInfo are kept.
            assert_eq!(
                after["service"]["additionalInfo"]["value"],
                before["service"]["additionalInfo"]["value"]
            );
        } else {
            assert_eq!(name, &None);
            assert_eq!(&after, before, "an unmatched finding is not changed");
        }
    }
    let rule = suppressions.iter().next().expect("one rule");
    assert_eq!(rule.name(), "recon-reviewed");
    assert_eq!(rule.reason(), Some("the audit team lists users"));
}

#[test]
fn eq_shorthand_takes_a_value_or_a_list() {
    assert_eq!(
        archived("type: Recon:IAMUser/UserPermissions"),
        ["list-users"]
    );
    assert_eq!(
        archived("type: [Recon:IAMUser/UserPermissions, CryptoCurrency:EC2/BitcoinTool.B]"),
        ["list-users", "stratum"]
    );
    assert_eq!(
        archived("type: {eq: [CryptoCurrency:EC2/BitcoinTool.B!DNS]}"),
        ["pool-dns"]
    );
    // Exact: not a prefix, and case matters.
    assert_eq!(archived("type: CryptoCurrency:EC2/BitcoinTool"), NONE);
    assert_eq!(archived("type: recon:iamuser/userpermissions"), NONE);
}

#[test]
fn neq_holds_when_no_listed_value_equals() {
    assert_eq!(
        archived("type: {neq: [Recon:IAMUser/UserPermissions, CryptoCurrency:EC2/BitcoinTool.B]}"),
        ["exec", "policy-changed", "pool-dns"]
    );
    // The stratum flow has two addresses; one equal value is enough to fail `neq`.
    assert_eq!(
        archived("ip: {neq: [198.51.100.7]}"),
        ["exec", "list-users", "policy-changed", "pool-dns"]
    );
    // The DNS finding has no address in its action: nothing equals, so `neq` holds.
    assert_eq!(
        archived("ip: {neq: [203.0.113.66, 2001:db8::5, 10.0.1.5]}"),
        ["pool-dns"]
    );
    // With another operator, `neq` still looks at every value.
    assert_eq!(
        archived("ip: {cidr: [10.0.0.0/8], neq: [198.51.100.7]}"),
        NONE
    );
    assert_eq!(
        archived("ip: {cidr: [198.51.100.0/24], neq: [198.51.100.8]}"),
        ["stratum"]
    );
}

#[test]
fn eq_on_a_field_with_several_values_holds_when_one_equals() {
    assert_eq!(archived("ip: 10.0.1.5"), ["stratum"]);
    assert_eq!(
        archived("ip: [198.51.100.7, 2001:db8::5]"),
        ["policy-changed", "stratum"]
    );
    // Addresses compare as addresses.
    assert_eq!(archived("ip: 2001:0db8:0:0::5"), ["policy-changed"]);
    // A field the finding lacks satisfies no positive operator.
    assert_eq!(
        archived("resource.instanceDetails.instanceId: {prefix: [i-]}"),
        ["pool-dns"]
    );
}

#[test]
fn ordering_operators_compare_severity() {
    assert_eq!(
        archived("severity: {gt: 5}"),
        ["exec", "policy-changed", "pool-dns"]
    );
    assert_eq!(
        archived("severity: {gte: 5}"),
        ["exec", "policy-changed", "pool-dns", "stratum"]
    );
    assert_eq!(archived("severity: {lt: 5}"), ["list-users"]);
    assert_eq!(archived("severity: {lte: 5.0}"), ["list-users", "stratum"]);
    // Several operators on one field: one value must satisfy them all.
    assert_eq!(
        archived("severity: {gte: 5, lt: 8}"),
        ["pool-dns", "stratum"]
    );
    assert_eq!(archived("severity: 7.5"), ["pool-dns"]);
    assert_eq!(archived("severity: [2, 9.5]"), ["exec", "list-users"]);
}

#[test]
fn ordering_operators_compare_times_and_counts() {
    // The flow is from 2023-11-14; every other event from 2026-11-20.
    assert_eq!(
        archived("service.eventFirstSeen: {lt: 2024-01-01}"),
        ["stratum"]
    );
    assert_eq!(
        archived("service.eventLastSeen: {gte: 2026-11-20T12:00:00Z}"),
        ["exec", "pool-dns"]
    );
    assert_eq!(
        archived("createdAt: {gt: 2026-11-20T09:02:00Z, lte: 2026-11-20T10:00:00+00:00}"),
        ["policy-changed"]
    );
    assert_eq!(
        archived("updatedAt: 2026-11-20T09:02:00.000Z"),
        ["list-users"]
    );
    assert_eq!(archived("service.count: {gte: 2}"), NONE);
    assert_eq!(archived("service.count: 1").len(), 5);
    assert_eq!(
        archived("service.action.networkConnectionAction.remotePortDetails.port: {gt: 1024}"),
        ["stratum"]
    );
}

#[test]
fn prefix_matches_the_start_of_strings() {
    assert_eq!(
        archived("type: {prefix: [\"CryptoCurrency:\"]}"),
        ["pool-dns", "stratum"]
    );
    assert_eq!(
        archived("type: {prefix: [\"Recon:\", \"Policy:\"]}"),
        ["list-users", "policy-changed"]
    );
    assert_eq!(archived("resource: {prefix: [eni-]}"), ["stratum"]);
    assert_eq!(
        archived("rule.id: {prefix: [instance.]}"),
        ["pool-dns", "stratum"]
    );
}

#[test]
fn cidr_matches_addresses_in_any_network() {
    assert_eq!(archived("ip: {cidr: [198.51.100.0/24]}"), ["stratum"]);
    assert_eq!(archived("ip: {cidr: [2001:db8::/32]}"), ["policy-changed"]);
    assert_eq!(
        archived("ip: {cidr: [192.0.2.0/24, 203.0.113.0/24]}"),
        ["exec", "list-users"]
    );
    // A bare address is a one-address network; host bits in a network are ignored.
    assert_eq!(archived("ip: {cidr: [10.0.1.5, 10.9.9.9/8]}"), ["stratum"]);
    assert_eq!(
        archived(
            "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: {cidr: [198.51.100.0/24]}"
        ),
        ["stratum"]
    );
    assert_eq!(
        archived("service.action.networkConnectionAction.localIpDetails.ipAddressV4: {cidr: [198.51.100.0/24]}"),
        NONE
    );
    assert_eq!(
        archived("service.action.kubernetesApiCallAction.sourceIps: {cidr: [203.0.113.0/24]}"),
        ["exec"]
    );
    assert_eq!(
        archived(
            "resource.instanceDetails.networkInterfaces.privateIpAddress: {cidr: [10.0.0.0/16]}"
        ),
        ["pool-dns", "stratum"]
    );
}

#[test]
fn account_and_region_are_the_top_level_fields() {
    assert_eq!(archived("account: \"444455556666\""), ["policy-changed"]);
    assert_eq!(archived("accountId: 444455556666"), ["policy-changed"]);
    assert_eq!(
        archived("account: 111122223333"),
        ["list-users", "pool-dns", "stratum"]
    );
    assert_eq!(archived("region: eu-west-1"), ["policy-changed"]);
    // Flow logs of the default format and EKS audit logs carry no region.
    assert_eq!(
        archived("region: {neq: [us-east-1, eu-west-1]}"),
        ["exec", "stratum"]
    );
    assert_eq!(archived("region: \"\""), ["exec", "stratum"]);
}

#[test]
fn resource_reads_every_identifier_of_the_resource() {
    for (value, rule) in [
        ("AKIAALICE", "list-users"),
        ("alice", "list-users"),
        ("acme-exports", "policy-changed"),
        ("arn:aws:s3:::acme-exports", "policy-changed"),
        ("AKIABOB", "policy-changed"),
        ("eni-0a1b2c3d", "stratum"),
        ("i-0dns", "pool-dns"),
        ("coredns-x", "exec"),
        ("kube-system/coredns-x", "exec"),
    ] {
        assert_eq!(
            archived(&format!("resource: \"{value}\"")),
            [rule],
            "{value}"
        );
    }
    assert_eq!(
        archived("resource: {neq: [alice, eni-0a1b2c3d]}"),
        ["exec", "policy-changed", "pool-dns"]
    );
}

#[test]
fn actor_reads_names_and_arns_of_the_principal() {
    assert_eq!(archived("actor: alice"), ["list-users"]);
    assert_eq!(archived("actor: AIDABOB"), ["policy-changed"]);
    // The ARN of a CloudTrail principal is in the finding when the rule groups by it.
    assert_eq!(
        archived("actor: arn:aws:iam::111122223333:user/alice"),
        ["list-users"]
    );
    assert_eq!(archived("actor: arn:aws:iam::444455556666:user/bob"), NONE);
    assert_eq!(archived("actor: bob"), ["policy-changed"]);
    // An EKS user mapped from IAM: by ARN and by the name after the last `/`.
    assert_eq!(
        archived("actor: arn:aws:iam::111122223333:user/ci-deploy"),
        ["exec"]
    );
    assert_eq!(archived("actor: ci-deploy"), ["exec"]);
    assert_eq!(
        archived("actor: {prefix: [\"arn:aws:iam::111122223333:\"]}"),
        ["exec", "list-users"]
    );
}

#[test]
fn ip_reads_every_address_of_the_action() {
    assert_eq!(archived("ip: 203.0.113.66"), ["exec", "list-users"]);
    assert_eq!(archived("ip: 2001:db8::5"), ["policy-changed"]);
    assert_eq!(archived("ip: [10.0.1.5]"), ["stratum"]);
    // The DNS resolver's client is the resource, not an address of the action.
    assert_eq!(archived("ip: 10.0.12.34"), NONE);
}

#[test]
fn dotted_paths_read_the_finding_json() {
    assert_eq!(
        archived("resource.instanceDetails.instanceId: i-0dns"),
        ["pool-dns"]
    );
    assert_eq!(
        archived("resource.resourceType: S3Bucket"),
        ["policy-changed"]
    );
    assert_eq!(
        archived("resource.s3BucketDetails.name: acme-exports"),
        ["policy-changed"]
    );
    assert_eq!(
        archived("resource.kubernetesDetails.kubernetesWorkloadDetails.namespace: kube-system"),
        ["exec"]
    );
    assert_eq!(
        archived("resource.kubernetesDetails.kubernetesUserDetails.groups: system:authenticated"),
        ["exec"]
    );
    assert_eq!(archived("rule.id: kubernetes.exec"), ["exec"]);
    assert_eq!(
        archived("service.action.actionType: DNS_REQUEST"),
        ["pool-dns"]
    );
    assert_eq!(
        archived("service.action.awsApiCallAction.api: PutBucketPolicy"),
        ["policy-changed"]
    );
    assert_eq!(
        archived("service.action.networkConnectionAction.blocked: false"),
        ["stratum"]
    );
    assert_eq!(
        archived("service.action.networkConnectionAction.blocked: true"),
        NONE
    );
    assert_eq!(
        archived("service.action.dnsRequestAction.domain: xmr.pool.example"),
        ["pool-dns"]
    );
    assert_eq!(
        archived("service.action.kubernetesApiCallAction.statusCode: 101"),
        ["exec"]
    );
    assert_eq!(
        archived("service.resourceRole: ACTOR"),
        ["pool-dns", "stratum"]
    );
}

#[test]
fn every_criterion_of_a_rule_must_hold() {
    assert_eq!(
        archived("type: {prefix: [\"CryptoCurrency:\"]}\nresource: eni-0a1b2c3d"),
        ["stratum"]
    );
    assert_eq!(
        archived("type: Recon:IAMUser/UserPermissions\naccount: \"444455556666\""),
        NONE
    );
    assert_eq!(
        archived("severity: {gte: 7}\nip: {cidr: [203.0.113.0/24]}\nactor: ci-deploy"),
        ["exec"]
    );
}

#[test]
fn the_first_matching_rule_wins_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.yaml");
    let second = dir.path().join("second.yaml");
    std::fs::write(
        &first,
        "suppressions:\n  - name: kubernetes\n    criteria:\n      type: {prefix: [\"Execution:Kubernetes/\"]}\n",
    )
    .expect("write");
    std::fs::write(
        &second,
        "suppressions:\n  - name: high\n    criteria:\n      severity: {gte: 7}\n  - name: all-of-alice\n    criteria:\n      actor: alice\n",
    )
    .expect("write");
    let suppressions = Suppressions::load_all(&[&first, &second]).expect("valid files");
    assert_eq!(suppressions.len(), 3);
    let mut findings = findings();
    assert_eq!(suppressions.apply_all(&mut findings), 4);
    let by: Vec<(&str, Option<&str>)> = findings
        .iter()
        .map(|f| {
            (
                f.rule.id.as_str(),
                f.service.additional_info["suppressedBy"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [
            ("kubernetes.exec", Some("kubernetes")),
            ("bucket.policy-changed", Some("high")),
            ("instance.pool-dns", Some("high")),
            ("instance.stratum", None),
            ("recon.list-users", Some("all-of-alice")),
        ]
    );
    // Applying again changes nothing.
    let once = serde_json::to_string(&findings).expect("JSON");
    suppressions.apply_all(&mut findings);
    assert_eq!(serde_json::to_string(&findings).expect("JSON"), once);
}

#[test]
fn names_are_unique_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "suppressions:\n  - name: same\n    criteria:\n      type: t\n";
    let first = dir.path().join("first.yaml");
    let second = dir.path().join("second.yaml");
    std::fs::write(&first, text).expect("write");
    std::fs::write(&second, text).expect("write");
    let err = Suppressions::load_all(&[&first, &second]).expect_err("duplicate name");
    let diags = err.diagnostics();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].diagnostic.code, "R310");
    assert_eq!(&*diags[0].file.name, second.display().to_string());
    assert_eq!(
        diags[0].diagnostic.notes,
        [format!("first named at {}:2:11", first.display())]
    );
    assert!(err.to_string().contains("second.yaml:2:11"), "{err}");
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let err =
        Suppressions::load(Path::new("/nonexistent/suppressions.yaml")).expect_err("no such file");
    assert!(err
        .to_string()
        .starts_with("cannot read suppression file /nonexistent/suppressions.yaml: "));
    assert!(err.diagnostics().is_empty());
}

#[test]
fn no_rules_archive_nothing() {
    let mut findings = findings();
    assert_eq!(Suppressions::default().apply_all(&mut findings), 0);
    let empty = load("suppressions: []\n");
    assert!(empty.is_empty());
    assert_eq!(empty.apply_all(&mut findings), 0);
    assert!(load("suppressions:\n").is_empty());
    assert!(findings.iter().all(|f| !f.service.archived));
}

/// Every field a finding of any source carries can be named in a criterion, with the
/// kind its values have; only evidence, `additionalInfo` and `archived` are left out.
#[test]
fn the_field_table_covers_every_field_of_the_findings() {
    fn leaves(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    leaves(v, p, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| leaves(v, path.clone(), out)),
            other => out.push((path, other.clone())),
        }
    }
    let mut seen = BTreeSet::new();
    for f in findings() {
        let mut out = Vec::new();
        leaves(
            &serde_json::to_value(&f).expect("JSON"),
            String::new(),
            &mut out,
        );
        for (path, value) in out {
            if path.starts_with("service.evidence.")
                || path.starts_with("service.additionalInfo.")
                || path == "service.archived"
            {
                continue;
            }
            let Some((_, kind)) = lookup_field(&path) else {
                panic!("`{path}` of {} is not in FIELDS", f.rule.id);
            };
            assert!(
                finding_key(kind, &value).is_some(),
                "`{path}` = {value} is not a {kind:?}"
            );
            seen.insert(path);
        }
    }
    // And the short names read only fields of the table.
    for path in RESOURCE_PATHS.iter().chain(ACTOR_PATHS) {
        assert!(lookup_field(path).is_some(), "{path}");
    }
    assert!(seen.len() > 40, "{seen:?}");
}
