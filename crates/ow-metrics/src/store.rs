//! The metrics store: `PutMetricData`, `GetMetricStatistics`, `ListMetrics`, and the
//! per-period aggregation that `GetMetricData` and the alarm evaluator use.
//!
//! Data lives in memory (one sorted sample list per metric) and in an append-only durable
//! log `metrics.log` in the directory given to [`MetricStore::open`]: one line per accepted
//! `PutMetricData` (or metric-filter batch), `<crc32 of the JSON, 8 hex digits> <JSON>\n`,
//! written and `fsync`ed before the call returns. [`MetricStore::open`] replays the log; a
//! torn last line (no newline: the write never completed, so it was never acknowledged) is
//! cut off; a bad checksum anywhere else is [`MetricsError::Corrupt`].
//!
//! DESIGN.md decision 4 targets a fixed-schema Parquet table in the shared storage; this
//! store is not that yet (no Parquet, no compaction: the log grows until retention-based
//! compaction is written).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::{MetricsError, Result};
use crate::model::{
    check_len, floor_to, validate_unit, BasicStatistic, Dimension, MetricId, Statistic,
};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// AWS limits and retention for metrics (api.md B.2/B.3), as configuration with AWS defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLimits {
    /// Max metrics per `PutMetricData` across `MetricData` (AWS: 1,000).
    pub max_metric_data_per_request: usize,
    /// Max dimensions per metric (AWS: 30).
    pub max_dimensions: usize,
    /// Max distinct values in `Values` (AWS: 150).
    pub max_values_per_datum: usize,
    /// How far in the past a timestamp may be, ms (AWS: two weeks).
    pub max_past_ms: i64,
    /// How far in the future a timestamp may be, ms (AWS: two hours).
    pub max_future_ms: i64,
    /// Largest absolute value accepted (AWS: 2^360).
    pub max_abs_value: f64,
    /// Max datapoints one `GetMetricStatistics` may return (AWS: 1,440).
    pub max_gms_datapoints: i64,
    /// Page size of `ListMetrics` (AWS: 500).
    pub list_metrics_page: usize,
    /// `RecentlyActive=PT3H` window, ms (AWS: 3 h).
    pub recently_active_ms: i64,
    /// Max `MetricDataQueries` (AWS: 500).
    pub max_metric_data_queries: usize,
    /// Default `MaxDatapoints` of `GetMetricData` (AWS: 100,800).
    pub gmd_default_max_datapoints: usize,
    /// High-resolution (< 60 s period) data retention, ms (AWS: 3 h).
    pub high_res_retention_ms: i64,
    /// 60 s data retention, ms (AWS: 15 days).
    pub minute_retention_ms: i64,
    /// 300 s data retention, ms (AWS: 63 days).
    pub five_minute_retention_ms: i64,
    /// 3600 s data retention, ms (AWS: 455 days).
    pub hour_retention_ms: i64,
}

impl Default for MetricLimits {
    fn default() -> Self {
        MetricLimits {
            max_metric_data_per_request: 1000,
            max_dimensions: 30,
            max_values_per_datum: 150,
            max_past_ms: 14 * DAY_MS,
            max_future_ms: 2 * HOUR_MS,
            max_abs_value: 2f64.powi(360),
            max_gms_datapoints: 1440,
            list_metrics_page: 500,
            recently_active_ms: 3 * HOUR_MS,
            max_metric_data_queries: 500,
            gmd_default_max_datapoints: 100_800,
            high_res_retention_ms: 3 * HOUR_MS,
            minute_retention_ms: 15 * DAY_MS,
            five_minute_retention_ms: 63 * DAY_MS,
            hour_retention_ms: 455 * DAY_MS,
        }
    }
}

/// `StatisticValues` of a datum: a pre-aggregated statistic set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatisticSet {
    /// Number of samples (> 0).
    pub sample_count: f64,
    /// Sum of the samples.
    pub sum: f64,
    /// Smallest sample.
    pub minimum: f64,
    /// Largest sample.
    pub maximum: f64,
}

/// One `MetricDatum` of `PutMetricData`, as the request gave it (required fields are
/// `Option` so that validation, not deserialisation, reports them with AWS's error).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricDatumInput {
    /// `MetricName`* (1–255).
    pub metric_name: Option<String>,
    /// `Dimensions` (≤ 30).
    pub dimensions: Vec<Dimension>,
    /// `Timestamp` in epoch ms; default now.
    pub timestamp_ms: Option<i64>,
    /// `Value`.
    pub value: Option<f64>,
    /// `StatisticValues`.
    pub statistic_values: Option<StatisticSet>,
    /// `Values` (≤ 150).
    pub values: Option<Vec<f64>>,
    /// `Counts` (same length as `Values`; default 1 each).
    pub counts: Option<Vec<f64>>,
    /// `Unit` (StandardUnit); default `None`.
    pub unit: Option<String>,
    /// `StorageResolution`: 1 (high resolution) or 60 (default).
    pub storage_resolution: Option<i64>,
}

