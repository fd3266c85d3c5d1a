//! Datetime functions (spec §6.3): `bin`, `datefloor`, `dateceil`, `fromMillis`,
//! `toMillis`, `parseDate`, `formatDate`/`strftime`. (`now()` and the query-window
//! functions are constants built from [`crate::QueryContext`] in `lib.rs`.)
//!
//! Timestamps are epoch ms UTC. Inputs are read with [`Val::as_ts_ms`]: timestamps,
//! or numbers / numeric strings taken as epoch ms.
//!
//! Choices on \[I\] items:
//! * `parseDate(s, pattern[, tz])` supports this Java `DateTimeFormatter` subset:
//!   `yyyy uuuu yy` year, `M MM` month number, `MMM MMMM` month name, `d dd` day,
//!   `H HH` hour 0-23, `h hh` hour 1-12 with `a` AM/PM, `m mm`, `s ss`, `S…` fraction
//!   (up to 9 digits), `E EEE EEEE` weekday name, `X XX XXX x xx xxx Z ZZ ZZZ ZZZZZ`
//!   offsets (`X` forms accept `Z`), `'quoted text'`, `''`, and any non-letter as a
//!   literal. Other pattern letters are rejected at plan time. Without an offset in the
//!   input, the `tz` argument (default UTC) applies; a missing time of day is midnight.
//!   Input that does not match -> null.
//! * Time zones (`tz` of `parseDate`/`formatDate`) are fixed offsets: `UTC`, `GMT`, `Z`,
//!   `+HH`, `+HH:MM`, `+HHMM` (optionally prefixed by `UTC`/`GMT`). IANA names such as
//!   `America/New_York` are rejected at plan time as unsupported.
//! * `formatDate(ts, fmt[, tz])` uses strftime directives as implemented by chrono
//!   (`%Y-%m-%d %H:%M:%S%.3f`, `%s`, `%j`, …); an invalid directive is a plan-time error.

use std::fmt::Write;
use std::hash::{Hash, Hasher};

use arrow::datatypes::DataType;
use chrono::format::{Fixed, Item, Numeric, Pad, Parsed, StrftimeItems};
use chrono::{FixedOffset, NaiveTime, TimeZone};

use crate::period::Period;
use crate::udf::TS;
use crate::value::Val;

/// A compiled `parseDate` pattern; compared and hashed by its Java source text.
#[derive(Debug, Clone)]
pub(crate) struct JavaPattern {
    src: String,
    items: Vec<Item<'static>>,
}

impl PartialEq for JavaPattern {
    fn eq(&self, other: &Self) -> bool {
        self.src == other.src
    }
}
impl Eq for JavaPattern {}
impl Hash for JavaPattern {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.src.hash(state)
    }
}

/// A validated strftime format, compared and hashed by its text.
#[derive(Debug, Clone)]
pub(crate) struct Strftime {
    src: String,
    items: Vec<Item<'static>>,
}

impl PartialEq for Strftime {
    fn eq(&self, other: &Self) -> bool {
        self.src == other.src
    }
}
impl Eq for Strftime {}
impl Hash for Strftime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.src.hash(state)
    }
}

impl JavaPattern {
    /// The Java pattern as written.
    pub(crate) fn source(&self) -> &str {
        &self.src
    }
}

impl Strftime {
    /// The format as written.
    pub(crate) fn source(&self) -> &str {
        &self.src
    }

