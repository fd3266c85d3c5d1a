//! The one generic DataFusion scalar UDF behind every Logs Insights scalar function
//! and operator: [`OwUdf`] pairs a name with an [`Op`] (which carries any state
//! compiled at plan time: regexes, periods, formats) and evaluates it row by row over
//! [`Val`]s.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Float64Builder, LargeStringBuilder,
    StringBuilder, StringViewArray, TimestampMillisecondBuilder, UInt32Array,
};
use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::value::{Col, Val};
use crate::{datetime, general, ip, json, natural, numeric, ops, strings};

/// `Timestamp(Millisecond, None)`, the engine's timestamp type.
pub(crate) const TS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

/// Longest schema name (bytes) an [`OwUdf`] call spells out in full; longer ones are
/// abbreviated to a hash (see `OwUdf::schema_name`).
pub(crate) const MAX_SCHEMA_NAME_LEN: usize = 200;

/// What a UDF computes. Each family module owns its enum.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Ops(ops::OpFn),
    Numeric(numeric::NumFn),
    Strings(strings::StrFn),
    Time(datetime::TimeFn),
    General(general::GenFn),
    Json(json::JsonFn),
    Ip(ip::IpFn),
    NaturalKey,
}

impl Op {
    fn return_type(&self, args: &[DataType]) -> DataType {
        match self {
            Op::Ops(f) => f.return_type(args),
            Op::Numeric(_) => DataType::Float64,
            Op::Strings(f) => f.return_type(),
            Op::Time(f) => f.return_type(),
            Op::General(f) => f.return_type(args),
            Op::Json(f) => f.return_type(),
            Op::Ip(f) => f.return_type(),
            Op::NaturalKey => DataType::Binary,
        }
    }

    /// The plan-time state that is not among the call's arguments, shown in the
    /// expression's name so that e.g. `datefloor(t, 1h)` and `datefloor(t, 1d)` get
    /// distinct column names.
    fn label(&self) -> Option<String> {
        use datetime::TimeFn;
        match self {
            Op::Ops(ops::OpFn::Like { needle, .. }) => Some(format!("{:?}", needle.text)),
            Op::Ops(ops::OpFn::ArithChain(chain)) => {
                Some(chain.iter().map(|op| crate::arith_symbol(*op)).collect())
            }
            Op::Ops(ops::OpFn::Regex { re, .. }) => Some(format!("/{}/", re.src)),
            Op::Time(TimeFn::DateFloor {
                period,
                offset_ms: 0,
            }) => Some(period.to_string()),
            Op::Time(TimeFn::DateFloor { period, offset_ms }) => {
                Some(format!("{period} offset {offset_ms}ms"))
            }
            Op::Time(TimeFn::DateCeil(period)) => Some(period.to_string()),
            Op::Time(TimeFn::ParseDate {
                pattern,
                tz_offset_s,
            }) => Some(format!("{:?},{tz_offset_s}s", pattern.source())),
            Op::Time(TimeFn::FormatDate {
                format,
                tz_offset_s,
            }) => Some(format!("{:?},{tz_offset_s}s", format.source())),
            _ => None,
        }
    }

    fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        match self {
            Op::Ops(f) => f.eval(args),
            Op::Numeric(f) => f.eval(args),
            Op::Strings(f) => f.eval(args),
            Op::Time(f) => f.eval(args),
            Op::General(f) => f.eval(args),
            Op::Json(f) => f.eval(args),
            Op::Ip(f) => f.eval(args),
            Op::NaturalKey => Val::Null, // handled in evaluate()
        }
    }
}

/// A Logs Insights function as a DataFusion scalar UDF. Accepts any argument types
/// (coercion happens per value, §3.3) and never fails on a value: bad values yield null.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct OwUdf {
    name: String,
    op: Op,
    signature: Signature,
}

