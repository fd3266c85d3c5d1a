//! Vectorised fast paths for the hottest operators (filters over `@message` and
//! string fields). Each one computes exactly what the row-by-row path in `ops.rs`
//! computes — the unit tests below compare the two on the same arrays — and is only
//! taken for the input types it handles; everything else falls back to the row path.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, StringArray, StringViewArray, TimestampMillisecondArray,
};
use arrow::compute::{and, not, or, prep_null_mask_filter};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMillisecondType};
use arrow::error::ArrowError;

use crate::datetime::TimeFn;
use crate::general::GenFn;
use crate::ops::{CmpOp, OpFn};
use crate::udf::Op;
use crate::value::parse_number;

/// Applies `f` to each string of a `Utf8`/`Utf8View` array; a null row gives
/// `on_null`. `None` for other types.
fn map_strings(a: &ArrayRef, on_null: bool, f: impl Fn(&str) -> bool) -> Option<ArrayRef> {
    let out: BooleanArray = match a.data_type() {
        DataType::Utf8 => {
            let s: &StringArray = a.as_string::<i32>();
            s.iter().map(|v| Some(v.map_or(on_null, &f))).collect()
        }
        DataType::Utf8View => {
            let s: &StringViewArray = a.as_string_view();
            s.iter().map(|v| Some(v.map_or(on_null, &f))).collect()
        }
        _ => return None,
    };
    Some(Arc::new(out))
}

/// A boolean array with nulls turned into false (boolean context, §5.1 note).
fn defined(a: &ArrayRef) -> Option<BooleanArray> {
    let b = a.as_boolean_opt()?;
    Some(if b.null_count() > 0 {
        prep_null_mask_filter(b)
    } else {
        b.clone()
    })
}

/// `bin`/`datefloor` with a fixed-length period over a timestamp (or Int64 epoch ms)
/// column: `floor((t - offset) / step) * step + offset`; overflow -> null.
fn floor_fixed(a: &ArrayRef, step: i64, offset_ms: i64) -> Option<ArrayRef> {
    let (values, nulls) = match a.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            let p = a.as_primitive::<TimestampMillisecondType>();
            (p.values(), p.nulls())
        }
        DataType::Int64 => {
            let p = a.as_primitive::<Int64Type>();
            (p.values(), p.nulls())
        }
        _ => return None,
    };
    let f = |t: i64| -> Option<i64> {
        let s = t.checked_sub(offset_ms)?;
        s.div_euclid(step).checked_mul(step)?.checked_add(offset_ms)
    };
    if let Some(out) = floor_near(values, step, &f) {
        return Some(Arc::new(TimestampMillisecondArray::new(
            out.into(),
            nulls.cloned(),
        )));
    }
    // The bucket of the last row divided, [lo, hi): a batch's times lie in a few buckets
    // (a row group spans an hour or two), so most rows skip the 64-bit division, which was
    // most of `stats count(*) by bin(1h)`'s per-row cost. Null rows' values are computed too
    // (they are masked by `nulls`); a value whose bucket overflows is null.
    let (mut lo, mut hi) = (1i64, 0i64);
    let mut overflow: Vec<usize> = Vec::new();
    let out: Vec<i64> = values
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if lo <= t && t < hi {
                return lo;
            }
            match f(t) {
                Some(b) => {
                    // the bucket's end may overflow; then no row reuses it
                    (lo, hi) = (b, b.checked_add(step).unwrap_or(b));
                    b
                }
                None => {
                    overflow.push(i);
                    0
                }
            }
        })
        .collect();
    let nulls = if overflow.is_empty() {
        nulls.cloned()
    } else {
        let mut valid = arrow::array::BooleanBufferBuilder::new(out.len());
        valid.append_n(out.len(), true);
        overflow.iter().for_each(|&i| valid.set_bit(i, false));
        let extra = arrow::buffer::NullBuffer::new(valid.finish());
        arrow::buffer::NullBuffer::union(nulls, Some(&extra))
    };
    Some(Arc::new(TimestampMillisecondArray::new(out.into(), nulls)))
}

