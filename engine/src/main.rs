//! The `picket` command.

use std::process::ExitCode;

/// mimalloc: the serve pipeline frees on one thread what the inputs allocated on
/// others, where the system allocator spends a fifth of the pipeline's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match picket::cli::run(args, &mut out) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
