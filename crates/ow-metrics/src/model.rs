//! The metric data model (api.md B.2): metric identity, units, statistics.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// One dimension of a metric: `{Name, Value}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dimension {
    /// Dimension name (1–255 ASCII, not starting with `:`).
    pub name: String,
    /// Dimension value (1–1024 ASCII).
    pub value: String,
}

impl Dimension {
    /// Builds a dimension.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Dimension {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A metric's identity: namespace, metric name and its dimension set (api.md B.2: each
/// distinct dimension set is a distinct metric). Dimensions are kept sorted by name, so two
/// requests listing the same dimensions in another order name the same metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricId {
    /// Namespace, e.g. `CISBenchmark`.
    pub namespace: String,
    /// Metric name.
    pub metric_name: String,
    /// Dimensions sorted by name (then value); names are unique.
    pub dimensions: Vec<Dimension>,
}

impl MetricId {
    /// Builds an identity, sorting the dimensions.
    pub fn new(
        namespace: impl Into<String>,
        metric_name: impl Into<String>,
        mut dimensions: Vec<Dimension>,
    ) -> Self {
        dimensions.sort();
        MetricId {
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            dimensions,
        }
    }
}

/// CloudWatch's `StandardUnit` enumeration (botocore `cloudwatch` model).
pub const STANDARD_UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks a `StandardUnit` value (case-sensitive, as the model's enum).
///
/// # Errors
/// `InvalidParameterValue` naming `param`.
pub fn validate_unit(param: &str, unit: &str) -> Result<()> {
    if STANDARD_UNITS.contains(&unit) {
        Ok(())
    } else {
        Err(MetricsError::invalid_value(param, unit))
    }
}

/// The five basic statistics (`Statistic` enum of the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BasicStatistic {
    /// Number of samples.
    SampleCount,
    /// Sum / SampleCount.
    Average,
    /// Sum of values.
    Sum,
    /// Smallest value.
    Minimum,
    /// Largest value.
    Maximum,
}

impl BasicStatistic {
    /// Parses the model's spelling (`SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "SampleCount" => BasicStatistic::SampleCount,
            "Average" => BasicStatistic::Average,
            "Sum" => BasicStatistic::Sum,
            "Minimum" => BasicStatistic::Minimum,
            "Maximum" => BasicStatistic::Maximum,
            _ => return None,
        })
    }

    /// The model's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BasicStatistic::SampleCount => "SampleCount",
            BasicStatistic::Average => "Average",
            BasicStatistic::Sum => "Sum",
            BasicStatistic::Minimum => "Minimum",
            BasicStatistic::Maximum => "Maximum",
        }
    }
}

/// One end of a trimmed range: a percentage of the samples or an absolute value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `25%`.
    Percent(f64),
    /// `150` (absolute value).
    Absolute(f64),
}

/// The kind of an extended statistic over a range (api.md B.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// `TM` / `tm`: mean of the values in range.
    TrimmedMean,
    /// `WM` / `wm`: mean with values outside the range clamped to its bounds.
    WinsorizedMean,
    /// `TC` / `tc`: number of values in range.
    TrimmedCount,
    /// `TS` / `ts`: sum of values in range.
    TrimmedSum,
    /// `PR`: percentage of values in range (absolute bounds only).
    PercentileRank,
}

/// An extended statistic (api.md B.2): `pNN(.NN)`, `tmNN`, `TM(a%:b%)`, `TM(a:b)`, `wm`/`WM`,
/// `tc`/`TC`, `ts`/`TS`, `IQM`, `PR(a:b)`.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtendedStatistic {
    /// `pNN`: the percentile, `0 < p ≤ 100` (stored as 0–100).
    Percentile(f64),
    /// A range statistic. `None` bounds are open (`TM(:90%)`).
    Range {
        /// Which statistic.
        kind: RangeKind,
        /// Lower bound (exclusive for absolute bounds).
        lower: Option<Bound>,
        /// Upper bound (inclusive for absolute bounds).
        upper: Option<Bound>,
    },
}

