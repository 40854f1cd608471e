//! Shared helpers for picket's integration tests: paths into the repository and an
//! in-process runner for the `picket` command.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Runs `picket ARGS…` in-process; returns the exit code and standard output.
pub fn picket(args: &[&str]) -> (u8, String) {
    let mut argv: Vec<OsString> = vec!["picket".into()];
    argv.extend(args.iter().map(OsString::from));
    let mut out = Vec::new();
    let code = picket::cli::run(argv, &mut out).expect("picket runs");
    (code, String::from_utf8(out).expect("UTF-8 output"))
}
