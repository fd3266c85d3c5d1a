//! The first phase of `stats count(*) by k…`, counted on the raw bits of the keys.
//!
//! DataFusion plans `stats count(*) by k1, k2` as a partial hash aggregate per scan
//! partition, a repartition by the keys, and a final aggregate. The partial phase hashes and
//! compares every row's key values: for string keys it hashes each value's bytes and
//! compares them with the group's (`ByteViewGroupValueBuilder`). On the 1 GB benchmark that
//! is 65 % of the instructions of `stats count(*) by eventSource, eventName`.
//!
//! [`PartialCountRule`] replaces that partial aggregate by [`PartialCountExec`] when every
//! aggregate is a `count` of a non-null literal (how `count(*)` and `count()` are planned),
//! or there is none (the distinct `(k, x)` pairs DataFusion groups by for
//! `count_distinct(x) by k`), and there are 1 to 4 keys of types whose values fit in 16
//! bytes of key bits. The node counts the rows of each input batch by those bits:
//! - a string or binary view key by its 16-byte Arrow view. Equal views are equal values
//!   (the same inline bytes, or the same length, prefix, buffer and offset), and a promoted
//!   column decoded from its Parquet dictionary has one view per distinct value;
//! - an offset-based string or binary key (`Utf8`: `parse` results, `@log`) by its bytes
//!   when they fit in 15, else by the first row of the batch with the same bytes;
//! - a primitive key (integers, floats, timestamps, dates; at most 8 bytes) by its bits,
//!   a boolean by its bit; a null by a mark no value has.
//!
//! It holds the counted batches (up to 16, or 16,384 groups) and then emits one row per
//! distinct key bits with that count, in the partial aggregate's own output schema (the
//! keys, then count's state, an Int64), and DataFusion's final aggregate adds the counts up
//! by value as before. It holds only batches whose view columns point into the same
//! buffers (a batch that points elsewhere, the next row group, first has the held groups
//! emitted), so equal view bits mean equal values across the held batches, and the
//! batches of one row group, whose views all point into the same decoded dictionary,
//! share their groups (on the 1 GB benchmark, `stats count(*) by eventSource,
//! eventName` emitted 54,249 partial rows counting batch by batch, and the final
//! aggregate, the repartition and its batch coalescer were a fifth of its instructions). Equal values with different bits
//! (a long string written out twice in a batch's buffers, `0.0` and `-0.0`) only become two
//! partial rows that the final aggregate merges, so results never depend on this shortcut
//! (`EngineConfig::partial_count` turns it off for comparison tests).
//!
//! Keys that are JSON paths reach the node as dictionaries when it can ask for them
//! ([`PartialCountExec::with_dictionary_input`]: an `EventScanExec` below, through filters
//! that do not read the keys; not for `count_distinct`'s pairs): a promoted column's
//! Parquet dictionary and keys as the reader decodes them, without building a view per
//! row. A dictionary key's bits are its key, comparable across the held batches, which
//! share the dictionary. When every key is a dictionary, the batches of a row group are
//! counted by their combination of keys ([`Dense`]) in a small table instead of by hashing
//! key bits (the benchmark's q4, `count(*) by eventSource, eventName`: served 0.87× of
//! the time before, the server's CPU samples 0.76×).
//!
//! When a batch does not shrink to half its rows (keys extracted from `@message`, where every
//! long value has a view of its own), the node passes the next batches through with a count
//! of 1, as DataFusion's own partial aggregate skips partial aggregation, and counts one
//! again after a while.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, Int32Array, Int64Array, RecordBatch, UInt32Array,
};
use arrow::compute::{interleave, take};
use arrow::datatypes::{DataType, Int32Type, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties, ReplaceChildrenOptions,
};
use futures::StreamExt;

use crate::scan::{EventScanExec, ScanCounters};

/// The physical optimizer rule that puts [`PartialCountExec`] in place of a partial
/// `count(*)` aggregate (see the module docs). It runs after DataFusion's own rules, so the
/// plan's shape (partial, repartition, final) is settled.
#[derive(Debug)]
pub(crate) struct PartialCountRule {
    /// The query's counters: the node adds the rows it counted and the rows it emitted.
    pub counters: Arc<ScanCounters>,
}

