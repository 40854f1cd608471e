//! The admin HTTP server: health, readiness, metrics, status and reload.