fn parse_pct_number(s: &str) -> Option<f64> {
    // `99`, `99.9`, `99.99`: at most two decimals, AWS's `pNN.NN`.
    if s.is_empty() || s.len() > 6 || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if let Some((_, frac)) = s.split_once('.') {
        if frac.is_empty() || frac.len() > 2 {
            return None;
        }
    }
    s.parse::<f64>().ok()
}

fn parse_bound(s: &str) -> Option<Option<Bound>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    if let Some(p) = s.strip_suffix('%') {
        let v = parse_pct_number(p)?;
        return (0.0..=100.0)
            .contains(&v)
            .then_some(Some(Bound::Percent(v)));
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(Some(Bound::Absolute(v)))
}

impl ExtendedStatistic {
    /// Parses an extended statistic; `None` when the text is not one.
    pub fn parse(s: &str) -> Option<ExtendedStatistic> {
        if s == "IQM" {
            return Some(ExtendedStatistic::Range {
                kind: RangeKind::TrimmedMean,
                lower: Some(Bound::Percent(25.0)),
                upper: Some(Bound::Percent(75.0)),
            });
        }
        if let Some(n) = s.strip_prefix('p') {
            let v = parse_pct_number(n)?;
            return (v > 0.0 && v <= 100.0).then_some(ExtendedStatistic::Percentile(v));
        }
        let short = [
            ("tm", RangeKind::TrimmedMean),
            ("wm", RangeKind::WinsorizedMean),
            ("tc", RangeKind::TrimmedCount),
            ("ts", RangeKind::TrimmedSum),
        ];
        for (prefix, kind) in short {
            if let Some(n) = s.strip_prefix(prefix) {
                // Lower-case short form only with a single number: tm99 = TM(:99%) (B.2).
                let v = parse_pct_number(n)?;
                return (v > 0.0 && v <= 100.0).then_some(ExtendedStatistic::Range {
                    kind,
                    lower: None,
                    upper: Some(Bound::Percent(v)),
                });
            }
        }
        let long = [
            ("TM(", RangeKind::TrimmedMean),
            ("WM(", RangeKind::WinsorizedMean),
            ("TC(", RangeKind::TrimmedCount),
            ("TS(", RangeKind::TrimmedSum),
            ("PR(", RangeKind::PercentileRank),
        ];
        for (prefix, kind) in long {
            if let Some(rest) = s.strip_prefix(prefix) {
                let inner = rest.strip_suffix(')')?;
                let (a, b) = inner.split_once(':')?;
                let lower = parse_bound(a)?;
                let upper = parse_bound(b)?;
                if lower.is_none() && upper.is_none() {
                    return None;
                }
                if kind == RangeKind::PercentileRank
                    && [lower, upper]
                        .iter()
                        .any(|b| matches!(b, Some(Bound::Percent(_))))
                {
                    return None;
                }
                return Some(ExtendedStatistic::Range { kind, lower, upper });
            }
        }
        None
    }

    /// The percentile as a fraction (0–1) for `pNN`, used by the low-sample-count rule.
    pub fn percentile_fraction(&self) -> Option<f64> {
        match self {
            ExtendedStatistic::Percentile(p) => Some(p / 100.0),
            ExtendedStatistic::Range { .. } => None,
        }
    }

