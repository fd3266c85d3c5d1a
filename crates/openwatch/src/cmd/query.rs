//! `openwatch query`: run a Logs Insights query over a local store.
//!
//! ```text
//! openwatch query [--data-dir D] [--log-group G]... [--start T --end T]
//!                 [--format table|json|csv|ndjson] [--timestamps aws|rfc3339] [--limit N] ('QUERY' | --query-file F)
//! ```
//!
//! - Times (`--start`, `--end`): relative to now (`15m`, `24h`, `7d`, `2w`: that long ago;
//!   `-15m` means the same, `+15m` (future) is refused with an error),
//!   ISO 8601 (`2023-07-10T11:42:18Z`, `2023-07-10 11:42:18` = UTC, `2023-07-10`), `now`, or
//!   epoch seconds (the unit of StartQuery; a value after the year 9999 is refused, with a
//!   hint when it looks like milliseconds). Both ends are inclusive; an end given in whole
//!   seconds includes that whole second. Without them the whole stored range is read.
//! - Without `--log-group`, a query that does not start with `SOURCE` reads every log group
//!   of the store (a CLI convenience; the API requires names).
//! - Output on stdout: `table` (aligned columns), `json` (the GetQueryResults shape:
//!   `results` as lists of `{field, value}` with `@ptr`, `statistics`, `status`), `csv`
//!   (header + rows), `ndjson` (one object per row keyed by field name), `ndjson-compact`
//!   (one array per row, values in the csv header's order). `@ptr` is printed by the
//!   row formats only when the query asks for it (`fields @ptr`), like any other column.
//!   Statistics and progress go to stderr.
//! - `lookup <table> …` reads `<data-dir>/lookup-tables/<table>.csv` (header row, UTF-8,
//!   at most 10 MB; table names are letters, digits and `_`). Copy a CSV file there to make
//!   a table available.
//! - `--timeout` stops the query after that long (default 60m); Ctrl-C cancels it.
//! - Exit codes: 0 success, 1 the query is invalid or fails (diagnostic on stderr), 2 usage
//!   or I/O errors.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ow_query::{CancelToken, EngineConfig, QueryEngine, QueryError, QueryOutput, QueryRequest};

/// Timestamp rendering of `openwatch query` (`--timestamps`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Timestamps {
    /// `YYYY-MM-DD HH:MM:SS.mmm`, as GetQueryResults renders them.
    Aws,
    /// ISO 8601 / RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    Rfc3339,
}

/// Output formats of `openwatch query`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Aligned columns for terminals.
    Table,
    /// The GetQueryResults JSON shape.
    Json,
    /// CSV with a header row.
    Csv,
    /// One JSON object per row, keyed by field name.
    Ndjson,
    /// One JSON array per row: the values in column order (the `csv` header's order), `null`
    /// for a field the row lacks; no header line. ClickHouse calls this shape
    /// JSONCompactEachRow; it is smaller than `ndjson` and cheaper for a reader to parse.
    NdjsonCompact,
}

/// Arguments of `openwatch query`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory of the store.
    #[arg(long, env = "OPENWATCH_DATA_DIR", default_value = "openwatch-data")]
    pub data_dir: PathBuf,
    /// Account (12 digits) whose data to use, as `openwatch serve` keeps it: the server's
    /// default account uses the data directory itself, others `<data-dir>/accounts/<ID>/`.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Log group to query (repeatable). Default: every log group, unless the query starts
    /// with SOURCE.
    #[arg(long = "log-group", short = 'g', value_name = "NAME")]
    pub log_groups: Vec<String>,
    /// Range start (inclusive): 15m / 24h / 7d ago (`-15m` is the same; `+15m` is refused),
    /// ISO 8601, `now` or epoch seconds (not milliseconds: values after the year 9999 are
    /// refused). Default: the earliest event stored in the queried log groups.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Range end (inclusive): same forms as --start. Default: now, or the latest stored
    /// event if later.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub end: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// How timestamps (`@timestamp`, `bin()` keys, …) are printed: `aws` as GetQueryResults
    /// shows them (`2024-03-01 00:00:22.000`), `rfc3339` as ISO 8601 UTC
    /// (`2024-03-01T00:00:22Z`, milliseconds only when not zero).
    #[arg(long, value_enum, default_value_t = Timestamps::Aws)]
    pub timestamps: Timestamps,
    /// Row cap (StartQuery `limit`): 1 to 100,000; default 10,000.
    #[arg(long, value_parser = parse_limit)]
    pub limit: Option<usize>,
    /// Query timeout, e.g. `90s`, `10m`, `1h` (default 60m, AWS's limit).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Read the query from this file instead of the command line (`-`: standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "query")]
    pub query_file: Option<PathBuf>,
    /// Don't print statistics and progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The Logs Insights query.
    #[arg(value_name = "QUERY", required_unless_present = "query_file")]
    pub query: Option<String>,
}

