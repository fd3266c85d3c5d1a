//! The planner: Logs Insights AST -> DataFusion [`LogicalPlan`] (DESIGN.md decision 1).
//!
//! The plan is built directly with [`LogicalPlanBuilder`]; no SQL text is involved. The
//! record model (spec §1) maps onto the plan's schema: every column is a field; `fields`
//! adds columns (keeping all others, so later commands still see every field); `display` only
//! chooses output columns; `stats` replaces the schema with its keys and aggregates. The
//! output columns (spec §4.1–§4.3) are tracked beside the plan and projected at the end.
//!
//! Hidden columns `__seq`/`__group` ride along until the first `stats` so that
//! non-aggregated rows get an `@ptr`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::DataType;
use datafusion::common::{Column, UnnestOptions};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{lit, Expr, LogicalPlan, LogicalPlanBuilder, SortExpr, Volatility};
use ow_diagnostics::Span;
use ow_functions::long_integer;
use ow_query_syntax::ast::{
    BinaryOp, Call, Command, Expr as Ast, Field, Limit, Literal, LookupMode, Node, ParseMode,
    Projection, Query, SortOrder, Stats, UnaryOp,
};

use crate::error::QueryError;
use crate::fx;
use crate::lookup::LookupTable;
use crate::scan::{GROUP, SEQ};
use crate::udf::FnUdf;

/// Loads a lookup table by name (the name's span for diagnostics): [`PlanContext::lookup`].
pub type LookupLoader<'a> = dyn Fn(&str, Span) -> Result<Arc<LookupTable>, QueryError> + Sync + 'a;

/// Everything the planner needs besides the AST.
pub struct PlanContext<'a> {
    /// The query text (auto column names are slices of it, spec §4.1/§4.5).
    pub src: &'a str,
    /// Inclusive query window, epoch ms (for `now()`, `queryStartTime()` …).
    pub start_ms: i64,
    /// Inclusive query window end, epoch ms.
    pub end_ms: i64,
    /// When the query started running, epoch ms (`now()`).
    pub now_ms: i64,
    /// Materialised results of `f in (subquery)`, keyed by the subquery's span start.
    pub subqueries: HashMap<usize, Vec<String>>,
    /// Loads a lookup table by name.
    pub lookup: &'a LookupLoader<'a>,
    /// Counter of rows that reach the matched-rows point (`recordsMatched`).
    pub matched: Arc<AtomicU64>,
    /// The query reads at most one log group: the log group tie-breaker of the event order
    /// is then constant and left out of the sort (it was a string key in every comparison
    /// of the top-N's heap; paired runs of a 10,000-row query: 0.92 of the time without it).
    pub single_log_group: bool,
}

/// A planned query.
pub struct Planned {
    /// The logical plan (rows in final order, all columns).
    pub plan: LogicalPlan,
    /// Output column names in projection order (GetQueryResults field names).
    pub columns: Vec<String>,
    /// Whether rows carry `@ptr` (non-aggregated rows).
    pub with_ptr: bool,
    /// `dedup` keys, applied to the collected rows in order (only `limit` may follow).
    pub dedup: Option<Vec<String>>,
    /// The rows the matched-rows counter counts, counted (one row, one `Int64` column):
    /// run over the row groups a top-N skipped, whose matches the counter never saw
    /// (`ScanCounters::skipped_by_top_n`). `None` when the query has no counter.
    pub matched_count_plan: Option<LogicalPlan>,
    /// Row cap applied after `dedup` (and always as the final cap). The plan itself stops
    /// one row later, so that the engine can tell whether the cap left rows out.
    pub final_limit: usize,
    /// Whether `final_limit` is the row cap (StartQuery `limit`, the default, or the most a
    /// query returns where the query's own `limit` asked for more) rather than the query's
    /// own `limit`: only then is a cut worth a note.
    pub cap_governs: bool,
}

/// Longest top-level `and` chain of a filter split into separate conjuncts (longer chains
/// stay one balanced call, see `expr_in`).
const MAX_SPLIT_CONJUNCTS: usize = 16;

fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

static UDF_ID: AtomicU64 = AtomicU64::new(0);

fn udf_name(prefix: &str) -> String {
    format!("{prefix}_{}", UDF_ID.fetch_add(1, Ordering::Relaxed))
}

/// Planner state while walking the pipeline.
struct State<'a, 'c> {
    ctx: &'a PlanContext<'c>,
    builder: LogicalPlanBuilder,
    /// Output columns of `fields` commands (accumulate, spec §4.1).
    fields_out: Vec<String>,
    /// Output columns of the last `display` (last wins, spec §4.2).
    display_out: Option<Vec<String>>,
    /// A `stats` ran: rows are aggregates, no `@ptr`.
    aggregated: bool,
    /// Group keys of the last `stats` (for the deterministic default order).
    stats_keys: Vec<String>,
    /// An explicit `sort` ran after the last `stats` (or anywhere when no stats).
    sorted: bool,
    /// An explicit `limit` was seen.
    explicit_limit: Option<usize>,
    /// dedup keys once a `dedup` ran.
    dedup: Option<Vec<String>>,
    /// The matched-rows counter was placed (or found unneeded, see `needs_counter`).
    counted: bool,
    /// The plan below the matched-rows counter: the rows it counts.
    matched_input: Option<LogicalPlan>,
    /// Whether rows can reach the matched-rows counter other than one for one with the
    /// events in range: a `filter` drops rows, `unnest`/`expand`/`parse … multi` multiply
    /// them. Without any,
    /// the engine reports recordsMatched = recordsScanned and no counter is planned.
    needs_counter: bool,
    /// Period of the `bin()` group key of the stats being planned (the window of
    /// `rate()`, see `ow_functions::agg`); `None` elsewhere.
    stats_bin: Option<ow_functions::Period>,
    /// `unnest`/`expand`/`parse … multi` commands planned so far: the k-th added the hidden
    /// column `__elem<k>` (the element's position in its list, see [`ELEM`]).
    expansions: usize,
}

