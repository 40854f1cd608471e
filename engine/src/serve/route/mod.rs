//! Routing findings: EventBridge-style event patterns and their actions.
