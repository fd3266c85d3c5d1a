//! Aggregates for `stats` (spec §6.8).
//!
//! | name | implementation | result |
//! |---|---|---|
//! | `avg(x)`, `sum(x)` | DataFusion's, over `to_number(x)` (non-numeric values skipped) | `Float64` |
//! | `stddev(x)` | DataFusion's **sample** standard deviation (n−1) \[I, chosen\]; one value -> missing | `Float64` |
//! | `count()`, `count(*)` | all records (the planner passes no argument) | `Int64` |
//! | `count(f)` | records where `f` is present | `Int64` |
//! | `count_distinct(f)` | **exact** distinct count of present values (spec allows exact) | `Int64` |
//! | `min`, `max`, `sortsFirst`, `sortsLast` | first/last value in AWS natural order (§4.6): numbers numerically, strings too | the input's type |
//! | `pct(x, p)` | **nearest-rank** percentile \[I, chosen\]: sorted numeric values, rank ⌈p/100·n⌉ (at least 1) | `Float64` |
//! | `earliest(f[, ts])`, `latest(f[, ts])` | value of `f` at the min/max timestamp (default `@timestamp`); missing `f` skipped; ties: natural-order first/last value | the input's type |
//!
//! Time-series functions (§6.9; AWS "Time-series functions" page: "counts log events
//! per time bin / sums field values per time bin; use with `by bin(interval)`"):
//! `count_over_time(f)` (alias `countOverTime`) is `count(f)` and `sum_over_time(x)`
//! (alias `sumOverTime`) is `sum(x)` over the group, which is the bin when the stats
//! groups `by bin(…)` \[I: our reading of the one-line description\].
//!
//! `rate(x, interval)` and `histogram(x, buckets)`: AWS documents only "per-interval
//! rate of change" and "equal-width buckets" (spec §6.9), so both are \[I\] decisions:
//!
//! * `rate(x, interval)` = `sum(x)` over the group divided by the number of `interval`s
//!   in the group's time window, i.e. `sum(x) · interval / window` (`Float64`). The
//!   window is the fixed period `P` of the stats' `bin(P)` group key
//!   ([`QueryContext::bin`]); without a bin it is the query's time range
//!   `end_ms − start_ms` (the same length `queryTimeRange()` returns), not the span of
//!   the events (which depends on the data and is 0 for one event). Example:
//!   `rate(bytes, 1s) by bin(5m)` = `sum(bytes) / 300`. `interval` defaults to `1s`.
//!   Non-numeric/missing `x` is skipped as in `sum`; no numeric value -> missing. A
//!   calendar bin (`1mo`, `1q`, `1y`) or a calendar interval is rejected (bins of
//!   different lengths), as is a zero-length query range.
//! * `histogram(x, n)` = a map (`LargeUtf8` JSON object) of `n` equal-width buckets
//!   between the minimum and maximum numeric value of `x` in the group, in ascending
//!   order, keyed `"[lo,hi)"` (the last `"[lo,hi]"`, closed, so the maximum is counted),
//!   bounds rendered like numbers (`format_number`); values are counts (empty buckets
//!   included with 0). Non-numeric, missing and non-finite values are ignored; no
//!   numeric value -> missing; when every value is equal there is one bucket
//!   `"[v,v]"`. `n` is a literal integer in `1..=`[`MAX_HISTOGRAM_BUCKETS`].

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::functions_aggregate::expr_fn as df;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};

use crate::error::FunctionError;
use crate::natural::natural_cmp;
use crate::period::Period;
use crate::render::format_number;
use crate::udf::{common_type, TS};
use crate::value::{Col, Val};
use crate::{lit_num, timestamp_column, to_number, QueryContext};

/// Every aggregate name [`aggregate`] knows (lower case, aliases included), including
/// the ones it reports as unsupported.
pub const AGGREGATES: &[&str] = &[
    "avg",
    "count",
    "count_distinct",
    "countdistinct",
    "max",
    "min",
    "pct",
    "stddev",
    "sum",
    "earliest",
    "latest",
    "sortsfirst",
    "sortslast",
    "rate",
    "count_over_time",
    "countovertime",
    "sum_over_time",
    "sumovertime",
    "histogram",
];

