//! The CloudWatch Logs Insights function library as DataFusion 55 UDFs/UDAFs
//! (spec §5 operators, §6 functions), with the engine's value coercion (§3.3),
//! missing-value rules (§3.4), AWS natural sort (§4.6) and result rendering (§10).
//!
//! # Overview
//!
//! Values are dynamically typed and travel as the Arrow types fixed in CONTRACTS.md
//! (see [`value`]). Every function and operator is a [`datafusion::logical_expr::Expr`]
//! built by this crate; the planner never needs to know the UDF types:
//!
//! * [`scalar`]`(name, args, ctx)`: any §6.1–§6.7 function (case-insensitive name;
//!   [`SCALARS`] lists them); [`bin_with_offset`] for `by bin(p) offset d`.
//! * [`aggregate`]`(name, args, ctx)`: any §6.8 aggregate and `count_over_time` /
//!   `sum_over_time` (§6.9), for `stats` ([`AGGREGATES`], [`is_aggregate`]);
//!   `rate` and `histogram` are reported as [`FunctionError::Unsupported`].
//! * operators: [`compare`], [`arithmetic`], [`negate`], [`and`], [`or`], [`not`],
//!   [`like_substring`], [`regex_match`], [`in_list`], [`access`]; [`predicate`] turns
//!   any value into the filter's boolean (missing -> false).
//! * sorting: [`natural_sort_key`] (a `Binary` key whose byte order is AWS' order).
//! * [`render`]: Arrow value -> GetQueryResults string.
//! * [`unnest_elements`]: the records `unnest` makes from one value.
//!
//! # Value model additions to CONTRACTS.md
//!
//! A `LargeUtf8` cell holds JSON text. Besides maps and lists (the contract), map/list
//! access ([`access`]) may also put a JSON *scalar* there (`"bob"`, `3`, `true`): every
//! function reads such a cell as that scalar, and [`render`] prints a JSON string
//! without quotes. Strings in ISO 8601 form are timestamps in timestamp context
//! ([`Val::as_ts_ms`]).
//!
//! # Semantics chosen for undocumented (\[I\]) points
//!
//! Comparisons, missing values and boolean context: [`ops`]. Natural order of mixed
//! values: [`natural`]. Periods and bin alignment: [`period`]. Number and timestamp
//! text: [`render`]. Per-function choices: the family modules [`numeric`], [`strings`],
//! [`datetime`], [`general`], [`json`], [`ip`] and [`agg`] (aggregates).
//!
//! Literal-only arguments (regex patterns, periods, formats, time zones, percentiles)
//! are compiled once, at plan time; a bad one is a [`FunctionError`]. Bad *values*
//! never fail a query: they yield missing.
//!
//! ```
//! use datafusion::prelude::{col, lit};
//! use ow_functions::{scalar, QueryContext};
//!
//! let ctx = QueryContext { start_ms: 0, end_ms: 3_600_000, now_ms: 3_600_000, bin: None };
//! let e = scalar("TRIM", vec![col("name"), lit("xyZ")], &ctx).unwrap();
//! assert!(e.to_string().contains("trim"));
//! assert!(scalar("nosuchfn", vec![], &ctx).is_err());
//! ```

pub mod agg;
pub mod datetime;
mod error;
mod fast;
pub mod general;
pub mod ip;
pub mod json;
pub mod natural;
pub mod numeric;
pub mod ops;
pub mod period;
pub mod render;
pub mod strings;
mod udf;
pub mod value;

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::Expr;

pub use agg::{aggregate, is_aggregate, AGGREGATES};
pub use error::FunctionError;
pub use json::unnest_elements;
pub use natural::{natural_cmp, natural_key};
pub use ops::{long_integer, ArithOp, CmpOp};
pub use period::{Period, PeriodUnit};
pub use udf::{distinct_views, DistinctViews};
pub use value::Val;

use crate::datetime::TimeFn;
use crate::general::GenFn;
use crate::ip::IpFn;
use crate::json::JsonFn;
use crate::numeric::NumFn;
use crate::ops::{OpFn, Re};
use crate::strings::{StrFn, TrimSide};
use crate::udf::{call, Op};

/// The query window and clock, fixed for one query run (all epoch ms UTC).
///
/// `now()` reads `now_ms` (rendered in **seconds**, spec §6.3);
/// `queryStartTime()`/`queryEndTime()` read `start_ms`/`end_ms`;
/// `queryTimeRange()` is `end_ms - start_ms` (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryContext {
    /// Start of the query window, epoch ms UTC (inclusive).
    pub start_ms: i64,
    /// End of the query window, epoch ms UTC (inclusive).
    pub end_ms: i64,
    /// The time the query started running, epoch ms UTC.
    pub now_ms: i64,
    /// The period of the enclosing `stats … by bin(P)` group key, if any: the time
    /// window `rate(x, interval)` divides by (spec §6.9, \[I\], see [`agg`]). `None`
    /// outside stats or when the stats does not group by `bin()`.
    pub bin: Option<Period>,
}