/// Prefix of the hidden columns that hold, for each row an `unnest`, `expand` or `parse …
/// multi` made, the position of its element in the event's list. They break ties after
/// `__seq`, ascending, so the records made from one event keep their list order (AWS's
/// `unnest` example lists them so; spec §4.12 [V] "each element produces a new record").
pub(crate) const ELEM: &str = "__elem";

impl<'a, 'c> State<'a, 'c> {
    fn schema_has(&self, name: &str) -> bool {
        self.builder
            .schema()
            .field_with_unqualified_name(name)
            .is_ok()
    }

    fn names(&self) -> Vec<String> {
        self.builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn text(&self, span: Span) -> String {
        span.slice(self.ctx.src).unwrap_or("").trim().to_string()
    }

    fn take(&mut self) -> LogicalPlanBuilder {
        std::mem::replace(&mut self.builder, LogicalPlanBuilder::empty(false))
    }

    /// Adds (or replaces) column `name` computed by `e`, keeping every other column.
    fn set_column(&mut self, name: &str, e: Expr) -> Result<(), QueryError> {
        self.set_columns(vec![(name.to_string(), e)])
    }

    fn set_columns(&mut self, new: Vec<(String, Expr)>) -> Result<(), QueryError> {
        let mut exprs: Vec<Expr> = self
            .names()
            .into_iter()
            .filter(|n| !new.iter().any(|(m, _)| m == n))
            .map(|n| column(&n))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for (n, e) in new.into_iter().rev() {
            if seen.insert(n.clone()) {
                exprs.push(e.alias(n));
            }
        }
        let b = self.take();
        self.builder = b.project(exprs)?;
        Ok(())
    }

    // ---------------------------------------------------------------- expressions

    /// Resolves a field name against the current columns (spec §2.4 paths, §6.5 access).
    fn field(&self, name: &str) -> Expr {
        if self.schema_has(name) {
            return column(name);
        }
        // `j.items.0.x` where `j` (or `j.items`) is a column: member access.
        let mut head = name;
        while let Some((h, _)) = head.rsplit_once('.') {
            if self.schema_has(h) {
                let mut e = column(h);
                for key in name[h.len() + 1..].split('.') {
                    e = fx::member(e, key);
                }
                return e;
            }
            head = h;
        }
        // Absent field: missing everywhere (spec §3.4).
        lit(datafusion::common::ScalarValue::Utf8(None))
    }

    fn expr(&self, e: &Node<Ast>) -> Result<Expr, QueryError> {
        self.expr_in(e, None)
    }

    /// Translates an expression. `aggs` collects aggregate calls when translating a `stats`
    /// item (each is replaced by a column `__agg<N>`); `None` rejects aggregates.
    fn expr_in(
        &self,
        e: &Node<Ast>,
        mut aggs: Option<&mut AggCollector>,
    ) -> Result<Expr, QueryError> {
        let span = e.span;
        Ok(match &e.node {
            Ast::Literal(l) => literal(l),
            Ast::Field(f) => match aggs.as_deref() {
                Some(c) if c.aliases.contains_key(&f.name) => c.aliases[&f.name].clone(),
                _ => self.field(&f.name),
            },
            Ast::Star => {
                return Err(QueryError::plan(
                    "Q401",
                    "`*` is only allowed in count(*)",
                    span,
                ))
            }
            Ast::List(_) => {
                return Err(QueryError::plan(
                    "Q402",
                    "a list is only allowed on the right of `in`",
                    span,
                ))
            }
            Ast::Subquery(_) => {
                return Err(QueryError::plan(
                    "Q403",
                    "a subquery is only allowed as `filter <field> in (…)`",
                    span,
                ))
            }
            Ast::Call(call) => {
                if fx::is_aggregate(&call.name) {
                    let Some(c) = aggs.as_deref_mut() else {
                        // After a stats, an aggregate written outside a stats aggregate names
                        // that stats' column of the same text (`stats count(*) by k | sort
                        // count(*) desc`, `| stats max(count(*))`), spec §4.5 "second stats can
                        // reference these (`SUM(Fault)`)" [V]; case-insensitively [I].
                        if self.aggregated {
                            let written = self.text(span);
                            let found =
                                self.names()
                                    .into_iter()
                                    .find(|n| *n == written)
                                    .or_else(|| {
                                        self.names()
                                            .into_iter()
                                            .find(|n| n.eq_ignore_ascii_case(&written))
                                    });
                            if let Some(name) = found {
                                return Ok(column(&name));
                            }
                        }
                        return Err(QueryError::plan(
                            "Q404",
                            format!(
                                "aggregate function {}() is only allowed in stats",
                                call.written.node
                            ),
                            span,
                        ));
                    };
                    // earliest(f)/latest(f) pick by the events' @timestamp, which an earlier
                    // stats does not keep: the checks report Q335 first; this backstop keeps
                    // an unchecked plan from failing with an internal schema error.
                    if matches!(call.name.as_str(), "earliest" | "latest")
                        && call.args.len() == 1
                        && !self.schema_has("@timestamp")
                    {
                        return Err(QueryError::plan(
                            "Q335",
                            format!(
                                "`{}()` picks a value by `@timestamp`, which the preceding \
                                 `stats` did not keep",
                                call.written.node
                            ),
                            span,
                        ));
                    }
                    let args = self.call_args(call, None)?;
                    let agg = fx::aggregate(&call.name, args, &self.fctx())
                        .map_err(|m| QueryError::plan("Q405", m, span))?;
                    return Ok(c.push(agg));
                }
                let args = self.call_args(call, aggs)?;
                self.scalar(call, args, span)?
            }
            Ast::Unary { op, expr } => {
                let inner = self.expr_in(expr, aggs)?;
                match op {
                    UnaryOp::Neg => fx::neg(inner),
                    UnaryOp::Not => fx::not(inner),
                }
            }
            Ast::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                ..
            } => {
                // Flatten a chain of the same operator and rebuild it balanced, so that a
                // query with hundreds of comparisons stays shallow (no deep recursion in
                // the optimizer; AWS limits nothing here either).
                let mut operands = Vec::new();
                flatten_chain(e, *op, &mut operands);
                let mut exprs = operands
                    .into_iter()
                    .map(|o| self.expr_in(o, aggs.as_deref_mut()))
                    .collect::<Result<Vec<_>, _>>()?;
                while exprs.len() > 1 {
                    let mut next = Vec::with_capacity(exprs.len().div_ceil(2));
                    let mut it = exprs.into_iter();
                    while let Some(a) = it.next() {
                        match it.next() {
                            Some(b) => next.push(
                                fx::binary(*op, a, b)
                                    .map_err(|m| QueryError::plan("Q407", m, span))?,
                            ),
                            None => next.push(a),
                        }
                    }
                    exprs = next;
                }
                exprs
                    .pop()
                    .ok_or_else(|| QueryError::Internal("empty boolean chain".into()))?
            }
            Ast::Binary { op, .. } if fx::arith_op(*op).is_some() => {
                // A left-deep arithmetic chain `a + b - c * …` (the parser builds
                // `((a + b) - c) …`): walk its left spine without recursion and plan it as
                // one flat call, so that a 1,000-term chain (legal: queries may be 10,000
                // characters, spec §2.1) neither overflows the stack nor makes DataFusion
                // re-derive names/types of nested calls per node (QA: super-linear).
                let mut rest = Vec::new();
                let mut cur = e;
                while let Ast::Binary { op, lhs, rhs } = &cur.node {
                    let Some(a) = fx::arith_op(*op) else { break };
                    rest.push((a, rhs));
                    cur = lhs;
                }
                rest.reverse();
                let first = self.expr_in(cur, aggs.as_deref_mut())?;
                let rest = rest
                    .into_iter()
                    .map(|(a, r)| Ok((a, self.expr_in(r, aggs.as_deref_mut())?)))
                    .collect::<Result<Vec<_>, QueryError>>()?;
                fx::arith_chain(first, rest)
            }
            Ast::Binary { op, lhs, rhs } => {
                let l = self.expr_in(lhs, aggs.as_deref_mut())?;
                match (op, &rhs.node) {
                    (
                        BinaryOp::Like | BinaryOp::NotLike | BinaryOp::RegexMatch,
                        Ast::Literal(Literal::Regex(r)),
                    ) => {
                        let pattern = regex_text(r);
                        regex::Regex::new(&pattern).map_err(|err| {
                            QueryError::plan("Q406", format!("invalid regex: {err}"), rhs.span)
                        })?;
                        fx::regex_match(l, &pattern, *op == BinaryOp::NotLike)
                            .map_err(|m| QueryError::plan("Q406", m, rhs.span))?
                    }
                    (BinaryOp::Like | BinaryOp::NotLike, Ast::Literal(Literal::String(needle))) => {
                        fx::like_substring(l, needle, *op == BinaryOp::NotLike)
                    }
                    (BinaryOp::In | BinaryOp::NotIn, Ast::List(items)) => {
                        let items = items
                            .iter()
                            .map(|i| self.expr_in(i, aggs.as_deref_mut()))
                            .collect::<Result<Vec<_>, _>>()?;
                        fx::in_list(l, items, *op == BinaryOp::NotIn)
                    }
                    (BinaryOp::In | BinaryOp::NotIn, Ast::Subquery(_)) => {
                        let values = self.ctx.subqueries.get(&rhs.span.start).ok_or_else(|| {
                            QueryError::Internal("subquery was not run before planning".into())
                        })?;
                        let items = values.iter().map(|v| lit(v.as_str())).collect();
                        fx::in_list(l, items, *op == BinaryOp::NotIn)
                    }
                    (BinaryOp::In | BinaryOp::NotIn, _) => {
                        let r = self.expr_in(rhs, aggs)?;
                        fx::in_list(l, vec![r], *op == BinaryOp::NotIn)
                    }
                    _ => {
                        let r = self.expr_in(rhs, aggs)?;
                        fx::binary(*op, l, r).map_err(|m| QueryError::plan("Q407", m, span))?
                    }
                }
            }
            Ast::Member { base, name } => fx::member(self.expr_in(base, aggs)?, &name.node),
            Ast::Index { base, index } => {
                let b = self.expr_in(base, aggs.as_deref_mut())?;
                fx::index(b, self.expr_in(index, aggs)?)
            }
        })
    }

