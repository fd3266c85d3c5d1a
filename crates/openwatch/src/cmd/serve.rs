//! `openwatch serve` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `openwatch serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `openwatch serve`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("openwatch serve is not available in this build yet")
}
