//! Rendering of engine values as GetQueryResults strings (CONTRACTS.md "Rendering", spec §10).
//!
//! - `Utf8`/`LargeUtf8`: the text as is (a `LargeUtf8` holds the JSON text of a map or list);
//! - `Float64`: integral and `|x| < 1e15` without a decimal point (`3`, `-2`), otherwise the
//!   shortest round-trip decimal (`2.5`, `0.1`); NaN and infinities are not values (omitted);
//! - integers: decimal;
//! - `Boolean`: `true`/`false`;
//! - `Timestamp(ms)`: `YYYY-MM-DD HH:MM:SS.mmm` UTC [I, spec §10];
//! - null: `None` (the field is omitted from the row).

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

/// Renders a number the way GetQueryResults shows it.
pub fn number(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        // -0.0 prints as "0".
        return Some(format!("{}", x as i64));
    }
    Some(format!("{x}"))
}

/// Renders epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
pub fn timestamp_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)?;
    Some(ow_functions::render::format_timestamp_ms(ms))
}

/// Renders row `row` of `array`; `None` for null (the field is then omitted from the row).
///
/// Delegates to [`ow_functions::render`] (the function library owns value semantics, so a
/// `LargeUtf8` JSON scalar from map access renders as that scalar); types it does not know
/// fall back to [`value_basic`].
pub fn value(array: &dyn Array, row: usize) -> Option<String> {
    if row >= array.len() || array.is_null(row) {
        return None;
    }
    let owned = arrow::array::make_array(array.to_data());
    match ow_functions::render::render_value(&owned, row) {
        Ok(v) => v,
        Err(_) => value_basic(array, row),
    }
}

/// Renders epoch milliseconds as RFC 3339 UTC: `YYYY-MM-DDTHH:MM:SSZ`, or
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` when the milliseconds are not zero.
pub fn timestamp_ms_rfc3339(ms: i64) -> Option<String> {
    let dt = chrono::DateTime::from_timestamp_millis(ms)?;
    let millis = ms.rem_euclid(1000) != 0;
    Some(
        match ow_functions::render::timestamp_digits(&dt, b'T', millis) {
            Some(mut s) => {
                s.push('Z');
                s
            }
            None if millis => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            None => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
    )
}

/// Renders a whole column in the given timestamp style: [`column`] for everything but
/// `Timestamp(ms)` columns under [`crate::TimestampStyle::Rfc3339`].
pub fn column_styled(
    array: &arrow::array::ArrayRef,
    style: crate::TimestampStyle,
) -> Vec<Option<String>> {
    if style == crate::TimestampStyle::Rfc3339 {
        if let Some(ts) = array.as_primitive_opt::<TimestampMillisecondType>() {
            return ts
                .iter()
                .map(|v| v.and_then(timestamp_ms_rfc3339))
                .collect();
        }
    }
    column(array)
}

/// Renders a whole column (one entry per row, `None` for null), the fast path for results.
pub fn column(array: &arrow::array::ArrayRef) -> Vec<Option<String>> {
    match ow_functions::render::render_column(array) {
        Ok(v) => v,
        Err(_) => (0..array.len())
            .map(|i| value_basic(array.as_ref(), i))
            .collect(),
    }
}

/// Rendering by Arrow type alone (no JSON interpretation), per the rules above.
pub fn value_basic(array: &dyn Array, row: usize) -> Option<String> {
    if row >= array.len() || array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Float64 => return number(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => return number(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::Timestamp(unit, _) => {
            let ms = match unit {
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row) * 1000,
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(row)
                    .div_euclid(1000),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .value(row)
                    .div_euclid(1_000_000),
            };
            return timestamp_ms(ms);
        }
        _ => {
            let opts = arrow::util::display::FormatOptions::default();
            let f = arrow::util::display::ArrayFormatter::try_new(array, &opts).ok()?;
            f.value(row).to_string()
        }
    })
}
