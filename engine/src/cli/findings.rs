//! `picket findings`: list, show, archive and unarchive the findings of a store.

use std::io::Write;

use anyhow::Result;

/// Arguments of `picket findings`.
#[derive(clap::Args, Debug)]
pub(super) struct FindingsArgs {}

pub(super) fn run(_args: FindingsArgs, _out: &mut dyn Write) -> Result<u8> {
    Ok(0)
}
