//! The CloudWatch Logs metric-filter operations (AWS JSON 1.1, api.md A.2 and
//! filter-patterns.md §6): PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter,
//! TestMetricFilter. The definitions and their evaluation live in `ow_metrics`.

use ow_metrics::{
    DescribeMetricFiltersInput, MetricTransformation, MetricsError, PutMetricFilterInput,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::AppState;

/// A metrics-crate error as the Logs API reports it.
fn logs_error(e: MetricsError) -> ApiError {
    match e {
        MetricsError::LogsResourceNotFound(m) => ApiError::ResourceNotFound(m),
        MetricsError::LogsLimitExceeded(m) => ApiError::LimitExceeded(m),
        e if e.is_user_error() => ApiError::InvalidParameter(e.to_string()),
        e => ApiError::Internal(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
    filter_pattern: Option<String>,
    metric_transformations: Option<Vec<MetricTransformation>>,
    #[serde(default)]
    apply_on_transformed_logs: Option<bool>,
    field_selection_criteria: Option<String>,
    emit_system_field_dimensions: Option<Vec<String>>,
}

/// `PutMetricFilter`: the log group must exist; same name replaces. Output `{}`.
///
/// # Errors
/// `ResourceNotFoundException` (log group), `InvalidParameterException`,
/// `LimitExceededException`.
pub(crate) fn put_metric_filter(
    state: &AppState,
    _principal: &Principal,
    i: PutInput,
) -> Result<Value, ApiError> {
    if i.field_selection_criteria.is_some() || i.emit_system_field_dimensions.is_some() {
        return Err(ApiError::InvalidParameter(
            "fieldSelectionCriteria and emitSystemFieldDimensions are not supported by OpenWatch"
                .into(),
        ));
    }
    let group = crate::ops::log_group_name("logGroupName", i.log_group_name)?;
    state.store().log_group(&group)?;
    let transformations = i
        .metric_transformations
        .ok_or_else(|| ApiError::missing("metricTransformations"))?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    state
        .monitoring()
        .filters
        .put_metric_filter(
            &PutMetricFilterInput {
                log_group_name: Some(group),
                filter_name: i.filter_name,
                filter_pattern: i.filter_pattern,
                metric_transformations: transformations,
                apply_on_transformed_logs: i.apply_on_transformed_logs.unwrap_or(false),
            },
            now_ms,
        )
        .map_err(logs_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeInput {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    metric_name: Option<String>,
    metric_namespace: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

/// `DescribeMetricFilters` → `{"metricFilters": [...], "nextToken"?}`.
///
/// # Errors
/// `InvalidParameterException` (prefix without group, name without namespace, limit).
pub(crate) fn describe_metric_filters(
    state: &AppState,
    _principal: &Principal,
    i: DescribeInput,
) -> Result<Value, ApiError> {
    let limit = crate::ops::int_in("limit", i.limit, 1, 50, 50)? as usize;
    let (filters, next) = state
        .monitoring()
        .filters
        .describe_metric_filters(&DescribeMetricFiltersInput {
            log_group_name: i.log_group_name,
            filter_name_prefix: i.filter_name_prefix,
            metric_name: i.metric_name,
            metric_namespace: i.metric_namespace,
            limit: Some(limit),
            next_token: i.next_token,
        })
        .map_err(logs_error)?;
    let list: Vec<Value> = filters
        .iter()
        .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
        .collect();
    let mut out = json!({ "metricFilters": list });
    if let Some(t) = next {
        out["nextToken"] = json!(t);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
}

/// `DeleteMetricFilter`. Output `{}`.
///
/// # Errors
/// `ResourceNotFoundException` for an unknown filter.
pub(crate) fn delete_metric_filter(
    state: &AppState,
    _principal: &Principal,
    i: DeleteInput,
) -> Result<Value, ApiError> {
    let group = crate::ops::log_group_name("logGroupName", i.log_group_name)?;
    let name = i
        .filter_name
        .ok_or_else(|| ApiError::missing("filterName"))?;
    state
        .monitoring()
        .filters
        .delete_metric_filter(&group, &name)
        .map_err(logs_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestInput {
    filter_pattern: Option<String>,
    log_event_messages: Option<Vec<String>>,
}

/// `TestMetricFilter` → `{"matches": [{"eventNumber", "eventMessage", "extractedValues"}]}`.
///
/// # Errors
/// `InvalidParameterException` (pattern, 1–50 messages).
pub(crate) fn test_metric_filter(
    state: &AppState,
    _principal: &Principal,
    i: TestInput,
) -> Result<Value, ApiError> {
    let pattern = i
        .filter_pattern
        .ok_or_else(|| ApiError::missing("filterPattern"))?;
    let messages = i
        .log_event_messages
        .ok_or_else(|| ApiError::missing("logEventMessages"))?;
    let limits = ow_metrics::MetricFilterLimits::default();
    let _ = state;
    let matches =
        ow_metrics::test_metric_filter(&pattern, &messages, &limits).map_err(logs_error)?;
    let list: Vec<Value> = matches
        .iter()
        .map(|m| {
            json!({
                "eventNumber": m.event_number,
                "eventMessage": m.event_message,
                "extractedValues": m.extracted_values,
            })
        })
        .collect();
    Ok(json!({ "matches": list }))
}

/// DeleteLogGroup takes the group's metric filters with it (api.md A.2 \[I\]).
pub(crate) fn after_delete_log_group(state: &AppState, log_group: &str) {
    if let Err(e) = state.monitoring().filters.delete_log_group(log_group) {
        tracing::error!(error = %e, log_group, "metric filters of a deleted log group could not be removed");
    }
}
