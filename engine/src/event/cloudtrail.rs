//! CloudTrail records: management events ([`Source::CloudTrail`]) and S3 data events
//! ([`Source::S3Data`]).
//!
//! A record is recognized by its keys (`eventVersion`, `eventSource`, `eventName`,
//! `userIdentity` …) and kept whole as parsed. Whether it is an S3 data event is told
//! from the record itself, never from the file name: `eventCategory` is `Data` and
//! `eventSource` is `s3.amazonaws.com`; or, in records written before `eventCategory`
//! existed, `managementEvent` is `false` (or absent) and the operation is one of the S3
//! object-level operations. The accessor functions here serve the catalog entries that
//! are more than a path (`outcome`, `actor.name`, `actor.mfa`, `instance.id` …).

use std::borrow::Cow;

use sonic_rs::{JsonValueTrait, Value};

use super::path::{get, get_str};
use super::{Event, FieldValue, Raw, Source};

/// The documented top-level keys of a CloudTrail record ("CloudTrail record contents").
pub(crate) const RAW_ROOTS: &[&str] = &[
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "eventType",
    "apiVersion",
    "managementEvent",
    "readOnly",
    "resources",
    "recipientAccountId",
    "serviceEventDetails",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "eventCategory",
    "addendum",
    "sessionCredentialFromConsole",
    "edgeDeviceDetails",
    "tlsDetails",
    "insightDetails",
];

/// S3 object-level (data plane) operations, for records without `eventCategory`.
const S3_DATA_OPERATIONS: &[&str] = &[
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",
    "CreateMultipartUpload",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjects",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "HeadObject",
    "ListMultipartUploadParts",
    "ListObjectVersions",
    "ListObjects",
    "ListObjectsV2",
    "ListParts",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "RestoreObject",
    "SelectObjectContent",
    "UploadPart",
    "UploadPartCopy",
];

/// True when the JSON object is a CloudTrail record (not an S3 event notification,
/// whose `eventSource` is `aws:s3`).
pub(crate) fn is_record(v: &Value) -> bool {
    let Some(source) = get_str(v, &["eventSource"]) else {
        return false;
    };
    !source.starts_with("aws:")
        && (v.get("eventName").is_some())
        && (v.get("eventVersion").is_some()
            || v.get("eventID").is_some()
            || v.get("userIdentity").is_some())
}

/// True when the JSON object is a CloudTrail digest file (skipped, not an event).
pub(crate) fn is_digest(v: &Value) -> bool {
    v.get("digestStartTime").is_some()
        && (v.get("awsAccountId").is_some() || v.get("digestEndTime").is_some())
}

/// Management or S3 data, told from the record.
pub(crate) fn source_of(v: &Value) -> Source {
    if get_str(v, &["eventSource"]) != Some("s3.amazonaws.com") {
        return Source::CloudTrail;
    }
    let data = match get_str(v, &["eventCategory"]) {
        Some(category) => category == "Data",
        None => {
            let management = get(v, &["managementEvent"]).and_then(|m| m.as_bool());
            management != Some(true)
                && get_str(v, &["eventName"]).is_some_and(|n| S3_DATA_OPERATIONS.contains(&n))
        }
    };
    if data {
        Source::S3Data
    } else {
        Source::CloudTrail
    }
}

fn json(ev: &Event) -> Option<&Value> {
    match &ev.raw {
        Raw::Json(v) => Some(v),
        Raw::Flow(_) => None,
    }
}

/// `account`: `recipientAccountId`, else `userIdentity.accountId`.
pub(crate) fn account(ev: &Event) -> Option<FieldValue<'_>> {
    let v = json(ev)?;
    get_str(v, &["recipientAccountId"])
        .or_else(|| get_str(v, &["userIdentity", "accountId"]))
        .map(FieldValue::str)
}

/// `outcome`: `failure` when `errorCode` is present or a console sign-in failed.
pub(crate) fn outcome(ev: &Event) -> Option<FieldValue<'_>> {
    let v = json(ev)?;
    let failed = get(v, &["errorCode"]).is_some()
        || (get_str(v, &["eventName"]) == Some("ConsoleLogin")
            && get_str(v, &["responseElements", "ConsoleLogin"]) == Some("Failure"));
    Some(FieldValue::str(if failed { "failure" } else { "success" }))
}

