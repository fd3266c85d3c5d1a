//! Consistent read views of the store (CONTRACTS.md, "Snapshot API").

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::model::LogGroup;

/// A consistent view of some log groups over a time range, taken by
/// [`crate::Store::snapshot`]. Every acknowledged event in the range is in exactly one
/// place: a segment file or a buffered batch. Holding a snapshot keeps its segment files
/// on disk (compaction and retention defer their deletion until the last holder drops).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Start of the range, epoch ms UTC, inclusive.
    pub start_ms: i64,
    /// End of the range, epoch ms UTC, inclusive.
    pub end_ms: i64,
    /// One entry per requested log group, in request order.
    pub groups: Vec<GroupSnapshot>,
}

/// One log group inside a [`Snapshot`].
#[derive(Debug, Clone)]
pub struct GroupSnapshot {
    /// The group's metadata (name, account id, ARN via [`LogGroup::arn`], `@log` via
    /// [`LogGroup::at_log`]).
    pub log_group: LogGroup,
    /// Retention cutoff at the time of the snapshot, epoch ms UTC: events with
    /// `@timestamp` before it have expired and **must not be returned** (spec api.md
    /// PutRetentionPolicy; [I] expired events are invisible at once, their deletion is
    /// lazy). `i64::MIN` when the group keeps events forever. The snapshot already applies
    /// it to `segments` and `buffered`; readers of segment rows must apply it too, like
    /// the range (a segment may straddle the cutoff).
    pub min_timestamp_ms: i64,
    /// Segment files whose `[min_timestamp_ms, max_timestamp_ms]` overlaps the range
    /// (clipped to the retention cutoff). Rows inside may still fall outside it: the reader
    /// filters `@timestamp`.
    pub segments: Vec<SegmentRef>,
    /// Buffered (not yet flushed) events with `@timestamp` in the range and not expired, as
    /// batches of [`crate::schema::core_schema`] (core columns only, unsorted).
    pub buffered: Vec<RecordBatch>,
}

/// Description of one immutable Parquet segment file.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentInfo {
    /// Absolute local path of the Parquet file.
    pub path: PathBuf,
    /// Path of the file inside the store's object store (for an `object_store` reader).
    pub object_path: String,
    /// Smallest `@timestamp` in the file, epoch ms.
    pub min_timestamp_ms: i64,
    /// Largest `@timestamp` in the file, epoch ms.
    pub max_timestamp_ms: i64,
    /// Smallest and largest `__seq`.
    pub min_seq: u64,
    /// See `min_seq`.
    pub max_seq: u64,
    /// Rows (events) in the file.
    pub row_count: u64,
    /// Size of the file in bytes.
    pub byte_size: u64,
    /// Σ(message bytes + 26) of the events (the store's `storedBytes` accounting).
    pub event_bytes: u64,
    /// Promoted field columns of this file, after the core columns, in schema order.
    pub promoted_columns: Vec<String>,
}

/// A shared handle on a segment; the file is not deleted while a handle lives.
#[derive(Debug, Clone)]
pub struct SegmentRef(pub(crate) Arc<crate::segment::SegmentHandle>);

impl Deref for SegmentRef {
    type Target = SegmentInfo;
    fn deref(&self) -> &SegmentInfo {
        &self.0.info
    }
}

impl SegmentRef {
    /// The segment's description (also reachable through `Deref`).
    pub fn info(&self) -> &SegmentInfo {
        &self.0.info
    }

    /// A slot for what a reader keeps of this file from one query to the next (the query
    /// engine keeps its memory map and parsed Parquet footer there), shared by every
    /// snapshot of the segment. It lives as long as the segment's handle: while the store
    /// lists the segment or a snapshot holds it, and is dropped before a dropped segment's
    /// file is deleted. Segment files are immutable (ARCHITECTURE.md), so what is kept stays
    /// true.
    pub fn reader_cache(&self) -> &std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>> {
        &self.0.reader_cache
    }

    /// Whether the file may hold events in `[start_ms, end_ms]` (inclusive).
    pub fn overlaps(&self, start_ms: i64, end_ms: i64) -> bool {
        self.min_timestamp_ms <= end_ms && self.max_timestamp_ms >= start_ms
    }
}
