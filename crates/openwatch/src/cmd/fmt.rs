//! `openwatch fmt` (being built; see the issue tracker).

use std::process::ExitCode;

/// Arguments of `openwatch fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `openwatch fmt`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("openwatch fmt is not available in this build yet")
}