impl OwUdf {
    pub(crate) fn new(name: impl Into<String>, op: Op, arity: usize) -> OwUdf {
        let signature = if arity == 0 {
            Signature::nullary(Volatility::Immutable)
        } else {
            Signature::variadic_any(Volatility::Immutable)
        };
        OwUdf {
            name: name.into(),
            op,
            signature,
        }
    }

    /// Evaluates over arrays of equal length (`len`), or length-1 arrays marked
    /// `broadcast`. Used by `invoke_with_args` and by unit tests.
    pub(crate) fn evaluate(
        &self,
        inputs: &[(ArrayRef, bool)],
        len: usize,
        return_type: &DataType,
    ) -> DfResult<ArrayRef> {
        let cols = inputs
            .iter()
            .map(|(a, b)| Col::new(a, *b))
            .collect::<Result<Vec<_>, _>>()?;
        if self.op == Op::NaturalKey {
            let col = cols
                .first()
                .ok_or_else(|| DataFusionError::Internal("natural_sort_key needs 1 arg".into()))?;
            let mut b = BinaryBuilder::with_capacity(len, len * 16);
            let mut buf = Vec::new();
            for i in 0..len {
                buf.clear();
                if natural::natural_key_into(&col.get(i), &mut buf) {
                    b.append_value(&buf);
                } else {
                    b.append_null();
                }
            }
            return Ok(Arc::new(b.finish()));
        }
        if let Some(out) = self.eval_distinct_views(&cols, inputs, len, return_type)? {
            return Ok(out);
        }
        if let Some(fast) = crate::fast::try_eval(&self.op, inputs, len)? {
            return Ok(fast);
        }
        let mut out = Out::new(return_type, len)?;
        let mut row: Vec<Val<'_>> = Vec::with_capacity(cols.len());
        for i in 0..len {
            row.clear();
            row.extend(cols.iter().map(|c| c.get(i)));
            out.push(self.op.eval(&row));
        }
        Ok(out.finish())
    }
}

impl OwUdf {
    /// One evaluation per distinct value when the only varying argument is a string view
    /// column whose values repeat (a field path of low cardinality: account ids, regions,
    /// event names), the other arguments being constants: `recipientAccountId =
    /// '012345678987'` then coerces and compares a few distinct values per batch instead of
    /// every row. Equal view bits mean equal strings (a short string is inline in its view,
    /// a long one names its buffer and offset), so keying on them is exact; unequal bits
    /// may still be equal strings, which only costs a repeated evaluation. Returns `None`
    /// (the caller evaluates row by row) when the shape does not fit or values hardly
    /// repeat (more than a quarter of the rows distinct). Every op is deterministic.
    fn eval_distinct_views(
        &self,
        cols: &[Col],
        inputs: &[(ArrayRef, bool)],
        len: usize,
        return_type: &DataType,
    ) -> DfResult<Option<ArrayRef>> {
        const MIN_ROWS: usize = 64;
        if len < MIN_ROWS {
            return Ok(None);
        }
        let mut varying = None;
        for (k, (_, broadcast)) in inputs.iter().enumerate() {
            if *broadcast {
                continue;
            }
            if varying.is_some() {
                return Ok(None);
            }
            varying = Some(k);
        }
        let Some(view) =
            varying.and_then(|k| inputs[k].0.as_any().downcast_ref::<StringViewArray>())
        else {
            return Ok(None);
        };
        let Some(DistinctViews { firsts, indices }) = distinct_views(view, len, len / 4) else {
            return Ok(None);
        };
        let mut out = Out::new(return_type, firsts.len())?;
        let mut row: Vec<Val<'_>> = Vec::with_capacity(cols.len());
        for &i in &firsts {
            row.clear();
            row.extend(cols.iter().map(|c| c.get(i)));
            out.push(self.op.eval(&row));
        }
        let distinct = out.finish();
        let indices = UInt32Array::from(indices);
        Ok(Some(arrow::compute::take(&distinct, &indices, None)?))
    }
}

