//! The Logs Insights engine: planner and executor on Apache DataFusion (DESIGN.md decision 1).
//!
//! ```text
//! query text --ow_query_syntax::check--> AST --analyze--> paths, prefilter
//!     --plan--> DataFusion LogicalPlan over an EventScan (store snapshot)
//!     --DataFusion--> Arrow batches --render--> GetQueryResults rows + statistics
//! ```
//!
//! Main types: [`QueryEngine`] (runs a [`QueryRequest`] to a [`QueryOutput`]),
//! [`EngineConfig`] (AWS limits as data), [`QueryError`], [`CancelToken`]. Modules:
//! [`scan`] (what is read from segments and the buffer), [`plan`] (AST -> logical plan),
//! [`skip`] (block skipping with the segments' n-gram index), [`render`] (GetQueryResults value strings), [`ptr`] (`@ptr` encoding), [`lookup`]
//! (lookup tables).
//!
//! # Behaviour where the spec says [I] (our choices)
//!
//! - Rows without `sort`: events newest first (spec §4.8), ties broken by log group and then
//!   by `__seq` descending so results are deterministic. After `stats` without a later
//!   `sort`: ascending by the group keys in natural order (bins come out in time order).
//! - `sort`: missing values last in both directions; natural order from `ow_functions`.
//! - A missing `stats` key forms its own group with the key absent (spec §4.5).
//! - `parse`: glob is an unanchored search, lazy stars except a final one; `multi` with no
//!   match keeps the event once with absent fields (like non-`multi` parse).
//! - `unnest`: an empty list, a missing value or JSON null give no rows; any other non-list
//!   value is a one-element list. `expand` on a missing field gives no rows.
//! - `lookup`: keys match as text; the first table row of a key wins; an event without a
//!   match keeps its fields under both `OUTPUT` and `OUTPUTNEW`.
//! - `filter f in (subquery)`: without `SOURCE` the subquery reads the outer query's log
//!   groups; it may return up to [`EngineConfig::max_limit`] rows and run
//!   [`EngineConfig::subquery_timeout`] (AWS: 30 s).
//! - `filterIndex` is evaluated as the same filter (no field indexes yet, so every log group
//!   counts as indexed: results are exact, nothing is skipped).
//! - `limit any` is the implicit cap. An explicit `limit` may exceed the 10,000 default up
//!   to [`EngineConfig::max_limit`]; StartQuery's `limit` clips it.
//! - Statistics: `recordsScanned` = events in the range, also those whose blocks the scan
//!   skipped (skipped row groups count whole); `recordsMatched` = rows reaching the first
//!   `stats` (or the first `limit`/`dedup`, or the end), counted among the row groups read,
//!   so a top-N by `@timestamp` that skips row groups reports the matches it saw; `bytesScanned` =
//!   UTF-8 bytes of `@message` of the row groups in the range, from Parquet column metadata
//!   (exact bytes for the in-memory buffer). See [`scan::ScanCounters`].
//! - `SOURCE … start=<t> end=<t>` replaces the request's window (`now`, or a period before
//!   now; calendar periods are rejected, Q417); `SOURCE logGroups(class: …)` defaults to
//!   `STANDARD` (every OpenWatch log group is).
//! - Commands outside this release (`pattern`, `anomaly`, `diff`, `logcompare`, `join`,
//!   `unmask`, `cidrlookup`, the row-wise analytics commands, `parse … logfmt|csv`) fail
//!   with `Q400`/`Q413` naming the command; nothing is silently ignored.
//!
//! Planner diagnostic codes: `Q400` unsupported command, `Q401`–`Q403` misplaced `*`, list
//! or subquery, `Q404`/`Q405` aggregate misuse, `Q406` bad regex, `Q407`/`Q409` operator or
//! function errors from the function library, `Q408` `bin()` without `@timestamp`, `Q410`
//! bad `bin … offset`, `Q411`/`Q412` parse pattern errors, `Q413` unsupported parse mode,
//! `Q414` lookup column missing, `Q415` a command after `dedup`, `Q416` no lookup directory,
//! `Q417`–`Q420` `SOURCE` errors, `Q421` a lookup table that cannot be loaded (from
//! [`QueryEngine::validate`]; a run reports [`QueryError::LookupTable`]), `Q422` a field
//! named like a hidden column of the engine (`__seq`, `__group`, `__elem…`).

pub mod analyze;
pub mod config;
mod count_by;
mod engine;
pub mod error;
pub mod fields;
mod fx;
pub mod lookup;
mod matched;
pub mod output;
pub mod parse;
mod partial;
pub mod plan;
pub mod ptr;
pub mod render;
pub mod scan;
pub mod skip;
mod udf;

pub use config::{EngineConfig, TimestampStyle};
pub use engine::{session_context, PartialRowsFn, Progress, QueryEngine};
pub use error::QueryError;
pub use output::{CancelToken, QueryOutput, QueryRequest, QueryStatistics, ResultField};
