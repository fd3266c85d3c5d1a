//! `openwatch query` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `openwatch query`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `openwatch query`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("openwatch query is not available in this build yet")
}