/// [`floor_fixed`] for a batch whose times lie within 2^52 ms of each other (every real
/// batch): each row's bucket counted from the bucket of the batch's smallest time by a
/// floating-point multiply, exact to within one bucket and corrected by one comparison each
/// way, instead of a 64-bit division. A batch's rows are ordered by message bytes inside a
/// row group, so their times jump between buckets and the last-bucket reuse below misses
/// (`bin(5m)` over a row group of an hour). `None` (the caller divides) where a bucket or its
/// end would overflow.
fn floor_near(values: &[i64], step: i64, f: &impl Fn(i64) -> Option<i64>) -> Option<Vec<i64>> {
    if values.is_empty() || step <= 0 {
        return None;
    }
    let (min, max) = values
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    let base = f(min)?;
    // every bucket lies in [base, f(max)] and f(max) <= max: max + step bounds them all
    f(max)?;
    max.checked_add(step)?;
    let span = max.checked_sub(base)?;
    if span >= 1 << 52 {
        return None;
    }
    // d < 2^52 is exact as f64, and d * (1/step) is within one of d / step: it can fall just
    // below an integer that d / step reaches (corrected upwards; tested), not above one (its
    // error is under d / step * 2^-52, less than the gap 1/step below the next integer, as
    // d < 2^52); the downward correction stays as a guard.
    let inv = 1.0 / step as f64;
    Some(
        values
            .iter()
            .map(|&t| {
                let d = t - base;
                let b = base + ((d as f64 * inv) as i64) * step;
                if b > t {
                    b - step
                } else if t - b >= step {
                    b + step
                } else {
                    b
                }
            })
            .collect(),
    )
}

