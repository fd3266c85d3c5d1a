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
//! | one per path      | `Utf8`                        | promoted column if the segment has it, else extracted from `@message` |
//!
//! Reading rules (DESIGN.md decision 2):
//! - time-range pruning: segments outside `[start_ms, end_ms]` are skipped by the snapshot,
//!   row groups by their `@timestamp` min/max statistics, rows by an exact inclusive test;
//! - a promoted Parquet column is read instead of parsing `@message`;
//! - all remaining paths are extracted with ONE JSON parse per row
//!   ([`ow_storage::fields`]);
//! - a [`Prefilter`] built from `@message like 'literal'` runs with `memchr::memmem` on the raw
//!   bytes before any JSON parse, so non-matching rows are never parsed.
//!
//! Statistics (`recordsScanned`, `bytesScanned`) are counted in [`ScanCounters`].

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, StringBuilder,
    TimestampMillisecondArray, UInt64Array,
};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelectionPolicy,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::file::metadata::PageIndexPolicy;
use datafusion::parquet::file::statistics::Statistics as ParquetStatistics;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::streaming::StreamingTableExec;
use datafusion::physical_plan::ExecutionPlan;
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

/// Rows per Arrow batch produced by the scan.
const BATCH_ROWS: usize = 8192;

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
    /// Keeps the file alive while the query runs (compaction/retention defer deletes).
    pub _hold: Option<ow_storage::SegmentRef>,
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
#[derive(Debug, Default)]
pub struct ScanCounters {
    /// Events in the time range that were read (`recordsScanned`).
    pub records_scanned: AtomicU64,
    /// UTF-8 bytes of `@message` of those events (`bytesScanned`).
    pub bytes_scanned: AtomicU64,
    /// Rows that reached the matched-rows counter (`recordsMatched`).
    pub records_matched: AtomicU64,
    /// Blocks of segments with a usable n-gram index that the `@message like` prefilter
    /// was evaluated on ([`crate::skip`]).
    pub ngram_blocks_considered: AtomicU64,
    /// Of those, blocks not read because they cannot hold a match.
    pub ngram_blocks_skipped: AtomicU64,
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
    for p in paths {
        fields.push(Field::new(p, DataType::Utf8, true));
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
    schema: SchemaRef,
    request: ScanRequest,
    sources: Arc<Vec<ScanSource>>,
    counters: Arc<ScanCounters>,
    cancel: Arc<AtomicBool>,
}

/// One partition of the scan (a subset of the work items).
#[derive(Debug)]
struct EventPartition {
    shared: Arc<ScanShared>,
    work: Vec<Work>,
}

impl PartitionStream for EventPartition {
    fn schema(&self) -> &SchemaRef {
        &self.shared.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.shared.schema.clone(), 2);
        let tx = builder.tx();
        let shared = self.shared.clone();
        let work = self.work.clone();
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
            for item in work {
                let mut emit = |batch: RecordBatch| -> DfResult<bool> {
                    if shared.cancel.load(Ordering::Relaxed) {
                        return Err(DataFusionError::External(Box::new(
                            crate::error::QueryError::Cancelled,
                        )));
                    }
                    if batch.num_rows() == 0 {
                        return Ok(true);
                    }
                    Ok(tx.blocking_send(Ok(batch)).is_ok())
                };
                let keep_going = match item {
                    Work::Segment { source, segment } => {
                        read_segment(&shared, source, &segment, &prefilters, &mut emit)?
                    }
                    Work::Buffer { source, batch } => {
                        let any = prefilters.explicit.is_some() || prefilters.implied.is_some();
                        let out =
                            convert(&shared, source, &batch, None, any.then_some(&prefilters))?;
                        emit(out)?
                    }
                };
                if !keep_going {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// Builds the table provider of one query's scan.
///
/// `partitions` is the number of parallel scan partitions (at least 1). Work items are
/// distributed round-robin. `cancel` stops the scan with [`crate::QueryError::Cancelled`].
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
#[derive(Debug)]
pub struct EventTable {
    schema: SchemaRef,
    sources: Arc<Vec<ScanSource>>,
    request: ScanRequest,
    counters: Arc<ScanCounters>,
    cancel: Arc<AtomicBool>,
    partitions: usize,
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
        request.paths.retain(|p| schema.index_of(p).is_ok());
        let mut work = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            for seg in &s.segments {
                if seg.max_timestamp_ms < request.start_ms || seg.min_timestamp_ms > request.end_ms
                {
                    continue;
                }
                work.push(Work::Segment {
                    source: i,
                    segment: seg.clone(),
                });
            }
            for b in &s.buffer {
                work.push(Work::Buffer {
                    source: i,
                    batch: b.clone(),
                });
            }
        }
        let shared = Arc::new(ScanShared {
            schema: schema.clone(),
            request,
            sources: self.sources.clone(),
            counters: self.counters.clone(),
            cancel: self.cancel.clone(),
        });
        let n = self.partitions.max(1).min(work.len().max(1));
        let mut parts: Vec<Vec<Work>> = vec![Vec::new(); n];
        for (i, w) in work.into_iter().enumerate() {
            parts[i % n].push(w);
        }
        let partitions: Vec<Arc<dyn PartitionStream>> = parts
            .into_iter()
            .map(|work| {
                Arc::new(EventPartition {
                    shared: shared.clone(),
                    work,
                }) as _
            })
            .collect();
        let exec = StreamingTableExec::try_new(
            schema,
            partitions,
            None,
            Vec::<datafusion::physical_expr::LexOrdering>::new(),
            false,
            limit,
        )?;
        Ok(Arc::new(exec))
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

fn ext<E: std::error::Error + Send + Sync + 'static>(e: E) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Reads one segment: prunes row groups by `@timestamp` statistics, reads only the needed
/// columns, converts each batch. Returns false when the consumer went away.
fn read_segment(
    shared: &ScanShared,
    source: usize,
    segment: &ScanSegment,
    prefilters: &Prefilters<'_>,
    emit: &mut dyn FnMut(RecordBatch) -> DfResult<bool>,
) -> DfResult<bool> {
    let req = &shared.request;
    // the query range, clipped to the group's retention cutoff
    let start_ms = req.start_ms.max(shared.sources[source].min_timestamp_ms);
    let file = File::open(&segment.path).map_err(|e| {
        DataFusionError::Execution(format!(
            "cannot open segment {}: {e}",
            segment.path.display()
        ))
    })?;
    // Blocks the n-gram index rules out (explicit `@message like` prefilter only); the page
    // index lets the reader skip their pages.
    let candidates = crate::skip::Candidates::load(&segment.path, req.prefilter.as_ref());
    let prunes = candidates.as_ref().is_some_and(|c| c.prunes());
    let options = ArrowReaderOptions::new().with_page_index_policy(if prunes {
        PageIndexPolicy::Optional
    } else {
        PageIndexPolicy::Skip
    });
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).map_err(ext)?;
    let arrow_schema = builder.schema().clone();
    let has = |name: &str| arrow_schema.index_of(name).ok();
    // Which paths have a promoted column in this file.
    let promoted: Vec<Option<usize>> = req.paths.iter().map(|p| has(p)).collect();
    let missing = promoted.iter().any(Option::is_none);
    // @message is read when the query or the extraction needs it, or for an explicit
    // `@message like` prefilter; the stronger implied prefilter only rides along when the
    // column is read anyway.
    let wanted = |name: &str| shared.schema.index_of(name).is_ok();
    let message_needed = wanted("@message") || missing;
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

    let mut roots: Vec<usize> = Vec::new();
    for name in ["@timestamp", "@ingestionTime", "@logStream", SEQ] {
        if name != "@timestamp" && !wanted(name) {
            continue;
        }
        match has(name) {
            Some(i) => roots.push(i),
            None => {
                return Err(DataFusionError::Execution(format!(
                    "segment {} lacks column {name}",
                    segment.path.display()
                )))
            }
        }
    }
    let msg_idx = has("@message");
    if read_message {
        match msg_idx {
            Some(i) => roots.push(i),
            None => {
                return Err(DataFusionError::Execution(format!(
                    "segment {} lacks column @message",
                    segment.path.display()
                )))
            }
        }
    }
    roots.extend(promoted.iter().flatten().copied());
    roots.sort_unstable();
    roots.dedup();

    // Row-group pruning on @timestamp statistics.
    let meta = builder.metadata().clone();
    let ts_leaf = builder
        .parquet_schema()
        .columns()
        .iter()
        .position(|c| c.path().string() == "@timestamp");
    let mut row_groups = Vec::new();
    let mut unread_message_bytes: u64 = 0;
    for (i, rg) in meta.row_groups().iter().enumerate() {
        let keep = match ts_leaf.map(|l| rg.column(l).statistics()) {
            Some(Some(ParquetStatistics::Int64(s))) => match (s.min_opt(), s.max_opt()) {
                (Some(min), Some(max)) => *max >= start_ms && *min <= req.end_ms,
                _ => true,
            },
            _ => true,
        };
        if keep {
            row_groups.push(i);
            if !read_message {
                if let Some(leaf) = builder
                    .parquet_schema()
                    .columns()
                    .iter()
                    .position(|c| c.path().string() == "@message")
                {
                    // Approximation when @message is not read: the uncompressed column
                    // chunk size minus the 4-byte length prefix of each value.
                    let c = rg.column(leaf);
                    let size = c.uncompressed_size().max(0) as u64;
                    unread_message_bytes += size.saturating_sub(4 * rg.num_rows().max(0) as u64);
                }
            }
        }
    }
    if row_groups.is_empty() {
        return Ok(true);
    }
    let in_range = segment.min_timestamp_ms >= start_ms && segment.max_timestamp_ms <= req.end_ms;
    let selection =
        candidates.and_then(|c| c.selection(&meta, &row_groups, &shared.counters, in_range));
    if selection.as_ref().is_some_and(|s| !s.selects_any()) {
        return Ok(true);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
    let builder = match selection {
        Some(s) => builder
            .with_row_selection(s)
            .with_row_selection_policy(RowSelectionPolicy::Selectors),
        None => builder,
    };
    let reader = builder
        .with_row_groups(row_groups)
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(ext)?;
    let mut first = true;
    for batch in reader {
        let batch = batch.map_err(ext)?;
        let promoted_names: HashMap<&str, ()> = req
            .paths
            .iter()
            .zip(&promoted)
            .filter(|(_, p)| p.is_some())
            .map(|(n, _)| (n.as_str(), ()))
            .collect();
        let out = convert(shared, source, &batch, Some(&promoted_names), prefilter)?;
        if first && !read_message {
            shared
                .counters
                .bytes_scanned
                .fetch_add(unread_message_bytes, Ordering::Relaxed);
            first = false;
        }
        if !emit(out)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> DfResult<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| DataFusionError::Execution(format!("event batch: bad or missing {name}")))
}

/// Converts a stored batch (CONTRACTS.md columns) to the scan schema: time filter,
/// prefilter, system fields, promoted columns and one-parse extraction of the rest.
///
/// `promoted` names the paths present as columns in `batch` (None: no promoted columns).
fn convert(
    shared: &ScanShared,
    source: usize,
    batch: &RecordBatch,
    promoted: Option<&HashMap<&str, ()>>,
    prefilter: Option<&Prefilters<'_>>,
) -> DfResult<RecordBatch> {
    let req = &shared.request;
    let src = &shared.sources[source];
    let start_ms = req.start_ms.max(src.min_timestamp_ms);
    let ts: &Int64Array = column(batch, "@timestamp")?;
    let message: Option<&StringArray> = match batch.column_by_name("@message") {
        Some(c) => Some(c.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
            DataFusionError::Execution("event batch: @message is not Utf8".into())
        })?),
        None => None,
    };
    // Time range (inclusive both ends, spec §1) and prefilter.
    let mut scanned = 0u64;
    let mut bytes = 0u64;
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|i| {
            let t = ts.value(i);
            if t < start_ms || t > req.end_ms {
                return Some(false);
            }
            scanned += 1;
            if let Some(m) = message {
                let b = m.value(i).as_bytes();
                bytes += b.len() as u64;
                if let Some(p) = prefilter {
                    return Some(p.matches(b));
                }
            }
            Some(true)
        })
        .collect();
    shared
        .counters
        .records_scanned
        .fetch_add(scanned, Ordering::Relaxed);
    shared
        .counters
        .bytes_scanned
        .fetch_add(bytes, Ordering::Relaxed);
    let batch = if keep.true_count() == batch.num_rows() {
        batch.clone()
    } else {
        filter_record_batch(batch, &keep)?
    };
    let n = batch.num_rows();

