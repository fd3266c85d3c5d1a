//! One module per subcommand; each exposes `Args` and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod check;
pub mod fmt;
pub mod import;
pub mod pack;
pub mod query;
pub mod serve;