impl PartialCountRule {
    /// The plan that replaces `agg`, if the partial count applies: the node itself for a
    /// partial aggregate; for a single-phase aggregate (one input partition, or input
    /// already partitioned by the keys), the node under a final aggregate, as DataFusion
    /// plans two phases.
    fn rewrite(&self, agg: &AggregateExec) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
        let final_mode = match agg.mode() {
            AggregateMode::Partial => {
                return match PartialCountExec::replacing(agg, self.counters.clone()) {
                    Some(e) => Ok(Some(Arc::new(e.with_dictionary_input()?))),
                    None => Ok(None),
                }
            }
            AggregateMode::Single => AggregateMode::Final,
            AggregateMode::SinglePartitioned => AggregateMode::FinalPartitioned,
            _ => return Ok(None),
        };
        let input_schema = agg.input_schema();
        let partial = AggregateExec::try_new(
            AggregateMode::Partial,
            agg.group_expr().clone(),
            agg.aggr_expr().to_vec(),
            agg.filter_expr().to_vec(),
            agg.input().clone(),
            input_schema.clone(),
        )?;
        let Some(count) = PartialCountExec::replacing(&partial, self.counters.clone()) else {
            return Ok(None);
        };
        let count = count.with_dictionary_input()?;
        let final_agg = AggregateExec::try_new(
            final_mode,
            agg.group_expr().as_final(),
            agg.aggr_expr().to_vec(),
            agg.filter_expr().to_vec(),
            Arc::new(count),
            input_schema,
        )?;
        if final_agg.schema() != agg.schema() {
            return Ok(None);
        }
        Ok(Some(Arc::new(final_agg)))
    }
}

impl PhysicalOptimizerRule for PartialCountRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            let replaced = match node.downcast_ref::<AggregateExec>() {
                Some(agg) => self.rewrite(agg)?,
                None => None,
            };
            Ok(match replaced {
                Some(exec) => Transformed::yes(exec),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "ow_partial_count"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Counts the rows of each input batch by the raw bits of their group keys and emits one
/// row per distinct key bits: the key values, then the count once per `count` aggregate of
/// the partial aggregate it replaces (whose output schema it keeps). See the module docs.
#[derive(Debug)]
pub(crate) struct PartialCountExec {
    input: Arc<dyn ExecutionPlan>,
    /// Group key expressions over the input, in output order.
    keys: Vec<Arc<dyn PhysicalExpr>>,
    /// How many count columns follow the keys.
    counts: usize,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    counters: Arc<ScanCounters>,
}

impl PartialCountExec {
    /// The node that can stand in for `agg`, or `None` when `agg` is not a partial aggregate
    /// of only `count(<non-null literal>)`, or of no aggregate at all (the distinct keys
    /// that DataFusion plans for `count_distinct(x) by k`), by 1 to 4 keys of supported
    /// types.
    fn replacing(agg: &AggregateExec, counters: Arc<ScanCounters>) -> Option<Self> {
        if *agg.mode() != AggregateMode::Partial
            || agg.limit_options().is_some()
            || !agg.group_expr().is_single()
            || agg.group_expr().is_empty()
            || agg.filter_expr().iter().any(Option::is_some)
        {
            return None;
        }
        let counts_rows = |a: &Arc<datafusion::physical_expr::aggregate::AggregateFunctionExpr>| {
            a.fun().name() == "count"
                && !a.is_distinct()
                && a.order_bys().is_empty()
                && a.expressions().iter().all(|e| {
                    e.downcast_ref::<Literal>()
                        .is_some_and(|l| !l.value().is_null())
                })
        };
        if !agg.aggr_expr().iter().all(counts_rows) {
            return None;
        }
        let input = agg.input().clone();
        let input_schema = input.schema();
        let keys: Vec<Arc<dyn PhysicalExpr>> = agg
            .group_expr()
            .expr()
            .iter()
            .map(|(e, _)| e.clone())
            .collect();
        if keys.len() > MAX_KEYS {
            return None;
        }
        for k in &keys {
            if !supported(&k.data_type(&input_schema).ok()?) {
                return None;
            }
        }
        let schema = agg.schema();
        let counts = agg.aggr_expr().len();
        // The partial aggregate's output: the keys, then one Int64 state per count.
        if schema.fields().len() != keys.len() + counts
            || schema.fields()[keys.len()..]
                .iter()
                .any(|f| f.data_type() != &DataType::Int64)
        {
            return None;
        }
        let properties = Arc::new(properties(
            &schema,
            agg.properties().output_partitioning(),
            agg.properties().boundedness,
        ));
        Some(PartialCountExec {
            input,
            keys,
            counts,
            schema,
            properties,
            counters,
        })
    }
}

impl PartialCountExec {
    /// The node over a scan that hands the key paths out by dictionary
    /// ([`EventScanExec::with_dictionary_output`]), when there is an [`EventScanExec`]
    /// below, through `FilterExec`s whose predicates do not read those keys and
    /// `CooperativeExec`s; else the node unchanged. The key paths are the keys that are
    /// plain columns of JSON paths (not system fields) that no other key's expression
    /// reads. A promoted column's values are then counted by their dictionary key instead
    /// of their 16-byte view, which the reader no longer builds.
    ///
    /// Not for the distinct `(k, x)` pairs of `count_distinct(x) by k` (no count): `x` is
    /// typically of high cardinality (source IPs, principals), whose Parquet dictionary
    /// falls back to plain pages, which the reader then hashes into a dictionary per batch.
    /// On the 1 GB benchmark's q6 (`count_distinct(sourceIPAddress) by userIdentity.arn`)
    /// that made the served query 1.06× slower (31 paired runs) where the benchmark's q4
    /// (`count(*) by eventSource, eventName`) became 0.87×.
    fn with_dictionary_input(self) -> DfResult<Self> {
        if self.counts == 0 {
            return Ok(self);
        }
        let input_schema = self.input.schema();
        let mut names: Vec<String> = Vec::new();
        let mut read_otherwise: Vec<String> = Vec::new();
        for k in &self.keys {
            match k.downcast_ref::<Column>() {
                Some(c) => names.push(input_schema.field(c.index()).name().clone()),
                None => read_otherwise.extend(
                    collect_columns(k)
                        .iter()
                        .map(|c| input_schema.field(c.index()).name().clone()),
                ),
            }
        }
        names.retain(|n| !read_otherwise.contains(n));
        if names.is_empty() {
            return Ok(self);
        }
        match dictionary_input(&self.input, &names)? {
            Some(input) => Ok(PartialCountExec { input, ..self }),
            None => Ok(self),
        }
    }
}

/// `plan` with its scan handing `names` out by dictionary (see
/// [`PartialCountExec::with_dictionary_input`]), or `None`.
fn dictionary_input(
    plan: &Arc<dyn ExecutionPlan>,
    names: &[String],
) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
    if let Some(scan) = plan.downcast_ref::<EventScanExec>() {
        return Ok(scan
            .with_dictionary_output(names)
            .map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>));
    }
    // nodes that hand their input's columns on as they are
    let child = if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        let input_schema = filter.input().schema();
        let reads_a_key = collect_columns(filter.predicate())
            .iter()
            .any(|c| names.contains(input_schema.field(c.index()).name()));
        if reads_a_key {
            return Ok(None);
        }
        filter.input()
    } else if let Some(cooperative) = plan.downcast_ref::<CooperativeExec>() {
        cooperative.input()
    } else if let Some(counter) = plan.downcast_ref::<crate::matched::MatchedCounterExec>() {
        // its predicate reads `@timestamp` only
        counter.input()
    } else if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        // a choice of columns under their own names (above the matched-rows counter, which
        // takes no projection into it)
        let input_schema = projection.input().schema();
        let selects = projection.expr().iter().all(|e| {
            e.expr
                .downcast_ref::<Column>()
                .is_some_and(|c| input_schema.field(c.index()).name() == &e.alias)
        });
        if !selects {
            return Ok(None);
        }
        projection.input()
    } else {
        return Ok(None);
    };
    match dictionary_input(child, names)? {
        // its output schema is made from the input's anew (the keys' type changed)
        Some(input) if plan.downcast_ref::<ProjectionExec>().is_some() => {
            let projection = plan
                .downcast_ref::<ProjectionExec>()
                .map(|p| p.expr().to_vec());
            Ok(Some(Arc::new(ProjectionExec::try_new(
                projection.unwrap_or_default(),
                input,
            )?)))
        }
        Some(input) => Ok(Some(plan.clone().replace_children(
            vec![input],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?)),
        None => Ok(None),
    }
}

