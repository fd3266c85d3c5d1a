//! Log groups, log streams, events, retention, deletion protection and tags (spec/api.md
//! §A.2).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    check_len, group_name_or_identifier, int_in, key_token, log_group_name, log_stream_name,
    parse_key_token, required, token_int,
};
use crate::auth::Principal;
use crate::backend::{Cursor, EventRange, EventRecord, GroupInfo, StreamInfo};
use crate::error::ApiError;
use crate::AppState;

/// Retention values PutRetentionPolicy accepts (spec §A.2 [V]).
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Tags per log group (AWS: 50).
const MAX_TAGS: usize = 50;

/// The group, or `ResourceNotFoundException`.
pub(crate) fn require_group(
    state: &AppState,
    _principal: &Principal,
    name: &str,
) -> Result<GroupInfo, ApiError> {
    state.store().log_group(name)
}

fn not_found_group() -> ApiError {
    ApiError::ResourceNotFound("The specified log group does not exist.".to_string())
}

// ---------------------------------------------------------------------------------------
// Log groups

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateLogGroupInput {
    log_group_name: Option<String>,
    kms_key_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    log_group_class: Option<String>,
    deletion_protection_enabled: Option<bool>,
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), ApiError> {
    for (k, v) in tags {
        check_len("tags.key", k, 1, 128)?;
        check_len("tags.value", v, 0, 256)?;
        if k.starts_with("aws:") {
            return Err(ApiError::InvalidParameter(format!(
                "Tag keys starting with 'aws:' are reserved: {k}"
            )));
        }
    }
    Ok(())
}

fn check_class(class: Option<&str>) -> Result<(), ApiError> {
    match class {
        None | Some("STANDARD" | "INFREQUENT_ACCESS" | "DELIVERY") => Ok(()),
        Some(c) => Err(ApiError::constraint(
            "logGroupClass",
            c,
            "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
        )),
    }
}