/// A query run with the CLI's arguments resolved: what the local run and
/// `openwatch serve`'s query socket ([`crate::query_socket`]) both execute. Sent over the
/// socket as one JSON line.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Invocation {
    /// The Logs Insights query text.
    pub query: String,
    /// `--log-group` names (empty: every log group, unless the query starts with SOURCE).
    pub log_groups: Vec<String>,
    /// `--start`, resolved to epoch ms (inclusive).
    pub start_ms: Option<i64>,
    /// `--end`, resolved to epoch ms (inclusive).
    pub end_ms: Option<i64>,
    /// The client's clock when it resolved the times (epoch ms): the default end.
    pub now_ms: i64,
    /// Output format.
    pub format: Format,
    /// Timestamp rendering.
    pub timestamps: Timestamps,
    /// `--limit`: the row cap.
    pub limit: Option<usize>,
    /// `--timeout` in ms (`None`: the engine's default, 60 minutes).
    pub timeout_ms: Option<u64>,
    /// `--quiet`: no warnings, statistics or notes on stderr.
    pub quiet: bool,
    /// The client shows a progress spinner (not `--quiet`, stderr a terminal): a server
    /// sends progress frames while the query runs. Absent in the requests of clients
    /// before it: `false`.
    #[serde(default)]
    pub progress: bool,
}