/// `PutMetricData` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutMetricDataInput {
    /// `Namespace`* (1–255, not starting with `:`, not `AWS/…`).
    pub namespace: Option<String>,
    /// `MetricData` (≤ 1,000).
    pub metric_data: Vec<MetricDatumInput>,
    /// Number of `EntityMetricData` entries the request carried (entities are not stored;
    /// their metrics must be passed in `metric_data` by the API layer).
    pub entity_metric_data_count: usize,
}

/// What one stored sample holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum SampleData {
    /// `(value, count)` pairs (from `Value` or `Values`/`Counts`).
    #[serde(rename = "v")]
    Values(Vec<(f64, f64)>),
    /// A statistic set.
    #[serde(rename = "s")]
    Stats(StatisticSet),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sample {
    #[serde(rename = "t")]
    timestamp_ms: i64,
    #[serde(rename = "u")]
    unit: String,
    #[serde(rename = "h")]
    high_res: bool,
    #[serde(rename = "d")]
    data: SampleData,
}

#[derive(Debug, Default)]
struct Series {
    samples: Vec<Sample>,
    last_received_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct LogRecord {
    #[serde(rename = "r")]
    received_ms: i64,
    #[serde(rename = "m")]
    metrics: Vec<(MetricId, Sample)>,
}

/// Per-period aggregate of the samples of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Number of samples (sum of counts / `SampleCount`s).
    pub sample_count: f64,
    /// Sum of values.
    pub sum: f64,
    /// Minimum.
    pub minimum: f64,
    /// Maximum.
    pub maximum: f64,
    /// Unit of the samples (the first one seen when units are mixed).
    pub unit: String,
    /// Weighted values sorted ascending, or `None` when percentile-family statistics are not
    /// available (a negative value, or a statistic set that is not a repeat of one value,
    /// api.md B.2).
    values: Option<Vec<(f64, f64)>>,
}

impl Aggregate {
    fn empty(unit: &str) -> Self {
        Aggregate {
            sample_count: 0.0,
            sum: 0.0,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            unit: unit.to_string(),
            values: Some(Vec::new()),
        }
    }

    fn add(&mut self, s: &Sample) {
        match &s.data {
            SampleData::Values(vs) => {
                for (v, c) in vs {
                    self.sample_count += c;
                    self.sum += v * c;
                    self.minimum = self.minimum.min(*v);
                    self.maximum = self.maximum.max(*v);
                    if *v < 0.0 {
                        self.values = None;
                    }
                    if let Some(list) = &mut self.values {
                        list.push((*v, *c));
                    }
                }
            }
            SampleData::Stats(st) => {
                self.sample_count += st.sample_count;
                self.sum += st.sum;
                self.minimum = self.minimum.min(st.minimum);
                self.maximum = self.maximum.max(st.maximum);
                // B.2: percentiles only when the set is one repeated value.
                let repeated = st.minimum == st.maximum
                    && (st.sum - st.minimum * st.sample_count).abs()
                        <= 1e-9 * st.sum.abs().max(1.0);
                if !repeated || st.minimum < 0.0 {
                    self.values = None;
                }
                if let Some(list) = &mut self.values {
                    list.push((st.minimum, st.sample_count));
                }
            }
        }
    }

    fn finish(mut self) -> Self {
        if let Some(v) = &mut self.values {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        self
    }

    /// The value of a statistic; `None` for extended statistics that are not available or
    /// have an empty range.
    pub fn statistic(&self, stat: &Statistic) -> Option<f64> {
        match stat {
            Statistic::Basic(b) => Some(self.basic(*b)),
            Statistic::Extended(e, _) => e.compute(self.values.as_deref()?),
        }
    }

    /// The value of a basic statistic.
    pub fn basic(&self, b: BasicStatistic) -> f64 {
        match b {
            BasicStatistic::SampleCount => self.sample_count,
            BasicStatistic::Average => self.sum / self.sample_count,
            BasicStatistic::Sum => self.sum,
            BasicStatistic::Minimum => self.minimum,
            BasicStatistic::Maximum => self.maximum,
        }
    }
}

/// `GetMetricStatistics` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetMetricStatisticsInput {
    /// `Namespace`*.
    pub namespace: Option<String>,
    /// `MetricName`*.
    pub metric_name: Option<String>,
    /// `Dimensions`: must equal the metric's full dimension set.
    pub dimensions: Vec<Dimension>,
    /// `StartTime`* (inclusive), epoch ms.
    pub start_time_ms: Option<i64>,
    /// `EndTime`* (exclusive), epoch ms.
    pub end_time_ms: Option<i64>,
    /// `Period`* in **seconds**.
    pub period_s: Option<i64>,
    /// `Statistics` (1–5 basic statistics).
    pub statistics: Vec<String>,
    /// `ExtendedStatistics` (1–10).
    pub extended_statistics: Vec<String>,
    /// `Unit` filter; omitted = every unit (one datapoint per unit and period).
    pub unit: Option<String>,
}

