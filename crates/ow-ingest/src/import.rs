//! The importer: inputs -> decompression -> format -> events -> the store.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ow_storage::fields::PathExtractor;
use ow_storage::parsed::{FieldNames, LeafParser, ParsedLeaves};
use ow_storage::{NewEvent, Store};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{IngestError, Result};
use crate::time::{parse_any_ms, parse_with_format, split_export_line};

/// Input formats (`openwatch import --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect per input (see [`crate`] docs for the rules).
    #[default]
    Auto,
    /// CloudTrail records: S3 delivery documents `{"Records":[...]}` (plain or gzip,
    /// alone or in `AWSLogs/...` trees), JSON arrays of records, or one record per line.
    /// `@timestamp` = `eventTime`; log stream `<account>_CloudTrail_<region>`.
    CloudTrail,
    /// One JSON object per line (plain, gzip or zstd); the line is the message. A line
    /// that is not a JSON object is kept as a text event with the ingestion time
    /// ([`ImportSummary::non_json_lines`]), as in `Auto`.
    Ndjson,
    /// One event per line of text; the line is the message.
    Text,
    /// Events as CloudWatch Logs hands them out: JSON objects with `timestamp` (epoch ms)
    /// and `message`, one per line, as a JSON array, or as the `events` array of a
    /// FilterLogEvents/GetLogEvents response; `logStreamName` honoured when present.
    CloudwatchEvents,
    /// CreateExportTask output: `<ISO 8601 timestamp> <message>` per line; lines that do
    /// not start with a timestamp continue the previous event's message.
    CloudwatchExport,
}

impl FromStr for Format {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => Format::Auto,
            "cloudtrail" => Format::CloudTrail,
            "ndjson" => Format::Ndjson,
            "text" => Format::Text,
            "cloudwatch-events" => Format::CloudwatchEvents,
            "cloudwatch-export" => Format::CloudwatchExport,
            other => {
                return Err(IngestError::InvalidOptions(format!(
                    "unknown format {other:?}: expected auto, cloudtrail, ndjson, text, \
                     cloudwatch-events or cloudwatch-export"
                )))
            }
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto",
            Format::CloudTrail => "cloudtrail",
            Format::Ndjson => "ndjson",
            Format::Text => "text",
            Format::CloudwatchEvents => "cloudwatch-events",
            Format::CloudwatchExport => "cloudwatch-export",
        })
    }
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Target log group (created when missing).
    pub log_group: String,
    /// Log stream for events that do not name one. [I] For CloudTrail it replaces the
    /// CloudTrail naming; `logStreamName` in `cloudwatch-events` records still wins.
    /// Default: CloudTrail naming, else the input file's name (`stdin` for `-`), else,
    /// for CreateExportTask files (`<stream>/000000.gz`), the parent directory's name.
    pub log_stream: Option<String>,
    /// Input format.
    pub format: Format,
    /// JSON field holding the event time (a flattened path such as `meta.time`; a JSON
    /// key `@timestamp` may be given as `@timestamp`). Default: `eventTime`, then
    /// `@timestamp`, `timestamp`, `time`. Values: ISO 8601 or epoch s/ms/µs/ns.
    pub timestamp_field: Option<String>,
    /// chrono `strftime` pattern for the timestamp field's text, or, for `text` input,
    /// for a timestamp at the start of each line.
    pub timestamp_format: Option<String>,
    /// Events larger than this (message bytes + 26) are rejected. Default: AWS's 1 MB.
    pub max_event_bytes: usize,
    /// Events handed to the store per call (each call ends with one fsync). Default 20,000.
    pub batch_events: usize,
    /// At most this many individual rejections are kept in the summary (all are counted).
    pub max_reported_rejections: usize,
    /// Bulk load ([`ow_storage::Store::bulk_import_streams`]): skip the WAL; the events
    /// are durable once the caller flushes or closes the store. Default false (every
    /// batch is durable when stored).
    pub bulk: bool,
}

impl ImportOptions {
    /// Options with defaults for `log_group`.
    pub fn new(log_group: impl Into<String>) -> Self {
        ImportOptions {
            log_group: log_group.into(),
            log_stream: None,
            format: Format::Auto,
            timestamp_field: None,
            timestamp_format: None,
            max_event_bytes: ow_storage::PutLimits::default().max_event_bytes,
            batch_events: 20_000,
            max_reported_rejections: 100,
            bulk: false,
        }
    }
}

/// Progress callbacks (the CLI draws a bar with them). All methods default to no-ops.
pub trait Progress {
    /// Called once with the total input size in bytes when known (not for stdin).
    fn begin(&self, _total_bytes: Option<u64>) {}
    /// Input bytes read (compressed bytes for compressed files).
    fn advance(&self, _bytes: u64) {}
    /// A new input starts.
    fn input(&self, _name: &str) {}
    /// The import ended.
    fn finish(&self) {}
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// One record that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Input name (file path or `-`).
    pub source: String,
    /// 1-based line of the record in the (decompressed) input, when known.
    pub line: Option<u64>,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.source, l, self.reason),
            None => write!(f, "{}: {}", self.source, self.reason),
        }
    }
}

/// Where a line that was not a JSON object was found (see
/// [`ImportSummary::non_json_first`]). Displays as `source:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLine {
    /// Input name (file path or `-`).
    pub source: String,
    /// 1-based line in the (decompressed) input, when known.
    pub line: Option<u64>,
}

impl fmt::Display for InputLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}", self.source, l),
            None => write!(f, "{}", self.source),
        }
    }
}

/// How many [`ImportSummary::non_json_first`] keeps.
pub const NON_JSON_LINES_SHOWN: usize = 10;

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// Inputs read (files and stdin).
    pub inputs: u64,
    /// Events stored.
    pub events: u64,
    /// Σ(message bytes + 26) of the stored events (AWS's event size).
    pub stored_bytes: u64,
    /// Input bytes read (as on disk, compressed or not).
    pub input_bytes: u64,
    /// Events whose time could not be found or parsed, stored with the ingestion time.
    pub ingestion_time_fallbacks: u64,
    /// Lines (or JSON array elements) that were not JSON objects in `auto`/`ndjson`
    /// input (broken JSON, a JSON scalar or array, nesting too deep, or plain text among
    /// JSON lines): stored as text events with the ingestion time, as CloudWatch Logs
    /// stores every line and discovers JSON fields per event. Counted in `events` too.
    pub non_json_lines: u64,
    /// Where the first [`NON_JSON_LINES_SHOWN`] of those lines are (a place once, however
    /// many array elements it holds), so that a broken JSON line can be found and fixed.
    pub non_json_first: Vec<InputLine>,
    /// Inputs that `auto` read as plain text lines (their first line was not JSON, a
    /// CloudWatch export line or a document): their names, the first
    /// [`NON_JSON_LINES_SHOWN`] of them, so that a README or a stray file imported with a
    /// directory of JSON logs does not pass unnoticed (new user, session 10).
    pub auto_text_inputs: Vec<String>,
    /// How many inputs `auto` read as plain text lines (all of them, shown or not).
    pub auto_text_input_count: u64,
    /// CloudTrail records whose `eventID` an earlier record of this import had: the same
    /// records read twice (an NDJSON file and the S3 delivery files it was made from, or
    /// one file given twice). Each copy is stored, as CloudWatch Logs stores what it is
    /// sent; counted in `events` too. QA (session 18): importing a whole folder doubled
    /// every count and nothing said so.
    pub repeated_event_ids: u64,
    /// Where the first of those records is.
    pub repeated_event_id_first: Option<InputLine>,
    /// Records rejected.
    pub rejected: u64,
    /// Rejections per reason kind (e.g. `invalid JSON`), all of them.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// The first `max_reported_rejections` rejections with file and line.
    pub rejections: Vec<Rejection>,
    /// Log streams written to.
    pub log_streams: BTreeSet<String>,
    /// Wall time of the import.
    pub elapsed: Duration,
}