/// Runs `openwatch query`: through the query socket of an `openwatch serve` that holds the
/// data directory when there is one (`crate::query_socket`), else over the store opened
/// read-only in this process.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let account_id = crate::account::account_id(&args.data_dir, args.account.as_deref())?;
    args.data_dir = crate::account::account_dir(&args.data_dir, args.account.as_deref(), None)?;
    let query = match (&args.query, &args.query_file) {
        (Some(q), _) => q.clone(),
        // `-`: standard input, as `check` and `fmt` read it (QA, session 20)
        (None, Some(f)) if f.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the query from standard input")?;
            text
        }
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("cannot read query file {}", f.display()))?,
        (None, None) => anyhow::bail!("give a query or --query-file"),
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let start_ms = match &args.start {
        Some(s) => {
            Some(parse_time(s, now_ms, false).with_context(|| format!("bad --start {s:?}"))?)
        }
        None => None,
    };
    let end_ms = match &args.end {
        Some(s) => Some(parse_time(s, now_ms, true).with_context(|| format!("bad --end {s:?}"))?),
        None => None,
    };
    // QA (session 20): an inverted range exited 1 with an end the user never typed
    // (`12:00:00.999Z`: --end covers its whole second)
    if let (Some(s), Some(e), Some(start), Some(end)) = (start_ms, end_ms, &args.start, &args.end) {
        if s > e {
            anyhow::bail!(
                "--start {start:?} ({}) is after --end {end:?} ({})",
                utc(s),
                utc(e)
            );
        }
    }
    let timeout_ms = match &args.timeout {
        Some(t) => {
            let d = parse_duration(t).with_context(|| format!("bad --timeout {t:?}"))?;
            // QA (session 20): `--timeout 0s` ran and "timed out after 0ns"
            if d.is_zero() {
                anyhow::bail!("bad --timeout {t:?}: a timeout is longer than 0");
            }
            Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        }
        None => None,
    };
    if args.data_dir.exists() && !args.data_dir.is_dir() {
        anyhow::bail!(
            "data directory {} is not a directory",
            args.data_dir.display()
        );
    }
    if !args.data_dir.is_dir() {
        anyhow::bail!(
            "data directory {} does not exist (import data with `openwatch import`)",
            args.data_dir.display()
        );
    }
    let invocation = Invocation {
        query,
        log_groups: args.log_groups,
        start_ms,
        end_ms,
        now_ms,
        format: args.format,
        timestamps: args.timestamps,
        limit: args.limit,
        timeout_ms,
        quiet: args.quiet,
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    // A running `openwatch serve` holds the directory (readers are locked out): ask it.
    #[cfg(unix)]
    let socket_denied = match crate::query_socket::forward(&args.data_dir, &invocation)? {
        crate::query_socket::Forwarded::Answered(code) => return Ok(code),
        crate::query_socket::Forwarded::NotServed { permission_denied } => permission_denied,
    };
    #[cfg(not(unix))]
    let socket_denied = false;

    // The account owns what this store creates (ARNs, `@log` = `account:group`).
    let store_config = ow_storage::StoreConfig {
        account_id,
        // a query reads no log stream's metadata (see the field's docs)
        log_stream_metadata: false,
        ..Default::default()
    };
    // Read-only: a query writes nothing (no WAL file, no fsync, no flush), works on a
    // read-only copy of a data directory, and runs beside other queries of the same one.
    let store = match ow_storage::Store::open_read_only(&args.data_dir, store_config) {
        Ok(store) => Arc::new(store),
        Err(e) => {
            // QA (session 16): an account of a running server other than its default
            // one, or a socket the client could not reach, gave the bare lock error;
            // (session 17) another user's server too.
            let help = if socket_denied {
                format!(
                    "the `openwatch serve` that holds it answers queries through {} only for \
                     the user who started it (permission denied): run the query as that \
                     user, or through the API (StartQuery)",
                    args.data_dir.join("query.sock").display()
                )
            } else {
                "`openwatch import` and `openwatch serve` hold a data directory while they \
                 run; a running `openwatch serve` answers `openwatch query` for its default \
                 account (through query.sock in its data directory): query its other \
                 accounts through the API (StartQuery); a server that is starting or \
                 stopping answers nothing: try again"
                    .to_owned()
            };
            return super::store_open_failed(e, &args.data_dir, &help);
        }
    };
    let base = EngineConfig {
        lookup_dir: Some(args.data_dir.join("lookup-tables")),
        ..EngineConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cancel = CancelToken::new();
    let bar = invocation.progress.then(spinner);
    let progress = |p: ow_query::Progress| {
        if let Some(bar) = &bar {
            bar.set_message(progress_message(p.records_scanned, p.bytes_scanned));
        }
    };
    let finished = || {
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut err = std::io::stderr();
    let code = runtime.block_on(async {
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        execute(
            &store,
            &base,
            &invocation,
            cancel.clone(),
            &progress,
            &finished,
            &mut out,
            &mut err,
        )
        .await
    })?;
    out.flush()?;
    Ok(ExitCode::from(code))
}

/// The spinner on stderr while a query runs (a local run's, or a served run's in the
/// client, fed by the server's progress frames).
pub(crate) fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The spinner's message: events (`recordsScanned` so far) and `@message` bytes read.
pub(crate) fn progress_message(records_scanned: u64, bytes_scanned: u64) -> String {
    format!(
        "{records_scanned} records, {} scanned",
        human_bytes(bytes_scanned)
    )
}

/// The engine configuration of one invocation: `base` (the store's lookup tables, the
/// server's timeout) with the invocation's timeout, `@ptr` rule and timestamp style.
fn engine_config(base: &EngineConfig, invocation: &Invocation) -> EngineConfig {
    let mut config = base.clone();
    if let Some(ms) = invocation.timeout_ms {
        config.timeout = Duration::from_millis(ms);
    }
    // Only the GetQueryResults shape shows every row's @ptr; the row formats print it
    // when the query lists it.
    config.result_ptr = matches!(invocation.format, Format::Json);
    config.timestamp_style = match invocation.timestamps {
        Timestamps::Aws => ow_query::TimestampStyle::Aws,
        Timestamps::Rfc3339 => ow_query::TimestampStyle::Rfc3339,
    };
    config
}

/// Runs `invocation` over `store` and writes what `openwatch query` prints: the rows to
/// `out`; warnings, a diagnostic or an error, the statistics and notes to `err`. Returns the
/// exit code (0 success, 1 the query is invalid or fails). `finished` is called once the
/// query has run, before anything is written but warnings (the CLI clears its progress
/// spinner there).
///
/// # Errors
/// The store has no log groups (exit 2 in the CLI); writing `out` or `err` fails.
#[allow(clippy::too_many_arguments)]
pub async fn execute(
    store: &Arc<ow_storage::Store>,
    base: &EngineConfig,
    invocation: &Invocation,
    cancel: CancelToken,
    progress: &(dyn Fn(ow_query::Progress) + Sync),
    finished: &(dyn Fn() + Sync),
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> anyhow::Result<u8> {
    let query = &invocation.query;
    let config = engine_config(base, invocation);
    let starts_with_source = query
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("source")));
    if starts_with_source && !invocation.log_groups.is_empty() {
        // QA (session 20): `-g` with a SOURCE query took the default range from the `-g`
        // groups while the engine read SOURCE's, and counted too few events silently.
        // StartQuery names its log groups or starts the query with SOURCE (spec §4.16).
        writeln!(
            err,
            "error: the query starts with SOURCE, which selects its log groups: drop --log-group"
        )?;
        return Ok(2);
    }
    // `SOURCE … start=/end=` sets the time range itself (spec §4.16)
    let source_window = starts_with_source
        && ow_query_syntax::parse(query).query.is_some_and(|q| {
            matches!(
                q.commands.first().map(|c| &c.node),
                Some(ow_query_syntax::ast::Command::Source(s)) if s.start.is_some() || s.end.is_some()
            )
        });
    if source_window && (invocation.start_ms.is_some() || invocation.end_ms.is_some()) {
        // QA (session 20): the SOURCE window silently won over --start/--end
        writeln!(
            err,
            "error: the query's SOURCE sets the time range (start=/end=): drop --start and --end"
        )?;
        return Ok(2);
    }
    let log_groups = if invocation.log_groups.is_empty() && !starts_with_source {
        all_log_groups(store)?
    } else {
        invocation.log_groups.clone()
    };

    // [I] Without --start (--end), the range starts (ends) where the stored events of the
    // queried log groups (every group for a SOURCE query) do, the end at now at the
    // earliest: every event is in range, and queryStartTime(), queryEndTime() and
    // queryTimeRange() give real times (StartQuery always names both ends).
    let now_ms = invocation.now_ms;
    let (start_arg, end_arg) = (invocation.start_ms, invocation.end_ms);
    let (start_ms, end_ms) = match (start_arg, end_arg) {
        (Some(s), Some(e)) => (s, e),
        _ => {
            let groups = if log_groups.is_empty() {
                all_log_groups(store)?
            } else {
                log_groups.clone()
            };
            let (first, last) = stored_range(store, &groups);
            let end = end_arg.unwrap_or_else(|| last.map_or(now_ms, |l| l.max(now_ms)));
            let start = start_arg.unwrap_or_else(|| first.unwrap_or(now_ms).min(end));
            (start, end.max(start))
        }
    };

    let max_limit = config.max_limit;
    let engine = QueryEngine::new(store.clone(), config);
    let queried_groups = log_groups.clone();
    let request = QueryRequest {
        query: query.clone(),
        log_groups,
        start_ms,
        end_ms,
        limit: invocation.limit,
    };
    // Warnings (`openwatch check`'s, e.g. a field that no longer exists after `stats`) do
    // not stop a query, but its rows may not be what the author meant: say so first.
    if !invocation.quiet {
        let analysis = ow_query_syntax::analyze(query, &ow_query_syntax::CheckConfig::default());
        if !analysis.has_errors() {
            let warnings: Vec<_> = analysis
                .diagnostics
                .into_iter()
                .filter(|d| d.severity == ow_diagnostics::Severity::Warning)
                .collect();
            if !warnings.is_empty() {
                write!(err, "{}", ow_query_syntax::render(query, &warnings))?;
            }
        }
    }
    let result = engine.run_with_progress(request, cancel, progress).await;
    finished();
    let output = match result {
        Ok(o) => o,
        Err(QueryError::Malformed(diags)) => {
            write!(err, "{}", ow_query_syntax::render(query, &diags))?;
            return Ok(1);
        }
        Err(e) => {
            writeln!(err, "error: {e}")?;
            if let QueryError::LogGroupNotFound(name) = &e {
                writeln!(err, "{}", log_group_help(store, name))?;
            }
            return Ok(1);
        }
    };
    match invocation.format {
        Format::Table => write_table(out, &output)?,
        Format::Json => write_json(out, &output)?,
        Format::Csv => write_csv(out, &output)?,
        Format::Ndjson => write_ndjson(out, &output)?,
        Format::NdjsonCompact => write_ndjson_compact(out, &output)?,
    }
    out.flush()?;
    if !invocation.quiet {
        let s = &output.statistics;
        writeln!(
            err,
            "{} row{}; recordsMatched {}, recordsScanned {}, bytesScanned {} ({})",
            output.rows.len(),
            if output.rows.len() == 1 { "" } else { "s" },
            s.records_matched,
            s.records_scanned,
            s.bytes_scanned,
            human_bytes(s.bytes_scanned as u64)
        )?;
        // QA (session 14): a result cut at the row cap only said "10000 rows; recordsMatched
        // 12902"
        // QA (session 18): comparing rows with recordsMatched (events) also fired for a
        // `stats` result of exactly `--limit` groups; the engine says whether rows were cut.
        if let Some(cap) = output.rows_cut_by_cap {
            writeln!(err, "{}", row_cap_note(cap, max_limit))?;
        }
        // QA (session 19): a misspelt field (`filter evtName = 'AssumeRole'`) gave 0 rows,
        // `fields evtName` an empty column, and no clue why
        let empty_column = |c: &String| output.rows.iter().all(|r| r.iter().all(|f| &f.field != c));
        // a count of 0 too: `filter evntName = 'x' | stats count(*)`, `stats count(evntName)`
        // (QA, session 20)
        let zero_column = |c: &String| {
            output
                .rows
                .iter()
                .all(|r| r.iter().any(|f| &f.field == c && f.value == "0"))
        };
        if s.records_scanned > 0.0
            && (output.rows.is_empty()
                || s.records_matched == 0.0
                || output.columns.iter().any(empty_column)
                || output.columns.iter().any(zero_column))
        {
            // the statistics read segments through the store's blocking calls
            // the groups the engine read: SOURCE's selection too (QA, session 19)
            let (store, groups, text) = (store.clone(), output.log_groups.clone(), query.clone());
            let notes = tokio::task::spawn_blocking(move || {
                missing_field_notes(&store, &groups, &text, start_ms, end_ms)
            })
            .await
            .unwrap_or_default();
            for note in notes {
                writeln!(err, "{note}")?;
            }
        }
        // QA (session 11): `--start 7d` over data from 2017 gave 0 rows and no clue why
        if s.records_scanned == 0.0 && (start_arg.is_some() || end_arg.is_some() || source_window) {
            // the groups the engine read (SOURCE's selection: QA, session 20)
            let groups = if !output.log_groups.is_empty() {
                output.log_groups.clone()
            } else if queried_groups.is_empty() {
                all_log_groups(store).unwrap_or_default()
            } else {
                queried_groups
            };
            if let (Some(first), Some(last)) = stored_range(store, &groups) {
                writeln!(
                    err,
                    "note: no event is in the time range; the queried log groups hold events \
                     from {} to {}",
                    utc(first),
                    utc(last)
                )?;
            }
        }
    }
    Ok(0)
}

/// Epoch milliseconds for a message, as `--timestamps rfc3339` prints them.
fn utc(ms: i64) -> String {
    ow_query::render::timestamp_ms_rfc3339(ms).unwrap_or_else(|| format!("{ms} ms"))
}

/// The earliest and latest event time (ms) stored in `groups` (log groups that do not
/// exist are left out: the engine reports them); `None` when they hold no event.
/// Notes for the fields `query` reads from events that no event of `groups` has in the
/// segments overlapping the range or the buffered events in it (`Store::fields_near`: the
/// segments' field counts), with the nearest field that does exist (`groups`: those the
/// engine read, a SOURCE query's selection included); none when the statistics cannot be
/// read. Only asked for when a result is empty or has an empty column: it reads every
/// overlapping segment's footer.
fn missing_field_notes(
    store: &ow_storage::Store,
    groups: &[String],
    query: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<String> {
    let Some(parsed) = ow_query_syntax::parse(query).query else {
        return Vec::new();
    };
    let paths = ow_query::analyze::analyze(&parsed).paths;
    if groups.is_empty() || paths.is_empty() {
        return Vec::new();
    }
    let mut known: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for g in groups {
        match store.fields_near(g, start_ms, end_ms) {
            Ok(stats) => known.extend(stats.fields.into_iter().map(|(name, _)| name)),
            Err(_) => return Vec::new(),
        }
    }
    if known.is_empty() {
        // plain text events: nothing to compare with
        return Vec::new();
    }
    paths
        .iter()
        // `@ptr` is every event's (spec §3.1), never in the field counts (QA, session 20)
        .filter(|p| p.as_str() != "@ptr")
        // a JSON object's path (`userIdentity`) has its leaves' paths below it
        .filter(|p| !known.contains(*p) && !known.iter().any(|k| k.starts_with(&format!("{p}."))))
        .map(|p| {
            let hint = ow_query_syntax::did_you_mean(p, known.iter().map(String::as_str))
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            format!("note: no event in the time range has a field `{p}`{hint}")
        })
        .collect()
}

fn stored_range(store: &ow_storage::Store, groups: &[String]) -> (Option<i64>, Option<i64>) {
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    for g in groups.iter().filter_map(|name| store.log_group(name).ok()) {
        if let Some(t) = g.first_event_timestamp_ms {
            first = Some(first.map_or(t, |f| f.min(t)));
        }
        if let Some(t) = g.last_event_timestamp_ms {
            last = Some(last.map_or(t, |l| l.max(t)));
        }
    }
    (first, last)
}

/// The help line under "log group does not exist: NAME": the closest existing name (names
/// are case-sensitive, so `CloudTrail` for `cloudtrail` is a suggestion too), else the
/// groups there are (up to ten), else that there are none.
fn log_group_help(store: &ow_storage::Store, name: &str) -> String {
    let Ok(names) = all_log_groups(store) else {
        return "help: the store has no log groups (import data with `openwatch import`)"
            .to_owned();
    };
    if let Some(close) = ow_query_syntax::did_you_mean(name, names.iter().map(String::as_str)) {
        return format!("help: did you mean `{close}`?");
    }
    const SHOWN: usize = 10;
    let shown: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
    let more = if names.len() > SHOWN {
        format!(", … ({} in all)", names.len())
    } else {
        String::new()
    };
    format!("help: the log groups are: {}{more}", shown.join(", "))
}

fn all_log_groups(store: &ow_storage::Store) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .list_log_groups(&ow_storage::PageRequest {
                prefix: None,
                limit: None,
                next_token: token,
            })
            .context("cannot list log groups")?;
        names.extend(page.items.into_iter().map(|g| g.name));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    if names.is_empty() {
        anyhow::bail!("the store has no log groups (import data with `openwatch import`)");
    }
    Ok(names)
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parses a duration like `90s`, `15m`, `24h`, `7d`, `2w`, `500ms`.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .with_context(|| format!("{s:?} does not start with a number"))?;
    let ms = match unit {
        "ms" => 1,
        "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" | "hr" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "" => anyhow::bail!("{s:?} needs a unit (ms, s, m, h, d, w)"),
        other => anyhow::bail!("unknown unit {other:?} (use ms, s, m, h, d, w)"),
    };
    Ok(Duration::from_millis(n.saturating_mul(ms)))
}

/// 9999-12-31T23:59:59Z in epoch seconds: a larger epoch value is refused (it is most
/// likely milliseconds, which would silently mean a year like 55841).
const MAX_EPOCH_SECONDS: i64 = *ow_storage::schema::PRINTABLE_TIME_MS.end() / 1000;

/// Parses a CLI time to epoch ms: `now`, relative (`15m` or `-15m` = 15 minutes ago; `+15m`
/// is refused), epoch seconds (up to the year 9999; a larger value is refused with a hint
/// when it looks like milliseconds), or ISO 8601 (UTC when no offset is given). `end` makes
/// whole-second and whole-day forms inclusive of their last millisecond.
///
/// # Errors
/// Text of none of these forms, a future relative time, an epoch value after 9999.
pub fn parse_time(s: &str, now_ms: i64, end: bool) -> anyhow::Result<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let s = s.trim();
    if s.eq_ignore_ascii_case("now") {
        return Ok(now_ms);
    }
    // A relative time is always that long ago: `-5m` reads as `5m` (as in `date -d -5min`),
    // a future `+5m` is refused rather than silently turned into the past.
    let is_rel = |r: &str| {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && digits < r.len() && r[digits..].bytes().all(|b| b.is_ascii_alphabetic())
    };
    if let Some(r) = s.strip_prefix('+').filter(|r| is_rel(r)) {
        anyhow::bail!(
            "a relative time counts back from now ({r} = {r} ago); the future time {s:?} is \
             not supported: give an ISO 8601 time"
        );
    }
    let rel = s.strip_prefix('-').unwrap_or(s);
    if is_rel(rel) {
        let d = parse_duration(rel)?;
        return i64::try_from(d.as_millis())
            .ok()
            .and_then(|back| now_ms.checked_sub(back))
            .filter(|&t| t >= *ow_storage::schema::PRINTABLE_TIME_MS.start())
            .ok_or_else(|| anyhow::anyhow!("{s:?} ago is before the year 1"));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s.parse().context("epoch seconds out of range")?;
        if secs > MAX_EPOCH_SECONDS {
            let hint = if secs / 1000 <= MAX_EPOCH_SECONDS {
                format!(
                    "; it looks like epoch milliseconds: pass seconds ({})",
                    secs / 1000
                )
            } else {
                String::new()
            };
            anyhow::bail!("epoch seconds {secs} are after the year 9999{hint}");
        }
        let ms = secs * 1000;
        return Ok(if end { ms + 999 } else { ms });
    }
    // Without a fraction of a second, an end time covers its whole second, as epoch seconds
    // and the zone-less forms below do (`--end 2024-03-05T23:59:59Z` keeps an event at
    // 23:59:59.999); with one, it is that millisecond.
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        let ms = dt.timestamp_millis();
        return Ok(if end && !s.contains('.') {
            ms + 999
        } else {
            ms
        });
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            let ms = dt.and_utc().timestamp_millis();
            let has_fraction = s.contains('.');
            return Ok(if end && !has_fraction { ms + 999 } else { ms });
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            let ms = dt.and_utc().timestamp_millis();
            return Ok(if end { ms + 59_999 } else { ms });
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let ms = d
            .and_hms_opt(0, 0, 0)
            .context("bad date")?
            .and_utc()
            .timestamp_millis();
        return Ok(if end { ms + 86_399_999 } else { ms });
    }
    anyhow::bail!("expected now, 15m/24h/7d, epoch seconds or ISO 8601")
}

