//! Partial results of a running query (GetQueryResults while `Running`, spec/api.md §A.2).
//!
//! AWS returns "the results found so far" while a query runs. Ours are never a guess: a row
//! is shown while the query runs only when it is certain to be in the final result, at its
//! final position relative to the other rows shown.
//!
//! # Which queries [I], and why
//!
//! Only *streaming* queries get partial rows: the pipeline is row-wise (`filter`,
//! `filterIndex`, `fields`, `display`, `parse` without `multi`, `lookup`, `limit`, `SOURCE`)
//! and ends in the implicit order, newest first (`@timestamp` desc, then log group, then
//! `__seq` desc; spec §4.8) with the row cap. Queries with `stats` (partial aggregates would
//! change as more events arrive; AWS shows changing values, we show none), an explicit
//! `sort` (any later event may sort first), `dedup`, `unnest`/`expand`/`parse … multi` (one
//! event, many rows) or a field written as `@timestamp` get no rows until they complete.
//!
//! For a streaming query, the final result is the `cap` newest matching rows. A matching
//! row of an event at time `t` is certainly among them when at most `cap` events of the
//! snapshot have a `@timestamp` >= `t` (whatever the filters do, at most that many rows can
//! rank before it). That count is bounded from the snapshot alone, before reading anything:
//! every row of a Parquet segment counts at the segment's maximum `@timestamp`, buffered
//! events at their own. This gives a threshold time; rows at or after it are shown as they
//! are produced (a tap between the plan's input and its final sort), rendered exactly as
//! the final rows. When the selected events number at most `cap`, every matching row
//! streams; for larger ranges the newest part does.

use std::any::Any;
use std::cmp::Reverse;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{SchemaRef, TimestampMillisecondType, UInt64Type};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column as ColumnExpr;
use datafusion::physical_expr::projection::Projector;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::StreamExt;
use ow_query_syntax::ast::{Command, ParseMode, Query};

use crate::output::ResultField;
use crate::scan::{GROUP, SEQ};

/// Whether `query` is a streaming query (see the module docs).
pub(crate) fn streaming(query: &Query) -> bool {
    let ts = |name: &str| name == "@timestamp";
    query.commands.iter().all(|c| match &c.node {
        Command::Source(_) | Command::Filter(_) | Command::FilterIndex(_) | Command::Limit(_) => {
            true
        }
        Command::Fields(items) | Command::Display(items) => items
            .iter()
            .all(|p| p.node.alias.as_ref().is_none_or(|a| !ts(&a.node.name))),
        Command::Parse(p) => match &p.mode {
            ParseMode::Glob { names, .. } => names.iter().all(|n| !ts(&n.node.name)),
            ParseMode::Regex { multi, .. } => !multi,
            _ => false,
        },
        Command::Lookup(l) => l.outputs.iter().all(|o| {
            !ts(&o.node.column.node.name) && o.node.alias.as_ref().is_none_or(|a| !ts(&a.node.name))
        }),
        _ => false,
    })
}

/// The earliest `@timestamp` (ms) from which rows are certainly in the final result of a
/// streaming query with row cap `cap`, or `None` if no row is (see the module docs).
/// `points` are `(timestamp_ms, events)`: a segment's maximum time and row count, or a
/// buffered event's time and 1.
pub(crate) fn threshold_ms(mut points: Vec<(i64, u64)>, cap: usize) -> Option<i64> {
    points.sort_unstable_by_key(|p| Reverse(p.0));
    let cap = cap as u64;
    let mut total: u64 = 0;
    let mut threshold = None;
    let mut i = 0;
    while i < points.len() {
        let t = points[i].0;
        let mut at_t: u64 = 0;
        while i < points.len() && points[i].0 == t {
            at_t = at_t.saturating_add(points[i].1);
            i += 1;
        }
        total = total.saturating_add(at_t);
        if total > cap {
            return threshold;
        }
        threshold = Some(t);
    }
    // Every event fits: every matching row is final.
    Some(i64::MIN)
}

