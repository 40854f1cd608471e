//! The field catalog: every normalized field a rule can name, in one static table.
//!
//! A [`FieldDef`] has a name (`actor.arn`), a [`FieldType`], documentation and, per
//! [`Source`], an accessor: a raw path into the source record (`userIdentity.arn`) or a
//! small function for what a path cannot say (fallbacks, parsing, derived values). The
//! value an accessor yields is converted to the field's type (an `ip` field parses its
//! text, a `time` field its timestamp); a value that does not convert is missing.
//!
//! The compiler resolves names with [`lookup`], validates raw paths against
//! [`raw_roots`], and the runtime reads values with [`FieldDef::get`]. `docs/fields.md`
//! is [`markdown`], and a test fails when it is stale.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::value::parse_rfc3339;
use super::{cloudtrail, dns, eks, vpcflow, Event, FieldValue, Raw, Source};
use crate::intel::geo::GeoAttr;
use Source::{CloudTrail as CT, Dns as DNS, Eks as EKS, S3Data as S3, VpcFlow as FLOW};

/// The type of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Text.
    Str,
    /// A 64-bit integer.
    Int,
    /// A floating-point number.
    Float,
    /// `true` or `false`.
    Bool,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A point in time (unix milliseconds).
    Time,
    /// A list of texts; comparisons hold when they hold for any element.
    StrList,
    /// Whatever the record holds (raw paths).
    Any,
}

impl FieldType {
    /// The name used in docs and diagnostics: `str`, `int`, `float`, `bool`, `ip`,
    /// `time`, `list<str>`, `any`.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Str => "str",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Ip => "ip",
            FieldType::Time => "time",
            FieldType::StrList => "list<str>",
            FieldType::Any => "any",
        }
    }
}

/// How a field is read from one source's records.
#[derive(Clone, Copy, Debug)]
enum Accessor {
    /// A path of keys into the JSON record (crossing arrays reaches every element), or
    /// the one field name of a flow record.
    Path(&'static [&'static str]),
    /// A function for what a path cannot say.
    Func(for<'e> fn(&'e Event) -> Option<FieldValue<'e>>),
    /// What the geo databases say of the address in another field; read through the
    /// databases the pack was compiled with, not from the record.
    Geo(GeoAttr, &'static str),
}

/// One normalized field.
#[derive(Debug)]
pub struct FieldDef {
    /// The name rules use: `actor.arn`.
    pub name: &'static str,
    /// The type of its values.
    pub ty: FieldType,
    /// What it means and where it comes from, per source (Markdown).
    pub doc: &'static str,
    /// A typical value.
    pub example: &'static str,
    accessors: &'static [(Source, Accessor)],
}

impl FieldDef {
    /// The field's value for `ev`: `None` when missing, null, not convertible to the
    /// field's type, or when the field does not apply to the event's source.
    pub fn get<'e>(&self, ev: &'e Event) -> Option<FieldValue<'e>> {
        let value = match self.accessor(ev.source)? {
            Accessor::Path(path) => match &ev.raw {
                Raw::Json(v) => super::path::walk(v, path)?,
                Raw::Flow(r) => match path {
                    [name] => r.value(name)?,
                    _ => return None,
                },
            },
            Accessor::Func(f) => f(ev)?,
            Accessor::Geo(..) => return None,
        };
        coerce(self.ty, value)
    }

    /// The sources this field applies to.
    pub fn sources(&self) -> impl Iterator<Item = Source> + '_ {
        self.accessors.iter().map(|(s, _)| *s)
    }

    /// True when the field applies to `source`.
    pub fn applies_to(&self, source: Source) -> bool {
        self.accessor(source).is_some()
    }

    /// The raw path the field reads for `source`, when it is a plain path (so a reader
    /// that extracts only referenced keys knows what to keep). `None` when the field is
    /// computed by a function or does not apply.
    pub fn raw_path(&self, source: Source) -> Option<&'static [&'static str]> {
        match self.accessor(source)? {
            Accessor::Path(p) => Some(p),
            Accessor::Func(_) | Accessor::Geo(..) => None,
        }
    }

    /// For a geo field: what it says, and of which field's address.
    pub fn geo(&self, source: Source) -> Option<(GeoAttr, &'static str)> {
        match self.accessor(source)? {
            Accessor::Geo(attr, base) => Some((attr, base)),
            _ => None,
        }
    }

    /// Converts a value read at [`FieldDef::raw_path`] to the field's type, as
    /// [`FieldDef::get`] does (for readers that walk the record themselves).
    pub(crate) fn convert<'e>(&self, value: FieldValue<'e>) -> Option<FieldValue<'e>> {
        coerce(self.ty, value)
    }

    fn accessor(&self, source: Source) -> Option<Accessor> {
        self.accessors
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, a)| *a)
    }
}

