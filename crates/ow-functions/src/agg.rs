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
//! Not implemented (a [`FunctionError::Unsupported`] names them): `rate(x, interval)`
//! and `histogram(x, buckets)`: AWS does not document how the rate is computed nor the
//! key format of the histogram map.

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
///
/// # Errors
/// [`FunctionError::UnknownFunction`] (including scalar names),
/// [`FunctionError::Unsupported`] for `rate` and `histogram`; [`FunctionError::Arity`]; [`FunctionError::NotLiteral`] /
/// [`FunctionError::InvalidArgument`] for `pct`'s percentile.
pub fn aggregate(name: &str, args: Vec<Expr>, _ctx: &QueryContext) -> Result<Expr, FunctionError> {
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
        "rate" | "histogram" => Err(FunctionError::Unsupported { name: lower }),
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

#[derive(Debug)]
struct Percentile {
    p_bits: u64,
    signature: Signature,
}

impl PartialEq for Percentile {
    fn eq(&self, other: &Self) -> bool {
        self.p_bits == other.p_bits
    }
}
impl Eq for Percentile {}
impl std::hash::Hash for Percentile {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.p_bits.hash(state)
    }
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
        Ok(vec![Arc::new(Field::new_list(
            format_state_name(args.name, "values"),
            Field::new_list_field(DataType::Float64, true),
            true,
        ))])
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
    fn unsupported_and_errors() {
        let ctx = QueryContext {
            start_ms: 0,
            end_ms: 1,
            now_ms: 1,
        };
        let x = || Expr::Literal(ScalarValue::Utf8(Some("1".into())), None);
        assert!(matches!(
            aggregate("rate", vec![x()], &ctx),
            Err(FunctionError::Unsupported { .. })
        ));
        assert!(matches!(
            aggregate("histogram", vec![x()], &ctx),
            Err(FunctionError::Unsupported { .. })
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