impl ImportSummary {
    /// Events stored per second of wall time.
    pub fn events_per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.events as f64 / s
        } else {
            0.0
        }
    }
}

/// Imports `paths` (files, directories walked recursively in name order, or `-` for
/// stdin) into `store` (format per `options`).
///
/// # Errors
/// A path that does not exist or cannot be read, invalid options, or a store failure.
/// Malformed records are not errors: see [`ImportSummary::rejections`].
pub fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let started = Instant::now();
    let mut inputs: Vec<Option<PathBuf>> = Vec::new();
    let mut total: Option<u64> = Some(0);
    let mut skipped: Vec<(PathBuf, String)> = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(None);
            total = None;
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|e| IngestError::Io {
            path: p.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            let mut walked = HashSet::new();
            walk(p, &mut files, &mut skipped, &mut walked)?;
            files.sort();
            for f in files {
                if let (Some(t), Ok(m)) = (total.as_mut(), std::fs::metadata(&f)) {
                    *t += m.len();
                }
                inputs.push(Some(f));
            }
        } else {
            if let Some(t) = total.as_mut() {
                *t += meta.len();
            }
            inputs.push(Some(p.clone()));
        }
    }
    progress.begin(total);
    let summary = run_import(store, options, progress, |imp| {
        // entries of walked directories that were not read count as rejected inputs
        for (path, why) in skipped {
            imp.reject(&path.display().to_string(), None, SKIPPED_ENTRY, Some(why));
        }
        for input in inputs {
            match input {
                None => {
                    progress.input("-");
                    imp.import_reader("-", None, Box::new(std::io::stdin().lock()))?;
                }
                Some(path) => {
                    let name = path.display().to_string();
                    progress.input(&name);
                    let f = std::fs::File::open(&path).map_err(|e| IngestError::Io {
                        path: path.clone(),
                        source: e,
                    })?;
                    imp.import_reader(&name, Some(&path), Box::new(f))?;
                }
            }
        }
        Ok(())
    });
    progress.finish();
    let mut summary = summary?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The rejection reason of a directory entry that an import skipped (see [`walk`]).
const SKIPPED_ENTRY: &str = "skipped directory entry";

/// Imports one reader (e.g. an in-memory buffer in tests); `name` is used in
/// rejections and as the default log stream.
pub fn import_reader(
    store: &Store,
    name: &str,
    reader: impl Read,
    options: &ImportOptions,
) -> Result<ImportSummary> {
    run_import(store, options, &NoProgress, |imp| {
        imp.import_reader(name, None, Box::new(reader))
    })
}

/// Collects the files under `dir` (symbolic links followed). An entry that cannot be read
/// (a dangling link, a link loop, no permission), a directory already walked (a link to
/// an ancestor: without this check a loop never ends) and anything but a regular file (a
/// FIFO would block the import) is skipped and reported in `skipped`, and the walk goes
/// on: one bad entry does not stop an import of a whole tree. `walked` holds the
/// canonical paths of the directories walked so far.
///
/// # Errors
/// Only when `dir` itself cannot be read.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, String)>,
    walked: &mut HashSet<PathBuf>,
) -> Result<()> {
    let io = |e| IngestError::Io {
        path: dir.to_owned(),
        source: e,
    };
    walked.insert(std::fs::canonicalize(dir).map_err(io)?);
    let rd = std::fs::read_dir(dir).map_err(io)?;
    fn skip(skipped: &mut Vec<(PathBuf, String)>, p: &Path, reason: String) {
        skipped.push((p.to_owned(), reason));
    }
    for entry in rd {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                skip(skipped, dir, e.to_string());
                continue;
            }
        };
        let p = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // hidden files, and CloudTrail digest files (integrity hashes, not events)
        if name.starts_with('.') || name == "CloudTrail-Digest" {
            continue;
        }
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                skip(skipped, &p, e.to_string());
                continue;
            }
        };
        if meta.is_dir() {
            match std::fs::canonicalize(&p) {
                Ok(c) if walked.contains(&c) => {
                    let reason = format!("{} was already walked (a link loop)", c.display());
                    skip(skipped, &p, reason);
                }
                Ok(_) => {
                    if let Err(e) = walk(&p, out, skipped, walked) {
                        skip(skipped, &p, e.to_string());
                    }
                }
                Err(e) => skip(skipped, &p, e.to_string()),
            }
        } else if meta.is_file() {
            out.push(p);
        } else {
            skip(skipped, &p, "not a regular file".to_owned());
        }
    }
    Ok(())
}

/// Counts bytes read for progress and the summary.
struct Counting<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// The resolved shape of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CloudTrail,
    Ndjson,
    Text,
    Events,
    Export,
}

/// Default timestamp fields, as flattened paths (a JSON key `@timestamp` is `@@timestamp`).
const DEFAULT_TS_FIELDS: [&str; 4] = ["eventTime", "@@timestamp", "timestamp", "time"];
/// Paths read from CloudTrail records (after the timestamp paths): the log stream's account
/// and region, and `eventID` for [`ImportSummary::repeated_event_ids`].
const CT_FIELDS: [&str; 4] = [
    "recipientAccountId",
    "awsRegion",
    "userIdentity.accountId",
    "eventID",
];
const PENDING_BYTES: usize = 32 << 20;
/// Leaves one pending batch may hold (the store caps what it keeps the same way): events of
/// many tiny fields cost more in leaves than in text; past this they go without (parsed
/// at the flush), so an import's memory stays bounded.
const PENDING_LEAF_BYTES: usize = PENDING_BYTES / 2;
const BUF_BYTES: usize = 256 << 10;