/// The largest bucket count `histogram(x, n)` accepts \[I\]: the result is one map value
/// per group, so a bound keeps it printable.
pub const MAX_HISTOGRAM_BUCKETS: usize = 1000;

/// True when `name` (any case) is an aggregate function (spec §6.8–§6.9).
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> Result<(), FunctionError> {
    if args.len() < min || args.len() > max {
        return Err(FunctionError::Arity {
            name: name.to_owned(),
            expected: if min == max {
                min.to_string()
            } else {
                format!("{min} or {max}")
            },
            got: args.len(),
        });
    }
    Ok(())
}

/// Builds an aggregate call (spec §6.8) for `stats`.
///
/// * `name`: any case; `args`: the argument expressions. `count()` and `count(*)` are
///   both `aggregate("count", vec![], ctx)`. `pct(x, p)` needs a literal `p` in
///   `0..=100`. `earliest(f)`/`latest(f)` read `@timestamp` unless a second argument
///   (the timestamp expression) is passed.
/// * `rate(x[, interval])`: `interval` a period literal as written (`lit("1s")`,
///   default `1s`); the window is `ctx.bin` or else `ctx.end_ms - ctx.start_ms` (see the
///   module docs). `histogram(x, n)`: `n` a literal integer.
///
/// # Errors
/// [`FunctionError::UnknownFunction`] (including scalar names),
/// [`FunctionError::Arity`]; [`FunctionError::NotLiteral`] /
/// [`FunctionError::InvalidArgument`] for `pct`'s percentile, `rate`'s interval or
/// window (calendar or zero length) and `histogram`'s bucket count;
/// [`FunctionError::InvalidPeriod`] for a malformed `rate` interval.
pub fn aggregate(name: &str, args: Vec<Expr>, ctx: &QueryContext) -> Result<Expr, FunctionError> {
    let lower = name.to_ascii_lowercase();
    let first = |args: Vec<Expr>| {
        args.into_iter()
            .next()
            .unwrap_or_else(|| Expr::Literal(ScalarValue::Null, None))
    };
    match lower.as_str() {
        "avg" => {
            arity("avg", &args, 1, 1)?;
            Ok(df::avg(to_number(first(args))))
        }
        "sum" | "sum_over_time" | "sumovertime" => {
            arity(&lower, &args, 1, 1)?;
            Ok(df::sum(to_number(first(args))))
        }
        "stddev" => {
            arity("stddev", &args, 1, 1)?;
            Ok(df::stddev(to_number(first(args))))
        }
        "count_over_time" | "countovertime" => {
            arity(&lower, &args, 1, 1)?;
            Ok(df::count(first(args)))
        }
        "count" => {
            arity("count", &args, 0, 1)?;
            if args.is_empty() {
                Ok(df::count(Expr::Literal(ScalarValue::Int64(Some(1)), None)))
            } else {
                Ok(df::count(first(args)))
            }
        }
        "count_distinct" | "countdistinct" => {
            arity("count_distinct", &args, 1, 1)?;
            Ok(df::count_distinct(first(args)))
        }
        "min" | "max" | "sortsfirst" | "sortslast" => {
            let canon = match lower.as_str() {
                "sortsfirst" => "sortsFirst",
                "sortslast" => "sortsLast",
                other => other,
            };
            arity(canon, &args, 1, 1)?;
            let last = matches!(lower.as_str(), "max" | "sortslast");
            Ok(udaf(NaturalExtreme::new(canon, last), args))
        }
        "pct" => {
            arity("pct", &args, 2, 2)?;
            let p = lit_num(&args[1]).ok_or_else(|| FunctionError::NotLiteral {
                name: "pct".into(),
                index: 2,
                what: "number between 0 and 100".into(),
            })?;
            if !(0.0..=100.0).contains(&p) {
                return Err(FunctionError::InvalidArgument {
                    name: "pct".into(),
                    index: 2,
                    message: format!("the percentile must be between 0 and 100, got {p}"),
                });
            }
            // p stays an argument (ignored by the accumulator) so that pct(x, 50) and
            // pct(x, 90) get different column names
            let mut args = args;
            let p_arg = args
                .pop()
                .unwrap_or_else(|| Expr::Literal(ScalarValue::Null, None));
            Ok(udaf(
                Percentile::new(p),
                vec![to_number(first(args)), p_arg],
            ))
        }
        "earliest" | "latest" => {
            arity(&lower, &args, 1, 2)?;
            let mut args = args;
            if args.len() == 1 {
                args.push(timestamp_column());
            }
            Ok(udaf(TimeExtreme::new(&lower, lower == "latest"), args))
        }
        "rate" => {
            arity("rate", &args, 1, 2)?;
            let factor = rate_factor(&args, ctx)?;
            // the interval stays an argument (ignored by the accumulator) so that
            // rate(x, 1s) and rate(x, 1m) get different column names
            let mut args = args;
            let interval = if args.len() == 2 {
                args.pop()
                    .unwrap_or_else(|| Expr::Literal(ScalarValue::Null, None))
            } else {
                Expr::Literal(ScalarValue::Utf8(Some("1s".into())), None)
            };
            Ok(udaf(
                Rate::new(factor),
                vec![to_number(first(args)), interval],
            ))
        }
        "histogram" => {
            arity("histogram", &args, 2, 2)?;
            let not_literal = || FunctionError::NotLiteral {
                name: "histogram".into(),
                index: 2,
                what: format!("whole number of buckets from 1 to {MAX_HISTOGRAM_BUCKETS}"),
            };
            let n = lit_num(&args[1]).ok_or_else(not_literal)?;
            if n.fract() != 0.0 || !(1.0..=MAX_HISTOGRAM_BUCKETS as f64).contains(&n) {
                return Err(FunctionError::InvalidArgument {
                    name: "histogram".into(),
                    index: 2,
                    message: format!(
                        "the bucket count must be a whole number from 1 to \
                         {MAX_HISTOGRAM_BUCKETS}, got {}",
                        format_number(n)
                    ),
                });
            }
            let mut args = args;
            let n_arg = args
                .pop()
                .unwrap_or_else(|| Expr::Literal(ScalarValue::Null, None));
            Ok(udaf(
                Histogram::new(n as usize),
                vec![to_number(first(args)), n_arg],
            ))
        }
        _ => Err(FunctionError::UnknownFunction {
            name: name.to_owned(),
        }),
    }
}