    /// Computes the statistic over weighted values `(value, count)` sorted ascending by value.
    /// `None` when there are no values or the range is empty.
    ///
    /// Percentile method \[I: AWS does not publish its estimator\]: **nearest rank** over the
    /// weighted samples — the smallest value `v` such that at least `p%` of the samples are
    /// `≤ v` (rank `ceil(p/100 × n)`, at least 1). Percentage bounds of ranges select samples
    /// by rank the same way: rank `r` (1-based) is in `(a%, b%]` when
    /// `a/100 × n < r ≤ b/100 × n`. Absolute bounds: lower exclusive, upper inclusive (B.2).
    /// `WM` clamps values outside the range to the smallest/largest value inside it.
    pub fn compute(&self, sorted: &[(f64, f64)]) -> Option<f64> {
        let n: f64 = sorted.iter().map(|(_, c)| c).sum();
        if sorted.is_empty() || n <= 0.0 {
            return None;
        }
        match self {
            ExtendedStatistic::Percentile(p) => {
                let rank = (p / 100.0 * n).ceil().max(1.0);
                let mut acc = 0.0;
                for (v, c) in sorted {
                    acc += c;
                    if acc >= rank - 1e-9 {
                        return Some(*v);
                    }
                }
                sorted.last().map(|(v, _)| *v)
            }
            ExtendedStatistic::Range { kind, lower, upper } => {
                // Expand to per-sample ranks lazily: walk the weighted list, splitting counts.
                let lo_rank = match lower {
                    Some(Bound::Percent(a)) => a / 100.0 * n,
                    _ => 0.0,
                };
                let hi_rank = match upper {
                    Some(Bound::Percent(b)) => b / 100.0 * n,
                    _ => n,
                };
                let in_abs = |v: f64| {
                    let lo_ok = match lower {
                        Some(Bound::Absolute(a)) => v > *a,
                        _ => true,
                    };
                    let hi_ok = match upper {
                        Some(Bound::Absolute(b)) => v <= *b,
                        _ => true,
                    };
                    lo_ok && hi_ok
                };
                // (value, weight) pairs inside the range.
                let mut inside: Vec<(f64, f64)> = Vec::new();
                let mut before = 0.0; // samples before this entry (ranks 1..=before)
                for (v, c) in sorted {
                    // ranks before+1 ..= before+c; count those with lo_rank < r <= hi_rank.
                    let first = before + 1.0;
                    let last = before + c;
                    let lo = lo_rank.floor() + 1.0; // smallest rank strictly above lo_rank
                    let hi = (hi_rank + 1e-9).floor();
                    let from = first.max(lo);
                    let to = last.min(hi);
                    let w = if to >= from { to - from + 1.0 } else { 0.0 };
                    if w > 0.0 && in_abs(*v) {
                        inside.push((*v, w));
                    }
                    before = last;
                }
                let cnt: f64 = inside.iter().map(|(_, w)| w).sum();
                match kind {
                    RangeKind::TrimmedCount => Some(cnt),
                    RangeKind::PercentileRank => Some(cnt / n * 100.0),
                    RangeKind::TrimmedSum => Some(inside.iter().map(|(v, w)| v * w).sum()),
                    RangeKind::TrimmedMean => {
                        (cnt > 0.0).then(|| inside.iter().map(|(v, w)| v * w).sum::<f64>() / cnt)
                    }
                    RangeKind::WinsorizedMean => {
                        let lo_v = inside.first()?.0;
                        let hi_v = inside.last()?.0;
                        let total: f64 = sorted.iter().map(|(v, c)| v.clamp(lo_v, hi_v) * c).sum();
                        Some(total / n)
                    }
                }
            }
        }
    }
}

/// Any statistic a query or alarm may name.
#[derive(Debug, Clone, PartialEq)]
pub enum Statistic {
    /// One of the five basic statistics.
    Basic(BasicStatistic),
    /// An extended statistic; the text is kept as given for echoing back.
    Extended(ExtendedStatistic, String),
}