    let message: Option<&StringArray> = match batch.column_by_name("@message") {
        Some(c) => c.as_any().downcast_ref::<StringArray>(),
        None => None,
    };
    // Paths: promoted columns as they are; the others by one parse per row.
    let missing: Vec<&str> = req
        .paths
        .iter()
        .map(String::as_str)
        .filter(|p| !promoted.is_some_and(|m| m.contains_key(p)))
        .collect();
    let mut extracted: HashMap<&str, ArrayRef> = HashMap::new();
    if !missing.is_empty() {
        let mut builders: Vec<StringBuilder> = missing
            .iter()
            .map(|_| StringBuilder::with_capacity(n, n * 16))
            .collect();
        let extractor = Extractor::new(&missing);
        let mut values = Vec::with_capacity(missing.len());
        for i in 0..n {
            match message {
                Some(m) => {
                    extractor.extract_into(m.value(i), &mut values);
                    for (b, v) in builders.iter_mut().zip(values.iter()) {
                        b.append_option(v.as_deref());
                    }
                }
                None => builders.iter_mut().for_each(|b| b.append_null()),
            }
        }
        for (p, mut b) in missing.iter().zip(builders) {
            extracted.insert(p, Arc::new(b.finish()));
        }
    }
    // Output columns in the (projected) schema's order.
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(shared.schema.fields().len());
    for field in shared.schema.fields() {
        let name = field.name().as_str();
        let col: ArrayRef = match name {
            "@timestamp" | "@ingestionTime" => {
                let v: &Int64Array = column(&batch, name)?;
                Arc::new(TimestampMillisecondArray::new(
                    v.values().clone(),
                    v.nulls().cloned(),
                ))
            }
            "@logStream" => Arc::new(column::<StringArray>(&batch, name)?.clone()),
            SEQ => Arc::new(column::<UInt64Array>(&batch, SEQ)?.clone()),
            "@log" => {
                let log_value = format!("{}:{}", src.account_id, src.log_group);
                Arc::new(StringArray::from(vec![log_value.as_str(); n]))
            }
            GROUP => Arc::new(StringArray::from(vec![src.log_group.as_str(); n])),
            "@message" => match message {
                Some(m) => Arc::new(m.clone()),
                None => arrow::array::new_null_array(&DataType::Utf8, n),
            },
            p => match extracted.remove(p) {
                Some(c) => c,
                None => {
                    let c = batch.column_by_name(p).ok_or_else(|| {
                        DataFusionError::Execution(format!("event batch lacks column {p}"))
                    })?;
                    if c.data_type() == &DataType::Utf8 {
                        c.clone()
                    } else {
                        arrow::compute::cast(c, &DataType::Utf8)?
                    }
                }
            },
        };
        cols.push(col);
    }
    Ok(RecordBatch::try_new(shared.schema.clone(), cols)?)
}
