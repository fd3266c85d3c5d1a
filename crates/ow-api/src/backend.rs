//! The API's view of the store and the query engine.
//!
//! Operations talk to a [`LogBackend`] and a [`QueryBackend`], not to `ow-storage` and
//! `ow-query` directly: the adapters in [`crate::adapters`] implement them over
//! `ow_storage::Store` and `ow_query::QueryEngine`, and tests can put a controllable
//! engine behind the query lifecycle. API boundary: everything here is plain data in the
//! API's terms (AWS names, epoch ms), and every error is already an [`ApiError`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::ApiError;

/// A log group's metadata (DescribeLogGroups' `logGroups[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    /// Name.
    pub name: String,
    /// Owning account (12 digits): the account in its ARN and in `@log`.
    pub account_id: String,
    /// Creation time, epoch ms.
    pub creation_time_ms: i64,
    /// Retention in days; `None` = never expire.
    pub retention_in_days: Option<u32>,
    /// `storedBytes`.
    pub stored_bytes: u64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `STANDARD`, `INFREQUENT_ACCESS` or `DELIVERY`.
    pub log_group_class: String,
    /// Whether DeleteLogGroup and DeleteLogStream are blocked.
    pub deletion_protection_enabled: bool,
}

impl GroupInfo {
    /// `logGroupArn`: `arn:aws:logs:<region>:<account>:log-group:<name>` (no `:*`).
    pub fn log_group_arn(&self, region: &str) -> String {
        format!(
            "arn:aws:logs:{region}:{}:log-group:{}",
            self.account_id, self.name
        )
    }
}

/// A log stream's metadata (DescribeLogStreams' `logStreams[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// Name.
    pub name: String,
    /// Creation time, epoch ms.
    pub creation_time_ms: i64,
    /// First event time, epoch ms.
    pub first_event_timestamp_ms: Option<i64>,
    /// Last event time, epoch ms.
    pub last_event_timestamp_ms: Option<i64>,
    /// Last ingestion time, epoch ms.
    pub last_ingestion_time_ms: Option<i64>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// `__seq` within the log group (unique, increasing with acknowledgement).
    pub seq: u64,
    /// Event time, epoch ms.
    pub timestamp_ms: i64,
    /// Ingestion time, epoch ms.
    pub ingestion_time_ms: i64,
    /// Log stream name.
    pub log_stream: String,
    /// Raw message.
    pub message: String,
}

/// What PutLogEvents rejected one by one (indexes into the request's `logEvents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected {
    /// `tooNewLogEventStartIndex` (inclusive).
    pub too_new_start: Option<usize>,
    /// `tooOldLogEventEndIndex` (exclusive).
    pub too_old_end: Option<usize>,
    /// `expiredLogEventEndIndex` (exclusive).
    pub expired_end: Option<usize>,
}

/// Where a read starts and which way it goes. Keys are `(timestamp_ms, seq)`, the order of
/// GetLogEvents and FilterLogEvents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Forward: the first events with a key greater than this (`None`: from the start).
    After(Option<(i64, u64)>),
    /// Backward: the last events with a key less than this (`None`: from the end).
    Before(Option<(i64, u64)>),
}

/// Which events a read returns.
#[derive(Clone, Copy)]
pub struct EventRange<'a> {
    /// Only these streams (`None` = all of the group's).
    pub streams: Option<&'a [String]>,
    /// Inclusive start, epoch ms.
    pub start_ms: i64,
    /// Exclusive end, epoch ms.
    pub end_ms: i64,
    /// Where to start, which way.
    pub cursor: Cursor,
    /// At most this many events (the ones nearest the cursor).
    pub limit: usize,
    /// Only events whose message passes (FilterLogEvents' pattern); `None` = all.
    pub filter: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