/// Sort key of a row in the implicit order: `@timestamp` desc, log group asc, `__seq` desc.
type RowKey = (Reverse<i64>, String, Reverse<u64>);

/// Collects the certain rows of a running streaming query.
pub(crate) struct PartialSink {
    threshold_ms: i64,
    /// Projections between the final sort and the output, applied in order.
    projectors: Vec<Projector>,
    columns: Vec<String>,
    with_ptr: bool,
    state: Mutex<SinkState>,
}

#[derive(Default)]
struct SinkState {
    rows: Vec<(RowKey, Vec<ResultField>)>,
    /// Bumped whenever rows are added.
    version: u64,
    /// Rendering failed: stop collecting (the final result is unaffected).
    broken: bool,
}

impl fmt::Debug for PartialSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartialSink")
            .field("threshold_ms", &self.threshold_ms)
            .finish()
    }
}

impl PartialSink {
    fn lock(&self) -> MutexGuard<'_, SinkState> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rows collected so far, in final order, if any were added after `seen_version`;
    /// with the new version.
    pub(crate) fn rows_since(&self, seen_version: u64) -> Option<(u64, Vec<Vec<ResultField>>)> {
        let mut st = self.lock();
        if st.version == seen_version || st.broken {
            return None;
        }
        st.rows.sort_by(|a, b| a.0.cmp(&b.0));
        Some((st.version, st.rows.iter().map(|(_, r)| r.clone()).collect()))
    }

    fn offer(&self, batch: &RecordBatch) {
        if self.lock().broken {
            return;
        }
        if let Err(e) = self.collect(batch) {
            tracing::debug!(error = %e, "partial results disabled for this query");
            self.lock().broken = true;
        }
    }

    fn collect(&self, batch: &RecordBatch) -> DfResult<()> {
        let schema = batch.schema();
        let ts = batch
            .column(schema.index_of("@timestamp")?)
            .as_primitive_opt::<TimestampMillisecondType>()
            .ok_or_else(|| datafusion::error::DataFusionError::Internal("@timestamp type".into()))?
            .clone();
        let mask: arrow::array::BooleanArray = ts
            .iter()
            .map(|t| Some(t.is_some_and(|t| t >= self.threshold_ms)))
            .collect();
        if mask.true_count() == 0 {
            return Ok(());
        }
        let certain = filter_record_batch(batch, &mask)?;
        let ts = certain
            .column(schema.index_of("@timestamp")?)
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        let group = certain
            .column(schema.index_of(GROUP)?)
            .as_string::<i32>()
            .clone();
        let seq = certain
            .column(schema.index_of(SEQ)?)
            .as_primitive::<UInt64Type>()
            .clone();
        let mut out = certain.clone();
        for p in &self.projectors {
            out = p.project_batch(&out)?;
        }
        let rows =
            // partial rows serve the API, which renders as GetQueryResults does
            crate::engine::render_rows(
                &[out],
                &self.columns,
                self.with_ptr,
                None,
                usize::MAX,
                crate::TimestampStyle::Aws,
            )
                .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        let mut st = self.lock();
        for (i, row) in rows.into_iter().enumerate() {
            let key = (
                Reverse(ts.value(i)),
                group.value(i).to_string(),
                Reverse(seq.value(i)),
            );
            st.rows.push((key, row));
        }
        st.version += 1;
        Ok(())
    }
}

/// Inserts a tap below the final sort of `plan` when the plan has the shape of a streaming
/// query: from the root down only projections, limits, merges and coalesces, then a sort by
/// exactly (`@timestamp` desc, `__group` asc, `__seq` desc). Returns the plan unchanged and
/// `None` otherwise.
pub(crate) fn install(
    plan: Arc<dyn ExecutionPlan>,
    threshold_ms: i64,
    columns: &[String],
    with_ptr: bool,
) -> DfResult<(Plan, Option<Arc<PartialSink>>)> {
    let mut projections: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
    match tap(plan.clone(), &mut projections, &mut |projectors| {
        Arc::new(PartialSink {
            threshold_ms,
            projectors,
            columns: columns.to_vec(),
            with_ptr,
            state: Mutex::new(SinkState::default()),
        })
    })? {
        Some((p, sink)) => Ok((p, Some(sink))),
        None => Ok((plan, None)),
    }
}

