//! `openwatch import [--data-dir D] --log-group G [--log-stream S] [--format F] PATH...`
//!
//! Imports CloudTrail delivery files and trees, NDJSON, text, CloudWatch event dumps and
//! CreateExportTask files (see `ow_ingest` for the formats) into a log group of the
//! embedded store, then flushes the store so the data sits in Parquet segments. The
//! import bulk-loads (no WAL: every event would be written twice) and is durable when
//! the command reports success; an interrupted import keeps what earlier flushes wrote.
//!
//! Output: a progress bar on stderr when stderr is a terminal; at the end a summary on
//! stdout (events, bytes, events/s, rejected records by reason, peak memory, bytes on
//! disk) and each kept rejection as `warning: <file>:<line>: <reason>` on stderr.
//! Lines that are not JSON objects in `auto`/`ndjson` input are stored as text events and
//! counted in a warning. Exit status: 0 when every record was imported; 1 if any record
//! was rejected (they are listed; everything else was still imported); 2 for usage and
//! I/O errors.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use ow_ingest::{import_paths, ImportOptions, ImportSummary, Progress};

/// Input formats (see `ow_ingest::Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Detect per input from its content.
    Auto,
    /// CloudTrail delivery documents, trees, arrays or one record per line.
    Cloudtrail,
    /// One JSON object per line.
    Ndjson,
    /// Plain text, one event per line.
    Text,
    /// CloudWatch Logs events (`timestamp` ms + `message`), per line or in `events`.
    CloudwatchEvents,
    /// CreateExportTask files: `<ISO 8601 timestamp> <message>` per line.
    CloudwatchExport,
}

impl From<Format> for ow_ingest::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Auto => ow_ingest::Format::Auto,
            Format::Cloudtrail => ow_ingest::Format::CloudTrail,
            Format::Ndjson => ow_ingest::Format::Ndjson,
            Format::Text => ow_ingest::Format::Text,
            Format::CloudwatchEvents => ow_ingest::Format::CloudwatchEvents,
            Format::CloudwatchExport => ow_ingest::Format::CloudwatchExport,
        }
    }
}