struct Importer<'a> {
    opts: &'a ImportOptions,
    tx: std::sync::mpsc::SyncSender<Batch>,
    progress: &'a dyn Progress,
    summary: ImportSummary,
    /// Per log stream: its events and their leaves (one entry per event).
    pending: HashMap<String, (Vec<NewEvent>, ParsedLeaves)>,
    /// (events, leaves) of the last batch when it had one log stream: the next batch's
    /// vectors are sized from it.
    batch_hint: (usize, usize),
    pending_events: usize,
    pending_bytes: usize,
    /// Bytes of leaves in `pending` (new leaves are made only below [`PENDING_LEAF_BYTES`]).
    pending_leaf_bytes: usize,
    /// timestamp paths then CloudTrail paths
    extractor: PathExtractor,
    n_ts: usize,
    input_bytes: Arc<AtomicU64>,
    /// Last CloudTrail (account, region, stream name).
    ct_stream: Option<(String, String, String)>,
    /// The `eventID`s of the CloudTrail records read so far ([`event_id_key`]).
    event_ids: HashSet<u128>,
    /// The log group's retention when the import started: (cutoff epoch ms, days). Older
    /// events are rejected as expired, as PutLogEvents rejects them
    /// (`expiredLogEventEndIndex`, spec api.md PutLogEvents [V]); stored, they would only
    /// be dropped unseen by the next flush.
    retention: Option<(i64, u32)>,
    /// The event being pushed got the ingestion time ([`Importer::fallback_ts`]).
    fell_back: bool,
    /// The event being pushed is a line that was not a JSON object, kept as text: counted
    /// in [`ImportSummary::non_json_lines`] once stored (not when rejected, e.g. too large).
    non_json: bool,
    /// Bulk imports: the one parse of each JSON event, whose leaves the store's flush
    /// reuses ([`ow_storage::parsed`]); `extractor` then only serves events past the cap.
    leaf_parser: Option<LeafParser>,
    /// `leaf_parser` holds the leaves of the event being pushed.
    has_leaves: bool,
    /// Whether this input's events are worth leaves.
    leaf_sample: LeafSample,
}

/// Decides from an import's first JSON events whether parsing them for leaves pays
/// ([`ow_storage::parsed`]): it does when leaves are small beside the text (CloudTrail:
/// about 33 fields, 260 bytes of leaves per 1,460-byte record). Events of many tiny fields
/// (`{"a":[0,0,0,…]}`) would cost more memory in leaves than in text, and their full
/// flattening more than the importer's own walk for the time field: after
/// [`LeafSample::EVENTS`] such events the import goes on without leaves, as before them.
#[derive(Debug, Default)]
struct LeafSample {
    events: u32,
    leaf_bytes: usize,
    text_bytes: usize,
}

impl LeafSample {
    /// Events sampled before deciding.
    const EVENTS: u32 = 1024;

    fn add(&mut self, leaf_bytes: usize, text_bytes: usize) {
        if self.events < Self::EVENTS {
            self.events += 1;
            self.leaf_bytes += leaf_bytes;
            self.text_bytes += text_bytes;
        }
    }

    /// Leaves until the sample is taken; then only if they took at most half the text.
    fn worth_it(&self) -> bool {
        self.events < Self::EVENTS || self.leaf_bytes * 2 <= self.text_bytes
    }
}

#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    events: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct CwEvent {
    timestamp: serde_json::Value,
    message: String,
    #[serde(rename = "logStreamName", default)]
    log_stream_name: Option<String>,
}

impl<'a> Importer<'a> {
    fn new(
        opts: &'a ImportOptions,
        progress: &'a dyn Progress,
        tx: std::sync::mpsc::SyncSender<Batch>,
        retention_in_days: Option<u32>,
        leaves: Option<(Arc<FieldNames>, usize)>,
    ) -> Result<Self> {
        if let Some(fmt) = &opts.timestamp_format {
            check_timestamp_format(fmt)?;
        }
        let ts_paths: Vec<String> = match &opts.timestamp_field {
            Some(f) if f.trim().is_empty() => {
                return Err(IngestError::InvalidOptions(
                    "--timestamp-field must not be empty".into(),
                ))
            }
            Some(f) => {
                // a JSON key written with one '@' is flattened with two (spec §3.2)
                let p = if f.starts_with('@') && !f.starts_with("@@") {
                    format!("@{f}")
                } else {
                    f.clone()
                };
                vec![p]
            }
            None => DEFAULT_TS_FIELDS.iter().map(|s| s.to_string()).collect(),
        };
        let n_ts = ts_paths.len();
        let mut all = ts_paths;
        all.extend(CT_FIELDS.iter().map(|s| s.to_string()));
        let leaf_parser =
            leaves.map(|(names, max_fields)| LeafParser::new(names, max_fields, all.clone()));
        Ok(Importer {
            opts,
            tx,
            progress,
            summary: ImportSummary::default(),
            pending: HashMap::new(),
            batch_hint: (0, 0),
            pending_events: 0,
            pending_bytes: 0,
            pending_leaf_bytes: 0,
            // no field cap here: the cap is about discovery, not about finding eventTime
            extractor: PathExtractor::new(all, usize::MAX),
            n_ts,
            input_bytes: Arc::new(AtomicU64::new(0)),
            ct_stream: None,
            event_ids: HashSet::new(),
            retention: retention_in_days.map(|days| {
                let cutoff =
                    ow_storage::now_ms().saturating_sub(i64::from(days).saturating_mul(86_400_000));
                (cutoff, days)
            }),
            fell_back: false,
            non_json: false,
            leaf_parser,
            has_leaves: false,
            leaf_sample: LeafSample::default(),
        })
    }

    /// Counts a line that was not a JSON object (kept as a text event), with its place.
    fn note_non_json(&mut self, source: &str, line: Option<u64>) {
        self.summary.non_json_lines += 1;
        let shown = &mut self.summary.non_json_first;
        // the elements of one JSON array line share its place: listed once
        let repeated = shown
            .last()
            .is_some_and(|l| l.line == line && l.source == source);
        if shown.len() < NON_JSON_LINES_SHOWN && !repeated {
            shown.push(InputLine {
                source: source.to_owned(),
                line,
            });
        }
    }

    fn reject(&mut self, source: &str, line: Option<u64>, kind: &str, detail: Option<String>) {
        self.summary.rejected += 1;
        *self
            .summary
            .rejected_by_reason
            .entry(kind.to_owned())
            .or_default() += 1;
        if self.summary.rejections.len() < self.opts.max_reported_rejections {
            let reason = match detail {
                Some(d) => format!("{kind}: {d}"),
                None => kind.to_owned(),
            };
            self.summary.rejections.push(Rejection {
                source: source.to_owned(),
                line,
                reason,
            });
        }
    }

