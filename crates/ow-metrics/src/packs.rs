//! Detection packs: metric filters plus the alarms on their metrics, ready to install with
//! [`crate::MetricFilterSet::put_metric_filter`] and [`crate::AlarmEngine::put_metric_alarm`].
//!
//! - [`cis`]: the CIS AWS Foundations Benchmark CloudTrail metric filters
//!   (filter-patterns.md §9, data from `ow_filter_pattern::packs::cis()`), one alarm each:
//!   `Sum >= 1` over one 300 s period, missing data not breaching.
//! - [`canary`]: "canary token" resources — decoy resources nobody should touch. Any
//!   CloudTrail event that names one of them raises an alarm.

use crate::alarm::PutMetricAlarmInput;
use crate::error::{MetricsError, Result};
use crate::metric_filter::{MetricTransformation, PutMetricFilterInput};

/// Metric filters and alarms of a pack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pack {
    /// `PutMetricFilter` inputs (log group set).
    pub metric_filters: Vec<PutMetricFilterInput>,
    /// `PutMetricAlarm` inputs, one per filter, same order.
    pub alarms: Vec<PutMetricAlarmInput>,
}

impl Pack {
    /// Sets `AlarmActions` of every alarm (e.g. an SNS topic mapped to a webhook).
    pub fn with_alarm_actions(mut self, arns: &[String]) -> Self {
        for a in &mut self.alarms {
            a.alarm_actions = arns.to_vec();
        }
        self
    }
}

