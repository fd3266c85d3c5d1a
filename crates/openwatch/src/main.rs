//! `openwatch`: the command-line entry point.
//!
//! Each subcommand lives in its own module under `cmd/` and owns its clap `Args`
//! struct; this file only dispatches and maps errors to exit codes (0 success,
//! 1 a user-facing failure such as an invalid query, 2 usage or I/O errors).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod account;
mod cmd;
#[cfg(unix)]
mod query_socket;

/// mimalloc keeps freed memory for reuse; glibc's malloc returns large blocks to the
/// kernel and page-faults them back on the next batch (measured: about a third of the
/// CPU time of a `stats count_distinct(…) by …` query went to page faults). mimalloc 2.x,
/// not 3.x: under 3.x a query touched half again as much fresh memory, and its page faults
/// made the 1 GB benchmark queries 1-13 % slower (workspace `Cargo.toml`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc's `mi_option_e` (15 in both the v2 `mimalloc.h` this
/// build uses and v3's; libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// For the short-lived commands (`import`, `query`): never hand freed memory back to the
/// kernel. By default mimalloc decommits memory idle for 10 ms (2.x; 1 s in 3.x), and an
/// import, which frees and refills a 64 MiB buffer every second or so, then page-faults (and
/// zeroes) it back each time. `serve` keeps the default so a long-running server shrinks
/// after a peak.
fn keep_freed_memory() {
    // SAFETY: mi_option_set only stores an integer option; any value is valid for it.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
}

/// For `import`: no transparent huge pages. mimalloc asks for them on its arenas, and an
/// import's buffers, built and dropped once per flush, then fault in 2 MiB pages that the
/// kernel must zero. Queries keep them (fewer faults: 10-17 % faster on the 1 GB benchmark
/// queries q2, q6, q7, measured with hyperfine). Import of 200 MB of CloudTrail, both
/// settings measured in one run: system time 1.54 s -> 0.61 s, wall time 3.95 s -> 3.02 s
/// (with [`keep_freed_memory`] in both). Linux only (elsewhere there is nothing to do).
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) takes integers only and changes only
    // how the kernel backs this process's future page faults; a failure is harmless.
    #[allow(unsafe_code)]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// OpenWatch: a self-hosted CloudWatch Logs and Logs Insights.
#[derive(Debug, Parser)]
#[command(name = "openwatch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Logs Insights queries and print diagnostics (exit 1 if any is invalid).
    Check(cmd::check::Args),
    /// Print Logs Insights queries in canonical form.
    Fmt(cmd::fmt::Args),
    /// Import log files (CloudTrail, NDJSON, text, CloudWatch exports) into a log group.
    Import(cmd::import::Args),
    /// Install a detection pack (CIS, canary): metric filters and alarms on a log group.
    Pack(cmd::pack::Args),
    /// Run a Logs Insights query over the store.
    Query(cmd::query::Args),
    /// Serve the CloudWatch Logs API (AWS JSON 1.1, SigV4) over HTTP.
    Serve(cmd::serve::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    if matches!(cli.command, Command::Import(_) | Command::Query(_)) {
        keep_freed_memory();
    }
    #[cfg(target_os = "linux")]
    if matches!(cli.command, Command::Import(_)) {
        no_transparent_huge_pages();
    }
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Fmt(args) => cmd::fmt::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Pack(args) => cmd::pack::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Serve(args) => cmd::serve::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", error_text(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, joined by `: ` as `{:#}` does, leaving out a cause whose text
/// the message already holds (library errors often print their source in their own
/// message: "cannot read x: No such file or directory (os error 2)").
pub(crate) fn error_text(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// A closed stdout (`openwatch query … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
