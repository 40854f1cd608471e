//! Suppression rules: findings that were reviewed and accepted are archived, never dropped.
//!
//! `suppressions.yaml -> Suppressions -> apply(&mut Finding)`.
//!
//! GuardDuty calls these filters with the auto-archive action. A suppression file holds
//! named rules in a list under `suppressions:`; a rule's `criteria` map finding fields to
//! conditions, and the rule matches a finding when every criterion holds. A matching
//! finding keeps everything it had: `service.archived` becomes true and
//! `service.additionalInfo.suppressedBy` names the rule. Rules are tried in the order of
//! the files and of the rules in each file; the first that matches wins.
//!
//! Fields are the dotted paths of the finding JSON as picket writes it
//! (`resource.instanceDetails.instanceId`; arrays are looked through, so
//! `resource.s3BucketDetails.name` reads every bucket of the finding), or short names:
//! `type`, `severity`, `account`, `region`, `resource` (every identifier of the
//! resource), `actor` (the principal) and `ip` (every address in `service.action`). A
//! field may hold several values: a criterion holds when one of them satisfies all of its
//! operators, and its `neq` values are equal to none of them.
//!
//! Files are loaded like rule files (see `compile::load`): marked-yaml keeps positions,
//! the YAML is walked by hand, and each mistake is a [`FileDiagnostic`] (`R3xx`) naming
//! file, line and column, with the nearest known name for a misspelled field or operator.
//! Values are checked against the kind of their field when the file is loaded (a bad
//! CIDR, a word where a number belongs), so applying rules never fails.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node};
use picket_grammar::{suggest, Diagnostic, Span};
use serde_json::Value;

use super::Finding;
use crate::compile::source::{FileDiagnostic, SourceFile};
use crate::event::{parse_ip, parse_rfc3339};

/// What the values of a field are, which decides the operators and values it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Text: `eq`, `neq`, `prefix`.
    Str,
    /// A number: `eq`, `neq`, `gt`, `gte`, `lt`, `lte`.
    Num,
    /// `true` or `false`: `eq`, `neq`.
    Bool,
    /// An IP address: `eq`, `neq`, `cidr`.
    Ip,
    /// An RFC 3339 time: `eq`, `neq`, `gt`, `gte`, `lt`, `lte`.
    Time,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string field",
            Kind::Num => "a number field",
            Kind::Bool => "a true/false field",
            Kind::Ip => "an IP address field",
            Kind::Time => "a time field",
        }
    }
}

/// The finding fields a criterion can name, as dotted paths of the finding JSON, with
/// the kind of their values. Evidence, `additionalInfo` and `archived` are left out:
/// they say how a finding was recorded, not what it is about.
#[rustfmt::skip]
const FIELDS: &[(&str, Kind)] = &[
    ("accountId", Kind::Str),
    ("region", Kind::Str),
    ("partition", Kind::Str),
    ("schemaVersion", Kind::Str),
    ("id", Kind::Str),
    ("arn", Kind::Str),
    ("type", Kind::Str),
    ("severity", Kind::Num),
    ("createdAt", Kind::Time),
    ("updatedAt", Kind::Time),
    ("title", Kind::Str),
    ("description", Kind::Str),
    ("rule.id", Kind::Str),
    ("rule.version", Kind::Num),
    ("matched", Kind::Str),
    ("resource.resourceType", Kind::Str),
    ("resource.accessKeyDetails.accessKeyId", Kind::Str),
    ("resource.accessKeyDetails.principalId", Kind::Str),
    ("resource.accessKeyDetails.userName", Kind::Str),
    ("resource.accessKeyDetails.userType", Kind::Str),
    ("resource.s3BucketDetails.arn", Kind::Str),
    ("resource.s3BucketDetails.name", Kind::Str),
    ("resource.s3BucketDetails.type", Kind::Str),
    ("resource.instanceDetails.instanceId", Kind::Str),
    ("resource.instanceDetails.networkInterfaces.networkInterfaceId", Kind::Str),
    ("resource.instanceDetails.networkInterfaces.privateIpAddress", Kind::Ip),
    ("resource.instanceDetails.networkInterfaces.subnetId", Kind::Str),
    ("resource.instanceDetails.networkInterfaces.vpcId", Kind::Str),
    ("resource.eksClusterDetails.name", Kind::Str),
    ("resource.kubernetesDetails.kubernetesUserDetails.username", Kind::Str),
    ("resource.kubernetesDetails.kubernetesUserDetails.uid", Kind::Str),
    ("resource.kubernetesDetails.kubernetesUserDetails.groups", Kind::Str),
    ("resource.kubernetesDetails.kubernetesWorkloadDetails.name", Kind::Str),
    ("resource.kubernetesDetails.kubernetesWorkloadDetails.namespace", Kind::Str),
    ("resource.kubernetesDetails.kubernetesWorkloadDetails.type", Kind::Str),
    ("service.serviceName", Kind::Str),
    ("service.detectorId", Kind::Str),
    ("service.count", Kind::Num),
    ("service.eventFirstSeen", Kind::Time),
    ("service.eventLastSeen", Kind::Time),
    ("service.resourceRole", Kind::Str),
    ("service.action.actionType", Kind::Str),
    ("service.action.awsApiCallAction.api", Kind::Str),
    ("service.action.awsApiCallAction.serviceName", Kind::Str),
    ("service.action.awsApiCallAction.callerType", Kind::Str),
    ("service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", Kind::Ip),
    ("service.action.awsApiCallAction.remoteIpDetails.ipAddressV6", Kind::Ip),
    ("service.action.awsApiCallAction.domainDetails.domain", Kind::Str),
    ("service.action.awsApiCallAction.errorCode", Kind::Str),
    ("service.action.awsApiCallAction.userAgent", Kind::Str),
    ("service.action.networkConnectionAction.connectionDirection", Kind::Str),
    ("service.action.networkConnectionAction.protocol", Kind::Str),
    ("service.action.networkConnectionAction.blocked", Kind::Bool),
    ("service.action.networkConnectionAction.localPortDetails.port", Kind::Num),
    ("service.action.networkConnectionAction.remotePortDetails.port", Kind::Num),
    ("service.action.networkConnectionAction.localIpDetails.ipAddressV4", Kind::Ip),
    ("service.action.networkConnectionAction.localIpDetails.ipAddressV6", Kind::Ip),
    ("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", Kind::Ip),
    ("service.action.networkConnectionAction.remoteIpDetails.ipAddressV6", Kind::Ip),
    ("service.action.dnsRequestAction.domain", Kind::Str),
    ("service.action.dnsRequestAction.protocol", Kind::Str),
    ("service.action.dnsRequestAction.blocked", Kind::Bool),
    ("service.action.kubernetesApiCallAction.requestUri", Kind::Str),
    ("service.action.kubernetesApiCallAction.verb", Kind::Str),
    ("service.action.kubernetesApiCallAction.sourceIps", Kind::Ip),
    ("service.action.kubernetesApiCallAction.userAgent", Kind::Str),
    ("service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4", Kind::Ip),
    ("service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV6", Kind::Ip),
    ("service.action.kubernetesApiCallAction.statusCode", Kind::Num),
];