/// A value (or field name) as a `table` cell: newline, carriage return and tab become a
/// space; every other control character (C0, DEL, C1, so ESC sequences and BEL) becomes a
/// visible `\x1b`-style escape, and bidi embedding/override/isolate and mark characters
/// (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) a `\u{202e}`-style escape, so
/// values cannot drive the terminal or reorder what is shown. Only the table is escaped:
/// json, csv and ndjson output keep values exact.
pub fn table_cell(value: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{61c}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The values of result row `row` in the order of `o.columns`, `None` where the row lacks
/// the field: what the table, csv and ndjson-compact formats print.
fn in_column_order<'a>(
    o: &'a QueryOutput,
    row: &'a [ow_query::ResultField],
) -> impl Iterator<Item = Option<&'a str>> + 'a {
    o.columns
        .iter()
        .map(move |c| row.iter().find(|f| &f.field == c).map(|f| f.value.as_str()))
}

fn write_table(out: &mut dyn Write, o: &QueryOutput) -> anyhow::Result<()> {
    let cols = &o.columns;
    let cells: Vec<Vec<String>> = o
        .rows
        .iter()
        .map(|r| {
            in_column_order(o, r)
                .map(|v| v.map(table_cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = cols.iter().map(|c| table_cell(c).chars().count()).collect();
    for row in &cells {
        for (w, v) in widths.iter_mut().zip(row) {
            *w = (*w).max(v.chars().count());
        }
    }
    let line = |out: &mut dyn Write, vals: &[String]| -> std::io::Result<()> {
        let n = vals.len();
        for (i, (v, w)) in vals.iter().zip(&widths).enumerate() {
            if i + 1 == n {
                write!(out, "{v}")?;
            } else {
                let pad = w - v.chars().count();
                write!(out, "{v}{}  ", " ".repeat(pad))?;
            }
        }
        writeln!(out)
    };
    let header: Vec<String> = cols.iter().map(|c| table_cell(c)).collect();
    line(out, &header)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule)?;
    for row in &cells {
        line(out, row)?;
    }
    Ok(())
}

fn write_json(out: &mut dyn Write, o: &QueryOutput) -> anyhow::Result<()> {
    let v = serde_json::json!({
        "status": "Complete",
        "results": o.rows,
        "statistics": o.statistics,
    });
    serde_json::to_writer_pretty(&mut *out, &v).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn write_csv(out: &mut dyn Write, o: &QueryOutput) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&o.columns).map_err(csv_io)?;
    for r in &o.rows {
        let rec: Vec<&str> = in_column_order(o, r).map(|v| v.unwrap_or("")).collect();
        w.write_record(rec).map_err(csv_io)?;
    }
    w.flush()?;
    Ok(())
}

/// A CSV write error as the `io::Error` under it, so that a closed pipe (`| head`) is
/// recognised (main.rs).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

fn write_ndjson(out: &mut dyn Write, o: &QueryOutput) -> anyhow::Result<()> {
    // every non-aggregated row carries its @ptr; printed only when the query asked for it
    let ptr_asked = o.columns.iter().any(|c| c == "@ptr");
    for r in &o.rows {
        let mut m = serde_json::Map::new();
        for f in r {
            if f.field != "@ptr" || ptr_asked {
                m.insert(f.field.clone(), serde_json::Value::String(f.value.clone()));
            }
        }
        // as an io::Error, so that a closed pipe (`| head`) is recognised (main.rs)
        serde_json::to_writer(&mut *out, &serde_json::Value::Object(m))
            .map_err(std::io::Error::from)?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_ndjson_compact(out: &mut dyn Write, o: &QueryOutput) -> anyhow::Result<()> {
    for r in &o.rows {
        out.write_all(b"[")?;
        for (i, v) in in_column_order(o, r).enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match v {
                // as an io::Error, so that a closed pipe (`| head`) is recognised (main.rs)
                Some(v) => serde_json::to_writer(&mut *out, v).map_err(std::io::Error::from)?,
                None => out.write_all(b"null")?,
            }
        }
        out.write_all(b"]\n")?;
    }
    Ok(())
}

/// `--limit`'s value: rows, 1 to `EngineConfig::max_limit` (100,000, StartQuery's range).
/// Checked here so that clap's error names the flag (QA, session 18: the engine's "limit
/// must be between 1 and 100000" did not say which argument).
fn parse_limit(text: &str) -> Result<usize, String> {
    let max = EngineConfig::default().max_limit;
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "the row cap must be a whole number from 1 to {max}"
        )),
    }
}