    fn import_reader(
        &mut self,
        name: &str,
        path: Option<&Path>,
        raw: Box<dyn Read + '_>,
    ) -> Result<()> {
        self.summary.inputs += 1;
        let io_err = |e: std::io::Error| IngestError::Io {
            path: PathBuf::from(name),
            source: e,
        };
        let counting = Counting {
            inner: raw,
            progress: self.progress,
            count: self.input_bytes.clone(),
        };
        let mut buffered = BufReader::with_capacity(BUF_BYTES, counting);
        let head = buffered.fill_buf().map_err(io_err)?;
        let mut reader: Box<dyn BufRead + '_> = if head.starts_with(&[0x1f, 0x8b]) {
            Box::new(BufReader::with_capacity(
                BUF_BYTES,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Box::new(BufReader::with_capacity(
                BUF_BYTES,
                zstd::stream::read::Decoder::with_buffer(buffered).map_err(io_err)?,
            ))
        } else {
            Box::new(buffered)
        };
        let default_stream = self.default_stream(name, path);
        let file_ct = path.and_then(cloudtrail_name_parts);

        // Read the first line to decide the layout.
        // (blank lines before it are skipped, and counted for line numbers)
        let mut first = Vec::new();
        let mut skipped = 0u64;
        loop {
            first.clear();
            match reader.read_until(b'\n', &mut first) {
                Ok(0) => break,
                // a line of only a byte order mark and white space is blank too
                Ok(_)
                    if first
                        .strip_prefix(b"\xEF\xBB\xBF")
                        .unwrap_or(&first)
                        .iter()
                        .all(u8::is_ascii_whitespace) =>
                {
                    skipped += 1
                }
                Ok(_) => break,
                Err(e) => {
                    self.reject(name, None, "unreadable input", Some(e.to_string()));
                    return Ok(());
                }
            }
        }
        let first_text = String::from_utf8_lossy(&first);
        let trimmed = first_text.trim_start_matches('\u{feff}').trim();
        let format = self.opts.format;
        // A document (delivery file, API response, JSON array, pretty-printed object)
        // rather than one event per line: an array, a one-line `{"Records":[...]}` or
        // `{"events":[...]}`, or a first line that opens an object without closing it.
        let doc_allowed = !matches!(
            format,
            Format::Ndjson | Format::Text | Format::CloudwatchExport
        );
        let whole_doc = doc_allowed
            && (trimmed.starts_with('[')
                || (trimmed.starts_with('{') && !trimmed.ends_with('}'))
                || (trimmed.starts_with('{') && is_doc_line(trimmed)));
        if whole_doc {
            let mut data = first;
            if let Err(e) = reader.read_to_end(&mut data) {
                self.reject(name, None, "unreadable input", Some(e.to_string()));
                return Ok(());
            }
            self.import_documents(name, &data, &default_stream, file_ct.as_ref())?;
        } else {
            let kind = match format {
                Format::Auto => {
                    let kind = detect_line_kind(trimmed);
                    // an empty input (or only blank lines) has no format to report
                    if matches!(kind, Kind::Text) && !trimmed.is_empty() {
                        self.summary.auto_text_input_count += 1;
                        if self.summary.auto_text_inputs.len() < NON_JSON_LINES_SHOWN {
                            self.summary.auto_text_inputs.push(name.to_owned());
                        }
                    }
                    kind
                }
                Format::CloudTrail => Kind::CloudTrail,
                Format::Ndjson => Kind::Ndjson,
                Format::Text => Kind::Text,
                Format::CloudwatchEvents => Kind::Events,
                Format::CloudwatchExport => Kind::Export,
            };
            self.import_lines(
                name,
                first,
                skipped,
                reader,
                kind,
                &default_stream,
                file_ct.as_ref(),
            )?;
        }
        Ok(())
    }

    fn default_stream(&self, name: &str, path: Option<&Path>) -> String {
        if let Some(s) = &self.opts.log_stream {
            return s.clone();
        }
        let Some(path) = path else {
            return if name == "-" {
                "stdin".into()
            } else {
                sanitize_stream(name)
            };
        };
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_owned());
        let stem = file
            .trim_end_matches(".gz")
            .trim_end_matches(".zst")
            .trim_end_matches(".zstd");
        // CreateExportTask writes <prefix>/<task id>/<log stream>/000000.gz
        if !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(parent) = path.parent().and_then(|p| p.file_name()) {
                return sanitize_stream(&parent.to_string_lossy());
            }
        }
        sanitize_stream(stem)
    }

    // ------------------------------------------------------------ whole documents

    fn import_documents(
        &mut self,
        name: &str,
        data: &[u8],
        default_stream: &str,
        file_ct: Option<&(String, String)>,
    ) -> Result<()> {
        let text = match std::str::from_utf8(data) {
            Ok(t) => t,
            Err(_) if self.lenient_json() => {
                // auto: not one JSON document after all; read it line by line instead
                return self.import_rest_as_lines(name, data, 0, default_stream, file_ct);
            }
            Err(e) => {
                let line = line_of(data, e.valid_up_to());
                self.reject(name, Some(line), "not valid UTF-8", None);
                return Ok(());
            }
        };
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
        let mut lines = LineCounter::new(text);
        loop {
            let doc = match stream.next() {
                None => break,
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    if self.lenient_json() {
                        // auto: what follows the last complete JSON value is not JSON
                        // documents; keep it line by line (text lines become text events)
                        let off = stream.byte_offset();
                        return self.import_rest_as_lines(name, data, off, default_stream, file_ct);
                    }
                    self.reject(
                        name,
                        Some(e.line() as u64),
                        "invalid JSON",
                        Some(e.to_string()),
                    );
                    break; // the rest of the document cannot be delimited
                }
            };
            let raw = doc.get();
            let (elements, kind_hint): (Vec<&RawValue>, Option<Kind>) = if raw.starts_with('[') {
                match serde_json::from_str::<Vec<&RawValue>>(raw) {
                    Ok(v) => (v, None),
                    Err(e) => {
                        self.reject(
                            name,
                            Some(lines.at(raw)),
                            "invalid JSON",
                            Some(e.to_string()),
                        );
                        continue;
                    }
                }
            } else {
                match serde_json::from_str::<Doc>(raw) {
                    Ok(Doc {
                        records: Some(r), ..
                    }) => (r, Some(Kind::CloudTrail)),
                    Ok(Doc {
                        events: Some(e), ..
                    }) => (e, Some(Kind::Events)),
                    Ok(_) => {
                        // a lone object: one event
                        (vec![doc], None)
                    }
                    // e.g. `{"Records": 5}`: valid JSON, so in auto it is one event
                    Err(_) if self.lenient_json() => (vec![doc], Some(Kind::Ndjson)),
                    Err(e) => {
                        self.reject(
                            name,
                            Some(lines.at(raw)),
                            "invalid JSON",
                            Some(e.to_string()),
                        );
                        continue;
                    }
                }
            };
            let kind = match self.opts.format {
                Format::CloudTrail => Kind::CloudTrail,
                Format::CloudwatchEvents => Kind::Events,
                _ => kind_hint.unwrap_or_else(|| {
                    elements
                        .first()
                        .map(|e| detect_line_kind(e.get()))
                        .unwrap_or(Kind::Ndjson)
                }),
            };
            for el in elements {
                let line = lines.at(el.get());
                match kind {
                    Kind::Events => self.cw_event(name, Some(line), el.get(), default_stream)?,
                    _ => {
                        if !el.get().starts_with('{') {
                            if self.lenient_json() {
                                self.non_json = true;
                                let ts = self.fallback_ts();
                                let message = minify_json(el.get());
                                self.push(name, Some(line), default_stream, ts, message)?;
                            } else {
                                self.reject(name, Some(line), "not a JSON object", None);
                            }
                            continue;
                        }
                        let message = minify_json(el.get());
                        self.json_event(name, Some(line), message, kind, default_stream, file_ct)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `auto` fallback: imports `data[offset..]` as lines (kind detected from its first
    /// non-blank line), numbering lines from the start of `data`.
    fn import_rest_as_lines(
        &mut self,
        name: &str,
        data: &[u8],
        offset: usize,
        default_stream: &str,
        file_ct: Option<&(String, String)>,
    ) -> Result<()> {
        let offset = offset.min(data.len());
        let mut skipped = data[..offset].iter().filter(|b| **b == b'\n').count() as u64;
        let mut rest = &data[offset..];
        // the first non-blank line decides the kind, as for a fresh input
        let first = loop {
            let end = rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let (line, tail) = rest.split_at(end);
            rest = tail;
            if line.is_empty() {
                return Ok(());
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                skipped += 1;
                continue;
            }
            break line.to_vec();
        };
        let first_text = String::from_utf8_lossy(&first);
        let kind = detect_line_kind(first_text.trim_start_matches('\u{feff}').trim());
        let reader: Box<dyn BufRead + '_> = Box::new(rest);
        self.import_lines(name, first, skipped, reader, kind, default_stream, file_ct)
    }

    // ------------------------------------------------------------ line formats

    #[allow(clippy::too_many_arguments)] // one input's context, passed down once
    fn import_lines(
        &mut self,
        name: &str,
        first: Vec<u8>,
        skipped: u64,
        mut reader: Box<dyn BufRead + '_>,
        kind: Kind,
        default_stream: &str,
        file_ct: Option<&(String, String)>,
    ) -> Result<()> {
        let mut line_no = skipped;
        // cloudwatch-export: the event being assembled (continuation lines)
        let mut export: Option<(u64, i64, String)> = None;
        if !first.is_empty() {
            line_no += 1;
            let bytes = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&first);
            self.line(
                name,
                line_no,
                bytes,
                kind,
                default_stream,
                file_ct,
                &mut export,
            )?;
        }
        let mut buf = Vec::new();
        loop {
            // A line inside the reader's buffer is handled in place; one that crosses the
            // buffer's end is copied together first.
            let avail = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) => {
                    self.reject(
                        name,
                        Some(line_no + 1),
                        "unreadable input",
                        Some(e.to_string()),
                    );
                    break;
                }
            };
            if avail.is_empty() {
                break;
            }
            line_no += 1;
            if let Some(end) = memchr::memchr(b'\n', avail) {
                self.line(
                    name,
                    line_no,
                    &avail[..end],
                    kind,
                    default_stream,
                    file_ct,
                    &mut export,
                )?;
                reader.consume(end + 1);
                continue;
            }
            buf.clear();
            if let Err(e) = reader.read_until(b'\n', &mut buf) {
                self.reject(name, Some(line_no), "unreadable input", Some(e.to_string()));
                break;
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            self.line(
                name,
                line_no,
                &buf,
                kind,
                default_stream,
                file_ct,
                &mut export,
            )?;
        }
        if let Some((l, t, m)) = export.take() {
            self.push(name, Some(l), default_stream, t, m)?;
        }
        Ok(())
    }

    /// One line (without its `\n`) of a line-oriented input.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        name: &str,
        line_no: u64,
        mut bytes: &[u8],
        kind: Kind,
        default_stream: &str,
        file_ct: Option<&(String, String)>,
        export: &mut Option<(u64, i64, String)>,
    ) -> Result<()> {
        while let [rest @ .., b'\n' | b'\r'] = bytes {
            bytes = rest;
        }
        let line = match std::str::from_utf8(bytes) {
            Ok(l) => l,
            Err(_) => {
                self.reject(name, Some(line_no), "not valid UTF-8", None);
                return Ok(());
            }
        };
        if line.trim().is_empty() {
            // inside a multi-line cloudwatch-export event, a blank line is part of the
            // message (a stack trace's empty line); elsewhere it is skipped
            if let (Kind::Export, Some((_, _, m))) = (kind, export.as_mut()) {
                m.push('\n');
                m.push_str(line);
            }
            return Ok(());
        }
        match kind {
            Kind::Events => self.cw_event(name, Some(line_no), line, default_stream)?,
            Kind::Text => {
                let ts = match &self.opts.timestamp_format {
                    Some(fmt) => parse_with_format(line, fmt).map(|(t, _)| t),
                    None => None,
                };
                let ts = ts.unwrap_or_else(|| self.fallback_ts());
                self.push(name, Some(line_no), default_stream, ts, line.to_owned())?;
            }
            Kind::Export => match split_export_line(line) {
                Some((ts, msg)) => {
                    if let Some((l, t, m)) = export.take() {
                        self.push(name, Some(l), default_stream, t, m)?;
                    }
                    *export = Some((line_no, ts, msg.to_owned()));
                }
                None => match export.as_mut() {
                    Some((_, _, m)) => {
                        m.push('\n');
                        m.push_str(line);
                    }
                    None => self.reject(
                        name,
                        Some(line_no),
                        "no ISO 8601 timestamp at the start of the line",
                        None,
                    ),
                },
            },
            Kind::CloudTrail | Kind::Ndjson => self.json_event(
                name,
                Some(line_no),
                line.to_owned(),
                kind,
                default_stream,
                file_ct,
            )?,
        }
        Ok(())
    }

    /// `auto` and `ndjson` keep lines that are not JSON objects as text events; an
    /// explicit `cloudtrail` (or `cloudwatch-events`) format rejects them.
    fn lenient_json(&self) -> bool {
        matches!(self.opts.format, Format::Auto | Format::Ndjson)
    }

    fn fallback_ts(&mut self) -> i64 {
        // counted by `push` once the event is accepted
        self.fell_back = true;
        ow_storage::now_ms()
    }

    /// One JSON-object event (NDJSON line or CloudTrail record); `message` is its text.
    fn json_event(
        &mut self,
        name: &str,
        line: Option<u64>,
        message: String,
        kind: Kind,
        default_stream: &str,
        file_ct: Option<&(String, String)>,
    ) -> Result<()> {
        let (ts, stream) = {
            let mut vals: Vec<Option<Cow<'_, str>>> = Vec::new();
            let leaves_worth_it =
                self.leaf_sample.worth_it() && self.pending_leaf_bytes < PENDING_LEAF_BYTES;
            let ok = match &mut self.leaf_parser {
                Some(p) if leaves_worth_it => {
                    let ok = p.parse(&message, &mut vals);
                    self.has_leaves = ok && p.leaves().is_some();
                    if let Some(l) = p.leaves().filter(|_| ok) {
                        self.leaf_sample
                            .add(std::mem::size_of_val(l), message.len());
                    }
                    // a time past the field cap: look again without the cap
                    if ok && p.capped() && vals.iter().any(Option::is_none) {
                        self.extractor.extract_into(&message, &mut vals);
                    }
                    ok
                }
                _ => self.extractor.extract_into(&message, &mut vals),
            };
            if !ok && self.lenient_json() {
                // not a JSON object: keep the line as a text event (no field to read a time from)
                drop(vals);
                self.non_json = true;
                let ts = self.fallback_ts();
                return self.push(name, line, default_stream, ts, message);
            }
            if !ok {
                let detail = match serde_json::from_str::<serde_json::Value>(&message) {
                    Ok(_) => None,
                    Err(e) => Some(e.to_string()),
                };
                let kind = if detail.is_some() {
                    "invalid JSON"
                } else {
                    "not a JSON object"
                };
                self.reject(name, line, kind, detail);
                return Ok(());
            }
            let mut ts = None;
            for v in vals[..self.n_ts].iter().flatten() {
                ts = match &self.opts.timestamp_format {
                    Some(fmt) => parse_with_format(v, fmt).map(|(t, _)| t),
                    None => parse_any_ms(v),
                };
                if ts.is_some() {
                    break;
                }
            }
            let stream: Cow<'_, str> = if kind == Kind::CloudTrail && self.opts.log_stream.is_none()
            {
                let n = self.n_ts;
                let account = vals[n]
                    .as_deref()
                    .or(vals[n + 2].as_deref())
                    .or(file_ct.map(|c| c.0.as_str()));
                let region = vals[n + 1].as_deref().or(file_ct.map(|c| c.1.as_str()));
                match (account, region) {
                    (Some(a), Some(r)) => {
                        // most records of a file share account and region: reuse the name
                        let hit = self
                            .ct_stream
                            .as_ref()
                            .is_some_and(|(ca, cr, _)| ca == a && cr == r);
                        if !hit {
                            let name = sanitize_stream(&format!("{a}_CloudTrail_{r}"));
                            self.ct_stream = Some((a.to_owned(), r.to_owned(), name));
                        }
                        match &self.ct_stream {
                            Some((_, _, name)) => Cow::Owned(name.clone()),
                            None => Cow::Borrowed(default_stream),
                        }
                    }
                    _ => Cow::Borrowed(default_stream),
                }
            } else {
                Cow::Borrowed(default_stream)
            };
            if kind == Kind::CloudTrail {
                if let Some(id) = vals[self.n_ts + 3].as_deref() {
                    if !self.event_ids.insert(event_id_key(id)) {
                        self.summary.repeated_event_ids += 1;
                        if self.summary.repeated_event_id_first.is_none() {
                            self.summary.repeated_event_id_first = Some(InputLine {
                                source: name.to_owned(),
                                line,
                            });
                        }
                    }
                }
            }
            (ts, stream.into_owned())
        };
        let ts = match ts {
            Some(t) => t,
            None => self.fallback_ts(),
        };
        self.push(name, line, &stream, ts, message)
    }

    /// One `cloudwatch-events` object.
    fn cw_event(
        &mut self,
        name: &str,
        line: Option<u64>,
        text: &str,
        default_stream: &str,
    ) -> Result<()> {
        let ev: CwEvent = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(_)
                if self.opts.format == Format::Auto
                    && !matches!(
                        serde_json::from_str::<serde_json::Value>(text),
                        Ok(serde_json::Value::Object(_))
                    ) =>
            {
                // auto-detected events file, but this line is not a JSON object: keep it
                // as a text event (a JSON object without timestamp/message stays rejected)
                self.non_json = true;
                let ts = self.fallback_ts();
                return self.push(name, line, default_stream, ts, text.to_owned());
            }
            Err(e) => {
                let kind = if serde_json::from_str::<serde_json::Value>(text).is_ok() {
                    "not a CloudWatch event (needs timestamp and message)"
                } else {
                    "invalid JSON"
                };
                self.reject(name, line, kind, Some(e.to_string()));
                return Ok(());
            }
        };
        let ts = match &ev.timestamp {
            serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            serde_json::Value::String(s) => parse_any_ms(s),
            _ => None,
        };
        let Some(ts) = ts else {
            self.reject(
                name,
                line,
                "invalid timestamp",
                Some(ev.timestamp.to_string()),
            );
            return Ok(());
        };
        if ev.message.is_empty() {
            self.reject(name, line, "empty message", None);
            return Ok(());
        }
        let stream = ev
            .log_stream_name
            .as_deref()
            .map(sanitize_stream)
            .unwrap_or_else(|| default_stream.to_owned());
        self.push(name, line, &stream, ts, ev.message)
    }

    fn push(
        &mut self,
        name: &str,
        line: Option<u64>,
        stream: &str,
        ts: i64,
        message: String,
    ) -> Result<()> {
        let fell_back = std::mem::take(&mut self.fell_back);
        let has_leaves = std::mem::take(&mut self.has_leaves);
        let non_json = std::mem::take(&mut self.non_json);
        if !ow_storage::schema::PRINTABLE_TIME_MS.contains(&ts) {
            self.reject(
                name,
                line,
                "timestamp out of range",
                // a time too large for i64 milliseconds arrives saturated: no number then
                Some(if ts == i64::MAX || ts == i64::MIN {
                    "the time is not between the years 1 and 9999".to_owned()
                } else {
                    format!("{ts} ms is not between the years 1 and 9999")
                }),
            );
            return Ok(());
        }
        if let Some((cutoff, days)) = self.retention {
            if ts < cutoff {
                self.reject(
                    name,
                    line,
                    "expired (older than the log group's retention)",
                    Some(format!("retention is {days} days")),
                );
                return Ok(());
            }
        }
        let size = message.len() + 26;
        if size > self.opts.max_event_bytes {
            self.reject(
                name,
                line,
                "event too large",
                Some(format!(
                    "{size} bytes, the maximum is {}",
                    self.opts.max_event_bytes
                )),
            );
            return Ok(());
        }
        if fell_back {
            self.summary.ingestion_time_fallbacks += 1;
        }
        if non_json {
            self.note_non_json(name, line);
        }
        self.pending_bytes += message.len();
        self.pending_events += 1;
        // (`json_event` parses for leaves only while the batch is under its cap: it ends at
        // most one event's leaves past it)
        let leaves = match &self.leaf_parser {
            Some(p) if has_leaves => p.leaves(),
            _ => None,
        };
        self.pending_leaf_bytes += leaves.map_or(0, std::mem::size_of_val);
        let event = NewEvent {
            timestamp_ms: ts,
            message,
        };
        match self.pending.get_mut(stream) {
            Some((events, parsed)) => {
                events.push(event);
                parsed.push_event(leaves);
            }
            None => {
                let (n, leaf_count) = self.batch_hint;
                let mut parsed = ParsedLeaves::with_capacity(n, leaf_count);
                parsed.push_event(leaves);
                let mut events = Vec::with_capacity(n);
                events.push(event);
                self.pending.insert(stream.to_owned(), (events, parsed));
            }
        }
        if self.pending_events >= self.opts.batch_events.max(1)
            || self.pending_bytes >= PENDING_BYTES
        {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Hands the pending events to the store writer thread.
    fn flush_pending(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_events = 0;
        self.pending_bytes = 0;
        self.pending_leaf_bytes = 0;
        if pending.is_empty() {
            return Ok(());
        }
        // a batch of one stream sizes the next one's vectors (a tree of many streams does not:
        // each would get the whole size)
        self.batch_hint = match pending.values().next() {
            Some((events, leaves)) if pending.len() == 1 => (events.len(), leaves.leaf_count()),
            _ => (0, 0),
        };
        let mut streams: Batch = pending
            .into_iter()
            .map(|(stream, (events, leaves))| (stream, events, leaves))
            .collect();
        streams.sort_by(|a, b| a.0.cmp(&b.0));
        self.tx
            .send(streams)
            .map_err(|_| IngestError::WriterStopped)
    }
}

/// Events of several log streams handed to the store in one go.
type Batch = Vec<(String, Vec<NewEvent>, ParsedLeaves)>;

/// The store side of an import: runs on its own thread so that parsing and storing
/// (WAL, flushes to Parquet) overlap.
struct StoreWriter<'a> {
    store: &'a Store,
    opts: &'a ImportOptions,
    summary: ImportSummary,
}

impl StoreWriter<'_> {
    fn write(&mut self, batch: Batch) -> Result<()> {
        // Streams with invalid names cannot be stored: reject their events, store the rest
        // with one fsync.
        let mut valid = Vec::with_capacity(batch.len());
        for (stream, events, leaves) in batch {
            match ow_storage::validate_log_stream_name(&stream) {
                Ok(()) => valid.push((stream, events, leaves)),
                Err(e) => {
                    let n = events.len() as u64;
                    self.summary.rejected += n;
                    *self
                        .summary
                        .rejected_by_reason
                        .entry("invalid log stream name".into())
                        .or_default() += n;
                    if self.summary.rejections.len() < self.opts.max_reported_rejections {
                        self.summary.rejections.push(Rejection {
                            source: stream,
                            line: None,
                            reason: format!("{n} events: {e}"),
                        });
                    }
                }
            }
        }
        let names: Vec<String> = valid.iter().map(|(s, _, _)| s.clone()).collect();
        let out = if self.opts.bulk {
            self.store.bulk_import_parsed(&self.opts.log_group, valid)?
        } else {
            let valid = valid.into_iter().map(|(s, e, _)| (s, e)).collect();
            self.store.import_streams(&self.opts.log_group, valid)?
        };
        self.summary.events += out.events;
        self.summary.stored_bytes += out.bytes;
        self.summary.log_streams.extend(names);
        Ok(())
    }
}