fn udaf<F: AggregateUDFImpl + 'static>(f: F, args: Vec<Expr>) -> Expr {
    AggregateUDF::new_from_impl(f).call(args)
}

/// The engine type a value aggregate returns for an input type.
fn value_type(t: &DataType) -> DataType {
    match common_type([t]) {
        DataType::Null => DataType::Utf8,
        other => other,
    }
}

/// Converts a value to a scalar of the engine type `t`.
fn to_scalar(v: &Val<'_>, t: &DataType) -> ScalarValue {
    match t {
        DataType::Float64 => ScalarValue::Float64(v.as_num()),
        DataType::Boolean => ScalarValue::Boolean((!v.is_null()).then(|| v.truthy())),
        DataType::LargeUtf8 => ScalarValue::LargeUtf8(v.to_json_text()),
        DataType::Timestamp(_, _) => ScalarValue::TimestampMillisecond(v.as_ts_ms(), None),
        _ => ScalarValue::Utf8(v.render().map(|c| c.into_owned())),
    }
}

// ---------------------------------------------------------------- min / max

#[derive(Debug, PartialEq, Eq, Hash)]
struct NaturalExtreme {
    name: String,
    last: bool,
    signature: Signature,
}

impl NaturalExtreme {
    fn new(name: &str, last: bool) -> NaturalExtreme {
        NaturalExtreme {
            name: name.to_owned(),
            last,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for NaturalExtreme {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(value_type(arg_types.first().unwrap_or(&DataType::Utf8)))
    }
    fn accumulator(&self, acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(ExtremeAcc {
            last: self.last,
            best: Val::Null,
            out_type: acc_args.return_type().clone(),
        }))
    }
}

#[derive(Debug)]
struct ExtremeAcc {
    last: bool,
    best: Val<'static>,
    out_type: DataType,
}

impl ExtremeAcc {
    fn offer(&mut self, v: Val<'_>) {
        if v.is_null() {
            return;
        }
        let better = match natural_cmp(&v, &self.best) {
            _ if self.best.is_null() => true,
            Ordering::Less => !self.last,
            Ordering::Greater => self.last,
            Ordering::Equal => false,
        };
        if better {
            self.best = v.into_owned();
        }
    }
}

impl Accumulator for ExtremeAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = values.first() else {
            return Ok(());
        };
        let col = Col::new(a, false)?;
        for i in 0..a.len() {
            self.offer(col.get(i));
        }
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(to_scalar(&self.best, &self.out_type))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.best.render().map_or(0, |s| s.len())
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        self.update_batch(states)
    }
}