/// Short names besides `type`, `severity` and `region`, which are paths themselves.
const ALIASES: &[&str] = &["account", "resource", "actor", "ip"];

/// Paths whose values identify the resource of a finding (the `resource` short name).
const RESOURCE_PATHS: &[&str] = &[
    "resource.instanceDetails.instanceId",
    "resource.instanceDetails.networkInterfaces.networkInterfaceId",
    "resource.accessKeyDetails.accessKeyId",
    "resource.accessKeyDetails.userName",
    "resource.s3BucketDetails.name",
    "resource.s3BucketDetails.arn",
    "resource.eksClusterDetails.name",
    "resource.kubernetesDetails.kubernetesWorkloadDetails.name",
];

/// Paths whose values name the principal of a finding (the `actor` short name).
const ACTOR_PATHS: &[&str] = &[
    "resource.accessKeyDetails.userName",
    "resource.accessKeyDetails.principalId",
    "resource.kubernetesDetails.kubernetesUserDetails.username",
];

/// The operators, in the order the documentation lists them.
const OPERATORS: &[&str] = &["eq", "neq", "gt", "gte", "lt", "lte", "prefix", "cidr"];

/// Operator names from elsewhere (GuardDuty's API, other filter languages) and ours.
const OPERATOR_SYNONYMS: &[(&str, &str)] = &[
    ("equals", "eq"),
    ("equal", "eq"),
    ("in", "eq"),
    ("is", "eq"),
    ("notequals", "neq"),
    ("ne", "neq"),
    ("not", "neq"),
    ("not_in", "neq"),
    ("notin", "neq"),
    ("greaterthan", "gt"),
    ("greaterthanorequal", "gte"),
    ("lessthan", "lt"),
    ("lessthanorequal", "lte"),
    ("startswith", "prefix"),
    ("starts_with", "prefix"),
    ("begins_with", "prefix"),
    ("network", "cidr"),
    ("subnet", "cidr"),
];

const FILE_KEYS: &[&str] = &["suppressions"];
const RULE_KEYS: &[&str] = &["name", "reason", "criteria"];

/// Where a criterion reads its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// A dotted path of the finding JSON.
    Path(&'static str),
    /// Every identifier of the resource.
    Resource,
    /// Every name of the principal.
    Actor,
    /// Every IP address in `service.action`.
    Ip,
}

/// Every name a criterion can use: the short names `account`, `resource`, `actor` and
/// `ip`, then the dotted paths (`type`, `severity` and `region` among them).
pub fn field_names() -> impl Iterator<Item = &'static str> {
    ALIASES
        .iter()
        .copied()
        .chain(FIELDS.iter().map(|(name, _)| *name))
}

/// The field a criterion names, with the kind of its values.
fn lookup_field(name: &str) -> Option<(Field, Kind)> {
    match name {
        "account" => Some((Field::Path("accountId"), Kind::Str)),
        "resource" => Some((Field::Resource, Kind::Str)),
        "actor" => Some((Field::Actor, Kind::Str)),
        "ip" => Some((Field::Ip, Kind::Ip)),
        _ => FIELDS
            .iter()
            .find(|(path, _)| *path == name)
            .map(|&(path, kind)| (Field::Path(path), kind)),
    }
}

/// A value of a finding or of a condition, in the form it is compared in.
#[derive(Clone, Debug, PartialEq)]
enum Key {
    Str(String),
    /// Numbers, and times as unix milliseconds.
    Num(f64),
    Bool(bool),
    Ip(IpAddr),
}

