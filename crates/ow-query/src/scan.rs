//! The scan: log events of a storage snapshot as a DataFusion table that reads only what a
//! query needs.
//!
//! One [`EventScan`] serves one query. Its schema is fixed by the planner's analysis:
//!
//! | column            | type                          | source |
//! |-------------------|-------------------------------|--------|
//! | `@timestamp`      | `Timestamp(Millisecond)`      | segment/buffer `@timestamp` (epoch ms) |
//! | `@ingestionTime`  | `Timestamp(Millisecond)`      | `@ingestionTime` |
//! | `@logStream`      | `Utf8`                        | `@logStream` |
//! | `@log`            | `Utf8`                        | `account:group` of the source (spec §3.1) |
//! | `@message`        | `Utf8`                        | `@message` (only when the query needs it) |
//! | `__seq`           | `UInt64`                      | event sequence (hidden, for `@ptr`) |
//! | `__group`         | `Utf8`                        | log group name (hidden, for `@ptr`) |
//! | one per path      | `Utf8View`                    | promoted column if the segment has it, else extracted from `@message` |
//!
//! (A path the partial count asks for by dictionary is `Dictionary(Int32, Utf8)` instead:
//! [`EventScanExec::with_dictionary_output`].)
//!
//! Reading rules (DESIGN.md decision 2):
//! - time-range pruning: segments outside `[start_ms, end_ms]` are skipped by the snapshot,
//!   row groups by their `@timestamp` min/max statistics, rows by an exact inclusive test;
//! - a promoted Parquet column is read instead of parsing `@message`;
//! - filters the plan pushes into the scan ([`EventScanExec`]) run in two stages: those on
//!   cheap columns (system fields, promoted columns) inside the Parquet reader, so other
//!   columns and `@message` are decoded only for surviving rows; then, on those rows only,
//!   the missing paths are extracted with ONE JSON parse per row ([`ow_storage::fields`])
//!   and the other filters run;
//! - a [`Prefilter`] built from `@message like 'literal'` runs with `memchr::memmem` on the raw
//!   bytes before any JSON parse, so non-matching rows are never parsed;
//! - early termination: a top-N by `@timestamp` (the default `sort @timestamp desc | limit`)
//!   reads newest first and skips row groups its dynamic filter rules out.
//!
//! Statistics (`recordsScanned`, `bytesScanned`) are counted in [`ScanCounters`].

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch,
    RecordBatchOptions, StringArray, StringViewBuilder, TimestampMillisecondArray, UInt64Array,
};
use arrow::compute::{filter_record_batch, prep_null_mask_filter};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    RowFilter, RowSelectionPolicy,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::file::metadata::{
    PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use datafusion::parquet::file::statistics::Statistics as ParquetStatistics;
use datafusion::parquet::schema::types::SchemaDescriptor;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_expr_common::physical_expr::{
    snapshot_generation, snapshot_physical_expr,
};
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use memchr::memmem;
use std::future::Future;
use std::pin::Pin;

use crate::fields::Extractor;

/// Name of the hidden event sequence column (see CONTRACTS.md `__seq`).
pub const SEQ: &str = "__seq";
/// Name of the hidden log group column used to build `@ptr`.
pub const GROUP: &str = "__group";
/// System field names the scan provides (spec §3.1), in scan order.
pub const SYSTEM_FIELDS: [&str; 5] = [
    "@timestamp",
    "@ingestionTime",
    "@logStream",
    "@log",
    "@message",
];

/// Row groups of segment files, as (segment path, row group index).
pub type RowGroupSet = Arc<HashSet<(PathBuf, usize)>>;

/// One log group's data in a snapshot, as the scan consumes it.
#[derive(Debug, Clone)]
pub struct ScanSource {
    /// Log group name.
    pub log_group: String,
    /// Account id of the log group (for `@log`).
    pub account_id: String,
    /// Parquet segment files overlapping the query range.
    pub segments: Vec<ScanSegment>,
    /// In-memory buffer batches (core columns only, CONTRACTS.md names and types).
    pub buffer: Vec<RecordBatch>,
    /// Retention cutoff, epoch ms: rows with an earlier `@timestamp` have expired and are
    /// never returned (`ow_storage::GroupSnapshot::min_timestamp_ms`; `i64::MIN` = none).
    pub min_timestamp_ms: i64,
}

/// One Parquet segment file.
#[derive(Debug, Clone)]
pub struct ScanSegment {
    /// Absolute local path of the file.
    pub path: PathBuf,
    /// Minimum `@timestamp` in the file, epoch ms.
    pub min_timestamp_ms: i64,
    /// Maximum `@timestamp` in the file, epoch ms.
    pub max_timestamp_ms: i64,
    /// The store's handle: keeps the file alive while the query runs (compaction and
    /// retention defer deletes) and holds its reader cache ([`open_segment`]).
    pub handle: Option<ow_storage::SegmentRef>,
}

/// A boolean combination of case-sensitive substring tests on the raw `@message` bytes.
///
/// Built by the planner from filters that consist only of `@message like 'literal'`
/// (spec §5.2: `like` with a string is a case-sensitive substring test). It is a necessary
/// condition of the query's filter, so rows failing it can be dropped before JSON parsing; the
/// full filter still runs afterwards.
#[derive(Debug, Clone)]
pub enum Prefilter {
    /// `@message` contains the bytes.
    Contains(Vec<u8>),
    /// `@message` does not contain the bytes.
    NotContains(Vec<u8>),
    /// All must hold.
    And(Vec<Prefilter>),
    /// At least one must hold.
    Or(Vec<Prefilter>),
}

/// A [`Prefilter`] with its substring finders compiled once.
enum CompiledPrefilter {
    Contains(memmem::Finder<'static>),
    NotContains(memmem::Finder<'static>),
    And(Vec<CompiledPrefilter>),
    Or(Vec<CompiledPrefilter>),
}

impl CompiledPrefilter {
    fn new(p: &Prefilter) -> Self {
        match p {
            Prefilter::Contains(b) => Self::Contains(memmem::Finder::new(b).into_owned()),
            Prefilter::NotContains(b) => Self::NotContains(memmem::Finder::new(b).into_owned()),
            Prefilter::And(v) => Self::And(v.iter().map(Self::new).collect()),
            Prefilter::Or(v) => Self::Or(v.iter().map(Self::new).collect()),
        }
    }

    fn matches(&self, msg: &[u8]) -> bool {
        match self {
            Self::Contains(f) => f.find(msg).is_some(),
            Self::NotContains(f) => f.find(msg).is_none(),
            Self::And(v) => v.iter().all(|p| p.matches(msg)),
            Self::Or(v) => v.iter().any(|p| p.matches(msg)),
        }
    }
}

/// The compiled prefilters of one scan partition.
struct Prefilters<'a> {
    explicit: Option<&'a CompiledPrefilter>,
    implied: Option<&'a CompiledPrefilter>,
}

impl Prefilters<'_> {
    /// Whether a row with this raw message may pass the query's filters. The implied
    /// condition assumes the JSON text has no escapes, so it is only trusted for messages
    /// without a backslash.
    fn matches(&self, msg: &[u8]) -> bool {
        if let Some(e) = self.explicit {
            if !e.matches(msg) {
                return false;
            }
        }
        match self.implied {
            Some(i) => memchr::memchr(b'\\', msg).is_some() || i.matches(msg),
            None => true,
        }
    }
}

/// Counters shared between the scan partitions and the engine.
///
/// Statistics rules ([I], our choice; they do not depend on which blocks the scan skips):
/// - `records_scanned`: events of the selected log groups inside the time range, exactly:
///   AWS reports every event of the range as scanned. Rows the scan reads are tested
///   against the range; row groups that early termination skips, and blocks the n-gram
///   index rules out, count whole when they lie inside the range, and by their
///   `@timestamp` column alone when they cross one of its ends.
/// - `bytes_scanned`: UTF-8 bytes of `@message` of those events: for segments the
///   `@message` column chunk of every row group overlapping the range, whole (its unencoded
///   byte size from the Parquet metadata, or the uncompressed size minus the 4-byte length
///   prefixes when the writer recorded none), whether its rows were decoded or not; for the
///   in-memory buffer the exact bytes of the in-range events.
/// - `records_matched` is counted by the planner (see `plan::count_matched`), not here.
///   When early termination (top-N by `@timestamp`) skips row groups, the counter misses
///   their matches: the scan lists them (`skipped_by_top_n`) and the engine counts their
///   matches with a plan of its own (`Planned::matched_count_plan`) that reads only them
///   (`recount_only`). The dynamic filter never drops single rows, so the counter is exact
///   for every row group read (and the in-memory buffer, never skipped).
///
/// The remaining counters describe the work done, for tests and diagnosis.
#[derive(Debug, Default)]
pub struct ScanCounters {
    /// Events in the time range (`recordsScanned`).
    pub records_scanned: AtomicU64,
    /// UTF-8 bytes of `@message` of those events (`bytesScanned`).
    pub bytes_scanned: AtomicU64,
    /// Rows that reached the matched-rows counter (`recordsMatched`).
    pub records_matched: AtomicU64,
    /// Row groups a top-N's dynamic filter skipped, as (segment path, row group index):
    /// their matches never reached the matched-rows counter.
    pub skipped_by_top_n: std::sync::Mutex<Vec<(PathBuf, usize)>>,
    /// Set at planning when the filters below the matched-rows counter are all the scan's
    /// own (`matched::CountSkippedRule`): the scan then counts the matches of a row group
    /// the top-N skips itself, from the filter columns only, when its cheap stage holds
    /// every filter (`matches_in_skipped`), and lists it in `skipped_by_top_n` otherwise.
    pub count_skipped_matches: AtomicBool,
    /// Matches counted so in skipped row groups (part of `recordsMatched`).
    pub matches_in_skipped: AtomicU64,
    /// A read stopped before the end of its work because its consumer went away: matches
    /// anywhere may not have reached the counter.
    pub stopped_early: std::sync::atomic::AtomicBool,
    /// Set by the engine for the recount of `recordsMatched`: scans then read only these
    /// row groups (from `skipped_by_top_n`) and no buffer batch.
    pub recount_only: std::sync::Mutex<Option<RowGroupSet>>,
    /// Row extractions from `@message`: one per row and extraction pass (JSON parses).
    pub rows_parsed: AtomicU64,
    /// Segment rows whose `@message` value was decoded from Parquet.
    pub rows_message_decoded: AtomicU64,
    /// Segment row groups read (at least their filter columns decoded).
    pub row_groups_read: AtomicU64,
    /// Segment row groups in the time range skipped without decoding (early termination,
    /// or no candidate block in the n-gram index).
    pub row_groups_skipped: AtomicU64,
    /// Blocks of segments with a usable n-gram index that the `@message like` prefilter
    /// was evaluated on ([`crate::skip`]).
    pub ngram_blocks_considered: AtomicU64,
    /// Of those, blocks not read because they cannot hold a match.
    pub ngram_blocks_skipped: AtomicU64,
    /// Rows that the partial count of `stats count(*) by …` consumed
    /// ([`crate::count_by`]).
    pub rows_counted_early: AtomicU64,
    /// Rows it emitted to the final aggregate (one per distinct key bits per batch).
    pub partial_count_rows: AtomicU64,
    /// Of the rows it consumed, those with a key handed over as a dictionary
    /// ([`EventScanExec::with_dictionary_output`]) and counted by its dictionary key.
    pub rows_counted_by_dictionary: AtomicU64,
    /// Row groups read (`row_groups_read`) whose rows a plan that reads no column counted
    /// from the row group's metadata, decoding nothing.
    pub row_groups_counted_from_metadata: AtomicU64,
}

impl ScanCounters {
    /// A plain copy of the work counters.
    pub fn metrics(&self) -> ScanMetrics {
        ScanMetrics {
            rows_parsed: self.rows_parsed.load(Ordering::Relaxed),
            rows_message_decoded: self.rows_message_decoded.load(Ordering::Relaxed),
            row_groups_read: self.row_groups_read.load(Ordering::Relaxed),
            row_groups_skipped: self.row_groups_skipped.load(Ordering::Relaxed),
            rows_counted_early: self.rows_counted_early.load(Ordering::Relaxed),
            partial_count_rows: self.partial_count_rows.load(Ordering::Relaxed),
            rows_counted_by_dictionary: self.rows_counted_by_dictionary.load(Ordering::Relaxed),
            row_groups_counted_from_metadata: self
                .row_groups_counted_from_metadata
                .load(Ordering::Relaxed),
            row_groups_recounted: 0,
        }
    }
}

/// Work counters of one query's scan (see [`ScanCounters`]); for tests and diagnosis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanMetrics {
    /// Row extractions from `@message` (JSON parses).
    pub rows_parsed: u64,
    /// Segment rows whose `@message` was decoded.
    pub rows_message_decoded: u64,
    /// Segment row groups read.
    pub row_groups_read: u64,
    /// Segment row groups in the time range skipped without decoding.
    pub row_groups_skipped: u64,
    /// Rows consumed by the partial count of `stats count(*) by …` ([`crate::count_by`]).
    pub rows_counted_early: u64,
    /// Rows the partial count emitted (one per distinct key bits per batch).
    pub partial_count_rows: u64,
    /// Rows the partial count counted with a key by its dictionary key.
    pub rows_counted_by_dictionary: u64,
    /// Row groups whose rows a plan reading no column counted from metadata alone.
    pub row_groups_counted_from_metadata: u64,
    /// Row groups a top-N skipped whose matches a plan of their own counted for
    /// `recordsMatched` (the scan counts them itself where it can; set by the engine).
    pub row_groups_recounted: u64,
}

