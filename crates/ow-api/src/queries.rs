//! The asynchronous Logs Insights query lifecycle (StartQuery, GetQueryResults, StopQuery,
//! DescribeQueries; spec/api.md §A.2).
//!
//! A started query is `Scheduled`, becomes `Running` when its tokio task starts, and ends
//! `Complete`, `Failed`, `Cancelled` (StopQuery) or `Timeout` (the engine's timeout, AWS: 60
//! minutes). At most [`crate::ApiConfig::max_concurrent_queries`] queries are Scheduled or
//! Running at once; StartQuery beyond that is `LimitExceededException`. Finished queries are
//! kept for [`crate::ApiConfig::query_retention`].
//!
//! Partial results (AWS: "the results found so far" while `Running`): the engine reports,
//! for streaming queries, the rows already certain to be in the final result (see
//! `QueryEngine::run_with_partial_results`); GetQueryResults of a Running query shows them.
//! A row shown while Running is always in the final result. Aggregations and sorted
//! queries show no rows until Complete [I].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{
    Cancel, PartialFn, ProgressFn, QueryBackend, QueryFailure, QueryResult, QuerySpec,
};
use parking_lot::Mutex;

use crate::error::ApiError;

/// Result rows of `(field, value)`.
pub type Rows = Vec<Vec<(String, String)>>;

/// A query's status as GetQueryResults and DescribeQueries report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    /// Accepted, not started yet.
    Scheduled,
    /// Executing.
    Running,
    /// Finished with results.
    Complete,
    /// Finished with an error.
    Failed,
    /// Stopped by StopQuery (or server shutdown).
    Cancelled,
    /// Ran past the engine's timeout.
    Timeout,
}

impl QueryStatus {
    /// The wire name (`Scheduled`, `Running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            QueryStatus::Scheduled => "Scheduled",
            QueryStatus::Running => "Running",
            QueryStatus::Complete => "Complete",
            QueryStatus::Failed => "Failed",
            QueryStatus::Cancelled => "Cancelled",
            QueryStatus::Timeout => "Timeout",
        }
    }

    /// The status named `s` on the wire.
    pub fn parse(s: &str) -> Option<QueryStatus> {
        Some(match s {
            "Scheduled" => QueryStatus::Scheduled,
            "Running" => QueryStatus::Running,
            "Complete" => QueryStatus::Complete,
            "Failed" => QueryStatus::Failed,
            "Cancelled" => QueryStatus::Cancelled,
            "Timeout" => QueryStatus::Timeout,
            _ => return None,
        })
    }

    fn is_active(self) -> bool {
        matches!(self, QueryStatus::Scheduled | QueryStatus::Running)
    }
}

/// What a started query needs beyond the engine request.
#[derive(Debug, Clone)]
pub struct QueryMeta {
    /// Account that started it (DescribeQueries shows an account only its own queries).
    pub account_id: String,
    /// The query text as sent.
    pub query_string: String,
    /// The log groups (names), in request order.
    pub log_group_names: Vec<String>,
}

/// A snapshot of one query's state.
#[derive(Debug, Clone)]
pub struct QueryInfo {
    /// The query id (a UUID).
    pub query_id: String,
    /// Request metadata.
    pub meta: QueryMeta,
    /// Current status.
    pub status: QueryStatus,
    /// When StartQuery accepted it, epoch ms.
    pub create_time_ms: i64,
    /// Run time so far or in total, ms.
    pub duration_ms: u64,
    /// The results once Complete.
    pub output: Option<Arc<QueryResult>>,
    /// Why it failed, when Failed.
    pub error: Option<String>,
    /// `(records scanned, bytes scanned)` so far while running (GetQueryResults shows them
    /// in `statistics` before the query completes).
    pub progress: (u64, u64),
    /// While running: the rows found so far that are certain to be in the final result,
    /// in final order (`None` until the engine reports any).
    pub partial_rows: Option<Arc<Rows>>,
}

struct Record {
    meta: QueryMeta,
    status: QueryStatus,
    create_time_ms: i64,
    started: Instant,
    finished: Option<Instant>,
    output: Option<Arc<QueryResult>>,
    error: Option<String>,
    cancel: Cancel,
    progress: (u64, u64),
    partial_rows: Option<Arc<Rows>>,
}

/// Runs queries on the engine and tracks them by id.
pub struct QueryManager {
    engine: Arc<dyn QueryBackend>,
    max_concurrent: usize,
    records: Arc<Mutex<HashMap<String, Record>>>,
}