fn filter(
    log_group: &str,
    name: &str,
    pattern: &str,
    namespace: &str,
    metric: &str,
) -> PutMetricFilterInput {
    PutMetricFilterInput {
        log_group_name: Some(log_group.to_string()),
        filter_name: Some(name.to_string()),
        filter_pattern: Some(pattern.to_string()),
        metric_transformations: vec![MetricTransformation {
            metric_name: metric.to_string(),
            metric_namespace: namespace.to_string(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: Default::default(),
            unit: None,
        }],
        apply_on_transformed_logs: false,
    }
}

#[allow(clippy::too_many_arguments)]
fn alarm(
    name: &str,
    description: &str,
    namespace: &str,
    metric: &str,
    statistic: &str,
    op: &str,
    threshold: f64,
    period_s: i64,
    n: i64,
    tmd: &str,
) -> PutMetricAlarmInput {
    PutMetricAlarmInput {
        alarm_name: Some(name.to_string()),
        alarm_description: Some(description.to_string()),
        metric_name: Some(metric.to_string()),
        namespace: Some(namespace.to_string()),
        statistic: Some(statistic.to_string()),
        period: Some(period_s),
        evaluation_periods: Some(n),
        threshold: Some(threshold),
        comparison_operator: Some(op.to_string()),
        treat_missing_data: Some(tmd.to_string()),
        ..Default::default()
    }
}

/// The CIS pack for the log group CloudTrail delivers to: 16 filters (CIS v1.4 4.1–4.15 and
/// the SSO-aware 4.2 variant) named as in `ow_filter_pattern::packs::cis()` (the SSO-aware
/// variant, whose name there repeats 4.2's, as `NoMFAConsoleSigninSSOAware`, filter and
/// metric), namespace `CISBenchmark`, each with an alarm of the same name.
pub fn cis(log_group: &str) -> Pack {
    let mut pack = Pack::default();
    for f in ow_filter_pattern::packs::cis() {
        // 4.2 and its SSO-aware variant share a name in the source table; within one log
        // group (and one Region's alarms) names must be unique, so the variant gets a suffix.
        let (name, metric) = if f.cis_id.ends_with("-sso") {
            (
                format!("{}SSOAware", f.filter_name),
                format!("{}SSOAware", f.metric_name),
            )
        } else {
            (f.filter_name.to_string(), f.metric_name.to_string())
        };
        pack.metric_filters.push(filter(
            log_group,
            &name,
            f.pattern,
            f.metric_namespace,
            &metric,
        ));
        pack.alarms.push(alarm(
            &name,
            &format!("CIS {}: {}", f.cis_id, f.purpose),
            f.metric_namespace,
            &metric,
            f.alarm_statistic,
            f.alarm_comparison_operator,
            f.alarm_threshold,
            i64::from(f.alarm_period_s),
            i64::from(f.alarm_evaluation_periods),
            f.alarm_treat_missing_data,
        ));
    }
    pack
}

/// Namespace of the canary pack's metrics.
pub const CANARY_NAMESPACE: &str = "OpenWatch/Canary";

/// The CloudTrail fields a canary pattern looks at, and whether the value is compared whole
/// (`=`) or as a substring (`*name*`, for ARNs and ids that embed the name).
pub const CANARY_FIELDS: [(&str, bool); 10] = [
    ("$.requestParameters.bucketName", false),
    ("$.requestParameters.userName", false),
    ("$.requestParameters.roleName", false),
    ("$.requestParameters.tableName", false),
    ("$.requestParameters.name", false),
    ("$.requestParameters.secretId", true),
    ("$.requestParameters.keyId", true),
    ("$.requestParameters.functionName", true),
    ("$.resources[0].ARN", true),
    ("$.resources[1].ARN", true),
];

/// The canary filter pattern for one resource name: a JSON pattern that matches any
/// CloudTrail event naming the resource in [`CANARY_FIELDS`] — the bucket, user, role,
/// table or parameter name exactly, or the name inside a secret id, KMS key id, function
/// name/ARN or the first two `resources[].ARN`. Substring matches can over-match names that
/// contain the canary's name (`decoy` matches `decoy-2`): for a decoy that is the safe side.
///
/// # Errors
/// `InvalidParameterValue` when the name is empty, has characters outside
/// `[A-Za-z0-9._/@+=,-]` (they would need escaping in a pattern or a metric name), or makes
/// the pattern longer than 1024 characters.
pub fn canary_pattern(resource_name: &str) -> Result<String> {
    let ok = !resource_name.is_empty()
        && resource_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/@+=,-".contains(c));
    if !ok {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The canary resource name {resource_name:?} must be non-empty and use only letters, digits and . _ / @ + = , -"
        )));
    }
    let clauses: Vec<String> = CANARY_FIELDS
        .iter()
        .map(|(sel, substring)| {
            if *substring {
                format!("({sel} = \"*{resource_name}*\")")
            } else {
                format!("({sel} = \"{resource_name}\")")
            }
        })
        .collect();
    let p = format!("{{ {} }}", clauses.join(" || "));
    if p.chars().count() > 1024 {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The canary resource name {resource_name:?} is too long for one filter pattern (1024 characters)."
        )));
    }
    Ok(p)
}

/// The canary pack: per resource name, a metric filter `Canary-<name>` (pattern from
/// [`canary_pattern`], metric `CanaryAccess-<name>` in [`CANARY_NAMESPACE`], value 1) and an
/// alarm of the same name: `Sum >= 1` over one 60 s period, missing data not breaching —
/// one touch of a decoy alarms within a minute and returns to OK a minute later.
///
/// # Errors
/// As [`canary_pattern`].
pub fn canary(log_group: &str, resource_names: &[&str]) -> Result<Pack> {
    let mut pack = Pack::default();
    for name in resource_names {
        let pattern = canary_pattern(name)?;
        let filter_name = format!("Canary-{}", name.replace('/', "_"));
        let metric = format!("CanaryAccess-{}", name.replace('/', "_"));
        pack.metric_filters.push(filter(
            log_group,
            &filter_name,
            &pattern,
            CANARY_NAMESPACE,
            &metric,
        ));
        pack.alarms.push(alarm(
            &filter_name,
            &format!("Access to canary resource {name}"),
            CANARY_NAMESPACE,
            &metric,
            "Sum",
            "GreaterThanOrEqualToThreshold",
            1.0,
            60,
            1,
            "notBreaching",
        ));
    }
    Ok(pack)
}
