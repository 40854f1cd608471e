//! `picket serve`: the long-running service (see [`crate::serve`]).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use crate::serve::config::Config;
use crate::serve::ServeOptions;

/// Arguments of `picket serve`.
#[derive(clap::Args, Debug)]
pub(super) struct ServeArgs {
    /// The configuration file (see docs/picket.toml).
    #[arg(long, short, value_name = "FILE", default_value = "picket.toml")]
    config: PathBuf,
    /// Log format, overriding `[log] format`.
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Check the configuration and compile the packs (running their tests when
    /// `test_on_reload` is on), then exit.
    #[arg(long)]
    check: bool,
}

pub(super) fn run(args: ServeArgs, out: &mut dyn Write) -> Result<u8> {
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{} error(s) in {}; picket serve did not start",
                e.count,
                args.config.display()
            );
            return Ok(2);
        }
    };
    let options = ServeOptions {
        log_json: args.log_format.map(|f| f == "json"),
        check: args.check,
    };
    let code = crate::serve::run(config, &options)?;
    out.flush()?;
    Ok(code)
}
