//! PutSubscriptionFilter, DescribeSubscriptionFilters, DeleteSubscriptionFilter
//! (spec/filter-patterns.md §7, spec/api.md §A.2).
//!
//! A subscription filter delivers matching events to a Kinesis stream, a Firehose stream, a
//! Lambda function or a Logs destination. OpenWatch has no delivery to any of them yet, and
//! a filter that silently delivers nowhere would lose data, so PutSubscriptionFilter
//! validates the whole input as AWS does and then refuses the destination with AWS's own
//! answer to an unreachable destination (AWS sends a test `CONTROL_MESSAGE` at creation and
//! fails the call when it cannot be delivered) plus the reason: `InvalidParameterException`
//! "Could not deliver test message to specified destination. …". Nothing is ever stored,
//! so DescribeSubscriptionFilters lists none and DeleteSubscriptionFilter finds none.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_len, int_in, log_group_name, parse_key_token, required};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::AppState;

/// A filter name: 1–512 characters, no `:` or `*` (spec/api.md §A.1).
fn filter_name(member: &str, value: Option<String>) -> Result<String, ApiError> {
    let name = required(value, member)?;
    check_len(member, &name, 1, 512)?;
    if name.contains([':', '*']) {
        return Err(ApiError::constraint(
            member,
            &name,
            "Member must satisfy regular expression pattern: [^:*]*",
        ));
    }
    Ok(name)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
    filter_pattern: Option<String>,
    destination_arn: Option<String>,
    role_arn: Option<String>,
    distribution: Option<String>,
    // `applyOnTransformedLogs` is accepted and has no effect (nothing is created).
    field_selection_criteria: Option<String>,
    emit_system_fields: Option<Vec<String>>,
}

/// What kind of destination an ARN names, in AWS's words.
fn destination_kind(arn: &str) -> Option<&'static str> {
    let mut parts = arn.splitn(6, ':');
    let (arn_word, _partition, service, _region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn_word != "arn" {
        return None;
    }
    Some(match (service, resource.split([':', '/']).next()?) {
        ("kinesis", "stream") => "a Kinesis Data Streams stream",
        ("firehose", "deliverystream") => "an Amazon Data Firehose stream",
        ("lambda", "function") => "a Lambda function",
        ("logs", "destination") => "a CloudWatch Logs destination",
        _ => return None,
    })
}

/// PutSubscriptionFilter: validated like AWS (log group, names, pattern, destination ARN,
/// distribution, at most `logGroup` filters), then refused: no destination kind can be
/// delivered to by this server (module docs).
///
/// # Errors
/// `ResourceNotFoundException` (log group), `InvalidParameterException` (every input rule,
/// and the destination, which is always undeliverable).
pub(crate) fn put_subscription_filter(
    state: &AppState,
    _principal: &Principal,
    i: PutInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", i.log_group_name)?;
    let name = filter_name("filterName", i.filter_name)?;
    let pattern = required(i.filter_pattern, "filterPattern")?;
    check_len("filterPattern", &pattern, 0, 1024)?;
    let destination = required(i.destination_arn, "destinationArn")?;
    check_len("destinationArn", &destination, 1, 2048)?;
    if let Some(role) = &i.role_arn {
        check_len("roleArn", role, 1, 2048)?;
    }
    if let Some(d) = i.distribution.as_deref() {
        if !matches!(d, "Random" | "ByLogStream") {
            return Err(ApiError::constraint(
                "distribution",
                d,
                "Member must satisfy enum value set: [Random, ByLogStream]",
            ));
        }
    }
    if i.field_selection_criteria.is_some() || i.emit_system_fields.is_some() {
        return Err(ApiError::InvalidParameter(
            "fieldSelectionCriteria and emitSystemFields are not supported by OpenWatch".into(),
        ));
    }
    if !pattern.is_empty() {
        ow_filter_pattern::FilterPattern::parse(&pattern).map_err(|e| {
            if e.is_user_error() {
                ApiError::InvalidParameter(e.to_string())
            } else {
                ApiError::Internal(format!("filter pattern: {e}"))
            }
        })?;
    }
    state.store().log_group(&group)?;
    let reason = match destination_kind(&destination) {
        Some(kind) => format!(
            "OpenWatch cannot deliver to {kind} ({destination}); subscription filter {name} \
             was not created"
        ),
        None => format!(
            "{destination} is not the ARN of a Kinesis stream, Firehose stream, Lambda \
             function or Logs destination; subscription filter {name} was not created"
        ),
    };
    Err(ApiError::InvalidParameter(format!(
        "Could not deliver test message to specified destination. Check if the destination \
         is valid. ({reason})"
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeInput {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// DescribeSubscriptionFilters: `{"subscriptionFilters": []}` for an existing log group
/// (none can exist, module docs).
///
/// # Errors
/// `ResourceNotFoundException` (log group), `InvalidParameterException` (limit 1–50,
/// prefix, token).
pub(crate) fn describe_subscription_filters(
    state: &AppState,
    _principal: &Principal,
    i: DescribeInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", i.log_group_name)?;
    int_in("limit", i.limit, 1, 50, 50)?;
    if let Some(p) = &i.filter_name_prefix {
        check_len("filterNamePrefix", p, 1, 512)?;
    }
    if let Some(t) = &i.next_token {
        // No page ever has a token (the list is empty); one would be the position of the
        // last filter's name, like every other list's [I: see `super::key_token`].
        parse_key_token("f", t, 1)?;
    }
    state.store().log_group(&group)?;
    Ok(json!({ "subscriptionFilters": [] }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
}

/// DeleteSubscriptionFilter: the filter never exists (module docs).
///
/// # Errors
/// `ResourceNotFoundException` for the log group or the filter; `InvalidParameterException`.
pub(crate) fn delete_subscription_filter(
    state: &AppState,
    _principal: &Principal,
    i: DeleteInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", i.log_group_name)?;
    filter_name("filterName", i.filter_name)?;
    state.store().log_group(&group)?;
    Err(ApiError::ResourceNotFound(
        "The specified subscription filter does not exist.".to_string(),
    ))
}
