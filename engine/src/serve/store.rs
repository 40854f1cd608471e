//! The findings store: SQLite, in WAL mode.
