//! Adapter between the planner and the function library (`ow_functions`): every operator,
//! scalar function, aggregate and the natural sort key the planner emits goes through here.

use datafusion::logical_expr::{lit, Expr};
use ow_query_syntax::ast::BinaryOp;

/// Query-level values some functions need (spec §6.3, §6.4).
#[derive(Debug, Clone, Copy)]
pub struct CallContext {
    /// Query window start, epoch ms.
    pub start_ms: i64,
    /// Query window end, epoch ms.
    pub end_ms: i64,
}

/// Whether `name` (canonical lower case) is an aggregate function (spec §6.8, §6.9).
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "avg"
            | "count"
            | "count_distinct"
            | "max"
            | "min"
            | "pct"
            | "stddev"
            | "sum"
            | "earliest"
            | "latest"
            | "sortsfirst"
            | "sortslast"
            | "rate"
            | "count_over_time"
            | "sum_over_time"
            | "histogram"
    )
}

/// A scalar function call.
pub fn scalar(name: &str, _args: Vec<Expr>, _ctx: &CallContext) -> Result<Expr, String> {
    Err(format!("function {name}() is not available"))
}

/// An aggregate call.
pub fn aggregate(name: &str, _args: Vec<Expr>) -> Result<Expr, String> {
    Err(format!("aggregate {name}() is not available"))
}

/// A binary operator (comparison, arithmetic, like with a string, and/or).
pub fn binary(op: BinaryOp, l: Expr, r: Expr) -> Result<Expr, String> {
    let _ = (l, r);
    Err(format!("operator {} is not available", op.as_str()))
}

/// `l like /re/`, `l =~ /re/` (negated: `not like`).
pub fn regex_match(l: Expr, _pattern: &str, _negated: bool) -> Expr {
    l
}

/// `l in [items]` / `not in`.
pub fn in_list(l: Expr, _items: Vec<Expr>, _negated: bool) -> Expr {
    l
}

/// `not e`.
pub fn not(e: Expr) -> Expr {
    e
}

/// `-e`.
pub fn neg(e: Expr) -> Expr {
    e
}

/// `e` as a filter predicate (Boolean).
pub fn truthy(e: Expr) -> Expr {
    e
}

/// The natural-sort key of `e` (spec §4.6).
pub fn sort_key(e: Expr) -> Expr {
    e
}

/// `base.key`.
pub fn member(base: Expr, _key: &str) -> Expr {
    base
}

/// `base[index]`.
pub fn index(base: Expr, _index: Expr) -> Expr {
    base
}

/// `coalesce(args…)`.
pub fn coalesce(args: Vec<Expr>) -> Expr {
    args.into_iter()
        .next()
        .unwrap_or_else(|| lit(datafusion::common::ScalarValue::Utf8(None)))
}
