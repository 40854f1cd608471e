//! Findings: what a match becomes.
//!
//! `Match -> Finding (GuardDuty JSON shape) -> aggregation -> output`.
//!
//! [`build`] turns a rule that matched an event into a [`Finding`] whose resource and
//! action depend on the source (an access key and an API call for CloudTrail, an instance
//! and a connection for flow logs, …). [`Aggregator`] folds repeated matches of one rule
//! on one group key into one finding whose `count` and `eventLastSeen` grow, as
//! GuardDuty does. [`suppress`] archives the findings that match a suppression rule
//! (they are kept, with `service.archived` set), and [`trusted`] those whose remote address
//! is on a trusted list. [`output`] writes findings as JSON lines
//! or a table.

mod aggregate;
mod build;
pub mod enrich;
pub mod output;
pub mod suppress;
pub mod trusted;

pub use aggregate::{Aggregator, MAX_EVIDENCE_EVENTS};
pub use build::{build, merge_intel_details, severity_band};
pub use suppress::{SuppressError, Suppression, Suppressions};

use serde::Serialize;
use serde_json::Value;

/// Detector id used when none is configured.
pub const DEFAULT_DETECTOR_ID: &str = "picket0000000000000000000000local";

/// A finding in GuardDuty's JSON shape, plus `rule` and `matched`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `"2.0"`
    pub schema_version: &'static str,
    /// Account of the event.
    pub account_id: String,
    /// Region of the event.
    pub region: String,
    /// `aws`
    pub partition: &'static str,
    /// 32 hex characters, stable for a rule and aggregation key.
    pub id: String,
    /// `arn:aws:guardduty:REGION:ACCOUNT:detector/DETECTOR/finding/ID`
    pub arn: String,
    /// Finding type.
    #[serde(rename = "type")]
    pub finding_type: String,
    /// What was affected.
    pub resource: Value,
    /// How it was seen.
    pub service: Service,
    /// 1.0..=10.0
    pub severity: f64,
    /// Time of the first event (RFC 3339, milliseconds, UTC).
    pub created_at: String,
    /// Time of the latest event aggregated.
    pub updated_at: String,
    /// Short sentence.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// The rule that raised it.
    pub rule: RuleRef,
    /// The predicates that held on the first event.
    pub matched: Vec<String>,
}

/// `service` of a finding.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `guardduty`, for compatibility.
    pub service_name: &'static str,
    /// Detector id.
    pub detector_id: String,
    /// The action, by source.
    pub action: Value,
    /// Evidence: references to the events behind the finding.
    pub evidence: Value,
    /// Archived by a suppression rule.
    pub archived: bool,
    /// Events aggregated.
    pub count: u64,
    /// Event time of the first event.
    pub event_first_seen: String,
    /// Event time of the latest event.
    pub event_last_seen: String,
    /// `TARGET` or `ACTOR`.
    pub resource_role: &'static str,
    /// Picket's own details, as GuardDuty's `additionalInfo`.
    pub additional_info: Value,
}

/// The rule behind a finding.
#[derive(Clone, Debug, Serialize)]
pub struct RuleRef {
    /// Rule id.
    pub id: String,
    /// Rule version.
    pub version: u32,
}