type Plan = Arc<dyn ExecutionPlan>;

type MakeSink<'a> = dyn FnMut(Vec<Projector>) -> Arc<PartialSink> + 'a;

fn tap(
    node: Arc<dyn ExecutionPlan>,
    projections: &mut Vec<Arc<dyn ExecutionPlan>>,
    make: &mut MakeSink<'_>,
) -> DfResult<Option<(Plan, Arc<PartialSink>)>> {
    if let Some(sort) = node.downcast_ref::<SortExec>() {
        if !implicit_order(sort) {
            return Ok(None);
        }
        // Projections apply bottom-up: the one nearest the sort first.
        let mut projectors = Vec::new();
        for p in projections.iter().rev() {
            let Some(p) = p.downcast_ref::<ProjectionExec>() else {
                return Ok(None);
            };
            projectors.push(p.projection_expr().make_projector(&p.input().schema())?);
        }
        let sink = make(projectors);
        let tapped: Arc<dyn ExecutionPlan> = Arc::new(TapExec {
            input: sort.input().clone(),
            sink: sink.clone(),
        });
        let node = node.replace_children(
            vec![tapped],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
        )?;
        return Ok(Some((node, sink)));
    }
    let passes = matches!(
        node.name(),
        "ProjectionExec"
            | "GlobalLimitExec"
            | "LocalLimitExec"
            | "CoalescePartitionsExec"
            | "CoalesceBatchesExec"
            | "RepartitionExec"
            | "SortPreservingMergeExec"
    );
    let children = node.children();
    if !passes || children.len() != 1 {
        return Ok(None);
    }
    let child = children[0].clone();
    if node.name() == "ProjectionExec" {
        projections.push(node.clone());
    }
    let Some((new_child, sink)) = tap(child, projections, make)? else {
        return Ok(None);
    };
    let node = node.replace_children(
        vec![new_child],
        ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
    )?;
    Ok(Some((node, sink)))
}

/// Whether `sort` orders by exactly `@timestamp` desc, `__group` asc, `__seq` desc, or by
/// `@timestamp` desc, `__seq` desc (a query of one log group: the planner leaves the
/// constant `__group` out).
fn implicit_order(sort: &SortExec) -> bool {
    let keys: Vec<_> = sort.expr().iter().collect();
    let want: &[(&str, bool)] = if keys.len() == 2 {
        &[("@timestamp", true), (SEQ, true)]
    } else {
        &[("@timestamp", true), (GROUP, false), (SEQ, true)]
    };
    keys.len() == want.len()
        && keys.iter().zip(want).all(|(k, &(name, descending))| {
            k.options.descending == descending
                && (k.expr.as_ref() as &dyn Any)
                    .downcast_ref::<ColumnExpr>()
                    .is_some_and(|c| c.name() == name)
        })
}

/// Passes batches through unchanged and offers each to the sink.
#[derive(Debug)]
struct TapExec {
    input: Arc<dyn ExecutionPlan>,
    sink: Arc<PartialSink>,
}

impl DisplayAs for TapExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartialResultsTapExec")
    }
}

impl ExecutionPlan for TapExec {
    fn name(&self) -> &str {
        "PartialResultsTapExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(datafusion::error::DataFusionError::Internal(
                "PartialResultsTapExec has one child".into(),
            ));
        }
        Ok(Arc::new(TapExec {
            input: children.swap_remove(0),
            sink: self.sink.clone(),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let schema: SchemaRef = self.input.schema();
        let sink = self.sink.clone();
        let stream = self.input.execute(partition, context)?.inspect(move |b| {
            if let Ok(b) = b {
                sink.offer(b);
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