/// One operator of a criterion with its values.
#[derive(Clone, Debug)]
enum Op {
    Eq(Vec<Key>),
    Neq(Vec<Key>),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Prefix(Vec<String>),
    Cidr(Vec<IpNet>),
}

impl Op {
    /// Whether one value satisfies this operator (`Neq` is decided over all values, in
    /// [`Criterion::holds`]).
    fn test(&self, value: &Key) -> bool {
        let num = match value {
            Key::Num(n) => Some(*n),
            _ => None,
        };
        match self {
            Op::Eq(keys) => keys.contains(value),
            Op::Neq(keys) => !keys.contains(value),
            Op::Gt(x) => num.is_some_and(|n| n > *x),
            Op::Gte(x) => num.is_some_and(|n| n >= *x),
            Op::Lt(x) => num.is_some_and(|n| n < *x),
            Op::Lte(x) => num.is_some_and(|n| n <= *x),
            Op::Prefix(prefixes) => match value {
                Key::Str(s) => prefixes.iter().any(|p| s.starts_with(p.as_str())),
                _ => false,
            },
            Op::Cidr(nets) => match value {
                Key::Ip(ip) => nets.iter().any(|net| net.contains(ip)),
                _ => false,
            },
        }
    }
}

/// One field and its conditions.
#[derive(Clone, Debug)]
struct Criterion {
    field: Field,
    kind: Kind,
    ops: Vec<Op>,
}

impl Criterion {
    /// Some value satisfies every operator but `neq`, and no value equals a `neq` value.
    fn holds(&self, finding: &Value) -> bool {
        let values = field_values(finding, self.field, self.kind);
        let only_neq = self.ops.iter().all(|op| matches!(op, Op::Neq(_)));
        let some_value = only_neq
            || values.iter().any(|v| {
                self.ops
                    .iter()
                    .all(|op| matches!(op, Op::Neq(_)) || op.test(v))
            });
        some_value
            && self
                .ops
                .iter()
                .filter(|op| matches!(op, Op::Neq(_)))
                .all(|op| values.iter().all(|v| op.test(v)))
    }
}

/// One named suppression rule.
#[derive(Clone, Debug)]
pub struct Suppression {
    name: String,
    reason: Option<String>,
    criteria: Vec<Criterion>,
}

impl Suppression {
    /// Its name, unique among the loaded rules.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why findings like these are accepted, when the file says.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Whether every criterion holds on a finding in its JSON form.
    fn matches(&self, finding: &Value) -> bool {
        self.criteria.iter().all(|c| c.holds(finding))
    }
}

/// The suppression rules of one or more files, in order.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    rules: Vec<Suppression>,
}

impl Suppressions {
    /// Loads one suppression file.
    pub fn load(path: &Path) -> Result<Self, SuppressError> {
        Self::load_all(&[path])
    }

    /// Loads suppression files, in order; names must be unique across all of them. Every
    /// error of every file is reported at once.
    pub fn load_all<P: AsRef<Path>>(paths: &[P]) -> Result<Self, SuppressError> {
        let mut builder = Builder::default();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path).map_err(|error| SuppressError::Read {
                path: path.display().to_string(),
                error,
            })?;
            builder.add_file(SourceFile::new(path.display().to_string(), text));
        }
        builder.finish()
    }

    /// Parses the text of a suppression file; `name` is the file name diagnostics show.
    pub fn parse(name: &str, text: &str) -> Result<Self, SuppressError> {
        let mut builder = Builder::default();
        builder.add_file(SourceFile::new(name, text.to_string()));
        builder.finish()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Suppression> {
        self.rules.iter()
    }

    /// The first rule that matches a finding, if any; the finding is not changed.
    pub fn find(&self, finding: &Finding) -> Option<&Suppression> {
        if self.rules.is_empty() {
            return None;
        }
        let json = serde_json::to_value(finding).ok()?;
        self.rules.iter().find(|rule| rule.matches(&json))
    }

    /// Archives a finding when a rule matches it: sets `service.archived` and records
    /// the rule's name as `service.additionalInfo.suppressedBy`. Returns that name.
    pub fn apply(&self, finding: &mut Finding) -> Option<&str> {
        let rule = self.find(finding)?;
        finding.service.archived = true;
        let name = Value::String(rule.name.clone());
        let info = &mut finding.service.additional_info;
        match info {
            Value::Object(map) => {
                map.insert("suppressedBy".to_string(), name);
            }
            Value::Null => *info = serde_json::json!({ "suppressedBy": name }),
            other => {
                let value = other.take();
                *other = serde_json::json!({ "value": value, "suppressedBy": name });
            }
        }
        Some(&rule.name)
    }

    /// Applies the rules to every finding; returns how many this call archived.
    pub fn apply_all(&self, findings: &mut [Finding]) -> usize {
        if self.rules.is_empty() {
            return 0;
        }
        findings.iter_mut().filter_map(|f| self.apply(f)).count()
    }
}

/// Why suppression files could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SuppressError {
    /// A file could not be read.
    #[error("cannot read suppression file {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// Files were read but are not valid suppression files: every error, with its place.
    #[error("{}", render_invalid(.0, false).trim_end())]
    Invalid(Vec<FileDiagnostic>),
}

impl SuppressError {
    /// The error for a person: for invalid files, a summary line and then every
    /// diagnostic rendered like a compiler's (`--> file:line:col`, the line, a caret).
    pub fn render(&self, color: bool) -> String {
        match self {
            SuppressError::Read { .. } => self.to_string(),
            SuppressError::Invalid(diags) => render_invalid(diags, color),
        }
    }

