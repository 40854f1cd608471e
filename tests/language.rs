//! Semantics of the condition language, operator by operator, on small events: what
//! holds, what does not, and the edge cases (missing fields, lists, case, networks,
//! quantifiers, macros and lists of the pack).

use picket::compile::{compile, PackFiles};
use picket::event::{read_stream, Event, ReadOptions, ReadStats};
use picket::run::eval;

const EVENT: &str = r#"{"eventVersion":"1.09","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy",
"eventTime":"2026-11-20T09:34:01Z","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23",
"userAgent":"aws-cli/2.15.0 Python/3.11 Linux/6.6.9-kali1-amd64","recipientAccountId":"111122223333",
"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci-deploy","userName":"ci-deploy","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE"},
"requestParameters":{"bucketName":"acme-exports","retries":3,"tags":["Prod","pii"],
"bucketPolicy":{"Statement":[
 {"Effect":"Deny","Principal":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/reader"}}]}},
"resources":[{"ARN":"arn:aws:s3:::acme-exports","type":"AWS::S3::Bucket"}],
"eventID":"0f5c4b1e-2d7a-4c55-9a0e-3b1f0c9e7d21","eventType":"AwsApiCall","readOnly":false}"#;

/// Compiles `when` as a CloudTrail rule (with the given lists/macros file) and runs it.
fn holds_with(when: &str, defs: &str) -> bool {
    let mut pack = PackFiles {
        root: "t".into(),
        ..PackFiles::default()
    };
    let rule = format!(
        "id: account.r\ntype: Policy:S3/BucketAnonymousAccessGranted\ntitle: t\nseverity: low\nsource: cloudtrail\ncategory: account\ndescription: d\nwhen: |\n  {}\n",
        when.replace('\n', "\n  ")
    );
    pack.files
        .insert("account/r.yaml".into(), rule.into_bytes());
    if !defs.is_empty() {
        pack.files
            .insert("defs.yaml".into(), defs.as_bytes().to_vec());
    }
    let compiled = compile(&[pack]);
    let errors: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.is_error())
        .map(|d| d.render(false))
        .collect();
    assert!(errors.is_empty(), "{when}\n{}", errors.join("\n"));
    let mut events: Vec<Event> = Vec::new();
    read_stream(
        "event.json",
        EVENT.as_bytes(),
        &ReadOptions::default(),
        &mut ReadStats::default(),
        &mut |e| events.push(e),
        &mut |e| panic!("{e}"),
    );
    assert_eq!(events.len(), 1);
    eval::matches(&compiled.pack.rules[0], &events[0])
}

fn holds(when: &str) -> bool {
    holds_with(when, "")
}

#[test]
fn equality_and_order() {
    assert!(holds(r#"api.operation == "PutBucketPolicy""#));
    assert!(!holds(r#"api.operation == "putbucketpolicy""#));
    assert!(holds(r#"api.operation ~= "putbucketpolicy""#));
    assert!(holds(r#"api.operation != "DeleteBucket""#));
    assert!(holds(
        "requestParameters.retries >= 3 and requestParameters.retries < 4"
    ));
    assert!(!holds("requestParameters.retries > 3"));
    assert!(holds(
        r#"time > "2026-11-20T09:00:00Z" and time < "2026-11-20T10:00:00Z""#
    ));
    assert!(holds("api.read_only == false"));
}

#[test]
fn missing_fields_make_tests_false() {
    assert!(!holds(r#"error.code == "AccessDenied""#));
    assert!(!holds(r#"error.code != "AccessDenied""#));
    assert!(holds(r#"not (error.code == "AccessDenied")"#));
    assert!(!holds("error.code exists"));
    assert!(holds("requestParameters.bucketName exists"));
    assert!(!holds("requestParameters.nothing.here exists"));
}

#[test]
fn lists_hold_for_any_element_and_ne_for_none() {
    assert!(holds(r#"requestParameters.tags == "pii""#));
    assert!(!holds(r#"requestParameters.tags != "pii""#));
    assert!(holds(r#"requestParameters.tags != "secret""#));
    assert!(holds(r#"requestParameters.tags in~ ("prod")"#));
    assert!(!holds(r#"requestParameters.tags in ("prod")"#));
    assert!(holds(r#"resources.type == "AWS::S3::Bucket""#));
}

#[test]
fn substring_tests_and_case() {
    assert!(holds(r#"user_agent contains "kali""#));
    assert!(!holds(r#"user_agent contains "KALI""#));
    assert!(holds(r#"user_agent contains~ "KALI""#));
    assert!(holds(r#"user_agent startswith "aws-cli/""#));
    assert!(holds(r#"user_agent startswith~ "AWS-CLI/""#));
    assert!(holds(r#"user_agent endswith "amd64""#));
    assert!(!holds(r#"user_agent endswith "kali""#));
    assert!(holds(r#"lower(user_agent) contains "linux/6.6.9-kali""#));
    assert!(holds("len(requestParameters.tags) == 2"));
}

#[test]
fn regular_expressions() {
    assert!(holds(r#"user_agent matches /kali\d?-amd64$/"#));
    assert!(!holds(r#"user_agent matches /KALI/"#));
    assert!(holds(r#"user_agent matches /KALI/i"#));
    assert!(holds(r#"actor.arn matches /:user\/ci-/"#));
}

#[test]
fn addresses_and_networks() {
    assert!(holds(r#"src.ip == "198.51.100.23""#));
    assert!(holds("src.ip == 198.51.100.23"));
    assert!(holds(r#"src.ip in cidr(198.51.100.0/24, "2001:db8::/32")"#));
    assert!(!holds("src.ip in cidr(10.0.0.0/8, 192.168.0.0/16)"));
    assert!(holds(r#"src.ip in ("203.0.113.9", "198.51.100.23")"#));
    // Raw string fields are parsed as addresses by cidr tests.
    assert!(holds("sourceIPAddress in cidr(198.51.100.0/25)"));
}

#[test]
fn quantifiers_test_one_element_at_a_time() {
    // Element-wise, the two tests hold on different statements …
    assert!(holds(
        r#"requestParameters.bucketPolicy.Statement.Effect == "Allow" and requestParameters.bucketPolicy.Statement.Principal == "*""#
    ));
    // … but no single statement is both.
    assert!(!holds(
        r#"any(requestParameters.bucketPolicy.Statement, Effect == "Allow" and Principal == "*")"#
    ));
    assert!(holds(
        r#"any(requestParameters.bucketPolicy.Statement, Effect == "Deny" and Condition exists)"#
    ));
    assert!(!holds(
        r#"all(requestParameters.bucketPolicy.Statement, Effect == "Allow")"#
    ));
    assert!(holds(
        r#"all(requestParameters.bucketPolicy.Statement, Effect in ("Allow", "Deny"))"#
    ));
    assert!(!holds(
        r#"any(requestParameters.missing, Effect == "Allow")"#
    ));
    assert!(!holds(
        r#"all(requestParameters.missing, Effect == "Allow")"#
    ));
    assert!(holds(
        r#"any(requestParameters.bucketPolicy.Statement, Principal.AWS endswith ":role/reader")"#
    ));
}

#[test]
fn pack_lists_and_macros() {
    let defs = "lists:\n  writes: [PutBucketPolicy, PutBucketAcl]\n  ports: [22, 3389]\nmacros:\n  is_write: api.operation in writes\n  from_ci: actor.name == \"ci-deploy\" and is_write\n";
    assert!(holds_with("is_write", defs));
    assert!(holds_with(
        "from_ci and not (api.operation in~ (\"deletebucket\"))",
        defs
    ));
    assert!(!holds_with("requestParameters.retries in ports", defs));
}
