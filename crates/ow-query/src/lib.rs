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
//! [`render`] (GetQueryResults value strings), [`ptr`] (`@ptr` encoding), [`lookup`]
//! (lookup tables).

pub mod analyze;
pub mod config;
mod engine;
pub mod error;
pub mod fields;
mod fx;
pub mod lookup;
pub mod output;
pub mod parse;
pub mod plan;
pub mod ptr;
pub mod render;
pub mod scan;
mod udf;

pub use config::EngineConfig;
pub use engine::{Progress, QueryEngine};
pub use error::QueryError;
pub use output::{CancelToken, QueryOutput, QueryRequest, QueryStatistics, ResultField};