/// The name of the column holding the event time (`bin()` reads it when no explicit
/// timestamp argument is passed).
pub const TIMESTAMP_COLUMN: &str = "@timestamp";

/// Every scalar function name [`scalar`] accepts (lower case, aliases included).
pub const SCALARS: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "greatest",
    "least",
    "log",
    "sqrt",
    "round",
    "haversine",
    "tonumber",
    "todouble",
    "toint",
    "tolong",
    "isempty",
    "isblank",
    "concat",
    "ltrim",
    "rtrim",
    "trim",
    "strlen",
    "toupper",
    "tolower",
    "substr",
    "replace",
    "regexreplace",
    "strcontains",
    "startswith",
    "endswith",
    "urlencode",
    "urldecode",
    "base64encode",
    "base64decode",
    "split",
    "hextoascii",
    "hextodec",
    "dectohex",
    "bin",
    "datefloor",
    "dateceil",
    "frommillis",
    "tomillis",
    "now",
    "parsedate",
    "formatdate",
    "strftime",
    "ispresent",
    "coalesce",
    "case",
    "if",
    "isnumeric",
    "messagesize",
    "querystarttime",
    "queryendtime",
    "querytimerange",
    "unmask",
    "jsonparse",
    "jsonstringify",
    "jsonarraysize",
    "jsonarraycontains",
    "isvalidip",
    "isvalidipv4",
    "isvalidipv6",
    "isipinsubnet",
    "isipv4insubnet",
    "isipv6insubnet",
    "ipv4tonumber",
    "isprivateip",
    "ispublicip",
    "isreservedip",
    "md5",
    "sha256",
];

/// Maximum number of `case()` branches (spec §7 \[V\]: 10).
pub const MAX_CASE_BRANCHES: usize = 10;

fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> Result<(), FunctionError> {
    let n = args.len();
    if n < min || n > max {
        let expected = match (min, max) {
            (a, b) if a == b => a.to_string(),
            (a, usize::MAX) => format!("at least {a}"),
            (a, b) if b == a + 1 => format!("{a} or {b}"),
            (a, b) => format!("{a} to {b}"),
        };
        return Err(FunctionError::Arity {
            name: name.to_owned(),
            expected,
            got: n,
        });
    }
    Ok(())
}

/// The string value of a literal expression (`Utf8`, `LargeUtf8`, `Utf8View`).
pub(crate) fn lit_str(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s.as_str()),
        _ => None,
    }
}

/// The numeric value of a literal expression (any numeric type, or a numeric string).
pub(crate) fn lit_num(e: &Expr) -> Option<f64> {
    match e {
        Expr::Literal(v, _) => {
            let arr = v.to_array().ok()?;
            value::value_at(&arr, 0).ok()?.as_num()
        }
        _ => None,
    }
}

fn literal_str<'e>(
    name: &str,
    args: &'e [Expr],
    i: usize,
    what: &str,
) -> Result<&'e str, FunctionError> {
    args.get(i)
        .and_then(lit_str)
        .ok_or_else(|| FunctionError::NotLiteral {
            name: name.to_owned(),
            index: i + 1,
            what: what.to_owned(),
        })
}

fn period_arg(name: &str, args: &[Expr], i: usize) -> Result<Period, FunctionError> {
    Period::parse(literal_str(name, args, i, "time period such as 5m")?)
}

fn tz_arg(name: &str, args: &[Expr], i: usize) -> Result<i32, FunctionError> {
    if args.len() <= i {
        return Ok(0);
    }
    let tz = literal_str(name, args, i, "time zone such as UTC or +02:00")?;
    datetime::parse_tz(tz).map_err(|message| FunctionError::InvalidArgument {
        name: name.to_owned(),
        index: i + 1,
        message,
    })
}

fn compile_regex(name: &str, index: usize, pattern: &str) -> Result<Re, FunctionError> {
    Re::new(pattern).map_err(|e| FunctionError::InvalidArgument {
        name: name.to_owned(),
        index,
        message: format!("invalid regular expression: {e}"),
    })
}

fn timestamp_column() -> Expr {
    Expr::Column(Column::new_unqualified(TIMESTAMP_COLUMN))
}