/// The note after a result cut at the row cap `row_cap` (rows), where a query returns at
/// most `max_limit` rows (`EngineConfig::max_limit`, 100,000 as in CloudWatch Logs
/// Insights): how to get the rest.
fn row_cap_note(row_cap: usize, max_limit: usize) -> String {
    if row_cap >= max_limit {
        // QA (session 17): at `--limit 100000` it still suggested `--limit N`
        format!(
            "note: the rows stop at the row cap of {row_cap}, the most a query returns; \
             narrow the query (a shorter time range with --start/--end, or a filter) to see \
             the rest"
        )
    } else {
        format!(
            "note: the rows stop at the row cap of {row_cap}; `--limit N` raises it (up to \
             {max_limit}), or narrow the query"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_time, row_cap_note};

    /// Under the most a query returns the note offers `--limit`; at it, it does not.
    #[test]
    fn the_row_cap_note_offers_limit_only_below_the_most_a_query_returns() {
        let max = ow_query::EngineConfig::default().max_limit;
        assert_eq!(max, 100_000);
        let below = row_cap_note(10_000, max);
        assert!(
            below.contains("`--limit N` raises it (up to 100000)"),
            "{below}"
        );
        let at = row_cap_note(max, max);
        assert!(
            at.contains("row cap of 100000, the most a query returns"),
            "{at}"
        );
        assert!(!at.contains("--limit"), "{at}");
    }

    /// Every form of one instant, as an end time, covers the same whole second.
    #[test]
    fn an_end_time_without_a_fraction_covers_its_whole_second() {
        let second = 1_709_683_199_000; // 2024-03-05T23:59:59Z
        for s in [
            "1709683199",
            "2024-03-05T23:59:59Z",
            "2024-03-05T23:59:59+00:00",
            "2024-03-05T23:59:59",
            "2024-03-05 23:59:59",
        ] {
            assert_eq!(parse_time(s, 0, true).unwrap(), second + 999, "{s}");
            assert_eq!(parse_time(s, 0, false).unwrap(), second, "{s}");
        }
        assert_eq!(
            parse_time("2024-03-05T23:59:59.250Z", 0, true).unwrap(),
            second + 250
        );
        assert_eq!(
            parse_time("2024-03-06T00:59:59+01:00", 0, true).unwrap(),
            second + 999
        );
    }
}
