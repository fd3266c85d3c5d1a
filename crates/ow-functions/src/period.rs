//! Time periods (`5m`, `1h`, `1mo`, …) for `bin`, `datefloor`, `dateceil` and the
//! planner's `offset`/`maxspan`/`timeshift` arguments (spec §6.3 \[V\]).
//!
//! Units: `millisecond ms msec`, `second s sec`, `minute m min`, `hour h hr`, `day d`,
//! `week w`, `month mo mon`, `quarter q qtr`, `year y yr`; multi-letter units accept a
//! plural `s`; units are case-insensitive (`BIN(5M)` is five minutes).
//!
//! Caps \[V\]: `ms` ≤ 1000, `s` ≤ 60, `m` ≤ 60, `h` ≤ 24 — a larger count is silently
//! clamped (`bin(300s)` is `bin(60s)`). No caps for `d w mo q y` \[I: none documented\].
//!
//! Alignment \[I, chosen\]: fixed-length periods (ms … weeks) are aligned to the Unix
//! epoch in UTC (so weeks start on Thursday, 1970-01-01); months, quarters and years are
//! calendar-aligned in UTC, counted from January 1970.

use chrono::{Datelike, NaiveDate};

use crate::error::FunctionError;

/// A period unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodUnit {
    /// Milliseconds.
    Millisecond,
    /// Seconds.
    Second,
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days (24 h).
    Day,
    /// Weeks (7 days).
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters (3 months).
    Quarter,
    /// Calendar years.
    Year,
}

impl PeriodUnit {
    fn parse(unit: &str) -> Option<PeriodUnit> {
        let u = unit.to_ascii_lowercase();
        let base = match u.as_str() {
            "ms" | "s" | "m" | "h" | "d" | "w" | "mo" | "q" | "y" => u.as_str(),
            other => other
                .strip_suffix('s')
                .filter(|b| b.len() > 1)
                .unwrap_or(other),
        };
        Some(match base {
            "ms" | "msec" | "millisecond" => PeriodUnit::Millisecond,
            "s" | "sec" | "second" => PeriodUnit::Second,
            "m" | "min" | "minute" => PeriodUnit::Minute,
            "h" | "hr" | "hour" => PeriodUnit::Hour,
            "d" | "day" => PeriodUnit::Day,
            "w" | "week" => PeriodUnit::Week,
            "mo" | "mon" | "month" => PeriodUnit::Month,
            "q" | "qtr" | "quarter" => PeriodUnit::Quarter,
            "y" | "yr" | "year" => PeriodUnit::Year,
            _ => return None,
        })
    }

    /// The per-unit cap on the count (§6.3), if any.
    pub fn cap(self) -> Option<i64> {
        match self {
            PeriodUnit::Millisecond => Some(1000),
            PeriodUnit::Second | PeriodUnit::Minute => Some(60),
            PeriodUnit::Hour => Some(24),
            _ => None,
        }
    }

    /// Length in ms for fixed-length units; `None` for calendar units.
    fn fixed_ms(self) -> Option<i64> {
        Some(match self {
            PeriodUnit::Millisecond => 1,
            PeriodUnit::Second => 1_000,
            PeriodUnit::Minute => 60_000,
            PeriodUnit::Hour => 3_600_000,
            PeriodUnit::Day => 86_400_000,
            PeriodUnit::Week => 604_800_000,
            _ => return None,
        })
    }

    fn months(self) -> Option<i64> {
        match self {
            PeriodUnit::Month => Some(1),
            PeriodUnit::Quarter => Some(3),
            PeriodUnit::Year => Some(12),
            _ => None,
        }
    }
}

/// A period: a positive count of a unit, with the §6.3 cap already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// The count after capping (≥ 1).
    pub count: i64,
    /// The unit.
    pub unit: PeriodUnit,
}

impl Period {
    /// Parses a period literal as written (`5m`, `300s`, `1mo`, `2hrs`).
    ///
    /// # Errors
    /// [`FunctionError::InvalidPeriod`] when the text is not `<positive integer><unit>`.
    pub fn parse(text: &str) -> Result<Period, FunctionError> {
        let bad = |why: &str| FunctionError::InvalidPeriod {
            text: text.to_owned(),
            reason: why.to_owned(),
        };
        let t = text.trim();
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad(
                "expected a positive whole number followed by a unit, e.g. 5m",
            ));
        }
        let count: i64 = t[..digits]
            .parse()
            .map_err(|_| bad("the count is too large"))?;
        if count == 0 {
            return Err(bad("the count must be at least 1"));
        }
        let unit = PeriodUnit::parse(&t[digits..]).ok_or_else(|| {
            bad("unknown unit; use ms, s, m, h, d, w, mo, q or y (or their long forms)")
        })?;
        let count = unit.cap().map_or(count, |c| count.min(c));
        Ok(Period { count, unit })
    }

    /// The length in ms for fixed-length periods (ms … weeks); `None` for months,
    /// quarters and years.
    pub fn fixed_ms(&self) -> Option<i64> {
        self.unit.fixed_ms().and_then(|u| u.checked_mul(self.count))
    }

    /// Start (epoch ms UTC) of the bucket holding `ts_ms`. `None` only for
    /// timestamps outside chrono's range.
    pub fn floor_ms(&self, ts_ms: i64) -> Option<i64> {
        if let Some(len) = self.fixed_ms() {
            return ts_ms.div_euclid(len).checked_mul(len);
        }
        let step = self.unit.months()?.checked_mul(self.count)?;
        let dt = chrono::DateTime::from_timestamp_millis(ts_ms)?;
        let month_index = (i64::from(dt.year()) - 1970) * 12 + i64::from(dt.month0());
        let start = month_index.div_euclid(step) * step;
        month_start_ms(start)
    }

    /// The smallest bucket boundary ≥ `ts_ms` (a boundary maps to itself).
    pub fn ceil_ms(&self, ts_ms: i64) -> Option<i64> {
        let f = self.floor_ms(ts_ms)?;
        if f == ts_ms {
            Some(f)
        } else {
            self.add_to(f, 1)
        }
    }

    /// `ts_ms` moved by `k` periods (calendar periods move to the first of the month,
    /// which is exact for bucket starts).
    pub fn add_to(&self, ts_ms: i64, k: i64) -> Option<i64> {
        if let Some(len) = self.fixed_ms() {
            return ts_ms.checked_add(len.checked_mul(k)?);
        }
        let step = self.unit.months()?.checked_mul(self.count)?;
        let dt = chrono::DateTime::from_timestamp_millis(ts_ms)?;
        let month_index = (i64::from(dt.year()) - 1970) * 12 + i64::from(dt.month0());
        let target = month_index.checked_add(step.checked_mul(k)?)?;
        let base = month_start_ms(month_index)?;
        Some(month_start_ms(target)? + (ts_ms - base))
    }
}