/// Converts an accessor's value to the field's type; `None` when it does not convert.
fn coerce(ty: FieldType, v: FieldValue<'_>) -> Option<FieldValue<'_>> {
    use FieldValue as V;
    match (ty, v) {
        (_, V::Null) => None,
        (FieldType::Any, v) => Some(v),
        (FieldType::Str, V::Str(s)) => Some(V::Str(s)),
        (FieldType::Str, V::Int(i)) => Some(V::Str(Cow::Owned(i.to_string()))),
        (FieldType::Str, V::Bool(b)) => Some(V::str(if b { "true" } else { "false" })),
        (FieldType::Int, V::Int(i)) => Some(V::Int(i)),
        (FieldType::Int, V::Str(s)) => s.trim().parse().ok().map(V::Int),
        (FieldType::Int, v @ V::Float(_)) => v.as_i64().map(V::Int),
        (FieldType::Float, V::Float(f)) => Some(V::Float(f)),
        (FieldType::Float, V::Int(i)) => Some(V::Float(i as f64)),
        (FieldType::Float, V::Str(s)) => s.trim().parse().ok().map(V::Float),
        (FieldType::Bool, V::Bool(b)) => Some(V::Bool(b)),
        (FieldType::Bool, V::Str(s)) => match &*s {
            "true" => Some(V::Bool(true)),
            "false" => Some(V::Bool(false)),
            _ => None,
        },
        (FieldType::Ip, V::Ip(ip)) => Some(V::Ip(ip)),
        (FieldType::Ip, V::Str(s)) => super::value::parse_ip(&s).map(V::Ip),
        (FieldType::Time, V::Time(t)) => Some(V::Time(t)),
        (FieldType::Time, V::Str(s)) => parse_rfc3339(&s).map(V::Time),
        // Integers are unix seconds (VPC flow `start`/`end`).
        (FieldType::Time, V::Int(secs)) => secs.checked_mul(1000).map(V::Time),
        (FieldType::StrList, V::List(items)) => {
            let items: Vec<_> = items
                .into_iter()
                .filter_map(|x| coerce(FieldType::Str, x))
                .collect();
            (!items.is_empty()).then_some(V::List(items))
        }
        (FieldType::StrList, V::Str(s)) => Some(V::List(vec![V::Str(s)])),
        _ => None,
    }
}

/// Every normalized field.
pub fn all() -> &'static [FieldDef] {
    FIELDS
}

/// The field named `name`.
pub fn lookup(name: &str) -> Option<&'static FieldDef> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, i))
            .collect()
    });
    index.get(name).map(|&i| &FIELDS[i])
}

/// The documented top-level keys of `source`'s records (for flow logs: the field
/// names). The compiler checks that a raw path starts with one of them and suggests
/// the nearest when it does not.
pub fn raw_roots(source: Source) -> &'static [&'static str] {
    match source {
        Source::CloudTrail | Source::S3Data => cloudtrail::RAW_ROOTS,
        Source::VpcFlow => vpcflow::RAW_ROOTS,
        Source::Dns => dns::RAW_ROOTS,
        Source::Eks => eks::RAW_ROOTS,
    }
}

const fn p(path: &'static [&'static str]) -> Accessor {
    Accessor::Path(path)
}

const fn g(attr: GeoAttr, base: &'static str) -> Accessor {
    Accessor::Geo(attr, base)
}

const fn f(func: for<'e> fn(&'e Event) -> Option<FieldValue<'e>>) -> Accessor {
    Accessor::Func(func)
}

fn source_name(ev: &Event) -> Option<FieldValue<'_>> {
    Some(FieldValue::str(ev.source.name()))
}

static FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "source",
        ty: FieldType::Str,
        doc: "The source of the event: `cloudtrail`, `s3data`, `vpcflow`, `dns` or `eks`.",
        example: "cloudtrail",
        accessors: &[
            (CT, f(source_name)),
            (S3, f(source_name)),
            (FLOW, f(source_name)),
            (DNS, f(source_name)),
            (EKS, f(source_name)),
        ],
    },
    FieldDef {
        name: "time",
        ty: FieldType::Time,
        doc: "When the event happened. CloudTrail: `eventTime`; VPC flow: `start` (unix \
              seconds); DNS: `query_timestamp`; EKS: `requestReceivedTimestamp`, else \
              `stageTimestamp`.",
        example: "2024-05-01T12:34:56Z",
        accessors: &[
            (CT, p(&["eventTime"])),
            (S3, p(&["eventTime"])),
            (FLOW, p(&["start"])),
            (DNS, p(&["query_timestamp"])),
            (EKS, f(eks::time)),
        ],
    },
    FieldDef {
        name: "account",
        ty: FieldType::Str,
        doc: "The AWS account the event belongs to. CloudTrail: `recipientAccountId`, else \
              `userIdentity.accountId`; VPC flow: `account-id`; DNS: `account_id`.",
        example: "111122223333",
        accessors: &[
            (CT, f(cloudtrail::account)),
            (S3, f(cloudtrail::account)),
            (FLOW, p(&["account-id"])),
            (DNS, p(&["account_id"])),
        ],
    },
    FieldDef {
        name: "region",
        ty: FieldType::Str,
        doc: "The AWS Region. CloudTrail: `awsRegion`; VPC flow: `region` (custom formats, \
              version 4 and later); DNS: `region`.",
        example: "us-east-1",
        accessors: &[
            (CT, p(&["awsRegion"])),
            (S3, p(&["awsRegion"])),
            (FLOW, p(&["region"])),
            (DNS, p(&["region"])),
        ],
    },
    FieldDef {
        name: "event.id",
        ty: FieldType::Str,
        doc: "The unique id of the record. CloudTrail: `eventID`; EKS: `auditID`.",
        example: "3b2f6c1e-7a0d-4a59-9c55-2f8e1d0c4b71",
        accessors: &[
            (CT, p(&["eventID"])),
            (S3, p(&["eventID"])),
            (EKS, p(&["auditID"])),
        ],
    },
    FieldDef {
        name: "outcome",
        ty: FieldType::Str,
        doc: "`success` or `failure`. CloudTrail: `failure` when `errorCode` is present, or \
              for a `ConsoleLogin` whose `responseElements.ConsoleLogin` is `Failure`; EKS: \
              `failure` when `responseStatus.code` is 400 or more.",
        example: "failure",
        accessors: &[
            (CT, f(cloudtrail::outcome)),
            (S3, f(cloudtrail::outcome)),
            (EKS, f(eks::outcome)),
        ],
    },
    FieldDef {
        name: "error.code",
        ty: FieldType::Str,
        doc: "Why the call failed. CloudTrail: `errorCode`; EKS: `responseStatus.reason`.",
        example: "AccessDenied",
        accessors: &[
            (CT, p(&["errorCode"])),
            (S3, p(&["errorCode"])),
            (EKS, p(&["responseStatus", "reason"])),
        ],
    },
    FieldDef {
        name: "error.message",
        ty: FieldType::Str,
        doc: "The error text. CloudTrail: `errorMessage`; EKS: `responseStatus.message`.",
        example:
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:ListUsers",
        accessors: &[
            (CT, p(&["errorMessage"])),
            (S3, p(&["errorMessage"])),
            (EKS, p(&["responseStatus", "message"])),
        ],
    },
    FieldDef {
        name: "user_agent",
        ty: FieldType::Str,
        doc: "The client's user agent. CloudTrail and EKS: `userAgent`.",
        example: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.amzn.2023",
        accessors: &[
            (CT, p(&["userAgent"])),
            (S3, p(&["userAgent"])),
            (EKS, p(&["userAgent"])),
        ],
    },
    FieldDef {
        name: "src.ip",
        ty: FieldType::Ip,
        doc: "The address the request or traffic came from. CloudTrail: `sourceIPAddress` \
              when it is an IP address (see `src.host`); VPC flow: `srcaddr`; DNS: \
              `srcaddr`; EKS: the first of `sourceIPs`.",
        example: "203.0.113.10",
        accessors: &[
            (CT, p(&["sourceIPAddress"])),
            (S3, p(&["sourceIPAddress"])),
            (FLOW, p(&["srcaddr"])),
            (DNS, p(&["srcaddr"])),
            (EKS, f(eks::src_ip)),
        ],
    },
    FieldDef {
        name: "src.host",
        ty: FieldType::Str,
        doc: "CloudTrail: `sourceIPAddress` when it is not an IP address: the service that \
              made the call (`ec2.amazonaws.com`) or `AWS Internal`.",
        example: "ec2.amazonaws.com",
        accessors: &[(CT, f(cloudtrail::src_host)), (S3, f(cloudtrail::src_host))],
    },
    FieldDef {
        name: "src.port",
        ty: FieldType::Int,
        doc: "The source port. VPC flow: `srcport`; DNS: `srcport`.",
        example: "49152",
        accessors: &[(FLOW, p(&["srcport"])), (DNS, p(&["srcport"]))],
    },
    FieldDef {
        name: "dst.ip",
        ty: FieldType::Ip,
        doc: "The destination address. VPC flow: `dstaddr`.",
        example: "10.0.1.25",
        accessors: &[(FLOW, p(&["dstaddr"]))],
    },
    FieldDef {
        name: "dst.port",
        ty: FieldType::Int,
        doc: "The destination port. VPC flow: `dstport`.",
        example: "443",
        accessors: &[(FLOW, p(&["dstport"]))],
    },
    FieldDef {
        name: "src.country",
        ty: FieldType::Str,
        doc: "The ISO 3166-1 country code of `src.ip`, from the geo database given with \
              `--geoip` (a City or Country database). Missing without one.",
        example: "DE",
        accessors: &[
            (CT, g(GeoAttr::Country, "src.ip")),
            (S3, g(GeoAttr::Country, "src.ip")),
            (FLOW, g(GeoAttr::Country, "src.ip")),
            (EKS, g(GeoAttr::Country, "src.ip")),
        ],
    },
    FieldDef {
        name: "src.country_name",
        ty: FieldType::Str,
        doc: "The English name of `src.country`, from the geo database given with `--geoip`.",
        example: "Germany",
        accessors: &[
            (CT, g(GeoAttr::CountryName, "src.ip")),
            (S3, g(GeoAttr::CountryName, "src.ip")),
            (FLOW, g(GeoAttr::CountryName, "src.ip")),
            (EKS, g(GeoAttr::CountryName, "src.ip")),
        ],
    },
    FieldDef {
        name: "src.city",
        ty: FieldType::Str,
        doc: "The English name of the city of `src.ip`, from a City database given with \
              `--geoip`.",
        example: "Frankfurt am Main",
        accessors: &[
            (CT, g(GeoAttr::City, "src.ip")),
            (S3, g(GeoAttr::City, "src.ip")),
            (FLOW, g(GeoAttr::City, "src.ip")),
            (EKS, g(GeoAttr::City, "src.ip")),
        ],
    },
    FieldDef {
        name: "src.asn",
        ty: FieldType::Int,
        doc: "The autonomous system number of `src.ip`, from an ASN database given with \
              `--geoip`.",
        example: "16509",
        accessors: &[
            (CT, g(GeoAttr::Asn, "src.ip")),
            (S3, g(GeoAttr::Asn, "src.ip")),
            (FLOW, g(GeoAttr::Asn, "src.ip")),
            (EKS, g(GeoAttr::Asn, "src.ip")),
        ],
    },
    FieldDef {
        name: "src.as_org",
        ty: FieldType::Str,
        doc: "The organisation of `src.asn`, from an ASN database given with `--geoip`.",
        example: "AMAZON-02",
        accessors: &[
            (CT, g(GeoAttr::AsOrg, "src.ip")),
            (S3, g(GeoAttr::AsOrg, "src.ip")),
            (FLOW, g(GeoAttr::AsOrg, "src.ip")),
            (EKS, g(GeoAttr::AsOrg, "src.ip")),
        ],
    },
    FieldDef {
        name: "dst.country",
        ty: FieldType::Str,
        doc: "The ISO 3166-1 country code of `dst.ip`, from the geo database given with \
              `--geoip`.",
        example: "NL",
        accessors: &[(FLOW, g(GeoAttr::Country, "dst.ip"))],
    },
    FieldDef {
        name: "dst.asn",
        ty: FieldType::Int,
        doc: "The autonomous system number of `dst.ip`, from an ASN database given with \
              `--geoip`.",
        example: "24940",
        accessors: &[(FLOW, g(GeoAttr::Asn, "dst.ip"))],
    },
    FieldDef {
        name: "dst.as_org",
        ty: FieldType::Str,
        doc: "The organisation of `dst.asn`, from an ASN database given with `--geoip`.",
        example: "Hetzner Online GmbH",
        accessors: &[(FLOW, g(GeoAttr::AsOrg, "dst.ip"))],
    },
    FieldDef {
        name: "actor.type",
        ty: FieldType::Str,
        doc: "The kind of identity. CloudTrail: `userIdentity.type` (`Root`, `IAMUser`, \
              `AssumedRole`, `FederatedUser`, `AWSAccount`, `AWSService`, \
              `IdentityCenterUser`, `Unknown`); EKS: `ServiceAccount` for \
              `system:serviceaccount:*`, `Anonymous` for `system:anonymous`, `Node` for \
              `system:node:*`, else `User`.",
        example: "AssumedRole",
        accessors: &[
            (CT, p(&["userIdentity", "type"])),
            (S3, p(&["userIdentity", "type"])),
            (EKS, f(eks::actor_type)),
        ],
    },
    FieldDef {
        name: "actor.arn",
        ty: FieldType::Str,
        doc: "The ARN of the identity. CloudTrail: `userIdentity.arn`; EKS: the IAM \
              identity the user was mapped from, `user.extra.arn[0]`.",
        example: "arn:aws:sts::111122223333:assumed-role/admin/alice",
        accessors: &[
            (CT, p(&["userIdentity", "arn"])),
            (S3, p(&["userIdentity", "arn"])),
            (EKS, f(eks::actor_arn)),
        ],
    },
    FieldDef {
        name: "actor.name",
        ty: FieldType::Str,
        doc: "The identity's name. CloudTrail: `userIdentity.userName`, else the session \
              issuer's `userName` (the role name), else `root` for the root user; EKS: \
              `user.username`.",
        example: "alice",
        accessors: &[
            (CT, f(cloudtrail::actor_name)),
            (S3, f(cloudtrail::actor_name)),
            (EKS, p(&["user", "username"])),
        ],
    },
    FieldDef {
        name: "actor.account",
        ty: FieldType::Str,
        doc: "The account that owns the identity. CloudTrail: `userIdentity.accountId`.",
        example: "111122223333",
        accessors: &[
            (CT, p(&["userIdentity", "accountId"])),
            (S3, p(&["userIdentity", "accountId"])),
        ],
    },
    FieldDef {
        name: "actor.principal_id",
        ty: FieldType::Str,
        doc: "The principal's unique id. CloudTrail: `userIdentity.principalId`; EKS: \
              `user.uid`.",
        example: "AROAEXAMPLEROLEID1234:alice",
        accessors: &[
            (CT, p(&["userIdentity", "principalId"])),
            (S3, p(&["userIdentity", "principalId"])),
            (EKS, p(&["user", "uid"])),
        ],
    },
    FieldDef {
        name: "actor.access_key",
        ty: FieldType::Str,
        doc: "The access key that signed the request. CloudTrail: `userIdentity.accessKeyId`.",
        example: "AKIAIOSFODNN7EXAMPLE",
        accessors: &[
            (CT, p(&["userIdentity", "accessKeyId"])),
            (S3, p(&["userIdentity", "accessKeyId"])),
        ],
    },
    FieldDef {
        name: "actor.session_issuer",
        ty: FieldType::Str,
        doc: "The role (or user) whose temporary credentials made the call. CloudTrail: \
              `userIdentity.sessionContext.sessionIssuer.arn`.",
        example: "arn:aws:iam::111122223333:role/admin",
        accessors: &[
            (
                CT,
                p(&["userIdentity", "sessionContext", "sessionIssuer", "arn"]),
            ),
            (
                S3,
                p(&["userIdentity", "sessionContext", "sessionIssuer", "arn"]),
            ),
        ],
    },
    FieldDef {
        name: "actor.invoked_by",
        ty: FieldType::Str,
        doc: "The AWS service that made the call on the identity's behalf. CloudTrail: \
              `userIdentity.invokedBy`.",
        example: "cloudformation.amazonaws.com",
        accessors: &[
            (CT, p(&["userIdentity", "invokedBy"])),
            (S3, p(&["userIdentity", "invokedBy"])),
        ],
    },
    FieldDef {
        name: "actor.mfa",
        ty: FieldType::Bool,
        doc: "Whether the identity signed in with MFA. CloudTrail: \
              `userIdentity.sessionContext.attributes.mfaAuthenticated`, or for \
              `ConsoleLogin` `additionalEventData.MFAUsed` (`Yes`/`No`).",
        example: "false",
        accessors: &[
            (CT, f(cloudtrail::actor_mfa)),
            (S3, f(cloudtrail::actor_mfa)),
        ],
    },
    FieldDef {
        name: "actor.groups",
        ty: FieldType::StrList,
        doc: "The groups of the Kubernetes user. EKS: `user.groups`.",
        example: "[\"system:masters\", \"system:authenticated\"]",
        accessors: &[(EKS, p(&["user", "groups"]))],
    },
    FieldDef {
        name: "api.service",
        ty: FieldType::Str,
        doc: "The service called. CloudTrail: `eventSource`.",
        example: "iam.amazonaws.com",
        accessors: &[(CT, p(&["eventSource"])), (S3, p(&["eventSource"]))],
    },
    FieldDef {
        name: "api.operation",
        ty: FieldType::Str,
        doc: "The operation called. CloudTrail: `eventName`.",
        example: "CreateAccessKey",
        accessors: &[(CT, p(&["eventName"])), (S3, p(&["eventName"]))],
    },
    FieldDef {
        name: "api.type",
        ty: FieldType::Str,
        doc: "The kind of CloudTrail event: `eventType` (`AwsApiCall`, `AwsConsoleSignIn`, \
              `AwsServiceEvent`, `AwsConsoleAction`, `AwsCloudTrailInsight`).",
        example: "AwsApiCall",
        accessors: &[(CT, p(&["eventType"])), (S3, p(&["eventType"]))],
    },
    FieldDef {
        name: "api.read_only",
        ty: FieldType::Bool,
        doc: "Whether the operation only reads. CloudTrail: `readOnly`.",
        example: "true",
        accessors: &[(CT, p(&["readOnly"])), (S3, p(&["readOnly"]))],
    },
    FieldDef {
        name: "resources",
        ty: FieldType::StrList,
        doc: "The ARNs of the resources the call touched. CloudTrail: `resources[].ARN`.",
        example: "[\"arn:aws:s3:::example-bucket/report.csv\", \"arn:aws:s3:::example-bucket\"]",
        accessors: &[
            (CT, p(&["resources", "ARN"])),
            (S3, p(&["resources", "ARN"])),
        ],
    },
    FieldDef {
        name: "s3.bucket",
        ty: FieldType::Str,
        doc: "The bucket named in the request. CloudTrail: `requestParameters.bucketName`.",
        example: "example-bucket",
        accessors: &[
            (CT, p(&["requestParameters", "bucketName"])),
            (S3, p(&["requestParameters", "bucketName"])),
        ],
    },
    FieldDef {
        name: "s3.key",
        ty: FieldType::Str,
        doc: "The object key named in the request. CloudTrail: `requestParameters.key`.",
        example: "reports/2024/q1.csv",
        accessors: &[
            (CT, p(&["requestParameters", "key"])),
            (S3, p(&["requestParameters", "key"])),
        ],
    },
    FieldDef {
        name: "instance.id",
        ty: FieldType::Str,
        doc: "The EC2 instance involved. CloudTrail: the `i-…` session name of an instance \
              role session (`userIdentity.principalId` `AROA…:i-0abc…`); VPC flow: \
              `instance-id`; DNS: `srcids.instance`.",
        example: "i-0a1b2c3d4e5f67890",
        accessors: &[
            (CT, f(cloudtrail::instance_id)),
            (S3, f(cloudtrail::instance_id)),
            (FLOW, p(&["instance-id"])),
            (DNS, p(&["srcids", "instance"])),
        ],
    },
    FieldDef {
        name: "net.interface",
        ty: FieldType::Str,
        doc: "The network interface. VPC flow: `interface-id`.",
        example: "eni-0a1b2c3d4e5f67890",
        accessors: &[(FLOW, p(&["interface-id"]))],
    },
    FieldDef {
        name: "net.vpc",
        ty: FieldType::Str,
        doc: "The VPC. VPC flow: `vpc-id`; DNS: `vpc_id`.",
        example: "vpc-0b1d2b3f4e5a6b7c8",
        accessors: &[(FLOW, p(&["vpc-id"])), (DNS, p(&["vpc_id"]))],
    },
    FieldDef {
        name: "net.subnet",
        ty: FieldType::Str,
        doc: "The subnet. VPC flow: `subnet-id`.",
        example: "subnet-0fedcba9876543210",
        accessors: &[(FLOW, p(&["subnet-id"]))],
    },
    FieldDef {
        name: "net.protocol",
        ty: FieldType::Int,
        doc: "The IANA protocol number. VPC flow: `protocol`.",
        example: "6",
        accessors: &[(FLOW, p(&["protocol"]))],
    },
    FieldDef {
        name: "net.protocol_name",
        ty: FieldType::Str,
        doc: "The protocol by name. VPC flow: `tcp`, `udp`, `icmp`, `icmpv6`, else the \
              number; DNS: `transport` lower-cased (`udp`, `tcp`, `doh`).",
        example: "tcp",
        accessors: &[(FLOW, f(vpcflow::protocol_name)), (DNS, f(dns::transport))],
    },
    FieldDef {
        name: "net.packets",
        ty: FieldType::Int,
        doc: "Packets in the flow. VPC flow: `packets`.",
        example: "12",
        accessors: &[(FLOW, p(&["packets"]))],
    },
    FieldDef {
        name: "net.bytes",
        ty: FieldType::Int,
        doc: "Bytes in the flow. VPC flow: `bytes`.",
        example: "4820",
        accessors: &[(FLOW, p(&["bytes"]))],
    },
    FieldDef {
        name: "net.action",
        ty: FieldType::Str,
        doc: "Whether security groups and network ACLs let the traffic through. VPC flow: \
              `action` (`ACCEPT`, `REJECT`).",
        example: "REJECT",
        accessors: &[(FLOW, p(&["action"]))],
    },
    FieldDef {
        name: "net.log_status",
        ty: FieldType::Str,
        doc: "The state of the flow-log record. VPC flow: `log-status` (`OK`, `NODATA`: no \
              traffic in the interval, `SKIPDATA`: records were skipped).",
        example: "OK",
        accessors: &[(FLOW, p(&["log-status"]))],
    },
    FieldDef {
        name: "net.direction",
        ty: FieldType::Str,
        doc: "The direction of the flow relative to the interface. VPC flow: \
              `flow-direction` (`ingress`, `egress`; version 5).",
        example: "egress",
        accessors: &[(FLOW, p(&["flow-direction"]))],
    },
    FieldDef {
        name: "net.tcp_flags",
        ty: FieldType::Int,
        doc: "The bitwise OR of the TCP flags seen in the flow. VPC flow: `tcp-flags` \
              (version 3).",
        example: "19",
        accessors: &[(FLOW, p(&["tcp-flags"]))],
    },
    FieldDef {
        name: "net.start",
        ty: FieldType::Time,
        doc: "When the first packet of the flow was seen. VPC flow: `start`.",
        example: "2024-05-01T08:00:00Z",
        accessors: &[(FLOW, p(&["start"]))],
    },
    FieldDef {
        name: "net.end",
        ty: FieldType::Time,
        doc: "When the last packet of the flow was seen. VPC flow: `end`.",
        example: "2024-05-01T08:00:58Z",
        accessors: &[(FLOW, p(&["end"]))],
    },
    FieldDef {
        name: "dns.query",
        ty: FieldType::Str,
        doc: "The name queried, without the trailing dot. DNS: `query_name`.",
        example: "www.example.com",
        accessors: &[(DNS, f(dns::query))],
    },
    FieldDef {
        name: "dns.type",
        ty: FieldType::Str,
        doc: "The record type queried. DNS: `query_type` (`A`, `AAAA`, `TXT` …).",
        example: "A",
        accessors: &[(DNS, p(&["query_type"]))],
    },
    FieldDef {
        name: "dns.class",
        ty: FieldType::Str,
        doc: "The query class. DNS: `query_class`.",
        example: "IN",
        accessors: &[(DNS, p(&["query_class"]))],
    },
    FieldDef {
        name: "dns.rcode",
        ty: FieldType::Str,
        doc: "The response code. DNS: `rcode` (`NOERROR`, `NXDOMAIN`, `SERVFAIL` …).",
        example: "NXDOMAIN",
        accessors: &[(DNS, p(&["rcode"]))],
    },
    FieldDef {
        name: "dns.answers",
        ty: FieldType::StrList,
        doc: "The answer data. DNS: `answers[].Rdata`.",
        example: "[\"192.0.2.44\"]",
        accessors: &[(DNS, p(&["answers", "Rdata"]))],
    },
    FieldDef {
        name: "k8s.verb",
        ty: FieldType::Str,
        doc: "The Kubernetes verb. EKS: `verb` (`get`, `list`, `create`, `delete` …).",
        example: "create",
        accessors: &[(EKS, p(&["verb"]))],
    },
    FieldDef {
        name: "k8s.resource",
        ty: FieldType::Str,
        doc: "The resource kind. EKS: `objectRef.resource`.",
        example: "pods",
        accessors: &[(EKS, p(&["objectRef", "resource"]))],
    },
    FieldDef {
        name: "k8s.subresource",
        ty: FieldType::Str,
        doc: "The subresource. EKS: `objectRef.subresource` (`exec`, `attach`, `log` …).",
        example: "exec",
        accessors: &[(EKS, p(&["objectRef", "subresource"]))],
    },
    FieldDef {
        name: "k8s.namespace",
        ty: FieldType::Str,
        doc: "The namespace. EKS: `objectRef.namespace`.",
        example: "kube-system",
        accessors: &[(EKS, p(&["objectRef", "namespace"]))],
    },
    FieldDef {
        name: "k8s.name",
        ty: FieldType::Str,
        doc: "The object's name. EKS: `objectRef.name`.",
        example: "coredns-5d78c9869d-4xk2p",
        accessors: &[(EKS, p(&["objectRef", "name"]))],
    },
    FieldDef {
        name: "k8s.api_group",
        ty: FieldType::Str,
        doc: "The API group (empty for the core group). EKS: `objectRef.apiGroup`.",
        example: "rbac.authorization.k8s.io",
        accessors: &[(EKS, p(&["objectRef", "apiGroup"]))],
    },
    FieldDef {
        name: "k8s.user",
        ty: FieldType::Str,
        doc: "The Kubernetes user name. EKS: `user.username`.",
        example: "system:serviceaccount:default:builder",
        accessors: &[(EKS, p(&["user", "username"]))],
    },
    FieldDef {
        name: "k8s.groups",
        ty: FieldType::StrList,
        doc: "The user's groups. EKS: `user.groups`.",
        example: "[\"system:serviceaccounts\", \"system:authenticated\"]",
        accessors: &[(EKS, p(&["user", "groups"]))],
    },
    FieldDef {
        name: "k8s.uri",
        ty: FieldType::Str,
        doc: "The request URI. EKS: `requestURI`.",
        example: "/api/v1/namespaces/default/secrets",
        accessors: &[(EKS, p(&["requestURI"]))],
    },
    FieldDef {
        name: "k8s.stage",
        ty: FieldType::Str,
        doc: "The stage of the request when the event was written. EKS: `stage` \
              (`RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`).",
        example: "ResponseComplete",
        accessors: &[(EKS, p(&["stage"]))],
    },
    FieldDef {
        name: "k8s.status_code",
        ty: FieldType::Int,
        doc: "The HTTP status of the response. EKS: `responseStatus.code`.",
        example: "403",
        accessors: &[(EKS, p(&["responseStatus", "code"]))],
    },
    FieldDef {
        name: "k8s.decision",
        ty: FieldType::Str,
        doc: "The authorizer's decision. EKS: \
              `annotations[\"authorization.k8s.io/decision\"]` (`allow`, `forbid`).",
        example: "allow",
        accessors: &[(EKS, p(&["annotations", "authorization.k8s.io/decision"]))],
    },
    FieldDef {
        name: "k8s.reason",
        ty: FieldType::Str,
        doc: "Why the authorizer decided so. EKS: \
              `annotations[\"authorization.k8s.io/reason\"]`.",
        example: "RBAC: allowed by ClusterRoleBinding \"cluster-admin\"",
        accessors: &[(EKS, p(&["annotations", "authorization.k8s.io/reason"]))],
    },
    FieldDef {
        name: "k8s.cluster",
        ty: FieldType::Str,
        doc: "The EKS cluster, when the event came wrapped by CloudWatch Logs with its log \
              group `/aws/eks/<cluster>/cluster`.",
        example: "prod-eu",
        accessors: &[(EKS, f(eks::cluster))],
    },
];