/// The distinct values of the first `len` rows of a string view column, by view bits:
/// equal bits mean equal strings (a short string is inline in its view, a long one names
/// its buffer and offset), so keying on them is exact; unequal bits may still be equal
/// strings, which only costs a repeated evaluation by the caller. See [`distinct_views`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinctViews {
    /// The first row of each distinct value (nulls count as one value), in order.
    pub firsts: Vec<usize>,
    /// For each row, its value's position in `firsts`.
    pub indices: Vec<u32>,
}

/// Groups the first `len` rows of `view` by view bits (see [`DistinctViews`]), or `None`
/// when more than `limit` distinct values turn up (values hardly repeat: evaluating row by
/// row is cheaper). Used to evaluate a function of one low-cardinality column (regions,
/// event names, user agents) once per distinct value of a batch.
pub fn distinct_views(view: &StringViewArray, len: usize, limit: usize) -> Option<DistinctViews> {
    let views = view.views();
    let nulls = view.nulls();
    let mut slot_of: datafusion::common::HashMap<u128, u32> =
        datafusion::common::HashMap::with_capacity(64);
    let mut null_slot: Option<u32> = None;
    let mut firsts: Vec<usize> = Vec::new();
    let mut indices: Vec<u32> = Vec::with_capacity(len);
    // A direct-mapped cache of recent views in front of the hash table: a column read from
    // a dictionary page repeats a few views, and most rows then cost a multiply and one
    // compare instead of a hash table probe (the probe was a fifth of a selective query's
    // instructions, callgrind on the 1 GB benchmark's q2). `u32::MAX` marks an empty entry.
    let mut cache = [(0u128, u32::MAX); DISTINCT_CACHE];
    for (i, v) in views.iter().enumerate().take(len) {
        let slot = if nulls.is_some_and(|n| n.is_null(i)) {
            match null_slot {
                Some(s) => s,
                None => {
                    firsts.push(i);
                    let s = (firsts.len() - 1) as u32;
                    null_slot = Some(s);
                    s
                }
            }
        } else {
            let entry = &mut cache[cache_index(*v)];
            if entry.1 != u32::MAX && entry.0 == *v {
                entry.1
            } else {
                let s = match slot_of.get(v) {
                    Some(&s) => s,
                    None => {
                        firsts.push(i);
                        let s = (firsts.len() - 1) as u32;
                        slot_of.insert(*v, s);
                        s
                    }
                };
                *entry = (*v, s);
                s
            }
        };
        if firsts.len() > limit {
            return None;
        }
        indices.push(slot);
    }
    Some(DistinctViews { firsts, indices })
}

/// Entries of [`distinct_views`]' cache (a power of two).
const DISTINCT_CACHE: usize = 256;

/// The cache entry of a view: its two halves folded and multiplied by a 64-bit odd
/// constant (Fibonacci hashing), top bits.
fn cache_index(view: u128) -> usize {
    let folded = (view as u64) ^ ((view >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - DISTINCT_CACHE.trailing_zeros())) as usize
}

impl ScalarUDFImpl for OwUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.op.return_type(arg_types))
    }

    /// `name(arg1,arg2,…[,label])`, or — when that would be longer than
    /// [`MAX_SCHEMA_NAME_LEN`] bytes — `name(…#<16 hex digits>)`, a hash of the full
    /// argument names. DataFusion derives a node's field name at every node of an
    /// expression (`ExprSchemable::to_field`), so unbounded names made a left-deep
    /// chain such as `1+1+…+1` cubic in its length (QA: 400 terms took 23 s); bounded
    /// names keep that linear. The hash is of the children's (already bounded) names,
    /// so equal expressions still get equal names and different ones differ (up to a
    /// 64-bit hash collision).
    fn schema_name(&self, args: &[Expr]) -> DfResult<String> {
        let mut parts: Vec<String> = args.iter().map(|a| a.schema_name().to_string()).collect();
        parts.extend(self.op.label());
        let joined = parts.join(",");
        if joined.len() + self.name.len() + 2 <= MAX_SCHEMA_NAME_LEN {
            return Ok(format!("{}({})", self.name, joined));
        }
        // FNV-1a, 64-bit: fixed, so names are stable across runs and processes.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in joined.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(format!("{}(…#{h:016x})", self.name))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let len = if all_scalar { 1 } else { args.number_rows };
        let inputs = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Array(arr) => Ok((Arc::clone(arr), false)),
                ColumnarValue::Scalar(s) => Ok((s.to_array()?, true)),
            })
            .collect::<DfResult<Vec<_>>>()?;
        let out = self.evaluate(&inputs, len, args.return_field.data_type())?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Builds a call expression for `op` named `name` over `args`.