/// Most group keys the node counts by; DataFusion's partial aggregate handles more.
const MAX_KEYS: usize = 4;

/// Plan properties: the partitioning of the partial aggregate replaced (its input's), no
/// ordering or uniqueness (keys repeat across batches), rows emitted batch by batch.
fn properties(
    schema: &SchemaRef,
    partitioning: &Partitioning,
    boundedness: Boundedness,
) -> PlanProperties {
    PlanProperties::new(
        EquivalenceProperties::new(schema.clone()),
        partitioning.clone(),
        EmissionType::Incremental,
        boundedness,
    )
}

/// Whether a key of this type has key bits (see the module docs).
fn supported(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8View
            | DataType::BinaryView
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::Boolean
    ) || (t.is_primitive() && t.primitive_width().is_some_and(|w| w <= 8))
}

/// Key bits of the values of an offset-based string or binary column (`Utf8`, `Binary`,
/// …; `values(r)` is row `r`'s bytes) for `n` rows of held batch `batch`: up to 15 bytes
/// inline after a length byte; a longer value gets `0xFE` (never a length), the first row
/// of the batch with the same bytes (found in a map from bytes to row) and the batch
/// number. Equal bits are equal values either way.
fn offset_value_bits<'a>(n: usize, batch: u32, values: impl Fn(usize) -> &'a [u8]) -> Vec<u128> {
    let mut first_row_of: datafusion::common::HashMap<&'a [u8], usize> = Default::default();
    (0..n)
        .map(|r| {
            let value = values(r);
            let mut word = [0u8; 16];
            if value.len() <= 15 {
                word[0] = value.len() as u8;
                word[1..=value.len()].copy_from_slice(value);
            } else {
                let first = *first_row_of.entry(value).or_insert(r);
                word[0] = 0xFE;
                word[1..9].copy_from_slice(&(first as u64).to_le_bytes());
                word[9..13].copy_from_slice(&batch.to_le_bytes());
            }
            u128::from_le_bytes(word)
        })
        .collect()
}