    /// The diagnostics of invalid files (empty for a read error).
    pub fn diagnostics(&self) -> &[FileDiagnostic] {
        match self {
            SuppressError::Invalid(diags) => diags,
            SuppressError::Read { .. } => &[],
        }
    }
}

/// `N errors in suppression file F`, then each diagnostic.
fn render_invalid(diags: &[FileDiagnostic], color: bool) -> String {
    let mut files: Vec<&str> = Vec::new();
    for d in diags {
        if !files.contains(&&*d.file.name) {
            files.push(&d.file.name);
        }
    }
    let count = match diags.len() {
        1 => "1 error".to_string(),
        n => format!("{n} errors"),
    };
    let plural = if files.len() > 1 { "s" } else { "" };
    let mut out = format!("{count} in suppression file{plural} {}\n", files.join(", "));
    for d in diags {
        out.push('\n');
        out.push_str(&d.render(color));
    }
    out
}

// --- reading finding values -------------------------------------------------------------

/// Every value of a field in a finding's JSON, as keys of the field's kind; values that
/// are missing, null or not of the kind are left out.
fn field_values(finding: &Value, field: Field, kind: Kind) -> Vec<Key> {
    let mut raw: Vec<Value> = Vec::new();
    match field {
        Field::Path(path) => collect_path(finding, path, &mut raw),
        Field::Resource => {
            for path in RESOURCE_PATHS {
                collect_path(finding, path, &mut raw);
            }
            // A Kubernetes object also by `namespace/name`, as kubectl writes it.
            let workload = finding.pointer("/resource/kubernetesDetails/kubernetesWorkloadDetails");
            let part = |k: &str| workload.and_then(|w| w.get(k)).and_then(Value::as_str);
            if let (Some(ns), Some(name)) = (part("namespace"), part("name")) {
                raw.push(Value::String(format!("{ns}/{name}")));
            }
        }
        Field::Actor => {
            for path in ACTOR_PATHS {
                collect_path(finding, path, &mut raw);
            }
            // The principal's ARN, when the rule groups its findings by it.
            let info = finding
                .pointer("/service/additionalInfo/value")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            if let Some(arn) = info.as_ref().and_then(|i| i.pointer("/groupBy/actor.arn")) {
                raw.push(arn.clone());
            }
            // An ARN also by the name after its last `/` (`…:user/ci-deploy`).
            let short: Vec<Value> = raw
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| s.starts_with("arn:"))
                .filter_map(|s| s.rsplit_once('/'))
                .map(|(_, name)| Value::String(name.to_string()))
                .collect();
            raw.extend(short);
        }
        Field::Ip => {
            if let Some(action) = finding.pointer("/service/action") {
                collect_ips(action, &mut raw);
            }
        }
    }
    let mut keys: Vec<Key> = Vec::with_capacity(raw.len());
    for key in raw.iter().filter_map(|v| finding_key(kind, v)) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The values at a dotted path, looking through arrays on the way and at the end.
