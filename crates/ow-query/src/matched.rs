//! The matched-rows counter as a plan node of its own: `recordsMatched` must count the rows
//! that passed the query's filters, whatever DataFusion pushes down.
//!
//! The planner places the counter (`plan::count_matched`) as a filter whose predicate, a
//! volatile function, adds the rows it sees to the query's count and keeps them all. As a
//! `FilterExec`, it handed the filters of its parents on to its input in DataFusion's
//! filter pushdown, and the scan pre-filtered with them: `stats count(*) by eventSource |
//! filter eventSource like 'iam'` pushed the later filter, on a group key, through the
//! aggregate and the counter into the scan, and `recordsMatched` counted only the `iam`
//! events (468 of 928 in a test on real CloudTrail) where the events fed to `stats` are
//! all of them. [`MatchedCounterRule`] puts [`MatchedCounterExec`] in the counter's place
//! before any other physical optimizer rule: it evaluates the same predicate on every batch
//! and passes the batch on, and it hands its parents' filters on only in the post-optimization
//! phase, where they are the dynamic filters of a top-N, which prune whole row groups and
//! never single rows (`scan::DynamicPruner`). The matches of the row groups they skip are
//! counted by the scan itself from the filter columns when the filters below the counter are
//! all the scan's own ([`CountSkippedRule`]), else by a plan of their own that reads only
//! those row groups (`scan::ScanCounters::skipped_by_top_n`, `Planned::matched_count_plan`).

use std::fmt;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::split_conjunction;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::filter_pushdown::{
    ChildFilterDescription, FilterDescription, FilterPushdownPhase,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use crate::scan::EventScanExec;

/// Name prefix of the counter's function (`plan::count_matched`).
pub(crate) const COUNTER_FUNCTION: &str = "ow_matched";

/// Replaces the matched-rows counter's `FilterExec` with [`MatchedCounterExec`]. Runs first,
/// before DataFusion's filter pushdown.
#[derive(Debug)]
pub(crate) struct MatchedCounterRule;

impl PhysicalOptimizerRule for MatchedCounterRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            let counter = node.downcast_ref::<FilterExec>().filter(|f| {
                f.projection().is_none()
                    && f.predicate()
                        .downcast_ref::<ScalarFunctionExpr>()
                        .is_some_and(|s| s.name().starts_with(COUNTER_FUNCTION))
            });
            Ok(match counter {
                Some(f) => Transformed::yes(Arc::new(MatchedCounterExec::new(
                    f.input().clone(),
                    f.predicate().clone(),
                )) as Arc<dyn ExecutionPlan>),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "ow_matched_counter"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Evaluates the counter's predicate (which counts the rows and keeps them all) on each
/// batch of its input and passes the batch on unchanged: same schema, partitioning and
/// order as its input.
#[derive(Debug)]
pub(crate) struct MatchedCounterExec {
    input: Arc<dyn ExecutionPlan>,
    predicate: Arc<dyn PhysicalExpr>,
    properties: Arc<PlanProperties>,
}

impl MatchedCounterExec {
    fn new(input: Arc<dyn ExecutionPlan>, predicate: Arc<dyn PhysicalExpr>) -> Self {
        let properties = input.properties().clone();
        MatchedCounterExec {
            input,
            predicate,
            properties,
        }
    }

    /// The node's input.
    pub(crate) fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }
}

impl DisplayAs for MatchedCounterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MatchedCounterExec: {}", self.predicate)
    }
}

impl ExecutionPlan for MatchedCounterExec {
    fn name(&self) -> &str {
        "MatchedCounterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        f(&self.predicate)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(
                "MatchedCounterExec has one child".into(),
            ));
        }
        Ok(Arc::new(MatchedCounterExec::new(
            children.swap_remove(0),
            self.predicate.clone(),
        )))
    }

    /// Parents' filters go no further in the first phase (static filters: the scan would
    /// drop rows before they are counted); in the post-optimization phase (a top-N's dynamic
    /// filter) they pass on to the input.
    fn gather_filters_for_pushdown(
        &self,
        phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> DfResult<FilterDescription> {
        let child = match phase {
            FilterPushdownPhase::Pre => ChildFilterDescription::all_unsupported(&parent_filters),
            FilterPushdownPhase::Post => {
                ChildFilterDescription::from_child(&parent_filters, &self.input)?
            }
        };
        Ok(FilterDescription::new().with_child(child))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let predicate = self.predicate.clone();
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let stream = input.map(move |batch| {
            let batch = batch?;
            // the counter's function counts the rows; its all-true result is not needed
            predicate.evaluate(&batch)?;
            Ok(batch)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// Runs after DataFusion's rules (the top-N's dynamic filter is in the scan by then): when
/// the nodes between a [`MatchedCounterExec`] and the scan are `FilterExec`s whose every
/// conjunct is a filter pushed into the scan (and `CooperativeExec`s), the rows that reach
/// the counter are the rows that pass the scan's own filters, and the scan may count the
/// matches of a row group the top-N skips from the filter columns alone
/// ([`EventScanExec::count_skipped_matches`]). Anything else between them (a `parse`, a
/// filter the scan did not take) leaves the counting to the plan of its own.
#[derive(Debug)]
pub(crate) struct CountSkippedRule;

impl PhysicalOptimizerRule for CountSkippedRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan.apply(|node| {
            if let Some(counter) = node.downcast_ref::<MatchedCounterExec>() {
                let mut predicates: Vec<Arc<dyn PhysicalExpr>> = Vec::new();
                let mut below = counter.input();
                loop {
                    if let Some(f) = below.downcast_ref::<FilterExec>() {
                        predicates.extend(split_conjunction(f.predicate()).into_iter().cloned());
                        below = f.input();
                    } else if let Some(c) = below.downcast_ref::<CooperativeExec>() {
                        below = c.input();
                    } else {
                        if let Some(scan) = below.downcast_ref::<EventScanExec>() {
                            if predicates.iter().all(|p| scan.has_filter(p)) {
                                scan.count_skipped_matches();
                            }
                        }
                        break;
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "ow_count_skipped"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