pub(crate) fn call(name: &str, op: Op, args: Vec<Expr>) -> Expr {
    let udf = OwUdf::new(name, op, args.len());
    ScalarUDF::new_from_impl(udf).call(args)
}

/// The common type of dynamically typed inputs (for `coalesce`, `if`, `case`…):
/// ignoring `Null`, one shared type stays; all numeric -> `Float64`; any `LargeUtf8`
/// -> `LargeUtf8` (JSON can carry every value); otherwise `Utf8`.
pub(crate) fn common_type<'a>(types: impl IntoIterator<Item = &'a DataType>) -> DataType {
    let mut result: Option<DataType> = None;
    let mut any_json = false;
    let mut all_numeric = true;
    let mut all_same = true;
    for t in types {
        let t = normalise(t);
        if t == DataType::Null {
            continue;
        }
        any_json |= t == DataType::LargeUtf8;
        all_numeric &= t == DataType::Float64;
        match &result {
            None => result = Some(t),
            Some(r) if *r != t => all_same = false,
            Some(_) => {}
        }
    }
    match result {
        None => DataType::Utf8,
        Some(_) if any_json => DataType::LargeUtf8,
        Some(t) if all_same => t,
        Some(_) if all_numeric => DataType::Float64,
        Some(_) => DataType::Utf8,
    }
}

/// Maps an input type to the engine type it is read as.
fn normalise(t: &DataType) -> DataType {
    match t {
        DataType::Null => DataType::Null,
        DataType::LargeUtf8 => DataType::LargeUtf8,
        DataType::Boolean => DataType::Boolean,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => TS,
        t if t.is_numeric() => DataType::Float64,
        _ => DataType::Utf8,
    }
}

/// An output column being built; [`Out::push`] converts each value to the column type.
enum Out {
    Utf8(StringBuilder),
    Json(LargeStringBuilder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMillisecondBuilder),
}

impl Out {
    fn new(t: &DataType, len: usize) -> DfResult<Out> {
        Ok(match t {
            DataType::Utf8 => Out::Utf8(StringBuilder::with_capacity(len, len * 8)),
            DataType::LargeUtf8 => Out::Json(LargeStringBuilder::with_capacity(len, len * 8)),
            DataType::Float64 => Out::F64(Float64Builder::with_capacity(len)),
            DataType::Boolean => Out::Bool(BooleanBuilder::with_capacity(len)),
            DataType::Timestamp(TimeUnit::Millisecond, None) => {
                Out::Ts(TimestampMillisecondBuilder::with_capacity(len))
            }
            other => {
                return Err(DataFusionError::Internal(format!(
                    "ow-functions cannot produce {other}"
                )))
            }
        })
    }