    fn call_args(
        &self,
        call: &Call,
        mut aggs: Option<&mut AggCollector>,
    ) -> Result<Vec<Expr>, QueryError> {
        let mut out = Vec::with_capacity(call.args.len());
        for a in &call.args {
            // `count(*)`: the function library takes no argument for "all records".
            if !matches!(a.node, Ast::Star) {
                out.push(self.expr_in(a, aggs.as_deref_mut())?);
            }
        }
        Ok(out)
    }

    fn fctx(&self) -> ow_functions::QueryContext {
        ow_functions::QueryContext {
            start_ms: self.ctx.start_ms,
            end_ms: self.ctx.end_ms,
            now_ms: self.ctx.now_ms,
            bin: self.stats_bin,
        }
    }

    fn scalar(&self, call: &Call, args: Vec<Expr>, span: Span) -> Result<Expr, QueryError> {
        // bin(period) reads @timestamp implicitly (spec §6.3).
        if call.name == "bin" && args.len() == 1 && !self.schema_has("@timestamp") {
            return Err(QueryError::plan(
                "Q408",
                "bin() needs @timestamp, which the previous stats did not keep",
                span,
            ));
        }
        fx::scalar(&call.name, args, &self.fctx()).map_err(|m| QueryError::plan("Q409", m, span))
    }