/// Builds a scalar function call (spec §6.1–§6.7) for the planner.
///
/// * `name`: the function name in any case (`BIN`, `strContains`, `count_frequent`…).
/// * `args`: the argument expressions. Literal-only arguments must be
///   `Expr::Literal` values: periods as the text written (`lit("5m")`), regex
///   patterns of `regexReplace` as a string with inline flags (`lit("(?i)err")`),
///   `parseDate`/`formatDate` patterns and time zones as strings, the optional
///   `round` digits as a number.
/// * `bin(period)` reads the `@timestamp` column ([`TIMESTAMP_COLUMN`], unqualified);
///   pass `bin(period, ts)` to name another timestamp. For `stats … by bin(p) offset
///   d` use [`bin_with_offset`].
/// * `now()`, `queryStartTime()`, `queryEndTime()`, `queryTimeRange()` become `Float64`
///   literals from `ctx`.
///
/// # Errors
/// [`FunctionError::UnknownFunction`], [`FunctionError::Arity`],
/// [`FunctionError::NotLiteral`], [`FunctionError::InvalidArgument`],
/// [`FunctionError::InvalidPeriod`]; [`FunctionError::AggregateOutsideStats`] when
/// `name` is an aggregate.
pub fn scalar(name: &str, args: Vec<Expr>, ctx: &QueryContext) -> Result<Expr, FunctionError> {
    let lower = name.to_ascii_lowercase();
    let n = lower.as_str();
    let one = |canon: &str, op: Op, args: Vec<Expr>| -> Result<Expr, FunctionError> {
        arity(canon, &args, 1, 1)?;
        Ok(call(canon, op, args))
    };
    let num = |canon: &str, f: NumFn, args: Vec<Expr>| one(canon, Op::Numeric(f), args);
    let st = |canon: &str, f: StrFn, args: Vec<Expr>| one(canon, Op::Strings(f), args);
    let ipf = |canon: &str, f: IpFn, args: Vec<Expr>| one(canon, Op::Ip(f), args);
    let ranged = |canon: &str, op: Op, args: Vec<Expr>, min: usize, max: usize| {
        arity(canon, &args, min, max)?;
        Ok(call(canon, op, args))
    };
    let float = |v: f64| Expr::Literal(ScalarValue::Float64(Some(v)), None);
    match n {
        // §6.1 numeric
        "abs" => num("abs", NumFn::Abs, args),
        "ceil" => num("ceil", NumFn::Ceil, args),
        "floor" => num("floor", NumFn::Floor, args),
        "log" => num("log", NumFn::Log, args),
        "sqrt" => num("sqrt", NumFn::Sqrt, args),
        "greatest" => ranged(
            "greatest",
            Op::Numeric(NumFn::Greatest),
            args,
            1,
            usize::MAX,
        ),
        "least" => ranged("least", Op::Numeric(NumFn::Least), args, 1, usize::MAX),
        "round" => ranged("round", Op::Numeric(NumFn::Round), args, 1, 2),
        "haversine" => ranged("haversine", Op::Numeric(NumFn::Haversine), args, 4, 4),
        "tonumber" => num("toNumber", NumFn::ToDouble, args),
        "todouble" => num("toDouble", NumFn::ToDouble, args),
        "toint" => num("toInt", NumFn::ToInt, args),
        "tolong" => num("toLong", NumFn::ToLong, args),
        // §6.2 string
        "isempty" => st("isempty", StrFn::IsEmpty, args),
        "isblank" => st("isblank", StrFn::IsBlank, args),
        "concat" => ranged("concat", Op::Strings(StrFn::Concat), args, 1, usize::MAX),
        "ltrim" => ranged(
            "ltrim",
            Op::Strings(StrFn::Trim(TrimSide::Left)),
            args,
            1,
            2,
        ),
        "rtrim" => ranged(
            "rtrim",
            Op::Strings(StrFn::Trim(TrimSide::Right)),
            args,
            1,
            2,
        ),
        "trim" => ranged("trim", Op::Strings(StrFn::Trim(TrimSide::Both)), args, 1, 2),
        "strlen" => st("strlen", StrFn::Strlen, args),
        "toupper" => st("toupper", StrFn::ToUpper, args),
        "tolower" => st("tolower", StrFn::ToLower, args),
        "substr" => ranged("substr", Op::Strings(StrFn::Substr), args, 2, 3),
        "replace" => ranged("replace", Op::Strings(StrFn::Replace), args, 3, 3),
        "regexreplace" => {
            arity("regexReplace", &args, 3, 3)?;
            let re = compile_regex(
                "regexReplace",
                2,
                literal_str("regexReplace", &args, 1, "regular expression")?,
            )?;
            Ok(call(
                "regexReplace",
                Op::Strings(StrFn::RegexReplace(re)),
                args,
            ))
        }
        "strcontains" => ranged("strcontains", Op::Strings(StrFn::StrContains), args, 2, 3),
        "startswith" => ranged("startsWith", Op::Strings(StrFn::StartsWith), args, 2, 2),
        "endswith" => ranged("endsWith", Op::Strings(StrFn::EndsWith), args, 2, 2),
        "urlencode" => st("urlencode", StrFn::UrlEncode, args),
        "urldecode" => st("urldecode", StrFn::UrlDecode, args),
        "base64encode" => st("base64encode", StrFn::Base64Encode, args),
        "base64decode" => st("base64decode", StrFn::Base64Decode, args),
        "split" => ranged("split", Op::Strings(StrFn::Split), args, 2, 2),
        "hextoascii" => st("hexToAscii", StrFn::HexToAscii, args),
        "hextodec" => st("hexToDec", StrFn::HexToDec, args),
        "dectohex" => st("decToHex", StrFn::DecToHex, args),
        // §6.3 datetime
        "bin" => {
            arity("bin", &args, 1, 2)?;
            let period = period_arg("bin", &args, 0)?;
            let ts = args.into_iter().nth(1).unwrap_or_else(timestamp_column);
            Ok(call(
                "bin",
                Op::Time(TimeFn::DateFloor {
                    period,
                    offset_ms: 0,
                }),
                vec![ts],
            ))
        }
        "datefloor" => {
            arity("datefloor", &args, 2, 2)?;
            let period = period_arg("datefloor", &args, 1)?;
            let ts = args.into_iter().next().unwrap_or_else(timestamp_column);
            Ok(call(
                "datefloor",
                Op::Time(TimeFn::DateFloor {
                    period,
                    offset_ms: 0,
                }),
                vec![ts],
            ))
        }
        "dateceil" => {
            arity("dateceil", &args, 2, 2)?;
            let period = period_arg("dateceil", &args, 1)?;
            let ts = args.into_iter().next().unwrap_or_else(timestamp_column);
            Ok(call(
                "dateceil",
                Op::Time(TimeFn::DateCeil(period)),
                vec![ts],
            ))
        }
        "frommillis" => one("fromMillis", Op::Time(TimeFn::FromMillis), args),
        "tomillis" => one("toMillis", Op::Time(TimeFn::ToMillis), args),
        "now" => {
            arity("now", &args, 0, 0)?;
            // §6.3: now() is in epoch *seconds*
            Ok(float(ctx.now_ms.div_euclid(1000) as f64))
        }
        "parsedate" => {
            arity("parseDate", &args, 2, 3)?;
            let src = literal_str("parseDate", &args, 1, "date pattern")?;
            let pattern =
                datetime::java_pattern(src).map_err(|message| FunctionError::InvalidArgument {
                    name: "parseDate".into(),
                    index: 2,
                    message,
                })?;
            let tz_offset_s = tz_arg("parseDate", &args, 2)?;
            let s = args.into_iter().take(1).collect();
            Ok(call(
                "parseDate",
                Op::Time(TimeFn::ParseDate {
                    pattern,
                    tz_offset_s,
                }),
                s,
            ))
        }
        "formatdate" | "strftime" => {
            let canon = if n == "strftime" {
                "strftime"
            } else {
                "formatDate"
            };
            arity(canon, &args, 2, 3)?;
            let src = literal_str(canon, &args, 1, "strftime format")?;
            let format =
                datetime::Strftime::new(src).map_err(|message| FunctionError::InvalidArgument {
                    name: canon.into(),
                    index: 2,
                    message,
                })?;
            let tz_offset_s = tz_arg(canon, &args, 2)?;
            let ts = args.into_iter().take(1).collect();
            Ok(call(
                canon,
                Op::Time(TimeFn::FormatDate {
                    format,
                    tz_offset_s,
                }),
                ts,
            ))
        }
        // §6.4 general
        "ispresent" => one("ispresent", Op::General(GenFn::IsPresent), args),
        "isnumeric" => one("isNumeric", Op::General(GenFn::IsNumeric), args),
        "coalesce" => ranged(
            "coalesce",
            Op::General(GenFn::Coalesce),
            args,
            1,
            usize::MAX,
        ),
        "if" => ranged("if", Op::General(GenFn::If), args, 2, 3),
        "case" => ranged(
            "case",
            Op::General(GenFn::Case),
            args,
            2,
            2 * MAX_CASE_BRANCHES + 1,
        ),
        "messagesize" => st("messageSize", StrFn::MessageSize, args),
        "unmask" => st("unmask", StrFn::Identity, args),
        "querystarttime" => {
            arity("queryStartTime", &args, 0, 0)?;
            Ok(float(ctx.start_ms as f64))
        }
        "queryendtime" => {
            arity("queryEndTime", &args, 0, 0)?;
            Ok(float(ctx.end_ms as f64))
        }
        "querytimerange" => {
            arity("queryTimeRange", &args, 0, 0)?;
            Ok(float((ctx.end_ms - ctx.start_ms) as f64))
        }
        // §6.5 JSON
        "jsonparse" => one("jsonParse", Op::Json(JsonFn::Parse), args),
        "jsonstringify" => one("jsonStringify", Op::Json(JsonFn::Stringify), args),
        "jsonarraysize" => one("jsonArraySize", Op::Json(JsonFn::ArraySize), args),
        "jsonarraycontains" => ranged(
            "jsonArrayContains",
            Op::Json(JsonFn::ArrayContains),
            args,
            2,
            2,
        ),
        // §6.6 IP
        "isvalidip" => ipf("isValidIp", IpFn::IsValid, args),
        "isvalidipv4" => ipf("isValidIpV4", IpFn::IsValidV4, args),
        "isvalidipv6" => ipf("isValidIpV6", IpFn::IsValidV6, args),
        "isipinsubnet" => ranged("isIpInSubnet", Op::Ip(IpFn::InSubnet), args, 2, 2),
        "isipv4insubnet" => ranged("isIpv4InSubnet", Op::Ip(IpFn::InSubnetV4), args, 2, 2),
        "isipv6insubnet" => ranged("isIpv6InSubnet", Op::Ip(IpFn::InSubnetV6), args, 2, 2),
        "ipv4tonumber" => ipf("ipv4ToNumber", IpFn::V4ToNumber, args),
        "isprivateip" => ipf("isPrivateIP", IpFn::IsPrivate, args),
        "ispublicip" => ipf("isPublicIP", IpFn::IsPublic, args),
        "isreservedip" => ipf("isReservedIP", IpFn::IsReserved, args),
        // §6.7 hashing
        "md5" => st("md5", StrFn::Md5, args),
        "sha256" => st("sha256", StrFn::Sha256, args),
        other if is_aggregate(other) => Err(FunctionError::AggregateOutsideStats {
            name: other.to_owned(),
        }),
        _ => Err(FunctionError::UnknownFunction {
            name: name.to_owned(),
        }),
    }
}

