//! Metric alarms and composite alarms: definitions, validation, the evaluator (api.md B.4),
//! state reasons, history, and the action requests that state transitions produce.
//!
//! The [`AlarmEngine`] is driven by its caller: call [`AlarmEngine::evaluate_due`] on a
//! schedule (every 10 s is enough: each alarm is evaluated once per minute, or once per 10 s
//! for 10/20/30-second periods, on the clock's minute/10-second boundaries), then hand
//! [`AlarmEngine::take_pending_actions`] to an [`crate::ActionDispatcher`] and record the
//! outcomes with [`AlarmEngine::record_action_outcome`] (or use
//! [`AlarmEngine::run_actions`], which does both).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actions::{ActionOutcome, ActionRequest};
use crate::clock::Clock;
use crate::error::{MetricsError, Result};
use crate::model::{
    check_len, floor_to, format_alarm_time, format_reason_time, java_double, validate_unit,
    Dimension, MetricId, Statistic,
};
use crate::query::{self, MetricDataQuery, Prepared};
use crate::rule::Rule;
use crate::store::{validate_dimensions, validate_namespace, MetricStore};

/// An alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlarmState {
    /// `OK`.
    #[serde(rename = "OK")]
    Ok,
    /// `ALARM`.
    #[serde(rename = "ALARM")]
    Alarm,
    /// `INSUFFICIENT_DATA`.
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    /// Parses `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "OK" => AlarmState::Ok,
            "ALARM" => AlarmState::Alarm,
            "INSUFFICIENT_DATA" => AlarmState::InsufficientData,
            _ => return None,
        })
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// Static-threshold comparison operators (the statistic is the left operand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterThanOrEqualToThreshold,
    /// `GreaterThanThreshold`.
    GreaterThanThreshold,
    /// `LessThanThreshold`.
    LessThanThreshold,
    /// `LessThanOrEqualToThreshold`.
    LessThanOrEqualToThreshold,
}

impl ComparisonOperator {
    /// Parses a static operator.
    ///
    /// # Errors
    /// `InvalidParameterValue`; the three anomaly-band operators get a message saying that
    /// anomaly detection is not supported.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "GreaterThanOrEqualToThreshold" => ComparisonOperator::GreaterThanOrEqualToThreshold,
            "GreaterThanThreshold" => ComparisonOperator::GreaterThanThreshold,
            "LessThanThreshold" => ComparisonOperator::LessThanThreshold,
            "LessThanOrEqualToThreshold" => ComparisonOperator::LessThanOrEqualToThreshold,
            "LessThanLowerOrGreaterThanUpperThreshold" | "LessThanLowerThreshold" | "GreaterThanUpperThreshold" => {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The ComparisonOperator {s} needs an anomaly detection band; anomaly detection alarms are not supported by OpenWatch."
                )))
            }
            other => return Err(MetricsError::invalid_value("ComparisonOperator", other)),
        })
    }

    fn holds(self, v: f64, t: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => v >= t,
            ComparisonOperator::GreaterThanThreshold => v > t,
            ComparisonOperator::LessThanThreshold => v < t,
            ComparisonOperator::LessThanOrEqualToThreshold => v <= t,
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "greater than or equal to",
            ComparisonOperator::GreaterThanThreshold => "greater than",
            ComparisonOperator::LessThanThreshold => "less than",
            ComparisonOperator::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatMissingData {
    /// `breaching`.
    Breaching,
    /// `notBreaching`.
    NotBreaching,
    /// `ignore`.
    Ignore,
    /// `missing` (default).
    Missing,
}

impl TreatMissingData {
    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "breaching" => TreatMissingData::Breaching,
            "notBreaching" => TreatMissingData::NotBreaching,
            "ignore" => TreatMissingData::Ignore,
            "missing" => TreatMissingData::Missing,
            _ => return None,
        })
    }
}

/// A tag `{Key, Value}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// `Key` (1–128).
    pub key: String,
    /// `Value` (0–256).
    pub value: String,
}

/// `PutMetricAlarm` input; also the stored configuration that `DescribeAlarms` echoes
/// (with defaults filled in: `actions_enabled`, `treat_missing_data`, `datapoints_to_alarm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PutMetricAlarmInput {
    /// `AlarmName`* (1–255, no control characters).
    pub alarm_name: Option<String>,
    /// `AlarmDescription` (≤ 1024).
    pub alarm_description: Option<String>,
    /// `ActionsEnabled` (default true).
    pub actions_enabled: Option<bool>,
    /// `OKActions` (≤ 5 ARNs).
    pub ok_actions: Vec<String>,
    /// `AlarmActions` (≤ 5 ARNs).
    pub alarm_actions: Vec<String>,
    /// `InsufficientDataActions` (≤ 5 ARNs).
    pub insufficient_data_actions: Vec<String>,
    /// `MetricName` (single-metric alarms).
    pub metric_name: Option<String>,
    /// `Namespace`.
    pub namespace: Option<String>,
    /// `Statistic`.
    pub statistic: Option<String>,
    /// `ExtendedStatistic`.
    pub extended_statistic: Option<String>,
    /// `Dimensions` (≤ 30).
    pub dimensions: Vec<Dimension>,
    /// `Period` in seconds: 10, 20, 30 or a multiple of 60.
    pub period: Option<i64>,
    /// `Unit`.
    pub unit: Option<String>,
    /// `EvaluationPeriods`* (N ≥ 1).
    pub evaluation_periods: Option<i64>,
    /// `DatapointsToAlarm` (M, 1..=N, default N).
    pub datapoints_to_alarm: Option<i64>,
    /// `Threshold`.
    pub threshold: Option<f64>,
    /// `ComparisonOperator`*.
    pub comparison_operator: Option<String>,
    /// `TreatMissingData` (default `missing`).
    pub treat_missing_data: Option<String>,
    /// `EvaluateLowSampleCountPercentile` (`evaluate` default, or `ignore`).
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// `Metrics` (metric-math alarms).
    pub metrics: Vec<MetricDataQuery>,
    /// `ThresholdMetricId` (anomaly detection: rejected).
    pub threshold_metric_id: Option<String>,
    /// `Tags` (≤ 50).
    pub tags: Vec<Tag>,
    /// Whether the request carried `EvaluationCriteria` (PromQL alarms: rejected).
    pub has_evaluation_criteria: bool,
}

/// A metric alarm as `DescribeAlarms` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarm {
    /// The validated configuration, defaults filled in.
    pub config: PutMetricAlarmInput,
    /// `AlarmArn`: `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`.
    pub alarm_arn: String,
    /// `AlarmConfigurationUpdatedTimestamp`, epoch ms.
    pub alarm_configuration_updated_ms: i64,
    /// `StateValue`.
    pub state_value: AlarmState,
    /// `StateReason`.
    pub state_reason: String,
    /// `StateReasonData` (JSON text).
    pub state_reason_data: Option<String>,
    /// `StateUpdatedTimestamp`, epoch ms.
    pub state_updated_ms: i64,
    /// `StateTransitionedTimestamp`, epoch ms.
    pub state_transitioned_ms: i64,
}

impl MetricAlarm {
    /// The alarm name.
    pub fn name(&self) -> &str {
        self.config.alarm_name.as_deref().unwrap_or("")
    }
}

/// `PutCompositeAlarm` input; also the stored configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PutCompositeAlarmInput {
    /// `AlarmName`*.
    pub alarm_name: Option<String>,
    /// `AlarmRule`* (1–10,240).
    pub alarm_rule: Option<String>,
    /// `AlarmDescription`.
    pub alarm_description: Option<String>,
    /// `ActionsEnabled` (default true).
    pub actions_enabled: Option<bool>,
    /// `AlarmActions`.
    pub alarm_actions: Vec<String>,
    /// `OKActions`.
    pub ok_actions: Vec<String>,
    /// `InsufficientDataActions`.
    pub insufficient_data_actions: Vec<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `ActionsSuppressor` (rejected: not supported).
    pub actions_suppressor: Option<String>,
    /// `ActionsSuppressorWaitPeriod` (s).
    pub actions_suppressor_wait_period: Option<i64>,
    /// `ActionsSuppressorExtensionPeriod` (s).
    pub actions_suppressor_extension_period: Option<i64>,
}

/// A composite alarm as `DescribeAlarms` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeAlarm {
    /// The validated configuration.
    pub config: PutCompositeAlarmInput,
    /// `AlarmArn`.
    pub alarm_arn: String,
    /// `AlarmConfigurationUpdatedTimestamp`, epoch ms.
    pub alarm_configuration_updated_ms: i64,
    /// `StateValue`.
    pub state_value: AlarmState,
    /// `StateReason`.
    pub state_reason: String,
    /// `StateReasonData`.
    pub state_reason_data: Option<String>,
    /// `StateUpdatedTimestamp`, epoch ms.
    pub state_updated_ms: i64,
    /// `StateTransitionedTimestamp`, epoch ms.
    pub state_transitioned_ms: i64,
}

impl CompositeAlarm {
    /// The alarm name.
    pub fn name(&self) -> &str {
        self.config.alarm_name.as_deref().unwrap_or("")
    }
}

/// The state fields and actions that metric and composite alarms share, so that one
/// state-transition routine (`apply_state`) serves both.
trait AlarmRecord {
    /// `StateValue`, `StateReason`, `StateReasonData`, `StateUpdatedTimestamp` and
    /// `StateTransitionedTimestamp` (epoch ms).
    fn state_fields(
        &mut self,
    ) -> (
        &mut AlarmState,
        &mut String,
        &mut Option<String>,
        &mut i64,
        &mut i64,
    );
    /// The actions configured for entering `state`.
    fn actions_for(&self, state: AlarmState) -> &[String];
    /// `ActionsEnabled` (default true).
    fn actions_enabled(&self) -> bool;
}

macro_rules! impl_alarm_record {
    ($t:ty) => {
        impl AlarmRecord for $t {
            fn state_fields(
                &mut self,
            ) -> (
                &mut AlarmState,
                &mut String,
                &mut Option<String>,
                &mut i64,
                &mut i64,
            ) {
                (
                    &mut self.state_value,
                    &mut self.state_reason,
                    &mut self.state_reason_data,
                    &mut self.state_updated_ms,
                    &mut self.state_transitioned_ms,
                )
            }
            fn actions_for(&self, state: AlarmState) -> &[String] {
                match state {
                    AlarmState::Ok => &self.config.ok_actions,
                    AlarmState::Alarm => &self.config.alarm_actions,
                    AlarmState::InsufficientData => &self.config.insufficient_data_actions,
                }
            }
            fn actions_enabled(&self) -> bool {
                self.config.actions_enabled != Some(false)
            }
        }
    };
}
impl_alarm_record!(MetricAlarm);
impl_alarm_record!(CompositeAlarm);

