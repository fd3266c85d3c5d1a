//! One module per subcommand; each exposes `Args` and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod check;
pub mod fmt;
pub mod import;
pub mod pack;
pub mod query;
pub mod serve;

/// Reports a failed store open: the store's lock error (another process holds the data
/// directory: `ow_storage::Store::open`, `open_read_only`) is printed with `help` under it
/// and gives exit code 2; any other error is returned, with the directory as its context.
pub(crate) fn store_open_failed(
    e: ow_storage::StoreError,
    data_dir: &std::path::Path,
    help: &str,
) -> anyhow::Result<std::process::ExitCode> {
    let in_use = e.to_string().contains("is in use by");
    let err =
        anyhow::Error::new(e).context(format!("cannot open the store in {}", data_dir.display()));
    if !in_use {
        return Err(err);
    }
    eprintln!("error: {}", crate::error_text(&err));
    eprintln!("help: {help}");
    Ok(std::process::ExitCode::from(2))
}