/// One `GetMetricStatistics` datapoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    /// Start of the period, epoch ms.
    pub timestamp_ms: i64,
    /// `SampleCount`, when requested.
    pub sample_count: Option<f64>,
    /// `Average`, when requested.
    pub average: Option<f64>,
    /// `Sum`, when requested.
    pub sum: Option<f64>,
    /// `Minimum`, when requested.
    pub minimum: Option<f64>,
    /// `Maximum`, when requested.
    pub maximum: Option<f64>,
    /// The samples' unit (`None` when published without one).
    pub unit: String,
    /// Requested extended statistics that could be computed, keyed by their text (`p99`).
    pub extended_statistics: BTreeMap<String, f64>,
}

/// `GetMetricStatistics` output.
#[derive(Debug, Clone, PartialEq)]
pub struct GetMetricStatisticsOutput {
    /// `Label`: the metric name.
    pub label: String,
    /// `Datapoints`, in chronological order (AWS does not promise any order).
    pub datapoints: Vec<Datapoint>,
}

/// `ListMetrics` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListMetricsInput {
    /// `Namespace` (exact).
    pub namespace: Option<String>,
    /// `MetricName` (exact).
    pub metric_name: Option<String>,
    /// `Dimensions` filters (≤ 10): name must be present; value, when given, must equal. A
    /// metric with extra dimensions still matches.
    pub dimensions: Vec<(String, Option<String>)>,
    /// `NextToken` from a previous page.
    pub next_token: Option<String>,
    /// `RecentlyActive`: only `PT3H` is valid.
    pub recently_active: Option<String>,
}

/// `ListMetrics` output.
#[derive(Debug, Clone, PartialEq)]
pub struct ListMetricsOutput {
    /// `Metrics`.
    pub metrics: Vec<MetricId>,
    /// `NextToken`, when there are more.
    pub next_token: Option<String>,
}

/// What a query sees of the store: visibility depends on retention and period (B.2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryScope {
    pub now_ms: i64,
    pub period_s: i64,
}

/// The metrics store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct MetricStore {
    series: RwLock<BTreeMap<MetricId, Series>>,
    log: Mutex<Option<(PathBuf, File)>>,
    limits: MetricLimits,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MetricStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricStore")
            .field("metrics", &self.series.read().len())
            .finish()
    }
}

fn encode_line(json: &str) -> String {
    format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()))
}

impl MetricStore {
    /// An in-memory store with no durable log (tests, `openwatch query` tools).
    pub fn in_memory(limits: MetricLimits, clock: Arc<dyn Clock>) -> Self {
        MetricStore {
            series: RwLock::new(BTreeMap::new()),
            log: Mutex::new(None),
            limits,
            clock,
        }
    }

