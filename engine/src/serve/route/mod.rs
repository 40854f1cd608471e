//! Routing findings: EventBridge-style event patterns and their actions.

// Stand-in until routing lands.
use std::path::PathBuf;
use std::time::Duration;

/// A route.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct RouteConfig {
    /// Name.
    pub name: String,
}

/// Per-route counters.
#[derive(Clone, Debug, Default)]
#[allow(missing_docs)]
pub struct RouteStats {
    pub name: String,
    pub matched: u64,
    pub delivered: u64,
    pub retries: u64,
    pub failed: u64,
    pub queued: u64,
}

/// Routes findings.
pub struct Router;

#[allow(missing_docs, unused_variables)]
impl Router {
    pub fn new(routes: Vec<RouteConfig>, dead_letter: PathBuf) -> Result<Router, String> {
        Ok(Router)
    }
    pub fn route(&self, finding: &serde_json::Value, new: bool) {}
    pub fn flush(&self, timeout: Duration) -> bool {
        true
    }
    pub fn shutdown(self, timeout: Duration) {}
    pub fn stats(&self) -> Vec<RouteStats> {
        Vec::new()
    }
}

/// Checks routes before starting: `(index, message)` per problem.
pub fn check_routes(_routes: &[RouteConfig]) -> Vec<(usize, String)> {
    Vec::new()
}
