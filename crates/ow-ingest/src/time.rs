//! Timestamp parsing for importers. All results are epoch milliseconds UTC.

use chrono::{DateTime, NaiveDateTime};

/// Parses an ISO 8601 / RFC 3339 date-time (`2023-07-10T11:42:18Z`,
/// `2020-09-14T00:44:23.000Z`, `2023-07-10T13:42:18+02:00`); without a zone
/// (`2023-07-10T11:42:18`, `2023-07-10 11:42:18.5`) it is taken as UTC.
/// Returns epoch ms, or `None` when the text is not such a date-time.
pub fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 10 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    // RFC 3339 with a space separator, or a lowercase 'z'
    if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    None
}

/// Parses an epoch number given as text (`1688989338`, `1688989338123`,
/// `1.688560107857E9`). The unit is inferred from the magnitude [I]: below 10^11 seconds,
/// below 10^14 milliseconds, below 10^17 microseconds, else nanoseconds (10^11 s is the
/// year 5138, 10^11 ms is 1973, so real-world values are unambiguous).
pub fn parse_epoch_ms(s: &str) -> Option<i64> {
    let v: f64 = s.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let ms = if v < 1e11 {
        v * 1000.0
    } else if v < 1e14 {
        v
    } else if v < 1e17 {
        v / 1000.0
    } else {
        v / 1_000_000.0
    };
    Some(ms.round() as i64)
}

/// A timestamp given as a JSON value's text: ISO 8601 first, then an epoch number.
pub fn parse_any_ms(s: &str) -> Option<i64> {
    parse_iso8601_ms(s).or_else(|| parse_epoch_ms(s))
}

/// Parses `s` with a chrono `strftime` pattern (`--timestamp-format`). With a zone
/// specifier in the pattern the zone is honoured; without one the time is UTC.
/// Returns epoch ms and the rest of the text after the timestamp.
pub fn parse_with_format<'a>(s: &'a str, fmt: &str) -> Option<(i64, &'a str)> {
    if let Ok((dt, rest)) = DateTime::parse_and_remainder(s, fmt) {
        return Some((dt.timestamp_millis(), rest));
    }
    NaiveDateTime::parse_and_remainder(s, fmt)
        .ok()
        .map(|(dt, rest)| (dt.and_utc().timestamp_millis(), rest))
}

/// Splits a CreateExportTask line: `<ISO 8601 timestamp> <message>`. Returns epoch ms and
/// the message.
pub fn split_export_line(line: &str) -> Option<(i64, &str)> {
    let sp = line.find(' ')?;
    let ts = parse_iso8601_ms(&line[..sp])?;
    Some((ts, &line[sp + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_variants() {
        assert_eq!(
            parse_iso8601_ms("2023-07-10T11:42:18Z"),
            Some(1_688_989_338_000)
        );
        assert_eq!(
            parse_iso8601_ms("2023-07-10T11:42:18.250Z"),
            Some(1_688_989_338_250)
        );
        assert_eq!(
            parse_iso8601_ms("2023-07-10T13:42:18+02:00"),
            Some(1_688_989_338_000)
        );
        assert_eq!(
            parse_iso8601_ms("2023-07-10 11:42:18"),
            Some(1_688_989_338_000)
        );
        assert_eq!(
            parse_iso8601_ms("2023-07-10T11:42:18"),
            Some(1_688_989_338_000)
        );
        assert_eq!(parse_iso8601_ms("yesterday"), None);
        assert_eq!(parse_iso8601_ms("2023-13-10T11:42:18Z"), None);
    }

    #[test]
    fn epoch_units() {
        assert_eq!(parse_epoch_ms("1688989338"), Some(1_688_989_338_000));
        assert_eq!(parse_epoch_ms("1688989338123"), Some(1_688_989_338_123));
        assert_eq!(parse_epoch_ms("1.688560107857E9"), Some(1_688_560_107_857));
        assert_eq!(parse_epoch_ms("1688989338123456"), Some(1_688_989_338_123));
        assert_eq!(parse_epoch_ms("-5"), None);
        assert_eq!(parse_epoch_ms("NaN"), None);
    }

    #[test]
    fn export_lines_and_custom_formats() {
        assert_eq!(
            split_export_line("2023-07-10T11:42:18.000Z hello world"),
            Some((1_688_989_338_000, "hello world"))
        );
        assert_eq!(split_export_line("hello world"), None);
        let (ms, rest) =
            parse_with_format("17/May/2015:10:05:03 +0000] GET", "%d/%b/%Y:%H:%M:%S %z").unwrap();
        assert_eq!(ms, 1_431_857_103_000);
        assert_eq!(rest, "] GET");
    }
}