/// `bin(period)` shifted by `offset` (`stats … by bin(5m) offset 1d`, spec §4.5/§6.9):
/// buckets start at `offset + k·period`. `ts` defaults to `@timestamp`.
///
/// # Errors
/// [`FunctionError::InvalidPeriod`] for a bad period or offset text;
/// [`FunctionError::InvalidArgument`] when the offset is a calendar unit (mo, q, y),
/// which has no fixed length.
pub fn bin_with_offset(
    period: &str,
    offset: &str,
    ts: Option<Expr>,
) -> Result<Expr, FunctionError> {
    let period = Period::parse(period)?;
    let off = Period::parse(offset)?;
    let offset_ms = off
        .fixed_ms()
        .ok_or_else(|| FunctionError::InvalidArgument {
            name: "bin".into(),
            index: 2,
            message: format!("offset `{offset}` must be a fixed length (ms, s, m, h, d or w)"),
        })?;
    Ok(call(
        "bin",
        Op::Time(TimeFn::DateFloor { period, offset_ms }),
        vec![ts.unwrap_or_else(timestamp_column)],
    ))
}

/// `left <op> right` for `= != < <= > >=` (spec §5.1; rules in [`ops`]). `Boolean`,
/// never null.
pub fn compare(op: CmpOp, left: Expr, right: Expr) -> Expr {
    let name = match op {
        CmpOp::Eq => "=",
        CmpOp::NotEq => "!=",
        CmpOp::Lt => "<",
        CmpOp::LtEq => "<=",
        CmpOp::Gt => ">",
        CmpOp::GtEq => ">=",
    };
    call(name, Op::Ops(OpFn::Cmp(op)), vec![left, right])
}

