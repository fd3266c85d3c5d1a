//! `ow-storage`: OpenWatch's embedded log store.
//!
//! # Overview
//!
//! * [`Store`]: log groups and log streams with their metadata (creation time,
//!   retention, tags, stored bytes, first/last event time), the write path, flushes,
//!   compaction, retention and [`Snapshot`]s for the query engine.
//! * [`fields`]: field discovery (spec `insights-language.md` §3.2): the flattening
//!   rules shared by column promotion, field statistics and the engine's per-row
//!   extraction.
//! * [`parsed`]: fields an importer parsed once, kept by `__seq` so the flush does not
//!   parse those events again.
//! * [`ngram`]: the per-segment n-gram index sidecar that lets `@message like 'x'` skip
//!   blocks of rows.
//! * [`schema`]: column names and the Arrow schema of the core event columns.
//! * [`validate_put_log_events`]: AWS's PutLogEvents rules, applied by
//!   [`Store::put_log_events`].
//!
//! # Write path
//!
//! ```text
//! put_log_events / import_events
//!    -> WAL record (length + crc32 framed) appended under the WAL lock, __seq assigned
//!    -> group commit: one fsync covers every writer waiting at that moment
//!    -> acknowledged; events enter the in-memory Arrow buffer (visible to snapshots)
//! flush (buffer over flush_threshold_bytes, Store::flush, close/drop)
//!    -> WAL rotated, buffer frozen (still visible)
//!    -> per log group and time window: rows sorted by (@timestamp, __seq) and cut into
//!       row groups, each row group's rows then ordered by @message (compression), frequent JSON
//!       paths promoted to Utf8 columns, zstd Parquet written through object_store, fsynced
//!    -> manifest.json replaced atomically: segments in + WAL checkpoint advanced;
//!       frozen buffer out, in the same critical section snapshots read under
//!    -> old WAL files deleted; retention and compaction run
//! ```
//!
//! Recovery ([`Store::open`]) replays WAL files from the checkpoint, truncating a torn
//! or corrupt tail (checksums detect it), and removes segment files no manifest lists.
//! Every acknowledged event therefore ends up exactly once in segments or the buffer.
//!
//! [`Store::delete_log_stream`] deletes the stream's events physically: it flushes, rewrites
//! the segments holding them into new files, and swaps them in with one atomic manifest
//! replacement that also records a tombstone WAL replay honours (events of the stream
//! acknowledged during the deletion are skipped); old files go once no snapshot holds them.
//!
//! ```
//! use ow_storage::{Store, StoreConfig, InputLogEvent};
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
//! store.create_log_group("app", Default::default()).unwrap();
//! store.create_log_stream("app", "web-1").unwrap();
//! let now = ow_storage::now_ms();
//! let out = store
//!     .put_log_events("app", "web-1", &[InputLogEvent { timestamp_ms: now, message: "{\"x\":1}".into() }])
//!     .unwrap();
//! assert_eq!(out.accepted, 1);
//! let snap = store.snapshot(&["app"], now - 1000, now + 1000).unwrap();
//! assert_eq!(snap.groups[0].buffered.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
//! store.flush().unwrap();
//! let snap = store.snapshot(&["app"], now - 1000, now + 1000).unwrap();
//! assert_eq!(snap.groups[0].segments[0].row_count, 1);
//! ```

#![deny(missing_docs)]

mod buffer;
mod config;
mod error;
pub mod fields;
mod hash;
mod manifest;
mod model;
pub mod ngram;
pub mod parsed;
pub mod schema;
mod segment;
mod snapshot;
mod store;
mod validate;
mod wal;

pub use config::{PutLimits, StoreConfig, RETENTION_DAYS};
pub use error::{Result, StoreError};
pub use model::{
    FieldStats, ImportOutput, InputLogEvent, LogGroup, LogStream, NewEvent, Page, PageRequest,
    PutLogEventsOutput, RecoveryReport, RejectedLogEventsInfo, StoredEvent, StreamOrder,
};
pub use snapshot::{GroupSnapshot, SegmentInfo, SegmentRef, Snapshot};
pub use store::{now_ms, validate_log_group_name, validate_log_stream_name, Store};
pub use validate::{validate_put_log_events, ValidatedBatch};