/// Runs `body` (which feeds the importer) with a store writer thread; merges summaries.
/// Rejects a `--timestamp-format` that chrono cannot use (an unknown `%` specifier) or
/// that has no date or time specifier at all: either would give every event its ingestion
/// time without a word.
fn check_timestamp_format(fmt: &str) -> Result<()> {
    use chrono::format::{Item, StrftimeItems};
    let mut fields = 0;
    for item in StrftimeItems::new(fmt) {
        match item {
            Item::Error => {
                return Err(IngestError::InvalidOptions(format!(
                    "--timestamp-format {fmt:?} is not a valid strftime pattern \
                     (e.g. \"%Y-%m-%d %H:%M:%S\"; see chrono's strftime specifiers)"
                )))
            }
            Item::Numeric(..) | Item::Fixed(_) => fields += 1,
            _ => {}
        }
    }
    if fields == 0 {
        return Err(IngestError::InvalidOptions(format!(
            "--timestamp-format {fmt:?} has no date or time specifier (e.g. %Y, %H, %s)"
        )));
    }
    Ok(())
}

fn run_import(
    store: &Store,
    options: &ImportOptions,
    progress: &dyn Progress,
    body: impl FnOnce(&mut Importer<'_>) -> Result<()>,
) -> Result<ImportSummary> {
    let started = Instant::now();
    // one batch queued while the writer stores another: bounded memory
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(1);
    // a log group that does not exist yet has no retention
    let existing = store.log_group(&options.log_group).ok();
    let retention = existing.as_ref().and_then(|g| g.retention_in_days);
    // bulk loads hand the store the leaves of their one parse per event
    let leaves = options
        .bulk
        .then(|| (store.field_names(), store.config().max_fields_per_event));
    let mut imp = Importer::new(options, progress, tx, retention, leaves)?;
    if existing.is_none() {
        // created even when no event arrives (an empty input), as the summary says
        store.create_log_group(&options.log_group, std::collections::BTreeMap::new())?;
    }
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<ImportSummary> {
            let mut w = StoreWriter {
                store,
                opts: options,
                summary: ImportSummary::default(),
            };
            for batch in rx {
                w.write(batch)?;
            }
            Ok(w.summary)
        });
        let fed = body(&mut imp).and_then(|()| imp.flush_pending());
        let mut summary = std::mem::take(&mut imp.summary);
        summary.input_bytes = imp.input_bytes.load(Ordering::Relaxed);
        drop(imp); // closes the channel: the writer drains it and ends
        let written = writer
            .join()
            .map_err(|_| IngestError::Internal("the store writer thread panicked".into()))?;
        let w = match (fed, written) {
            (_, Err(e)) => return Err(e),
            (Err(e), Ok(_)) => return Err(e),
            (Ok(()), Ok(w)) => w,
        };
        summary.events += w.events;
        summary.stored_bytes += w.stored_bytes;
        summary.log_streams.extend(w.log_streams);
        summary.rejected += w.rejected;
        for (k, v) in w.rejected_by_reason {
            *summary.rejected_by_reason.entry(k).or_default() += v;
        }
        let room = options
            .max_reported_rejections
            .saturating_sub(summary.rejections.len());
        summary
            .rejections
            .extend(w.rejections.into_iter().take(room));
        summary.elapsed = started.elapsed();
        Ok(summary)
    })
}