/// `src.host`: `sourceIPAddress` when it is not an IP address (a service name).
pub(crate) fn src_host(ev: &Event) -> Option<FieldValue<'_>> {
    let s = get_str(json(ev)?, &["sourceIPAddress"])?;
    (super::parse_ip(s).is_none() && !s.is_empty()).then(|| FieldValue::str(s))
}

/// `actor.name`: `userName`, else the session issuer's `userName`, else `root`.
pub(crate) fn actor_name(ev: &Event) -> Option<FieldValue<'_>> {
    let v = json(ev)?;
    if let Some(name) = get_str(v, &["userIdentity", "userName"]) {
        return Some(FieldValue::str(name));
    }
    let issuer = [
        "userIdentity",
        "sessionContext",
        "sessionIssuer",
        "userName",
    ];
    if let Some(name) = get_str(v, &issuer) {
        return Some(FieldValue::str(name));
    }
    (get_str(v, &["userIdentity", "type"]) == Some("Root")).then(|| FieldValue::str("root"))
}

/// `actor.mfa`: `sessionContext.attributes.mfaAuthenticated`, or for `ConsoleLogin`
/// `additionalEventData.MFAUsed`.
pub(crate) fn actor_mfa(ev: &Event) -> Option<FieldValue<'_>> {
    let v = json(ev)?;
    let attr = [
        "userIdentity",
        "sessionContext",
        "attributes",
        "mfaAuthenticated",
    ];
    if let Some(m) = get(v, &attr) {
        if let Some(b) = m.as_bool() {
            return Some(FieldValue::Bool(b));
        }
        match m.as_str() {
            Some("true") => return Some(FieldValue::Bool(true)),
            Some("false") => return Some(FieldValue::Bool(false)),
            _ => {}
        }
    }
    if get_str(v, &["eventName"]) != Some("ConsoleLogin") {
        return None;
    }
    match get_str(v, &["additionalEventData", "MFAUsed"])? {
        "Yes" => Some(FieldValue::Bool(true)),
        "No" => Some(FieldValue::Bool(false)),
        _ => None,
    }
}