    /// Opens (creating if needed) the store in `dir`, replaying `dir/metrics.log`.
    ///
    /// # Errors
    /// [`MetricsError::Io`] when the directory or log cannot be read or created;
    /// [`MetricsError::Corrupt`] when a complete line fails its checksum or cannot be decoded.
    pub fn open(dir: &Path, limits: MetricLimits, clock: Arc<dyn Clock>) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MetricsError::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join("metrics.log");
        let store = MetricStore::in_memory(limits, clock);
        let mut good_len: u64 = 0;
        if path.exists() {
            let f = File::open(&path)
                .map_err(|e| MetricsError::io(format!("opening {}", path.display()), e))?;
            let mut reader = BufReader::new(f);
            let mut line = String::new();
            let mut n = 0usize;
            loop {
                line.clear();
                let read = reader
                    .read_line(&mut line)
                    .map_err(|e| MetricsError::io(format!("reading {}", path.display()), e))?;
                if read == 0 {
                    break;
                }
                n += 1;
                if !line.ends_with('\n') {
                    tracing::warn!(path = %path.display(), line = n, "dropping torn last record of metrics log");
                    break;
                }
                let corrupt = |reason: &str| MetricsError::Corrupt {
                    path: path.clone(),
                    line: n,
                    reason: reason.to_string(),
                };
                let body = line.trim_end_matches('\n');
                let (crc, json) = body
                    .split_once(' ')
                    .ok_or_else(|| corrupt("missing checksum"))?;
                let want =
                    u32::from_str_radix(crc, 16).map_err(|_| corrupt("malformed checksum"))?;
                if crc32fast::hash(json.as_bytes()) != want {
                    return Err(corrupt("checksum mismatch"));
                }
                let rec: LogRecord = serde_json::from_str(json)
                    .map_err(|e| corrupt(&format!("undecodable record: {e}")))?;
                store.apply_record(rec);
                good_len += read as u64;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| MetricsError::io(format!("opening {}", path.display()), e))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) > good_len {
            file.set_len(good_len)
                .map_err(|e| MetricsError::io(format!("truncating {}", path.display()), e))?;
        }
        *store.log.lock() = Some((path, file));
        Ok(store)
    }

    /// The limits in force.
    pub fn limits(&self) -> &MetricLimits {
        &self.limits
    }

    /// The store's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn apply_record(&self, rec: LogRecord) {
        let mut series = self.series.write();
        for (id, sample) in rec.metrics {
            let s = series.entry(id).or_default();
            s.last_received_ms = s.last_received_ms.max(rec.received_ms);
            let pos = s
                .samples
                .partition_point(|x| x.timestamp_ms <= sample.timestamp_ms);
            s.samples.insert(pos, sample);
        }
    }

    /// Rewrites the durable log with only the samples still within the longest retention
    /// (455 days by default, B.2) and drops the older ones from memory; returns how many
    /// samples were dropped. The new log is written beside the old one, `fsync`ed and
    /// renamed over it, so a crash leaves one or the other. Call it now and then (daily).
    ///
    /// # Errors
    /// [`MetricsError::Io`] (the old log and the in-memory data are then unchanged).
    pub fn compact(&self) -> Result<usize> {
        let now_ms = self.clock.now_ms();
        let cutoff = now_ms - self.limits.hour_retention_ms;
        let mut log = self.log.lock();
        let mut series = self.series.write();
        let mut dropped = 0;
        let mut lines = String::new();
        for (id, s) in series.iter() {
            let kept: Vec<(MetricId, Sample)> = s
                .samples
                .iter()
                .filter(|x| x.timestamp_ms >= cutoff)
                .map(|x| (id.clone(), x.clone()))
                .collect();
            dropped += s.samples.len() - kept.len();
            if kept.is_empty() {
                continue;
            }
            let rec = LogRecord {
                received_ms: s.last_received_ms,
                metrics: kept,
            };
            let json = serde_json::to_string(&rec)
                .map_err(|e| MetricsError::Internal(format!("encoding metrics: {e}")))?;
            lines.push_str(&encode_line(&json));
        }
        if let Some((path, file)) = log.as_mut() {
            crate::persist::write_atomic(path, lines.as_bytes())?;
            *file = OpenOptions::new()
                .append(true)
                .open(&*path)
                .map_err(|e| MetricsError::io(format!("reopening {}", path.display()), e))?;
        }
        for s in series.values_mut() {
            s.samples.retain(|x| x.timestamp_ms >= cutoff);
        }
        series.retain(|_, s| !s.samples.is_empty());
        Ok(dropped)
    }

    fn persist_and_apply(&self, rec: LogRecord) -> Result<()> {
        if rec.metrics.is_empty() {
            return Ok(());
        }
        {
            let mut log = self.log.lock();
            if let Some((path, file)) = log.as_mut() {
                let json = serde_json::to_string(&rec)
                    .map_err(|e| MetricsError::Internal(format!("encoding metrics: {e}")))?;
                let before = file
                    .metadata()
                    .map_err(|e| MetricsError::io(format!("reading {}", path.display()), e))?
                    .len();
                if let Err(e) = file
                    .write_all(encode_line(&json).as_bytes())
                    .and_then(|_| file.sync_data())
                {
                    // Cut off a partial record so later appends stay readable; the request
                    // fails and nothing of it is visible.
                    if let Err(t) = file.set_len(before) {
                        tracing::error!(path = %path.display(), error = %t, "cannot truncate a failed metrics log append");
                    }
                    return Err(MetricsError::io(
                        format!("appending to {}", path.display()),
                        e,
                    ));
                }
            }
        }
        self.apply_record(rec);
        Ok(())
    }

    /// `PutMetricData` (api.md B.3): validates the whole request (nothing is stored when any
    /// datum is invalid), appends it to the durable log with `fsync`, then makes it visible.
    ///
    /// # Errors
    /// `MissingParameter` (namespace, metric name, a value), `InvalidParameterValue`
    /// (lengths, `AWS/` namespace, NaN/±Inf/out-of-range values, timestamps outside
    /// [now − 2 weeks, now + 2 h], units, storage resolution, `Values`/`Counts` sizes),
    /// `InvalidParameterCombination` (`Value` with `StatisticValues` or `Values`),
    /// [`MetricsError::Io`] when the log write fails (then nothing was stored).
    pub fn put_metric_data(&self, input: &PutMetricDataInput) -> Result<()> {
        let now_ms = self.clock.now_ms();
        let ns = input
            .namespace
            .as_deref()
            .ok_or_else(|| MetricsError::missing("Namespace"))?;
        validate_namespace("Namespace", ns)?;
        if ns.starts_with("AWS/") {
            return Err(MetricsError::invalid_value("Namespace", ns));
        }
        if input.entity_metric_data_count > 2 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection EntityMetricData must not have a size greater than 2.".into(),
            ));
        }
        if input.metric_data.len() > self.limits.max_metric_data_per_request {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The collection MetricData must not have a size greater than {}.",
                self.limits.max_metric_data_per_request
            )));
        }
        let mut metrics = Vec::with_capacity(input.metric_data.len());
        for (i, d) in input.metric_data.iter().enumerate() {
            let p = format!("MetricData.member.{}", i + 1);
            metrics.push(self.validate_datum(&p, ns, d, now_ms)?);
        }
        self.persist_and_apply(LogRecord {
            received_ms: now_ms,
            metrics,
        })
    }

    fn validate_datum(
        &self,
        p: &str,
        ns: &str,
        d: &MetricDatumInput,
        now_ms: i64,
    ) -> Result<(MetricId, Sample)> {
        let name = d
            .metric_name
            .as_deref()
            .ok_or_else(|| MetricsError::missing(&format!("{p}.MetricName")))?;
        check_len(&format!("{p}.MetricName"), name, 1, 255)?;
        let dims = validate_dimensions(&format!("{p}.Dimensions"), &d.dimensions, &self.limits)?;
        let ts = d.timestamp_ms.unwrap_or(now_ms);
        if ts < now_ms - self.limits.max_past_ms || ts > now_ms + self.limits.max_future_ms {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter {p}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future."
            )));
        }
        let unit = match &d.unit {
            Some(u) => {
                validate_unit(&format!("{p}.Unit"), u)?;
                u.clone()
            }
            None => "None".to_string(),
        };
        let high_res = match d.storage_resolution {
            None | Some(60) => false,
            Some(1) => true,
            Some(other) => {
                return Err(MetricsError::invalid_value(
                    &format!("{p}.StorageResolution"),
                    other,
                ))
            }
        };
        let check = |param: String, v: f64| -> Result<f64> {
            if !v.is_finite() || v.abs() > self.limits.max_abs_value {
                // `{:?}` is the shortest round-trip form (`1e200`, not 201 digits).
                Err(MetricsError::invalid_value(&param, format!("{v:?}")))
            } else {
                Ok(v)
            }
        };
        let given = [
            d.value.is_some(),
            d.statistic_values.is_some(),
            d.values.is_some(),
        ];
        if given[0] && given[1] {
            return Err(MetricsError::exclusive(
                &format!("{p}.Value"),
                &format!("{p}.StatisticValues"),
            ));
        }
        if given[0] && given[2] {
            return Err(MetricsError::exclusive(
                &format!("{p}.Value"),
                &format!("{p}.Values"),
            ));
        }
        if given[1] && given[2] {
            return Err(MetricsError::exclusive(
                &format!("{p}.StatisticValues"),
                &format!("{p}.Values"),
            ));
        }
        if d.counts.is_some() && d.values.is_none() {
            return Err(MetricsError::InvalidParameterCombination(format!(
                "The parameter {p}.Counts can only be used together with {p}.Values."
            )));
        }
        let data = if let Some(v) = d.value {
            SampleData::Values(vec![(check(format!("{p}.Value"), v)?, 1.0)])
        } else if let Some(st) = d.statistic_values {
            let sp = format!("{p}.StatisticValues");
            let c = check(format!("{sp}.SampleCount"), st.sample_count)?;
            let s = check(format!("{sp}.Sum"), st.sum)?;
            let mn = check(format!("{sp}.Minimum"), st.minimum)?;
            let mx = check(format!("{sp}.Maximum"), st.maximum)?;
            if c <= 0.0 {
                return Err(MetricsError::invalid_value(&format!("{sp}.SampleCount"), c));
            }
            if mn > mx {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The parameter {sp}.Minimum must be less than or equal to {sp}.Maximum."
                )));
            }
            SampleData::Stats(StatisticSet {
                sample_count: c,
                sum: s,
                minimum: mn,
                maximum: mx,
            })
        } else if let Some(values) = &d.values {
            if values.is_empty() {
                return Err(MetricsError::missing(&format!("{p}.Value")));
            }
            if values.len() > self.limits.max_values_per_datum {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The collection {p}.Values must not have a size greater than {}.",
                    self.limits.max_values_per_datum
                )));
            }
            let counts = match &d.counts {
                Some(c) if c.len() != values.len() => {
                    return Err(MetricsError::InvalidParameterValue(format!(
                        "The parameters {p}.Values and {p}.Counts must be of the same size."
                    )))
                }
                Some(c) => c.clone(),
                None => vec![1.0; values.len()],
            };
            let mut pairs = Vec::with_capacity(values.len());
            for (j, (v, c)) in values.iter().zip(counts).enumerate() {
                let v = check(format!("{p}.Values.member.{}", j + 1), *v)?;
                let c = check(format!("{p}.Counts.member.{}", j + 1), c)?;
                if c < 0.0 {
                    return Err(MetricsError::invalid_value(
                        &format!("{p}.Counts.member.{}", j + 1),
                        c,
                    ));
                }
                if c > 0.0 {
                    pairs.push((v, c));
                }
            }
            SampleData::Values(pairs)
        } else {
            return Err(MetricsError::MissingParameter(format!(
                "One of the parameters {p}.Value, {p}.StatisticValues or {p}.Values must be specified."
            )));
        };
        Ok((
            MetricId::new(ns, name, dims),
            Sample {
                timestamp_ms: ts,
                unit,
                high_res,
                data,
            },
        ))
    }

    /// Stores data points produced by metric filters ([`crate::FilterDatum`]) as one durable
    /// batch. These bypass `PutMetricData`'s request checks (CloudWatch Logs already bounds
    /// event times) but not the durable log.
    ///
    /// # Errors
    /// [`MetricsError::Io`] when the log write fails.
    pub fn put_filter_data(&self, data: &[crate::FilterDatum]) -> Result<()> {
        let metrics = data
            .iter()
            .map(|d| {
                (
                    d.metric.clone(),
                    Sample {
                        timestamp_ms: d.timestamp_ms,
                        unit: d.unit.clone().unwrap_or_else(|| "None".into()),
                        high_res: false,
                        data: SampleData::Values(vec![(d.value, 1.0)]),
                    },
                )
            })
            .collect();
        self.persist_and_apply(LogRecord {
            received_ms: self.clock.now_ms(),
            metrics,
        })
    }

    /// Whether a sample is visible to a query (retention and resolution rules of B.2):
    /// periods < 60 s see only high-resolution samples younger than 3 h \[I: standard
    /// resolution data is not split into sub-minute periods\]; samples older than 3 h need a
    /// period that is a multiple of 60 s, older than 15 days of 300 s, older than 63 days of
    /// 3600 s; nothing older than 455 days is visible.
    fn visible(&self, s: &Sample, scope: QueryScope) -> bool {
        let age = scope.now_ms - s.timestamp_ms;
        let p = scope.period_s;
        let l = &self.limits;
        if p < 60 {
            return s.high_res && age <= l.high_res_retention_ms;
        }
        if age > l.hour_retention_ms {
            return false;
        }
        if age > l.five_minute_retention_ms {
            return p % 3600 == 0;
        }
        if age > l.minute_retention_ms {
            return p % 300 == 0;
        }
        p % 60 == 0
    }

    /// Aggregates one metric into periods of `period_s` seconds aligned on `origin_ms`, over
    /// `[start_ms, end_ms)`. Returns `(period start ms, unit or "" when units are merged)` →
    /// aggregate. `unit`: keep only samples with this unit; `split_units`: one aggregate per
    /// unit (GetMetricStatistics without `Unit`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn aggregate(
        &self,
        id: &MetricId,
        origin_ms: i64,
        period_s: i64,
        start_ms: i64,
        end_ms: i64,
        unit: Option<&str>,
        split_units: bool,
        now_ms: i64,
    ) -> BTreeMap<(i64, String), Aggregate> {
        let period_ms = period_s * 1000;
        let scope = QueryScope { now_ms, period_s };
        let mut out: BTreeMap<(i64, String), Aggregate> = BTreeMap::new();
        let series = self.series.read();
        let Some(s) = series.get(id) else {
            return BTreeMap::new();
        };
        let from = s.samples.partition_point(|x| x.timestamp_ms < start_ms);
        for sample in &s.samples[from..] {
            if sample.timestamp_ms >= end_ms {
                break;
            }
            if unit.is_some_and(|u| u != sample.unit) || !self.visible(sample, scope) {
                continue;
            }
            let bucket = origin_ms + floor_to(sample.timestamp_ms - origin_ms, period_ms);
            let key_unit = if split_units {
                sample.unit.clone()
            } else {
                String::new()
            };
            out.entry((bucket, key_unit))
                .or_insert_with(|| Aggregate::empty(&sample.unit))
                .add(sample);
        }
        // A datum whose Counts were all 0 adds no sample: no datapoint for that period.
        out.into_iter()
            .filter(|(_, v)| v.sample_count > 0.0)
            .map(|(k, v)| (k, v.finish()))
            .collect()
    }

    /// `GetMetricStatistics` (api.md B.3).
    ///
    /// Periods are aligned on the rounded `StartTime` (rounding as B.3: by the start's age,
    /// down to the minute / 5 minutes / hour, or to the 5/10/20/30-second boundary for those
    /// periods). Datapoints come in chronological order.
    ///
    /// # Errors
    /// `MissingParameter` for a required field or when neither statistics list is given;
    /// `InvalidParameterCombination` for both lists, or more than 1,440 datapoints;
    /// `InvalidParameterValue` for a bad period, statistic, unit, or `StartTime ≥ EndTime`.
    pub fn get_metric_statistics(
        &self,
        input: &GetMetricStatisticsInput,
    ) -> Result<GetMetricStatisticsOutput> {
        let now_ms = self.clock.now_ms();
        let ns = input
            .namespace
            .as_deref()
            .ok_or_else(|| MetricsError::missing("Namespace"))?;
        validate_namespace("Namespace", ns)?;
        let name = input
            .metric_name
            .as_deref()
            .ok_or_else(|| MetricsError::missing("MetricName"))?;
        check_len("MetricName", name, 1, 255)?;
        let dims = validate_dimensions("Dimensions", &input.dimensions, &self.limits)?;
        let start = input
            .start_time_ms
            .ok_or_else(|| MetricsError::missing("StartTime"))?;
        let end = input
            .end_time_ms
            .ok_or_else(|| MetricsError::missing("EndTime"))?;
        let period = input
            .period_s
            .ok_or_else(|| MetricsError::missing("Period"))?;
        validate_query_period("Period", period)?;
        validate_time("StartTime", start)?;
        validate_time("EndTime", end)?;
        if start >= end {
            return Err(MetricsError::InvalidParameterValue(
                "The parameter StartTime must be less than the parameter EndTime.".into(),
            ));
        }
        match (
            input.statistics.is_empty(),
            input.extended_statistics.is_empty(),
        ) {
            (false, false) => {
                return Err(MetricsError::exclusive("Statistics", "ExtendedStatistics"))
            }
            (true, true) => {
                return Err(MetricsError::MissingParameter(
                    "Must specify either Statistics or ExtendedStatistics.".into(),
                ))
            }
            _ => {}
        }
        if input.statistics.len() > 5 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection Statistics must not have a size greater than 5.".into(),
            ));
        }
        if input.extended_statistics.len() > 10 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection ExtendedStatistics must not have a size greater than 10.".into(),
            ));
        }
        let mut basics = Vec::new();
        for (i, s) in input.statistics.iter().enumerate() {
            basics.push(BasicStatistic::parse(s).ok_or_else(|| {
                MetricsError::invalid_value(&format!("Statistics.member.{}", i + 1), s)
            })?);
        }
        let mut extended = Vec::new();
        for (i, s) in input.extended_statistics.iter().enumerate() {
            let e = crate::model::ExtendedStatistic::parse(s).ok_or_else(|| {
                MetricsError::invalid_value(&format!("ExtendedStatistics.member.{}", i + 1), s)
            })?;
            extended.push((s.clone(), e));
        }
        if let Some(u) = &input.unit {
            validate_unit("Unit", u)?;
        }
        let start = round_start_time(start, period, now_ms);
        let period_ms = period * 1000;
        let count = (end - start + period_ms - 1) / period_ms;
        if count > self.limits.max_gms_datapoints {
            return Err(MetricsError::InvalidParameterCombination(format!(
                "You have requested up to {count} datapoints, which exceeds the limit of {}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
                self.limits.max_gms_datapoints
            )));
        }
        let id = MetricId::new(ns, name, dims);
        let aggs = self.aggregate(
            &id,
            start,
            period,
            start,
            end,
            input.unit.as_deref(),
            true,
            now_ms,
        );
        let datapoints = aggs
            .into_iter()
            .filter_map(|((ts, _), a)| {
                let want = |b: BasicStatistic| basics.contains(&b).then(|| a.basic(b));
                let extended_statistics: BTreeMap<String, f64> = extended
                    .iter()
                    .filter_map(|(k, e)| Some((k.clone(), e.compute(a.values.as_deref()?)?)))
                    .collect();
                // A period where none of the requested extended statistics is available
                // (api.md B.2: data published as statistic sets) has no datapoint, as in
                // GetMetricData, rather than one with only Timestamp and Unit.
                if basics.is_empty() && extended_statistics.is_empty() {
                    return None;
                }
                Some(Datapoint {
                    timestamp_ms: ts,
                    sample_count: want(BasicStatistic::SampleCount),
                    average: want(BasicStatistic::Average),
                    sum: want(BasicStatistic::Sum),
                    minimum: want(BasicStatistic::Minimum),
                    maximum: want(BasicStatistic::Maximum),
                    extended_statistics,
                    unit: a.unit.clone(),
                })
            })
            .collect();
        Ok(GetMetricStatisticsOutput {
            label: name.to_string(),
            datapoints,
        })
    }

    /// `ListMetrics` (api.md B.3): sorted by namespace, name, dimensions; pages of 500.
    /// New metrics are listed at once (AWS may take 15 minutes).
    ///
    /// # Errors
    /// `InvalidParameterValue` for `RecentlyActive` other than `PT3H` or more than 10
    /// dimension filters; `InvalidNextToken` for a token this store did not issue.
    pub fn list_metrics(&self, input: &ListMetricsInput) -> Result<ListMetricsOutput> {
        let now_ms = self.clock.now_ms();
        let recent = match input.recently_active.as_deref() {
            None => false,
            Some("PT3H") => true,
            Some(other) => return Err(MetricsError::invalid_value("RecentlyActive", other)),
        };
        if input.dimensions.len() > 10 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection Dimensions must not have a size greater than 10.".into(),
            ));
        }
        let after: Option<MetricId> = match &input.next_token {
            None => None,
            Some(t) => Some(decode_token(t).ok_or_else(|| {
                MetricsError::InvalidNextToken("The service cannot parse the NextToken.".into())
            })?),
        };
        let series = self.series.read();
        let iter: Box<dyn Iterator<Item = (&MetricId, &Series)>> =
            match &after {
                Some(a) => Box::new(series.range::<MetricId, _>((
                    std::ops::Bound::Excluded(a),
                    std::ops::Bound::Unbounded,
                ))),
                None => Box::new(series.iter()),
            };
        let mut metrics = Vec::new();
        let mut next_token = None;
        for (id, s) in iter {
            if input.namespace.as_ref().is_some_and(|n| *n != id.namespace)
                || input
                    .metric_name
                    .as_ref()
                    .is_some_and(|n| *n != id.metric_name)
                || (recent && s.last_received_ms < now_ms - self.limits.recently_active_ms)
                || !input.dimensions.iter().all(|(n, v)| {
                    id.dimensions
                        .iter()
                        .any(|d| d.name == *n && v.as_ref().is_none_or(|v| *v == d.value))
                })
            {
                continue;
            }
            if metrics.len() == self.limits.list_metrics_page {
                next_token = metrics.last().map(encode_token);
                break;
            }
            metrics.push(id.clone());
        }
        Ok(ListMetricsOutput {
            metrics,
            next_token,
        })
    }
}