// ---------------------------------------------------------------- pct

// Equal parameters (compared as f64 bits) and the same fixed signature: the same function.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Percentile {
    p_bits: u64,
    signature: Signature,
}

/// Partial state of the aggregates that keep every numeric value (`pct`, `histogram`):
/// one `List<Float64>` field named `values`.
fn values_state(args: &StateFieldsArgs) -> Vec<FieldRef> {
    vec![Arc::new(Field::new_list(
        format_state_name(args.name, "values"),
        Field::new_list_field(DataType::Float64, true),
        true,
    ))]
}

impl Percentile {
    fn new(p: f64) -> Percentile {
        Percentile {
            p_bits: p.to_bits(),
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Percentile {
    fn name(&self) -> &str {
        "pct"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(values_state(&args))
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(PctAcc {
            p: f64::from_bits(self.p_bits),
            values: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct PctAcc {
    p: f64,
    values: Vec<f64>,
}

/// Nearest-rank percentile of `values` (any order); `None` when empty.
pub(crate) fn nearest_rank(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(values[rank.clamp(1, n) - 1])
}

impl Accumulator for PctAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = values.first() else {
            return Ok(());
        };
        let col = Col::new(a, false)?;
        self.values
            .extend((0..a.len()).filter_map(|i| col.get(i).as_num()));
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Float64(nearest_rank(&mut self.values, self.p)))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.values.capacity() * 8
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let vals: Vec<ScalarValue> = self
            .values
            .iter()
            .map(|v| ScalarValue::Float64(Some(*v)))
            .collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(
            &vals,
            &DataType::Float64,
        ))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = states.first() else {
            return Ok(());
        };
        let lists = a.as_list_opt::<i32>().ok_or_else(|| {
            DataFusionError::Internal(format!("pct state is {}, expected a list", a.data_type()))
        })?;
        for i in 0..lists.len() {
            if lists.is_null(i) {
                continue;
            }
            let inner = lists.value(i);
            let f: &Float64Array = inner.as_primitive::<Float64Type>();
            self.values.extend(f.iter().flatten());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- rate

/// `interval / window` for `rate(x[, interval])` (module docs: \[I\] semantics).
fn rate_factor(args: &[Expr], ctx: &QueryContext) -> Result<f64, FunctionError> {
    let interval_ms = match args.get(1) {
        None => 1_000,
        Some(e) => {
            let text = crate::lit_str(e).ok_or_else(|| FunctionError::NotLiteral {
                name: "rate".into(),
                index: 2,
                what: "time period such as 1s".into(),
            })?;
            Period::parse(text)?
                .fixed_ms()
                .ok_or_else(|| FunctionError::InvalidArgument {
                    name: "rate".into(),
                    index: 2,
                    message: format!(
                        "the interval must have a fixed length (ms, s, m, h, d or w), got {text}"
                    ),
                })?
        }
    };
    let window_ms = match ctx.bin {
        Some(bin) => bin
            .fixed_ms()
            .ok_or_else(|| FunctionError::InvalidArgument {
                name: "rate".into(),
                index: 1,
                message: "rate() needs a bin() period of fixed length (ms, s, m, h, d or w); \
                      months, quarters and years differ in length"
                    .into(),
            })?,
        None => ctx.end_ms.saturating_sub(ctx.start_ms),
    };
    if window_ms <= 0 {
        return Err(FunctionError::InvalidArgument {
            name: "rate".into(),
            index: 1,
            message: "rate() without bin() divides by the query's time range, which is empty"
                .into(),
        });
    }
    Ok(interval_ms as f64 / window_ms as f64)
}

// Equal parameters (compared as f64 bits) and the same fixed signature: the same function.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Rate {
    factor_bits: u64,
    signature: Signature,
}

impl Rate {
    fn new(factor: f64) -> Rate {
        Rate {
            factor_bits: factor.to_bits(),
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Rate {
    fn name(&self) -> &str {
        "rate"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "sum"),
            DataType::Float64,
            true,
        ))])
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(RateAcc {
            factor: f64::from_bits(self.factor_bits),
            sum: None,
        }))
    }
}

#[derive(Debug)]
struct RateAcc {
    factor: f64,
    /// Sum of the numeric values so far; `None` until one is seen.
    sum: Option<f64>,
}

impl RateAcc {
    fn add(&mut self, v: f64) {
        self.sum = Some(self.sum.unwrap_or(0.0) + v);
    }
}

impl Accumulator for RateAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = values.first() else {
            return Ok(());
        };
        let col = Col::new(a, false)?;
        for i in 0..a.len() {
            if let Some(v) = col.get(i).as_num() {
                self.add(v);
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Float64(self.sum.map(|s| s * self.factor)))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(self.sum)])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = states.first() else {
            return Ok(());
        };
        let f = a.as_primitive_opt::<Float64Type>().ok_or_else(|| {
            DataFusionError::Internal(format!("rate state is {}, expected Float64", a.data_type()))
        })?;
        for v in f.iter().flatten() {
            self.add(v);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- histogram

#[derive(Debug, PartialEq, Eq, Hash)]
struct Histogram {
    buckets: usize,
    signature: Signature,
}

impl Histogram {
    fn new(buckets: usize) -> Histogram {
        Histogram {
            buckets,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Histogram {
    fn name(&self) -> &str {
        "histogram"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(values_state(&args))
    }
    fn accumulator(&self, _acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(HistAcc {
            buckets: self.buckets,
            values: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct HistAcc {
    buckets: usize,
    values: Vec<f64>,
}

/// The `histogram(x, n)` map (module docs) of `values` as JSON text; `None` when there
/// is no finite value.
pub(crate) fn histogram_json(values: &[f64], buckets: usize) -> Option<String> {
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let min = finite().min_by(f64::total_cmp)?;
    let max = finite().max_by(f64::total_cmp)?;
    let mut map = serde_json::Map::new();
    if min == max || buckets <= 1 {
        let key = format!("[{},{}]", format_number(min), format_number(max));
        map.insert(key, finite().count().into());
        return Some(serde_json::Value::Object(map).to_string());
    }
    let width = (max - min) / buckets as f64;
    let mut counts = vec![0u64; buckets];
    for v in finite() {
        // floor((v - min) / width), the maximum (and rounding overshoot) in the last
        let i = (((v - min) / width).floor() as usize).min(buckets - 1);
        counts[i] += 1;
    }
    for (i, c) in counts.into_iter().enumerate() {
        let lo = min + width * i as f64;
        let last = i + 1 == buckets;
        let hi = if last {
            max
        } else {
            min + width * (i + 1) as f64
        };
        let close = if last { ']' } else { ')' };
        map.insert(
            format!("[{},{}{close}", format_number(lo), format_number(hi)),
            c.into(),
        );
    }
    Some(serde_json::Value::Object(map).to_string())
}

impl Accumulator for HistAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = values.first() else {
            return Ok(());
        };
        let col = Col::new(a, false)?;
        self.values.extend(
            (0..a.len())
                .filter_map(|i| col.get(i).as_num())
                .filter(|v| v.is_finite()),
        );
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::LargeUtf8(histogram_json(
            &self.values,
            self.buckets,
        )))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.values.capacity() * 8
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let vals: Vec<ScalarValue> = self
            .values
            .iter()
            .map(|v| ScalarValue::Float64(Some(*v)))
            .collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(
            &vals,
            &DataType::Float64,
        ))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = states.first() else {
            return Ok(());
        };
        let lists = a.as_list_opt::<i32>().ok_or_else(|| {
            DataFusionError::Internal(format!(
                "histogram state is {}, expected a list",
                a.data_type()
            ))
        })?;
        for i in 0..lists.len() {
            if lists.is_null(i) {
                continue;
            }
            let inner = lists.value(i);
            let f: &Float64Array = inner.as_primitive::<Float64Type>();
            self.values.extend(f.iter().flatten());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- earliest / latest

#[derive(Debug, PartialEq, Eq, Hash)]
struct TimeExtreme {
    name: String,
    latest: bool,
    signature: Signature,
}

impl TimeExtreme {
    fn new(name: &str, latest: bool) -> TimeExtreme {
        TimeExtreme {
            name: name.to_owned(),
            latest,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for TimeExtreme {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(value_type(arg_types.first().unwrap_or(&DataType::Utf8)))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "value"),
                args.return_type().clone(),
                true,
            )),
            Arc::new(Field::new(format_state_name(args.name, "ts"), TS, true)),
        ])
    }
    fn accumulator(&self, acc_args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(TimeAcc {
            latest: self.latest,
            best: None,
            out_type: acc_args.return_type().clone(),
        }))
    }
}

#[derive(Debug)]
struct TimeAcc {
    latest: bool,
    best: Option<(i64, Val<'static>)>,
    out_type: DataType,
}

impl Accumulator for TimeAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let (Some(v), Some(t)) = (values.first(), values.get(1)) else {
            return Err(DataFusionError::Internal(
                "earliest/latest need (value, timestamp)".into(),
            ));
        };
        let vc = Col::new(v, false)?;
        let tc = Col::new(t, false)?;
        for i in 0..v.len() {
            let val = vc.get(i);
            let Some(ts) = tc.get(i).as_ts_ms() else {
                continue;
            };
            if val.is_null() {
                continue;
            }
            let better = match &self.best {
                None => true,
                Some((bt, bv)) => match ts.cmp(bt) {
                    Ordering::Less => !self.latest,
                    Ordering::Greater => self.latest,
                    Ordering::Equal => {
                        let o = natural_cmp(&val, bv);
                        if self.latest {
                            o == Ordering::Greater
                        } else {
                            o == Ordering::Less
                        }
                    }
                },
            };
            if better {
                self.best = Some((ts, val.into_owned()));
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(match &self.best {
            Some((_, v)) => to_scalar(v, &self.out_type),
            None => to_scalar(&Val::Null, &self.out_type),
        })
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .best
                .as_ref()
                .and_then(|(_, v)| v.render().map(|s| s.len()))
                .unwrap_or(0)
    }
    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let ts = ScalarValue::TimestampMillisecond(self.best.as_ref().map(|(t, _)| *t), None);
        Ok(vec![self.evaluate()?, ts])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        self.update_batch(states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&mut v, 50.0), Some(5.0));
        assert_eq!(nearest_rank(&mut v, 90.0), Some(9.0));
        assert_eq!(nearest_rank(&mut v, 99.0), Some(10.0));
        assert_eq!(nearest_rank(&mut v, 0.0), Some(1.0));
        assert_eq!(nearest_rank(&mut v, 100.0), Some(10.0));
        assert_eq!(nearest_rank(&mut [], 50.0), None);
        let mut w = vec![15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(nearest_rank(&mut w, 30.0), Some(20.0));
        assert_eq!(nearest_rank(&mut w, 40.0), Some(20.0));
        assert_eq!(nearest_rank(&mut w, 50.0), Some(35.0));
    }

    #[test]
    fn histogram_buckets() {
        // min 0, max 10, 4 buckets of width 2.5: 0,1,2 | 3 | 5,6 | 10 (max, closed)
        let v = [0.0, 1.0, 2.0, 3.0, 5.0, 6.0, 10.0];
        assert_eq!(
            histogram_json(&v, 4).as_deref(),
            Some(r#"{"[0,2.5)":3,"[2.5,5)":1,"[5,7.5)":2,"[7.5,10]":1}"#)
        );
        // an empty middle bucket is kept with 0; negatives stay readable
        assert_eq!(
            histogram_json(&[-4.0, -3.0, 4.0], 2).as_deref(),
            Some(r#"{"[-4,0)":2,"[0,4]":1}"#)
        );
        assert_eq!(
            histogram_json(&[1.0, 9.0], 3).as_deref(),
            Some(
                r#"{"[1,3.6666666666666665)":1,"[3.6666666666666665,6.333333333333333)":0,"[6.333333333333333,9]":1}"#
            )
        );
        // all equal: one bucket; nothing finite: missing
        assert_eq!(
            histogram_json(&[7.0, 7.0], 5).as_deref(),
            Some(r#"{"[7,7]":2}"#)
        );
        assert_eq!(histogram_json(&[], 3), None);
        assert_eq!(histogram_json(&[f64::INFINITY], 3), None);
    }

    #[test]
    fn argument_errors() {
        let ctx = QueryContext {
            start_ms: 0,
            end_ms: 1,
            now_ms: 1,
            bin: None,
        };
        let x = || Expr::Literal(ScalarValue::Utf8(Some("1".into())), None);
        let s = |t: &str| Expr::Literal(ScalarValue::Utf8(Some(t.into())), None);
        let n = |v: f64| Expr::Literal(ScalarValue::Float64(Some(v)), None);
        assert!(aggregate("rate", vec![x()], &ctx).is_ok());
        assert!(aggregate("rate", vec![x(), s("1s")], &ctx).is_ok());
        // a calendar interval, a malformed one, a calendar bin, an empty range
        assert!(matches!(
            aggregate("rate", vec![x(), s("1mo")], &ctx),
            Err(FunctionError::InvalidArgument { index: 2, .. })
        ));
        assert!(matches!(
            aggregate("rate", vec![x(), s("soon")], &ctx),
            Err(FunctionError::InvalidPeriod { .. })
        ));
        let monthly = QueryContext {
            bin: Some(Period::parse("1mo").expect("period")),
            ..ctx
        };
        assert!(matches!(
            aggregate("rate", vec![x(), s("1s")], &monthly),
            Err(FunctionError::InvalidArgument { index: 1, .. })
        ));
        let empty = QueryContext { end_ms: 0, ..ctx };
        assert!(matches!(
            aggregate("rate", vec![x()], &empty),
            Err(FunctionError::InvalidArgument { index: 1, .. })
        ));
        assert!(aggregate("histogram", vec![x(), n(4.0)], &ctx).is_ok());
        assert!(matches!(
            aggregate("histogram", vec![x()], &ctx),
            Err(FunctionError::Arity { .. })
        ));
        for bad in [0.0, 2.5, -1.0, 1001.0] {
            assert!(matches!(
                aggregate("histogram", vec![x(), n(bad)], &ctx),
                Err(FunctionError::InvalidArgument { index: 2, .. })
            ));
        }
        assert!(matches!(
            aggregate("histogram", vec![x(), s("many")], &ctx),
            Err(FunctionError::NotLiteral { index: 2, .. })
        ));
        assert!(aggregate("pct", vec![x(), x()], &ctx).is_ok());
        let p150 = Expr::Literal(ScalarValue::Float64(Some(150.0)), None);
        assert!(matches!(
            aggregate("pct", vec![x(), p150], &ctx),
            Err(FunctionError::InvalidArgument { .. })
        ));
        assert!(matches!(
            aggregate("strlen", vec![x()], &ctx),
            Err(FunctionError::UnknownFunction { .. })
        ));
        assert!(is_aggregate("COUNT_DISTINCT"));
        assert!(!is_aggregate("strlen"));
    }
}
