//! `openwatch check` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `openwatch check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `openwatch check`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("openwatch check is not available in this build yet")
}