/// The store operations the API needs. All names are validated by the caller.
pub trait LogBackend: Send + Sync + 'static {
    /// Creates a log group owned by `account_id`, with deletion protection if asked.
    ///
    /// # Errors
    /// `ResourceAlreadyExists`; `InvalidParameter`; `Internal`.
    fn create_log_group(
        &self,
        account_id: &str,
        name: &str,
        tags: BTreeMap<String, String>,
        log_group_class: Option<&str>,
        deletion_protection: bool,
    ) -> Result<(), ApiError>;
    /// Deletes a log group and its events (`Validation` while deletion protection is on).
    fn delete_log_group(&self, name: &str) -> Result<(), ApiError>;
    /// Turns a log group's deletion protection on or off (PutLogGroupDeletionProtection,
    /// CloudWatch Logs API reference). `ResourceNotFound` if the group is absent.
    fn set_deletion_protection(&self, name: &str, enabled: bool) -> Result<(), ApiError>;
    /// Every log group, ASCII-sorted by name.
    fn list_log_groups(&self) -> Result<Vec<GroupInfo>, ApiError>;
    /// One log group (`ResourceNotFound` if absent).
    fn log_group(&self, name: &str) -> Result<GroupInfo, ApiError>;
    /// Creates a log stream.
    fn create_log_stream(&self, group: &str, stream: &str) -> Result<(), ApiError>;
    /// Deletes a log stream and its events (`Validation` while the group's deletion
    /// protection is on).
    fn delete_log_stream(&self, group: &str, stream: &str) -> Result<(), ApiError>;
    /// One stream (`ResourceNotFound` if the group or the stream is absent).
    fn log_stream(&self, group: &str, stream: &str) -> Result<StreamInfo, ApiError>;
    /// Every stream of a group, in any order (the API sorts).
    fn list_log_streams(&self, group: &str) -> Result<Vec<StreamInfo>, ApiError>;
    /// Stores a batch with AWS's PutLogEvents rules (the store's configured windows);
    /// returns what was rejected one by one. Durable when it returns.
    fn put_log_events(
        &self,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> Result<Rejected, ApiError>;
    /// Events of `group` in `range`, ordered by (timestamp, seq): the `range.limit` events
    /// nearest the cursor. Implementations should stop reading once those are known.
    fn read_events(&self, group: &str, range: EventRange<'_>)
        -> Result<Vec<EventRecord>, ApiError>;
    /// The event with `seq` (`ResourceNotFound` if absent).
    fn get_event(&self, group: &str, seq: u64) -> Result<EventRecord, ApiError>;
    /// Sets (`Some`) or removes (`None`) the retention.
    fn set_retention(&self, group: &str, days: Option<u32>) -> Result<(), ApiError>;
    /// Adds or replaces tags.
    fn tag(&self, group: &str, tags: BTreeMap<String, String>) -> Result<(), ApiError>;
    /// Removes tags.
    fn untag(&self, group: &str, keys: &[String]) -> Result<(), ApiError>;
    /// `(events considered, [(field, events having it)])` over `[start_ms, end_ms]`.
    fn field_stats(
        &self,
        group: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<(u64, Vec<(String, u64)>), ApiError>;
    /// Flattened fields of a JSON message (spec §3.2), for GetLogRecord.
    fn flatten(&self, message: &str) -> Vec<(String, String)>;
    /// Writes the in-memory buffer to segments.
    fn flush(&self) -> Result<(), ApiError>;
    /// Retention and compaction now (the store also runs them after each flush; a group
    /// that receives no writes needs this to lose its expired events).
    fn maintain(&self) -> Result<(), ApiError>;
}

/// A function run once when a query is cancelled.
type CancelHook = Box<dyn Fn() + Send + Sync>;

/// Cooperative cancellation shared by the API and a running query. Cloning shares it.
/// Engines either poll [`Cancel::is_cancelled`] or register a hook with
/// [`Cancel::on_cancel`] (run at once by [`Cancel::cancel`], no polling).
#[derive(Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    hooks: Arc<parking_lot::Mutex<Vec<CancelHook>>>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Cancel {
    /// Not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requests cancellation and runs the registered hooks (each once).
    pub fn cancel(&self) {
        let hooks = {
            let mut hooks = self.hooks.lock();
            self.flag.store(true, Ordering::SeqCst);
            std::mem::take(&mut *hooks)
        };
        for hook in hooks {
            hook();
        }
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    /// Runs `hook` when cancellation is requested (at once if it already was).
    pub fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) {
        {
            let mut hooks = self.hooks.lock();
            if !self.flag.load(Ordering::SeqCst) {
                hooks.push(Box::new(hook));
                return;
            }
        }
        hook();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn cancel_runs_hooks_once_and_late_hooks_at_once() {
        let c = Cancel::new();
        let n = Arc::new(AtomicUsize::new(0));
        let n1 = n.clone();
        c.on_cancel(move || {
            n1.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!c.is_cancelled());
        c.clone().cancel();
        c.cancel();
        assert!(c.is_cancelled());
        assert_eq!(n.load(Ordering::SeqCst), 1);
        let n2 = n.clone();
        c.on_cancel(move || {
            n2.fetch_add(10, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 11);
    }
}

/// One query for the engine (times in epoch ms, both inclusive).
#[derive(Debug, Clone)]
pub struct QuerySpec {
    /// Logs Insights text.
    pub query: String,
    /// Log group names.
    pub log_groups: Vec<String>,
    /// Inclusive start, ms.
    pub start_ms: i64,
    /// Inclusive end, ms.
    pub end_ms: i64,
    /// Row cap (`None` = engine default).
    pub limit: Option<usize>,
}

/// A finished query's rows and statistics, as GetQueryResults shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// Rows of `(field, value)`.
    pub rows: Vec<Vec<(String, String)>>,
    /// `recordsMatched`.
    pub records_matched: f64,
    /// `recordsScanned`.
    pub records_scanned: f64,
    /// `bytesScanned`.
    pub bytes_scanned: f64,
    /// `logGroupsScanned`.
    pub log_groups_scanned: f64,
}

/// How a query ended without results.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryFailure {
    /// Cancelled (status `Cancelled`).
    Cancelled,
    /// Timed out (status `Timeout`).
    Timeout,
    /// Failed (status `Failed`), with the reason.
    Failed(String),
}

/// Progress of a running query: `(records scanned, bytes scanned)` so far.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Partial results of a running query: every row found so far that is certain to be in
/// the final result, in final order (GetQueryResults while `Running`, spec/api.md §A.2).
/// Each call replaces the previous rows.
pub type PartialFn = Arc<dyn Fn(Vec<Vec<(String, String)>>) + Send + Sync>;

/// A boxed future of a query run.
pub type QueryFuture = Pin<Box<dyn Future<Output = Result<QueryResult, QueryFailure>> + Send>>;

/// The query engine as the API uses it.
pub trait QueryBackend: Send + Sync + 'static {
    /// Validates `spec` without running it: syntax, semantic checks, log groups and the
    /// logical plan (StartQuery rejects what cannot run before issuing a query id).
    ///
    /// # Errors
    /// [`ApiError::MalformedQuery`] with the first error's character offsets (compile and
    /// planner errors); `ResourceNotFound` for a missing log group; `InvalidParameter`;
    /// `Internal`.
    fn validate(&self, spec: &QuerySpec) -> Result<(), ApiError>;
    /// Runs a query to its end; it observes `cancel`, reports `progress` now and then and,
    /// for queries that can give them honestly, `partial` results.
    fn run(
        &self,
        spec: QuerySpec,
        cancel: Cancel,
        progress: ProgressFn,
        partial: PartialFn,
    ) -> QueryFuture;
    /// Decodes an `@ptr` into `(log group, seq)`.
    fn decode_ptr(&self, ptr: &str) -> Option<(String, u64)>;
}