    /// A filter predicate: the expression coerced to boolean (non-zero numbers are true).
    ///
    /// A top-level `a and b and …` (up to [`MAX_SPLIT_CONJUNCTS`] operands) becomes
    /// DataFusion's `truthy(a) AND truthy(b) …`: the same rows (`and` is `truthy(a) &&
    /// truthy(b)`, never null), but conjuncts DataFusion can push into the scan one by one.
    fn predicate(&self, e: &Node<Ast>) -> Result<Expr, QueryError> {
        let mut operands = Vec::new();
        flatten_chain(e, BinaryOp::And, &mut operands);
        if operands.len() > 1 && operands.len() <= MAX_SPLIT_CONJUNCTS {
            let parts = operands
                .into_iter()
                .map(|o| Ok(fx::truthy(self.expr(o)?)))
                .collect::<Result<Vec<_>, QueryError>>()?;
            if let Some(p) = datafusion::logical_expr::utils::conjunction(parts) {
                return Ok(p);
            }
        }
        Ok(fx::truthy(self.expr(e)?))
    }

    // ---------------------------------------------------------------- commands

    fn projection_name(&self, p: &Node<Projection>) -> String {
        match &p.alias {
            Some(a) => a.name.clone(),
            None => match &p.expr.node {
                Ast::Field(f) => f.name.clone(),
                _ => self.text(p.expr.span),
            },
        }
    }

    fn fields(&mut self, items: &[Node<Projection>], display: bool) -> Result<(), QueryError> {
        let mut names = Vec::new();
        for p in items {
            let name = self.projection_name(p);
            let is_plain_field = matches!(&p.expr.node, Ast::Field(f) if p.alias.is_none() && self.schema_has(&f.name));
            if !is_plain_field {
                let e = self.expr(&p.expr)?;
                self.set_column(&name, e)?;
            }
            names.push(name);
        }
        if display {
            self.display_out = Some(names);
        } else {
            for n in names {
                if !self.fields_out.contains(&n) {
                    self.fields_out.push(n);
                }
            }
        }
        Ok(())
    }

    fn count_matched(&mut self) -> Result<(), QueryError> {
        if self.counted {
            return Ok(());
        }
        self.counted = true;
        if !self.needs_counter {
            // The counter's filter node would only copy every batch (DataFusion coalesces
            // a filter's output).
            return Ok(());
        }
        let counter = self.ctx.matched.clone();
        let udf = FnUdf::new(
            udf_name(crate::matched::COUNTER_FUNCTION),
            1,
            DataType::Boolean,
            Volatility::Volatile,
            Arc::new(move |_args: &[ArrayRef], n| {
                counter.fetch_add(n as u64, Ordering::Relaxed);
                Ok(Arc::new(BooleanArray::new(BooleanBuffer::new_set(n), None)) as ArrayRef)
            }),
        );
        // Any column gives the row count; @timestamp is read by every scan anyway.
        let arg = if self.schema_has("@timestamp") {
            column("@timestamp")
        } else {
            lit(1i64)
        };
        // Below a sort that ends the plan so far (`sort … | limit n`): a sort keeps every
        // row, so the count is the same, and the sort meets the limit directly, which lets
        // DataFusion plan a top-N (with its dynamic filter for the scan).
        let plan = self.take().build()?;
        self.builder = match plan {
            LogicalPlan::Sort(s) if s.fetch.is_none() => {
                let input = Arc::unwrap_or_clone(s.input);
                self.matched_input = Some(input.clone());
                LogicalPlanBuilder::from(input)
                    .filter(udf.call(vec![arg]))?
                    .sort(s.expr)?
            }
            other => {
                self.matched_input = Some(other.clone());
                LogicalPlanBuilder::from(other).filter(udf.call(vec![arg]))?
            }
        };
        Ok(())
    }