/// CreateLogGroup. `kmsKeyId` is not supported: asking for it is an
/// `InvalidParameterException` naming the feature, never a silent no-op.
pub(crate) fn create_log_group(
    state: &AppState,
    principal: &Principal,
    input: CreateLogGroupInput,
) -> Result<Value, ApiError> {
    let name = log_group_name("logGroupName", input.log_group_name)?;
    if name.starts_with("aws/") {
        return Err(ApiError::InvalidParameter(
            "Log group names starting with 'aws/' are reserved for AWS".to_string(),
        ));
    }
    if input.kms_key_id.is_some() {
        return Err(ApiError::InvalidParameter(
            "kmsKeyId is not supported by this server (events are not KMS-encrypted)".into(),
        ));
    }
    let tags = input.tags.unwrap_or_default();
    if tags.len() > MAX_TAGS {
        return Err(ApiError::constraint(
            "tags",
            tags.len(),
            "Member must have length less than or equal to 50",
        ));
    }
    check_tags(&tags)?;
    check_class(input.log_group_class.as_deref())?;
    state.store().create_log_group(
        &principal.account_id,
        &name,
        tags,
        input.log_group_class.as_deref(),
        input.deletion_protection_enabled == Some(true),
    )?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupNameInput {
    log_group_name: Option<String>,
}

pub(crate) fn delete_log_group(
    state: &AppState,
    _principal: &Principal,
    input: GroupNameInput,
) -> Result<Value, ApiError> {
    let name = log_group_name("logGroupName", input.log_group_name)?;
    state.store().delete_log_group(&name)?;
    crate::monitoring::logs_filters::after_delete_log_group(state, &name);
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogGroupsInput {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    log_group_identifiers: Option<Vec<String>>,
    account_identifiers: Option<Vec<String>>,
    include_linked_accounts: Option<bool>,
    log_group_class: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

fn group_wire(g: &GroupInfo, region: &str) -> Value {
    let arn = g.log_group_arn(region);
    let mut v = json!({
        "logGroupName": g.name,
        "creationTime": g.creation_time_ms,
        "metricFilterCount": 0,
        "arn": format!("{arn}:*"),
        "storedBytes": g.stored_bytes,
        "logGroupClass": g.log_group_class,
        "logGroupArn": arn,
        "deletionProtectionEnabled": g.deletion_protection_enabled,
    });
    if let Some(days) = g.retention_in_days {
        v["retentionInDays"] = json!(days);
    }
    v
}

/// A name-keyed token: the next page starts after `name` (tokens survive creations and
/// deletions between pages) [I: AWS tokens are opaque; see [`super::key_token`]].
fn name_token(name: &str) -> String {
    key_token("n", &[name])
}

fn parse_name_token(token: &str) -> Result<String, ApiError> {
    let mut parts = parse_key_token("n", token, 1)?;
    Ok(parts.pop().unwrap_or_default())
}

/// DescribeLogGroups: ASCII-sorted by name [V]; `logGroupNamePattern` is a case-sensitive
/// substring; `logGroupIdentifiers` names or ARNs.
pub(crate) fn describe_log_groups(
    state: &AppState,
    _principal: &Principal,
    input: DescribeLogGroupsInput,
) -> Result<Value, ApiError> {
    let limit = int_in("limit", input.limit, 1, 50, 50)? as usize;
    if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
        return Err(ApiError::InvalidParameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
                .into(),
        ));
    }
    let ids = input.log_group_identifiers.unwrap_or_default();
    if !ids.is_empty()
        && (input.log_group_name_prefix.is_some() || input.log_group_name_pattern.is_some())
    {
        return Err(ApiError::InvalidParameter(
            "logGroupIdentifiers can only be combined with includeLinkedAccounts".into(),
        ));
    }
    if ids.len() > 50 {
        return Err(ApiError::constraint(
            "logGroupIdentifiers",
            ids.len(),
            "Member must have length less than or equal to 50",
        ));
    }
    if input
        .account_identifiers
        .as_ref()
        .is_some_and(|a| a.len() > 20)
    {
        return Err(ApiError::constraint(
            "accountIdentifiers",
            "[…]",
            "Member must have length less than or equal to 20",
        ));
    }
    let _ = input.include_linked_accounts;
    check_class(input.log_group_class.as_deref())?;
    if let Some(p) = &input.log_group_name_prefix {
        check_len("logGroupNamePrefix", p, 1, 512)?;
    }
    // Another account's ARNs name groups the caller cannot see: they match nothing.
    let names: Vec<String> = ids
        .iter()
        .filter(|i| super::check_identifier_account(i, state.account_id()).is_ok())
        .map(|i| super::identifier_to_name(i))
        .collect();
    let after = input
        .next_token
        .as_deref()
        .map(parse_name_token)
        .transpose()?;
    let region = &state.config().region;
    let mut groups = state.store().list_log_groups()?;
    groups.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut matching = groups.into_iter().filter(|g| {
        input
            .log_group_name_prefix
            .as_deref()
            .is_none_or(|p| g.name.starts_with(p))
            && input
                .log_group_name_pattern
                .as_deref()
                .is_none_or(|p| g.name.contains(p))
            && (ids.is_empty() || names.contains(&g.name))
            && input
                .log_group_class
                .as_deref()
                .is_none_or(|c| g.log_group_class == c)
            && after.as_deref().is_none_or(|a| g.name.as_str() > a)
            && input
                .account_identifiers
                .as_ref()
                .is_none_or(|accts| accts.is_empty() || accts.contains(&g.account_id))
    });
    let page: Vec<GroupInfo> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let mut out = json!({
        "logGroups": page
            .iter()
            .map(|g| crate::monitoring::with_metric_filter_count(state, g, group_wire(g, region)))
            .collect::<Vec<_>>()
    });
    if more {
        if let Some(last) = page.last() {
            out["nextToken"] = json!(name_token(&last.name));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Log streams

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamInput {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
}

pub(crate) fn create_log_stream(
    state: &AppState,
    _principal: &Principal,
    input: StreamInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", input.log_group_name)?;
    let stream = log_stream_name("logStreamName", input.log_stream_name)?;
    state.store().create_log_stream(&group, &stream)?;
    Ok(json!({}))
}

pub(crate) fn delete_log_stream(
    state: &AppState,
    _principal: &Principal,
    input: StreamInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", input.log_group_name)?;
    let stream = log_stream_name("logStreamName", input.log_stream_name)?;
    state.store().delete_log_stream(&group, &stream)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogStreamsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    limit: Option<i64>,
    next_token: Option<String>,
}

/// DescribeLogStreams: by name (ASCII) or by last event time; `descending` reverses;
/// a prefix is not allowed with `LastEventTime` [V]. `storedBytes` is always 0 [V].
///
/// Pages are linked by a position token [I: AWS tokens are opaque; ours is
/// [`super::key_token`]]: the sort key of the page's last stream (its name, or its
/// `(lastEventTimestamp, name)` with `LastEventTime`, streams without events first), and
/// the next page starts strictly after it in the same order, so streams created or deleted
/// between calls never make another stream repeat or vanish. A stream whose last event
/// time changes between calls moves in the `LastEventTime` order, and may then be listed
/// twice or not at all. The token names its order: one from another `orderBy` or
/// `descending` is an `InvalidParameterException`.
pub(crate) fn describe_log_streams(
    state: &AppState,
    principal: &Principal,
    input: DescribeLogStreamsInput,
) -> Result<Value, ApiError> {
    let group = group_name_or_identifier(
        input.log_group_name,
        input.log_group_identifier,
        state.account_id(),
    )?;
    let limit = int_in("limit", input.limit, 1, 50, 50)? as usize;
    let by_time = match input.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(o) => {
            return Err(ApiError::constraint(
                "orderBy",
                o,
                "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
            ))
        }
    };
    if by_time && input.log_stream_name_prefix.is_some() {
        return Err(ApiError::InvalidParameter(
            "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
        ));
    }
    if let Some(p) = &input.log_stream_name_prefix {
        check_len("logStreamNamePrefix", p, 1, 512)?;
    }
    let descending = input.descending == Some(true);
    let kind = match (by_time, descending) {
        (false, false) => "sna",
        (false, true) => "snd",
        (true, false) => "sta",
        (true, true) => "std",
    };
    // The cursor as the sort key (last event time, or none when ordering by name; name).
    let after: Option<(Option<i64>, String)> = match input.next_token.as_deref() {
        None => None,
        Some(t) if by_time => {
            let mut parts = parse_key_token(kind, t, 2)?.into_iter();
            let time = token_int(t, &parts.next().unwrap_or_default())?;
            Some((time, parts.next().unwrap_or_default()))
        }
        Some(t) => Some((None, parse_key_token(kind, t, 1)?.pop().unwrap_or_default())),
    };
    let info = require_group(state, principal, &group)?;
    let mut streams = state.store().list_log_streams(&group)?;
    // The sort key: (last event time, name bytes) with `LastEventTime`, else (none, name).
    fn key(s: &StreamInfo, by_time: bool) -> (Option<i64>, &[u8]) {
        let time = if by_time {
            s.last_event_timestamp_ms
        } else {
            None
        };
        (time, s.name.as_bytes())
    }
    streams.retain(|s| {
        input
            .log_stream_name_prefix
            .as_deref()
            .is_none_or(|p| s.name.starts_with(p))
            && after.as_ref().is_none_or(|(time, name)| {
                let cursor = (*time, name.as_bytes());
                if descending {
                    key(s, by_time) < cursor
                } else {
                    key(s, by_time) > cursor
                }
            })
    });
    streams.sort_by(|a, b| key(a, by_time).cmp(&key(b, by_time)));
    if descending {
        streams.reverse();
    }
    let region = &state.config().region;
    let group_arn = info.log_group_arn(region);
    let more = streams.len() > limit;
    streams.truncate(limit);
    let page: Vec<Value> = streams
        .iter()
        .map(|s| {
            let mut v = json!({
                "logStreamName": s.name,
                "creationTime": s.creation_time_ms,
                "arn": format!("{group_arn}:log-stream:{}", s.name),
                "storedBytes": 0,
            });
            if let Some(t) = s.first_event_timestamp_ms {
                v["firstEventTimestamp"] = json!(t);
            }
            if let Some(t) = s.last_event_timestamp_ms {
                v["lastEventTimestamp"] = json!(t);
            }
            if let Some(t) = s.last_ingestion_time_ms {
                v["lastIngestionTime"] = json!(t);
            }
            v
        })
        .collect();
    let mut out = json!({ "logStreams": page });
    if more {
        if let Some(last) = streams.last() {
            let token = if by_time {
                let time = last
                    .last_event_timestamp_ms
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                key_token(kind, &[&time, &last.name])
            } else {
                key_token(kind, &[&last.name])
            };
            out["nextToken"] = json!(token);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Events

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEventsInput {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
    log_events: Option<Vec<InputEvent>>,
    sequence_token: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct InputEvent {
    timestamp: Option<i64>,
    message: Option<String>,
}

/// PutLogEvents: shape checks here, the AWS batch rules (size, count, order, 24-hour span,
/// too old/new/expired) in the store. The sequence token is ignored [V].
pub(crate) fn put_log_events(
    state: &AppState,
    _principal: &Principal,
    input: PutLogEventsInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", input.log_group_name)?;
    let stream = log_stream_name("logStreamName", input.log_stream_name)?;
    let _ = input.sequence_token;
    let events = required(input.log_events, "logEvents")?;
    if events.is_empty() {
        return Err(ApiError::constraint(
            "logEvents",
            "[]",
            "Member must have length greater than or equal to 1",
        ));
    }
    let mut batch = Vec::with_capacity(events.len());
    for (i, e) in events.into_iter().enumerate() {
        let ts = e
            .timestamp
            .ok_or_else(|| ApiError::missing(&format!("logEvents.{}.member.timestamp", i + 1)))?;
        // The model's `InputLogEvent.timestamp` has `range min 0` (ms since the epoch): a
        // negative one fails validation before anything is written.
        if ts < 0 {
            return Err(ApiError::constraint(
                &format!("logEvents.{}.member.timestamp", i + 1),
                ts,
                "Member must have value greater than or equal to 0",
            ));
        }
        let message = e
            .message
            .ok_or_else(|| ApiError::missing(&format!("logEvents.{}.member.message", i + 1)))?;
        batch.push((ts, message));
    }
    let kept = crate::monitoring::wants_events(state, &group).then(|| batch.clone());
    let rejected = state.store().put_log_events(&group, &stream, batch)?;
    crate::monitoring::after_put_log_events(state, &group, kept, &rejected);
    let mut out = json!({});
    let mut info = Map::new();
    if let Some(i) = rejected.too_new_start {
        info.insert("tooNewLogEventStartIndex".into(), json!(i));
    }
    if let Some(i) = rejected.too_old_end {
        info.insert("tooOldLogEventEndIndex".into(), json!(i));
    }
    if let Some(i) = rejected.expired_end {
        info.insert("expiredLogEventEndIndex".into(), json!(i));
    }
    if !info.is_empty() {
        out["rejectedLogEventsInfo"] = Value::Object(info);
    }
    Ok(out)
}

/// Largest page of GetLogEvents / FilterLogEvents: 1 MB counted as Σ(message + 26) [V].
const MAX_PAGE_BYTES: usize = 1_048_576;

fn event_size(e: &EventRecord) -> usize {
    e.message.len() + 26
}

/// A position between events: `(timestamp_ms, seq)`, encoded as 40 digits [I: AWS shows
/// `f/<digits>`; ours are `f/` or `b/` + 20 digits of timestamp (offset by 2^63) + 20 of seq].
fn encode_key(key: (i64, u64)) -> String {
    let ts = (i128::from(key.0) - i128::from(i64::MIN)) as u64;
    format!("{ts:020}{:020}", key.1)
}

fn decode_key(digits: &str) -> Option<(i64, u64)> {
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ts: u64 = digits.get(..20)?.parse().ok()?;
    let seq: u64 = digits.get(20..)?.parse().ok()?;
    let ts = i64::try_from(i128::from(ts) + i128::from(i64::MIN)).ok()?;
    Some((ts, seq))
}

fn key(e: &EventRecord) -> (i64, u64) {
    (e.timestamp_ms, e.seq)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
    unmask: Option<bool>,
}

/// GetLogEvents: `startTime` inclusive, `endTime` exclusive (ms); `startFromHead` default
/// false (the newest page first). Both tokens are always returned; at the end of the stream
/// the token sent comes back (the termination condition) [V].
pub(crate) fn get_log_events(
    state: &AppState,
    _principal: &Principal,
    input: GetLogEventsInput,
) -> Result<Value, ApiError> {
    let group = group_name_or_identifier(
        input.log_group_name,
        input.log_group_identifier,
        state.account_id(),
    )?;
    let stream = log_stream_name("logStreamName", input.log_stream_name)?;
    let limit = int_in("limit", input.limit, 1, 10_000, 10_000)? as usize;
    let _ = input.unmask;
    let token = match input.next_token.as_deref() {
        None => None,
        Some(t) => {
            let (forward, digits) = if let Some(d) = t.strip_prefix("f/") {
                (true, d)
            } else if let Some(d) = t.strip_prefix("b/") {
                (false, d)
            } else {
                // Not ours: fails to decode below.
                (true, "")
            };
            let k = decode_key(digits).ok_or_else(|| {
                ApiError::InvalidParameter(format!("The specified nextToken is invalid: {t}"))
            })?;
            Some((forward, k, t.to_string()))
        }
    };
    let start_ms = input.start_time.unwrap_or(i64::MIN);
    let end_ms = input.end_time.unwrap_or(i64::MAX);
    state.store().log_stream(&group, &stream)?;
    let streams = [stream];
    let forward = match &token {
        Some((f, _, _)) => *f,
        None => input.start_from_head == Some(true),
    };
    let cursor_key = token.as_ref().map(|(_, k, _)| *k);
    let events = state.store().read_events(
        &group,
        EventRange {
            streams: Some(&streams),
            start_ms,
            end_ms,
            cursor: if forward {
                Cursor::After(cursor_key)
            } else {
                Cursor::Before(cursor_key)
            },
            limit,
            filter: None,
        },
    )?;
    // `events` are the `limit` nearest the cursor, ascending; the page also stops at 1 MB.
    let page: &[EventRecord] = if forward {
        let mut n = 0;
        let mut bytes = 0;
        while n < events.len() && bytes + event_size(&events[n]) <= MAX_PAGE_BYTES {
            bytes += event_size(&events[n]);
            n += 1;
        }
        &events[..n]
    } else {
        let mut n = 0;
        let mut bytes = 0;
        while n < events.len()
            && bytes + event_size(&events[events.len() - 1 - n]) <= MAX_PAGE_BYTES
        {
            bytes += event_size(&events[events.len() - 1 - n]);
            n += 1;
        }
        &events[events.len() - n..]
    };
    let (forward_token, backward_token) = match (page.first(), page.last()) {
        (Some(first), Some(last)) => (
            format!("f/{}", encode_key(key(last))),
            format!("b/{}", encode_key(key(first))),
        ),
        _ => {
            // Nothing (more) in this direction: the token sent comes back.
            let k = match &token {
                Some((_, k, _)) => *k,
                None if forward => (i64::MIN, 0),
                None => (i64::MAX, u64::MAX),
            };
            let same = token.as_ref().map(|(_, _, t)| t.clone());
            let f = if forward {
                same.clone()
                    .unwrap_or_else(|| format!("f/{}", encode_key(k)))
            } else {
                format!("f/{}", encode_key(k))
            };
            let b = if !forward {
                same.unwrap_or_else(|| format!("b/{}", encode_key(k)))
            } else {
                format!("b/{}", encode_key(k))
            };
            (f, b)
        }
    };
    Ok(json!({
        "events": page.iter().map(|e| json!({
            "timestamp": e.timestamp_ms,
            "message": e.message,
            "ingestionTime": e.ingestion_time_ms,
        })).collect::<Vec<_>>(),
        "nextForwardToken": forward_token,
        "nextBackwardToken": backward_token,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterLogEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    interleaved: Option<bool>,
    unmask: Option<bool>,
}

/// FilterLogEvents (filter-patterns.md §8): events of the group (or of the named streams /
/// stream prefix) in `[startTime, endTime]` (ms, both inclusive) matching `filterPattern`
/// (absent or empty = every event), ordered by timestamp then ingestion order, pages of at
/// most `limit` (default 10,000) events and 1 MB. `eventId` is 40 digits (timestamp and
/// seq) [I: AWS's are 56 opaque digits].
pub(crate) fn filter_log_events(
    state: &AppState,
    _principal: &Principal,
    input: FilterLogEventsInput,
) -> Result<Value, ApiError> {
    let group = group_name_or_identifier(
        input.log_group_name,
        input.log_group_identifier,
        state.account_id(),
    )?;
    let limit = int_in("limit", input.limit, 1, 10_000, 10_000)? as usize;
    let _ = (input.interleaved, input.unmask);
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(ApiError::InvalidParameter(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into(),
        ));
    }
    if let Some(names) = &input.log_stream_names {
        if names.is_empty() || names.len() > 100 {
            return Err(ApiError::constraint(
                "logStreamNames",
                names.len(),
                "Member must have length between 1 and 100",
            ));
        }
    }
    let pattern = match input.filter_pattern.as_deref() {
        None | Some("") => None,
        Some(p) => Some(ow_filter_pattern::FilterPattern::parse(p).map_err(|e| {
            if e.is_user_error() {
                // The error text already starts "Invalid filter pattern: ".
                ApiError::InvalidParameter(e.to_string())
            } else {
                ApiError::Internal(format!("filter pattern: {e}"))
            }
        })?),
    };
    let after = match input.next_token.as_deref() {
        None => None,
        Some(t) => Some(t.strip_prefix("e/").and_then(decode_key).ok_or_else(|| {
            ApiError::InvalidParameter(format!("The specified nextToken is invalid: {t}"))
        })?),
    };
    let start_ms = input.start_time.unwrap_or(i64::MIN);
    let end_ms = input
        .end_time
        .map(|e| e.saturating_add(1))
        .unwrap_or(i64::MAX);
    let mut stream_filter: Option<Vec<String>> = input.log_stream_names.clone();
    if let Some(prefix) = &input.log_stream_name_prefix {
        let streams = state.store().list_log_streams(&group)?;
        stream_filter = Some(
            streams
                .into_iter()
                .map(|s| s.name)
                .filter(|n| n.starts_with(prefix.as_str()))
                .collect(),
        );
    }
    let matches = |message: &str| pattern.as_ref().is_none_or(|p| p.matches(message));
    // One more than a page, to know whether a next page exists.
    let events = state.store().read_events(
        &group,
        EventRange {
            streams: stream_filter.as_deref(),
            start_ms,
            end_ms,
            cursor: Cursor::After(after),
            limit: limit + 1,
            filter: Some(&matches),
        },
    )?;
    let mut page = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    for e in &events {
        if page.len() >= limit || bytes + event_size(e) > MAX_PAGE_BYTES {
            more = true;
            break;
        }
        bytes += event_size(e);
        page.push(e);
    }
    let mut out = json!({
        "events": page.iter().map(|e| json!({
            "logStreamName": e.log_stream,
            "timestamp": e.timestamp_ms,
            "message": e.message,
            "ingestionTime": e.ingestion_time_ms,
            "eventId": encode_key(key(e)),
        })).collect::<Vec<_>>(),
        "searchedLogStreams": [],
    });
    if more {
        if let Some(last) = page.last() {
            out["nextToken"] = json!(format!("e/{}", encode_key(key(last))));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Fields and records

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogGroupFieldsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    time: Option<i64>,
}

/// GetLogGroupFields: `time` in epoch **seconds**; fields of events within ±8 minutes of it,
/// default the last 15 minutes [V]. `percent` is rounded to an integer; system fields
/// (`@timestamp`, `@message`, `@logStream`, `@log`, `@ingestionTime`) are in every event.
/// Sorted by percent descending, then name [I].
pub(crate) fn get_log_group_fields(
    state: &AppState,
    principal: &Principal,
    input: GetLogGroupFieldsInput,
) -> Result<Value, ApiError> {
    let group = group_name_or_identifier(
        input.log_group_name,
        input.log_group_identifier,
        state.account_id(),
    )?;
    require_group(state, principal, &group)?;
    let (start_ms, end_ms) = match input.time {
        Some(t) => {
            let ms = t
                .checked_mul(1000)
                .ok_or_else(|| ApiError::constraint("time", t, "Member is out of range"))?;
            (ms.saturating_sub(8 * 60_000), ms.saturating_add(8 * 60_000))
        }
        None => {
            let now = crate::queries::now_ms();
            (now - 15 * 60_000, now)
        }
    };
    let (events, fields) = state.store().field_stats(&group, start_ms, end_ms)?;
    let mut list: Vec<(String, i64)> = Vec::new();
    if events > 0 {
        for f in [
            "@ingestionTime",
            "@log",
            "@logStream",
            "@message",
            "@timestamp",
        ] {
            list.push((f.to_string(), 100));
        }
        for (name, count) in fields {
            let pct = ((count as f64) * 100.0 / (events as f64)).round() as i64;
            list.push((name, pct));
        }
    }
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(json!({
        "logGroupFields": list.iter().map(|(n, p)| json!({"name": n, "percent": p})).collect::<Vec<_>>()
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogRecordInput {
    log_record_pointer: Option<String>,
    unmask: Option<bool>,
}

/// GetLogRecord: every field of the event as strings — `@timestamp` and `@ingestionTime`
/// as epoch ms text [I], `@log` as `account:group`, `@logStream`, `@message` unparsed, and
/// the flattened JSON fields (spec §3.2).
pub(crate) fn get_log_record(
    state: &AppState,
    principal: &Principal,
    input: GetLogRecordInput,
) -> Result<Value, ApiError> {
    let ptr = required(input.log_record_pointer, "logRecordPointer")?;
    let _ = input.unmask;
    let (group, seq) = state.engine().decode_ptr(&ptr).ok_or_else(|| {
        ApiError::InvalidParameter(format!("The log record pointer is not valid: {ptr}"))
    })?;
    let info = require_group(state, principal, &group).map_err(|_| not_found_group())?;
    let event = state.store().get_event(&group, seq)?;
    let mut record = Map::new();
    for (k, v) in state.store().flatten(&event.message) {
        record.insert(k, Value::String(v));
    }
    record.insert("@timestamp".into(), json!(event.timestamp_ms.to_string()));
    record.insert(
        "@ingestionTime".into(),
        json!(event.ingestion_time_ms.to_string()),
    );
    record.insert("@logStream".into(), json!(event.log_stream));
    record.insert(
        "@log".into(),
        json!(format!("{}:{}", info.account_id, info.name)),
    );
    record.insert("@message".into(), json!(event.message));
    Ok(json!({ "logRecord": record }))
}

// ---------------------------------------------------------------------------------------
// Retention and tags

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutRetentionPolicyInput {
    log_group_name: Option<String>,
    retention_in_days: Option<i64>,
}

pub(crate) fn put_retention_policy(
    state: &AppState,
    _principal: &Principal,
    input: PutRetentionPolicyInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", input.log_group_name)?;
    let days = required(input.retention_in_days, "retentionInDays")?;
    let days = u32::try_from(days)
        .ok()
        .filter(|d| RETENTION_DAYS.contains(d))
        .ok_or_else(|| {
            ApiError::constraint(
                "retentionInDays",
                days,
                "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
            )
        })?;
    state.store().set_retention(&group, Some(days))?;
    Ok(json!({}))
}

pub(crate) fn delete_retention_policy(
    state: &AppState,
    _principal: &Principal,
    input: GroupNameInput,
) -> Result<Value, ApiError> {
    let group = log_group_name("logGroupName", input.log_group_name)?;
    state.store().set_retention(&group, None)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogGroupDeletionProtectionInput {
    log_group_identifier: Option<String>,
    deletion_protection_enabled: Option<bool>,
}

/// PutLogGroupDeletionProtection: `logGroupIdentifier`* (a name or an ARN),
/// `deletionProtectionEnabled`*; out `{}` (CloudWatch Logs API reference [V]). While on,
/// DeleteLogGroup and DeleteLogStream fail with `ValidationException`.
pub(crate) fn put_log_group_deletion_protection(
    state: &AppState,
    _principal: &Principal,
    input: PutLogGroupDeletionProtectionInput,
) -> Result<Value, ApiError> {
    let id = required(input.log_group_identifier, "logGroupIdentifier")?;
    let enabled = required(
        input.deletion_protection_enabled,
        "deletionProtectionEnabled",
    )?;
    let group = group_name_or_identifier(None, Some(id), state.account_id())?;
    state.store().set_deletion_protection(&group, enabled)?;
    Ok(json!({}))
}

/// The log group named by a TagResource-style `resourceArn`
/// (`arn:aws:logs:<region>:<account>:log-group:<name>`, optionally with `:*`).
/// An ARN of another account than `account` is `ResourceNotFoundException`.
fn group_from_arn(arn: &str, account: &str) -> Result<String, ApiError> {
    super::check_identifier_account(arn, account)?;
    let name = super::identifier_to_name(arn);
    if name == arn {
        return Err(ApiError::InvalidParameter(format!(
            "Invalid resourceArn: {arn}; only log group ARNs are supported"
        )));
    }
    log_group_name("resourceArn", Some(name))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagResourceInput {
    resource_arn: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

pub(crate) fn tag_resource(
    state: &AppState,
    principal: &Principal,
    input: TagResourceInput,
) -> Result<Value, ApiError> {
    let arn = required(input.resource_arn, "resourceArn")?;
    let tags = required(input.tags, "tags")?;
    if tags.is_empty() || tags.len() > MAX_TAGS {
        return Err(ApiError::constraint(
            "tags",
            tags.len(),
            "Member must have length between 1 and 50",
        ));
    }
    check_tags(&tags)?;
    let group = group_from_arn(&arn, state.account_id())?;
    let info = require_group(state, principal, &group)?;
    let mut merged = info.tags.clone();
    merged.extend(tags.clone());
    if merged.len() > MAX_TAGS {
        return Err(ApiError::TooManyTags {
            message: format!("A resource can have at most {MAX_TAGS} tags"),
            resource_name: arn,
        });
    }
    state.store().tag(&group, tags)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagResourceInput {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub(crate) fn untag_resource(
    state: &AppState,
    _principal: &Principal,
    input: UntagResourceInput,
) -> Result<Value, ApiError> {
    let arn = required(input.resource_arn, "resourceArn")?;
    let keys = required(input.tag_keys, "tagKeys")?;
    if keys.is_empty() || keys.len() > MAX_TAGS {
        return Err(ApiError::constraint(
            "tagKeys",
            keys.len(),
            "Member must have length between 1 and 50",
        ));
    }
    let group = group_from_arn(&arn, state.account_id())?;
    state.store().untag(&group, &keys)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListTagsForResourceInput {
    resource_arn: Option<String>,
}

pub(crate) fn list_tags_for_resource(
    state: &AppState,
    principal: &Principal,
    input: ListTagsForResourceInput,
) -> Result<Value, ApiError> {
    let arn = required(input.resource_arn, "resourceArn")?;
    let group = group_from_arn(&arn, state.account_id())?;
    let info = require_group(state, principal, &group)?;
    Ok(json!({ "tags": info.tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_round_trip() {
        for k in [
            (i64::MIN, 0),
            (-5, 7),
            (0, 0),
            (1_700_000_000_000, 42),
            (i64::MAX, u64::MAX),
        ] {
            assert_eq!(decode_key(&encode_key(k)), Some(k));
        }
        assert_eq!(decode_key("123"), None);
        assert_eq!(decode_key(&"9".repeat(40)), None);
    }

    #[test]
    fn name_tokens_round_trip() {
        for n in ["", "a", "/aws/lambda/x#1"] {
            assert_eq!(parse_name_token(&name_token(n)).unwrap(), n);
        }
        assert_eq!(name_token("ab"), "n6162");
        assert!(parse_name_token("nzz").is_err());
        assert!(parse_name_token("x").is_err());
    }
}