/// ListMetrics' token: the last metric of the page (the hex of its JSON, no prefix), so
/// the next page starts after it (see [`crate::page`]).
fn encode_token(id: &MetricId) -> String {
    crate::page::encode("", id)
}

fn decode_token(t: &str) -> Option<MetricId> {
    crate::page::decode("", t)
}

/// Checks a namespace: 1–255 characters, not starting with `:` (B.3).
pub(crate) fn validate_namespace(param: &str, ns: &str) -> Result<()> {
    check_len(param, ns, 1, 255)?;
    if ns.starts_with(':') || !ns.is_ascii() {
        return Err(MetricsError::invalid_value(param, ns));
    }
    Ok(())
}

/// Checks dimensions (B.3) and returns them sorted.
pub(crate) fn validate_dimensions(
    param: &str,
    dims: &[Dimension],
    limits: &MetricLimits,
) -> Result<Vec<Dimension>> {
    if dims.len() > limits.max_dimensions {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than {}.",
            limits.max_dimensions
        )));
    }
    for (i, d) in dims.iter().enumerate() {
        let p = format!("{param}.member.{}", i + 1);
        check_len(&format!("{p}.Name"), &d.name, 1, 255)?;
        check_len(&format!("{p}.Value"), &d.value, 1, 1024)?;
        if d.name.starts_with(':') || !d.name.is_ascii() {
            return Err(MetricsError::invalid_value(&format!("{p}.Name"), &d.name));
        }
        if !d.value.is_ascii() {
            return Err(MetricsError::invalid_value(&format!("{p}.Value"), &d.value));
        }
    }
    let mut sorted = dims.to_vec();
    sorted.sort();
    for w in sorted.windows(2) {
        if w[0].name == w[1].name {
            return Err(MetricsError::InvalidParameterValue(format!(
                "No Metric may specify the same dimension name twice: {}.",
                w[0].name
            )));
        }
    }
    Ok(sorted)
}