    /// Validates `fmt`.
    ///
    /// # Errors
    /// A message naming the invalid directive.
    pub(crate) fn new(fmt: &str) -> Result<Strftime, String> {
        let items: Vec<Item<'static>> = StrftimeItems::new(fmt).map(|i| i.to_owned()).collect();
        if items.iter().any(|i| matches!(i, Item::Error)) {
            return Err(format!("`{fmt}` contains an invalid strftime directive"));
        }
        Ok(Strftime {
            src: fmt.to_owned(),
            items,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TimeFn {
    /// Floor to the period, with an optional offset in ms (`stats … by bin(p) offset d`).
    DateFloor {
        period: Period,
        offset_ms: i64,
    },
    DateCeil(Period),
    FromMillis,
    ToMillis,
    ParseDate {
        pattern: JavaPattern,
        tz_offset_s: i32,
    },
    FormatDate {
        format: Strftime,
        tz_offset_s: i32,
    },
}

impl TimeFn {
    pub(crate) fn return_type(&self) -> DataType {
        match self {
            TimeFn::DateFloor { .. } | TimeFn::DateCeil(_) | TimeFn::FromMillis => TS,
            TimeFn::ToMillis | TimeFn::ParseDate { .. } => DataType::Float64,
            TimeFn::FormatDate { .. } => DataType::Utf8,
        }
    }

    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        let ts = || args.first().and_then(Val::as_ts_ms);
        match self {
            TimeFn::DateFloor { period, offset_ms } => ts()
                .and_then(|t| t.checked_sub(*offset_ms))
                .and_then(|t| period.floor_ms(t))
                .and_then(|t| t.checked_add(*offset_ms))
                .map_or(Val::Null, Val::Ts),
            TimeFn::DateCeil(p) => ts().and_then(|t| p.ceil_ms(t)).map_or(Val::Null, Val::Ts),
            TimeFn::FromMillis => ts().map_or(Val::Null, Val::Ts),
            TimeFn::ToMillis => ts().map_or(Val::Null, |t| Val::Num(t as f64)),
            TimeFn::ParseDate {
                pattern,
                tz_offset_s,
            } => args
                .first()
                .and_then(Val::as_str)
                .and_then(|s| parse_date(&pattern.items, &s, *tz_offset_s))
                .map_or(Val::Null, |ms| Val::Num(ms as f64)),
            TimeFn::FormatDate {
                format,
                tz_offset_s,
            } => ts()
                .and_then(|t| format_date(&format.items, t, *tz_offset_s))
                .map_or(Val::Null, |s| Val::Str(s.into())),
        }
    }
}

fn parse_date(items: &[Item<'static>], s: &str, default_offset_s: i32) -> Option<i64> {
    let mut p = Parsed::new();
    chrono::format::parse(&mut p, s, items.iter()).ok()?;
    let date = p.to_naive_date().ok()?;
    let time = match p.to_naive_time() {
        Ok(t) => t,
        Err(_) if p.hour_div_12().is_none() && p.hour_mod_12().is_none() => NaiveTime::MIN,
        Err(_) => return None,
    };
    let offset = p.offset().unwrap_or(default_offset_s);
    let naive = date.and_time(time);
    let utc_ms = naive.and_utc().timestamp_millis();
    utc_ms.checked_sub(i64::from(offset) * 1000)
}

fn format_date(items: &[Item<'static>], ts_ms: i64, offset_s: i32) -> Option<String> {
    let tz = FixedOffset::east_opt(offset_s)?;
    let dt = tz.timestamp_millis_opt(ts_ms).single()?;
    let mut out = String::new();
    write!(out, "{}", dt.format_with_items(items.iter())).ok()?;
    Some(out)
}

/// Parses a fixed-offset time zone (see the module docs) into seconds east of UTC.
///
/// # Errors
/// A message when the text is not a supported zone.
pub(crate) fn parse_tz(tz: &str) -> Result<i32, String> {
    let t = tz.trim();
    let upper = t.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper);
    if rest.is_empty() || rest == "Z" {
        return Ok(0);
    }
    let bad = || {
        format!(
            "time zone `{tz}` is not supported: use UTC or a fixed offset such as +02:00 (named zones are not supported)"
        )
    };
    let (sign, digits) = match rest.as_bytes().first() {
        Some(b'+') => (1, &rest[1..]),
        Some(b'-') => (-1, &rest[1..]),
        _ => return Err(bad()),
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().map_err(|_| bad())?, 0),
        4 => (
            digits[..2].parse::<i32>().map_err(|_| bad())?,
            digits[2..].parse::<i32>().map_err(|_| bad())?,
        ),
        _ => return Err(bad()),
    };
    if h > 18 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// Translates a Java `DateTimeFormatter` pattern (subset, see module docs).
///
/// # Errors
/// A message naming the unsupported letter or the unterminated quote.
pub(crate) fn java_pattern(src: &str) -> Result<JavaPattern, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut items: Vec<Item<'static>> = Vec::new();
    let mut i = 0;
    let num = |n: Numeric| Item::Numeric(n, Pad::Zero);
    let strf = |f: &'static str| StrftimeItems::new(f).collect::<Vec<_>>();
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // quoted literal; '' is a single quote
            if chars.get(i + 1) == Some(&'\'') {
                items.push(Item::OwnedLiteral("'".into()));
                i += 2;
                continue;
            }
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated quote in pattern `{src}`")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        lit.push(*ch);
                        i += 1;
                    }
                }
            }
            items.push(Item::OwnedLiteral(lit.into()));
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c.is_whitespace() {
                items.push(Item::OwnedSpace(c.to_string().into()));
            } else {
                items.push(Item::OwnedLiteral(c.to_string().into()));
            }
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        match (c, n) {
            ('y' | 'u', 2) => items.push(num(Numeric::YearMod100)),
            ('y' | 'u', _) => items.push(num(Numeric::Year)),
            ('M', 1 | 2) => items.push(num(Numeric::Month)),
            ('M', 3) => items.push(Item::Fixed(Fixed::ShortMonthName)),
            ('M', _) => items.push(Item::Fixed(Fixed::LongMonthName)),
            ('d', 1 | 2) => items.push(num(Numeric::Day)),
            ('H', 1 | 2) => items.push(num(Numeric::Hour)),
            ('h', 1 | 2) => items.push(num(Numeric::Hour12)),
            ('m', 1 | 2) => items.push(num(Numeric::Minute)),
            ('s', 1 | 2) => items.push(num(Numeric::Second)),
            ('S', 1..=3) => items.extend(strf("%3f")),
            ('S', 4..=6) => items.extend(strf("%6f")),
            ('S', 7..=9) => items.extend(strf("%9f")),
            ('a', 1) => items.push(Item::Fixed(Fixed::UpperAmPm)),
            ('E', 1..=3) => items.push(Item::Fixed(Fixed::ShortWeekdayName)),
            ('E', 4) => items.push(Item::Fixed(Fixed::LongWeekdayName)),
            ('X', 1..=3) => items.push(Item::Fixed(Fixed::TimezoneOffsetColonZ)),
            ('x', 1..=3) | ('Z', 1..=3 | 5) => items.push(Item::Fixed(Fixed::TimezoneOffsetColon)),
            _ => {
                return Err(format!(
                    "pattern letter `{}` (x{n}) in `{src}` is not supported",
                    c
                ))
            }
        }
    }
    Ok(JavaPattern {
        src: src.to_owned(),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pd(pattern: &str, s: &str, tz: i32) -> Option<i64> {
        parse_date(&java_pattern(pattern).unwrap().items, s, tz)
    }

    #[test]
    fn parse_date_java_patterns() {
        let want = 1_714_566_896_789; // 2024-05-01 12:34:56.789 UTC
        assert_eq!(
            pd("yyyy-MM-dd HH:mm:ss.SSS", "2024-05-01 12:34:56.789", 0),
            Some(want)
        );
        assert_eq!(
            pd(
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                "2024-05-01T12:34:56.789Z",
                0
            ),
            Some(want)
        );
        assert_eq!(
            pd(
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                "2024-05-01T14:34:56.789+02:00",
                0
            ),
            Some(want)
        );
        assert_eq!(
            pd("dd/MMM/yyyy:HH:mm:ss Z", "01/May/2024:12:34:56 +0000", 0),
            Some(want - 789)
        );
        assert_eq!(pd("yyyy-MM-dd", "2024-05-01", 0), Some(1_714_521_600_000));
        assert_eq!(
            pd("yyyy-MM-dd", "2024-05-01", 3600),
            Some(1_714_521_600_000 - 3_600_000)
        );
        assert_eq!(
            pd("MM/dd/yyyy hh:mm a", "05/01/2024 12:34 PM", 0),
            Some(want - 56_789)
        );
        assert_eq!(pd("yyyy-MM-dd", "not a date", 0), None);
        assert_eq!(pd("yyyyMMddHHmmss", "20240501123456", 0), Some(want - 789));
        assert!(java_pattern("yyyy-MM-dd QQQ").is_err());
        assert!(java_pattern("'open").is_err());
    }

    #[test]
    fn format_date_strftime() {
        let f = Strftime::new("%Y-%m-%dT%H:%M:%S%.3fZ").unwrap();
        assert_eq!(
            format_date(&f.items, 1_714_566_896_789, 0).as_deref(),
            Some("2024-05-01T12:34:56.789Z")
        );
        let g = Strftime::new("%H:%M %z").unwrap();
        assert_eq!(
            format_date(&g.items, 1_714_566_896_789, 7200).as_deref(),
            Some("14:34 +0200")
        );
        assert!(Strftime::new("%Q").is_err());
    }

    #[test]
    fn time_zones() {
        assert_eq!(parse_tz("UTC"), Ok(0));
        assert_eq!(parse_tz("+02:00"), Ok(7200));
        assert_eq!(parse_tz("-0530"), Ok(-19800));
        assert_eq!(parse_tz("GMT+1"), Ok(3600));
        assert!(parse_tz("America/New_York").is_err());
    }

    #[test]
    fn floor_ceil_and_millis() {
        let t = Val::Ts(1_714_566_896_789);
        let p = Period::parse("5m").unwrap();
        let floor = TimeFn::DateFloor {
            period: p,
            offset_ms: 0,
        };
        assert_eq!(
            floor.eval(std::slice::from_ref(&t)),
            Val::Ts(1_714_566_600_000)
        );
        assert_eq!(
            TimeFn::DateCeil(p).eval(std::slice::from_ref(&t)),
            Val::Ts(1_714_566_900_000)
        );
        // bin(300s) is bin(60s) (cap)
        let capped = TimeFn::DateFloor {
            period: Period::parse("300s").unwrap(),
            offset_ms: 0,
        };
        assert_eq!(
            capped.eval(std::slice::from_ref(&t)),
            Val::Ts(1_714_566_840_000)
        );
        assert_eq!(
            TimeFn::ToMillis.eval(std::slice::from_ref(&t)),
            Val::Num(1_714_566_896_789.0)
        );
        assert_eq!(
            TimeFn::FromMillis.eval(&[Val::Str("1000".into())]),
            Val::Ts(1000)
        );
        assert_eq!(TimeFn::ToMillis.eval(&[Val::Str("soon".into())]), Val::Null);
        // 1d bins shifted by 1h
        let off = TimeFn::DateFloor {
            period: Period::parse("1d").unwrap(),
            offset_ms: 3_600_000,
        };
        assert_eq!(
            off.eval(&[Val::Ts(1_714_521_600_000 + 60_000)]),
            Val::Ts(1_714_435_200_000 + 3_600_000)
        );
    }
}
