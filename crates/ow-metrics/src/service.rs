//! [`Monitoring`]: the metrics service's parts opened together from one data directory, so
//! the server (`openwatch serve`) and offline tools (`openwatch pack install`) agree on
//! the layout.
//!
//! Layout under `<data_dir>/metrics/`: `metrics.log` ([`MetricStore`]),
//! `metric-filters.json` ([`MetricFilterSet`]), `alarms.json` + `alarm-history.jsonl`
//! ([`AlarmEngine`]), `dashboards/<name>.json` ([`DashboardStore`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::alarm::{AlarmConfig, AlarmEngine};
use crate::clock::Clock;
use crate::dashboard::{DashboardLimits, DashboardStore};
use crate::error::Result;
use crate::metric_filter::{MetricFilterLimits, MetricFilterSet};
use crate::store::{MetricLimits, MetricStore};

/// Configuration of every part, AWS defaults.
#[derive(Debug, Clone, Default)]
pub struct MonitoringConfig {
    /// Metric store limits.
    pub metric_limits: MetricLimits,
    /// Metric filter limits.
    pub filter_limits: MetricFilterLimits,
    /// Alarm engine settings (region and account in ARNs, limits).
    pub alarm: AlarmConfig,
    /// Dashboard limits.
    pub dashboard_limits: DashboardLimits,
}

/// The metric store, metric filters, alarms and dashboards of one data directory.
#[derive(Debug, Clone)]
pub struct Monitoring {
    /// Metrics (`PutMetricData`, `GetMetricData`, …).
    pub store: Arc<MetricStore>,
    /// Metric filters of the log groups.
    pub filters: Arc<MetricFilterSet>,
    /// Alarms.
    pub alarms: Arc<AlarmEngine>,
    /// Dashboards.
    pub dashboards: Arc<DashboardStore>,
}

impl Monitoring {
    /// The directory the parts live in: `<data_dir>/metrics`.
    pub fn dir(data_dir: &Path) -> PathBuf {
        data_dir.join("metrics")
    }

    /// Opens (creating as needed) every part under `<data_dir>/metrics`.
    ///
    /// # Errors
    /// `Io` / `Corrupt` from any part.
    pub fn open(data_dir: &Path, config: MonitoringConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        let dir = Self::dir(data_dir);
        let store = Arc::new(MetricStore::open(
            &dir,
            config.metric_limits,
            clock.clone(),
        )?);
        let filters = Arc::new(MetricFilterSet::open(&dir, config.filter_limits)?);
        let alarms = Arc::new(AlarmEngine::open(&dir, store.clone(), clock, config.alarm)?);
        let dashboards = Arc::new(DashboardStore::open(
            &dir.join("dashboards"),
            config.dashboard_limits,
        )?);
        Ok(Monitoring {
            store,
            filters,
            alarms,
            dashboards,
        })
    }

    /// Everything in memory (tests).
    pub fn in_memory(config: MonitoringConfig, clock: Arc<dyn Clock>) -> Self {
        let store = Arc::new(MetricStore::in_memory(config.metric_limits, clock.clone()));
        Monitoring {
            filters: Arc::new(MetricFilterSet::in_memory(config.filter_limits)),
            alarms: Arc::new(AlarmEngine::in_memory(store.clone(), clock, config.alarm)),
            dashboards: Arc::new(DashboardStore::in_memory(config.dashboard_limits)),
            store,
        }
    }

    /// Runs the log group's metric filters over events just stored (`(timestamp_ms,
    /// message)`) and records the data points: what `PutLogEvents` does after the WAL
    /// append (filter-patterns.md §6). Returns the number of data points.
    ///
    /// # Errors
    /// `Io` when the metrics log cannot be appended.
    pub fn ingest(&self, log_group: &str, events: &[(i64, &str)]) -> Result<usize> {
        if !self.filters.has_filters(log_group) {
            return Ok(0);
        }
        let data = self.filters.apply(log_group, events);
        self.store.put_filter_data(&data)?;
        Ok(data.len())
    }
}