    fn stats(&mut self, s: &Stats, _span: Span) -> Result<(), QueryError> {
        self.count_matched()?;
        // Group keys.
        let mut group_exprs = Vec::new();
        let mut key_names = Vec::new();
        for k in &s.by {
            let name = self.projection_name(k);
            let e = match (&s.offset, &k.expr.node) {
                (Some(off), Ast::Call(c)) if c.name == "bin" && c.args.len() == 1 => {
                    let period = match &c.args[0].node {
                        Ast::Literal(Literal::Period(p)) => {
                            format!("{}{}", p.amount, p.unit.short())
                        }
                        _ => {
                            return Err(QueryError::plan(
                                "Q410",
                                "bin() takes a period such as 5m",
                                c.args[0].span,
                            ))
                        }
                    };
                    let offset = format!("{}{}", off.amount, off.unit.short());
                    fx::bin_with_offset(&period, &offset)
                        .map_err(|m| QueryError::plan("Q410", m, off.span))?
                }
                _ => self.expr(&k.expr)?,
            };
            group_exprs.push(e.alias(name.clone()));
            key_names.push(name);
        }
        // The period of the first `bin(P)` group key: the window of rate() (§6.9 [I]).
        let bin = s.by.iter().find_map(|k| match &k.expr.node {
            Ast::Call(c) if c.name == "bin" => match c.args.first().map(|a| &a.node) {
                Some(Ast::Literal(Literal::Period(p))) => {
                    ow_functions::Period::parse(&format!("{}{}", p.amount, p.unit.short())).ok()
                }
                _ => None,
            },
            _ => None,
        });
        // Aggregates: collect aggregate calls; remember the post-aggregation expressions.
        let mut collector = AggCollector::default();
        let mut items = Vec::new();
        self.stats_bin = bin;
        let planned: Result<(), QueryError> = s.aggregates.iter().try_for_each(|p| {
            let name = self.projection_name(p);
            let post = self.expr_in(&p.expr, Some(&mut collector))?;
            collector.aliases.insert(name.clone(), post.clone());
            items.push((name, post));
            Ok(())
        });
        self.stats_bin = None;
        planned?;
        // The aggregate calls go in bare and are named `__agg<N>` by a projection above:
        // DataFusion's single-distinct rewrite (`count_distinct(x) by k` as a group by
        // (k, x) then a count, instead of one hash set per group) only recognises
        // unaliased aggregate calls.
        let agg_names: Vec<String> = collector
            .aggs
            .iter()
            .map(|a| a.schema_name().to_string())
            .collect();
        let b = self.take();
        let b = b.aggregate(group_exprs, collector.aggs)?;
        let mut named: Vec<Expr> = key_names.iter().map(|n| column(n)).collect();
        for (i, n) in agg_names.iter().enumerate() {
            named.push(column(n).alias(format!("__agg{i}")));
        }
        let b = b.project(named)?;
        let mut proj: Vec<Expr> = key_names.iter().map(|n| column(n)).collect();
        for (name, e) in &items {
            if !key_names.contains(name) {
                proj.push(e.clone().alias(name.clone()));
            }
        }
        self.builder = b.project(proj)?;
        self.aggregated = true;
        self.sorted = false;
        self.stats_keys = key_names;
        self.fields_out.clear();
        self.display_out = None;
        Ok(())
    }

    fn sort(&mut self, keys: &[Node<ow_query_syntax::ast::SortKey>]) -> Result<(), QueryError> {
        let mut sort = Vec::new();
        for k in keys {
            let e = self.expr(&k.expr)?;
            let order = k
                .order
                .as_ref()
                .map(|o| o.node)
                .unwrap_or(SortOrder::DEFAULT);
            // A timestamp column sorts as itself (the natural order of times is their
            // order); keeping it a plain column lets DataFusion's top-N publish a dynamic
            // filter on `@timestamp` that the scan uses to stop early.
            let plain_time = matches!(&e, Expr::Column(c) if matches!(
                self.builder.schema().field_with_unqualified_name(&c.name).map(|f| f.data_type()),
                Ok(DataType::Timestamp(_, _))
            ));
            let key = if plain_time { e } else { fx::sort_key(e) };
            sort.push(SortExpr::new(key, order == SortOrder::Asc, false));
        }
        self.tie_breakers(&mut sort);
        let b = self.take();
        self.builder = b.sort(sort)?;
        self.sorted = true;
        Ok(())
    }

    /// Makes row order deterministic: for events newest first, then log group, then
    /// sequence (newest ingested first); for aggregated rows the group keys. When the sort
    /// already orders by `@timestamp` ascending, events of one time come in ingestion order
    /// (sequence ascending), as GetLogEvents and FilterLogEvents return them [I].
    fn tie_breakers(&self, sort: &mut Vec<SortExpr>) {
        if self.aggregated {
            // Aggregated rows: ties in group-key order.
            for k in &self.stats_keys {
                if self.schema_has(k) {
                    sort.push(SortExpr::new(fx::sort_key(column(k)), true, false));
                }
            }
            return;
        }
        let oldest_first = sort
            .iter()
            .find(|k| matches!(&k.expr, Expr::Column(c) if c.name == "@timestamp"))
            .is_some_and(|k| k.asc);
        if self.schema_has("@timestamp") {
            sort.push(SortExpr::new(column("@timestamp"), oldest_first, false));
        }
        if self.schema_has(GROUP) && !self.ctx.single_log_group {
            sort.push(SortExpr::new(column(GROUP), true, false));
        }
        if self.schema_has(SEQ) {
            sort.push(SortExpr::new(column(SEQ), oldest_first, false));
        }
        for k in 0..self.expansions {
            let elem = format!("{ELEM}{k}");
            if self.schema_has(&elem) {
                sort.push(SortExpr::new(column(&elem), true, false));
            }
        }
    }

    /// Names the hidden position column of the expansion being planned (see [`ELEM`]).
    fn next_elem(&mut self) -> String {
        self.expansions += 1;
        format!("{ELEM}{}", self.expansions - 1)
    }

    /// The implicit order: newest first for events; ascending group keys after `stats`.
    fn default_order(&mut self) -> Result<(), QueryError> {
        if !self.aggregated {
            return self.default_time_sort();
        }
        let sort: Vec<SortExpr> = self
            .stats_keys
            .iter()
            .map(|k| SortExpr::new(fx::sort_key(column(k)), true, false))
            .collect();
        if !sort.is_empty() {
            let b = self.take();
            self.builder = b.sort(sort)?;
        }
        Ok(())
    }