/// What one query needs from the store.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Field paths the query reads from events (not system fields), in first-use order.
    pub paths: Vec<String>,
    /// Whether the query reads `@message` according to the analysis (informational: the
    /// scan decides from the columns the optimised plan projects).
    pub needs_message: bool,
    /// Inclusive range start, epoch ms.
    pub start_ms: i64,
    /// Inclusive range end, epoch ms.
    pub end_ms: i64,
    /// Substring prefilter on `@message` from `@message like 'x'`, if the query has one.
    pub prefilter: Option<Prefilter>,
    /// A stronger necessary condition (also from tests on JSON fields), applied only where
    /// `@message` is read anyway.
    pub implied_prefilter: Option<Prefilter>,
    /// Read segments, row groups and buffer batches newest first (`true`) or oldest first.
    /// Only a hint for early termination (a top-N by `@timestamp` desc or asc): results
    /// never depend on it.
    pub newest_first: bool,
    /// Use the filters DataFusion pushes into the scan (late materialisation) and the
    /// dynamic top-N filter (early termination). `false` reads every event of the range
    /// and leaves all filtering to the plan (for tests and diagnosis).
    pub pushdown: bool,
    /// Rows per Arrow batch read from a segment (see [`crate::EngineConfig::batch_rows`]).
    pub batch_rows: usize,
}

/// Builds the schema of a scan for the given field paths.
pub fn scan_schema(paths: &[String]) -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Millisecond, None);
    let mut fields = vec![
        Field::new("@timestamp", ts.clone(), false),
        Field::new("@ingestionTime", ts, false),
        Field::new("@logStream", DataType::Utf8, false),
        Field::new("@log", DataType::Utf8, false),
        Field::new("@message", DataType::Utf8, true),
        Field::new(SEQ, DataType::UInt64, false),
        Field::new(GROUP, DataType::Utf8, false),
    ];
    // Paths are string views: a promoted column decodes from its Parquet dictionary into
    // views of the dictionary page (no copy of each value), and hashing and comparing views
    // in `stats … by` is faster (measured with DataFusion 55 on these segments: `stats
    // count(*) by eventSource, eventName` 26 -> 15 ms, count_distinct by ARN 52 -> 23 ms).
    for p in paths {
        fields.push(Field::new(p, DataType::Utf8View, true));
    }
    Arc::new(Schema::new(fields))
}

/// A unit of scan work: one segment file or one buffer batch of one log group.
#[derive(Debug, Clone)]
enum Work {
    Segment { source: usize, segment: ScanSegment },
    Buffer { source: usize, batch: RecordBatch },
}

/// Shared state of a scan.
#[derive(Debug)]
struct ScanShared {
    /// Output schema (the projected scan schema; the paths of `dictionary_output` as
    /// [`dictionary_output_type`]).
    schema: SchemaRef,
    /// The projected scan schema with every field nullable (paths as `Utf8View`, whatever
    /// `schema` says): pushed filters are evaluated on batches that hold only the columns
    /// they need (the others are all-null placeholders).
    eval_schema: SchemaRef,
    /// Paths handed out as [`dictionary_output_type`] arrays instead of string views, for a
    /// consumer that counts by dictionary key ([`EventScanExec::with_dictionary_output`]).
    dictionary_output: HashSet<String>,
    request: ScanRequest,
    sources: Arc<Vec<ScanSource>>,
    counters: Arc<ScanCounters>,
    cancel: Arc<AtomicBool>,
    /// One all-null column of `request.batch_rows` rows per `eval_schema` field, made on
    /// first use; [`eval_batch`] hands out slices of it. Zeroing a fresh placeholder for
    /// every batch was a tenth of a selective query's instructions (callgrind, q2 of the
    /// 1 GB benchmark), most of it page faults.
    null_columns: Vec<OnceLock<ArrayRef>>,
    /// Per source, its `@log` and group-name columns of `request.batch_rows` rows (every row
    /// the same string), made on first use; [`scan_column`] hands out slices. Building them
    /// for every batch (a copy of the string per row) was 8 % of an empty query's CPU time in
    /// a running server (perf, `fields @timestamp | limit 1` on the 1 GB benchmark).
    constant_columns: Vec<[OnceLock<ArrayRef>; 2]>,
}

impl ScanShared {
    /// Shared state with its per-column and per-source caches empty.
    fn new(
        schema: SchemaRef,
        eval_schema: SchemaRef,
        dictionary_output: HashSet<String>,
        request: ScanRequest,
        sources: Arc<Vec<ScanSource>>,
        counters: Arc<ScanCounters>,
        cancel: Arc<AtomicBool>,
    ) -> Self {
        ScanShared {
            null_columns: (0..eval_schema.fields().len())
                .map(|_| OnceLock::new())
                .collect(),
            constant_columns: (0..sources.len()).map(|_| Default::default()).collect(),
            schema,
            eval_schema,
            dictionary_output,
            request,
            sources,
            counters,
            cancel,
        }
    }

    /// An all-null column of `eval_schema`'s field `index`, `n` rows long.
    fn null_column(&self, index: usize, n: usize) -> ArrayRef {
        let data_type = self.eval_schema.field(index).data_type();
        let cap = self.request.batch_rows.max(1);
        if n > cap {
            return new_null_array(data_type, n);
        }
        self.null_columns[index]
            .get_or_init(|| new_null_array(data_type, cap))
            .slice(0, n)
    }