/// `left <op> right` for `+ - * / ^ %` (spec §5.1). `Float64`; null on a missing or
/// non-numeric operand, division/modulo by zero, or a non-finite result.
pub fn arithmetic(op: ArithOp, left: Expr, right: Expr) -> Expr {
    call(
        arith_symbol(op),
        Op::Ops(OpFn::Arith(op)),
        vec![left, right],
    )
}

/// The operator's spelling in a query (`+ - * / ^ %`).
pub(crate) fn arith_symbol(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
        ArithOp::Pow => "^",
        ArithOp::Mod => "%",
    }
}

/// A left-to-right arithmetic chain `first op1 e1 op2 e2 …` (spec §5.1) as ONE call:
/// the same value as the left-deep tree of [`arithmetic`] calls (each step with the
/// same null rules), but flat, so a long chain such as `1+1+…+1` (queries may be
/// 10,000 characters, spec §2.1) neither recurses deeply nor makes DataFusion derive
/// names and types of nested calls per node (which was super-linear). With one step
/// this is exactly [`arithmetic`]. `Float64`.
pub fn arithmetic_chain(first: Expr, mut rest: Vec<(ArithOp, Expr)>) -> Expr {
    if rest.len() <= 1 {
        return match rest.pop() {
            Some((op, right)) => arithmetic(op, first, right),
            None => first,
        };
    }
    let mut ops = Vec::with_capacity(rest.len());
    let mut args = Vec::with_capacity(rest.len() + 1);
    args.push(first);
    for (op, e) in rest {
        ops.push(op);
        args.push(e);
    }
    call("arith", Op::Ops(OpFn::ArithChain(ops)), args)
}

/// Unary minus. `Float64`, null when the operand is not numeric.
pub fn negate(e: Expr) -> Expr {
    call("negate", Op::Ops(OpFn::Neg), vec![e])
}

/// `left and right` over boolean context ([`Val::truthy`]: missing is false).
/// `Boolean`, never null.
pub fn and(left: Expr, right: Expr) -> Expr {
    call("and", Op::Ops(OpFn::And), vec![left, right])
}

