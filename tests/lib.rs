//! Shared helpers for picket integration tests (see the `[[test]]` targets).