/// What a state transition replaced, and the actions it triggers.
struct AppliedState {
    old: AlarmState,
    old_reason: String,
    old_data: Option<String>,
    actions_enabled: bool,
    actions: Vec<String>,
}

/// Moves `alarm` to `new` at `now` (epoch ms) with its reason; `None` when it is already
/// in that state (no transition, no history, no actions).
fn apply_state<A: AlarmRecord>(
    alarm: &mut A,
    new: AlarmState,
    reason: &str,
    reason_data: &Option<String>,
    now: i64,
) -> Option<AppliedState> {
    let (value, state_reason, state_data, updated_ms, transitioned_ms) = alarm.state_fields();
    if *value == new {
        return None;
    }
    let old = std::mem::replace(value, new);
    let old_reason = std::mem::replace(state_reason, reason.to_string());
    let old_data = std::mem::replace(state_data, reason_data.clone());
    *updated_ms = now;
    *transitioned_ms = now;
    Some(AppliedState {
        old,
        old_reason,
        old_data,
        actions_enabled: alarm.actions_enabled(),
        actions: alarm.actions_for(new).to_vec(),
    })
}

/// One `AlarmHistoryItems` element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmHistoryItem {
    /// `AlarmName`.
    pub alarm_name: String,
    /// `AlarmType`: `MetricAlarm` or `CompositeAlarm`.
    pub alarm_type: String,
    /// `Timestamp`, epoch ms.
    pub timestamp_ms: i64,
    /// `HistoryItemType`: `ConfigurationUpdate`, `StateUpdate` or `Action`.
    pub history_item_type: String,
    /// `HistorySummary`.
    pub history_summary: String,
    /// `HistoryData` (JSON text).
    pub history_data: String,
}

/// A state transition made by an evaluation or `SetAlarmState`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// Alarm name.
    pub alarm_name: String,
    /// Previous state.
    pub old_state: AlarmState,
    /// New state.
    pub new_state: AlarmState,
    /// The new `StateReason`.
    pub reason: String,
    /// When, epoch ms.
    pub timestamp_ms: i64,
}

/// `DescribeAlarms` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribeAlarmsInput {
    /// `AlarmNames` (≤ 100).
    pub alarm_names: Vec<String>,
    /// `AlarmNamePrefix`.
    pub alarm_name_prefix: Option<String>,
    /// `AlarmTypes`: `MetricAlarm`, `CompositeAlarm` (omitted = `MetricAlarm` only).
    pub alarm_types: Vec<String>,
    /// `ChildrenOfAlarmName`.
    pub children_of_alarm_name: Option<String>,
    /// `ParentsOfAlarmName`.
    pub parents_of_alarm_name: Option<String>,
    /// `StateValue`.
    pub state_value: Option<String>,
    /// `ActionPrefix`.
    pub action_prefix: Option<String>,
    /// `MaxRecords` (1–100, default 50).
    pub max_records: Option<usize>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `DescribeAlarms` output.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeAlarmsOutput {
    /// `MetricAlarms`.
    pub metric_alarms: Vec<MetricAlarm>,
    /// `CompositeAlarms`.
    pub composite_alarms: Vec<CompositeAlarm>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `DescribeAlarmsForMetric` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribeAlarmsForMetricInput {
    /// `MetricName`*.
    pub metric_name: Option<String>,
    /// `Namespace`*.
    pub namespace: Option<String>,
    /// `Statistic`.
    pub statistic: Option<String>,
    /// `ExtendedStatistic`.
    pub extended_statistic: Option<String>,
    /// `Dimensions` (when given, must equal the alarm's set).
    pub dimensions: Vec<Dimension>,
    /// `Period` (s).
    pub period: Option<i64>,
    /// `Unit`.
    pub unit: Option<String>,
}

/// `DescribeAlarmHistory` input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribeAlarmHistoryInput {
    /// `AlarmName`.
    pub alarm_name: Option<String>,
    /// `AlarmTypes` (omitted = `MetricAlarm` only).
    pub alarm_types: Vec<String>,
    /// `HistoryItemType`.
    pub history_item_type: Option<String>,
    /// `StartDate`, epoch ms (inclusive).
    pub start_date_ms: Option<i64>,
    /// `EndDate`, epoch ms (inclusive).
    pub end_date_ms: Option<i64>,
    /// `MaxRecords` (1–100, default 100).
    pub max_records: Option<usize>,
    /// `NextToken`.
    pub next_token: Option<String>,
    /// `ScanBy`: `TimestampDescending` (default) or `TimestampAscending`.
    pub scan_by: Option<String>,
}

/// Engine configuration (region/account for ARNs and notifications, AWS limits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmConfig {
    /// Region code used in ARNs (`us-east-1`).
    pub region: String,
    /// Account id used in ARNs and notifications.
    pub account_id: String,
    /// Evaluation range R = N + this (B.4 recommends 2 \[I\]).
    pub evaluation_range_extra_periods: i64,
    /// History retention, ms (AWS: two weeks \[D\]).
    pub history_retention_ms: i64,
    /// ARNs per action list (AWS: 5).
    pub max_actions_per_state: usize,
    /// Tags per alarm (AWS: 50).
    pub max_tags: usize,
    /// Children per composite (AWS: 100).
    pub max_composite_children: usize,
    /// Rule elements per composite (AWS: 500).
    pub max_rule_elements: usize,
    /// Metrics in a metric-math alarm (AWS: 10).
    pub max_alarm_metrics: usize,
}

impl Default for AlarmConfig {
    fn default() -> Self {
        AlarmConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            evaluation_range_extra_periods: 2,
            history_retention_ms: 14 * 86_400_000,
            max_actions_per_state: 5,
            max_tags: 50,
            max_composite_children: 100,
            max_rule_elements: 500,
            max_alarm_metrics: 10,
        }
    }
}

/// The outcome of evaluating a set of data points (api.md B.4). Pure, for tests and tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go to (or stay in) this state.
    State(AlarmState),
    /// Keep the current state.
    Keep,
}

/// How a verdict was reached (drives the state reason).
#[derive(Debug, Clone, PartialEq)]
struct Detail {
    verdict: Verdict,
    /// Evaluated points: `(slot index, value, breaching)`, newest first; fills excluded.
    evaluated: Vec<(usize, f64, bool)>,
    /// Number of points considered (real + fills), i.e. "the last n datapoints".
    considered: usize,
    fills: usize,
}

/// The B.4 algorithm over the slots of the evaluation range, oldest first
/// (`None` = missing, `Some(true)` = breaching). `n`/`m` are EvaluationPeriods and
/// DatapointsToAlarm.
///
/// Rules \[V, rules; I, this phrasing\]:
/// 1. With at least N real points, the N most recent real points decide: ≥ M breaching →
///    ALARM, else OK.
/// 2. Otherwise `N − real` fills are added: `breaching`/`notBreaching` count them so;
///    `missing` → INSUFFICIENT_DATA without any real point, else the real points decide;
///    `ignore` → keep the state without any real point, else the real points decide.
/// 3. Premature-alarm rule (for `missing` and `ignore`, which keeps the state instead): ALARM
///    although fewer than M real points breach when the oldest breaching point within the
///    last N periods is at least M periods old, every more recent point is breaching or
///    missing, **and no real point in the evaluation range is non-breaching** \[I: this last
///    condition is what makes B.4's `0 - X - -` (N=3, M=2) row OK while `- - - X -` is
///    ALARM\].
pub fn evaluate_slots(
    slots: &[Option<bool>],
    n: usize,
    m: usize,
    tmd: TreatMissingData,
) -> Verdict {
    evaluate_detail(
        &slots
            .iter()
            .map(|s| s.map(|b| (0.0, b)))
            .collect::<Vec<_>>(),
        n,
        m,
        tmd,
    )
    .verdict
}