fn collect_path(value: &Value, path: &str, out: &mut Vec<Value>) {
    fn walk(value: &Value, parts: &[&str], out: &mut Vec<Value>) {
        if let Value::Array(items) = value {
            for item in items {
                walk(item, parts, out);
            }
            return;
        }
        match parts.split_first() {
            None => out.push(value.clone()),
            Some((head, rest)) => {
                if let Some(next) = value.get(*head) {
                    walk(next, rest, out);
                }
            }
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    walk(value, &parts, out);
}

/// Every address under `ipAddressV4`, `ipAddressV6` or `sourceIps` keys.
fn collect_ips(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match key.as_str() {
                    "ipAddressV4" | "ipAddressV6" => out.push(v.clone()),
                    "sourceIps" => match v {
                        Value::Array(items) => out.extend(items.iter().cloned()),
                        other => out.push(other.clone()),
                    },
                    _ => collect_ips(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ips(v, out)),
        _ => {}
    }
}

/// A finding value as a key of `kind`.
fn finding_key(kind: Kind, value: &Value) -> Option<Key> {
    match (kind, value) {
        (_, Value::Null | Value::Array(_) | Value::Object(_)) => None,
        (Kind::Str, Value::String(s)) => Some(Key::Str(s.clone())),
        (Kind::Str, other) => Some(Key::Str(other.to_string())),
        (Kind::Num, Value::Number(n)) => n.as_f64().map(Key::Num),
        (Kind::Num, Value::String(s)) => s.parse().ok().map(Key::Num),
        (Kind::Bool, Value::Bool(b)) => Some(Key::Bool(*b)),
        (Kind::Ip, Value::String(s)) => parse_ip(s).map(Key::Ip),
        (Kind::Time, Value::String(s)) => parse_time(s).map(|ms| Key::Num(ms as f64)),
        _ => None,
    }
}

/// An RFC 3339 time, or a date (midnight UTC), as unix milliseconds.
fn parse_time(s: &str) -> Option<i64> {
    if s.len() == 10 {
        parse_rfc3339(&format!("{s}T00:00:00Z"))
    } else {
        parse_rfc3339(s)
    }
}

// --- loading ----------------------------------------------------------------------------

/// Collects the rules and diagnostics of the files loaded together.
#[derive(Default)]
struct Builder {
    rules: Vec<Suppression>,
    /// Every rule name seen (valid rule or not) and where it was first written.
    names: HashMap<String, (Arc<SourceFile>, Span)>,
    diags: Vec<FileDiagnostic>,
}

/// The file being loaded and the builder.
struct Ctx<'b> {
    file: Arc<SourceFile>,
    builder: &'b mut Builder,
}

impl Builder {
    fn add_file(&mut self, file: SourceFile) {
        let mut cx = Ctx {
            file: Arc::new(file),
            builder: self,
        };
        cx.load();
    }

    fn finish(self) -> Result<Suppressions, SuppressError> {
        if self.diags.is_empty() {
            Ok(Suppressions { rules: self.rules })
        } else {
            Err(SuppressError::Invalid(self.diags))
        }
    }
}

impl Ctx<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.builder.diags.push(FileDiagnostic {
            file: self.file.clone(),
            diagnostic: d,
        });
    }

    /// The end of the line holding `offset`.
    fn line_end(&self, offset: usize) -> usize {
        let text = &self.file.text;
        let offset = offset.min(text.len());
        text[offset..].find('\n').map_or(text.len(), |i| offset + i)
    }

    /// Where a node is written: a scalar as written (quotes included), a mapping or list
    /// from its start to the end of that line.
    fn span(&self, node: &Node) -> Span {
        match node {
            Node::Scalar(s) => self.scalar_span(s),
            _ => {
                // A block mapping's marker sits after its first key: start at that key.
                let first_key = node.as_mapping().and_then(|m| m.keys().next());
                let start = match first_key {
                    Some(key) => self.scalar_span(key).start(),
                    None => node.span().start().map_or(0, |m| self.file.offset_of(m)),
                };
                Span::new(start, self.line_end(start).max(start + 1))
            }
        }
    }

    /// Where the value of `key` is written; for a null (nothing written), the key.
    fn value_span(&self, key: &MarkedScalarNode, value: &Node) -> Span {
        if Self::is_null(value) {
            self.scalar_span(key)
        } else {
            self.span(value)
        }
    }

    fn scalar_span(&self, s: &MarkedScalarNode) -> Span {
        let start = s.span().start().map_or(0, |m| self.file.offset_of(m));
        let quoted = matches!(self.file.text.as_bytes().get(start), Some(b'"' | b'\''));
        let len = s.as_str().len().max(1) + if quoted { 2 } else { 0 };
        Span::new(start, (start + len).min(self.line_end(start)).max(start))
    }

    fn found(node: &Node) -> &'static str {
        match node {
            Node::Scalar(_) => "a value",
            Node::Mapping(_) => "a mapping",
            Node::Sequence(_) => "a list",
        }
    }

    fn shape_error(&mut self, node: &Node, what: &str, expected: &str) {
        let span = self.span(node);
        let found = Self::found(node);
        self.push(
            Diagnostic::error("R304", format!("{what} must be {expected}"))
                .with_primary(span, format!("expected {expected}, found {found}")),
        );
    }

    /// A YAML null: an unquoted empty or `~`/`null` scalar.
    fn is_null(node: &Node) -> bool {
        node.as_scalar().is_some_and(|s| {
            s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL")
        })
    }

    fn load(&mut self) {
        // `prevent_coercion` keeps quoting visible (`may_coerce` is false for a quoted
        // scalar), so `""` is an empty string and only a bare `key:` is null.
        let options = LoaderOptions::default()
            .error_on_duplicate_keys(true)
            .prevent_coercion(true);
        let root = match marked_yaml::parse_yaml_with_options(0, &self.file.text, options) {
            Ok(root) => root,
            Err(err) => {
                let d = self.yaml_error(&err);
                self.push(d);
                return;
            }
        };
        let Some(map) = root.as_mapping() else {
            self.shape_error(
                &root,
                "a suppression file",
                "a mapping with `suppressions:`",
            );
            return;
        };
        self.check_keys(map, FILE_KEYS, "a suppression file");
        let Some(list) = map.get_node("suppressions") else {
            let end = self.line_end(0);
            self.push(
                Diagnostic::error("R303", "missing required key `suppressions`")
                    .with_primary(Span::new(0, end), "this file has no `suppressions:`")
                    .with_help("put the rules in a list under `suppressions:`"),
            );
            return;
        };
        if Self::is_null(list) {
            // `suppressions:` with nothing under it: a file with no rules.
            return;
        }
        let Some(seq) = list.as_sequence() else {
            self.shape_error(list, "`suppressions`", "a list of suppression rules");
            return;
        };
        for item in seq.iter() {
            self.rule(item);
        }
    }

    fn yaml_error(&self, err: &marked_yaml::LoadError) -> Diagnostic {
        use marked_yaml::LoadError as E;
        let file = &self.file;
        let (marker, message, label, help) = match err {
            E::ScanError(m, e) => (m, "invalid YAML", e.info().to_string(), None),
            E::DuplicateKey(inner) => {
                let span = file.span_of(inner.key.span(), inner.key.as_str().len());
                let first = file.span_of(inner.prev_key.span(), inner.prev_key.as_str().len());
                return Diagnostic::error(
                    "R301",
                    format!("duplicate key `{}`", inner.key.as_str()),
                )
                .with_primary(span, "set again here")
                .with_secondary(first, "first set here")
                .with_help("keep one of them");
            }
            E::UnexpectedAnchor(m) => (
                m,
                "YAML anchors are not supported in suppression files",
                "remove the anchor".to_string(),
                Some("write the criteria out in each rule"),
            ),
            E::UnexpectedTag(m) => (
                m,
                "YAML tags are not supported in suppression files",
                "remove the tag".to_string(),
                None,
            ),
            E::MappingKeyMustBeScalar(m) => (
                m,
                "mapping keys must be plain strings",
                "not a plain key".to_string(),
                None,
            ),
            E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => (
                m,
                "a suppression file must be a mapping with `suppressions:`",
                "expected `suppressions:`".to_string(),
                Some("start the file with `suppressions:` and put the rules in a list under it"),
            ),
        };
        let at = file.offset_of(marker);
        let end = (at + 1).min(file.text.len()).max(at);
        let mut d = Diagnostic::error("R301", message).with_primary(Span::new(at, end), label);
        if let Some(help) = help {
            d = d.with_help(help);
        }
        d
    }

    fn check_keys(&mut self, map: &MarkedMappingNode, allowed: &[&str], what: &str) {
        for key in map.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let span = self.scalar_span(key);
            let mut d =
                Diagnostic::error("R302", format!("unknown key `{}` in {what}", key.as_str()))
                    .with_primary(span, "not a known key");
            d = match suggest::nearest(key.as_str(), allowed.iter().copied()) {
                Some(near) => d.with_help(format!("did you mean `{near}`?")),
                None => d.with_note(format!("known keys: {}", allowed.join(", "))),
            };
            self.push(d);
        }
    }

    /// A string value; `None` (with a diagnostic) for a list or mapping.
    fn text<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n MarkedScalarNode> {
        match node.as_scalar() {
            Some(s) => Some(s),
            None => {
                self.shape_error(node, what, "a string");
                None
            }
        }
    }

    fn rule(&mut self, item: &Node) {
        let Some(map) = item.as_mapping() else {
            self.shape_error(
                item,
                "a suppression rule",
                "a mapping of `name`, `reason` and `criteria`",
            );
            return;
        };
        self.check_keys(map, RULE_KEYS, "a suppression rule");
        let head = self.span(item);
        let missing: Vec<&str> = ["name", "criteria"]
            .into_iter()
            .filter(|k| map.get_node(k).is_none())
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            let plural = if missing.len() > 1 { "s" } else { "" };
            let (label, help) = match missing.as_slice() {
                ["criteria"] => (
                    "this suppression rule has no `criteria`",
                    "add `criteria:` with at least one field, e.g. `type: Recon:IAMUser/MaliciousIPCaller`",
                ),
                ["name"] => (
                    "this suppression rule has no `name`",
                    "add `name: …`, unique among the loaded suppression rules",
                ),
                _ => (
                    "this suppression rule has neither `name` nor `criteria`",
                    "add a unique `name: …` and `criteria:` with at least one field",
                ),
            };
            self.push(
                Diagnostic::error("R303", format!("missing required key{plural} {list}"))
                    .with_primary(head, label)
                    .with_help(help),
            );
        }
        let entry = |k: &str| map.iter().find(|(key, _)| key.as_str() == k);
        let name = entry("name").and_then(|(k, v)| self.name(k, v));
        let reason = map
            .get_node("reason")
            .and_then(|n| self.text(n, "`reason`"))
            .map(|s| s.as_str().trim().to_string())
            .filter(|r| !r.is_empty());
        let criteria = entry("criteria").and_then(|(k, v)| self.criteria(k, v));
        if let (Some(name), Some(criteria)) = (name, criteria) {
            self.builder.rules.push(Suppression {
                name,
                reason,
                criteria,
            });
        }
    }

    /// The rule's name, checked for emptiness and uniqueness across the loaded files.
    fn name(&mut self, key: &MarkedScalarNode, node: &Node) -> Option<String> {
        let s = self.text(node, "`name`")?;
        let span = self.value_span(key, node);
        let name = s.as_str().trim().to_string();
        if name.is_empty() {
            self.push(
                Diagnostic::error("R311", "`name` is empty")
                    .with_primary(span, "no name")
                    .with_help("name the rule; the name is recorded in the findings it archives"),
            );
            return None;
        }
        if let Some((file, first)) = self.builder.names.get(&name).cloned() {
            let mut d = Diagnostic::error("R310", format!("duplicate suppression name `{name}`"))
                .with_primary(span, "named again here")
                .with_help("names are unique across the loaded suppression files: rename one");
            if Arc::ptr_eq(&file, &self.file) {
                d = d.with_secondary(first, "first named here");
            } else {
                let (line, col) = file.line_col(first.start());
                d = d.with_note(format!("first named at {}:{line}:{col}", file.name));
            }
            self.push(d);
            return None;
        }
        self.builder
            .names
            .insert(name.clone(), (self.file.clone(), span));
        Some(name)
    }

    fn criteria(&mut self, key: &MarkedScalarNode, node: &Node) -> Option<Vec<Criterion>> {
        let empty = |cx: &mut Self, span: Span| {
            cx.push(
                Diagnostic::error("R311", "`criteria` is empty")
                    .with_primary(span, "no criteria")
                    .with_help(
                        "a rule without criteria would archive every finding: name at least one field",
                    ),
            );
        };
        if Self::is_null(node) {
            empty(self, self.value_span(key, node));
            return None;
        }
        let Some(map) = node.as_mapping() else {
            self.shape_error(
                node,
                "`criteria`",
                "a mapping of finding fields to conditions",
            );
            return None;
        };
        if map.is_empty() {
            empty(self, self.span(node));
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in map.iter() {
            match self.criterion(key, value) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn criterion(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<Criterion> {
        let name = key.as_str();
        let Some((field, kind)) = lookup_field(name) else {
            let span = self.scalar_span(key);
            let mut d = Diagnostic::error("R305", format!("unknown criterion field `{name}`"))
                .with_primary(span, "not a finding field");
            d = match nearest_field(name) {
                Some(near) => d.with_help(format!("did you mean `{near}`?")),
                None => d.with_note(
                    "fields are dotted paths of the finding JSON (`resource.instanceDetails.instanceId`, \
                     `service.action.awsApiCallAction.api` …) or the short names type, severity, \
                     account, region, resource, actor and ip; docs/suppression.md lists them all",
                ),
            };
            self.push(d);
            return None;
        };
        let ops = match value {
            // `field: value` and `field: [values]` are `eq`.
            Node::Scalar(_) | Node::Sequence(_) => {
                vec![self.operator(key, "eq", name, kind, value, true)?]
            }
            Node::Mapping(map) => {
                if map.is_empty() {
                    let span = self.span(value);
                    self.push(
                        Diagnostic::error("R311", format!("`{name}` has no condition"))
                            .with_primary(span, "no operator")
                            .with_help("write a value, a list of values, or operators such as `{prefix: [\"Recon:\"]}`"),
                    );
                    return None;
                }
                let mut ops = Vec::new();
                let mut ok = true;
                for (op_key, op_value) in map.iter() {
                    let Some(op) = self.operator_name(op_key) else {
                        ok = false;
                        continue;
                    };
                    if !self.applies(op, op_key, name, kind) {
                        ok = false;
                        continue;
                    }
                    match self.operator(op_key, op, name, kind, op_value, false) {
                        Some(op) => ops.push(op),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ops
            }
        };
        Some(Criterion { field, kind, ops })
    }

    /// The operator a key names, or a diagnostic with the nearest one.
    fn operator_name(&mut self, key: &MarkedScalarNode) -> Option<&'static str> {
        let name = key.as_str();
        if let Some(op) = OPERATORS.iter().find(|op| **op == name) {
            return Some(op);
        }
        let span = self.scalar_span(key);
        let lower = name.to_ascii_lowercase();
        let near = OPERATOR_SYNONYMS
            .iter()
            .find(|(other, _)| *other == lower)
            .map(|(_, op)| *op)
            .or_else(|| suggest::nearest(name, OPERATORS.iter().copied()));
        let mut d = Diagnostic::error("R306", format!("unknown operator `{name}`"))
            .with_primary(span, "not an operator");
        if let Some(near) = near {
            d = d.with_help(format!("did you mean `{near}`?"));
        }
        self.push(d.with_note(format!("operators: {}", OPERATORS.join(", "))));
        None
    }

    /// Whether an operator applies to the kind of a field; a diagnostic when not.
    fn applies(&mut self, op: &str, key: &MarkedScalarNode, field: &str, kind: Kind) -> bool {
        let (ok, help) = match op {
            "eq" | "neq" => (true, ""),
            "gt" | "gte" | "lt" | "lte" => (
                matches!(kind, Kind::Num | Kind::Time),
                "the ordering operators compare numbers and times, such as `severity` or `service.eventLastSeen`",
            ),
            "prefix" => (
                kind == Kind::Str,
                if kind == Kind::Ip {
                    "to match addresses by network, use `cidr`"
                } else {
                    "`prefix` matches string fields, such as `type` or `resource`"
                },
            ),
            _ => (
                kind == Kind::Ip,
                "`cidr` matches IP address fields, such as `ip` or `service.action.networkConnectionAction.remoteIpDetails.ipAddressV4`",
            ),
        };
        if !ok {
            let span = self.scalar_span(key);
            self.push(
                Diagnostic::error("R307", format!("`{op}` does not apply to `{field}`"))
                    .with_primary(span, format!("`{field}` is {}", kind.describe()))
                    .with_help(help),
            );
        }
        ok
    }

    /// The values of an operator (a scalar or a list for `eq`, `neq`, `prefix`, `cidr`;
    /// one scalar for the ordering operators), checked against the field's kind.
    /// `shorthand`: written `field: values`, without the operator.
    fn operator(
        &mut self,
        key: &MarkedScalarNode,
        op: &'static str,
        field: &str,
        kind: Kind,
        node: &Node,
        shorthand: bool,
    ) -> Option<Op> {
        let single = matches!(op, "gt" | "gte" | "lt" | "lte");
        let what = if shorthand {
            format!("`{field}`")
        } else {
            format!("`{op}` on `{field}`")
        };
        let items: Vec<&Node> = match node {
            Node::Scalar(_) if Self::is_null(node) => {
                let span = self.value_span(key, node);
                self.push(
                    Diagnostic::error("R311", format!("{what} has no value"))
                        .with_primary(span, "no value")
                        .with_help(
                            "write a value or a list of values; quote an empty string: \"\"",
                        ),
                );
                return None;
            }
            Node::Scalar(_) => vec![node],
            Node::Sequence(seq) if !single => {
                if seq.is_empty() {
                    let span = self.span(node);
                    self.push(
                        Diagnostic::error("R311", format!("{what} has no values"))
                            .with_primary(span, "empty list")
                            .with_help("write at least one value"),
                    );
                    return None;
                }
                seq.iter().collect()
            }
            _ => {
                let expected = if single {
                    "one value"
                } else {
                    "a value or a list of values"
                };
                self.shape_error(node, &what, expected);
                return None;
            }
        };
        let mut keys = Vec::new();
        let mut nets = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(s) = item.as_scalar() else {
                self.shape_error(item, &format!("a value of `{field}`"), "a plain value");
                ok = false;
                continue;
            };
            if op == "cidr" {
                match self.cidr(s) {
                    Some(net) => nets.push(net),
                    None => ok = false,
                }
                continue;
            }
            // `prefix` values are strings whatever the field; the others take its kind.
            let key = if op == "prefix" {
                Some(Key::Str(s.as_str().to_string()))
            } else {
                self.value(s, field, kind)
            };
            match key {
                Some(key) => keys.push(key),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        // `applies` lets the ordering operators through only for number and time fields,
        // whose values are `Key::Num`.
        let bound = || match keys.first() {
            Some(Key::Num(n)) => *n,
            _ => f64::NAN,
        };
        Some(match op {
            "eq" => Op::Eq(keys),
            "neq" => Op::Neq(keys),
            "gt" => Op::Gt(bound()),
            "gte" => Op::Gte(bound()),
            "lt" => Op::Lt(bound()),
            "lte" => Op::Lte(bound()),
            "prefix" => Op::Prefix(
                keys.into_iter()
                    .filter_map(|k| match k {
                        Key::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Op::Cidr(nets),
        })
    }

    /// A value of a field's kind.
    fn value(&mut self, s: &MarkedScalarNode, field: &str, kind: Kind) -> Option<Key> {
        let text = s.as_str().trim();
        let key = match kind {
            Kind::Str => return Some(Key::Str(s.as_str().to_string())),
            Kind::Num => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Key::Num),
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" => Some(Key::Bool(true)),
                "false" => Some(Key::Bool(false)),
                _ => None,
            },
            Kind::Time => parse_time(text).map(|ms| Key::Num(ms as f64)),
            Kind::Ip => {
                if let Some(ip) = parse_ip(text) {
                    return Some(Key::Ip(ip));
                }
                let span = self.scalar_span(s);
                let mut d = Diagnostic::error("R309", format!("invalid IP address `{text}`"))
                    .with_primary(span, "not an IP address");
                if text.contains('/') {
                    d = d.with_help(format!("to match a network, write `{{cidr: [{text}]}}`"));
                }
                self.push(d);
                return None;
            }
        };
        if key.is_none() {
            let (what, help) = match kind {
                Kind::Num => (
                    "a number",
                    match severity_band(field, text) {
                        Some(range) => format!(
                            "severity is a number from 1.0 to 10.0; for the {} band write `{range}`",
                            text.to_ascii_lowercase()
                        ),
                        None => "write a number, such as 7 or 7.5".to_string(),
                    },
                ),
                Kind::Bool => ("true or false", "write true or false".to_string()),
                _ => (
                    "a time",
                    "write an RFC 3339 time such as 2026-11-20T12:00:00Z, or a date such as 2026-11-20"
                        .to_string(),
                ),
            };
            let span = self.scalar_span(s);
            self.push(
                Diagnostic::error("R308", format!("`{field}` needs {what}, found `{text}`"))
                    .with_primary(span, format!("not {what}"))
                    .with_help(help),
            );
        }
        key
    }

    fn cidr(&mut self, s: &MarkedScalarNode) -> Option<IpNet> {
        let text = s.as_str().trim();
        let net = text
            .parse::<IpNet>()
            .map(|n| n.trunc())
            .ok()
            .or_else(|| parse_ip(text).map(IpNet::from));
        if net.is_none() {
            let span = self.scalar_span(s);
            self.push(
                Diagnostic::error("R309", format!("invalid CIDR `{text}`"))
                    .with_primary(span, "not a network")
                    .with_help(
                        "write an address and a prefix length, such as 198.51.100.0/24 or 2001:db8::/32",
                    ),
            );
        }
        net
    }
}

/// The known field nearest to a misspelled one. Long paths are many edits apart, so a
/// path is suggested only when its last part is the same or nearly (a typo elsewhere in
/// the path, or GuardDuty's `…privateIpAddresses.privateIpAddress`), not for a field
/// picket does not write (`…tags.key` is no typo of `…instanceId`).
fn nearest_field(name: &str) -> Option<&'static str> {
    let near = suggest::nearest(name, field_names())?;
    let leaf = |path: &'static str| path.rsplit('.').next().unwrap_or(path);
    let (_, wanted) = name.rsplit_once('.').unwrap_or(("", name));
    suggest::nearest(wanted, [leaf(near)]).map(|_| near)
}

/// For `severity: high` and the like, the range of that band.
fn severity_band(field: &str, text: &str) -> Option<&'static str> {
    if field != "severity" {
        return None;
    }
    match text.to_ascii_lowercase().as_str() {
        "low" => Some("{gte: 1, lt: 4}"),
        "medium" => Some("{gte: 4, lt: 7}"),
        "high" => Some("{gte: 7, lt: 9}"),
        "critical" => Some("{gte: 9}"),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
