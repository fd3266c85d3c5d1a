//! Requests, results and statistics (CONTRACTS.md "Engine -> CLI/API", spec §10).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

/// One query to run.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    /// Logs Insights query text.
    pub query: String,
    /// Log groups to read (names). May be empty when the query starts with `SOURCE`.
    pub log_groups: Vec<String>,
    /// Inclusive range start, epoch **ms** (the API converts from StartQuery's seconds).
    pub start_ms: i64,
    /// Inclusive range end, epoch **ms**.
    pub end_ms: i64,
    /// StartQuery's `limit`: the implicit row cap (1..=max_limit); `None` = the configured
    /// default (10,000). An explicit `limit` command larger than this is clipped (spec §4.7).
    pub limit: Option<usize>,
}

/// One `{field, value}` pair of a result row (GetQueryResults `ResultField`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultField {
    /// Column name.
    pub field: String,
    /// Rendered value (see [`crate::render`]).
    pub value: String,
}

/// Query statistics (GetQueryResults `statistics`; all counts of events/bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatistics {
    /// Events that satisfied the filters (for `stats` queries: events fed to the first
    /// aggregation), before `limit`.
    pub records_matched: f64,
    /// Events in the time range read from the selected log groups.
    pub records_scanned: f64,
    /// UTF-8 bytes of `@message` of the scanned events.
    pub bytes_scanned: f64,
    /// Log groups the query read.
    pub log_groups_scanned: f64,
}

/// A finished query's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryOutput {
    /// Output columns in projection order (without `@ptr`).
    pub columns: Vec<String>,
    /// Rows exactly as GetQueryResults returns them: missing values omitted, `@ptr` last on
    /// non-aggregated rows.
    pub rows: Vec<Vec<ResultField>>,
    /// Statistics.
    pub statistics: QueryStatistics,
    /// Work counters of the scan (rows parsed, row groups read/skipped), for tests and
    /// diagnosis; not part of GetQueryResults.
    #[serde(skip)]
    #[doc(hidden)]
    pub scan: crate::scan::ScanMetrics,
    /// The row cap (rows) when it left rows out: the StartQuery `limit`, the configured
    /// default, or the most a query returns where the query's own `limit` asked for more;
    /// `None` when nothing was cut or the query's own `limit` cut. Not part of
    /// GetQueryResults (AWS does not say); the CLI's row-cap note reads it.
    #[serde(skip)]
    pub rows_cut_by_cap: Option<usize>,
    /// The log groups the query read, by name: the request's, or those its `SOURCE`
    /// command selected (spec §4.16). Not part of GetQueryResults; the CLI's note on a
    /// field no event has reads their field statistics.
    #[serde(skip)]
    pub log_groups: Vec<String>,
}

impl QueryOutput {
    /// The value of `field` in row `row`, if present.
    pub fn get(&self, row: usize, field: &str) -> Option<&str> {
        self.rows
            .get(row)?
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.value.as_str())
    }
}

/// Cooperative cancellation of a running query (AWS `StopQuery`). Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(pub(crate) Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requests cancellation; the query fails with [`crate::QueryError::Cancelled`] soon after.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