fn evaluate_detail(
    slots: &[Option<(f64, bool)>],
    n: usize,
    m: usize,
    tmd: TreatMissingData,
) -> Detail {
    let r = slots.len();
    // newest first
    let real: Vec<(usize, f64, bool)> = slots
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, s)| s.map(|(v, b)| (i, v, b)))
        .collect();
    let decide = |breaching: usize| {
        if breaching >= m {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    };
    if real.len() >= n {
        let ev: Vec<_> = real[..n].to_vec();
        let b = ev.iter().filter(|p| p.2).count();
        return Detail {
            verdict: Verdict::State(decide(b)),
            evaluated: ev,
            considered: n,
            fills: 0,
        };
    }
    let fills = n - real.len();
    let breaching_real = real.iter().filter(|p| p.2).count();
    let base = Detail {
        verdict: Verdict::Keep,
        evaluated: real.clone(),
        considered: n,
        fills,
    };
    match tmd {
        TreatMissingData::Breaching => Detail {
            verdict: Verdict::State(decide(breaching_real + fills)),
            ..base
        },
        TreatMissingData::NotBreaching => Detail {
            verdict: Verdict::State(decide(breaching_real)),
            ..base
        },
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            if real.is_empty() {
                let verdict = if tmd == TreatMissingData::Missing {
                    Verdict::State(AlarmState::InsufficientData)
                } else {
                    Verdict::Keep
                };
                return Detail { verdict, ..base };
            }
            if breaching_real >= m {
                return Detail {
                    verdict: Verdict::State(AlarmState::Alarm),
                    ..base
                };
            }
            // Premature-alarm rule.
            let window_start = r.saturating_sub(n); // slots [window_start, r) are the last N
            let oldest_breaching_in_window =
                (window_start..r).find(|i| slots[*i].is_some_and(|s| s.1));
            let premature = match oldest_breaching_in_window {
                Some(i) => {
                    let age = r - i; // newest slot has age 1
                    age >= m && real.iter().all(|p| p.2)
                }
                None => false,
            };
            if premature {
                let verdict = if tmd == TreatMissingData::Missing {
                    Verdict::State(AlarmState::Alarm)
                } else {
                    Verdict::Keep
                };
                return Detail { verdict, ..base };
            }
            Detail {
                verdict: Verdict::State(AlarmState::Ok),
                ..base
            }
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[derive(Debug, Default)]
struct Inner {
    metric: BTreeMap<String, MetricAlarm>,
    composite: BTreeMap<String, CompositeAlarm>,
    history: Vec<AlarmHistoryItem>,
    pending: Vec<ActionRequest>,
    /// Evaluation boundary (ms) each metric alarm was last evaluated at.
    last_eval: BTreeMap<String, i64>,
    /// Composite alarms to evaluate at the next tick (created/updated).
    composite_dirty: BTreeSet<String>,
    /// Transitions made since the last `evaluate_due` started.
    changes: Vec<StateChange>,
}

#[derive(Serialize, Deserialize, Default)]
struct Saved {
    metric: Vec<MetricAlarm>,
    composite: Vec<CompositeAlarm>,
}

/// Alarms: definitions, state, history, evaluation. Share behind an `Arc`.
pub struct AlarmEngine {
    store: Arc<MetricStore>,
    clock: Arc<dyn Clock>,
    config: AlarmConfig,
    dir: Option<PathBuf>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for AlarmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlarmEngine")
            .field("config", &self.config)
            .finish()
    }
}

fn check_actions(param: &str, arns: &[String], max: usize, composite: bool) -> Result<()> {
    if arns.len() > max {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than {max}."
        )));
    }
    for (i, a) in arns.iter().enumerate() {
        let parts: Vec<&str> = a.splitn(6, ':').collect();
        let service = parts.get(2).copied().unwrap_or("");
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && if composite {
                ["sns", "lambda", "ssm", "ssm-incidents"].contains(&service)
            } else {
                [
                    "sns",
                    "lambda",
                    "autoscaling",
                    "automate",
                    "swf",
                    "ssm",
                    "ssm-incidents",
                    "aiops",
                ]
                .contains(&service)
            };
        if !ok {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The value {a} for parameter {param}.member.{} is invalid.",
                i + 1
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_tags(tags: &[Tag], max: usize) -> Result<()> {
    if tags.len() > max {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection Tags must not have a size greater than {max}."
        )));
    }
    for (i, t) in tags.iter().enumerate() {
        check_len(&format!("Tags.member.{}.Key", i + 1), &t.key, 1, 128)?;
        check_len(&format!("Tags.member.{}.Value", i + 1), &t.value, 0, 256)?;
    }
    Ok(())
}

fn check_alarm_name(name: &str) -> Result<()> {
    check_len("AlarmName", name, 1, 255)?;
    if name.chars().any(|c| c.is_control()) {
        return Err(MetricsError::invalid_value("AlarmName", name));
    }
    Ok(())
}

/// What a metric alarm evaluates, resolved from its configuration.
struct Plan {
    period_s: i64,
    n: usize,
    m: usize,
    threshold: f64,
    op: ComparisonOperator,
    tmd: TreatMissingData,
    low_sample_ignore: Option<f64>, // percentile fraction when EvaluateLowSampleCountPercentile=ignore
    source: PlanSource,
}

enum PlanSource {
    Single {
        metric: MetricId,
        stat: Statistic,
        unit: Option<String>,
    },
    Math {
        queries: Vec<MetricDataQuery>,
    },
}

impl AlarmEngine {
    /// An engine without persistence.
    pub fn in_memory(store: Arc<MetricStore>, clock: Arc<dyn Clock>, config: AlarmConfig) -> Self {
        AlarmEngine {
            store,
            clock,
            config,
            dir: None,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Opens the engine persisted in `dir` (`alarms.json`, rewritten atomically on every
    /// change, and `alarm-history.jsonl`, appended).
    ///
    /// # Errors
    /// [`MetricsError::Io`], [`MetricsError::Corrupt`].
    pub fn open(
        dir: &Path,
        store: Arc<MetricStore>,
        clock: Arc<dyn Clock>,
        config: AlarmConfig,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MetricsError::io(format!("creating {}", dir.display()), e))?;
        let mut inner = Inner::default();
        let path = dir.join("alarms.json");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| MetricsError::io(format!("reading {}", path.display()), e))?;
            let saved: Saved = serde_json::from_str(&text).map_err(|e| MetricsError::Corrupt {
                path: path.clone(),
                line: 1,
                reason: e.to_string(),
            })?;
            for a in saved.metric {
                inner.metric.insert(a.name().to_string(), a);
            }
            for a in saved.composite {
                inner.composite.insert(a.name().to_string(), a);
            }
        }
        let hpath = dir.join("alarm-history.jsonl");
        if hpath.exists() {
            let f = std::fs::File::open(&hpath)
                .map_err(|e| MetricsError::io(format!("reading {}", hpath.display()), e))?;
            let cutoff = clock.now_ms() - config.history_retention_ms;
            for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
                let line =
                    line.map_err(|e| MetricsError::io(format!("reading {}", hpath.display()), e))?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<AlarmHistoryItem>(&line) {
                    Ok(item) if item.timestamp_ms >= cutoff => inner.history.push(item),
                    Ok(_) => {}
                    Err(e) => {
                        // A torn last line is the only acceptable damage.
                        tracing::warn!(path = %hpath.display(), line = i + 1, %e, "skipping undecodable alarm history line");
                    }
                }
            }
        }
        // Rewrite the history file with what is still retained, so it does not grow forever.
        if hpath.exists() {
            let mut text = String::new();
            for item in &inner.history {
                if let Ok(line) = serde_json::to_string(item) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            crate::persist::write_atomic(&hpath, text.as_bytes())?;
        }
        Ok(AlarmEngine {
            store,
            clock,
            config,
            dir: Some(dir.to_path_buf()),
            inner: Mutex::new(inner),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AlarmConfig {
        &self.config
    }

    /// The metric store the alarms read.
    pub fn store(&self) -> &Arc<MetricStore> {
        &self.store
    }

    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:cloudwatch:{}:{}:alarm:{name}",
            self.config.region, self.config.account_id
        )
    }

    fn save(&self, inner: &Inner) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let saved = Saved {
            metric: inner.metric.values().cloned().collect(),
            composite: inner.composite.values().cloned().collect(),
        };
        let bytes = serde_json::to_vec(&saved)
            .map_err(|e| MetricsError::Internal(format!("encoding alarms: {e}")))?;
        crate::persist::write_atomic(&dir.join("alarms.json"), &bytes)
    }

