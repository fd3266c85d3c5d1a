//! Dynamic values on Arrow arrays and the coercion rules of spec §3.3.
//!
//! The engine represents a Logs Insights value with one of the Arrow types fixed in
//! CONTRACTS.md ("Dynamic values inside the engine"):
//!
//! | Arrow type                   | Logs Insights value                                   |
//! |------------------------------|-------------------------------------------------------|
//! | `Utf8` (also `Utf8View`)     | string (every field read from logs)                   |
//! | `Float64` (any int/float)    | number                                                |
//! | `Boolean`                    | boolean                                               |
//! | `Timestamp(Millisecond, _)`  | timestamp (epoch ms UTC)                              |
//! | `LargeUtf8`                  | JSON text: a map or list, or (additive to the contract) the JSON scalar that `m.key` / `l[0]` access yielded |
//! | null / `Null`                | missing                                               |
//!
//! [`Col`] wraps an array once (one downcast) and yields a [`Val`] per row; the
//! coercions ([`Val::as_num`], [`Val::as_str`], [`Val::truthy`], [`Val::as_ts_ms`]) are
//! the single place where the §3.3 rules live.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, LargeStringArray, StringArray,
    StringViewArray, TimestampMillisecondArray,
};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

use crate::render::{format_number, format_timestamp_ms};

/// One dynamically typed value, borrowed from an Arrow array where possible.
///
/// `Json` holds the JSON text of a map or list (never a JSON scalar: those are decoded
/// into `Str`/`Num`/`Bool`/`Null` when read, see [`Col::get`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// Missing (null) value.
    Null,
    /// A string.
    Str(Cow<'a, str>),
    /// A number (64-bit float).
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A timestamp, epoch milliseconds UTC.
    Ts(i64),
    /// JSON text of a map (`{…}`) or list (`[…]`).
    Json(Cow<'a, str>),
}

impl<'a> Val<'a> {
    /// True when the value is missing.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// Numeric context (§3.3): numbers as is, numeric-looking strings parsed
    /// ([`parse_number`]), booleans 1/0, timestamps as epoch ms; maps, lists,
    /// non-numeric strings and missing -> `None`.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) if n.is_finite() => Some(*n),
            Val::Num(_) => None,
            Val::Str(s) => parse_number(s),
            Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Val::Ts(ms) => Some(*ms as f64),
            Val::Json(_) | Val::Null => None,
        }
    }

    /// True when the value is numeric in comparison context (§3.3 \[I\], chosen): a
    /// number, a timestamp, or a string that [`parse_number`] accepts. Booleans are
    /// not (they compare as `"true"`/`"false"` unless the other side is a number).
    pub fn is_numeric(&self) -> bool {
        match self {
            Val::Num(n) => n.is_finite(),
            Val::Ts(_) => true,
            Val::Str(s) => parse_number(s).is_some(),
            _ => false,
        }
    }

    /// String context: strings as is, numbers and timestamps rendered as in
    /// GetQueryResults (§10), booleans `true`/`false`; maps/lists and missing -> `None`
    /// (§3.3: "maps and lists are treated as null by string … functions").
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Val::Num(n) => n.is_finite().then(|| Cow::Owned(format_number(*n))),
            Val::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Val::Ts(ms) => Some(Cow::Owned(format_timestamp_ms(*ms))),
            Val::Json(_) | Val::Null => None,
        }
    }

    /// The GetQueryResults text of the value (like [`Val::as_str`], but maps and lists
    /// render as their JSON text). `None` = missing, the field is omitted from the row.
    pub fn render(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Json(t) => Some(Cow::Borrowed(t.as_ref())),
            other => other.as_str(),
        }
    }

    /// Timestamp context: timestamps as is; numbers and numeric strings are epoch ms
    /// (truncated toward zero); strings in ISO 8601 / RFC 3339 form
    /// (`2024-05-01T12:34:56Z`, `2024-05-01 12:34:56.789`, offset optional, UTC when
    /// absent) are parsed \[I, chosen: AWS documents timestamps only, this lets
    /// `datefloor(eventTime, 1h)` work on CloudTrail's text times]; anything else -> `None`.
    pub fn as_ts_ms(&self) -> Option<i64> {
        match self {
            Val::Ts(ms) => Some(*ms),
            Val::Num(_) => f64_to_i64(self.as_num()?.trunc()),
            Val::Str(s) => match parse_number(s) {
                Some(n) => f64_to_i64(n.trunc()),
                None => parse_iso_ms(s),
            },
            _ => None,
        }
    }

    /// Boolean context (§5.1 note, chosen rules): booleans as is; numbers true iff
    /// non-zero; strings `"true"`/`"false"` as booleans, numeric strings true iff
    /// non-zero, other strings false; timestamps true iff non-zero; maps, lists and
    /// **missing are false** (two-valued logic: a missing operand never makes a filter
    /// keep a record, and `not missing` is true, consistent with §3.4's `!=` rule).
    pub fn truthy(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Ts(ms) => *ms != 0,
            Val::Str(s) => match s.as_ref() {
                "true" => true,
                "false" => false,
                other => parse_number(other).is_some_and(|n| n != 0.0),
            },
            Val::Json(_) | Val::Null => false,
        }
    }

    /// The value as JSON text (used for `LargeUtf8` outputs): maps/lists as is, strings
    /// quoted, numbers in their rendered form, timestamps as their rendered string.
    pub fn to_json_text(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Json(t) => Some(t.to_string()),
            Val::Str(s) => serde_json::to_string(s.as_ref()).ok(),
            Val::Num(n) => n.is_finite().then(|| format_number(*n)),
            Val::Bool(b) => Some(b.to_string()),
            Val::Ts(ms) => serde_json::to_string(&format_timestamp_ms(*ms)).ok(),
        }
    }

    /// Detaches the value from the array it borrows from.
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Num(n) => Val::Num(n),
            Val::Bool(b) => Val::Bool(b),
            Val::Ts(t) => Val::Ts(t),
            Val::Json(s) => Val::Json(Cow::Owned(s.into_owned())),
        }
    }

    /// Builds a value from a parsed JSON value: objects/arrays become `Json`, scalars
    /// their Logs Insights counterpart, JSON null missing.
    pub fn from_json(v: &serde_json::Value) -> Val<'static> {
        match v {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or(Val::Null, Val::Num),
            serde_json::Value::String(s) => Val::Str(Cow::Owned(s.clone())),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                Val::Json(Cow::Owned(v.to_string()))
            }
        }
    }
}