/// `left or right` over boolean context. `Boolean`, never null.
pub fn or(left: Expr, right: Expr) -> Expr {
    call("or", Op::Ops(OpFn::Or), vec![left, right])
}

/// `not e` over boolean context (`not missing` is true). `Boolean`, never null.
pub fn not(e: Expr) -> Expr {
    call("not", Op::Ops(OpFn::Not), vec![e])
}

/// The boolean a `filter`/`where` keeps a record on (spec §4.4, §5.1 note): any value
/// in boolean context; missing -> false. `Boolean`, never null.
pub fn predicate(e: Expr) -> Expr {
    call("truthy", Op::Ops(OpFn::Truthy), vec![e])
}

/// `e like "text"` / `e not like "text"` (spec §5.2): case-sensitive substring test,
/// `* % _` literal; numbers match on their string form. `Boolean`, never null.
pub fn like_substring(e: Expr, needle: &str, negated: bool) -> Expr {
    let name = if negated { "not like" } else { "like" };
    call(
        name,
        Op::Ops(OpFn::Like {
            needle: Box::new(ops::Needle::new(needle)),
            negated,
        }),
        vec![e],
    )
}

/// `e like /re/`, `e =~ /re/`, `e not like /re/` (spec §5.2): unanchored regex search
/// with Rust `regex` syntax; put flags inline (`(?i)…`). The pattern is compiled once,
/// here. `Boolean`, never null.
///
/// # Errors
/// [`FunctionError::InvalidArgument`] for an invalid pattern, including
/// back-references and look-around (unsupported by RE2/Hyperscan as well).
pub fn regex_match(e: Expr, pattern: &str, negated: bool) -> Result<Expr, FunctionError> {
    let name = if negated { "not like" } else { "=~" };
    let re = compile_regex(name, 2, pattern)?;
    Ok(call(name, Op::Ops(OpFn::Regex { re, negated }), vec![e]))
}

/// `e in [a, b, …]` / `e not in […]` (spec §5.3): equality per [`compare`] against
/// each element. Missing `e`: `in` false, `not in` true. `Boolean`, never null.
pub fn in_list(e: Expr, list: Vec<Expr>, negated: bool) -> Expr {
    let name = if negated { "not in" } else { "in" };
    let mut args = Vec::with_capacity(list.len() + 1);
    args.push(e);
    args.extend(list);
    call(name, Op::Ops(OpFn::In { negated }), args)
}

/// Map/list access on a `jsonParse` value (spec §6.5): `m.a.b` is
/// `access(m, [lit("a"), lit("b")])`, `l[1]` is `access(l, [lit(1)])`, ``m.`a.b` `` is
/// `access(m, [lit("a.b")])`. Returns `LargeUtf8` JSON text (a map, a list, or the JSON
/// scalar found, which every function reads as that scalar); missing when a key or
/// index is absent.
pub fn access(base: Expr, segments: Vec<Expr>) -> Expr {
    let mut args = Vec::with_capacity(segments.len() + 1);
    args.push(base);
    args.extend(segments);
    call("access", Op::Ops(OpFn::Access), args)
}

/// Numeric coercion of a value (§3.3) as `Float64` (null if not numeric). Used for
/// numeric aggregates and `toNumber`.
pub fn to_number(e: Expr) -> Expr {
    call("to_number", Op::Ops(OpFn::ToNumber), vec![e])
}