/// Checks a query period in seconds (B.3): 1, 5, 10, 20, 30 or a multiple of 60.
pub(crate) fn validate_query_period(param: &str, period_s: i64) -> Result<()> {
    // `Period` is an Integer in the model: at most 2^31 − 1 seconds.
    if period_s > i64::from(i32::MAX) {
        return Err(MetricsError::invalid_value(param, period_s));
    }
    if period_s >= 60 && period_s % 60 == 0 || [1, 5, 10, 20, 30].contains(&period_s) {
        Ok(())
    } else {
        Err(MetricsError::InvalidParameterValue(format!(
            "The parameter {param} must be 1, 5, 10, 20, 30, or a multiple of 60 (got {period_s})."
        )))
    }
}

/// Latest time accepted in a query, ms: 9999-12-31T23:59:59.999Z (and its negation as the
/// earliest), so that time arithmetic cannot overflow.
pub(crate) const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Checks a query time (ms) is within ±[`MAX_TIME_MS`].
pub(crate) fn validate_time(param: &str, ms: i64) -> Result<()> {
    if (-MAX_TIME_MS..=MAX_TIME_MS).contains(&ms) {
        Ok(())
    } else {
        Err(MetricsError::invalid_value(param, ms))
    }
}

/// Rounds a query's start time as B.3 says: for 5/10/20/30-second periods down to that
/// boundary; otherwise by age — under 15 days to the minute, 15–63 days to 5 minutes, older
/// to the hour. A 1-second period is not rounded.
pub(crate) fn round_start_time(start_ms: i64, period_s: i64, now_ms: i64) -> i64 {
    match period_s {
        1 => floor_to(start_ms, 1000),
        5 | 10 | 20 | 30 => floor_to(start_ms, period_s * 1000),
        _ => {
            let age = now_ms - start_ms;
            if age > 63 * DAY_MS {
                floor_to(start_ms, HOUR_MS)
            } else if age > 15 * DAY_MS {
                floor_to(start_ms, 5 * MINUTE_MS)
            } else {
                floor_to(start_ms, MINUTE_MS)
            }
        }
    }
}
