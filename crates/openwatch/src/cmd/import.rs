//! `openwatch import` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `openwatch import`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `openwatch import`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("openwatch import is not available in this build yet")
}
