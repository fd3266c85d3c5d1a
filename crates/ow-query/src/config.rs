//! Engine configuration: AWS limits as data with AWS's values as defaults (spec §7).

use std::path::PathBuf;
use std::time::Duration;

/// Configuration of a [`crate::QueryEngine`].
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Rows returned when the query has no `limit` and the request none either.
    /// AWS: 10,000 (spec §4.7).
    pub default_limit: usize,
    /// Largest row cap a request or a `limit` command may ask for; larger values are clipped.
    /// AWS: 100,000 (spec §4.7, §7).
    pub max_limit: usize,
    /// Query run time after which the query fails with [`crate::QueryError::Timeout`].
    /// AWS: 60 minutes (spec §7).
    pub timeout: Duration,
    /// Run time allowed to the inner query of `filter f in (…)`. AWS: 30 s (spec §4.15).
    pub subquery_timeout: Duration,
    /// Log groups per query. AWS: 50 (spec §7).
    pub max_log_groups: usize,
    /// Log groups a `SOURCE` command may select. AWS: 10,000 (spec §4.16).
    pub max_source_log_groups: usize,
    /// Directory holding lookup tables as `<name>.csv` (header row, UTF-8). `None`: the
    /// `lookup` command fails with a clear error.
    pub lookup_dir: Option<PathBuf>,
    /// Largest lookup table file in bytes. AWS: 10 MB (spec §4.13).
    pub max_lookup_bytes: u64,
    /// Parallel scan partitions (DataFusion target partitions).
    pub partitions: usize,
    /// Let the scan use the plan's filters early (late materialisation) and end top-N
    /// queries by `@timestamp` early (see [`crate::scan::EventScanExec`]). Results are the
    /// same either way; `false` is for comparison tests and diagnosis. Default `true`.
    pub scan_pushdown: bool,
    /// Count `stats count(*) by …` per batch by the raw bits of the keys before DataFusion's
    /// final aggregate (see `count_by`). Results are the same either way; `false` is for
    /// comparison tests and diagnosis. Default `true`.
    pub partial_count: bool,
    /// Rows per Arrow batch (DataFusion's batch size and the scan's read unit). Smaller
    /// batches let a top-N see its first rows, and end the scan, sooner; larger ones cost
    /// less per row. Default 8,192.
    pub batch_rows: usize,
    /// How timestamp values are rendered in results. Default [`TimestampStyle::Aws`]
    /// (GetQueryResults' form); the API always uses the default.
    pub timestamp_style: TimestampStyle,
    /// Whether every non-aggregated row carries its `@ptr`, listed or not, as GetQueryResults
    /// returns it (spec §10). `false` renders `@ptr` only for a query that lists it (`fields
    /// @ptr`): the CLI's row formats print nothing else (encoding it was a twentieth of a
    /// query printing 10,000 events). Default `true`.
    pub result_ptr: bool,
}

/// Rendering of timestamp values (`@timestamp`, `@ingestionTime`, `bin()` keys, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimestampStyle {
    /// `YYYY-MM-DD HH:MM:SS.mmm` UTC, as GetQueryResults renders them (spec §10).
    #[default]
    Aws,
    /// RFC 3339 / ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` only when the
    /// milliseconds are not zero: the form CloudTrail's `eventTime` and most tools use.
    Rfc3339,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            default_limit: 10_000,
            max_limit: 100_000,
            timeout: Duration::from_secs(60 * 60),
            subquery_timeout: Duration::from_secs(30),
            max_log_groups: 50,
            max_source_log_groups: 10_000,
            lookup_dir: None,
            max_lookup_bytes: 10 * 1024 * 1024,
            partitions: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            scan_pushdown: true,
            partial_count: true,
            batch_rows: 8192,
            timestamp_style: TimestampStyle::Aws,
            result_ptr: true,
        }
    }
}