    /// Source `source`'s `@log` (`which` 0: `account:group`) or group-name (`which` 1)
    /// column, `n` rows long.
    fn constant_column(&self, source: usize, which: usize, n: usize) -> ArrayRef {
        let src = &self.sources[source];
        let make = |rows: usize| -> ArrayRef {
            let value = match which {
                0 => format!("{}:{}", src.account_id, src.log_group),
                _ => src.log_group.clone(),
            };
            Arc::new(StringArray::from(vec![value.as_str(); rows]))
        };
        let cap = self.request.batch_rows.max(1);
        if n > cap {
            return make(n);
        }
        self.constant_columns[source][which]
            .get_or_init(|| make(cap))
            .slice(0, n)
    }

    /// Inclusive start of the range read from `source`, epoch ms: the query's start
    /// clipped to the log group's retention cutoff.
    fn start_ms(&self, source: usize) -> i64 {
        self.request
            .start_ms
            .max(self.sources[source].min_timestamp_ms)
    }
}

/// Builds the table provider of one query's scan.
///
/// `partitions` is the number of parallel scan partitions (at least 1). Work items are
/// ordered by time (see [`ScanRequest::newest_first`]) and distributed round-robin.
/// `cancel` stops the scan with [`crate::QueryError::Cancelled`].
pub fn event_table(
    sources: Vec<ScanSource>,
    request: ScanRequest,
    counters: Arc<ScanCounters>,
    cancel: Arc<AtomicBool>,
    partitions: usize,
) -> EventTable {
    EventTable {
        schema: scan_schema(&request.paths),
        sources: Arc::new(sources),
        request,
        counters,
        cancel,
        partitions,
    }
}

/// The scan as a DataFusion table. `scan` receives the columns the optimised plan needs
/// (projection pushdown) and reads only those: a `stats count(*) by eventName` reads
/// `@timestamp` (for the time range) and the `eventName` column, nothing else.
///
/// Filters reach the scan through DataFusion's physical filter pushdown (the logical
/// `push_down_filter` rule is off, see `engine::session`): [`EventScanExec`] accepts them
/// as a pre-filter and reports them unsupported, so the plan's own filters still decide.
#[derive(Debug)]
pub struct EventTable {
    schema: SchemaRef,
    sources: Arc<Vec<ScanSource>>,
    request: ScanRequest,
    counters: Arc<ScanCounters>,
    cancel: Arc<AtomicBool>,
    partitions: usize,
}

/// The sum of `count` over the batches of row group `rg`, reading only the columns of
/// `mask`: a skipped row group's rows in the range (`@timestamp` alone) or its matches (the
/// cheap stage's columns).
fn count_row_group(
    file: &bytes::Bytes,
    reader_meta: &ArrowReaderMetadata,
    rg: usize,
    mask: ProjectionMask,
    req: &ScanRequest,
    count: impl Fn(&RecordBatch) -> DfResult<u64>,
) -> DfResult<u64> {
    let reader =
        ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), reader_meta.clone())
            .with_row_groups(vec![rg])
            .with_projection(mask)
            .with_batch_size(req.batch_rows.max(1))
            .build()
            .map_err(ext)?;
    let mut total = 0u64;
    for batch in reader {
        total += count(&batch.map_err(ext)?)?;
    }
    Ok(total)
}

/// The row groups a recount of `recordsMatched` reads ([`ScanCounters::recount_only`]).
fn recount_only(counters: &ScanCounters) -> Option<RowGroupSet> {
    counters.recount_only.lock().ok().and_then(|o| o.clone())
}

/// Largest `@timestamp` of a buffer batch (for ordering work), epoch ms.
fn batch_time_range(batch: &RecordBatch) -> (i64, i64) {
    match batch
        .column_by_name("@timestamp")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
    {
        Some(ts) => (
            arrow::compute::min(ts).unwrap_or(i64::MIN),
            arrow::compute::max(ts).unwrap_or(i64::MAX),
        ),
        None => (i64::MIN, i64::MAX),
    }
}

impl EventTable {
    fn exec(
        &self,
        projection: Option<&Vec<usize>>,
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let mut request = self.request.clone();
        // Only the projected paths are read or extracted.
        request
            .paths
            .retain(|p| schema.column_with_name(p).is_some());
        // (min, max, work) to order by time.
        let mut work: Vec<(i64, i64, Work)> = Vec::new();
        let only = recount_only(&self.counters);
        for (i, s) in self.sources.iter().enumerate() {
            let start_ms = request.start_ms.max(s.min_timestamp_ms);
            for seg in &s.segments {
                if seg.max_timestamp_ms < start_ms || seg.min_timestamp_ms > request.end_ms {
                    continue;
                }
                if only
                    .as_ref()
                    .is_some_and(|o| !o.iter().any(|(p, _)| *p == seg.path))
                {
                    continue;
                }
                work.push((
                    seg.min_timestamp_ms,
                    seg.max_timestamp_ms,
                    Work::Segment {
                        source: i,
                        segment: seg.clone(),
                    },
                ));
            }
            // the recount reads skipped row groups only: the buffer is never skipped
            for b in s.buffer.iter().filter(|_| only.is_none()) {
                let (min, max) = batch_time_range(b);
                work.push((
                    min,
                    max,
                    Work::Buffer {
                        source: i,
                        batch: b.clone(),
                    },
                ));
            }
        }
        if request.newest_first {
            work.sort_by_key(|w| std::cmp::Reverse(w.1));
        } else {
            work.sort_by_key(|w| w.0);
        }
        let eval_schema = Arc::new(Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let shared = Arc::new(ScanShared::new(
            schema.clone(),
            eval_schema,
            HashSet::new(),
            request,
            self.sources.clone(),
            self.counters.clone(),
            self.cancel.clone(),
        ));
        let n = self.partitions.max(1).min(work.len().max(1));
        let mut parts: Vec<Vec<Work>> = vec![Vec::new(); n];
        for (i, (_, _, w)) in work.into_iter().enumerate() {
            parts[i % n].push(w);
        }
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(n),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Arc::new(EventScanExec {
            shared,
            parts: Arc::new(parts),
            filters: Vec::new(),
            limit,
            props: Arc::new(props),
        }))
    }
}

impl TableProvider for EventTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    // Written out as `#[async_trait]` expands it (the trait is declared with async_trait).
    fn scan<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        _state: &'life1 dyn Session,
        projection: Option<&'life2 Vec<usize>>,
        _filters: &'life3 [Expr],
        limit: Option<usize>,
    ) -> Pin<Box<dyn Future<Output = DfResult<Arc<dyn ExecutionPlan>>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        let result = self.exec(projection, limit);
        Box::pin(async move { result })
    }
}

/// The leaf execution plan of the scan.
///
/// It accepts every filter DataFusion's physical filter pushdown offers (static filters in
/// the `Pre` phase, the dynamic top-N filter of a `SortExec` with a fetch in the `Post`
/// phase) and always answers "not pushed down", so the plan keeps its own `FilterExec`s and
/// correctness never depends on the scan. The scan uses the filters to drop rows early:
/// - per segment, filters whose columns are all cheap there (system columns, columns
///   promoted in that segment) run inside the Parquet reader as a `RowFilter`, so `@message` and the other columns are
///   decoded only for surviving rows (pages without any are skipped, the page index is
///   loaded);
/// - the other filters run after the `@message` prefilter and the one-parse extraction of
///   the missing paths, on the survivors of the first stage only;
/// - row groups whose `@timestamp` statistics cannot pass the dynamic filter are skipped,
///   which ends a top-N query once the newest N matches are known.
///
/// A filter that fails to evaluate on a batch (a runtime error the plan might never hit,
/// e.g. behind another filter) is ignored for that batch. Filters on columns the plan
/// computes for every row anyway (`parse`, `lookup`, `unnest` results) are not used.
#[derive(Debug)]
pub struct EventScanExec {
    shared: Arc<ScanShared>,
    parts: Arc<Vec<Vec<Work>>>,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    limit: Option<usize>,
    props: Arc<PlanProperties>,
}

impl DisplayAs for EventScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "EventScanExec: partitions={}, paths={:?}, pushdown={}",
            self.parts.len(),
            self.shared.request.paths,
            self.shared.request.pushdown
        )?;
        if !self.filters.is_empty() {
            let f2: Vec<String> = self.filters.iter().map(|e| e.to_string()).collect();
            write!(f, ", filters=[{}]", f2.join(", "))?;
        }
        if let Some(l) = self.limit {
            write!(f, ", limit={l}")?;
        }
        Ok(())
    }
}

/// The Arrow type of a path the scan hands out by dictionary
/// ([`EventScanExec::with_dictionary_output`]): a promoted column's Parquet dictionary
/// and its keys, as the reader decodes them.
pub(crate) fn dictionary_output_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

impl EventScanExec {
    /// The same scan handing out those of `paths` that are JSON paths of its output (not
    /// system fields) as [`dictionary_output_type`] arrays instead of string views; `None`
    /// when there are none. A segment
    /// that promoted the path gives its column chunk's dictionary and keys (the batches of
    /// one row group share the dictionary's buffers); a value extracted from `@message`
    /// (a segment that did not promote the path, the in-memory buffer) is packed into a
    /// dictionary of its batch. Only for a consumer that takes such arrays: the
    /// partial count of `stats count(*) by path…` ([`crate::count_by`]), which counts by
    /// dictionary key. Filters pushed into the scan still see string views.
    /// Whether `expr` is one of the filters pushed into this scan (as the same expression
    /// over the scan's output columns).
    pub(crate) fn has_filter(&self, expr: &Arc<dyn PhysicalExpr>) -> bool {
        self.filters.iter().any(|f| f == expr)
    }