    fn add_history(&self, inner: &mut Inner, item: AlarmHistoryItem) {
        if let Some(dir) = &self.dir {
            let path = dir.join("alarm-history.jsonl");
            let line = serde_json::to_string(&item).unwrap_or_default();
            let res = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| {
                    f.write_all(format!("{line}\n").as_bytes())?;
                    f.sync_data()
                });
            if let Err(e) = res {
                tracing::error!(path = %path.display(), %e, "cannot append alarm history");
            }
        }
        let cutoff = item.timestamp_ms - self.config.history_retention_ms;
        inner.history.retain(|h| h.timestamp_ms >= cutoff);
        inner.history.push(item);
    }

    fn plan(&self, c: &PutMetricAlarmInput) -> Result<Plan> {
        let n = c
            .evaluation_periods
            .ok_or_else(|| MetricsError::missing("EvaluationPeriods"))?;
        if n < 1 {
            return Err(MetricsError::invalid_value("EvaluationPeriods", n));
        }
        let m = c.datapoints_to_alarm.unwrap_or(n);
        if m < 1 || m > n {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter DatapointsToAlarm must be between 1 and EvaluationPeriods ({n}); got {m}."
            )));
        }
        let op = ComparisonOperator::parse(
            c.comparison_operator
                .as_deref()
                .ok_or_else(|| MetricsError::missing("ComparisonOperator"))?,
        )?;
        if c.threshold_metric_id.is_some() {
            return Err(MetricsError::InvalidParameterValue(
                "ThresholdMetricId (anomaly detection alarms) is not supported by OpenWatch."
                    .into(),
            ));
        }
        let threshold = c
            .threshold
            .ok_or_else(|| MetricsError::missing("Threshold"))?;
        if !threshold.is_finite() {
            return Err(MetricsError::invalid_value("Threshold", threshold));
        }
        let mut tmd = match c.treat_missing_data.as_deref() {
            None => TreatMissingData::Missing,
            Some(s) => TreatMissingData::parse(s)
                .ok_or_else(|| MetricsError::invalid_value("TreatMissingData", s))?,
        };
        let low_ignore = match c.evaluate_low_sample_count_percentile.as_deref() {
            None | Some("evaluate") => false,
            Some("ignore") => true,
            Some(s) => {
                return Err(MetricsError::invalid_value(
                    "EvaluateLowSampleCountPercentile",
                    s,
                ))
            }
        };
        let given_single = c.metric_name.is_some();
        let given_math = !c.metrics.is_empty();
        let (period_s, source, low_sample_ignore) =
            match (given_single, given_math, c.has_evaluation_criteria) {
                (true, false, false) => {
                    let ns = c
                        .namespace
                        .as_deref()
                        .ok_or_else(|| MetricsError::missing("Namespace"))?;
                    validate_namespace("Namespace", ns)?;
                    let name = c.metric_name.as_deref().unwrap_or_default();
                    check_len("MetricName", name, 1, 255)?;
                    let dims =
                        validate_dimensions("Dimensions", &c.dimensions, self.store.limits())?;
                    let stat = match (&c.statistic, &c.extended_statistic) {
                    (Some(_), Some(_)) => {
                        return Err(MetricsError::exclusive("Statistic", "ExtendedStatistic"))
                    }
                    (None, None) => return Err(MetricsError::MissingParameter(
                        "One of the parameters Statistic and ExtendedStatistic must be specified."
                            .into(),
                    )),
                    (Some(s), None) => match crate::model::BasicStatistic::parse(s) {
                        Some(b) => Statistic::Basic(b),
                        None => return Err(MetricsError::invalid_value("Statistic", s)),
                    },
                    (None, Some(s)) => Statistic::parse("ExtendedStatistic", s)?,
                };
                    if let Some(u) = &c.unit {
                        validate_unit("Unit", u)?;
                    }
                    let period = c.period.ok_or_else(|| MetricsError::missing("Period"))?;
                    if ns == "AWS/DynamoDB" {
                        // B.3: DynamoDB alarms always behave as `ignore`.
                        tmd = TreatMissingData::Ignore;
                    }
                    let frac = match &stat {
                        Statistic::Extended(e, _) if low_ignore => e.percentile_fraction(),
                        _ => None,
                    };
                    (
                        period,
                        PlanSource::Single {
                            metric: MetricId::new(ns, name, dims),
                            stat,
                            unit: c.unit.clone(),
                        },
                        frac,
                    )
                }
                (false, true, false) => {
                    for (p, present) in [
                        ("Namespace", c.namespace.is_some()),
                        ("Statistic", c.statistic.is_some()),
                        ("ExtendedStatistic", c.extended_statistic.is_some()),
                        ("Dimensions", !c.dimensions.is_empty()),
                        ("Period", c.period.is_some()),
                        ("Unit", c.unit.is_some()),
                    ] {
                        if present {
                            return Err(MetricsError::exclusive("Metrics", p));
                        }
                    }
                    let prepared = query::prepare("Metrics", &c.metrics, &self.store)?;
                    let stats: Vec<i64> = prepared
                        .iter()
                        .filter_map(|p| match p {
                            Prepared::Stat { period_s, .. } => Some(*period_s),
                            Prepared::Expr(_) => None,
                        })
                        .collect();
                    if stats.len() > self.config.max_alarm_metrics {
                        return Err(MetricsError::InvalidParameterValue(format!(
                            "An alarm on a metric math expression can use at most {} metrics.",
                            self.config.max_alarm_metrics
                        )));
                    }
                    if stats.windows(2).any(|w| w[0] != w[1]) {
                        return Err(MetricsError::InvalidParameterValue(
                            "All metrics in a metric math alarm must have the same period.".into(),
                        ));
                    }
                    let returning: Vec<&MetricDataQuery> = c
                        .metrics
                        .iter()
                        .filter(|q| q.return_data != Some(false))
                        .collect();
                    if returning.len() != 1 {
                        return Err(MetricsError::InvalidParameterValue(
                        "Exactly one element of the Metrics list must have ReturnData set to true."
                            .into(),
                    ));
                    }
                    let period = returning[0]
                        .metric_stat
                        .as_ref()
                        .and_then(|s| s.period)
                        .or(returning[0].period)
                        .or(stats.first().copied())
                        .ok_or_else(|| MetricsError::missing("Period"))?;
                    (
                        period,
                        PlanSource::Math {
                            queries: c.metrics.clone(),
                        },
                        None,
                    )
                }
                (false, false, true) => {
                    return Err(MetricsError::InvalidParameterValue(
                        "EvaluationCriteria (PromQL alarms) is not supported by OpenWatch.".into(),
                    ))
                }
                (false, false, false) => return Err(MetricsError::MissingParameter(
                    "Exactly one of MetricName, Metrics and EvaluationCriteria must be specified."
                        .into(),
                )),
                _ => return Err(MetricsError::InvalidParameterCombination(
                    "Exactly one of MetricName, Metrics and EvaluationCriteria must be specified."
                        .into(),
                )),
            };
        if !(period_s >= 60 && period_s % 60 == 0 || [10, 20, 30].contains(&period_s)) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter Period must be 10, 20, 30 or a multiple of 60 (got {period_s})."
            )));
        }
        let span = period_s.saturating_mul(n);
        let max_span = if period_s < 3600 { 86_400 } else { 604_800 };
        if span > max_span {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The evaluation period of the alarm (Period × EvaluationPeriods = {span} s) must not exceed {max_span} s."
            )));
        }
        Ok(Plan {
            period_s,
            n: n as usize,
            m: m as usize,
            threshold,
            op,
            tmd,
            low_sample_ignore,
            source,
        })
    }

    /// `PutMetricAlarm` (api.md B.3): creates or fully replaces an alarm. A new alarm starts
    /// in `INSUFFICIENT_DATA` ("Unchecked: Initial alarm creation"); an update keeps the state.
    /// Records a `ConfigurationUpdate` history item.
    ///
    /// # Errors
    /// `MissingParameter`, `InvalidParameterValue` (incl. anomaly-band operators,
    /// `ThresholdMetricId`, `EvaluationCriteria`: not supported), `InvalidParameterCombination`,
    /// `LimitExceeded`-style collection sizes as `InvalidParameterValue`; I/O errors.
    pub fn put_metric_alarm(&self, input: &PutMetricAlarmInput) -> Result<()> {
        let now = self.clock.now_ms();
        let name = input
            .alarm_name
            .clone()
            .ok_or_else(|| MetricsError::missing("AlarmName"))?;
        check_alarm_name(&name)?;
        if let Some(d) = &input.alarm_description {
            check_len("AlarmDescription", d, 0, 1024)?;
        }
        let max = self.config.max_actions_per_state;
        check_actions("OKActions", &input.ok_actions, max, false)?;
        check_actions("AlarmActions", &input.alarm_actions, max, false)?;
        check_actions(
            "InsufficientDataActions",
            &input.insufficient_data_actions,
            max,
            false,
        )?;
        check_tags(&input.tags, self.config.max_tags)?;
        self.plan(input)?;
        let mut config = input.clone();
        config.actions_enabled = Some(input.actions_enabled.unwrap_or(true));
        config.treat_missing_data = Some(
            input
                .treat_missing_data
                .clone()
                .unwrap_or_else(|| "missing".into()),
        );
        // DatapointsToAlarm stays as given (None = N): AWS echoes it only when set, and its
        // presence selects the "k out of the last n" state-reason wording (see below).
        let mut inner = self.inner.lock();
        if inner.composite.contains_key(&name) {
            return Err(MetricsError::InvalidParameterCombination(format!(
                "An alarm named {name} already exists as a composite alarm."
            )));
        }
        let (alarm, kind) = match inner.metric.get(&name) {
            Some(old) => (
                MetricAlarm {
                    config,
                    alarm_configuration_updated_ms: now,
                    ..old.clone()
                },
                "Update",
            ),
            None => (
                MetricAlarm {
                    config,
                    alarm_arn: self.arn(&name),
                    alarm_configuration_updated_ms: now,
                    state_value: AlarmState::InsufficientData,
                    state_reason: "Unchecked: Initial alarm creation".into(),
                    state_reason_data: None,
                    state_updated_ms: now,
                    state_transitioned_ms: now,
                },
                "Create",
            ),
        };
        let previous = inner.metric.insert(name.clone(), alarm.clone());
        if let Err(e) = self.save(&inner) {
            // Roll back so memory matches disk.
            match previous {
                Some(p) => inner.metric.insert(name.clone(), p),
                None => inner.metric.remove(&name),
            };
            return Err(e);
        }
        inner.last_eval.remove(&name);
        let (summary, key) = if kind == "Create" {
            (format!("Alarm \"{name}\" created"), "createdAlarm")
        } else {
            (format!("Alarm \"{name}\" updated"), "updatedAlarm")
        };
        let data = json!({"version": "1.0", "type": kind, key: alarm_summary_json(&alarm)});
        self.add_history(
            &mut inner,
            AlarmHistoryItem {
                alarm_name: name,
                alarm_type: "MetricAlarm".into(),
                timestamp_ms: now,
                history_item_type: "ConfigurationUpdate".into(),
                history_summary: summary,
                history_data: data.to_string(),
            },
        );
        Ok(())
    }

    /// `PutCompositeAlarm` (api.md B.3). The rule is parsed and every child must exist; the
    /// new alarm is `INSUFFICIENT_DATA` until the next [`evaluate_due`](Self::evaluate_due)
    /// (or a child's state change) evaluates it.
    ///
    /// # Errors
    /// `MissingParameter`; `InvalidParameterValue` for rule syntax (with position), unknown
    /// children, a self-reference, limits, action ARNs other than SNS/Lambda/SSM, and
    /// `ActionsSuppressor` (not supported).
    pub fn put_composite_alarm(&self, input: &PutCompositeAlarmInput) -> Result<()> {
        let now = self.clock.now_ms();
        let name = input
            .alarm_name
            .clone()
            .ok_or_else(|| MetricsError::missing("AlarmName"))?;
        check_alarm_name(&name)?;
        let rule_text = input
            .alarm_rule
            .as_deref()
            .ok_or_else(|| MetricsError::missing("AlarmRule"))?;
        check_len("AlarmRule", rule_text, 1, 10_240)?;
        if let Some(d) = &input.alarm_description {
            check_len("AlarmDescription", d, 0, 1024)?;
        }
        if input.actions_suppressor.is_some() {
            return Err(MetricsError::InvalidParameterValue(
                "ActionsSuppressor is not supported by OpenWatch.".into(),
            ));
        }
        if input.actions_suppressor_wait_period.is_some()
            || input.actions_suppressor_extension_period.is_some()
        {
            return Err(MetricsError::InvalidParameterCombination(
                "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod require ActionsSuppressor.".into(),
            ));
        }
        let max = self.config.max_actions_per_state;
        check_actions("OKActions", &input.ok_actions, max, true)?;
        check_actions("AlarmActions", &input.alarm_actions, max, true)?;
        check_actions(
            "InsufficientDataActions",
            &input.insufficient_data_actions,
            max,
            true,
        )?;
        check_tags(&input.tags, self.config.max_tags)?;
        let (rule, elements) = Rule::parse(rule_text).map_err(|e| {
            MetricsError::InvalidParameterValue(format!("Error in AlarmRule: {e}."))
        })?;
        let children = rule.children();
        if children.len() > self.config.max_composite_children
            || elements > self.config.max_rule_elements
        {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The AlarmRule may reference at most {} alarms and contain at most {} elements.",
                self.config.max_composite_children, self.config.max_rule_elements
            )));
        }
        if children.contains(&name) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The AlarmRule of {name} cannot reference the alarm itself."
            )));
        }
        let mut inner = self.inner.lock();
        for c in &children {
            if !inner.metric.contains_key(c) && !inner.composite.contains_key(c) {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "Error in AlarmRule: the alarm {c} does not exist."
                )));
            }
        }
        if inner.metric.contains_key(&name) {
            return Err(MetricsError::InvalidParameterCombination(format!(
                "An alarm named {name} already exists as a metric alarm."
            )));
        }
        let mut config = input.clone();
        config.actions_enabled = Some(input.actions_enabled.unwrap_or(true));
        let (alarm, kind) = match inner.composite.get(&name) {
            Some(old) => (
                CompositeAlarm {
                    config,
                    alarm_configuration_updated_ms: now,
                    ..old.clone()
                },
                "Update",
            ),
            None => (
                CompositeAlarm {
                    config,
                    alarm_arn: self.arn(&name),
                    alarm_configuration_updated_ms: now,
                    state_value: AlarmState::InsufficientData,
                    state_reason: "Unchecked: Initial alarm creation".into(),
                    state_reason_data: None,
                    state_updated_ms: now,
                    state_transitioned_ms: now,
                },
                "Create",
            ),
        };
        inner.composite.insert(name.clone(), alarm.clone());
        inner.composite_dirty.insert(name.clone());
        self.save(&inner)?;
        let (summary, key) = if kind == "Create" {
            (format!("Alarm \"{name}\" created"), "createdAlarm")
        } else {
            (format!("Alarm \"{name}\" updated"), "updatedAlarm")
        };
        let data = json!({"version": "1.0", "type": kind, key: {"alarmName": name, "alarmRule": rule_text}});
        self.add_history(
            &mut inner,
            AlarmHistoryItem {
                alarm_name: name,
                alarm_type: "CompositeAlarm".into(),
                timestamp_ms: now,
                history_item_type: "ConfigurationUpdate".into(),
                history_summary: summary,
                history_data: data.to_string(),
            },
        );
        Ok(())
    }

    /// `DeleteAlarms`: unknown names are ignored; at most one composite alarm per call; an
    /// alarm that a composite alarm (not deleted in the same call) references cannot be
    /// deleted. History is kept.
    ///
    /// # Errors
    /// `InvalidParameterValue` (more than 100 names, more than one composite),
    /// `ResourceConflict` (referenced by a composite alarm).
    pub fn delete_alarms(&self, names: &[String]) -> Result<()> {
        let now = self.clock.now_ms();
        if names.is_empty() {
            return Err(MetricsError::missing("AlarmNames"));
        }
        if names.len() > 100 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection AlarmNames must not have a size greater than 100.".into(),
            ));
        }
        let mut inner = self.inner.lock();
        let composites = names
            .iter()
            .filter(|n| inner.composite.contains_key(*n))
            .count();
        if composites > 1 {
            return Err(MetricsError::InvalidParameterValue(
                "You can delete at most one composite alarm per DeleteAlarms request.".into(),
            ));
        }
        let deleting: BTreeSet<&String> = names.iter().collect();
        for n in names {
            for (pname, p) in &inner.composite {
                if deleting.contains(pname) {
                    continue;
                }
                let rule = p
                    .config
                    .alarm_rule
                    .as_deref()
                    .and_then(|r| Rule::parse(r).ok());
                if rule.is_some_and(|(r, _)| r.children().contains(n)) {
                    return Err(MetricsError::ResourceConflict(format!(
                        "The alarm {n} is referenced by the composite alarm {pname}; change that alarm's rule first."
                    )));
                }
            }
        }
        let mut deleted = Vec::new();
        for n in names {
            if let Some(a) = inner.metric.remove(n) {
                deleted.push((n.clone(), "MetricAlarm", alarm_summary_json(&a)));
            } else if inner.composite.remove(n).is_some() {
                deleted.push((n.clone(), "CompositeAlarm", json!({"alarmName": n})));
            }
            inner.last_eval.remove(n);
            inner.composite_dirty.remove(n);
        }
        self.save(&inner)?;
        for (n, t, data) in deleted {
            self.add_history(
                &mut inner,
                AlarmHistoryItem {
                    alarm_name: n.clone(),
                    alarm_type: t.into(),
                    timestamp_ms: now,
                    history_item_type: "ConfigurationUpdate".into(),
                    history_summary: format!("Alarm \"{n}\" deleted"),
                    history_data: json!({"version": "1.0", "type": "Delete", "deletedAlarm": data})
                        .to_string(),
                },
            );
        }
        Ok(())
    }

    /// `EnableAlarmActions` / `DisableAlarmActions`: unknown names are ignored.
    ///
    /// # Errors
    /// `InvalidParameterValue` for more than 100 names; I/O errors.
    pub fn set_actions_enabled(&self, names: &[String], enabled: bool) -> Result<()> {
        if names.len() > 100 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection AlarmNames must not have a size greater than 100.".into(),
            ));
        }
        let mut inner = self.inner.lock();
        for n in names {
            if let Some(a) = inner.metric.get_mut(n) {
                a.config.actions_enabled = Some(enabled);
            }
            if let Some(a) = inner.composite.get_mut(n) {
                a.config.actions_enabled = Some(enabled);
            }
        }
        self.save(&inner)
    }

    /// `SetAlarmState`: sets the state until the next evaluation (metric alarms) or the next
    /// child change / update (composite alarms). A change of state records history and fires
    /// the new state's actions.
    ///
    /// # Errors
    /// `ResourceNotFound` for an unknown alarm, `InvalidParameterValue` for the state or
    /// reason length, `InvalidFormat` when `StateReasonData` is not JSON (or > 4000).
    pub fn set_alarm_state(
        &self,
        name: &str,
        state: &str,
        reason: &str,
        reason_data: Option<&str>,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        let st = AlarmState::parse(state)
            .ok_or_else(|| MetricsError::invalid_value("StateValue", state))?;
        check_len("StateReason", reason, 0, 1023)?;
        if let Some(d) = reason_data {
            if d.chars().count() > 4000 || serde_json::from_str::<serde_json::Value>(d).is_err() {
                return Err(MetricsError::InvalidFormat(
                    "The parameter StateReasonData must be valid JSON of at most 4000 characters."
                        .into(),
                ));
            }
        }
        let mut inner = self.inner.lock();
        if !inner.metric.contains_key(name) && !inner.composite.contains_key(name) {
            return Err(MetricsError::ResourceNotFound(format!(
                "Alarm {name} does not exist."
            )));
        }
        let mut changed = Vec::new();
        self.transition(
            &mut inner,
            name,
            st,
            reason.to_string(),
            reason_data.map(str::to_string),
            now,
            &mut changed,
        );
        self.propagate(&mut inner, changed, now);
        self.save(&inner)
    }

    /// Applies a state to an alarm (metric or composite); on a transition records history
    /// and queues actions. Returns whether the state changed.
    #[allow(clippy::too_many_arguments)]
    fn transition(
        &self,
        inner: &mut Inner,
        name: &str,
        new: AlarmState,
        reason: String,
        reason_data: Option<String>,
        now: i64,
        changed: &mut Vec<String>,
    ) -> bool {
        let (t, alarm_type, message) = if let Some(a) = inner.metric.get_mut(name) {
            let Some(t) = apply_state(a, new, &reason, &reason_data, now) else {
                return false;
            };
            let msg = crate::actions::metric_alarm_message(a, t.old, &self.config);
            (t, "MetricAlarm", msg)
        } else if let Some(a) = inner.composite.get_mut(name) {
            let Some(t) = apply_state(a, new, &reason, &reason_data, now) else {
                return false;
            };
            let msg = crate::actions::composite_alarm_message(a, t.old, &self.config);
            (t, "CompositeAlarm", msg)
        } else {
            return false;
        };
        let AppliedState {
            old,
            old_reason,
            old_data,
            actions_enabled,
            actions,
        } = t;
        let parse = |d: &Option<String>| {
            d.as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        };
        let mut old_state = json!({"stateValue": old.as_str(), "stateReason": old_reason});
        if let Some(d) = parse(&old_data) {
            old_state["stateReasonData"] = d;
        }
        let mut new_state = json!({"stateValue": new.as_str(), "stateReason": reason});
        if let Some(d) = parse(&reason_data) {
            new_state["stateReasonData"] = d;
        }
        self.add_history(
            inner,
            AlarmHistoryItem {
                alarm_name: name.to_string(),
                alarm_type: alarm_type.into(),
                timestamp_ms: now,
                history_item_type: "StateUpdate".into(),
                history_summary: format!("Alarm updated from {} to {}", old.as_str(), new.as_str()),
                history_data:
                    json!({"version": "1.0", "oldState": old_state, "newState": new_state})
                        .to_string(),
            },
        );
        if actions_enabled {
            for arn in actions {
                inner.pending.push(ActionRequest {
                    alarm_name: name.to_string(),
                    alarm_type: alarm_type.to_string(),
                    action_arn: arn,
                    new_state: new,
                    state_change_ms: now,
                    subject: format!(
                        "{}: \"{}\" in {}",
                        new.as_str(),
                        name,
                        crate::actions::region_name(&self.config.region)
                    )
                    .chars()
                    .take(100)
                    .collect(),
                    message: message.clone(),
                });
            }
        }
        inner.changes.push(StateChange {
            alarm_name: name.to_string(),
            old_state: old,
            new_state: new,
            reason,
            timestamp_ms: now,
        });
        changed.push(name.to_string());
        true
    }

    /// Re-evaluates composite alarms whose children changed, transitively. A composite that
    /// reaches itself through its children is not evaluated (B.3: evaluation stops on a cycle).
    fn propagate(&self, inner: &mut Inner, mut changed: Vec<String>, now: i64) {
        let mut guard = 0;
        while let Some(child) = changed.pop() {
            guard += 1;
            if guard > 10_000 {
                tracing::warn!("composite alarm propagation stopped: too many changes");
                break;
            }
            let parents: Vec<String> = inner
                .composite
                .iter()
                .filter(|(_, p)| {
                    p.config
                        .alarm_rule
                        .as_deref()
                        .and_then(|r| Rule::parse(r).ok())
                        .is_some_and(|(r, _)| r.children().contains(&child))
                })
                .map(|(n, _)| n.clone())
                .collect();
            for p in parents {
                self.evaluate_composite(inner, &p, now, &mut changed);
            }
        }
    }

    fn in_cycle(inner: &Inner, start: &str) -> bool {
        let mut stack: Vec<String> = vec![start.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            let Some(c) = inner.composite.get(&n) else {
                continue;
            };
            let Some((rule, _)) = c
                .config
                .alarm_rule
                .as_deref()
                .and_then(|r| Rule::parse(r).ok())
            else {
                continue;
            };
            for child in rule.children() {
                if child == start {
                    return true;
                }
                if seen.insert(child.clone()) {
                    stack.push(child);
                }
            }
        }
        false
    }

    fn evaluate_composite(
        &self,
        inner: &mut Inner,
        name: &str,
        now: i64,
        changed: &mut Vec<String>,
    ) {
        let Some(c) = inner.composite.get(name) else {
            return;
        };
        let Some((rule, _)) = c
            .config
            .alarm_rule
            .as_deref()
            .and_then(|r| Rule::parse(r).ok())
        else {
            return;
        };
        if Self::in_cycle(inner, name) {
            tracing::warn!(
                alarm = name,
                "composite alarm rule has a cycle; not evaluated"
            );
            return;
        }
        let state_of = |n: &str| -> Option<AlarmState> {
            inner
                .metric
                .get(n)
                .map(|a| a.state_value)
                .or_else(|| inner.composite.get(n).map(|a| a.state_value))
        };
        let value = rule.eval(&state_of);
        let new = if value {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        // Reason: the children whose state most recently changed and matches the rule [I].
        let mut triggering: Vec<(String, String, AlarmState, i64)> = rule
            .children()
            .into_iter()
            .filter_map(|n| {
                if let Some(a) = inner.metric.get(&n) {
                    Some((
                        n,
                        a.alarm_arn.clone(),
                        a.state_value,
                        a.state_transitioned_ms,
                    ))
                } else {
                    inner.composite.get(&n).map(|a| {
                        (
                            n,
                            a.alarm_arn.clone(),
                            a.state_value,
                            a.state_transitioned_ms,
                        )
                    })
                }
            })
            .collect();
        triggering.sort_by_key(|t| std::cmp::Reverse(t.3));
        let reason = match triggering.first() {
            Some((_, arn, st, ts)) => format!(
                "{arn} transitioned to {} at {}",
                st.as_str(),
                chrono::DateTime::<chrono::Utc>::from_timestamp_millis(*ts)
                    .map(|t| t.format("%A %d %B, %Y %H:%M:%S UTC").to_string())
                    .unwrap_or_default()
            ),
            None => format!(
                "Alarm rule evaluated to {}",
                if value { "TRUE" } else { "FALSE" }
            ),
        };
        let data = json!({
            "triggeringAlarms": triggering.iter().map(|(_, arn, st, ts)| json!({
                "arn": arn,
                "state": {"value": st.as_str(), "timestamp": format_alarm_time(*ts)}
            })).collect::<Vec<_>>()
        })
        .to_string();
        self.transition(inner, name, new, reason, Some(data), now, changed);
    }

    /// Evaluates every alarm that is due at the clock's current time and returns the state
    /// transitions made (composite alarms included).
    ///
    /// Cadence (B.4): alarms with periods ≥ 60 s are evaluated once per clock minute, at the
    /// minute boundary `floor(now, 60 s)`; 10/20/30-second alarms once per 10 s. The
    /// evaluation range is the `R = N + extra` periods that end at that boundary (a sliding
    /// window: with a 5-minute period the evaluation at 12:06:00 reads 12:01–12:06).
    pub fn evaluate_due(&self) -> Vec<StateChange> {
        let now = self.clock.now_ms();
        let mut inner = self.inner.lock();
        inner.changes.clear();
        let names: Vec<String> = inner.metric.keys().cloned().collect();
        let mut changed = Vec::new();
        for name in names {
            let Some(a) = inner.metric.get(&name).cloned() else {
                continue;
            };
            let plan = match self.plan(&a.config) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(alarm = %name, %e, "stored alarm no longer validates");
                    continue;
                }
            };
            let cadence = if plan.period_s < 60 { 10_000 } else { 60_000 };
            let boundary = floor_to(now, cadence);
            if inner.last_eval.get(&name).is_some_and(|t| *t >= boundary) {
                continue;
            }
            inner.last_eval.insert(name.clone(), boundary);
            let current = a.state_value;
            let outcome = self.evaluate_metric_alarm(&a, &plan, boundary, now);
            if let Some((state, reason, data)) = outcome {
                if state != current {
                    self.transition(
                        &mut inner,
                        &name,
                        state,
                        reason,
                        Some(data),
                        now,
                        &mut changed,
                    );
                }
            }
        }
        let dirty: Vec<String> = std::mem::take(&mut inner.composite_dirty)
            .into_iter()
            .collect();
        for d in dirty {
            self.evaluate_composite(&mut inner, &d, now, &mut changed);
        }
        self.propagate(&mut inner, changed, now);
        if !inner.changes.is_empty() {
            if let Err(e) = self.save(&inner) {
                tracing::error!(%e, "cannot persist alarm state");
            }
        }
        std::mem::take(&mut inner.changes)
    }

    /// Evaluates one metric alarm at `boundary`; `None` = keep the current state.
    fn evaluate_metric_alarm(
        &self,
        a: &MetricAlarm,
        plan: &Plan,
        boundary: i64,
        now: i64,
    ) -> Option<(AlarmState, String, String)> {
        let r = plan.n + self.config.evaluation_range_extra_periods.max(0) as usize;
        let p_ms = plan.period_s * 1000;
        let start = boundary - r as i64 * p_ms;
        // slot i (oldest first) covers [start + i*P, start + (i+1)*P)
        let mut slots: Vec<Option<(f64, bool)>> = vec![None; r];
        let mut counts: Vec<f64> = vec![0.0; r];
        match &plan.source {
            PlanSource::Single { metric, stat, unit } => {
                let aggs = self.store.aggregate(
                    metric,
                    start,
                    plan.period_s,
                    start,
                    boundary,
                    unit.as_deref(),
                    false,
                    now,
                );
                for ((t, _), agg) in aggs {
                    let i = ((t - start) / p_ms) as usize;
                    if i < r {
                        if let Some(v) = agg.statistic(stat) {
                            slots[i] = Some((v, plan.op.holds(v, plan.threshold)));
                            counts[i] = agg.sample_count;
                        }
                    }
                }
            }
            PlanSource::Math { queries } => {
                let prepared = query::prepare("Metrics", queries, &self.store).ok()?;
                let vars = match query::evaluate(
                    queries,
                    &prepared,
                    &self.store,
                    start,
                    boundary,
                    now,
                ) {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(alarm = a.name(), %e, "metric math alarm evaluation failed");
                        return None;
                    }
                };
                let ret = queries.iter().find(|q| q.return_data != Some(false))?;
                if let Some(crate::math::Value::Series(s)) = vars.get(&ret.id) {
                    for (t, v) in &s.points {
                        if *t < start || *t >= boundary || !v.is_finite() {
                            continue;
                        }
                        let i = ((t - start) / p_ms) as usize;
                        if i < r {
                            slots[i] = Some((*v, plan.op.holds(*v, plan.threshold)));
                            counts[i] = 1.0;
                        }
                    }
                }
            }
        }
        let detail = evaluate_detail(&slots, plan.n, plan.m, plan.tmd);
        // Percentile alarms with EvaluateLowSampleCountPercentile=ignore keep their state
        // while an evaluated data point has too few samples (B.4): p in [0.5, 1) needs
        // 10/(1-p) samples, p in (0, 0.5) needs 10/p.
        if let Some(p) = plan.low_sample_ignore {
            let needed = if (0.5..1.0).contains(&p) {
                Some(10.0 / (1.0 - p))
            } else if p > 0.0 && p < 0.5 {
                Some(10.0 / p)
            } else {
                None
            };
            if let Some(needed) = needed {
                if detail
                    .evaluated
                    .iter()
                    .any(|(i, _, _)| counts[*i] + 1e-9 < needed)
                {
                    return None;
                }
            }
        }
        let state = match detail.verdict {
            Verdict::Keep => return None,
            Verdict::State(s) => s,
        };
        let slot_ts = |i: usize| start + i as i64 * p_ms;
        let reason = self.reason_text(a, plan, &detail, state, &slot_ts);
        // Evaluated slots, newest first: the real points used, then the most recent missing
        // slots that stood in for the rest (timestamp only, as AWS prints unknown points).
        let mut evaluated: Vec<(usize, Option<f64>)> = detail
            .evaluated
            .iter()
            .map(|(i, v, _)| (*i, Some(*v)))
            .collect();
        let used: BTreeSet<usize> = evaluated.iter().map(|e| e.0).collect();
        let missing_needed = plan.n.saturating_sub(evaluated.len());
        evaluated.extend(
            (0..r)
                .rev()
                .filter(|i| slots[*i].is_none() && !used.contains(i))
                .take(missing_needed)
                .map(|i| (i, None)),
        );
        evaluated.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut data = serde_json::Map::new();
        data.insert("version".into(), json!("1.0"));
        data.insert("queryDate".into(), json!(format_alarm_time(now)));
        if let Some(first) = detail.evaluated.iter().map(|p| p.0).min() {
            data.insert("startDate".into(), json!(format_alarm_time(slot_ts(first))));
        }
        if let PlanSource::Single { stat, unit, .. } = &plan.source {
            match stat {
                Statistic::Basic(b) => data.insert("statistic".into(), json!(b.as_str())),
                Statistic::Extended(_, s) => data.insert("extendedStatistic".into(), json!(s)),
            };
            if let Some(u) = unit {
                data.insert("unit".into(), json!(u));
            }
        }
        data.insert("period".into(), json!(plan.period_s));
        let mut recent: Vec<&(usize, f64, bool)> = detail.evaluated.iter().collect();
        recent.sort_by_key(|p| p.0);
        data.insert(
            "recentDatapoints".into(),
            json!(recent.iter().map(|p| p.1).collect::<Vec<_>>()),
        );
        data.insert("threshold".into(), json!(plan.threshold));
        data.insert(
            "evaluatedDatapoints".into(),
            json!(evaluated
                .iter()
                .map(|(i, v)| match v {
                    Some(v) => json!({"timestamp": format_alarm_time(slot_ts(*i)), "sampleCount": counts[*i], "value": v}),
                    None => json!({"timestamp": format_alarm_time(slot_ts(*i))}),
                })
                .collect::<Vec<_>>()),
        );
        Some((state, reason, serde_json::Value::Object(data).to_string()))
    }

    /// The `StateReason` of a computed state, in the wordings AWS uses \[I: observed in
    /// published notifications, not documented\]:
    /// - `Insufficient Data: 3 datapoints were unknown.`
    /// - alarms with `DatapointsToAlarm` set: `Threshold Crossed: 1 out of the last 20
    ///   datapoints [613.0 (16/03/24 12:15:00)] was greater than or equal to the threshold (1.0)
    ///   and 19 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK ->
    ///   ALARM transition).` — the listed points are the evaluated real points on the side of
    ///   the new state, newest first; the minimum is M toward ALARM and N − M + 1 toward OK;
    ///   the transition text is always `OK -> ALARM` / `ALARM -> OK`;
    /// - alarms without it: `Threshold Crossed: 3 datapoints [2.0 (…), 3.0 (…), 1.0 (…)] were
    ///   greater than the threshold (0.0).` (same, without "out of the last" and the minimum);
    /// - when no real point supports the new state and fills decided: `Threshold Crossed: no
    ///   datapoints were received for 8 periods and 8 missing datapoints were treated as
    ///   [Breaching].` (`1 datapoint was received for 3 periods and 2 missing …`).
    fn reason_text(
        &self,
        a: &MetricAlarm,
        plan: &Plan,
        detail: &Detail,
        state: AlarmState,
        slot_ts: &dyn Fn(usize) -> i64,
    ) -> String {
        if state == AlarmState::InsufficientData {
            return format!(
                "Insufficient Data: {} unknown.",
                if plan.n == 1 {
                    "1 datapoint was".to_string()
                } else {
                    format!("{} datapoints were", plan.n)
                }
            );
        }
        let want_breaching = state == AlarmState::Alarm;
        let listed: Vec<&(usize, f64, bool)> = detail
            .evaluated
            .iter()
            .filter(|p| p.2 == want_breaching)
            .collect();
        let fill_kind = match plan.tmd {
            TreatMissingData::Breaching => Some("Breaching"),
            TreatMissingData::NotBreaching => Some("NonBreaching"),
            _ => None,
        };
        let fills_text = |f: usize, kind: &str| {
            format!(
                "{} treated as [{kind}]",
                if f == 1 {
                    "1 missing datapoint was".to_string()
                } else {
                    format!("{f} missing datapoints were")
                }
            )
        };
        if listed.is_empty() {
            if let (Some(kind), true) = (fill_kind, detail.fills > 0) {
                let r = detail.evaluated.len();
                let received = match r {
                    0 => "no datapoints were".to_string(),
                    1 => "1 datapoint was".to_string(),
                    n => format!("{n} datapoints were"),
                };
                return format!(
                    "Threshold Crossed: {received} received for {} and {}.",
                    plural(plan.n, "period", "periods"),
                    fills_text(detail.fills, kind)
                );
            }
        }
        let k = listed.len();
        let list = listed
            .iter()
            .map(|(i, v, _)| format!("{} ({})", java_double(*v), format_reason_time(slot_ts(*i))))
            .collect::<Vec<_>>()
            .join(", ");
        let verb = if k == 1 { "was" } else { "were" };
        let not = if want_breaching { "" } else { "not " };
        let fills = match fill_kind {
            Some(kind) if detail.fills > 0 => format!(" and {}", fills_text(detail.fills, kind)),
            _ => String::new(),
        };
        let (op, t) = (plan.op.phrase(), java_double(plan.threshold));
        if a.config.datapoints_to_alarm.is_some() {
            let (minimum, transition) = if want_breaching {
                (plan.m, "OK -> ALARM")
            } else {
                (plan.n - plan.m + 1, "ALARM -> OK")
            };
            format!(
                "Threshold Crossed: {k} out of the last {} datapoints [{list}] {verb} {not}{op} the threshold ({t}){fills} (minimum {} for {transition} transition).",
                detail.considered,
                plural(minimum, "datapoint", "datapoints"),
            )
        } else {
            format!(
                "Threshold Crossed: {} [{list}] {verb} {not}{op} the threshold ({t}){fills}.",
                plural(k, "datapoint", "datapoints")
            )
        }
    }

    /// `ListTagsForResource` for an alarm ARN.
    ///
    /// # Errors
    /// `ResourceNotFoundException` when no alarm has this ARN.
    pub fn list_tags_for_resource(&self, arn: &str) -> Result<Vec<Tag>> {
        let inner = self.inner.lock();
        inner
            .metric
            .values()
            .find(|a| a.alarm_arn == arn)
            .map(|a| a.config.tags.clone())
            .or_else(|| {
                inner
                    .composite
                    .values()
                    .find(|a| a.alarm_arn == arn)
                    .map(|a| a.config.tags.clone())
            })
            .ok_or_else(|| {
                MetricsError::ResourceNotFoundException(format!("Alarm {arn} does not exist."))
            })
    }

    /// `TagResource`: adds or overwrites tags of an alarm (≤ 50 in total).
    ///
    /// # Errors
    /// `ResourceNotFoundException`, `InvalidParameterValue` (tag sizes, too many tags).
    pub fn tag_resource(&self, arn: &str, tags: &[Tag]) -> Result<()> {
        self.edit_tags(arn, |existing| {
            for t in tags {
                match existing.iter_mut().find(|e| e.key == t.key) {
                    Some(e) => e.value = t.value.clone(),
                    None => existing.push(t.clone()),
                }
            }
        })
    }

    /// `UntagResource`: removes tags by key (unknown keys are ignored).
    ///
    /// # Errors
    /// `ResourceNotFoundException`.
    pub fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<()> {
        self.edit_tags(arn, |existing| existing.retain(|t| !keys.contains(&t.key)))
    }

    fn edit_tags(&self, arn: &str, edit: impl FnOnce(&mut Vec<Tag>)) -> Result<()> {
        let mut inner = self.inner.lock();
        let tags = if let Some(a) = inner.metric.values_mut().find(|a| a.alarm_arn == arn) {
            &mut a.config.tags
        } else if let Some(a) = inner.composite.values_mut().find(|a| a.alarm_arn == arn) {
            &mut a.config.tags
        } else {
            return Err(MetricsError::ResourceNotFoundException(format!(
                "Alarm {arn} does not exist."
            )));
        };
        let before = tags.clone();
        edit(tags);
        if let Err(e) = check_tags(tags, self.config.max_tags) {
            *tags = before;
            return Err(e);
        }
        self.save(&inner)
    }

    /// Action requests queued by transitions since the last call (oldest first).
    pub fn take_pending_actions(&self) -> Vec<ActionRequest> {
        std::mem::take(&mut self.inner.lock().pending)
    }

    /// Records an `Action` history item for an executed (or finally failed) action.
    pub fn record_action_outcome(&self, outcome: &ActionOutcome) {
        let now = self.clock.now_ms();
        let mut inner = self.inner.lock();
        let r = &outcome.request;
        let (summary, state) = if outcome.succeeded {
            (
                format!("Successfully executed action {}", r.action_arn),
                "Succeeded",
            )
        } else {
            (
                format!("Failed to execute action {}", r.action_arn),
                "Failed",
            )
        };
        let mut data = json!({
            "actionState": state,
            "stateUpdateTimestamp": r.state_change_ms,
            "notificationResource": r.action_arn,
            "publishedMessage": r.message,
        });
        if let Some(e) = &outcome.error {
            data["error"] = json!(e);
        }
        self.add_history(
            &mut inner,
            AlarmHistoryItem {
                alarm_name: r.alarm_name.clone(),
                alarm_type: r.alarm_type.clone(),
                timestamp_ms: now,
                history_item_type: "Action".into(),
                history_summary: summary.chars().take(255).collect(),
                history_data: data.to_string(),
            },
        );
    }

    /// Executes the pending actions with `dispatcher` (blocking, retries included) and
    /// records their outcomes. Call it from a blocking thread.
    pub fn run_actions(&self, dispatcher: &crate::ActionDispatcher) -> Vec<ActionOutcome> {
        let mut out = Vec::new();
        for req in self.take_pending_actions() {
            let o = dispatcher.execute(req);
            self.record_action_outcome(&o);
            out.push(o);
        }
        out
    }

    /// `DescribeAlarms` (api.md B.3), alarms sorted by name (unique across metric and
    /// composite alarms). `NextToken` is the name of the page's last alarm and the next page
    /// starts strictly after it, so alarms put or deleted between calls never make another
    /// alarm repeat or vanish [I: AWS tokens are opaque; see [`crate::page`]].
    ///
    /// # Errors
    /// `InvalidParameterCombination` for `AlarmNames` with `AlarmNamePrefix`, or
    /// `ChildrenOfAlarmName`/`ParentsOfAlarmName` with other filters;
    /// `InvalidParameterValue` for bad types, state, MaxRecords; `InvalidNextToken`.
    pub fn describe_alarms(&self, input: &DescribeAlarmsInput) -> Result<DescribeAlarmsOutput> {
        if !input.alarm_names.is_empty() && input.alarm_name_prefix.is_some() {
            return Err(MetricsError::exclusive("AlarmNames", "AlarmNamePrefix"));
        }
        if input.alarm_names.len() > 100 {
            return Err(MetricsError::InvalidParameterValue(
                "The collection AlarmNames must not have a size greater than 100.".into(),
            ));
        }
        let relation =
            input.children_of_alarm_name.is_some() || input.parents_of_alarm_name.is_some();
        if relation
            && (!input.alarm_names.is_empty()
                || input.alarm_name_prefix.is_some()
                || input.state_value.is_some()
                || input.action_prefix.is_some()
                || (input.children_of_alarm_name.is_some()
                    && input.parents_of_alarm_name.is_some()))
        {
            return Err(MetricsError::InvalidParameterCombination(
                "ChildrenOfAlarmName and ParentsOfAlarmName cannot be combined with other filters."
                    .into(),
            ));
        }
        let (mut want_metric, mut want_composite) = (input.alarm_types.is_empty(), false);
        for t in &input.alarm_types {
            match t.as_str() {
                "MetricAlarm" => want_metric = true,
                "CompositeAlarm" => want_composite = true,
                "LogAlarm" => {}
                other => return Err(MetricsError::invalid_value("AlarmTypes", other)),
            }
        }
        if relation {
            want_metric = true;
            want_composite = true;
        }
        let state = match &input.state_value {
            None => None,
            Some(s) => Some(
                AlarmState::parse(s).ok_or_else(|| MetricsError::invalid_value("StateValue", s))?,
            ),
        };
        let max = input.max_records.unwrap_or(50);
        if !(1..=100).contains(&max) {
            return Err(MetricsError::invalid_value("MaxRecords", max));
        }
        let after: Option<String> = decode_token(DA_TOKEN, &input.next_token)?;
        let inner = self.inner.lock();
        let related: Option<BTreeSet<String>> = if let Some(p) = &input.children_of_alarm_name {
            Some(
                inner
                    .composite
                    .get(p)
                    .and_then(|c| c.config.alarm_rule.as_deref())
                    .and_then(|r| Rule::parse(r).ok())
                    .map(|(r, _)| r.children())
                    .unwrap_or_default(),
            )
        } else {
            input.parents_of_alarm_name.as_ref().map(|c| {
                inner
                    .composite
                    .iter()
                    .filter(|(_, p)| {
                        p.config
                            .alarm_rule
                            .as_deref()
                            .and_then(|r| Rule::parse(r).ok())
                            .is_some_and(|(r, _)| r.children().contains(c))
                    })
                    .map(|(n, _)| n.clone())
                    .collect()
            })
        };
        let name_ok = |n: &str| {
            (input.alarm_names.is_empty() || input.alarm_names.iter().any(|x| x == n))
                && input
                    .alarm_name_prefix
                    .as_ref()
                    .is_none_or(|p| n.starts_with(p.as_str()))
                && related.as_ref().is_none_or(|r| r.contains(n))
        };
        let action_ok = |lists: [&Vec<String>; 3]| {
            input.action_prefix.as_ref().is_none_or(|p| {
                lists
                    .iter()
                    .any(|l| l.iter().any(|a| a.starts_with(p.as_str())))
            })
        };
        let mut all: Vec<(bool, String)> = Vec::new();
        if want_metric {
            for (n, a) in &inner.metric {
                if name_ok(n)
                    && state.is_none_or(|s| s == a.state_value)
                    && action_ok([
                        &a.config.ok_actions,
                        &a.config.alarm_actions,
                        &a.config.insufficient_data_actions,
                    ])
                {
                    all.push((false, n.clone()));
                }
            }
        }
        if want_composite {
            for (n, a) in &inner.composite {
                if name_ok(n)
                    && state.is_none_or(|s| s == a.state_value)
                    && action_ok([
                        &a.config.ok_actions,
                        &a.config.alarm_actions,
                        &a.config.insufficient_data_actions,
                    ])
                {
                    all.push((true, n.clone()));
                }
            }
        }
        all.sort_by(|a, b| a.1.cmp(&b.1));
        all.retain(|(_, n)| after.as_ref().is_none_or(|a| n > a));
        let page: Vec<&(bool, String)> = all.iter().take(max).collect();
        let next_token = match page.last() {
            Some((_, last)) if all.len() > max => Some(crate::page::encode(DA_TOKEN, last)),
            _ => None,
        };
        Ok(DescribeAlarmsOutput {
            metric_alarms: page
                .iter()
                .filter(|p| !p.0)
                .filter_map(|p| inner.metric.get(&p.1).cloned())
                .collect(),
            composite_alarms: page
                .iter()
                .filter(|p| p.0)
                .filter_map(|p| inner.composite.get(&p.1).cloned())
                .collect(),
            next_token,
        })
    }

    /// `DescribeAlarmsForMetric`: metric alarms on the metric (single-metric alarms, and
    /// metric-math alarms with a `MetricStat` on it), filtered by the optional fields.
    ///
    /// # Errors
    /// `MissingParameter` for `MetricName`/`Namespace`.
    pub fn describe_alarms_for_metric(
        &self,
        input: &DescribeAlarmsForMetricInput,
    ) -> Result<Vec<MetricAlarm>> {
        let name = input
            .metric_name
            .as_deref()
            .ok_or_else(|| MetricsError::missing("MetricName"))?;
        let ns = input
            .namespace
            .as_deref()
            .ok_or_else(|| MetricsError::missing("Namespace"))?;
        let mut dims = input.dimensions.clone();
        dims.sort();
        let inner = self.inner.lock();
        Ok(inner
            .metric
            .values()
            .filter(|a| {
                let c = &a.config;
                let mut adims = c.dimensions.clone();
                adims.sort();
                let single = c.metric_name.as_deref() == Some(name)
                    && c.namespace.as_deref() == Some(ns)
                    && (input.dimensions.is_empty() || adims == dims)
                    && input
                        .statistic
                        .as_ref()
                        .is_none_or(|s| c.statistic.as_ref() == Some(s))
                    && input
                        .extended_statistic
                        .as_ref()
                        .is_none_or(|s| c.extended_statistic.as_ref() == Some(s))
                    && input.period.is_none_or(|p| c.period == Some(p))
                    && input
                        .unit
                        .as_ref()
                        .is_none_or(|u| c.unit.as_ref() == Some(u));
                let math = c.metrics.iter().any(|q| {
                    q.metric_stat.as_ref().is_some_and(|s| {
                        let mut qd = s.metric.dimensions.clone();
                        qd.sort();
                        s.metric.metric_name.as_deref() == Some(name)
                            && s.metric.namespace.as_deref() == Some(ns)
                            && (input.dimensions.is_empty() || qd == dims)
                            && input.period.is_none_or(|p| s.period == Some(p))
                    })
                });
                single || math
            })
            .cloned()
            .collect())
    }

    /// `DescribeAlarmHistory` (history survives deletion; kept two weeks), by timestamp.
    /// An item's position is `(timestamp, n)`: it is the `n`th item recorded with that
    /// timestamp. Items are only appended, and dropped whole timestamps at a time (the
    /// retention cutoff), so that position never changes. `NextToken` is the position of
    /// the page's last item and the next page starts strictly after it in the scan order:
    /// items recorded or expired between calls never make another item repeat or vanish
    /// [I: AWS tokens are opaque; see [`crate::page`]].
    ///
    /// # Errors
    /// `InvalidParameterValue` for bad types, item type, MaxRecords, ScanBy; `InvalidNextToken`.
    pub fn describe_alarm_history(
        &self,
        input: &DescribeAlarmHistoryInput,
    ) -> Result<(Vec<AlarmHistoryItem>, Option<String>)> {
        let mut types = BTreeSet::new();
        for t in &input.alarm_types {
            match t.as_str() {
                "MetricAlarm" | "CompositeAlarm" | "LogAlarm" => {
                    types.insert(t.clone());
                }
                other => return Err(MetricsError::invalid_value("AlarmTypes", other)),
            }
        }
        if types.is_empty() {
            types.insert("MetricAlarm".to_string());
        }
        if let Some(t) = &input.history_item_type {
            if ![
                "ConfigurationUpdate",
                "StateUpdate",
                "Action",
                "AlarmContributorStateUpdate",
                "AlarmContributorAction",
            ]
            .contains(&t.as_str())
            {
                return Err(MetricsError::invalid_value("HistoryItemType", t));
            }
        }
        let desc = match input.scan_by.as_deref() {
            None | Some("TimestampDescending") => true,
            Some("TimestampAscending") => false,
            Some(o) => return Err(MetricsError::invalid_value("ScanBy", o)),
        };
        let max = input.max_records.unwrap_or(100);
        if !(1..=100).contains(&max) {
            return Err(MetricsError::invalid_value("MaxRecords", max));
        }
        let after: Option<(i64, u64)> = decode_token(AH_TOKEN, &input.next_token)?;
        let cutoff = self.clock.now_ms() - self.config.history_retention_ms;
        let inner = self.inner.lock();
        let mut recorded: HashMap<i64, u64> = HashMap::new();
        let mut items: Vec<((i64, u64), &AlarmHistoryItem)> = inner
            .history
            .iter()
            .map(|h| {
                let n = recorded.entry(h.timestamp_ms).or_insert(0);
                *n += 1;
                ((h.timestamp_ms, *n - 1), h)
            })
            .filter(|(pos, h)| {
                h.timestamp_ms >= cutoff
                    && input.alarm_name.as_ref().is_none_or(|n| *n == h.alarm_name)
                    && types.contains(&h.alarm_type)
                    && input
                        .history_item_type
                        .as_ref()
                        .is_none_or(|t| *t == h.history_item_type)
                    && input.start_date_ms.is_none_or(|s| h.timestamp_ms >= s)
                    && input.end_date_ms.is_none_or(|e| h.timestamp_ms <= e)
                    && after.is_none_or(|a| if desc { *pos < a } else { *pos > a })
            })
            .collect();
        items.sort_by_key(|(pos, _)| *pos);
        if desc {
            items.reverse();
        }
        let page: Vec<AlarmHistoryItem> =
            items.iter().take(max).map(|(_, h)| (*h).clone()).collect();
        let next = match items.get(max.wrapping_sub(1)) {
            Some((pos, _)) if items.len() > max => Some(crate::page::encode(AH_TOKEN, pos)),
            _ => None,
        };
        Ok((page, next))
    }
}