/// Tries a fast path for `op` over `inputs` (array, broadcast) of `len` rows.
///
/// # Errors
/// Arrow kernel errors (length mismatches: a bug).
pub(crate) fn try_eval(
    op: &Op,
    inputs: &[(ArrayRef, bool)],
    len: usize,
) -> Result<Option<ArrayRef>, ArrowError> {
    let col = |i: usize| {
        inputs
            .get(i)
            .filter(|(a, b)| !*b && a.len() == len)
            .map(|(a, _)| a)
    };
    // `ispresent(s)` of a string column is its validity: such a column's value is missing
    // exactly where it is null (`Col::get`), unlike a JSON cell, which can hold `null`.
    if let Op::General(GenFn::IsPresent) = op {
        return Ok(
            match col(0).filter(|a| matches!(a.data_type(), DataType::Utf8 | DataType::Utf8View)) {
                Some(a) => Some(Arc::new(arrow::compute::is_not_null(a.as_ref())?)),
                None => None,
            },
        );
    }
    if let Op::Time(TimeFn::DateFloor { period, offset_ms }) = op {
        return Ok(match (col(0), period.fixed_ms()) {
            (Some(a), Some(step)) => floor_fixed(a, step, *offset_ms),
            _ => None,
        });
    }
    let Op::Ops(f) = op else { return Ok(None) };
    let lit = |i: usize| {
        inputs
            .get(i)
            .filter(|(a, b)| *b && a.len() == 1)
            .map(|(a, _)| a)
    };
    Ok(match f {
        OpFn::Like { needle, negated } => {
            col(0).and_then(|a| map_strings(a, *negated, |s| needle.is_in(s) != *negated))
        }
        OpFn::Regex { re, negated } => {
            col(0).and_then(|a| map_strings(a, *negated, |s| re.re.is_match(s) != *negated))
        }
        OpFn::Truthy => col(0).and_then(defined).map(|b| Arc::new(b) as ArrayRef),
        OpFn::Not => match col(0).and_then(defined) {
            Some(b) => Some(Arc::new(not(&b)?)),
            None => None,
        },
        OpFn::And | OpFn::Or if inputs.len() == 2 => {
            match (col(0).and_then(defined), col(1).and_then(defined)) {
                (Some(l), Some(r)) => Some(Arc::new(if *f == OpFn::And {
                    and(&l, &r)?
                } else {
                    or(&l, &r)?
                })),
                _ => None,
            }
        }
        // string column against a non-numeric string literal: always a string compare
        OpFn::Cmp(c) if inputs.len() == 2 => {
            let literal = lit(1).and_then(|l| match l.data_type() {
                DataType::Utf8 => {
                    let s = l.as_string::<i32>();
                    (!s.is_null(0)).then(|| s.value(0).to_owned())
                }
                DataType::Utf8View => {
                    let s = l.as_string_view();
                    (!s.is_null(0)).then(|| s.value(0).to_owned())
                }
                _ => None,
            });
            match (col(0), literal) {
                (Some(a), Some(y)) if parse_number(&y).is_none() => {
                    let y = y.as_bytes();
                    let on_null = *c == CmpOp::NotEq;
                    map_strings(a, on_null, |x| {
                        let o = x.as_bytes().cmp(y);
                        match c {
                            CmpOp::Eq => o.is_eq(),
                            CmpOp::NotEq => o.is_ne(),
                            CmpOp::Lt => o.is_lt(),
                            CmpOp::LtEq => o.is_le(),
                            CmpOp::Gt => o.is_gt(),
                            CmpOp::GtEq => o.is_ge(),
                        }
                    })
                }
                _ => None,
            }
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Needle, Re};
    use arrow::array::StringViewArray;

    fn strings() -> Vec<ArrayRef> {
        let v = vec![
            Some("Error 42"),
            None,
            Some("ok"),
            Some("300"),
            Some(""),
            Some("b"),
        ];
        vec![
            Arc::new(StringArray::from(v.clone())),
            Arc::new(StringViewArray::from(v)),
        ]
    }

    fn bools() -> Vec<ArrayRef> {
        vec![
            Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false),
                Some(true),
                None,
                Some(false),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(false),
                Some(true),
                None,
                Some(true),
                None,
                Some(false),
            ])),
        ]
    }

    /// The fast path (when taken) equals the row path on the same inputs.
    fn same(op: Op, inputs: Vec<(ArrayRef, bool)>) {
        let len = inputs
            .iter()
            .filter(|(_, b)| !b)
            .map(|(a, _)| a.len())
            .max()
            .unwrap_or(1);
        let fast = try_eval(&op, &inputs, len)
            .unwrap()
            .expect("fast path taken");
        let cols = inputs
            .iter()
            .map(|(a, b)| crate::value::Col::new(a, *b).unwrap())
            .collect::<Vec<_>>();
        let slow: BooleanArray = (0..len)
            .map(|i| {
                let row: Vec<_> = cols.iter().map(|c| c.get(i)).collect();
                match udf_eval(&op, &row) {
                    crate::value::Val::Bool(b) => Some(b),
                    _ => None,
                }
            })
            .collect();
        assert_eq!(fast.as_boolean(), &slow, "{op:?}");
    }

    fn udf_eval<'a>(op: &Op, row: &[crate::value::Val<'a>]) -> crate::value::Val<'a> {
        match op {
            Op::Ops(f) => f.eval(row),
            Op::General(g) => g.eval(row),
            _ => unreachable!(),
        }
    }

    fn scalar_str(s: &str) -> ArrayRef {
        Arc::new(StringArray::from(vec![s]))
    }

    #[test]
    fn fast_paths_agree_with_row_paths() {
        for a in strings() {
            same(Op::General(GenFn::IsPresent), vec![(a.clone(), false)]);
            for negated in [false, true] {
                let like = OpFn::Like {
                    needle: Box::new(Needle::new("rro")),
                    negated,
                };
                same(Op::Ops(like), vec![(a.clone(), false)]);
                let re = OpFn::Regex {
                    re: Re::new("^[0-9]+$").unwrap(),
                    negated,
                };
                same(Op::Ops(re), vec![(a.clone(), false)]);
            }
            for c in [
                CmpOp::Eq,
                CmpOp::NotEq,
                CmpOp::Lt,
                CmpOp::LtEq,
                CmpOp::Gt,
                CmpOp::GtEq,
            ] {
                same(
                    Op::Ops(OpFn::Cmp(c)),
                    vec![(a.clone(), false), (scalar_str("ok"), true)],
                );
                same(
                    Op::Ops(OpFn::Cmp(c)),
                    vec![(a.clone(), false), (scalar_str(""), true)],
                );
            }
        }
        let [l, r] = <[ArrayRef; 2]>::try_from(bools()).unwrap();
        same(
            Op::Ops(OpFn::And),
            vec![(l.clone(), false), (r.clone(), false)],
        );
        same(
            Op::Ops(OpFn::Or),
            vec![(l.clone(), false), (r.clone(), false)],
        );
        same(Op::Ops(OpFn::Not), vec![(l.clone(), false)]);
        same(Op::Ops(OpFn::Truthy), vec![(r, false)]);
    }

    #[test]
    fn fixed_bins_agree_with_the_row_path() {
        use crate::period::Period;
        let ts: Vec<Option<i64>> = vec![
            Some(1_714_566_896_789),
            None,
            Some(-1),
            Some(0),
            Some(i64::MIN + 5),
            Some(i64::MAX),
        ]
        .into_iter()
        // runs of nearby times, in and out of order, on and beside bucket boundaries: the
        // fast path reuses the last row's bucket
        .chain((0..60).map(|k| Some(1_714_566_000_000 + (k % 7) * 59_999 + k * 7_001)))
        .chain([
            Some(1_714_565_999_999),
            Some(1_714_566_000_000),
            None,
            Some(1_714_566_299_999),
        ])
        .chain([
            Some(1_714_566_300_000),
            Some(1_714_566_299_999),
            Some(-300_001),
            Some(-1),
        ])
        .collect();
        // Without the extreme times, a batch spans less than 2^52 ms: `floor_near` answers;
        // with them, the per-row division does.
        let near: Vec<Option<i64>> = ts.iter().map(|t| t.filter(|t| t.abs() < 1 << 50)).collect();
        // Int64 epoch ms are read as f64 by the row path: stay within 2^53 there
        let ms: Vec<Option<i64>> = ts
            .iter()
            .map(|t| t.map(|t| t.clamp(-(1 << 53), 1 << 53)))
            .collect();
        let inputs: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(ts)),
            Arc::new(TimestampMillisecondArray::from(near)),
            Arc::new(arrow::array::Int64Array::from(ms)),
        ];
        for a in inputs {
            let n = a.len();
            for (p, off) in [("5m", 0), ("300s", 0), ("1d", 3_600_000), ("1w", -5)] {
                let f = TimeFn::DateFloor {
                    period: Period::parse(p).unwrap(),
                    offset_ms: off,
                };
                let fast = try_eval(&Op::Time(f.clone()), &[(a.clone(), false)], n)
                    .unwrap()
                    .expect("fast path taken");
                let col = crate::value::Col::new(&a, false).unwrap();
                let slow: TimestampMillisecondArray = (0..n)
                    .map(|i| match f.eval(&[col.get(i)]) {
                        crate::value::Val::Ts(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                assert_eq!(
                    fast.as_primitive::<TimestampMillisecondType>(),
                    &slow,
                    "{p}"
                );
            }
        }
    }

    proptest::proptest! {
        /// `floor_near` equals `floor((t - offset) / step) * step + offset` row by row, or
        /// declines; it declines only where the batch spans 2^52 ms or more or a bucket
        /// overflows.
        #[test]
        fn floor_near_is_the_floored_division(
            base in -(1i64 << 55)..(1i64 << 55),
            deltas in proptest::collection::vec(-(1i64 << 40)..(1i64 << 40), 1..200),
            step in proptest::sample::select(vec![1i64, 7, 1_000, 60_000, 300_000, 3_600_000,
                86_400_000, 604_800_000, 999_999_937]),
            offset in -(1i64 << 40)..(1i64 << 40),
        ) {
            let values: Vec<i64> = deltas.iter().map(|d| base + d).collect();
            let f = |t: i64| -> Option<i64> {
                let s = t.checked_sub(offset)?;
                s.div_euclid(step).checked_mul(step)?.checked_add(offset)
            };
            let out = floor_near(&values, step, &f);
            proptest::prop_assert!(out.is_some());
            for (t, b) in values.iter().zip(out.unwrap()) {
                proptest::prop_assert_eq!(Some(b), f(*t), "t {} step {} offset {}", t, step, offset);
            }
        }
    }

    /// Times on and one before bucket boundaries, far from the batch's first bucket: where
    /// `d * (1/step)` rounds to the wrong side of an integer, the corrections must catch it.
    #[test]
    fn floor_near_on_bucket_boundaries() {
        for step in [
            7i64,
            1_000,
            60_000,
            300_000,
            3_600_000,
            86_400_000,
            999_999_937,
        ] {
            let f = |t: i64| Some(t.div_euclid(step) * step);
            let values: Vec<i64> = (0..20_000i64)
                .flat_map(|i| {
                    let k = (i * 7_919 + 1) % ((1i64 << 50) / step);
                    [k * step, k * step - 1, k * step + 1]
                })
                .chain([-1, 0])
                .collect();
            let out = floor_near(&values, step, &f).expect("a batch within 2^52 ms");
            for (t, b) in values.iter().zip(out) {
                assert_eq!(Some(b), f(*t), "t {t} step {step}");
            }
        }
    }

    #[test]
    fn floor_near_declines_wide_or_overflowing_batches() {
        let f = |t: i64| Some(t.div_euclid(1_000) * 1_000);
        assert!(floor_near(&[0, 1 << 52], 1_000, &f).is_none());
        assert!(floor_near(&[i64::MAX - 10], 1_000, &f).is_none());
        assert!(floor_near(&[], 1_000, &f).is_none());
        assert_eq!(
            floor_near(&[-1, 0, 999, 1_000], 1_000, &f),
            Some(vec![-1_000, 0, 0, 1_000])
        );
    }

    #[test]
    fn numeric_literals_take_the_row_path() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["300"]));
        let op = Op::Ops(OpFn::Cmp(CmpOp::Eq));
        assert!(try_eval(&op, &[(a, false), (scalar_str("300.0"), true)], 1)
            .unwrap()
            .is_none());
    }
}