impl std::fmt::Display for Period {
    /// The canonical short form, e.g. `5m`, `1mo` (after capping: `300s` shows `60s`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.unit {
            PeriodUnit::Millisecond => "ms",
            PeriodUnit::Second => "s",
            PeriodUnit::Minute => "m",
            PeriodUnit::Hour => "h",
            PeriodUnit::Day => "d",
            PeriodUnit::Week => "w",
            PeriodUnit::Month => "mo",
            PeriodUnit::Quarter => "q",
            PeriodUnit::Year => "y",
        };
        write!(f, "{}{unit}", self.count)
    }
}

fn month_start_ms(month_index: i64) -> Option<i64> {
    let year = i32::try_from(1970 + month_index.div_euclid(12)).ok()?;
    let month = u32::try_from(month_index.rem_euclid(12)).ok()? + 1;
    let d = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.3f")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn units_and_caps() {
        assert_eq!(
            Period::parse("300s").unwrap(),
            Period::parse("60s").unwrap()
        );
        assert_eq!(Period::parse("300s").unwrap().fixed_ms(), Some(60_000));
        assert_eq!(Period::parse("5m").unwrap().fixed_ms(), Some(300_000));
        assert_eq!(Period::parse("90m").unwrap().fixed_ms(), Some(3_600_000));
        assert_eq!(Period::parse("48h").unwrap().fixed_ms(), Some(86_400_000));
        assert_eq!(Period::parse("5000ms").unwrap().fixed_ms(), Some(1000));
        assert_eq!(Period::parse("2hrs").unwrap().fixed_ms(), Some(7_200_000));
        assert_eq!(Period::parse("10mins").unwrap().fixed_ms(), Some(600_000));
        assert_eq!(Period::parse("1H").unwrap().fixed_ms(), Some(3_600_000));
        assert_eq!(
            Period::parse("3d").unwrap().fixed_ms(),
            Some(3 * 86_400_000)
        );
        assert_eq!(Period::parse("1mo").unwrap().unit, PeriodUnit::Month);
        assert_eq!(Period::parse("1mon").unwrap().unit, PeriodUnit::Month);
        assert_eq!(Period::parse("2qtrs").unwrap().unit, PeriodUnit::Quarter);
        assert_eq!(Period::parse("1yr").unwrap().unit, PeriodUnit::Year);
        for bad in ["", "m", "0m", "5", "5x", "1.5h", "-1h"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn floor_and_ceil() {
        let p = Period::parse("5m").unwrap();
        let t = ms("2024-05-01 12:34:56.789");
        assert_eq!(p.floor_ms(t), Some(ms("2024-05-01 12:30:00.000")));
        assert_eq!(p.ceil_ms(t), Some(ms("2024-05-01 12:35:00.000")));
        let b = ms("2024-05-01 12:35:00.000");
        assert_eq!(p.ceil_ms(b), Some(b));
        let mo = Period::parse("1mo").unwrap();
        assert_eq!(mo.floor_ms(t), Some(ms("2024-05-01 00:00:00.000")));
        assert_eq!(mo.ceil_ms(t), Some(ms("2024-06-01 00:00:00.000")));
        let q = Period::parse("1q").unwrap();
        assert_eq!(q.floor_ms(t), Some(ms("2024-04-01 00:00:00.000")));
        let y = Period::parse("1y").unwrap();
        assert_eq!(y.ceil_ms(t), Some(ms("2025-01-01 00:00:00.000")));
        // before the epoch, floor still rounds down
        let h = Period::parse("1h").unwrap();
        assert_eq!(h.floor_ms(-1), Some(-3_600_000));
        // absurd counts yield no bucket instead of overflowing
        let huge = Period::parse("9223372036854775807mo").unwrap();
        assert_eq!(huge.floor_ms(t), Some(0)); // one bucket from January 1970 on
        assert_eq!(huge.ceil_ms(t), None);
        let huge_days = Period::parse("9223372036854775807d").unwrap();
        assert_eq!(huge_days.floor_ms(t), None);
        assert_eq!(Period::parse("4000y").unwrap().add_to(t, 1_000_000), None);
        // epoch-aligned weeks start on Thursday
        let w = Period::parse("1w").unwrap();
        assert_eq!(w.floor_ms(t), Some(ms("2024-04-25 00:00:00.000")));
    }
}