impl Statistic {
    /// Parses `Sum`, `p99`, `TM(10%:90%)` …
    ///
    /// # Errors
    /// `InvalidParameterValue` naming `param`.
    pub fn parse(param: &str, s: &str) -> Result<Statistic> {
        if let Some(b) = BasicStatistic::parse(s) {
            return Ok(Statistic::Basic(b));
        }
        ExtendedStatistic::parse(s)
            .map(|e| Statistic::Extended(e, s.to_string()))
            .ok_or_else(|| MetricsError::invalid_value(param, s))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        match self {
            Statistic::Basic(b) => b.as_str(),
            Statistic::Extended(_, s) => s,
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Formats a double as Java's `Double.toString` does for the magnitudes alarms show
/// (`80.0`, `84.6`, `1.0E7`): AWS's state reasons are produced by Java code \[I\].
pub fn java_double(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:E}"); // e.g. 1E7, 1.5E-5
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    }
}

/// Formats epoch ms as AWS's alarm JSON timestamp: `2024-01-02T12:05:31.853+0000`.
pub fn format_alarm_time(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        None => ms.to_string(),
    }
}

/// Formats epoch ms as ISO 8601 with milliseconds and `Z` (SNS `Timestamp`).
pub fn format_iso_z(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Formats epoch ms as the state reason's datapoint time `dd/MM/yy HH:mm:ss` (api.md B.4:
/// `84.6 (01/02/24 12:00:00)` for 2024-01-02 12:00).
pub fn format_reason_time(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%d/%m/%y %H:%M:%S").to_string(),
        None => ms.to_string(),
    }
}

/// Floors `ms` to a multiple of `step_ms` (works for negative times too).
pub(crate) fn floor_to(ms: i64, step_ms: i64) -> i64 {
    if step_ms <= 0 {
        return ms;
    }
    ms.div_euclid(step_ms) * step_ms
}

/// Checks an ASCII text parameter's length and alphabet.
pub(crate) fn check_len(param: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The parameter {param} must be between {min} and {max} characters long."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(v: &[f64]) -> Vec<(f64, f64)> {
        v.iter().map(|x| (*x, 1.0)).collect()
    }

    #[test]
    fn percentiles_nearest_rank() {
        let v = vals(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        let p = |s| ExtendedStatistic::parse(s).unwrap().compute(&v).unwrap();
        assert_eq!(p("p50"), 5.0);
        assert_eq!(p("p90"), 9.0);
        assert_eq!(p("p91"), 10.0);
        assert_eq!(p("p100"), 10.0);
        assert_eq!(p("p0.1"), 1.0);
        // TM(10%:90%) keeps ranks 2..=9 -> mean 5.5
        assert_eq!(p("TM(10%:90%)"), 5.5);
        assert_eq!(p("IQM"), (3.0 + 4.0 + 5.0 + 6.0 + 7.0) / 5.0 - 0.0);
        assert_eq!(p("tc90"), 9.0);
        assert_eq!(p("ts90"), 45.0);
        // absolute bounds: lower exclusive, upper inclusive
        assert_eq!(p("TC(2:5)"), 3.0);
        assert_eq!(p("PR(:5)"), 50.0);
        // WM(10%:90%): 1 -> 2 and 10 -> 9
        assert_eq!(
            p("WM(10%:90%)"),
            (2.0 + 2.0 + 3.0 + 4.0 + 5.0 + 6.0 + 7.0 + 8.0 + 9.0 + 9.0) / 10.0
        );
    }

    #[test]
    fn weighted_values() {
        let v = vec![(1.0, 3.0), (10.0, 1.0)];
        assert_eq!(
            ExtendedStatistic::parse("p75").unwrap().compute(&v),
            Some(1.0)
        );
        assert_eq!(
            ExtendedStatistic::parse("p76").unwrap().compute(&v),
            Some(10.0)
        );
    }

    #[test]
    fn parse_rejects() {
        for s in [
            "p",
            "p101",
            "p0",
            "pp",
            "TM()",
            "TM(:)",
            "PR(10%:20%)",
            "tm(1)",
            "p9.999",
        ] {
            assert!(ExtendedStatistic::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(80.0), "80.0");
        assert_eq!(java_double(84.6), "84.6");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(-2.5), "-2.5");
        assert_eq!(format_reason_time(1_704_196_800_000), "02/01/24 12:00:00");
    }
}