    fn default_time_sort(&mut self) -> Result<(), QueryError> {
        let mut sort = Vec::new();
        self.tie_breakers(&mut sort);
        if !sort.is_empty() {
            let b = self.take();
            self.builder = b.sort(sort)?;
        }
        Ok(())
    }

    fn parse(&mut self, p: &ow_query_syntax::ast::Parse, span: Span) -> Result<(), QueryError> {
        let src = match &p.field {
            Some(f) => self.field(&f.name),
            None => self.field("@message"),
        };
        match &p.mode {
            ParseMode::Glob { pattern, names } => {
                let stars = pattern.node.matches('*').count();
                if stars != names.len() {
                    return Err(QueryError::plan(
                        "Q411",
                        format!(
                            "the pattern has {stars} `*` but {} names follow `as`",
                            names.len()
                        ),
                        span,
                    ));
                }
                let re = crate::parse::glob_regex(&pattern.node)
                    .map_err(|e| QueryError::plan("Q406", e.to_string(), pattern.span))?;
                let names: Vec<String> = names.iter().map(|n| n.name.clone()).collect();
                let udf =
                    crate::parse::parse_udf(&udf_name("ow_parse_glob"), re, names.clone(), true);
                self.struct_columns(udf.call(vec![src]), &names)
            }
            ParseMode::Regex { regex, multi } => {
                let pattern = regex_text(&regex.node);
                let re = regex::Regex::new(&pattern).map_err(|e| {
                    QueryError::plan("Q406", format!("invalid regex: {e}"), regex.span)
                })?;
                let names: Vec<String> = re.capture_names().flatten().map(str::to_string).collect();
                if names.is_empty() {
                    return Err(QueryError::plan(
                        "Q412",
                        "the regex has no named group (?<name>…): parse would extract nothing",
                        regex.span,
                    ));
                }
                if *multi {
                    let udf = crate::parse::parse_multi_udf(
                        &udf_name("ow_parse_multi"),
                        re,
                        names.clone(),
                    );
                    let tmp = udf_name("__parsed");
                    self.set_column(&tmp, udf.call(vec![src]))?;
                    let b = self.take();
                    let opts = UnnestOptions::new().with_preserve_nulls(true);
                    self.builder =
                        b.unnest_column_with_options(Column::new_unqualified(&tmp), opts)?;
                    let elem = self.next_elem();
                    let mut cols: Vec<(String, Expr)> = names
                        .iter()
                        .map(|n| (n.clone(), get_field(column(&tmp), n.as_str())))
                        .collect();
                    cols.push((elem, get_field(column(&tmp), crate::parse::ORDINAL)));
                    self.set_columns(cols)?;
                    self.drop_column(&tmp)
                } else {
                    let udf = crate::parse::parse_udf(
                        &udf_name("ow_parse_regex"),
                        re,
                        names.clone(),
                        false,
                    );
                    self.struct_columns(udf.call(vec![src]), &names)
                }
            }
            ParseMode::Logfmt { .. } => Err(QueryError::plan(
                "Q413",
                "parse … logfmt is not supported yet",
                span,
            )),
            ParseMode::Csv { .. } => Err(QueryError::plan(
                "Q413",
                "parse … csv is not supported yet",
                span,
            )),
        }
    }

    /// Sets one column per struct field of `e`.
    fn struct_columns(&mut self, e: Expr, names: &[String]) -> Result<(), QueryError> {
        let tmp = udf_name("__struct");
        self.set_column(&tmp, e)?;
        let cols = names
            .iter()
            .map(|n| (n.clone(), get_field(column(&tmp), n.as_str())))
            .collect();
        self.set_columns(cols)?;
        self.drop_column(&tmp)
    }

    fn drop_column(&mut self, name: &str) -> Result<(), QueryError> {
        let exprs: Vec<Expr> = self
            .names()
            .into_iter()
            .filter(|n| n != name)
            .map(|n| column(&n))
            .collect();
        let b = self.take();
        self.builder = b.project(exprs)?;
        Ok(())
    }

    /// `unnest`/`expand`: one row per element of the list value of `e`, written to `into`.
    fn unnest(&mut self, e: Expr, into: &str, non_json_as_one: bool) -> Result<(), QueryError> {
        let udf = crate::parse::elements_udf(&udf_name("ow_elements"), non_json_as_one);
        let tmp = udf_name("__elements");
        self.set_column(&tmp, udf.call(vec![e]))?;
        let b = self.take();
        // Empty list -> no rows (spec §4.12 [I]); null (not a list) -> no rows.
        let opts = UnnestOptions::new().with_preserve_nulls(false);
        self.builder = b.unnest_column_with_options(Column::new_unqualified(&tmp), opts)?;
        let elem = self.next_elem();
        self.set_columns(vec![
            (into.to_string(), get_field(column(&tmp), "item")),
            (elem, get_field(column(&tmp), crate::parse::ORDINAL)),
        ])?;
        self.drop_column(&tmp)
    }