/// The AWS natural sort key of a value (spec §4.6) as `Binary`: sorting the key
/// ascending (descending) with DataFusion's native sort gives AWS' ascending
/// (descending) order. Missing values give a null key: sort with nulls last in both
/// directions.
pub fn natural_sort_key(e: Expr) -> Expr {
    call("natural_sort_key", Op::NaturalKey, vec![e])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::testing::eval_lit;
    use datafusion::prelude::lit;

    fn ctx() -> QueryContext {
        QueryContext {
            start_ms: 1_714_521_600_000,
            end_ms: 1_714_525_200_000,
            now_ms: 1_714_525_200_999,
            bin: None,
        }
    }

    fn run(name: &str, args: Vec<Expr>) -> Val<'static> {
        eval_lit(&scalar(name, args, &ctx()).unwrap())
    }

    fn s(x: &str) -> Val<'static> {
        Val::Str(x.to_owned().into())
    }

    #[test]
    fn spec_examples_through_the_public_api() {
        assert_eq!(
            run("trim", vec![lit("xyZxyfooxyxyZ"), lit("xyZ")]),
            s("foo")
        );
        assert_eq!(
            run("substr", vec![lit("xyZfooxyZ"), lit(3), lit(3)]),
            s("foo")
        );
        assert_eq!(run("hexToDec", vec![lit("0xff")]), Val::Num(255.0));
        assert_eq!(run("HEXTOASCII", vec![lit("48656c6c6f")]), s("Hello"));
        assert_eq!(run("decToHex", vec![lit(255)]), s("0xff"));
        assert_eq!(
            run("concat", vec![lit("Get"), lit("-"), lit("200")]),
            s("Get-200")
        );
        assert_eq!(run("strlen", vec![lit("abc")]), Val::Num(3.0));
        assert_eq!(run("abs", vec![lit("-4")]), Val::Num(4.0));
    }

    #[test]
    fn bin_caps_and_datetime() {
        let ts = Expr::Literal(
            ScalarValue::TimestampMillisecond(Some(1_714_566_896_789), None),
            None,
        );
        assert_eq!(
            run("bin", vec![lit("300s"), ts.clone()]),
            Val::Ts(1_714_566_840_000)
        );
        assert_eq!(
            run("BIN", vec![lit("5m"), ts.clone()]),
            Val::Ts(1_714_566_600_000)
        );
        assert_eq!(
            run("datefloor", vec![ts.clone(), lit("1h")]),
            Val::Ts(1_714_564_800_000)
        );
        assert_eq!(
            run("dateceil", vec![ts.clone(), lit("1h")]),
            Val::Ts(1_714_568_400_000)
        );
        assert_eq!(
            run("toMillis", vec![ts.clone()]),
            Val::Num(1_714_566_896_789.0)
        );
        assert_eq!(run("fromMillis", vec![lit(0)]), Val::Ts(0));
        assert_eq!(
            run(
                "formatDate",
                vec![ts.clone(), lit("%Y/%m/%d %H:%M"), lit("+02:00")]
            ),
            s("2024/05/01 14:34")
        );
        assert_eq!(
            run(
                "parseDate",
                vec![lit("2024-05-01 12:34:56"), lit("yyyy-MM-dd HH:mm:ss")]
            ),
            Val::Num(1_714_566_896_000.0)
        );
        let off = bin_with_offset("1d", "1h", Some(ts)).unwrap();
        assert_eq!(eval_lit(&off), Val::Ts(1_714_525_200_000));
        // bin() without a timestamp argument reads @timestamp
        let b = scalar("bin", vec![lit("5m")], &ctx()).unwrap();
        assert!(b.to_string().contains("@timestamp"), "{b}");
    }

    #[test]
    fn plan_time_state_shows_in_column_names() {
        let c = ctx();
        let t = || datafusion::prelude::col("t");
        let h = scalar("datefloor", vec![t(), lit("1h")], &c).unwrap();
        let d = scalar("datefloor", vec![t(), lit("1d")], &c).unwrap();
        assert_eq!(h.schema_name().to_string(), "datefloor(t,1h)");
        assert_ne!(h.schema_name().to_string(), d.schema_name().to_string());
        let b = scalar("bin", vec![lit("300s")], &c).unwrap();
        assert_eq!(b.schema_name().to_string(), "bin(@timestamp,60s)");
        let l = like_substring(t(), "a\"b", false).schema_name().to_string();
        assert_eq!(l, r#"like(t,"a\"b")"#);
        let r = regex_match(t(), "x+", true)
            .unwrap()
            .schema_name()
            .to_string();
        assert_eq!(r, "not like(t,/x+/)");
    }

    #[test]
    fn query_window_constants() {
        assert_eq!(run("now", vec![]), Val::Num(1_714_525_200.0));
        assert_eq!(run("queryStartTime", vec![]), Val::Num(1_714_521_600_000.0));
        assert_eq!(run("queryEndTime", vec![]), Val::Num(1_714_525_200_000.0));
        assert_eq!(run("queryTimeRange", vec![]), Val::Num(3_600_000.0));
    }

    #[test]
    fn plan_time_errors() {
        let c = ctx();
        assert!(matches!(
            scalar("nope", vec![], &c),
            Err(FunctionError::UnknownFunction { .. })
        ));
        assert!(matches!(
            scalar("abs", vec![], &c),
            Err(FunctionError::Arity { .. })
        ));
        assert!(matches!(
            scalar("bin", vec![datafusion::prelude::col("x")], &c),
            Err(FunctionError::NotLiteral { .. })
        ));
        assert!(matches!(
            scalar("bin", vec![lit("5x")], &c),
            Err(FunctionError::InvalidPeriod { .. })
        ));
        assert!(matches!(
            scalar("regexReplace", vec![lit("a"), lit("("), lit("b")], &c),
            Err(FunctionError::InvalidArgument { .. })
        ));
        assert!(matches!(
            scalar(
                "formatDate",
                vec![lit(0), lit("%Y"), lit("Europe/Paris")],
                &c
            ),
            Err(FunctionError::InvalidArgument { .. })
        ));
        assert!(matches!(
            scalar("avg", vec![lit(1)], &c),
            Err(FunctionError::AggregateOutsideStats { .. })
        ));
        let too_many: Vec<Expr> = (0..23).map(|_| lit(true)).collect();
        assert!(matches!(
            scalar("case", too_many, &c),
            Err(FunctionError::Arity { .. })
        ));
        assert!(regex_match(lit("x"), r"(a)\1", false).is_err());
        assert!(regex_match(lit("x"), r"(?=a)", false).is_err());
    }

    #[test]
    fn every_listed_name_resolves() {
        for name in SCALARS {
            if let Err(FunctionError::UnknownFunction { .. }) = scalar(name, vec![], &ctx()) {
                panic!("{name} is not wired");
            }
        }
    }

    fn arb_lit() -> impl proptest::strategy::Strategy<Value = Expr> {
        use proptest::prelude::*;
        prop_oneof![
            any::<String>().prop_map(lit),
            "[0-9]{1,4}(ms|s|m|h|d|w|mo|q|y|x)".prop_map(lit),
            "[1-9][0-9]{14,18}(d|w|mo|q|y)".prop_map(lit),
            "(yyyy|MM|dd|HH|mm|ss|SSS|XXX|'T'|[-: /])*".prop_map(lit),
            "(%[YmdHMSjz.3f]|[-: /])*".prop_map(lit),
            "(\\{\"a\":\\[1,\"x\",\\{\\}\\]\\}|\\[\\]|-?[0-9a-f]{0,8}|0x[0-9a-f]{1,20}|[0-9.]{1,6}|10\\.0\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,3})?)".prop_map(lit),
            any::<f64>().prop_map(lit),
            any::<i64>().prop_map(lit),
            any::<bool>().prop_map(lit),
            Just(lit(ScalarValue::Utf8(None))),
            any::<i64>().prop_map(|t| Expr::Literal(ScalarValue::TimestampMillisecond(Some(t), None), None)),
            Just(Expr::Literal(ScalarValue::LargeUtf8(Some("{\"k\":[1,{\"z\":null}]}".into())), None)),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// No input makes a function panic: plan-time errors are `Err`, bad values null.
        #[test]
        fn no_function_panics_on_any_input(
            idx in 0..SCALARS.len(),
            args in proptest::collection::vec(arb_lit(), 0..5),
        ) {
            if let Ok(e) = scalar(SCALARS[idx], args, &ctx()) {
                let _ = eval_lit(&e);
            }
        }

        /// Operators never panic and never return null where §3.4 says boolean.
        #[test]
        fn operators_total_on_any_input(a in arb_lit(), b in arb_lit(), pat in proptest::prelude::any::<String>()) {
            for op in [CmpOp::Eq, CmpOp::NotEq, CmpOp::Lt, CmpOp::LtEq, CmpOp::Gt, CmpOp::GtEq] {
                let v = eval_lit(&compare(op, a.clone(), b.clone()));
                proptest::prop_assert!(matches!(v, Val::Bool(_)));
            }
            for op in [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div, ArithOp::Pow, ArithOp::Mod] {
                let v = eval_lit(&arithmetic(op, a.clone(), b.clone()));
                proptest::prop_assert!(matches!(v, Val::Num(n) if n.is_finite()) || v.is_null());
            }
            let _ = eval_lit(&in_list(a.clone(), vec![b.clone()], true));
            let _ = eval_lit(&like_substring(a.clone(), &pat, false));
            let _ = eval_lit(&access(a.clone(), vec![b.clone()]));
            if let Ok(r) = regex_match(a.clone(), &pat, false) {
                let _ = eval_lit(&r);
            }
            let _ = eval_lit(&not(a.clone()));
        }
    }

    #[test]
    fn operators_through_the_public_api() {
        assert_eq!(
            eval_lit(&compare(CmpOp::Eq, lit("300"), lit(300))),
            Val::Bool(true)
        );
        assert_eq!(
            eval_lit(&arithmetic(ArithOp::Pow, lit(2), lit(3))),
            Val::Num(8.0)
        );
        assert_eq!(
            eval_lit(&arithmetic(ArithOp::Div, lit(1), lit(0))),
            Val::Null
        );
        assert_eq!(
            eval_lit(&in_list(lit("400"), vec![lit(300), lit(400)], false)),
            Val::Bool(true)
        );
        assert_eq!(
            eval_lit(&regex_match(lit("FAIL"), "(?i)fail", false).unwrap()),
            Val::Bool(true)
        );
        assert_eq!(
            eval_lit(&like_substring(lit("a*b"), "*", false)),
            Val::Bool(true)
        );
        assert_eq!(
            eval_lit(&not(lit(ScalarValue::Utf8(None)))),
            Val::Bool(true)
        );
        assert_eq!(
            eval_lit(&predicate(lit(ScalarValue::Utf8(None)))),
            Val::Bool(false)
        );
        let m = scalar(
            "jsonParse",
            vec![lit(r#"{"a":{"b":[1,{"c":"x"}]}}"#)],
            &ctx(),
        )
        .unwrap();
        let got = access(m, vec![lit("a"), lit("b"), lit(1), lit("c")]);
        assert_eq!(eval_lit(&got), s("x"));
    }
}