/// `docs/fields.md`: the catalog as Markdown.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# Field catalog\n\n\
         <!-- Generated from engine/src/event/catalog.rs by `catalog::markdown()`. \
         Do not edit: run `PICKET_UPDATE_DOCS=1 cargo test -p picket` to update. -->\n\n\
         Rules read events through **normalized fields**, the same name for the same \
         meaning in every source (`src.ip` is CloudTrail's `sourceIPAddress`, a flow \
         log's `srcaddr` and an EKS audit event's first `sourceIPs`), and through **raw \
         paths** into the source record (see below). A field that does not apply to an \
         event's source, or has no value in the event, is *missing*: comparisons with it \
         are false and `exists` is false.\n\n\
         Types: `str` text, `int` integer, `bool`, `ip` address (IPv4 or IPv6), `time` (a \
         point in time; compare it with timestamps such as `\"2024-05-01T00:00:00Z\"`), \
         `list<str>` (a comparison holds when it holds for any element).\n\n\
         Sources: `cloudtrail` (CloudTrail management events and any CloudTrail record \
         that is not an S3 data event), `s3data` (CloudTrail S3 data events), `vpcflow` \
         (VPC Flow Logs), `dns` (Route 53 Resolver query logs), `eks` (EKS / Kubernetes \
         audit logs).\n\n",
    );
    out.push_str("## Normalized fields\n\n");
    out.push_str("| field | type | sources | description | example |\n");
    out.push_str("|---|---|---|---|---|\n");
    for def in FIELDS {
        let sources: Vec<_> = def.sources().map(Source::name).collect();
        let sources = if sources.len() == Source::ALL.len() {
            "all".to_owned()
        } else {
            sources.join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | `{}` |\n",
            def.name,
            def.ty.name().replace('<', "&lt;").replace('>', "&gt;"),
            sources,
            cell(def.doc),
            cell(def.example),
        ));
    }
    out.push_str(
        "\n## Raw paths\n\n\
         Any name that is not a normalized field is a path into the source record, \
         written as the record names it: `requestParameters.bucketName`, \
         `userIdentity.sessionContext.attributes.mfaAuthenticated`, \
         `requestObject.spec.containers.securityContext.privileged`. Index an array with \
         `[0]` (`resources[0].ARN`) and quote a key that is not a plain name with \
         `[\"…\"]` (`annotations[\"authorization.k8s.io/decision\"]`). A path that \
         crosses an array without an index reaches every element, and the values found \
         form a list: `resources.ARN` is every ARN, and `resources.ARN == \"x\"` holds \
         when any of them is `x`. A raw value has the type of what the record holds; \
         compare it with a literal of that type.\n\n\
         The compiler checks that a raw path starts with a documented top-level key of \
         the rule's sources and suggests the nearest one when it does not:\n\n",
    );
    let groups: [(&str, Source); 4] = [
        ("cloudtrail, s3data", Source::CloudTrail),
        ("vpcflow", Source::VpcFlow),
        ("dns", Source::Dns),
        ("eks", Source::Eks),
    ];
    for (title, source) in groups {
        let keys: Vec<String> = raw_roots(source).iter().map(|k| format!("`{k}`")).collect();
        out.push_str(&format!("- **{title}**: {}\n", keys.join(", ")));
    }
    out.push_str(
        "\nA VPC flow record has no nesting: its raw paths are the field names of the \
         flow-log format (`srcaddr`, `pkt-dst-aws-service`, `log-status` …); a field \
         written `-` is missing, and the numeric fields (`version`, `srcport`, \
         `dstport`, `protocol`, `packets`, `bytes`, `start`, `end`, `tcp-flags`, \
         `traffic-path`) are integers.\n\n\
         ## How records are recognized\n\n\
         `picket scan` takes files, directories (walked recursively, hidden files \
         skipped) and `-` for standard input. Gzip is recognized by its content, not \
         its name, and so is the framing: a CloudTrail file `{\"Records\": [...]}` \
         (one line or pretty-printed), a single JSON event (pretty-printed or not), \
         JSON lines (or records written back to back, as Firehose delivers CloudWatch \
         Logs), a JSON array of events, or flow-log text. Each JSON record is \
         classified by its own keys, so one file may mix sources:\n\n\
         - CloudTrail: `eventSource` and `eventName` with `eventVersion`, `eventID` or \
         `userIdentity`; it is `s3data` when `eventSource` is `s3.amazonaws.com` and \
         `eventCategory` is `Data` (or, in older records without `eventCategory`, \
         `managementEvent` is not `true` and the operation is an object-level one such \
         as `GetObject`);\n\
         - Route 53 Resolver: `query_name` with `query_timestamp` or `query_type`;\n\
         - EKS audit: `kind: Event` with `apiVersion: audit.k8s.io/…`;\n\
         - CloudWatch Logs wrappers, unwrapped and their messages classified in turn: an \
         export record `{\"timestamp\": …, \"message\": \"…\"}` per line, a subscription \
         payload `{\"messageType\": \"DATA_MESSAGE\", \"logGroup\": …, \"logEvents\": \
         [...]}`, and text lines `<RFC 3339 timestamp> <message>`;\n\
         - VPC flow logs: text lines, in the default version 2 format unless a header \
         line of field names defines another.\n\n\
         CloudTrail digest files are skipped, and so is a file whose first record is \
         none of these; a later unrecognized record is an error. `--source` overrides \
         the classification.\n",
    );
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_typed_as_specified() {
        let spec: &[(&str, &str)] = &[
            ("source", "str"),
            ("time", "time"),
            ("account", "str"),
            ("region", "str"),
            ("event.id", "str"),
            ("outcome", "str"),
            ("error.code", "str"),
            ("error.message", "str"),
            ("user_agent", "str"),
            ("src.ip", "ip"),
            ("src.host", "str"),
            ("src.port", "int"),
            ("dst.ip", "ip"),
            ("dst.port", "int"),
            ("src.country", "str"),
            ("src.country_name", "str"),
            ("src.city", "str"),
            ("src.asn", "int"),
            ("src.as_org", "str"),
            ("dst.country", "str"),
            ("dst.asn", "int"),
            ("dst.as_org", "str"),
            ("actor.type", "str"),
            ("actor.arn", "str"),
            ("actor.name", "str"),
            ("actor.account", "str"),
            ("actor.principal_id", "str"),
            ("actor.access_key", "str"),
            ("actor.session_issuer", "str"),
            ("actor.invoked_by", "str"),
            ("actor.mfa", "bool"),
            ("actor.groups", "list<str>"),
            ("api.service", "str"),
            ("api.operation", "str"),
            ("api.type", "str"),
            ("api.read_only", "bool"),
            ("resources", "list<str>"),
            ("s3.bucket", "str"),
            ("s3.key", "str"),
            ("instance.id", "str"),
            ("net.interface", "str"),
            ("net.vpc", "str"),
            ("net.subnet", "str"),
            ("net.protocol", "int"),
            ("net.protocol_name", "str"),
            ("net.packets", "int"),
            ("net.bytes", "int"),
            ("net.action", "str"),
            ("net.log_status", "str"),
            ("net.direction", "str"),
            ("net.tcp_flags", "int"),
            ("net.start", "time"),
            ("net.end", "time"),
            ("dns.query", "str"),
            ("dns.type", "str"),
            ("dns.class", "str"),
            ("dns.rcode", "str"),
            ("dns.answers", "list<str>"),
            ("k8s.verb", "str"),
            ("k8s.resource", "str"),
            ("k8s.subresource", "str"),
            ("k8s.namespace", "str"),
            ("k8s.name", "str"),
            ("k8s.api_group", "str"),
            ("k8s.user", "str"),
            ("k8s.groups", "list<str>"),
            ("k8s.uri", "str"),
            ("k8s.stage", "str"),
            ("k8s.status_code", "int"),
            ("k8s.decision", "str"),
            ("k8s.reason", "str"),
            ("k8s.cluster", "str"),
        ];
        assert_eq!(all().len(), spec.len());
        for (def, (name, ty)) in all().iter().zip(spec) {
            assert_eq!((def.name, def.ty.name()), (*name, *ty));
            assert!(std::ptr::eq(lookup(name).unwrap(), def));
            assert!(def.sources().next().is_some(), "{name} has no source");
            assert!(!def.doc.is_empty() && !def.example.is_empty(), "{name}");
        }
        assert!(lookup("actor.nam").is_none());
    }

    #[test]
    fn raw_roots_are_listed_per_source() {
        assert!(raw_roots(Source::CloudTrail).contains(&"tlsDetails"));
        assert_eq!(raw_roots(Source::S3Data), raw_roots(Source::CloudTrail));
        assert!(raw_roots(Source::VpcFlow).contains(&"pkt-dst-aws-service"));
        assert!(raw_roots(Source::Dns).contains(&"firewall_domain_list_id"));
        assert!(raw_roots(Source::Eks).contains(&"impersonatedUser"));
        assert_eq!(
            catalog_raw_path("actor.arn", Source::CloudTrail),
            Some(&["userIdentity", "arn"][..])
        );
        assert_eq!(catalog_raw_path("outcome", Source::CloudTrail), None);
    }

    fn catalog_raw_path(name: &str, source: Source) -> Option<&'static [&'static str]> {
        lookup(name)?.raw_path(source)
    }

    #[test]
    fn coercions() {
        use FieldValue as V;
        assert_eq!(coerce(FieldType::Ip, V::str("AWS Internal")), None);
        assert_eq!(
            coerce(FieldType::Ip, V::str("2001:db8::1")),
            Some(V::Ip("2001:db8::1".parse().unwrap()))
        );
        assert_eq!(coerce(FieldType::Int, V::str("53")), Some(V::Int(53)));
        assert_eq!(coerce(FieldType::Bool, V::str("true")), Some(V::Bool(true)));
        assert_eq!(coerce(FieldType::Time, V::Int(2)), Some(V::Time(2000)));
        assert_eq!(coerce(FieldType::Str, V::Null), None);
        assert_eq!(coerce(FieldType::StrList, V::List(vec![V::Null])), None);
        assert_eq!(coerce(FieldType::Str, V::Int(7)), Some(V::str("7")));
        assert_eq!(coerce(FieldType::Str, V::List(vec![])), None);
    }

    /// `docs/fields.md` must be what [`markdown`] writes.
    #[test]
    fn docs_fields_md_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/fields.md");
        let want = markdown();
        if std::env::var_os("PICKET_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/fields.md is stale: run `PICKET_UPDATE_DOCS=1 cargo test -p picket` to rewrite it"
        );
    }
}