/// Decodes the text held in a `LargeUtf8` cell: a map or list stays `Json`; a JSON
/// scalar (produced by `m.key` access) becomes its value; invalid JSON is kept as a
/// plain string so nothing is lost.
pub fn decode_json_cell(text: &str) -> Val<'_> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return Val::Json(Cow::Borrowed(text));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => Val::from_json(&v),
        Err(_) => Val::Str(Cow::Borrowed(text)),
    }
}

/// Parses a numeric-looking string (§3.3): optional sign, decimal digits with an
/// optional fraction, optional exponent (`42`, `-3`, `2.5`, `.5`, `1e-3`). No
/// whitespace, no `inf`/`NaN`, no hex. Returns `None` for anything else.
pub fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    // Whole numbers of up to 15 digits (account ids, ports, byte counts) are exact in an
    // f64: skip the general decimal parser.
    if frac_digits == 0 && i == int_start + int_digits && int_digits <= 15 {
        let v = b[int_start..i]
            .iter()
            .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0')) as f64;
        return Some(if b[0] == b'-' { -v } else { v });
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Parses an ISO 8601 date-time (`T` or space separator, optional fraction, optional
/// `Z`/offset; UTC when no offset) to epoch ms. `None` for anything else.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || !b[0].is_ascii_digit() || b.get(4) != Some(&b'-') {
        return None;
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = chrono::DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    let naive = s.strip_suffix('Z').unwrap_or(s);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    None
}

/// Converts a finite float to i64 when it is in range.
pub(crate) fn f64_to_i64(n: f64) -> Option<i64> {
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        Some(n as i64)
    } else {
        None
    }
}