/// A CloudTrail `eventID` as 128 bits: a UUID's own (CloudTrail's are UUIDs), else two
/// 64-bit hashes of the text, whose collision among a run's IDs is not a concern.
fn event_id_key(id: &str) -> u128 {
    let b = id.as_bytes();
    if b.len() == 36 && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-') {
        let hex: String = id.chars().filter(|&c| c != '-').collect();
        if let Ok(v) = u128::from_str_radix(&hex, 16) {
            return v;
        }
    }
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// Whether a first line that is a whole JSON object is a document (`Records`/`events`).
fn is_doc_line(line: &str) -> bool {
    matches!(
        serde_json::from_str::<Doc>(line),
        Ok(Doc {
            records: Some(_),
            ..
        }) | Ok(Doc {
            events: Some(_),
            ..
        })
    )
}

/// Auto-detection for line-oriented input, from its first line.
fn detect_line_kind(first: &str) -> Kind {
    if first.starts_with('{') {
        let ex = PathExtractor::new(
            [
                "timestamp",
                "message",
                "eventSource",
                "eventName",
                "eventVersion",
                "eventTime",
                "awsRegion",
            ],
            usize::MAX,
        );
        let v = ex.extract(first);
        let is_number =
            |s: &Option<Cow<'_, str>>| s.as_deref().is_some_and(|t| t.parse::<f64>().is_ok());
        if is_number(&v[0]) && v[1].is_some() {
            return Kind::Events;
        }
        if v[2].is_some() && v[3].is_some() && (v[4].is_some() || v[5].is_some() || v[6].is_some())
        {
            return Kind::CloudTrail;
        }
        return Kind::Ndjson;
    }
    if split_export_line(first).is_some() {
        Kind::Export
    } else {
        Kind::Text
    }
}