    fn push(&mut self, v: Val<'_>) {
        match self {
            Out::Utf8(b) => b.append_option(v.render()),
            Out::Json(b) => b.append_option(v.to_json_text()),
            Out::F64(b) => b.append_option(v.as_num()),
            Out::Bool(b) => {
                if v.is_null() {
                    b.append_null()
                } else {
                    b.append_value(v.truthy())
                }
            }
            Out::Ts(b) => b.append_option(v.as_ts_ms()),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Out::Utf8(mut b) => Arc::new(b.finish()),
            Out::Json(mut b) => Arc::new(b.finish()),
            Out::F64(mut b) => Arc::new(b.finish()),
            Out::Bool(mut b) => Arc::new(b.finish()),
            Out::Ts(mut b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Evaluates an `Expr` built by this crate on literal arguments, without a
    //! session: enough to unit-test every function with real values.
    use super::*;
    use datafusion::logical_expr::expr::ScalarFunction;
    use std::any::Any;

    /// Evaluates a call built by the crate, whose arguments are all literals, and
    /// returns the single result value (owned).
    pub(crate) fn eval_lit(e: &Expr) -> Val<'static> {
        let Expr::ScalarFunction(ScalarFunction { func, args }) = e else {
            // constant results (now(), queryStartTime()…) are plain literals
            if let Expr::Literal(v, _) = e {
                let arr = v.to_array().unwrap();
                return crate::value::value_at(&arr, 0).unwrap();
            }
            panic!("not a function call: {e}");
        };
        let inputs: Vec<(ArrayRef, bool)> = args
            .iter()
            .map(|a| match a {
                Expr::Literal(v, _) => (v.to_array().unwrap(), true),
                nested @ Expr::ScalarFunction(_) => {
                    let v = eval_lit(nested);
                    (val_to_array(&v), true)
                }
                // a column reference (bin's implicit @timestamp) reads as missing here
                Expr::Column(_) => (Arc::new(arrow::array::NullArray::new(1)) as ArrayRef, true),
                other => panic!("non-literal argument {other}"),
            })
            .collect();
        let out = evaluate_udf(func, &inputs, 1);
        crate::value::value_at(&out, 0).unwrap()
    }

    /// Runs an [`OwUdf`] on `inputs` (arrays of `len` rows, or broadcast length-1 ones).
    pub(crate) fn evaluate_udf(
        func: &ScalarUDF,
        inputs: &[(ArrayRef, bool)],
        len: usize,
    ) -> ArrayRef {
        let types: Vec<DataType> = inputs.iter().map(|(a, _)| a.data_type().clone()).collect();
        let rt = func.return_type(&types).unwrap();
        let any: &dyn Any = func.inner().as_ref();
        let udf = any.downcast_ref::<OwUdf>().expect("an ow-functions udf");
        udf.evaluate(inputs, len, &rt).unwrap()
    }

    /// A length-1 array holding `v` with its natural engine type.
    pub(crate) fn val_to_array(v: &Val<'_>) -> ArrayRef {
        use arrow::array::*;
        match v {
            Val::Null => Arc::new(NullArray::new(1)),
            Val::Str(s) => Arc::new(StringArray::from(vec![s.as_ref()])),
            Val::Num(n) => Arc::new(Float64Array::from(vec![*n])),
            Val::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
            Val::Ts(t) => Arc::new(TimestampMillisecondArray::from(vec![*t])),
            Val::Json(j) => Arc::new(LargeStringArray::from(vec![j.as_ref()])),
        }
    }
}

#[cfg(test)]
mod distinct_view_tests {
    use super::*;
    use crate::{compare, like_substring, regex_match, scalar, CmpOp, QueryContext};
    use datafusion::logical_expr::expr::ScalarFunction;
    use datafusion::logical_expr::{col, lit};
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Evaluates `e` (a call on `col("x")` and literals) with `x` bound to `array`.
    fn eval_on(e: &Expr, array: ArrayRef) -> ArrayRef {
        let Expr::ScalarFunction(ScalarFunction { func, args }) = e else {
            panic!("not a function call: {e}");
        };
        let len = array.len();
        let inputs: Vec<(ArrayRef, bool)> = args
            .iter()
            .map(|a| match a {
                Expr::Column(_) => (array.clone(), false),
                Expr::Literal(v, _) => (v.to_array().unwrap(), true),
                other => panic!("unexpected argument {other}"),
            })
            .collect();
        crate::udf::testing::evaluate_udf(func, &inputs, len)
    }

    fn calls() -> Vec<Expr> {
        let ctx = QueryContext {
            start_ms: 0,
            end_ms: 3_600_000,
            now_ms: 3_600_000,
            bin: None,
        };
        vec![
            compare(CmpOp::Eq, col("x"), lit("012345678987")),
            compare(CmpOp::Lt, col("x"), lit(10.5)),
            compare(CmpOp::NotEq, col("x"), lit("us-east-1")),
            like_substring(col("x"), "east", true),
            regex_match(col("x"), "^[0-9]+$", false).unwrap(),
            scalar("toupper", vec![col("x")], &ctx).unwrap(),
            scalar("strlen", vec![col("x")], &ctx).unwrap(),
            scalar("concat", vec![col("x"), lit("-suffix")], &ctx).unwrap(),
            scalar("isempty", vec![col("x")], &ctx).unwrap(),
        ]
    }

    proptest! {
        /// With repeated values (so the distinct path runs) the result equals the row
        /// path's on the same values as `Utf8`: short (inline) and long strings, numbers
        /// as text, empty strings and nulls.
        #[test]
        fn distinct_views_equal_row_by_row(
            picks in proptest::collection::vec(0usize..8, 64..400),
        ) {
            let pool: [Option<&str>; 8] = [
                Some("012345678987"),
                Some("us-east-1"),
                Some("arn:aws:iam::123456789012:user/someone-with-a-long-name"),
                Some("7"),
                Some(""),
                None,
                Some("us-west-2"),
                Some("arn:aws:iam::123456789012:role/another-long-role-name"),
            ];
            let values: Vec<Option<&str>> = picks.iter().map(|&k| pool[k]).collect();
            let utf8: ArrayRef = Arc::new(arrow::array::StringArray::from(values.clone()));
            // as a Parquet dictionary decodes: equal strings share one view
            let mut b = arrow::array::StringViewBuilder::new().with_deduplicate_strings();
            values.iter().for_each(|v| b.append_option(*v));
            let view: ArrayRef = Arc::new(b.finish());
            for e in calls() {
                let a = eval_on(&e, utf8.clone());
                let b = eval_on(&e, view.clone());
                prop_assert_eq!(a.to_data(), b.to_data(), "{}", e);
            }
        }

        /// `distinct_views` against a plain grouping by view bits (its contract: equal
        /// bits are equal strings; the builder below shares one view per string where it
        /// can), with up to 3,000 distinct values, inline or long, so that the view cache's
        /// entries collide and are replaced: every row maps to a first row with its value,
        /// and the first rows are the first occurrences of each view, in order.
        #[test]
        fn distinct_views_groups_by_view(
            picks in proptest::collection::vec(0usize..3_000, 1..6_000),
            long in proptest::bool::ANY,
        ) {
            let values: Vec<Option<String>> = picks
                .iter()
                .map(|&k| match k {
                    0 => None,
                    k if long => Some(format!("arn:aws:iam::123456789012:role/r{k}")),
                    k => Some(format!("v{k}")),
                })
                .collect();
            let mut b = arrow::array::StringViewBuilder::new().with_deduplicate_strings();
            values.iter().for_each(|v| b.append_option(v.as_deref()));
            let view = b.finish();
            let d = distinct_views(&view, values.len(), usize::MAX).unwrap();
            let mut seen: HashMap<Option<u128>, usize> = HashMap::new();
            let mut firsts = Vec::new();
            for (i, v) in values.iter().enumerate() {
                let key = view.is_valid(i).then(|| view.views()[i]);
                if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(key) {
                    e.insert(i);
                    firsts.push(i);
                }
                prop_assert_eq!(&values[d.firsts[d.indices[i] as usize]], v);
            }
            prop_assert!(d.firsts == firsts, "first rows differ");
            // the limit: `None` once more values than that turn up
            let n = seen.len();
            prop_assert!(distinct_views(&view, values.len(), n).is_some());
            prop_assert_eq!(distinct_views(&view, values.len(), n - 1), None);
        }
    }
}