    /// Asks the scan to count the matches of the row groups a top-N skips
    /// ([`ScanCounters::count_skipped_matches`]); only when its pushed filters are all the
    /// filters below the matched-rows counter.
    pub(crate) fn count_skipped_matches(&self) {
        self.shared
            .counters
            .count_skipped_matches
            .store(true, Ordering::Relaxed);
    }

    pub(crate) fn with_dictionary_output(&self, paths: &[String]) -> Option<EventScanExec> {
        let shared = &self.shared;
        let is_path = |p: &String| {
            shared.request.paths.contains(p)
                && shared
                    .schema
                    .field_with_name(p)
                    .is_ok_and(|f| f.data_type() == &DataType::Utf8View)
        };
        let paths: Vec<&String> = paths.iter().filter(|p| is_path(p)).collect();
        if paths.is_empty() {
            return None;
        }
        let fields: Vec<Field> = shared
            .schema
            .fields()
            .iter()
            .map(|f| {
                if paths.contains(&f.name()) {
                    Field::new(f.name(), dictionary_output_type(), true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let mut dictionary_output = shared.dictionary_output.clone();
        dictionary_output.extend(paths.into_iter().cloned());
        let new_shared = Arc::new(ScanShared::new(
            schema.clone(),
            shared.eval_schema.clone(),
            dictionary_output,
            shared.request.clone(),
            shared.sources.clone(),
            shared.counters.clone(),
            shared.cancel.clone(),
        ));
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            self.props.partitioning.clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Some(EventScanExec {
            shared: new_shared,
            parts: self.parts.clone(),
            filters: self.filters.clone(),
            limit: self.limit,
            props: Arc::new(props),
        })
    }
}

impl ExecutionPlan for EventScanExec {
    fn name(&self) -> &str {
        "EventScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        for e in &self.filters {
            if f(e)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "EventScanExec has no children".into(),
            ))
        }
    }

    fn fetch(&self) -> Option<usize> {
        self.limit
    }

    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> DfResult<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let offered: Vec<Arc<dyn PhysicalExpr>> = child_pushdown_result
            .parent_filters
            .iter()
            .map(|f| f.filter.clone())
            .collect();
        let answer = vec![PushedDown::No; offered.len()];
        if !self.shared.request.pushdown || offered.is_empty() {
            return Ok(FilterPushdownPropagation::with_parent_pushdown_result(
                answer,
            ));
        }
        let mut filters = self.filters.clone();
        for f in offered {
            if !recomputes_a_column(&f) && !filters.iter().any(|g| g == &f) {
                filters.push(f);
            }
        }
        let node = EventScanExec {
            shared: self.shared.clone(),
            parts: self.parts.clone(),
            filters,
            limit: self.limit,
            props: self.props.clone(),
        };
        Ok(
            FilterPushdownPropagation::with_parent_pushdown_result(answer)
                .with_updated_node(Arc::new(node) as Arc<dyn ExecutionPlan>),
        )
    }

    fn execute(
        &self,
        partition: usize,
        _ctx: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let work = self.parts.get(partition).cloned().ok_or_else(|| {
            DataFusionError::Internal(format!("EventScanExec has no partition {partition}"))
        })?;
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.shared.schema.clone(), 2);
        let tx = builder.tx();
        let shared = self.shared.clone();
        let filters: Vec<Conjunct> = self.filters.iter().map(Conjunct::new).collect();
        let limit = self.limit;
        builder.spawn_blocking(move || {
            let explicit = shared
                .request
                .prefilter
                .as_ref()
                .map(CompiledPrefilter::new);
            let implied = shared
                .request
                .implied_prefilter
                .as_ref()
                .map(CompiledPrefilter::new);
            let prefilters = Prefilters {
                explicit: explicit.as_ref(),
                implied: implied.as_ref(),
            };
            let mut remaining = limit.unwrap_or(usize::MAX);
            let mut emit = |batch: RecordBatch| -> DfResult<bool> {
                if shared.cancel.load(Ordering::Relaxed) {
                    return Err(DataFusionError::External(Box::new(
                        crate::error::QueryError::Cancelled,
                    )));
                }
                if batch.num_rows() == 0 {
                    return Ok(true);
                }
                let batch = if batch.num_rows() > remaining {
                    batch.slice(0, remaining)
                } else {
                    batch
                };
                remaining -= batch.num_rows();
                Ok(tx.blocking_send(Ok(batch)).is_ok() && remaining > 0)
            };
            for item in work {
                let keep_going = match item {
                    Work::Segment { source, segment } => {
                        read_segment(&shared, source, &segment, &prefilters, &filters, &mut emit)?
                    }
                    Work::Buffer { source, batch } => {
                        read_buffer(&shared, source, &batch, &prefilters, &filters, &mut emit)?
                    }
                };
                if !keep_going {
                    // the rest of the range is not read: matches the counter never sees
                    shared.counters.stopped_early.store(true, Ordering::Relaxed);
                    break;
                }
            }
            Ok(())
        });
        Ok(yield_per_batch(builder.build()))
    }
}

/// The scan's batches, with a yield to the tokio scheduler before each.
///
/// The scan reads in a blocking thread and hands batches over a channel that is almost
/// always ready, so the task that takes them (a `RepartitionExec` input, an aggregate)
/// would run batch after batch without returning to the scheduler, up to tokio's
/// cooperative budget of 128 polls: with a costly expression per row (QA, session 17:
/// `stats count(*) by strlen(m)` over six nested `replace` of `@message`), that was seconds
/// to tens of seconds during which, on a machine with as many busy workers as cores, no
/// timer (the query timeout), signal (Ctrl-C) or socket read (a client that went away)
/// got to run. One yield per batch (a few thousand rows) costs a reschedule.
fn yield_per_batch(inner: SendableRecordBatchStream) -> SendableRecordBatchStream {
    let schema = inner.schema();
    let batches = futures::stream::unfold(inner, |mut inner| async move {
        tokio::task::yield_now().await;
        futures::StreamExt::next(&mut inner)
            .await
            .map(|batch| (batch, inner))
    });
    Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, batches))
}