/// Arguments of `openwatch import`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Lines that are not JSON objects in auto/ndjson input are stored as text events (with \
                  the ingestion time) and counted in a warning.\n\
                  Exit status: 0 when every record was imported; 1 if any record was rejected \
                  (everything else was still imported); 2 for usage and I/O errors."
)]
pub struct Args {
    /// Data directory of the store (created when missing).
    #[arg(long, env = "OPENWATCH_DATA_DIR", default_value = "openwatch-data")]
    pub data_dir: PathBuf,
    /// Account (12 digits) whose data to use, as `openwatch serve` keeps it: the server's
    /// default account uses the data directory itself, others `<data-dir>/accounts/<ID>/`.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Log group to import into (created when missing).
    #[arg(long, short = 'g', value_name = "NAME")]
    pub log_group: String,
    /// Log stream for events that do not name one. Default: CloudTrail's
    /// `<account>_CloudTrail_<region>` for CloudTrail, else the input file's name.
    #[arg(long, short = 's', value_name = "NAME")]
    pub log_stream: Option<String>,
    /// Input format.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// JSON field holding the event time (ISO 8601 or epoch s/ms). Default: eventTime,
    /// then @timestamp, timestamp, time; otherwise the ingestion time.
    #[arg(long, value_name = "FIELD")]
    pub timestamp_field: Option<String>,
    /// strftime pattern of the timestamp (of --timestamp-field, or at the start of each
    /// text line), e.g. '%d/%b/%Y:%H:%M:%S %z'.
    #[arg(long, value_name = "PATTERN")]
    pub timestamp_format: Option<String>,
    /// Show at most this many rejected records (all are counted).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_warnings: usize,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Files, directories (walked recursively) or `-` for stdin; gzip and zstd are
    /// decompressed automatically.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs `openwatch import`.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let account_id = crate::account::account_id(&args.data_dir, args.account.as_deref())?;
    args.data_dir = crate::account::account_dir(&args.data_dir, args.account.as_deref(), None)?;
    let started = Instant::now();
    // Every named path must exist before the store is opened, so that a typo creates no
    // data directory (QA: `import missing.json good.ndjson` left an empty store behind).
    for path in args.paths.iter().filter(|p| p.as_os_str() != "-") {
        if let Err(source) = std::fs::metadata(path) {
            return Err(ow_ingest::IngestError::Io {
                path: path.clone(),
                source,
            }
            .into());
        }
    }
    // The account owns what this store creates (ARNs, `@log` = `account:group`).
    let store_config = ow_storage::StoreConfig {
        account_id,
        ..Default::default()
    };
    let store = match ow_storage::Store::open(&args.data_dir, store_config) {
        Ok(store) => store,
        Err(e) => {
            // QA (session 17): the bare lock error did not say what to do
            return super::store_open_failed(
                e,
                &args.data_dir,
                "another `openwatch import` or an `openwatch serve` holds this data directory; \
                 wait for the import, or stop the server and import again, or send the events \
                 to the running server through the API (PutLogEvents, e.g. `aws logs \
                 put-log-events --endpoint-url http://HOST:PORT …`)",
            );
        }
    };
    let options = ImportOptions {
        log_stream: args.log_stream.clone(),
        format: args.format.into(),
        timestamp_field: args.timestamp_field.clone(),
        timestamp_format: args.timestamp_format.clone(),
        max_reported_rejections: args.max_warnings,
        // the store is closed (flushed) below before success is reported
        bulk: true,
        ..ImportOptions::new(&args.log_group)
    };
    let filters = super::pack::ImportFilters::prepare(&store, &args.data_dir, &args.log_group)?;
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let result = import_paths(&store, &args.paths, &options, &bar);
    bar.clear();
    let mut summary = result?;
    if let Some(f) = filters {
        let points = f.apply(&store)?;
        eprintln!("metric filters of {}: {points} data points", args.log_group);
    }
    // Flush to Parquet segments as part of the import (so the bytes on disk are final).
    store
        .close()
        .with_context(|| format!("cannot flush the store in {}", args.data_dir.display()))?;
    drop(store);
    summary.elapsed = started.elapsed();
    // a closed stdout (`openwatch import … | head`) ends the summary, not the import
    match print_summary(&args, &summary) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    // exit 1 if any record was rejected; everything else was still imported
    Ok(if summary.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(args: &Args, s: &ImportSummary) -> std::io::Result<()> {
    let mut w = std::io::stdout().lock();
    for r in &s.rejections {
        eprintln!("warning: {r}");
    }
    if s.rejected > s.rejections.len() as u64 {
        eprintln!(
            "warning: {} more rejected records not shown (--max-warnings)",
            s.rejected - s.rejections.len() as u64
        );
    }
    if s.inputs == 0 && s.rejected == 0 {
        // QA (session 11): an empty directory imported nothing without a word
        eprintln!("warning: no input files were found (empty directories?)");
    }
    let secs = s.elapsed.as_secs_f64();
    writeln!(
        w,
        "imported {} event{} ({} bytes) into log group {} from {} input{} ({} bytes read) in {:.2} s: {:.0} events/s",
        s.events,
        if s.events == 1 { "" } else { "s" },
        s.stored_bytes,
        args.log_group,
        s.inputs,
        if s.inputs == 1 { "" } else { "s" },
        s.input_bytes,
        secs,
        s.events_per_second(),
    )?;
    if s.rejected == 0 {
        writeln!(w, "rejected: 0")?;
    } else {
        let reasons: Vec<String> = s
            .rejected_by_reason
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        writeln!(w, "rejected: {} ({})", s.rejected, reasons.join(", "))?;
    }
    if s.non_json_lines > 0 {
        let places: Vec<String> = s.non_json_first.iter().map(|l| l.to_string()).collect();
        writeln!(
            w,
            "warning: {} {}; stored as text events ({}{})",
            s.non_json_lines,
            if s.non_json_lines == 1 {
                "line was not a JSON object"
            } else {
                "lines were not JSON objects"
            },
            if s.non_json_lines > places.len() as u64 {
                "first at "
            } else {
                "at "
            },
            places.join(", ")
        )?;
    }
    if s.auto_text_input_count > 0 {
        let n = s.auto_text_input_count;
        writeln!(
            w,
            "note: {n} input{} read as plain text, one event per line ({}{}); --format chooses another format",
            if n == 1 { " was" } else { "s were" },
            s.auto_text_inputs.join(", "),
            if n > s.auto_text_inputs.len() as u64 { ", …" } else { "" },
        )?;
    }
    if s.repeated_event_ids > 0 {
        let n = s.repeated_event_ids;
        writeln!(
            w,
            "note: {n} CloudTrail record{} the eventID of an earlier record of this \
             import{}; each was stored, so if the same records were read twice (an NDJSON \
             file and the delivery files it came from, or one file given twice), counts \
             include both copies",
            if n == 1 { " repeats" } else { "s repeat" },
            s.repeated_event_id_first
                .as_ref()
                .map(|p| format!(" (first at {p})"))
                .unwrap_or_default(),
        )?;
    }
    if s.ingestion_time_fallbacks > 0 {
        writeln!(
            w,
            "events without a usable timestamp (ingestion time used): {}",
            s.ingestion_time_fallbacks
        )?;
    }
    let streams: Vec<&str> = s.log_streams.iter().map(String::as_str).collect();
    if streams.is_empty() {
        // nothing imported: no log streams line
    } else if streams.len() <= 10 {
        writeln!(w, "log streams: {}", streams.join(", "))?;
    } else {
        writeln!(
            w,
            "log streams: {} ({} …)",
            streams.len(),
            streams[..10].join(", ")
        )?;
    }
    let on_disk = dir_size(&args.data_dir.join("segments"));
    writeln!(
        w,
        "segments on disk (all log groups, not only this import's): {on_disk} bytes"
    )?;
    if let Some(peak) = peak_memory_bytes() {
        writeln!(w, "peak memory: {:.1} MiB", peak as f64 / (1 << 20) as f64)?;
    }
    Ok(())
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

/// Peak resident set size of this process (Linux `VmHWM`), when available.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// An indicatif progress bar over input bytes (only when stderr is a terminal).
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(enabled: bool) -> Self {
        Bar(enabled.then(|| {
            let pb = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb
        }))
    }

    fn clear(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn begin(&self, total_bytes: Option<u64>) {
        if let (Some(pb), Some(t)) = (&self.0, total_bytes) {
            pb.set_length(t);
        }
    }
    fn advance(&self, bytes: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(bytes);
        }
    }
    fn input(&self, name: &str) {
        if let Some(pb) = &self.0 {
            let short = Path::new(name)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.to_owned());
            pb.set_message(short);
        }
    }
    fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.set_message("flushing");
        }
    }
}