/// `(account, region)` from a CloudTrail delivery file name
/// `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`.
fn cloudtrail_name_parts(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_str()?;
    let mut parts = name.split('_');
    let account = parts.next()?;
    if parts.next()? != "CloudTrail" {
        return None;
    }
    let region = parts.next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !region.is_empty())
        .then(|| (account.to_owned(), region.to_owned()))
}

/// Log stream names may not contain ':' or '*' (AWS rule); they become '_'.
fn sanitize_stream(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c == ':' || c == '*' { '_' } else { c })
        .collect();
    if s.is_empty() {
        "import".into()
    } else if s.len() > 512 {
        let mut end = 512;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_owned()
    } else {
        s
    }
}

/// Removes insignificant whitespace from valid JSON text (strings, numbers and key order
/// unchanged), as CloudTrail does when it sends records to CloudWatch Logs.
pub fn minify_json(s: &str) -> String {
    let b = s.as_bytes();
    if !b.iter().any(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')) {
        return s.to_owned();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut in_str = false;
    let mut esc = false;
    for &c in b {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
        } else if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
            if c == b'"' {
                in_str = true;
            }
            out.push(c);
        }
    }
    // only ASCII whitespace outside strings was removed: still UTF-8
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// 1-based line of byte offset `pos` in `data`.
fn line_of(data: &[u8], pos: usize) -> u64 {
    1 + memchr::memchr_iter(b'\n', &data[..pos.min(data.len())]).count() as u64
}