    fn lookup(&mut self, l: &ow_query_syntax::ast::Lookup) -> Result<(), QueryError> {
        let table = (self.ctx.lookup)(&l.table.node, l.table.span)?;
        let key_column = l
            .table_column
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or(&l.field.name);
        let key_index = table.column_index(key_column).ok_or_else(|| {
            QueryError::plan(
                "Q414",
                format!("lookup table {} has no column {key_column}", l.table.node),
                l.table_column
                    .as_ref()
                    .map(|c| c.span)
                    .unwrap_or(l.field.span),
            )
        })?;
        let key = self.field(&l.field.name);
        let mut new = Vec::new();
        for o in &l.outputs {
            let out_index = table.column_index(&o.column.name).ok_or_else(|| {
                QueryError::plan(
                    "Q414",
                    format!(
                        "lookup table {} has no column {}",
                        l.table.node, o.column.name
                    ),
                    o.column.span,
                )
            })?;
            let target = o.alias.as_ref().unwrap_or(&o.column).name.clone();
            let udf = table.udf(&udf_name("ow_lookup"), key_index, out_index);
            let found = udf.call(vec![key.clone()]);
            let existing = self.field(&target);
            // [I] our choice: an event without a match keeps its value under both modes.
            let args = match l.mode.node {
                LookupMode::Output => vec![found, existing],
                LookupMode::OutputNew => vec![existing, found],
            };
            let value = fx::coalesce(args, &self.fctx())
                .map_err(|m| QueryError::Internal(format!("lookup: {m}")))?;
            new.push((target, value));
        }
        self.set_columns(new)
    }
}

/// The operands of a chain `a op b op c …` (any nesting of the same operator), in order.
fn flatten_chain<'e>(e: &'e Node<Ast>, op: BinaryOp, out: &mut Vec<&'e Node<Ast>>) {
    match &e.node {
        Ast::Binary { op: o, lhs, rhs } if *o == op => {
            flatten_chain(lhs, op, out);
            flatten_chain(rhs, op, out);
        }
        _ => out.push(e),
    }
}

/// Collects aggregate calls of one `stats` command.
#[derive(Default)]
struct AggCollector {
    aggs: Vec<Expr>,
    /// Aliases defined by earlier items of the same stats (spec §4.5 alias reuse).
    aliases: HashMap<String, Expr>,
}

impl AggCollector {
    fn push(&mut self, agg: Expr) -> Expr {
        if let Some(i) = self.aggs.iter().position(|a| *a == agg) {
            return column(&format!("__agg{i}"));
        }
        self.aggs.push(agg);
        column(&format!("__agg{}", self.aggs.len() - 1))
    }
}

/// The regex text of a literal with its trailing flags folded in as `(?flags)`.
pub fn regex_text(r: &ow_query_syntax::ast::RegexLit) -> String {
    if r.flags.is_empty() {
        r.pattern.clone()
    } else {
        format!("(?{}){}", r.flags, r.pattern)
    }
}

fn literal(l: &Literal) -> Expr {
    match l {
        Literal::String(s) => lit(s.as_str()),
        // An integer too long for an f64 (`ow_functions::long_integer`) keeps its text: as
        // an f64 it would equal its neighbours (1688990515440126481 and …480 are one
        // float), and `compare` orders two such integer texts exactly ([I], see
        // `ow_functions::compare`). Arithmetic and numeric functions still read the text
        // as a number.
        Literal::Number(n) if long_integer(&n.text).is_some() => lit(n.text.as_str()),
        Literal::Number(n) => lit(n.value),
        Literal::Bool(b) => lit(*b),
        Literal::Regex(r) => lit(regex_text(r)),
        Literal::Period(p) => lit(format!("{}{}", p.amount, p.unit.short())),
    }
}

