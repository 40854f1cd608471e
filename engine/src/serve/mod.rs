//! `picket serve`: continuous monitoring.
//!
//! Inputs (watched directories, standard input, an HTTP ingest endpoint) feed one
//! pipeline that runs the current engine (swapped whole on reload) and the state of
//! stateful rules over each batch of events, then commits the batch's findings and the
//! inputs' positions to the findings store in one transaction, then routes the findings.
//!
//! Modules: [`config`] (the TOML file), [`store`] (SQLite findings store), [`route`]
//! (EventBridge-style routes and their actions), [`metrics`] (Prometheus), [`admin`]
//! (the admin HTTP server).

pub mod admin;
pub mod metrics;
pub mod route;
pub mod store;
