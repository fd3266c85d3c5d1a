//! ow-metrics integration tests (one binary).

#![allow(missing_docs, clippy::type_complexity, clippy::too_many_arguments)]

mod actions;
mod alarms;
mod cis;
mod composite;
mod filters;
mod metrics;
mod no_panic;
mod vectors;

use std::sync::Arc;

use ow_metrics::*;

/// 2024-01-02T12:00:00Z in ms.
pub const T0: i64 = 1_704_196_800_000;
pub const MIN: i64 = 60_000;

pub struct Env {
    pub clock: Arc<FakeClock>,
    pub store: Arc<MetricStore>,
    pub alarms: AlarmEngine,
}

pub fn env(now_ms: i64) -> Env {
    let clock = Arc::new(FakeClock::new(now_ms));
    let store = Arc::new(MetricStore::in_memory(
        MetricLimits::default(),
        clock.clone(),
    ));
    let alarms = AlarmEngine::in_memory(store.clone(), clock.clone(), AlarmConfig::default());
    Env {
        clock,
        store,
        alarms,
    }
}

pub fn datum(name: &str, ts: i64, v: f64) -> MetricDatumInput {
    MetricDatumInput {
        metric_name: Some(name.into()),
        timestamp_ms: Some(ts),
        value: Some(v),
        ..Default::default()
    }
}

pub fn put(store: &MetricStore, ns: &str, data: Vec<MetricDatumInput>) {
    store
        .put_metric_data(&PutMetricDataInput {
            namespace: Some(ns.into()),
            metric_data: data,
            entity_metric_data_count: 0,
        })
        .expect("put_metric_data");
}

pub fn simple_alarm(
    name: &str,
    metric: &str,
    period: i64,
    n: i64,
    m: i64,
    threshold: f64,
    op: &str,
    tmd: &str,
) -> PutMetricAlarmInput {
    PutMetricAlarmInput {
        alarm_name: Some(name.into()),
        namespace: Some("Test".into()),
        metric_name: Some(metric.into()),
        statistic: Some("Maximum".into()),
        period: Some(period),
        evaluation_periods: Some(n),
        datapoints_to_alarm: Some(m),
        threshold: Some(threshold),
        comparison_operator: Some(op.into()),
        treat_missing_data: Some(tmd.into()),
        ..Default::default()
    }
}

pub fn state_of(alarms: &AlarmEngine, name: &str) -> MetricAlarm {
    alarms
        .describe_alarms(&DescribeAlarmsInput {
            alarm_names: vec![name.into()],
            ..Default::default()
        })
        .expect("describe")
        .metric_alarms
        .into_iter()
        .next()
        .expect("alarm exists")
}