/// Plans `query` over `scan` (a plan whose schema is [`crate::scan::scan_schema`]).
///
/// `cap` is the implicit row cap (StartQuery `limit` or the configured default); `max_limit`
/// clips explicit `limit`s.
pub fn plan_query(
    query: &Query,
    scan: LogicalPlan,
    ctx: &PlanContext<'_>,
    cap: Option<usize>,
    default_limit: usize,
    max_limit: usize,
) -> Result<Planned, QueryError> {
    // Strip the table qualifier so that every column is addressed by its bare name.
    let unqualified: Vec<Expr> = scan
        .schema()
        .fields()
        .iter()
        .map(|f| column(f.name()).alias(f.name()))
        .collect();
    let builder = LogicalPlanBuilder::from(scan).project(unqualified)?;
    let mut st = State {
        ctx,
        builder,
        fields_out: Vec::new(),
        display_out: None,
        aggregated: false,
        stats_keys: Vec::new(),
        sorted: false,
        explicit_limit: None,
        dedup: None,
        counted: false,
        matched_input: None,
        needs_counter: query.commands.iter().any(|c| match &c.node {
            Command::Filter(_)
            | Command::FilterIndex(_)
            | Command::Unnest { .. }
            | Command::Expand(_) => true,
            // one row per match
            Command::Parse(p) => matches!(p.mode, ParseMode::Regex { multi: true, .. }),
            _ => false,
        }),
        stats_bin: None,
        expansions: 0,
    };
    let has_stats = query
        .commands
        .iter()
        .any(|c| matches!(c.node, Command::Stats(_)));
    // a `limit` above the most a query returns, clipped to it (then the cut is the cap's)
    let mut clipped = false;
    for (index, cmd) in query.commands.iter().enumerate() {
        let span = cmd.span;
        if st.dedup.is_some() && !matches!(cmd.node, Command::Limit(_)) {
            return Err(QueryError::plan(
                "Q415",
                "only `limit` may follow `dedup`",
                span,
            ));
        }
        if !has_stats && matches!(cmd.node, Command::Limit(_) | Command::Dedup(_)) {
            st.count_matched()?;
        }
        match &cmd.node {
            Command::Source(_) => {} // resolved by the engine before planning
            Command::Fields(items) => st.fields(items, false)?,
            Command::Display(items) => st.fields(items, true)?,
            Command::Filter(e) | Command::FilterIndex(e) => {
                let p = st.predicate(e)?;
                let b = st.take();
                st.builder = b.filter(p)?;
            }
            Command::Stats(s) => st.stats(s, span)?,
            Command::Sort(keys) => st.sort(keys)?,
            Command::Limit(l) => {
                let written = match l {
                    Limit::Count(n) => usize::try_from(n.node).unwrap_or(usize::MAX),
                    Limit::Any => cap.unwrap_or(default_limit),
                };
                let n = written.min(max_limit);
                // Only `fields`/`display` after it: one row more shows whether the clip cut
                // rows (`render_rows` drops it); before any other command it would be seen.
                let extra = written > max_limit
                    && query.commands[index + 1..]
                        .iter()
                        .all(|c| matches!(c.node, Command::Fields(_) | Command::Display(_)));
                clipped |= extra;
                if st.dedup.is_some() {
                    st.explicit_limit = Some(st.explicit_limit.map_or(n, |m| m.min(n)));
                    continue;
                }
                if !st.sorted {
                    // Implicit `sort @timestamp desc` precedes the cap (spec §4.8); after
                    // stats, the deterministic key order.
                    st.default_order()?;
                    st.sorted = true;
                }
                st.explicit_limit = Some(st.explicit_limit.map_or(n, |m| m.min(n)));
                let b = st.take();
                st.builder = b.limit(0, Some(n + usize::from(extra)))?;
            }
            Command::Dedup(fields) => {
                if !st.sorted {
                    // "If the query has no prior sort, @timestamp desc is used" (spec §4.10).
                    st.default_order()?;
                    st.sorted = true;
                }
                let mut keys = Vec::new();
                let mut cols = Vec::new();
                for f in fields {
                    let Field { name } = &f.node;
                    keys.push(name.clone());
                    if !st.schema_has(name) {
                        cols.push((name.clone(), st.field(name)));
                    }
                }
                if !cols.is_empty() {
                    st.set_columns(cols)?;
                }
                st.dedup = Some(keys);
            }
            Command::Parse(p) => st.parse(p, span)?,
            Command::Unnest { input, into } => {
                let e = st.expr(input)?;
                st.unnest(e, &into.name, true)?;
            }
            Command::Expand(f) => {
                let e = st.field(&f.name);
                st.unnest(e, &f.name, false)?;
            }
            Command::Lookup(l) => st.lookup(l)?,
            other => {
                return Err(QueryError::plan(
                    "Q400",
                    format!(
                        "the `{}` command is not supported by OpenWatch yet",
                        other.keyword()
                    ),
                    span,
                ))
            }
        }
    }
    st.count_matched()?;
    // Implicit order (spec §4.8): newest first for events; for aggregates, ascending by the
    // group keys ([I] our choice, deterministic; bins come out in time order).
    if !st.sorted {
        st.default_order()?;
    }
    let final_limit = match (cap, st.explicit_limit) {
        (Some(c), Some(e)) => c.min(e),
        (Some(c), None) => c,
        (None, Some(e)) => e,
        (None, None) => default_limit,
    }
    .min(max_limit);
    // The row cap cut, not the query's own `limit`: a larger cap would return more rows, or
    // the query's `limit` was clipped to the most a query returns.
    let cap_governs = match (cap, st.explicit_limit) {
        (_, None) => true,
        (Some(c), Some(e)) => c.min(max_limit) < e || (clipped && e == final_limit),
        (None, Some(e)) => clipped && e == final_limit,
    };
    if st.dedup.is_none() {
        // One row past the cap: its presence tells the engine that the cap cut rows (the
        // CLI's row-cap note); `render_rows` drops it.
        let b = st.take();
        st.builder = b.limit(0, Some(final_limit.saturating_add(1)))?;
    }
    // Output columns (spec §4.1–§4.3).
    let columns: Vec<String> = if let Some(d) = &st.display_out {
        d.clone()
    } else if !st.fields_out.is_empty() {
        st.fields_out.clone()
    } else if st.aggregated {
        st.names()
            .into_iter()
            .filter(|n| !n.starts_with("__"))
            .collect()
    } else {
        vec!["@timestamp".to_string(), "@message".to_string()]
    };
    let mut columns_dedup = Vec::new();
    for c in columns {
        if !columns_dedup.contains(&c) {
            columns_dedup.push(c);
        }
    }
    let with_ptr = !st.aggregated;
    let mut proj: Vec<Expr> = Vec::new();
    let mut projected = std::collections::HashSet::new();
    let dedup = st.dedup.clone();
    let needed = columns_dedup.iter().chain(dedup.iter().flatten());
    for c in needed {
        if projected.insert(c.clone()) {
            proj.push(st.field(c).alias(c.clone()));
        }
    }
    if with_ptr {
        for h in [GROUP, SEQ] {
            if st.schema_has(h) && projected.insert(h.to_string()) {
                proj.push(column(h));
            }
        }
    }
    let b = st.take();
    let plan = b.project(proj)?.build()?;
    let matched_count_plan = match st.matched_input.take() {
        Some(input) => Some(
            LogicalPlanBuilder::from(input)
                .aggregate(
                    Vec::<Expr>::new(),
                    vec![datafusion::functions_aggregate::count::count_all()],
                )?
                .build()?,
        ),
        None => None,
    };
    Ok(Planned {
        plan,
        matched_count_plan,
        columns: columns_dedup,
        with_ptr,
        dedup,
        final_limit,
        cap_governs,
    })
}