/// The bits of a null key: the view of a string of length 2^32 - 1, longer than any
/// Arrow string; no primitive's bits (those have bit 64 set and the high word zero); no
/// offset-based value's (whose first byte is at most 15, or 0xFE).
const NULL_BITS: u128 = u128::MAX;

/// Each row's key bits of `array`, a key column of held batch `batch` (see the module
/// docs): a view array's own views when it has no nulls, else a new vector. Views are
/// comparable across the held batches because [`Counter`] holds only batches whose view
/// columns point into the same buffers, in the same order (the batches of one row group
/// all point into its column's decoded dictionary).
fn key_bits(array: &dyn Array, batch: u32) -> DfResult<Cow<'_, [u128]>> {
    let n = array.len();
    let views = match array.data_type() {
        DataType::Utf8View => Some(array.as_string_view().views()),
        DataType::BinaryView => Some(array.as_binary_view().views()),
        _ => None,
    };
    let nulls = array.nulls().filter(|n| n.null_count() > 0);
    if let (Some(v), None) = (views, nulls) {
        return Ok(Cow::Borrowed(v));
    }
    let mut out: Vec<u128> = match (views, array.data_type()) {
        (Some(v), _) => v.to_vec(),
        (None, DataType::Dictionary(key, _)) if **key == DataType::Int32 => {
            // the held batches share the dictionary (`view_buffers`): its key is the value
            let keys = array.as_dictionary::<Int32Type>().keys().values();
            keys.iter()
                .map(|&k| (1u128 << 64) | u128::from(k as u32))
                .collect()
        }
        (None, DataType::Utf8) => {
            let a = array.as_string::<i32>();
            offset_value_bits(n, batch, |r| a.value(r).as_bytes())
        }
        (None, DataType::LargeUtf8) => {
            let a = array.as_string::<i64>();
            offset_value_bits(n, batch, |r| a.value(r).as_bytes())
        }
        (None, DataType::Binary) => {
            let a = array.as_binary::<i32>();
            offset_value_bits(n, batch, |r| a.value(r))
        }
        (None, DataType::LargeBinary) => {
            let a = array.as_binary::<i64>();
            offset_value_bits(n, batch, |r| a.value(r))
        }
        (None, DataType::Boolean) => {
            let values = array.as_boolean().values();
            (0..n)
                .map(|i| (1u128 << 64) | u128::from(values.value(i)))
                .collect()
        }
        (None, t) => {
            let width = t
                .primitive_width()
                .filter(|w| *w <= 8)
                .ok_or_else(|| DataFusionError::Internal(format!("no key bits for {t}")))?;
            let data = array.to_data();
            let bytes = &data.buffers()[0].as_slice()[data.offset() * width..];
            bytes
                .chunks_exact(width)
                .take(n)
                .map(|chunk| {
                    let mut word = [0u8; 8];
                    word[..width].copy_from_slice(chunk);
                    (1u128 << 64) | u128::from(u64::from_le_bytes(word))
                })
                .collect()
        }
    };
    if let Some(nulls) = nulls {
        for (slot, valid) in out.iter_mut().zip(nulls.iter()) {
            if !valid {
                *slot = NULL_BITS;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// The data buffers (addresses, in order) a key column's views point into, or its
/// dictionary's values (buffer addresses and lengths, offset and length); empty for other
/// types.
fn view_buffers(array: &dyn Array) -> Vec<usize> {
    let buffers = match array.data_type() {
        DataType::Utf8View => array.as_string_view().data_buffers(),
        DataType::BinaryView => array.as_binary_view().data_buffers(),
        DataType::Dictionary(..) => {
            // a dictionary's values, by their buffers (the reader makes a new values
            // array for every batch of a row group, over the same buffers)
            let values = array.as_any_dictionary().values().to_data();
            return values
                .buffers()
                .iter()
                .flat_map(|b| [b.as_ptr() as usize, b.len()])
                .chain([values.offset(), values.len()])
                .collect();
        }
        _ => return Vec::new(),
    };
    buffers.iter().map(|b| b.as_ptr() as usize).collect()
}

/// The groups counted since the last emission, over the held batches.
#[derive(Default)]
struct Groups {
    /// Open-addressing table (linear probing) of group number + 1, 0 for empty, at most
    /// half full.
    slots: Vec<u32>,
    /// Each group's key bits, `W` per group.
    bits: Vec<u128>,
    /// Each group's first row: (held batch, row).
    rows: Vec<(usize, usize)>,
    counts: Vec<i64>,
}

impl Groups {
    fn len(&self) -> usize {
        self.counts.len()
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.bits.clear();
        self.rows.clear();
        self.counts.clear();
    }

    /// Makes room for `more` groups: the table stays at most half full.
    fn reserve<const W: usize>(&mut self, more: usize) {
        let need = ((self.len() + more) * 2).next_power_of_two().max(16);
        if self.slots.len() >= need {
            return;
        }
        self.slots.clear();
        self.slots.resize(need, 0);
        let mask = need - 1;
        for g in 0..self.len() {
            let mut slot = (hash::<W>(&self.bits[g * W..(g + 1) * W]) as usize) & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = g as u32 + 1;
        }
    }
}

/// The hash of one row's key bits.
fn hash<const W: usize>(bits: &[u128]) -> u64 {
    let mut h: u64 = 0;
    for &b in bits.iter().take(W) {
        h = mix(h, b);
    }
    h
}

/// One key column's bits folded into hash `h`: a single 64-bit multiply per column (two
/// were a fifth of the counting's instructions). The halves are combined with a rotation
/// so that a view's length and prefix (low half) and its offset (high half) both reach
/// every bit; a collision only costs a probe, the table compares whole keys.
#[inline]
fn mix(h: u64, b: u128) -> u64 {
    folded_multiply(
        h ^ (b as u64) ^ ((b >> 64) as u64).rotate_left(29),
        0x243F_6A88_85A3_08D3,
    )
}

/// Counts the rows of held batch `batch` by their key bits (`columns[c][r]`: key column
/// `c`, row `r`, all columns as long) into `groups`; returns how many groups it added.
fn count_groups<const W: usize>(columns: [&[u128]; W], batch: usize, groups: &mut Groups) -> usize {
    let rows = columns[0].len();
    let before = groups.len();
    if rows == 0 {
        return 0;
    }
    groups.reserve::<W>(rows);
    let mask = groups.slots.len() - 1;
    // Rows are compared column by column in integer registers (building `[u128; W]` keys
    // on the stack and comparing them as vectors stalled on store forwarding).
    let same_as_row = |a: usize, b: usize| {
        let mut diff = 0u128;
        for column in &columns {
            diff |= column[a] ^ column[b];
        }
        diff == 0
    };
    let mut previous = usize::MAX;
    for r in 0..rows {
        // Rows of a segment are clustered by message bytes: neighbours often share keys.
        if r > 0 && same_as_row(r, r - 1) {
            groups.counts[previous] += 1;
            continue;
        }
        let mut h: u64 = 0;
        for column in &columns {
            h = mix(h, column[r]);
        }
        let mut slot = (h as usize) & mask;
        previous = loop {
            match groups.slots[slot] {
                0 => {
                    let g = groups.len();
                    groups.slots[slot] = g as u32 + 1;
                    groups.bits.extend(columns.iter().map(|c| c[r]));
                    groups.rows.push((batch, r));
                    groups.counts.push(1);
                    break g;
                }
                s => {
                    let g = s as usize - 1;
                    let bits = &groups.bits[g * W..(g + 1) * W];
                    let mut diff = 0u128;
                    for (column, b) in columns.iter().zip(bits) {
                        diff |= column[r] ^ b;
                    }
                    if diff == 0 {
                        groups.counts[g] += 1;
                        break g;
                    }
                    slot = (slot + 1) & mask;
                }
            }
        };
    }
    groups.len() - before
}

/// The 128-bit product of `a` and `b` folded to 64 bits (high half XOR low half): every
/// bit of `a` reaches every bit of the result (foldhash's mixing step).
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Per-partition counting state.
struct Counter {
    keys: Vec<Arc<dyn PhysicalExpr>>,
    counts: usize,
    schema: SchemaRef,
    counters: Arc<ScanCounters>,
    /// The key columns of the batches counted since the last emission.
    held: Vec<Vec<ArrayRef>>,
    /// For each key column, the data buffers (addresses, in order) the held batches' views
    /// point into: a batch whose views point elsewhere (the next row group) first has the
    /// held groups emitted, so equal view bits always mean equal values.
    held_buffers: Vec<Vec<usize>>,
    groups: Groups,
    /// The counts of the held row group when every key is a dictionary column with few
    /// enough value combinations (see [`Dense`]; `dense_active`); then `held` stays empty.
    dense: Dense,
    /// Whether `dense` is counting.
    dense_active: bool,
    /// Batches to pass through uncounted before counting one again.
    pass_through: u32,
}

/// Counts by dictionary keys: each row's combination of key column dictionary values
/// (and a missing value each) is one number, its cell, and the rows are counted per cell in
/// a small open-addressing table, without hashing or comparing the values themselves. Used
/// for the batches of one row group, whose promoted key columns share their dictionaries.
/// `stats count(*) by eventSource, eventName` over 1 GB of CloudTrail has 56 × 989
/// combinations in a row group of 57,736 rows, of which about 900 occur: a dense array of
/// every combination (a quarter MiB of counts) stalled on a cache miss per row, the
/// table (4,096 slots, 32 KiB) stays in the first-level cache.
#[derive(Default)]
struct Dense {
    /// Each key column's dictionary values.
    values: Vec<ArrayRef>,
    /// Each key column's radix: its dictionary's length, plus one for a missing value
    /// (digit `values.len()`).
    radix: Vec<usize>,
    /// The table: per slot, `(cell + 1) << 32 | rows`, 0 when empty; a power of two
    /// long, at most half full. [`Counter`] emits the groups before a count reaches 2^32
    /// ([`Dense::rows`]).
    slots: Vec<u64>,
    /// Occupied slots.
    len: usize,
    /// Rows counted since [`Dense::start`].
    rows: u64,
    /// Each row's cell (`Σ digit[c] × stride[c]`, the last column's stride 1) for the
    /// batch being counted (kept to reuse its memory).
    cells: Vec<u32>,
}

/// Slots of a fresh [`Dense`] table.
const DENSE_SLOTS: usize = 1 << 12;

impl Dense {
    /// Starts counting key columns with these dictionary `values` in `self` (whose table
    /// is empty); false when their combinations do not fit a cell's 32 bits.
    fn start(&mut self, values: Vec<ArrayRef>) -> bool {
        let radix: Vec<usize> = values.iter().map(|v| v.len() + 1).collect();
        let fits = radix
            .iter()
            .try_fold(1usize, |acc, r| acc.checked_mul(*r))
            .is_some_and(|c| c < u32::MAX as usize);
        if !fits {
            return false;
        }
        if self.slots.len() != DENSE_SLOTS {
            self.slots = vec![0; DENSE_SLOTS];
        }
        self.values = values;
        self.radix = radix;
        self.len = 0;
        self.rows = 0;
        true
    }

    /// Counts the rows of one batch; `keys` are its key columns, dictionaries over
    /// `self.values`.
    fn count(&mut self, keys: &[&DictionaryArray<Int32Type>]) {
        let rows = keys.first().map_or(0, |k| k.len());
        self.rows += rows as u64;
        self.cells.clear();
        self.cells.resize(rows, 0);
        let mut stride = 1u32;
        for (k, &radix) in keys.iter().zip(&self.radix).rev() {
            let missing = radix as u32 - 1;
            let digits = k.keys().values();
            // a key out of the dictionary's range (never made by the reader) reads as
            // missing, so the cell stays below the product of the radixes
            for (cell, &d) in self.cells.iter_mut().zip(digits.iter()) {
                *cell += (d as u32).min(missing) * stride;
            }
            if let Some(nulls) = k.keys().nulls().filter(|n| n.null_count() > 0) {
                for (r, cell) in self.cells.iter_mut().enumerate() {
                    if nulls.is_null(r) {
                        let d = (digits[r] as u32).min(missing);
                        *cell = *cell - d * stride + missing * stride;
                    }
                }
            }
            stride = stride.wrapping_mul(radix as u32);
        }
        let cells = std::mem::take(&mut self.cells);
        for &cell in &cells {
            self.add(cell);
        }
        self.cells = cells;
    }

    /// Counts one row in `cell`.
    #[inline]
    fn add(&mut self, cell: u32) {
        let key = u64::from(cell + 1) << 32;
        let mask = self.slots.len() - 1;
        let mut i = slot_of(cell, mask);
        loop {
            let s = self.slots[i];
            if s & !0xFFFF_FFFF == key {
                self.slots[i] = s + 1;
                return;
            }
            if s == 0 {
                self.slots[i] = key | 1;
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the table.
    #[cold]
    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|&s| s != 0) {
            let mut i = slot_of(((s >> 32) - 1) as u32, mask);
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// The counted combinations: each key column as a dictionary array over its values (a
    /// missing value as a null key), and their counts. Leaves the table empty, ready for
    /// [`Dense::start`].
    fn take_groups(&mut self) -> DfResult<(Vec<ArrayRef>, Vec<i64>)> {
        let mut digits: Vec<Vec<Option<i32>>> =
            vec![Vec::with_capacity(self.len); self.radix.len()];
        let mut counts = Vec::with_capacity(self.len);
        for slot in self.slots.iter_mut().filter(|s| **s != 0) {
            let s = std::mem::take(slot);
            let mut rest = ((s >> 32) - 1) as usize;
            for (c, &radix) in self.radix.iter().enumerate().rev() {
                let d = rest % radix;
                rest /= radix;
                digits[c].push((d + 1 < radix).then_some(d as i32));
            }
            counts.push((s & 0xFFFF_FFFF) as i64);
        }
        self.len = 0;
        if self.slots.len() > DENSE_SLOTS {
            self.slots = vec![0; DENSE_SLOTS];
        }
        let values = std::mem::take(&mut self.values);
        let columns = digits
            .into_iter()
            .zip(values)
            .map(|(keys, values)| {
                DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), values)
                    .map(|a| Arc::new(a) as ArrayRef)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((columns, counts))
    }
}

/// A cell's first slot in a table of `mask + 1` slots (a multiplicative hash).
#[inline]
fn slot_of(cell: u32, mask: usize) -> usize {
    ((u64::from(cell).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize) & mask
}

/// Batches passed through after a counted batch that did not shrink to half its rows
/// (keys extracted from `@message`); then one batch is counted again, as the next segment
/// may have the keys as promoted columns.
const PASS_THROUGH_BATCHES: u32 = 15;

/// Counted batches held before their groups are emitted. The batches of one row group
/// share their promoted columns' dictionaries, so their groups merge: on `stats count(*)
/// by eventSource, eventName` over 1 GB of CloudTrail (8 batches per row group) the node
/// emitted 54,249 rows when it counted batch by batch.
const HELD_BATCHES: usize = 16;

/// Groups at which the held groups are emitted early (bounds the held memory).
const MAX_HELD_GROUPS: usize = 16_384;

impl Counter {
    /// Counts one input batch; returns a batch to emit: the batch itself with counts of
    /// 1 (passed through), or the held groups when it is time to emit them.
    fn batch(&mut self, batch: &RecordBatch) -> DfResult<Option<RecordBatch>> {
        let rows = batch.num_rows();
        let key_arrays = self
            .keys
            .iter()
            .map(|k| k.evaluate(batch)?.into_array(rows))
            .collect::<DfResult<Vec<ArrayRef>>>()?;
        self.counters
            .rows_counted_early
            .fetch_add(rows as u64, Ordering::Relaxed);
        if key_arrays
            .iter()
            .any(|a| matches!(a.data_type(), DataType::Dictionary(..)))
        {
            self.counters
                .rows_counted_by_dictionary
                .fetch_add(rows as u64, Ordering::Relaxed);
        }
        if rows == 0 {
            return Ok(None);
        }
        if self.pass_through > 0 {
            self.pass_through -= 1;
            let indices: Vec<(usize, usize)> = (0..rows).map(|r| (0, r)).collect();
            return self.emit(&[key_arrays], &indices, vec![1; rows]).map(Some);
        }
        let buffers: Vec<Vec<usize>> = key_arrays
            .iter()
            .map(|a| view_buffers(a.as_ref()))
            .collect();
        let mut flushed = None;
        if (!self.held.is_empty() || self.dense_active) && buffers != self.held_buffers {
            flushed = self.flush()?;
        }
        self.held_buffers = buffers;
        let dictionaries: Option<Vec<&DictionaryArray<Int32Type>>> = key_arrays
            .iter()
            .map(|a| a.as_dictionary_opt::<Int32Type>())
            .collect();
        if let Some(dictionaries) = dictionaries {
            if !self.dense_active && self.held.is_empty() {
                let values = dictionaries.iter().map(|d| d.values().clone()).collect();
                self.dense_active = self.dense.start(values);
            }
            if self.dense_active {
                self.dense.count(&dictionaries);
                if self.dense.rows > u64::from(u32::MAX / 2) {
                    // before a count could overflow its 32 bits
                    let counted = self.flush()?;
                    return self.joined(flushed, counted);
                }
                return Ok(flushed);
            }
        }
        let held = self.held.len();
        let bits = key_arrays
            .iter()
            .map(|a| key_bits(a.as_ref(), held as u32))
            .collect::<DfResult<Vec<_>>>()?;
        let groups = &mut self.groups;
        let added = match bits.as_slice() {
            [a] => count_groups([a.as_ref()], held, groups),
            [a, b] => count_groups([a.as_ref(), b.as_ref()], held, groups),
            [a, b, c] => count_groups([a.as_ref(), b.as_ref(), c.as_ref()], held, groups),
            [a, b, c, d] => count_groups(
                [a.as_ref(), b.as_ref(), c.as_ref(), d.as_ref()],
                held,
                groups,
            ),
            _ => {
                return Err(DataFusionError::Internal(format!(
                    "PartialCountExec counts by 1 to {MAX_KEYS} keys, not {}",
                    bits.len()
                )))
            }
        };
        drop(bits);
        self.held.push(key_arrays);
        let emit_now = if added * 2 > rows {
            self.pass_through = PASS_THROUGH_BATCHES;
            true
        } else {
            self.held.len() >= HELD_BATCHES || self.groups.len() >= MAX_HELD_GROUPS
        };
        let held_out = if emit_now { self.flush()? } else { None };
        self.joined(flushed, held_out)
    }

    /// The rows of two emissions of one input batch (the groups held before it, then its
    /// own) as one output batch.
    fn joined(
        &self,
        first: Option<RecordBatch>,
        second: Option<RecordBatch>,
    ) -> DfResult<Option<RecordBatch>> {
        Ok(match (first, second) {
            (Some(a), Some(b)) => Some(arrow::compute::concat_batches(&self.schema, [&a, &b])?),
            (a, b) => a.or(b),
        })
    }

    /// Emits the held groups (none: `None`) and forgets the held batches.
    fn flush(&mut self) -> DfResult<Option<RecordBatch>> {
        if self.dense_active {
            self.dense_active = false;
            self.held_buffers.clear();
            let (columns, counts) = self.dense.take_groups()?;
            if counts.is_empty() {
                return Ok(None);
            }
            let rows: Vec<(usize, usize)> = (0..counts.len()).map(|r| (0, r)).collect();
            return self.emit(&[columns], &rows, counts).map(Some);
        }
        let out = if self.groups.len() == 0 {
            None
        } else {
            let counts = self.groups.counts.clone();
            Some(self.emit(&self.held, &self.groups.rows, counts)?)
        };
        self.held.clear();
        self.held_buffers.clear();
        self.groups.clear();
        Ok(out)
    }

    /// One output batch: for each key, the values at `rows` ((batch, row) of `batches`),
    /// then `counts` once per count column.
    fn emit(
        &self,
        batches: &[Vec<ArrayRef>],
        rows: &[(usize, usize)],
        counts: Vec<i64>,
    ) -> DfResult<RecordBatch> {
        let mut columns = Vec::with_capacity(self.keys.len() + self.counts);
        for k in 0..self.keys.len() {
            let column = if batches.len() == 1 && rows.iter().enumerate().all(|(i, r)| r.1 == i) {
                batches[0][k].slice(0, rows.len())
            } else if batches.len() == 1 {
                let indices = UInt32Array::from_iter_values(rows.iter().map(|r| r.1 as u32));
                take(batches[0][k].as_ref(), &indices, None)?
            } else {
                let arrays: Vec<&dyn Array> = batches.iter().map(|b| b[k].as_ref()).collect();
                interleave(&arrays, rows)?
            };
            // a dictionary key column (`with_dictionary_input`) as the partial aggregate
            // has it
            let want = self.schema.field(k).data_type();
            let column = if column.data_type() == want {
                column
            } else {
                arrow::compute::cast(&column, want)?
            };
            columns.push(column);
        }
        self.counters
            .partial_count_rows
            .fetch_add(counts.len() as u64, Ordering::Relaxed);
        let counts: ArrayRef = Arc::new(Int64Array::from(counts));
        columns.extend(std::iter::repeat_n(counts, self.counts));
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

impl DisplayAs for PartialCountExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        write!(
            f,
            "PartialCountExec: gby=[{}], counts={}",
            keys.join(", "),
            self.counts
        )
    }
}

impl ExecutionPlan for PartialCountExec {
    fn name(&self) -> &str {
        "PartialCountExec"
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
        for k in &self.keys {
            if f(k)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(
                "PartialCountExec has one child".into(),
            ));
        }
        let input = children.swap_remove(0);
        let properties = properties(
            &self.schema,
            input.output_partitioning(),
            self.properties.boundedness,
        );
        Ok(Arc::new(PartialCountExec {
            input,
            keys: self.keys.clone(),
            counts: self.counts,
            schema: self.schema.clone(),
            properties: Arc::new(properties),
            counters: self.counters.clone(),
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
        let mut counter = Counter {
            keys: self.keys.clone(),
            counts: self.counts,
            schema: self.schema.clone(),
            counters: self.counters.clone(),
            held: Vec::new(),
            held_buffers: Vec::new(),
            groups: Groups::default(),
            dense: Dense::default(),
            dense_active: false,
            pass_through: 0,
        };
        // `None` marks the end of the input: the held groups are emitted then.
        let stream = self
            .input
            .execute(partition, context)?
            .map(Some)
            .chain(futures::stream::once(futures::future::ready(None)))
            .filter_map(move |item| {
                futures::future::ready(
                    match item {
                        Some(b) => b.and_then(|b| counter.batch(&b)),
                        None => counter.flush(),
                    }
                    .transpose(),
                )
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}