impl QueryManager {
    /// A manager running at most `max_concurrent` queries at once on `engine`.
    pub fn new(engine: Arc<dyn QueryBackend>, max_concurrent: usize) -> Self {
        QueryManager {
            engine,
            max_concurrent,
            records: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Schedules `request` and returns its query id at once; the query runs on a tokio task.
    /// Records finished longer ago than `retention` are dropped first.
    ///
    /// # Errors
    /// `LimitExceeded` when `max_concurrent` queries are already Scheduled or Running;
    /// `Internal` when called outside a tokio runtime.
    pub fn start(
        &self,
        request: QuerySpec,
        meta: QueryMeta,
        retention: Duration,
    ) -> Result<String, ApiError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| ApiError::Internal(format!("no runtime for the query task: {e}")))?;
        let query_id = uuid::Uuid::new_v4().to_string();
        let cancel = Cancel::new();
        {
            let mut records = self.records.lock();
            records.retain(|_, r| r.finished.is_none_or(|f| f.elapsed() < retention));
            let active = records.values().filter(|r| r.status.is_active()).count();
            if active >= self.max_concurrent {
                return Err(ApiError::LimitExceeded(format!(
                    "Account maximum query concurrency limit of [{}] reached.",
                    self.max_concurrent
                )));
            }
            records.insert(
                query_id.clone(),
                Record {
                    meta,
                    status: QueryStatus::Scheduled,
                    create_time_ms: now_ms(),
                    started: Instant::now(),
                    finished: None,
                    output: None,
                    error: None,
                    cancel: cancel.clone(),
                    progress: (0, 0),
                    partial_rows: None,
                },
            );
        }
        let engine = self.engine.clone();
        let records = self.records.clone();
        let id = query_id.clone();
        runtime.spawn(async move {
            {
                let mut recs = records.lock();
                match recs.get_mut(&id) {
                    Some(r) if r.status == QueryStatus::Scheduled => {
                        r.status = QueryStatus::Running;
                    }
                    // Stopped before it started.
                    _ => return,
                }
            }
            let progress: ProgressFn = {
                let records = records.clone();
                let id = id.clone();
                Arc::new(move |scanned, bytes| {
                    if let Some(r) = records.lock().get_mut(&id) {
                        r.progress = (scanned, bytes);
                    }
                })
            };
            let partial: PartialFn = {
                let records = records.clone();
                let id = id.clone();
                Arc::new(move |rows| {
                    if let Some(r) = records.lock().get_mut(&id) {
                        if r.status == QueryStatus::Running {
                            r.partial_rows = Some(Arc::new(rows));
                        }
                    }
                })
            };
            let result = engine.run(request, cancel, progress, partial).await;
            let mut recs = records.lock();
            let Some(r) = recs.get_mut(&id) else { return };
            r.finished = Some(Instant::now());
            r.partial_rows = None;
            if r.status == QueryStatus::Cancelled {
                return;
            }
            match result {
                Ok(output) => {
                    r.status = QueryStatus::Complete;
                    r.output = Some(Arc::new(output));
                }
                Err(QueryFailure::Cancelled) => r.status = QueryStatus::Cancelled,
                Err(QueryFailure::Timeout) => r.status = QueryStatus::Timeout,
                Err(QueryFailure::Failed(e)) => {
                    tracing::info!(query_id = %id, error = %e, "query failed");
                    r.status = QueryStatus::Failed;
                    r.error = Some(e);
                }
            }
        });
        Ok(query_id)
    }

    /// The state of query `query_id` of `account_id`.
    ///
    /// # Errors
    /// `ResourceNotFound` if there is no such query (or it is another account's).
    pub fn get(&self, account_id: &str, query_id: &str) -> Result<QueryInfo, ApiError> {
        let records = self.records.lock();
        records
            .get(query_id)
            .filter(|r| r.meta.account_id == account_id)
            .map(|r| info(query_id, r))
            .ok_or_else(|| ApiError::ResourceNotFound("Query does not exist.".to_string()))
    }

    /// Stops a Scheduled or Running query: its status becomes `Cancelled` at once.
    ///
    /// # Errors
    /// `ResourceNotFound` for an unknown id; `InvalidParameter` if it already ended
    /// (spec §A.2 StopQuery: an error, "not running").
    pub fn stop(&self, account_id: &str, query_id: &str) -> Result<(), ApiError> {
        let mut records = self.records.lock();
        let r = records
            .get_mut(query_id)
            .filter(|r| r.meta.account_id == account_id)
            .ok_or_else(|| ApiError::ResourceNotFound("Query does not exist.".to_string()))?;
        if !r.status.is_active() {
            return Err(ApiError::InvalidParameter(format!(
                "Query {query_id} is not running (status {})",
                r.status.as_str()
            )));
        }
        r.cancel.cancel();
        r.status = QueryStatus::Cancelled;
        r.finished = Some(Instant::now());
        Ok(())
    }

    /// All queries of `account_id`, newest first.
    pub fn list(&self, account_id: &str) -> Vec<QueryInfo> {
        let records = self.records.lock();
        let mut out: Vec<QueryInfo> = records
            .iter()
            .filter(|(_, r)| r.meta.account_id == account_id)
            .map(|(id, r)| info(id, r))
            .collect();
        out.sort_by(|a, b| {
            b.create_time_ms
                .cmp(&a.create_time_ms)
                .then_with(|| a.query_id.cmp(&b.query_id))
        });
        out
    }

    /// Cancels every active query (server shutdown).
    pub fn cancel_all(&self) {
        let mut records = self.records.lock();
        for r in records.values_mut() {
            if r.status.is_active() {
                r.cancel.cancel();
                r.status = QueryStatus::Cancelled;
                r.finished = Some(Instant::now());
            }
        }
    }
}

fn info(id: &str, r: &Record) -> QueryInfo {
    let end = r.finished.unwrap_or_else(Instant::now);
    QueryInfo {
        query_id: id.to_string(),
        meta: r.meta.clone(),
        status: r.status,
        create_time_ms: r.create_time_ms,
        duration_ms: u64::try_from(end.saturating_duration_since(r.started).as_millis())
            .unwrap_or(u64::MAX),
        output: r.output.clone(),
        error: r.error.clone(),
        progress: r.progress,
        partial_rows: r.partial_rows.clone(),
    }
}

/// The server clock, epoch ms.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