/// 1-based lines where slices of one text start, counted incrementally: asked in text
/// order (the elements of a document), it reads every byte once, where counting from the
/// start each time made a 23,200-record delivery file take 14 s instead of 0.3 s.
struct LineCounter<'t> {
    text: &'t str,
    /// Byte offset counted up to, and the line it is on.
    pos: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// 1-based line where `part` (a slice of the text) starts.
    fn at(&mut self, part: &str) -> u64 {
        let off = (part.as_ptr() as usize)
            .saturating_sub(self.text.as_ptr() as usize)
            .min(self.text.len());
        if off < self.pos {
            // asked out of order: count again from the start
            self.pos = 0;
            self.line = 1;
        }
        let bytes = &self.text.as_bytes()[self.pos..off];
        self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
        self.pos = off;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The incremental counter gives `line_of`'s line for every slice, asked in order or not.
    #[test]
    fn line_counter_agrees_with_counting_from_the_start() {
        let text = "{\"Records\":[\n {\"a\":1},\n\n {\"b\":2}, 7,\n \"x\"\n]}\n";
        let starts: Vec<usize> = (0..text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let mut c = LineCounter::new(text);
        for &i in &starts {
            assert_eq!(c.at(&text[i..]), line_of(text.as_bytes(), i), "at {i}");
        }
        for &i in starts.iter().rev().step_by(3) {
            assert_eq!(c.at(&text[i..]), line_of(text.as_bytes(), i), "back at {i}");
        }
    }

    #[test]
    fn minify_keeps_strings_and_numbers() {
        assert_eq!(
            minify_json("{ \"a b\" : [ 1.50E3 , \"x \\\" y\" ],\n \"c\":{} }"),
            "{\"a b\":[1.50E3,\"x \\\" y\"],\"c\":{}}"
        );
    }

    #[test]
    fn cloudtrail_file_names() {
        let p = Path::new(
            "/x/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz",
        );
        assert_eq!(
            cloudtrail_name_parts(p),
            Some(("218007301253".into(), "us-east-1".into()))
        );
        assert_eq!(cloudtrail_name_parts(Path::new("a_b_c.json")), None);
    }

    #[test]
    fn leaves_are_dropped_for_inputs_of_many_tiny_fields() {
        let mut ct = LeafSample::default();
        let mut tiny = LeafSample::default();
        for _ in 0..LeafSample::EVENTS + 10 {
            assert!(ct.worth_it() && (tiny.worth_it() || tiny.events == LeafSample::EVENTS));
            ct.add(33 * 8, 1460); // a CloudTrail record
            tiny.add(200 * 8, 440); // {"a":[0,0,…]} with 200 numbers
        }
        assert!(ct.worth_it());
        assert!(!tiny.worth_it());
    }

    #[test]
    fn line_kinds() {
        assert_eq!(
            detect_line_kind(r#"{"timestamp":1,"message":"m"}"#),
            Kind::Events
        );
        assert_eq!(
            detect_line_kind(r#"{"eventVersion":"1.05","eventSource":"s3","eventName":"x"}"#),
            Kind::CloudTrail
        );
        assert_eq!(detect_line_kind(r#"{"level":"info"}"#), Kind::Ndjson);
        assert_eq!(
            detect_line_kind("2023-07-10T11:42:18.000Z hi"),
            Kind::Export
        );
        assert_eq!(detect_line_kind("127.0.0.1 - - [17/May/2015]"), Kind::Text);
    }
}