/// The prefixes of `DescribeAlarms` and `DescribeAlarmHistory` tokens (`da1:` and `ah1:`
/// were offsets).
const DA_TOKEN: &str = "da2:";
const AH_TOKEN: &str = "ah2:";

/// The key of a token made by [`crate::page::encode`] with `prefix`, or `InvalidNextToken`.
fn decode_token<T: serde::de::DeserializeOwned>(
    prefix: &str,
    token: &Option<String>,
) -> Result<Option<T>> {
    match token {
        None => Ok(None),
        Some(t) => crate::page::decode(prefix, t).map(Some).ok_or_else(|| {
            MetricsError::InvalidNextToken("The service cannot parse the NextToken.".into())
        }),
    }
}

/// A compact JSON view of an alarm for `ConfigurationUpdate` history data.
fn alarm_summary_json(a: &MetricAlarm) -> serde_json::Value {
    let c = &a.config;
    json!({
        "alarmName": a.name(),
        "alarmArn": a.alarm_arn,
        "namespace": c.namespace,
        "metricName": c.metric_name,
        "dimensions": c.dimensions.iter().map(|d| json!({"name": d.name, "value": d.value})).collect::<Vec<_>>(),
        "statistic": c.statistic,
        "extendedStatistic": c.extended_statistic,
        "period": c.period,
        "evaluationPeriods": c.evaluation_periods,
        "datapointsToAlarm": c.datapoints_to_alarm,
        "threshold": c.threshold,
        "comparisonOperator": c.comparison_operator,
        "treatMissingData": c.treat_missing_data,
        "actionsEnabled": c.actions_enabled,
        "alarmActions": c.alarm_actions,
        "okActions": c.ok_actions,
        "insufficientDataActions": c.insufficient_data_actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(s: &str) -> Vec<Option<bool>> {
        s.split_whitespace()
            .map(|t| match t {
                "0" => Some(false),
                "X" => Some(true),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn premature_rule_does_not_fire_on_recent_breach() {
        // B.4: "- - - - X" and "- - - X -" (N=3, M=3) do not alarm.
        for s in ["- - - - X", "- - - X -"] {
            assert_eq!(
                evaluate_slots(&slots(s), 3, 3, TreatMissingData::Missing),
                Verdict::State(AlarmState::Ok),
                "{s}"
            );
        }
    }
}