/// Whether a pushed filter calls a per-query function that computes a column of the plan
/// (`parse`, `lookup`, `unnest`): the plan computes that column for every row before
/// filtering anyway, so pre-filtering with it in the scan would only run it twice.
fn recomputes_a_column(expr: &Arc<dyn PhysicalExpr>) -> bool {
    let mut found = false;
    let _ = expr.apply(|e| {
        if let Some(f) = e.downcast_ref::<ScalarFunctionExpr>() {
            let name = f.name();
            if ["ow_parse", "ow_lookup", "ow_elements"]
                .iter()
                .any(|p| name.starts_with(p))
            {
                found = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn ext<E: std::error::Error + Send + Sync + 'static>(e: E) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// A pushed filter with the scan columns it reads.
#[derive(Debug, Clone)]
struct Conjunct {
    expr: Arc<dyn PhysicalExpr>,
    columns: Vec<String>,
    /// A dynamic filter (its expression tightens while the query runs).
    dynamic: bool,
}

impl Conjunct {
    fn new(expr: &Arc<dyn PhysicalExpr>) -> Self {
        let mut columns: Vec<String> = collect_columns(expr)
            .into_iter()
            .map(|c| c.name().to_string())
            .collect();
        columns.sort();
        columns.dedup();
        Conjunct {
            expr: expr.clone(),
            columns,
            dynamic: snapshot_generation(expr) != 0,
        }
    }
}

/// Whether a scan column is available without touching `@message` in a batch whose
/// promoted columns are `promoted`.
fn is_cheap(name: &str, promoted: &HashSet<String>) -> bool {
    matches!(
        name,
        "@timestamp" | "@ingestionTime" | "@logStream" | "@log" | SEQ | GROUP
    ) || promoted.contains(name)
}

/// Evaluates `conjuncts` on `batch` (in `eval_schema`) and returns the rows all of them keep
/// (`None`: no conjunct could be evaluated, keep everything). A conjunct that errors or
/// does not produce booleans is skipped (see [`EventScanExec`]).
fn eval_conjuncts(conjuncts: &[&Conjunct], batch: &RecordBatch) -> Option<BooleanArray> {
    let n = batch.num_rows();
    let mut acc: Option<BooleanArray> = None;
    for c in conjuncts {
        let Ok(v) = c.expr.evaluate(batch).and_then(|v| v.into_array(n)) else {
            continue;
        };
        let Some(b) = v.as_any().downcast_ref::<BooleanArray>() else {
            continue;
        };
        let b = if b.null_count() > 0 {
            prep_null_mask_filter(b)
        } else {
            b.clone()
        };
        acc = Some(match acc {
            None => b,
            Some(a) => match arrow::compute::and(&a, &b) {
                Ok(x) => x,
                Err(_) => a,
            },
        });
    }
    acc
}

/// One column of the scan schema for the rows of a stored `batch` (CONTRACTS.md columns),
/// or `None` when `batch` does not provide it. `extracted` holds paths extracted from
/// `@message` for the same rows.
fn scan_column(
    shared: &ScanShared,
    source: usize,
    batch: &RecordBatch,
    extracted: &HashMap<String, ArrayRef>,
    name: &str,
) -> DfResult<Option<ArrayRef>> {
    let n = batch.num_rows();
    Ok(match name {
        "@timestamp" | "@ingestionTime" => match batch.column_by_name(name) {
            Some(_) => {
                let v: &Int64Array = column(batch, name)?;
                Some(Arc::new(TimestampMillisecondArray::new(
                    v.values().clone(),
                    v.nulls().cloned(),
                )))
            }
            None => None,
        },
        "@log" => Some(shared.constant_column(source, 0, n)),
        GROUP => Some(shared.constant_column(source, 1, n)),
        "@logStream" | SEQ | "@message" => batch.column_by_name(name).cloned(),
        p => match extracted.get(p) {
            Some(c) => Some(c.clone()),
            None => match batch.column_by_name(p) {
                Some(c) if c.data_type() == &DataType::Utf8View => Some(c.clone()),
                Some(c) => Some(arrow::compute::cast(c, &DataType::Utf8View)?),
                None => None,
            },
        },
    })
}

/// Path `name` of a stored `batch` as a [`dictionary_output_type`] array: the batch's
/// dictionary column as read, or the path's string views (a promoted column not read as a
/// dictionary, or values `extracted` from `@message`) packed into one; `None` when the batch
/// has neither.
fn dictionary_column(
    batch: &RecordBatch,
    extracted: &HashMap<String, ArrayRef>,
    name: &str,
) -> DfResult<Option<ArrayRef>> {
    let column = match extracted.get(name) {
        Some(c) => c,
        None => match batch.column_by_name(name) {
            Some(c) => c,
            None => return Ok(None),
        },
    };
    let want = dictionary_output_type();
    Ok(Some(if column.data_type() == &want {
        column.clone()
    } else {
        arrow::compute::cast(column, &want)?
    }))
}

/// A batch in the scan's evaluation schema holding the columns `needed` (all-null
/// placeholders for the others).
fn eval_batch(
    shared: &ScanShared,
    source: usize,
    batch: &RecordBatch,
    extracted: &HashMap<String, ArrayRef>,
    needed: &HashSet<&str>,
) -> DfResult<RecordBatch> {
    let n = batch.num_rows();
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(shared.eval_schema.fields().len());
    for (index, field) in shared.eval_schema.fields().iter().enumerate() {
        let name = field.name().as_str();
        let col = if needed.contains(name) {
            scan_column(shared, source, batch, extracted, name)?
        } else {
            None
        };
        cols.push(col.unwrap_or_else(|| shared.null_column(index, n)));
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(n));
    Ok(RecordBatch::try_new_with_options(
        shared.eval_schema.clone(),
        cols,
        &opts,
    )?)
}

/// Stage one of the read: the time range (inclusive, spec §1) and the conjuncts whose
/// columns are cheap, on stored columns. Counts `records_scanned` (and, for buffer batches,
/// `bytes_scanned`).
struct CheapStage {
    shared: Arc<ScanShared>,
    source: usize,
    conjuncts: Vec<Conjunct>,
    /// Whether to count the in-range `@message` bytes (buffer batches).
    count_bytes: bool,
    /// Whether to count the in-range rows as scanned (not when counting the matches of a
    /// skipped row group, already counted whole).
    count_scanned: bool,
    /// Per conjunct, the last dictionary it was evaluated on and the result for each of
    /// its values, plus one for a missing value last. The batches of a row group share
    /// their column's dictionary, so a one-column filter runs once per distinct value of
    /// the row group instead of once per row (holding the values keeps their address from
    /// being reused while it serves as the key).
    by_dictionary: std::sync::Mutex<Vec<Option<DictionaryVerdicts>>>,
}

/// A dictionary's values and a conjunct's result for each (see `CheapStage::by_dictionary`).
type DictionaryVerdicts = (ArrayRef, Vec<bool>);

impl CheapStage {
    fn eval(&self, batch: &RecordBatch) -> DfResult<BooleanArray> {
        let start_ms = self.shared.start_ms(self.source);
        let end_ms = self.shared.request.end_ms;
        // A batch without `@timestamp` comes from a row group wholly inside the range
        // (`read_segment` leaves the column out only then).
        let in_range: BooleanArray = match batch.column_by_name("@timestamp") {
            Some(_) => column::<Int64Array>(batch, "@timestamp")?
                .values()
                .iter()
                .map(|&t| Some(t >= start_ms && t <= end_ms))
                .collect(),
            None => BooleanArray::new(
                arrow::buffer::BooleanBuffer::new_set(batch.num_rows()),
                None,
            ),
        };
        let scanned = in_range.true_count() as u64;
        let counters = &self.shared.counters;
        if self.count_scanned {
            counters
                .records_scanned
                .fetch_add(scanned, Ordering::Relaxed);
        }
        if self.count_bytes {
            if let Some(m) = batch
                .column_by_name("@message")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            {
                let offsets = m.value_offsets();
                let bytes: u64 = (0..m.len())
                    .filter(|&i| in_range.value(i))
                    .map(|i| (offsets[i + 1] - offsets[i]) as u64)
                    .sum();
                counters.bytes_scanned.fetch_add(bytes, Ordering::Relaxed);
            }
        }
        if scanned == 0 || self.conjuncts.is_empty() {
            return Ok(in_range);
        }
        let mut keep = in_range;
        let mut rest: Vec<&Conjunct> = Vec::new();
        for (k, c) in self.conjuncts.iter().enumerate() {
            match self.eval_on_dictionary(k, c, batch)? {
                Some(b) => keep = arrow::compute::and(&keep, &b)?,
                None => rest.push(c),
            }
        }
        if rest.is_empty() {
            return Ok(keep);
        }
        let needed: HashSet<&str> = rest
            .iter()
            .flat_map(|c| c.columns.iter().map(String::as_str))
            .collect();
        let eb = eval_batch(&self.shared, self.source, batch, &HashMap::new(), &needed)?;
        Ok(match eval_conjuncts(&rest, &eb) {
            Some(b) => arrow::compute::and(&keep, &b)?,
            None => keep,
        })
    }

    /// Conjunct `k` (`c`) on `batch` through its column's dictionary: `None` when it has
    /// not exactly one column or the batch does not hold that column as a dictionary; a
    /// result row is true where the conjunct is true (null counts as false, as in
    /// [`eval_conjuncts`], and a conjunct that cannot be evaluated keeps every row).
    fn eval_on_dictionary(
        &self,
        k: usize,
        c: &Conjunct,
        batch: &RecordBatch,
    ) -> DfResult<Option<BooleanArray>> {
        let [name] = c.columns.as_slice() else {
            return Ok(None);
        };
        let Some(dict) = batch
            .column_by_name(name)
            .and_then(|a| a.as_dictionary_opt::<arrow::datatypes::Int32Type>())
        else {
            return Ok(None);
        };
        let Some(index) = self.shared.eval_schema.index_of(name).ok() else {
            return Ok(None);
        };
        let values = dict.values();
        let mut cache = self
            .by_dictionary
            .lock()
            .map_err(|_| DataFusionError::Internal("dictionary cache poisoned".into()))?;
        if cache.len() < self.conjuncts.len() {
            cache.resize(self.conjuncts.len(), None);
        }
        // The reader makes a new values array for every batch, over the same buffers.
        let fresh = !matches!(&cache[k], Some((v, _)) if same_values(v, values));
        if fresh {
            // every dictionary value once, then a missing value
            let d = values.len();
            let keys = arrow::array::Int32Array::from_iter(
                (0..d as i32).map(Some).chain(std::iter::once(None)),
            );
            let all = arrow::array::DictionaryArray::<arrow::datatypes::Int32Type>::try_new(
                keys,
                values.clone(),
            )?;
            let column = arrow::compute::cast(&all, &DataType::Utf8View)?;
            let mut cols: Vec<ArrayRef> = (0..self.shared.eval_schema.fields().len())
                .map(|i| self.shared.null_column(i, d + 1))
                .collect();
            cols[index] = column;
            let opts = RecordBatchOptions::new().with_row_count(Some(d + 1));
            let eb =
                RecordBatch::try_new_with_options(self.shared.eval_schema.clone(), cols, &opts)?;
            let result: Vec<bool> = match eval_conjuncts(&[c], &eb) {
                // no nulls: `eval_conjuncts` maps null to false
                Some(b) => b.values().iter().collect(),
                None => vec![true; d + 1],
            };
            cache[k] = Some((values.clone(), result));
        }
        let Some((_, by_value)) = &cache[k] else {
            return Ok(None);
        };
        let missing = by_value.len() - 1;
        let keys = dict.keys();
        let key_values = keys.values();
        // a negative key (never written) reads as the missing value
        let mut out = arrow::buffer::BooleanBuffer::collect_bool(key_values.len(), |i| {
            by_value[(key_values[i] as u32 as usize).min(missing)]
        });
        // rows whose key is null hold a missing value
        if let Some(nulls) = keys.nulls().filter(|n| n.null_count() > 0) {
            out = if by_value[missing] {
                &out | &!nulls.inner()
            } else {
                &out & nulls.inner()
            };
        }
        Ok(Some(BooleanArray::new(out, None)))
    }
}

/// Whether two arrays are the same values: the same length and offset over the same
/// buffers (by address; the caller holds `a`, so its buffers' addresses are not reused).
fn same_values(a: &ArrayRef, b: &ArrayRef) -> bool {
    if Arc::ptr_eq(a, b) {
        return true;
    }
    let (a, b) = (a.to_data(), b.to_data());
    a.len() == b.len()
        && a.offset() == b.offset()
        && a.data_type() == b.data_type()
        && a.nulls().map(|n| n.buffer().as_ptr()) == b.nulls().map(|n| n.buffer().as_ptr())
        && a.buffers().len() == b.buffers().len()
        && a.buffers()
            .iter()
            .zip(b.buffers())
            .all(|(x, y)| x.as_ptr() == y.as_ptr() && x.len() == y.len())
}

/// Extracts `paths` from the `@message` of every row of `batch` (one JSON parse per row),
/// one `Utf8View` array per path. Without a `@message` column every value is null.
fn extract(shared: &ScanShared, batch: &RecordBatch, paths: &[&str]) -> Vec<ArrayRef> {
    let n = batch.num_rows();
    let message = batch
        .column_by_name("@message")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>());
    let mut builders: Vec<StringViewBuilder> = paths
        .iter()
        .map(|_| StringViewBuilder::with_capacity(n))
        .collect();
    match message {
        Some(m) => {
            let extractor = Extractor::new(paths);
            let mut values = Vec::with_capacity(paths.len());
            for i in 0..n {
                extractor.extract_into(m.value(i), &mut values);
                for (b, v) in builders.iter_mut().zip(values.iter()) {
                    b.append_option(v.as_deref());
                }
            }
            shared
                .counters
                .rows_parsed
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        None => builders.iter_mut().for_each(|b| {
            for _ in 0..n {
                b.append_null()
            }
        }),
    }
    builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect()
}

/// Filters `batch` and the extracted columns with `keep` (unless it keeps everything).
fn filter_all(
    batch: RecordBatch,
    extracted: HashMap<String, ArrayRef>,
    keep: &BooleanArray,
) -> DfResult<(RecordBatch, HashMap<String, ArrayRef>)> {
    if keep.true_count() == batch.num_rows() {
        return Ok((batch, extracted));
    }
    let batch = filter_record_batch(&batch, keep)?;
    let mut out = HashMap::with_capacity(extracted.len());
    for (k, v) in extracted {
        out.insert(k, arrow::compute::filter(&v, keep)?);
    }
    Ok((batch, out))
}

/// Stage two of the read, on rows that passed stage one (`batch` holds stored columns):
/// the `@message` prefilter, the extraction of the paths the segment lacks (one parse per
/// row), the conjuncts that need `@message` or those paths, and the output batch in the
/// scan schema. `promoted` names the paths present as columns in `batch`.
fn finish_batch(
    shared: &ScanShared,
    source: usize,
    batch: RecordBatch,
    promoted: &HashSet<String>,
    costly: &[&Conjunct],
    prefilter: Option<&Prefilters<'_>>,
) -> DfResult<RecordBatch> {
    let req = &shared.request;
    let mut batch = batch;
    // Substring prefilter on the raw message.
    if let Some(p) = prefilter {
        if let Some(m) = batch
            .column_by_name("@message")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        {
            let keep: BooleanArray = (0..m.len())
                .map(|i| Some(p.matches(m.value(i).as_bytes())))
                .collect();
            if keep.true_count() != batch.num_rows() {
                batch = filter_record_batch(&batch, &keep)?;
            }
        }
    }
    // One parse per row for every path this batch lacks (the conjuncts' and the output's):
    // the extractor parses the whole message whatever the number of paths, so a second
    // pass for the survivors would cost more than extracting unused values.
    let mut extracted: HashMap<String, ArrayRef> = HashMap::new();
    let missing: Vec<&str> = req
        .paths
        .iter()
        .map(String::as_str)
        .filter(|p| !promoted.contains(*p))
        .collect();
    if !missing.is_empty() {
        for (p, a) in missing.iter().zip(extract(shared, &batch, &missing)) {
            extracted.insert(p.to_string(), a);
        }
    }
    if !costly.is_empty() && batch.num_rows() > 0 {
        let needed: HashSet<&str> = costly
            .iter()
            .flat_map(|c| c.columns.iter().map(String::as_str))
            .collect();
        let eb = eval_batch(shared, source, &batch, &extracted, &needed)?;
        if let Some(keep) = eval_conjuncts(costly, &eb) {
            (batch, extracted) = filter_all(batch, extracted, &keep)?;
        }
    }
    let n = batch.num_rows();
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(shared.schema.fields().len());
    for field in shared.schema.fields() {
        let name = field.name().as_str();
        let column = if shared.dictionary_output.contains(name) {
            dictionary_column(&batch, &extracted, name)?
        } else {
            scan_column(shared, source, &batch, &extracted, name)?
        };
        let col = match column {
            Some(c) => c,
            None if field.is_nullable() => new_null_array(field.data_type(), n),
            None => {
                return Err(DataFusionError::Execution(format!(
                    "event batch lacks column {name}"
                )))
            }
        };
        cols.push(col);
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(n));
    Ok(RecordBatch::try_new_with_options(
        shared.schema.clone(),
        cols,
        &opts,
    )?)
}

/// Splits the static pushed conjuncts into those cheap on a batch with `promoted` columns
/// and the others (`@message` or paths to extract).
fn split_conjuncts<'c>(
    conjuncts: &'c [Conjunct],
    promoted: &HashSet<String>,
) -> (Vec<Conjunct>, Vec<&'c Conjunct>) {
    let mut cheap = Vec::new();
    let mut costly = Vec::new();
    for c in conjuncts {
        // Dynamic filters only prune row groups (see `DynamicPruner`): rows of a block that
        // is read all reach the plan, so `recordsMatched` stays exact unless whole row
        // groups are skipped.
        if c.dynamic {
            continue;
        }
        if c.columns.iter().all(|n| is_cheap(n, promoted)) {
            cheap.push(c.clone());
        } else {
            costly.push(c);
        }
    }
    (cheap, costly)
}

/// Reads one in-memory buffer batch with the same staged evaluation as segments.
fn read_buffer(
    shared: &Arc<ScanShared>,
    source: usize,
    batch: &RecordBatch,
    prefilters: &Prefilters<'_>,
    conjuncts: &[Conjunct],
    emit: &mut dyn FnMut(RecordBatch) -> DfResult<bool>,
) -> DfResult<bool> {
    let none = HashSet::new();
    let (cheap, costly) = split_conjuncts(conjuncts, &none);
    let stage = CheapStage {
        shared: shared.clone(),
        source,
        conjuncts: cheap,
        count_bytes: true,
        count_scanned: true,
        by_dictionary: Default::default(),
    };
    let keep = stage.eval(batch)?;
    let batch = if keep.true_count() == batch.num_rows() {
        batch.clone()
    } else {
        filter_record_batch(batch, &keep)?
    };
    let any = prefilters.explicit.is_some() || prefilters.implied.is_some();
    let out = finish_batch(
        shared,
        source,
        batch,
        &none,
        &costly,
        any.then_some(prefilters),
    )?;
    emit(out)
}

/// `@timestamp` statistics of one row group, for pruning with the dynamic filter.
struct RowGroupTimes {
    min_ms: i64,
    max_ms: i64,
    rows: u64,
}

impl PruningStatistics for RowGroupTimes {
    fn min_values(&self, column: &datafusion::common::Column) -> Option<ArrayRef> {
        (column.name() == "@timestamp")
            .then(|| Arc::new(TimestampMillisecondArray::from(vec![self.min_ms])) as ArrayRef)
    }
    fn max_values(&self, column: &datafusion::common::Column) -> Option<ArrayRef> {
        (column.name() == "@timestamp")
            .then(|| Arc::new(TimestampMillisecondArray::from(vec![self.max_ms])) as ArrayRef)
    }
    fn num_containers(&self) -> usize {
        1
    }
    fn null_counts(&self, column: &datafusion::common::Column) -> Option<ArrayRef> {
        (column.name() == "@timestamp").then(|| Arc::new(UInt64Array::from(vec![0u64])) as ArrayRef)
    }
    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from(vec![self.rows])))
    }
    fn contained(
        &self,
        _column: &datafusion::common::Column,
        _values: &HashSet<datafusion::common::ScalarValue>,
    ) -> Option<BooleanArray> {
        None
    }
}

/// Row-group pruning with the dynamic filters (a top-N's threshold on `@timestamp`).
/// The pruning predicates are rebuilt whenever a dynamic filter changed.
struct DynamicPruner {
    filters: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    generation: Option<u64>,
    predicates: Vec<Arc<PruningPredicate>>,
}

impl DynamicPruner {
    fn new(conjuncts: &[Conjunct], schema: SchemaRef) -> Option<Self> {
        let filters: Vec<Arc<dyn PhysicalExpr>> = conjuncts
            .iter()
            .filter(|c| c.dynamic)
            .map(|c| c.expr.clone())
            .collect();
        (!filters.is_empty()).then_some(DynamicPruner {
            filters,
            schema,
            generation: None,
            predicates: Vec::new(),
        })
    }

    /// Whether a row group with these statistics may hold rows that pass.
    fn may_match(&mut self, times: &RowGroupTimes) -> bool {
        let generation = self
            .filters
            .iter()
            .fold(0u64, |g, f| g.wrapping_add(snapshot_generation(f)));
        if self.generation != Some(generation) {
            self.generation = Some(generation);
            self.predicates = self
                .filters
                .iter()
                .filter_map(|f| snapshot_physical_expr(f.clone()).ok())
                .filter_map(|e| {
                    PruningPredicateBuilder::new()
                        .with_file_schema(self.schema.clone())
                        .build(e)
                })
                .collect();
        }
        self.predicates.iter().all(|p| match p.prune(times) {
            Ok(v) => v.first().copied().unwrap_or(true),
            Err(_) => true,
        })
    }
}

/// The row groups of a segment to consider, in reading order: those whose `@timestamp`
/// statistics overlap the query range (from `start_ms`, the start clipped to retention), newest first when [`ScanRequest::newest_first`].
/// With [`crate::skip::Candidates::selection`] in `read_segment`, the one place deciding
/// which row groups and rows of a segment are read.
fn select_row_groups(
    req: &ScanRequest,
    start_ms: i64,
    meta: &ParquetMetaData,
    ts_leaf: Option<usize>,
) -> Vec<(usize, RowGroupTimes)> {
    let mut out = Vec::new();
    for (i, rg) in meta.row_groups().iter().enumerate() {
        let (min, max) = match ts_leaf.map(|l| rg.column(l).statistics()) {
            Some(Some(ParquetStatistics::Int64(s))) => match (s.min_opt(), s.max_opt()) {
                (Some(min), Some(max)) => (*min, *max),
                _ => (i64::MIN, i64::MAX),
            },
            _ => (i64::MIN, i64::MAX),
        };
        if max >= start_ms && min <= req.end_ms {
            out.push((
                i,
                RowGroupTimes {
                    min_ms: min,
                    max_ms: max,
                    rows: rg.num_rows().max(0) as u64,
                },
            ));
        }
    }
    if req.newest_first {
        out.sort_by_key(|(i, t)| (std::cmp::Reverse(t.max_ms), std::cmp::Reverse(*i)));
    } else {
        out.sort_by_key(|(i, t)| (t.min_ms, *i));
    }
    out
}

/// A segment file mapped read-only into memory, as `Bytes` the Parquet reader slices: pages
/// are read from the page cache without a `read` copy into fresh buffers (measured: those
/// copies and the zeroing of the new buffers were a quarter of the needle query's CPU).
fn map_segment(file: &File) -> std::io::Result<bytes::Bytes> {
    // SAFETY: segment files are immutable once written (written whole, fsynced, then named
    // by the manifest) and are only ever deleted, never truncated or rewritten in place
    // (ARCHITECTURE.md invariants); unlinking a file does not disturb an existing mapping.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(file)? };
    Ok(bytes::Bytes::from_owner(map))
}

/// The Arrow schema a segment is read with, from its Parquet schema alone: the core columns
/// as [`ow_storage::schema::core_schema`] has them, every other (promoted) column a nullable
/// string read as `Utf8View` (segment layout: `ow_storage::schema`). Deriving it from the
/// footer's embedded Arrow schema decoded that IPC message and converted every segment's
/// schema twice (an empty query over 18 segments: 35.2 M instructions then, 32.6 M now). A file whose columns differ from
/// this layout fails the reader's schema check with an error, as a corrupt segment should.
///
/// A promoted column in `dictionary` (the column of a one-column pushed filter) is read as
/// `Dictionary(Int32, Utf8)` instead: the cheap stage then evaluates the filter once per
/// dictionary value ([`CheapStage`]), and [`scan_column`] casts it to views of the
/// dictionary's values for the plan.
fn segment_schema(parquet: &SchemaDescriptor, dictionary: &HashSet<String>) -> SchemaRef {
    let core = ow_storage::schema::core_schema();
    let fields: Vec<Field> = parquet
        .root_schema()
        .get_fields()
        .iter()
        // `column_with_name`: a miss (every promoted column) must not format an error
        .map(|c| match core.column_with_name(c.name()) {
            Some((_, f)) => f.clone(),
            None if dictionary.contains(c.name()) => Field::new(
                c.name(),
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            None => Field::new(c.name(), DataType::Utf8View, true),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Reads one segment: row groups in the time range (newest first for a top-N), the
/// dynamic filter's row-group pruning, the cheap conjuncts inside the Parquet reader, then
/// [`finish_batch`]. Returns false when the consumer went away.
fn read_segment(
    shared: &Arc<ScanShared>,
    source: usize,
    segment: &ScanSegment,
    prefilters: &Prefilters<'_>,
    conjuncts: &[Conjunct],
    emit: &mut dyn FnMut(RecordBatch) -> DfResult<bool>,
) -> DfResult<bool> {
    let req = &shared.request;
    // Columns of one-column filters: read as dictionaries (see `segment_schema`).
    let mut dictionary: Vec<String> = conjuncts
        .iter()
        .filter(|c| !c.dynamic && c.columns.len() == 1)
        .filter(|c| !ow_storage::schema::is_core_column(&c.columns[0]))
        .map(|c| c.columns[0].clone())
        .chain(shared.dictionary_output.iter().cloned())
        .collect();
    dictionary.sort_unstable();
    dictionary.dedup();
    let (file, reader_meta) = open_segment(segment, &dictionary)?;
    let arrow_schema = reader_meta.schema().clone();
    let parquet_schema = reader_meta.parquet_schema();
    let meta = reader_meta.metadata().clone();
    // `column_with_name`, not `index_of`: a miss (a path this segment did not promote) makes
    // `index_of` format an error listing every column, a tenth of an empty query's work
    let has = |name: &str| arrow_schema.column_with_name(name).map(|(i, _)| i);
    // Which paths have a promoted column in this file.
    let promoted: HashSet<String> = req
        .paths
        .iter()
        .filter(|p| has(p).is_some())
        .cloned()
        .collect();
    let missing = req.paths.iter().any(|p| !promoted.contains(p));
    // @message is read when the query or the extraction needs it, or for an explicit
    // `@message like` prefilter; the stronger implied prefilter only rides along when the
    // column is read anyway.
    let wanted = |name: &str| shared.schema.column_with_name(name).is_some();
    let (cheap, costly) = split_conjuncts(conjuncts, &promoted);
    let costly_needs_message = !costly.is_empty();
    let message_needed = wanted("@message") || missing || costly_needs_message;
    let read_message = message_needed || prefilters.explicit.is_some();
    let active = Prefilters {
        explicit: prefilters.explicit,
        implied: if message_needed {
            prefilters.implied
        } else {
            None
        },
    };
    let prefilter = (active.explicit.is_some() || active.implied.is_some()).then_some(&active);

    let root = |name: &str| -> DfResult<usize> {
        has(name).ok_or_else(|| {
            DataFusionError::Execution(format!(
                "segment {} lacks column {name}",
                segment.path.display()
            ))
        })
    };
    // Output columns. `@timestamp` only when the plan uses it (or nothing else is read):
    // the time test reads it in the cheap stage, and a row group wholly inside the range
    // needs no time test (`stats count(*) by eventSource, eventName` decoded and
    // decompressed 685,877 timestamps it never used: 14 % of its instructions).
    let ts_root = root("@timestamp")?;
    let mut roots: Vec<usize> = Vec::new();
    for name in ["@ingestionTime", "@logStream", SEQ] {
        if wanted(name) {
            roots.push(root(name)?);
        }
    }
    if read_message {
        roots.push(root("@message")?);
    }
    roots.extend(promoted.iter().filter_map(|p| has(p)));
    if wanted("@timestamp") || roots.is_empty() {
        roots.push(ts_root);
    }
    roots.sort_unstable();
    roots.dedup();
    // Columns of the cheap stage: `@timestamp` is added for row groups that need the time
    // test (see the loop below).
    let mut filter_roots: Vec<usize> = Vec::new();
    for c in &cheap {
        for name in &c.columns {
            if matches!(name.as_str(), "@log" | GROUP) {
                continue;
            }
            filter_roots.push(root(name)?);
        }
    }
    filter_roots.sort_unstable();
    filter_roots.dedup();

    let leaf = |name: &str| {
        parquet_schema
            .columns()
            .iter()
            .position(|c| c.path().string() == name)
    };
    let ts_leaf = leaf("@timestamp");
    let msg_leaf = leaf("@message");
    let start_ms = shared.start_ms(source);
    let mut row_groups = select_row_groups(req, start_ms, &meta, ts_leaf);
    if let Some(only) = recount_only(&shared.counters) {
        row_groups.retain(|(rg, _)| only.contains(&(segment.path.clone(), *rg)));
    }
    if row_groups.is_empty() {
        return Ok(true);
    }
    let mask = ProjectionMask::roots(parquet_schema, roots.iter().copied());
    let mut timed_roots = filter_roots.clone();
    timed_roots.push(ts_root);
    timed_roots.sort_unstable();
    timed_roots.dedup();
    // the cheap stage's columns with `@timestamp` (a row group crossing the range's ends)
    // and without it (one inside the range)
    let timed_mask = ProjectionMask::roots(parquet_schema, timed_roots.iter().copied());
    let untimed_mask = ProjectionMask::roots(parquet_schema, filter_roots.iter().copied());
    let stage = Arc::new(CheapStage {
        shared: shared.clone(),
        source,
        conjuncts: cheap,
        count_bytes: false,
        count_scanned: true,
        by_dictionary: Default::default(),
    });
    let mut pruner = DynamicPruner::new(conjuncts, shared.eval_schema.clone());
    // the cheap stage without counting rows as scanned, for a row group partly outside the
    // range read in blocks (its in-range rows are counted whole first)
    let quiet = Arc::new(CheapStage {
        shared: shared.clone(),
        source,
        conjuncts: stage.conjuncts.clone(),
        count_bytes: false,
        count_scanned: false,
        by_dictionary: Default::default(),
    });
    let ts_mask = ProjectionMask::roots(parquet_schema, [ts_root]);
    // `recordsScanned` of a row group not read whole: its rows inside the range (QA, session
    // 19: a skipped row group half outside `--start` counted all its rows, and a different
    // figure whenever the top-N skipped it)
    let rows_in_range = |rg: usize, times: &RowGroupTimes| -> DfResult<u64> {
        if times.min_ms >= start_ms && times.max_ms <= req.end_ms {
            return Ok(times.rows);
        }
        count_row_group(&file, &reader_meta, rg, ts_mask.clone(), req, |batch| {
            let ts = column::<Int64Array>(batch, "@timestamp")?;
            Ok(ts
                .values()
                .iter()
                .filter(|&&t| t >= start_ms && t <= req.end_ms)
                .count() as u64)
        })
    };
    // A plan that reads no column and filters nothing (`stats count(*)`): rows without
    // columns. Decoding `@timestamp` to count a row group's rows was about 14 ms of a
    // 17 ms `stats count(*)` over the 1 GB benchmark in a running server.
    let count_only = shared.schema.fields().is_empty()
        && conjuncts.is_empty()
        && prefilter.is_none()
        && !read_message;
    // Blocks the n-gram index rules out (explicit `@message like` prefilter only).
    let candidates = crate::skip::Candidates::load(&segment.path, req.prefilter.as_ref());
    let counters = &shared.counters;
    for (rg, times) in row_groups {
        let rg_meta = meta.row_group(rg);
        if let Some(l) = msg_leaf {
            let c = rg_meta.column(l);
            // Segments since 2026-11-30 keep no `@message` statistics: its pages' unencoded
            // sizes are in the offset index.
            let pages = meta
                .offset_index()
                .and_then(|o| o.get(rg)?.get(l)?.unencoded_byte_array_data_bytes())
                .map(|p| p.iter().map(|&b| b.max(0) as u64).sum::<u64>());
            let bytes = match (c.unencoded_byte_array_data_bytes(), pages) {
                (Some(b), _) => b.max(0) as u64,
                (None, Some(b)) => b,
                // The uncompressed chunk size minus the 4-byte length prefix of each value.
                (None, None) => {
                    (c.uncompressed_size().max(0) as u64).saturating_sub(4 * times.rows)
                }
            };
            counters.bytes_scanned.fetch_add(bytes, Ordering::Relaxed);
        }
        if let Some(p) = pruner.as_mut() {
            if !p.may_match(&times) {
                if counters.count_skipped_matches.load(Ordering::Relaxed) && costly.is_empty() {
                    // the cheap stage counts the in-range rows as scanned, and the matches
                    let inside = times.min_ms >= start_ms && times.max_ms <= req.end_ms;
                    let mask = if inside {
                        untimed_mask.clone()
                    } else {
                        timed_mask.clone()
                    };
                    let matches = count_row_group(&file, &reader_meta, rg, mask, req, |b| {
                        Ok(stage.eval(b)?.true_count() as u64)
                    })?;
                    counters
                        .matches_in_skipped
                        .fetch_add(matches, Ordering::Relaxed);
                } else {
                    if let Ok(mut skipped) = counters.skipped_by_top_n.lock() {
                        skipped.push((segment.path.clone(), rg));
                    }
                    counters
                        .records_scanned
                        .fetch_add(rows_in_range(rg, &times)?, Ordering::Relaxed);
                }
                counters.row_groups_skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        }
        // Rows of this row group to read: the n-gram index's candidate blocks.
        let selection = candidates
            .as_ref()
            .and_then(|c| c.selection(&meta, &[rg], counters));
        let selected = selection
            .as_ref()
            .map_or(times.rows, |s| s.row_count() as u64);
        if selected == 0 {
            counters.row_groups_skipped.fetch_add(1, Ordering::Relaxed);
            counters
                .records_scanned
                .fetch_add(rows_in_range(rg, &times)?, Ordering::Relaxed);
            continue;
        }
        counters.row_groups_read.fetch_add(1, Ordering::Relaxed);
        let inside = times.min_ms >= start_ms && times.max_ms <= req.end_ms;
        if count_only && inside && selection.is_none() {
            // nothing to decode: the row group's rows, from its metadata
            counters
                .records_scanned
                .fetch_add(times.rows, Ordering::Relaxed);
            counters
                .row_groups_counted_from_metadata
                .fetch_add(1, Ordering::Relaxed);
            let mut left = times.rows as usize;
            while left > 0 {
                let n = left.min(req.batch_rows.max(1));
                left -= n;
                let opts = RecordBatchOptions::new().with_row_count(Some(n));
                let batch =
                    RecordBatch::try_new_with_options(shared.schema.clone(), vec![], &opts)?;
                if !emit(batch)? {
                    return Ok(false);
                }
            }
            continue;
        }
        let file = file.clone();
        let mut builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, reader_meta.clone())
                .with_row_groups(vec![rg])
                .with_projection(mask.clone())
                .with_batch_size(req.batch_rows.max(1));
        if let Some(sel) = selection {
            builder = builder
                .with_row_selection(sel)
                .with_row_selection_policy(RowSelectionPolicy::Selectors);
        }
        if inside && stage.conjuncts.is_empty() {
            counters
                .records_scanned
                .fetch_add(times.rows, Ordering::Relaxed);
        } else {
            // The cheap stage counts the rows it sees; skipped blocks count whole (inside
            // the range), or the row group's in-range rows are counted first (partly
            // outside it, read in blocks) and the stage counts none.
            let stage = if inside || selected == times.rows {
                counters
                    .records_scanned
                    .fetch_add(times.rows.saturating_sub(selected), Ordering::Relaxed);
                stage.clone()
            } else {
                counters
                    .records_scanned
                    .fetch_add(rows_in_range(rg, &times)?, Ordering::Relaxed);
                quiet.clone()
            };
            // inside the range, the cheap stage finds no `@timestamp` and tests no time
            let filter_mask = if inside && !filter_roots.is_empty() {
                untimed_mask.clone()
            } else {
                timed_mask.clone()
            };
            let predicate = ArrowPredicateFn::new(filter_mask, move |batch| {
                stage
                    .eval(&batch)
                    .map_err(|e| ArrowError::ExternalError(Box::new(e)))
            });
            builder = builder.with_row_filter(RowFilter::new(vec![Box::new(predicate)]));
        }
        let reader = builder.build().map_err(ext)?;
        for batch in reader {
            let batch = batch.map_err(ext)?;
            if read_message {
                counters
                    .rows_message_decoded
                    .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            }
            let out = finish_batch(shared, source, batch, &promoted, &costly, prefilter)?;
            if !emit(out)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// What a query reads of a segment file before its rows, kept on the segment's store
/// handle ([`ow_storage::SegmentRef::reader_cache`]) so that the next query of a long-lived
/// store (`openwatch serve`) does not open, map and parse the file again: opening, mapping
/// and unmapping 18 segments and parsing their footers was about a seventh of an empty
/// query's CPU time in a running server (perf, the 1 GB benchmark).
struct SegmentReadCache {
    file: bytes::Bytes,
    metadata: Arc<ParquetMetaData>,
    /// Reader metadata by the columns read as dictionaries (sorted); a few entries.
    readers: std::sync::Mutex<Vec<(Vec<String>, ArrowReaderMetadata)>>,
}

/// Reader metadata kept per segment (distinct dictionary column sets); older entries are
/// replaced first.
const READERS_PER_SEGMENT: usize = 8;

/// The memory map of `segment` and its reader metadata with `dictionary` columns (sorted)
/// read as dictionaries; from the segment's reader cache when a query of the same store
/// made them.
fn open_segment(
    segment: &ScanSegment,
    dictionary: &[String],
) -> DfResult<(bytes::Bytes, ArrowReaderMetadata)> {
    let load = || -> DfResult<SegmentReadCache> {
        let file = File::open(&segment.path).map_err(|e| {
            DataFusionError::Execution(format!(
                "cannot open segment {}: {e}",
                segment.path.display()
            ))
        })?;
        let file = map_segment(&file).map_err(|e| {
            DataFusionError::Execution(format!(
                "cannot map segment {}: {e}",
                segment.path.display()
            ))
        })?;
        // The offset index (page locations) lets a row selection skip pages; the column
        // index (each page's min/max) is read by nothing here, and decoding it for every
        // column of every segment was a quarter of an empty query's instructions.
        let metadata = ParquetMetaDataReader::new()
            .with_column_index_policy(PageIndexPolicy::Skip)
            .with_offset_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&file)
            .map_err(ext)?;
        Ok(SegmentReadCache {
            file,
            metadata: Arc::new(metadata),
            readers: Default::default(),
        })
    };
    let reader_meta = |cache: &SegmentReadCache| -> DfResult<ArrowReaderMetadata> {
        let set: HashSet<String> = dictionary.iter().cloned().collect();
        // Promoted columns are read as string views (see `scan_schema`).
        let schema = segment_schema(cache.metadata.file_metadata().schema_descr(), &set);
        ArrowReaderMetadata::try_new(
            cache.metadata.clone(),
            ArrowReaderOptions::new().with_schema(schema),
        )
        .map_err(ext)
    };
    let Some(hold) = &segment.handle else {
        let cache = load()?;
        let meta = reader_meta(&cache)?;
        return Ok((cache.file, meta));
    };
    let slot = hold.reader_cache();
    let cached = match slot.get() {
        Some(c) => c.clone(),
        None => {
            // Two queries may load the same segment at once: the first to finish is kept.
            let loaded: Arc<dyn std::any::Any + Send + Sync> = Arc::new(load()?);
            slot.get_or_init(|| loaded).clone()
        }
    };
    let Some(cache) = cached.downcast_ref::<SegmentReadCache>() else {
        let cache = load()?;
        let meta = reader_meta(&cache)?;
        return Ok((cache.file, meta));
    };
    let mut readers = cache.readers.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, meta)) = readers.iter().find(|(d, _)| d.as_slice() == dictionary) {
        return Ok((cache.file.clone(), meta.clone()));
    }
    let meta = reader_meta(cache)?;
    if readers.len() >= READERS_PER_SEGMENT {
        readers.remove(0);
    }
    readers.push((dictionary.to_vec(), meta.clone()));
    Ok((cache.file.clone(), meta))
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> DfResult<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| DataFusionError::Execution(format!("event batch: bad or missing {name}")))
}
