//! Events: the normalized model every rule reads, and the readers that turn log bytes
//! into it.
//!
//! `bytes -> reader (framing, gzip) -> normalizer (one per source) -> Event`.
//!
//! An [`Event`] keeps the parsed source record ([`Raw`]) and computes normalized fields
//! on demand through the field catalog ([`catalog`]): a normalized name such as
//! `actor.arn` is an accessor per source (a raw path or a small function), never a copy.
//! Every raw field stays reachable by its own path (`requestParameters.bucketName`).
//!
//! Modules: [`reader`] (files, gzip, framing, bad input), one normalizer per source
//! (`cloudtrail`, `vpcflow`, `dns`, `eks`: recognizing a record and the accessor
//! functions of its catalog entries), [`catalog`] (the field table), `value`
//! ([`FieldValue`]) and `path` (raw paths).
//!
//! Invariants: an event is never copied field by field; values borrow from
//! [`Event::raw`]; reading a field never panics and allocates only to build a list or
//! a computed text. Events are `Send`, so they can be sharded across threads.

pub mod catalog;
mod cloudtrail;
mod dns;
mod eks;
mod path;
pub mod reader;
mod value;
mod vpcflow;

pub use catalog::{FieldDef, FieldType};
pub use eks::cluster_from_log_group;
pub use path::parse_dotted;
pub(crate) use path::walk as walk_path;
pub use reader::{
    expand_inputs, read_all, read_path, read_stream, InputError, ReadOptions, ReadStats,
};
pub(crate) use value::fast_ipv4;
pub use value::{format_millis, parse_ip, parse_rfc3339, FieldValue};
pub(crate) use vpcflow::is_numeric as vpcflow_numeric;
pub use vpcflow::{FlowFormat, FlowRecord, V2_FIELDS};

use picket_grammar::ast::Segment;
use std::fmt;
use std::sync::Arc;

/// The log sources picket reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// CloudTrail management events (and any non-S3-data CloudTrail record).
    CloudTrail,
    /// CloudTrail S3 data events (GetObject, PutObject, ListObjects, DeleteObject …).
    S3Data,
    /// VPC Flow Logs records.
    VpcFlow,
    /// Route 53 Resolver query logs.
    Dns,
    /// EKS / Kubernetes audit events.
    Eks,
}

impl Source {
    /// Every source, in a stable order.
    pub const ALL: [Source; 5] = [
        Source::CloudTrail,
        Source::S3Data,
        Source::VpcFlow,
        Source::Dns,
        Source::Eks,
    ];

    /// The name used in rules, on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            Source::CloudTrail => "cloudtrail",
            Source::S3Data => "s3data",
            Source::VpcFlow => "vpcflow",
            Source::Dns => "dns",
            Source::Eks => "eks",
        }
    }

    /// Parses a source name as written in rules and on the command line.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an event came from, for error messages and finding evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The input file (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line where the record starts (0 when unknown).
    pub line: u64,
    /// 0-based index of the record within the file.
    pub record: u64,
}

/// One normalized event.
#[derive(Debug)]
pub struct Event {
    /// Which source it belongs to.
    pub source: Source,
    /// The source record as parsed.
    pub raw: Raw,
    /// Where it came from.
    pub origin: Origin,
    /// The CloudWatch Logs log group the record was delivered through, when its wrapper
    /// named one (`/aws/eks/<cluster>/cluster`); `k8s.cluster` is read from it.
    pub log_group: Option<Arc<str>>,
}

impl Event {
    /// An event with no delivery context.
    pub fn new(source: Source, raw: Raw, origin: Origin) -> Event {
        Event {
            source,
            raw,
            origin,
            log_group: None,
        }
    }

    /// The value at a raw path of the source record; `None` when missing or null.
    ///
    /// JSON records: keys walk objects; an array met where a key follows reaches every
    /// element, and all values found are flattened into one [`FieldValue::List`]; an
    /// index selects one element. Flow records: a single key naming a field of the
    /// format; numeric fields are integers and `-` is missing.
    pub fn raw_get(&self, path: &[Segment]) -> Option<FieldValue<'_>> {
        match &self.raw {
            Raw::Json(v) => path::walk(v, path),
            Raw::Flow(r) => match path {
                [Segment::Name(name)] => r.value(name),
                _ => None,
            },
        }
    }

    /// A field by name: a catalog field (`actor.arn`), else a dotted raw path
    /// (`requestParameters.bucketName`, `resources[0].ARN`). For finding builders and
    /// tools; compiled rules resolve names once instead.
    pub fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        if let Some(def) = catalog::lookup(name) {
            return def.get(self);
        }
        self.raw_get(&path::parse_dotted(name)?)
    }

    /// When the event happened (the catalog's `time`), in unix milliseconds.
    pub fn time_millis(&self) -> Option<i64> {
        static TIME: std::sync::OnceLock<Option<&'static FieldDef>> = std::sync::OnceLock::new();
        TIME.get_or_init(|| catalog::lookup("time"))
            .as_ref()?
            .get(self)?
            .as_time()
    }
}

/// A source record as parsed, kept whole so any raw path can be read.
#[derive(Debug)]
pub enum Raw {
    /// A JSON record (CloudTrail, S3 data, DNS, EKS audit).
    Json(sonic_rs::Value),
    /// A VPC flow log line.
    Flow(vpcflow::FlowRecord),
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_are_send() {
        fn send<T: Send + 'static>() {}
        send::<super::Event>();
    }
}
