//! Rendering of engine values to GetQueryResults strings (spec §10; CONTRACTS.md
//! "Dynamic values inside the engine"). `ow_query` re-exports this module.
//!
//! * `Utf8`/`Utf8View`: the string as is.
//! * numbers: integral with |x| < 1e15 -> no decimal point (`3`, `-2`); otherwise the
//!   shortest decimal that round-trips (`2.5`, `0.1`, `10000000000000000`); only
//!   magnitudes a positional form would bloat (|x| >= 1e21, or 0 < |x| < 1e-7, the
//!   JavaScript thresholds) use exponent form (`1e21`, `1.5e-8`) \[I: AWS precision
//!   unconfirmed\].
//! * booleans `true`/`false`; timestamps `YYYY-MM-DD HH:MM:SS.mmm` UTC \[I, spec §10\].
//! * `LargeUtf8`: its JSON text; a JSON scalar produced by `m.key` access renders as
//!   that scalar (a string without quotes).
//! * null -> `None`: the field is omitted from the row.

use arrow::array::ArrayRef;

use crate::value::Col;

/// Formats a number as GetQueryResults does (see the module docs). Non-finite values
/// (never produced by the library: arithmetic yields null instead) render as `NaN`,
/// `Infinity`, `-Infinity`.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let a = x.abs();
    if x.fract() == 0.0 && a < 1e15 {
        // -0.0 renders as "0"
        return format!("{}", x as i64);
    }
    if !(1e-7..1e21).contains(&a) {
        return format!("{x:e}");
    }
    format!("{x}")
}

/// Formats epoch milliseconds UTC as `YYYY-MM-DD HH:MM:SS.mmm` (spec §10 \[I\]).
/// Out-of-range values (beyond chrono's ±262,000 years) fall back to the number of ms.
pub fn format_timestamp_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(dt) => match timestamp_digits(&dt, b' ', true) {
            Some(s) => s,
            None => dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        },
        None => ms.to_string(),
    }
}

/// `YYYY-MM-DD?HH:MM:SS` with `sep` at `?`, then `.mmm` when `millis`, written digit by
/// digit: the same text as chrono's `%Y-%m-%d?%H:%M:%S%.3f` for the years 0 to 9999 (the
/// others, which chrono writes with a sign or more digits, give `None`), without parsing
/// a format string for every value (results render thousands of timestamps).
pub fn timestamp_digits(
    dt: &chrono::DateTime<chrono::Utc>,
    sep: u8,
    millis: bool,
) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(dt.year()).ok().filter(|y| *y <= 9999)?;
    let mut b = [0u8; 23];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, dt.month(), 2);
    put(8, dt.day(), 2);
    put(11, dt.hour(), 2);
    put(14, dt.minute(), 2);
    put(17, dt.second(), 2);
    // a leap second (nanosecond >= 1e9) keeps chrono's `.mmm` of the excess, as `%.3f`
    put(20, dt.timestamp_subsec_millis() % 1000, 3);
    b[4] = b'-';
    b[7] = b'-';
    b[10] = sep;
    b[13] = b':';
    b[16] = b':';
    b[19] = b'.';
    let len = if millis { 23 } else { 19 };
    Some(String::from_utf8_lossy(&b[..len]).into_owned())
}

/// Renders row `row` of `array`. `Ok(None)` means missing (omit the field).
///
/// # Errors
/// An Arrow error when the array's type is not one the engine uses and cannot be cast
/// to `Utf8`.
pub fn render_value(array: &ArrayRef, row: usize) -> arrow::error::Result<Option<String>> {
    let col = Col::new(array, false)?;
    Ok(col.get(row).render().map(|c| c.into_owned()))
}

/// Renders a whole column; element `i` is row `i` (`None` = missing).
///
/// # Errors
/// As [`render_value`].
pub fn render_column(array: &ArrayRef) -> arrow::error::Result<Vec<Option<String>>> {
    let col = Col::new(array, false)?;
    Ok((0..array.len())
        .map(|i| col.get(i).render().map(|c| c.into_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BooleanArray, Float64Array, Int64Array, LargeStringArray, StringArray,
        TimestampMillisecondArray,
    };
    use std::sync::Arc;

    #[test]
    fn numbers_render_without_spurious_decimals() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-2.0), "-2");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_number(123456789012345.0), "123456789012345");
        assert_eq!(format_number(1e16), "10000000000000000");
        assert_eq!(format_number(2.5e15), "2500000000000000");
        assert_eq!(format_number(1e21), "1e21");
        assert_eq!(format_number(1.5e-7), "0.00000015");
        assert_eq!(format_number(1.5e-8), "1.5e-8");
    }

    #[test]
    fn timestamps_render_with_millis() {
        assert_eq!(
            format_timestamp_ms(1_714_566_896_789),
            "2024-05-01 12:34:56.789"
        );
        assert_eq!(format_timestamp_ms(0), "1970-01-01 00:00:00.000");
    }

    /// The digit writer gives chrono's text for the years 0 to 9999, and chrono's own
    /// formatting is kept outside them.
    #[test]
    fn timestamp_digits_match_chrono_format() {
        let mut ms: i64 = -62_167_219_200_000; // 0000-01-01
        let step = 7_777_777_777_i64 + 123; // about 90 days and odd milliseconds
        while ms < 253_402_300_800_000 {
            let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(
                format_timestamp_ms(ms),
                dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
            );
            assert_eq!(
                timestamp_digits(&dt, b'T', false).unwrap(),
                dt.format("%Y-%m-%dT%H:%M:%S").to_string()
            );
            ms += step;
        }
        for ms in [-62_167_219_200_001_i64, 253_402_300_800_000, -1, 999] {
            let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(
                format_timestamp_ms(ms),
                dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
            );
        }
        assert_eq!(
            format_timestamp_ms(253_402_300_800_000),
            "+10000-01-01 00:00:00.000"
        );
    }

    #[test]
    fn columns_render_per_type() {
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a b"), None]));
        assert_eq!(render_column(&s).unwrap(), vec![Some("a b".into()), None]);
        let f: ArrayRef = Arc::new(Float64Array::from(vec![Some(3.0), Some(0.25), None]));
        assert_eq!(
            render_column(&f).unwrap(),
            vec![Some("3".into()), Some("0.25".into()), None]
        );
        let i: ArrayRef = Arc::new(Int64Array::from(vec![42]));
        assert_eq!(render_value(&i, 0).unwrap().as_deref(), Some("42"));
        let b: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
        assert_eq!(render_value(&b, 1).unwrap().as_deref(), Some("false"));
        let t: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![1_714_566_896_789]));
        assert_eq!(
            render_value(&t, 0).unwrap().as_deref(),
            Some("2024-05-01 12:34:56.789")
        );
        let j: ArrayRef = Arc::new(LargeStringArray::from(vec!["{\"a\":[1,2]}", "\"bob\""]));
        assert_eq!(
            render_column(&j).unwrap(),
            vec![Some("{\"a\":[1,2]}".into()), Some("bob".into())]
        );
    }
}
