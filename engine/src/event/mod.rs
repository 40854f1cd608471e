//! Events: the normalized model every rule reads, and the readers that turn log bytes
//! into it.
//!
//! `bytes -> reader (framing, gzip) -> normalizer (one per source) -> Event`.
//!
//! An [`Event`] keeps the parsed source record ([`Raw`]) and computes normalized fields
//! on demand through the field catalog ([`catalog`]): a normalized name such as
//! `actor.arn` is an accessor per source (a raw path or a small function), never a copy.
//! Every raw field stays reachable by its own path (`requestParameters.bucketName`).

pub mod catalog;
mod cloudtrail;
mod dns;
mod eks;
pub mod reader;
mod value;
mod vpcflow;

pub use catalog::{FieldDef, FieldType};
pub use reader::{InputError, ReadOptions, ReadStats};
pub use value::FieldValue;

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
}

/// A source record as parsed, kept whole so any raw path can be read.
#[derive(Debug)]
pub enum Raw {
    /// A JSON record (CloudTrail, S3 data, DNS, EKS audit).
    Json(sonic_rs::Value),
    /// A VPC flow log line.
    Flow(vpcflow::FlowRecord),
}