/// A column of dynamic values, downcast once. Build with [`Col::new`], read with
/// [`Col::get`]. A column of length 1 built from a scalar broadcasts to every row.
#[derive(Debug)]
pub struct Col {
    kind: ColKind,
    broadcast: bool,
}

#[derive(Debug)]
enum ColKind {
    Null,
    Utf8(StringArray),
    View(StringViewArray),
    Json(LargeStringArray),
    F64(Float64Array),
    Bool(BooleanArray),
    Ts(TimestampMillisecondArray),
}

impl Col {
    /// Wraps `array`. Numeric arrays of any width become `Float64`, timestamps of any
    /// unit become milliseconds, other types are cast to `Utf8`.
    ///
    /// # Errors
    /// An Arrow error when a type cannot be cast to `Utf8` (e.g. nested types).
    pub fn new(array: &ArrayRef, broadcast: bool) -> arrow::error::Result<Col> {
        use arrow::compute::cast;
        let kind = match array.data_type() {
            DataType::Null => ColKind::Null,
            DataType::Utf8 => ColKind::Utf8(array.as_string::<i32>().clone()),
            DataType::Utf8View => ColKind::View(array.as_string_view().clone()),
            DataType::LargeUtf8 => ColKind::Json(array.as_string::<i64>().clone()),
            DataType::Float64 => ColKind::F64(array.as_primitive::<Float64Type>().clone()),
            DataType::Float32 => {
                ColKind::F64(arrow::compute::unary::<Float32Type, _, Float64Type>(
                    array.as_primitive::<Float32Type>(),
                    |v| v as f64,
                ))
            }
            DataType::Int8 => ColKind::F64(arrow::compute::unary::<Int8Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::Int16 => ColKind::F64(arrow::compute::unary::<Int16Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::Int32 => ColKind::F64(arrow::compute::unary::<Int32Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::Int64 => ColKind::F64(arrow::compute::unary::<Int64Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::UInt8 => ColKind::F64(arrow::compute::unary::<UInt8Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::UInt16 => ColKind::F64(arrow::compute::unary::<UInt16Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::UInt32 => ColKind::F64(arrow::compute::unary::<UInt32Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::UInt64 => ColKind::F64(arrow::compute::unary::<UInt64Type, _, Float64Type>(
                array.as_primitive(),
                |v| v as f64,
            )),
            DataType::Boolean => ColKind::Bool(array.as_boolean().clone()),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                let a = array.as_primitive::<arrow::datatypes::TimestampMillisecondType>();
                ColKind::Ts(a.clone().with_timezone_opt(None::<Arc<str>>))
            }
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
                let c = cast(array, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
                ColKind::Ts(c.as_primitive().clone())
            }
            _ => {
                let c = cast(array, &DataType::Utf8)?;
                ColKind::Utf8(c.as_string::<i32>().clone())
            }
        };
        Ok(Col { kind, broadcast })
    }

    /// The value at `row` (row 0 when the column broadcasts a scalar).
    pub fn get(&self, row: usize) -> Val<'_> {
        let i = if self.broadcast { 0 } else { row };
        match &self.kind {
            ColKind::Null => Val::Null,
            ColKind::Utf8(a) => {
                if a.is_null(i) {
                    Val::Null
                } else {
                    Val::Str(Cow::Borrowed(a.value(i)))
                }
            }
            ColKind::View(a) => {
                if a.is_null(i) {
                    Val::Null
                } else {
                    Val::Str(Cow::Borrowed(a.value(i)))
                }
            }
            ColKind::Json(a) => {
                if a.is_null(i) {
                    Val::Null
                } else {
                    decode_json_cell(a.value(i))
                }
            }
            ColKind::F64(a) => {
                if a.is_null(i) {
                    Val::Null
                } else {
                    Val::Num(a.value(i))
                }
            }
            ColKind::Bool(a) => {
                if a.is_null(i) {
                    Val::Null
                } else {
                    Val::Bool(a.value(i))
                }
            }
            ColKind::Ts(a) => {
                if a.is_null(i) {
                    Val::Null
                } else {
                    Val::Ts(a.value(i))
                }
            }
        }
    }
}

/// Reads row `row` of any supported array as a [`Val`] (owned). Convenience for
/// callers outside the UDF hot path (rendering, tests).
///
/// # Errors
/// An Arrow error when the array type cannot be cast to `Utf8`.
pub fn value_at(array: &ArrayRef, row: usize) -> arrow::error::Result<Val<'static>> {
    let col = Col::new(array, false)?;
    Ok(col.get(row).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_strictly() {
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("2.5"), Some(2.5));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("300"), Some(300.0));
        for bad in [
            "", "-", ".", "1e", "inf", "NaN", " 1", "1 ", "0x10", "5A", "1,000",
        ] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// The whole-number shortcut gives what the general decimal parser gives.
        #[test]
        fn whole_numbers_parse_as_the_decimal_parser_does(
            sign in proptest::sample::select(vec!["", "+", "-"]),
            digits in "[0-9]{1,17}",
        ) {
            let s = format!("{sign}{digits}");
            let want = s.parse::<f64>().ok();
            proptest::prop_assert_eq!(parse_number(&s).map(f64::to_bits), want.map(f64::to_bits));
        }
    }

    #[test]
    fn coercions_follow_section_3_3() {
        assert_eq!(Val::Str("300".into()).as_num(), Some(300.0));
        assert_eq!(Val::Str("abc".into()).as_num(), None);
        assert_eq!(Val::Bool(true).as_num(), Some(1.0));
        assert_eq!(Val::Ts(1500).as_num(), Some(1500.0));
        assert_eq!(Val::Json("{}".into()).as_num(), None);
        assert_eq!(Val::Num(3.0).as_str().as_deref(), Some("3"));
        assert_eq!(Val::Num(2.5).as_str().as_deref(), Some("2.5"));
        assert_eq!(Val::Json("[1]".into()).as_str(), None);
        assert_eq!(Val::Json("[1]".into()).render().as_deref(), Some("[1]"));
        assert!(Val::Num(2.0).truthy());
        assert!(!Val::Num(0.0).truthy());
        assert!(!Val::Null.truthy());
        assert!(Val::Str("true".into()).truthy());
        assert!(!Val::Str("yes".into()).truthy());
        assert!(Val::Str("1".into()).truthy());
    }

    #[test]
    fn iso_strings_are_timestamps_in_timestamp_context() {
        let want = Some(1_714_566_896_789);
        assert_eq!(Val::Str("2024-05-01T12:34:56.789Z".into()).as_ts_ms(), want);
        assert_eq!(Val::Str("2024-05-01 12:34:56.789".into()).as_ts_ms(), want);
        assert_eq!(
            Val::Str("2024-05-01T14:34:56.789+02:00".into()).as_ts_ms(),
            want
        );
        assert_eq!(
            Val::Str("2024-05-01T12:34:56Z".into()).as_ts_ms(),
            Some(1_714_566_896_000)
        );
        assert_eq!(Val::Str("1714566896789".into()).as_ts_ms(), want);
        assert_eq!(Val::Str("2024-05-01".into()).as_ts_ms(), None);
        assert_eq!(Val::Str("yesterday at noon!!!".into()).as_ts_ms(), None);
        // numeric context is unchanged: a date string is not a number
        assert_eq!(Val::Str("2024-05-01T12:34:56Z".into()).as_num(), None);
    }

    #[test]
    fn json_cells_decode_scalars() {
        assert_eq!(decode_json_cell("\"bob\""), Val::Str("bob".into()));
        assert_eq!(decode_json_cell("5"), Val::Num(5.0));
        assert_eq!(decode_json_cell("null"), Val::Null);
        assert_eq!(decode_json_cell("{\"a\":1}"), Val::Json("{\"a\":1}".into()));
        assert_eq!(decode_json_cell("not json"), Val::Str("not json".into()));
    }
}