/// `instance.id`: the `i-…` session name of an EC2 instance-role session
/// (`principalId` `AROA…:i-0abc…`).
pub(crate) fn instance_id(ev: &Event) -> Option<FieldValue<'_>> {
    let principal = get_str(json(ev)?, &["userIdentity", "principalId"])?;
    let (_, session) = principal.split_once(':')?;
    let hex = session.strip_prefix("i-")?;
    (!hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit()))
        .then_some(FieldValue::Str(Cow::Borrowed(session)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::reader::tests::{check_fields, read_fixture, FieldCase};

    #[test]
    fn tells_s3_data_from_management() {
        let v = |s: &str| -> Value { sonic_rs::from_str(s).unwrap() };
        let data = v(
            r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventCategory":"Data"}"#,
        );
        assert_eq!(source_of(&data), Source::S3Data);
        let mgmt = v(
            r#"{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","eventCategory":"Management"}"#,
        );
        assert_eq!(source_of(&mgmt), Source::CloudTrail);
        let old = v(
            r#"{"eventSource":"s3.amazonaws.com","eventName":"PutObject","managementEvent":false}"#,
        );
        assert_eq!(source_of(&old), Source::S3Data);
        let older = v(r#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteObject"}"#);
        assert_eq!(source_of(&older), Source::S3Data);
        let old_mgmt = v(
            r#"{"eventSource":"s3.amazonaws.com","eventName":"CreateBucket","managementEvent":true}"#,
        );
        assert_eq!(source_of(&old_mgmt), Source::CloudTrail);
        let iam = v(
            r#"{"eventSource":"iam.amazonaws.com","eventName":"GetObject","eventCategory":"Data"}"#,
        );
        assert_eq!(source_of(&iam), Source::CloudTrail);
        let notification =
            v(r#"{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put"}"#);
        assert!(!is_record(&notification));
    }

    /// Every catalog field served for CloudTrail and S3 data records, checked on the
    /// fixtures under `testdata/cloudtrail/` and `testdata/s3data/`.
    #[test]
    fn serves_every_catalog_field() {
        let cases: &[FieldCase] = &[
            (
                "cloudtrail/root-console-login.json",
                0,
                &[
                    ("source", "cloudtrail"),
                    ("time", "2024-05-01T08:15:02Z"),
                    ("account", "111122223333"),
                    ("region", "us-east-1"),
                    ("event.id", "3b2f6c1e-7a0d-4a59-9c55-2f8e1d0c4b71"),
                    ("outcome", "success"),
                    ("user_agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"),
                    ("src.ip", "198.51.100.23"),
                    ("actor.type", "Root"),
                    ("actor.arn", "arn:aws:iam::111122223333:root"),
                    ("actor.name", "root"),
                    ("actor.account", "111122223333"),
                    ("actor.principal_id", "111122223333"),
                    ("actor.mfa", "false"),
                    ("api.service", "signin.amazonaws.com"),
                    ("api.operation", "ConsoleLogin"),
                    ("api.type", "AwsConsoleSignIn"),
                    ("api.read_only", "false"),
                ],
            ),
            (
                "cloudtrail/records.json",
                0,
                &[
                    ("source", "cloudtrail"),
                    ("outcome", "failure"),
                    ("error.code", "AccessDenied"),
                    ("error.message", "User: arn:aws:sts::111122223333:assumed-role/web-app-role/i-0a1b2c3d4e5f67890 is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111122223333:user/ because no identity-based policy allows the iam:ListUsers action"),
                    ("actor.type", "AssumedRole"),
                    ("actor.arn", "arn:aws:sts::111122223333:assumed-role/web-app-role/i-0a1b2c3d4e5f67890"),
                    ("actor.name", "web-app-role"),
                    ("actor.principal_id", "AROAEXAMPLEROLEID1234:i-0a1b2c3d4e5f67890"),
                    ("actor.access_key", "ASIAEXAMPLEKEY123456"),
                    ("actor.session_issuer", "arn:aws:iam::111122223333:role/web-app-role"),
                    ("actor.mfa", "false"),
                    ("instance.id", "i-0a1b2c3d4e5f67890"),
                    ("src.ip", "203.0.113.45"),
                    ("api.read_only", "true"),
                ],
            ),
            (
                "cloudtrail/records.json",
                1,
                &[
                    ("actor.type", "IAMUser"),
                    ("actor.name", "alice"),
                    ("actor.mfa", "true"),
                    ("api.operation", "CreateAccessKey"),
                    ("outcome", "success"),
                    ("api.read_only", "false"),
                ],
            ),
            (
                "cloudtrail/records.json",
                2,
                &[
                    ("actor.type", "AWSService"),
                    ("actor.invoked_by", "cloudtrail.amazonaws.com"),
                    ("src.host", "cloudtrail.amazonaws.com"),
                    ("resources", r#"["arn:aws:s3:::org-trail-logs"]"#),
                    ("s3.bucket", "org-trail-logs"),
                    ("api.operation", "GetBucketAcl"),
                ],
            ),
            (
                "cloudtrail/console-login-failure.json",
                0,
                &[
                    ("outcome", "failure"),
                    ("actor.type", "IAMUser"),
                    ("actor.name", "bob"),
                    ("actor.mfa", "true"),
                    ("error.message", "Failed authentication"),
                ],
            ),
            (
                "s3data/data-events.jsonl",
                0,
                &[
                    ("source", "s3data"),
                    ("api.service", "s3.amazonaws.com"),
                    ("api.operation", "GetObject"),
                    ("s3.bucket", "finance-reports-prod"),
                    ("s3.key", "2024/q1/payroll.csv"),
                    (
                        "resources",
                        r#"["arn:aws:s3:::finance-reports-prod/2024/q1/payroll.csv","arn:aws:s3:::finance-reports-prod"]"#,
                    ),
                    ("account", "111122223333"),
                    ("outcome", "success"),
                ],
            ),
            (
                "s3data/data-events.jsonl",
                1,
                &[("source", "s3data"), ("api.operation", "PutObject")],
            ),
            (
                "s3data/data-events.jsonl",
                2,
                &[("source", "cloudtrail"), ("api.operation", "PutBucketPolicy")],
            ),
        ];
        check_fields(cases, &[Source::CloudTrail, Source::S3Data]);
    }

    #[test]
    fn missing_values_are_none() {
        let events = read_fixture("cloudtrail/records.json");
        let ev = &events[1];
        for name in [
            "error.code",
            "src.host",
            "instance.id",
            "s3.bucket",
            "dns.query",
        ] {
            assert!(ev.field(name).is_none(), "{name}");
        }
    }
}
