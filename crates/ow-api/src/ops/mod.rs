//! The operations: input validation, the call into the store / query manager, the output
//! shape. Each operation validates its whole input before it changes anything.

mod definitions;
mod logs;
mod queries;
mod subscriptions;

use serde_json::Value;

use crate::auth::Principal;
use crate::dispatch::{input, Operation};
use crate::error::ApiError;
use crate::monitoring::logs_filters as metric_filters;
use crate::AppState;

/// Runs one operation (synchronously; called on the blocking pool).
pub(crate) fn dispatch(
    state: &AppState,
    op: Operation,
    principal: &Principal,
    body: &[u8],
) -> Result<Value, ApiError> {
    use Operation as O;
    match op {
        O::CreateLogGroup => logs::create_log_group(state, principal, input(body)?),
        O::DeleteLogGroup => logs::delete_log_group(state, principal, input(body)?),
        O::DescribeLogGroups => logs::describe_log_groups(state, principal, input(body)?),
        O::CreateLogStream => logs::create_log_stream(state, principal, input(body)?),
        O::DeleteLogStream => logs::delete_log_stream(state, principal, input(body)?),
        O::DescribeLogStreams => logs::describe_log_streams(state, principal, input(body)?),
        O::PutLogEvents => logs::put_log_events(state, principal, input(body)?),
        O::GetLogEvents => logs::get_log_events(state, principal, input(body)?),
        O::FilterLogEvents => logs::filter_log_events(state, principal, input(body)?),
        O::GetLogGroupFields => logs::get_log_group_fields(state, principal, input(body)?),
        O::GetLogRecord => logs::get_log_record(state, principal, input(body)?),
        O::PutRetentionPolicy => logs::put_retention_policy(state, principal, input(body)?),
        O::DeleteRetentionPolicy => logs::delete_retention_policy(state, principal, input(body)?),
        O::PutLogGroupDeletionProtection => {
            logs::put_log_group_deletion_protection(state, principal, input(body)?)
        }
        O::TagResource => logs::tag_resource(state, principal, input(body)?),
        O::UntagResource => logs::untag_resource(state, principal, input(body)?),
        O::ListTagsForResource => logs::list_tags_for_resource(state, principal, input(body)?),
        O::PutMetricFilter => metric_filters::put_metric_filter(state, principal, input(body)?),
        O::DescribeMetricFilters => {
            metric_filters::describe_metric_filters(state, principal, input(body)?)
        }
        O::DeleteMetricFilter => {
            metric_filters::delete_metric_filter(state, principal, input(body)?)
        }
        O::TestMetricFilter => metric_filters::test_metric_filter(state, principal, input(body)?),
        O::PutSubscriptionFilter => {
            subscriptions::put_subscription_filter(state, principal, input(body)?)
        }
        O::DescribeSubscriptionFilters => {
            subscriptions::describe_subscription_filters(state, principal, input(body)?)
        }
        O::DeleteSubscriptionFilter => {
            subscriptions::delete_subscription_filter(state, principal, input(body)?)
        }
        O::StartQuery => queries::start_query(state, principal, input(body)?),
        O::GetQueryResults => queries::get_query_results(state, principal, input(body)?),
        O::StopQuery => queries::stop_query(state, principal, input(body)?),
        O::DescribeQueries => queries::describe_queries(state, principal, input(body)?),
        O::PutQueryDefinition => definitions::put_query_definition(state, principal, input(body)?),
        O::DescribeQueryDefinitions => {
            definitions::describe_query_definitions(state, principal, input(body)?)
        }
        O::DeleteQueryDefinition => {
            definitions::delete_query_definition(state, principal, input(body)?)
        }
    }
}

/// A required member.
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::missing(member))
}

/// A string member's length in characters must be within `min..=max`.
pub(crate) fn check_len(member: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min {
        return Err(ApiError::constraint(
            member,
            value,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(ApiError::constraint(
            member,
            ellipsis(value),
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn ellipsis(s: &str) -> String {
    if s.chars().count() > 64 {
        let head: String = s.chars().take(64).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

/// An integer member within `min..=max`, or `default` when absent.
pub(crate) fn int_in(
    member: &str,
    value: Option<i64>,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ApiError> {
    match value {
        None => Ok(default),
        Some(v) if v < min => Err(ApiError::constraint(
            member,
            v,
            &format!("Member must have value greater than or equal to {min}"),
        )),
        Some(v) if v > max => Err(ApiError::constraint(
            member,
            v,
            &format!("Member must have value less than or equal to {max}"),
        )),
        Some(v) => Ok(v),
    }
}

/// A log group name: 1–512 characters of `[\.\-_/#A-Za-z0-9]` (spec §A.1 [V]).
pub(crate) fn log_group_name(member: &str, value: Option<String>) -> Result<String, ApiError> {
    let name = required(value, member)?;
    check_len(member, &name, 1, 512)?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
    {
        return Err(ApiError::constraint(
            member,
            ellipsis(&name),
            "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        ));
    }
    Ok(name)
}

/// A log stream name: 1–512 characters, no `:` or `*` (spec §A.1 [V]).
pub(crate) fn log_stream_name(member: &str, value: Option<String>) -> Result<String, ApiError> {
    let name = required(value, member)?;
    check_len(member, &name, 1, 512)?;
    if name.contains([':', '*']) {
        return Err(ApiError::constraint(
            member,
            ellipsis(&name),
            "Member must satisfy regular expression pattern: [^:*]*",
        ));
    }
    Ok(name)
}

/// A log group named by `logGroupName` xor `logGroupIdentifier` (a name or an ARN, with or
/// without the trailing `:*`).
///
/// An ARN naming another account than `account` (the caller's) is
/// `ResourceNotFoundException` [I: AWS answers a log group the caller cannot see as not
/// existing; cross-account observability is not supported].
pub(crate) fn group_name_or_identifier(
    name: Option<String>,
    identifier: Option<String>,
    account: &str,
) -> Result<String, ApiError> {
    if let Some(id) = &identifier {
        check_identifier_account(id, account)?;
    }
    match (name, identifier) {
        (Some(_), Some(_)) => Err(ApiError::InvalidParameter(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".to_string(),
        )),
        (None, None) => Err(ApiError::InvalidParameter(
            "Either logGroupName or logGroupIdentifier must be specified".to_string(),
        )),
        (Some(n), None) => log_group_name("logGroupName", Some(n)),
        (None, Some(id)) => log_group_name("logGroupIdentifier", Some(identifier_to_name(&id))),
    }
}

/// The account of a log group ARN `arn:<partition>:logs:<region>:<account>:log-group:…`
/// (`None` for a plain name).
pub(crate) fn arn_account(identifier: &str) -> Option<&str> {
    let rest = identifier.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let (_, service, _, account, kind) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    );
    (service == Some("logs") && kind == Some("log-group"))
        .then_some(account)
        .flatten()
}

/// `ResourceNotFoundException` ("The specified log group does not exist.") when
/// `identifier` is a log group ARN of another account than `account`: accounts are
/// isolated, so another account's log group does not exist for the caller.
pub(crate) fn check_identifier_account(identifier: &str, account: &str) -> Result<(), ApiError> {
    match arn_account(identifier) {
        Some(a) if a != account => Err(ApiError::ResourceNotFound(
            "The specified log group does not exist.".to_string(),
        )),
        _ => Ok(()),
    }
}

/// The log group name in a log group identifier: an ARN
/// `arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]` or a plain name.
pub(crate) fn identifier_to_name(identifier: &str) -> String {
    if let Some(rest) = identifier.strip_prefix("arn:") {
        // partition:logs:region:account:log-group:name[:*]
        let mut parts = rest.splitn(6, ':');
        let (_, service, _, _, kind, name) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        );
        if service == Some("logs") && kind == Some("log-group") {
            if let Some(name) = name {
                return name.strip_suffix(":*").unwrap_or(name).to_string();
            }
        }
    }
    identifier.to_string()
}

/// An opaque pagination token for an offset into an ordering that never changes between
/// calls: `p<offset>` [I: AWS tokens are opaque]. Only for the rows of a finished query
/// (GetQueryResults); a list that items join or leave between calls pages with
/// [`key_token`] instead, since an offset there repeats or skips items.
pub(crate) fn offset_token(offset: usize) -> String {
    format!("p{offset}")
}

/// The offset in a token made by [`offset_token`].
pub(crate) fn parse_offset_token(token: Option<&str>) -> Result<usize, ApiError> {
    match token {
        None => Ok(0),
        Some(t) => t
            .strip_prefix('p')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| invalid_token(t)),
    }
}

/// A position token for a list: the next page starts strictly after the item whose sort
/// key is `parts`, in the list's own order, so items created or deleted between calls never
/// make an item that exists throughout repeat or vanish [I: AWS tokens are opaque; this
/// format is our choice]. `kind` names the list and its order (a token of another kind is
/// rejected); each part is hex-encoded, and the parts are joined by `.`.
pub(crate) fn key_token(kind: &str, parts: &[&str]) -> String {
    let mut s = String::from(kind);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        for b in part.bytes() {
            s.push_str(&format!("{b:02x}"));
        }
    }
    s
}

/// The `n` parts of a token made by [`key_token`] with `kind`, or the
/// `InvalidParameterException` every malformed token gets.
pub(crate) fn parse_key_token(kind: &str, token: &str, n: usize) -> Result<Vec<String>, ApiError> {
    let bad = || invalid_token(token);
    let rest = token.strip_prefix(kind).ok_or_else(bad)?;
    let parts: Vec<String> = rest
        .split('.')
        .map(|hex| {
            if hex.len() % 2 != 0 {
                return Err(bad());
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(bad)
                })
                .collect::<Result<Vec<u8>, _>>()?;
            String::from_utf8(bytes).map_err(|_| bad())
        })
        .collect::<Result<_, _>>()?;
    if parts.len() != n {
        return Err(bad());
    }
    Ok(parts)
}

/// An integer part of a [`key_token`] (`""` for none), or the malformed-token error.
pub(crate) fn token_int(token: &str, part: &str) -> Result<Option<i64>, ApiError> {
    if part.is_empty() {
        return Ok(None);
    }
    part.parse().map(Some).map_err(|_| invalid_token(token))
}

/// The error of a malformed `nextToken` (what the Logs operations have always answered).
pub(crate) fn invalid_token(token: &str) -> ApiError {
    ApiError::InvalidParameter(format!("The specified nextToken is invalid: {token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(
            identifier_to_name("arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*"),
            "/a/b"
        );
        assert_eq!(
            identifier_to_name("arn:aws:logs:us-east-1:123456789012:log-group:g"),
            "g"
        );
        assert_eq!(identifier_to_name("plain"), "plain");
    }

    #[test]
    fn names() {
        assert!(log_group_name("logGroupName", Some("/aws/x_y-z.#1".into())).is_ok());
        assert!(log_group_name("logGroupName", Some("a b".into())).is_err());
        assert!(log_group_name("logGroupName", Some(String::new())).is_err());
        assert!(log_group_name("logGroupName", Some("a".repeat(513))).is_err());
        assert!(log_stream_name("logStreamName", Some("a:b".into())).is_err());
        assert!(log_stream_name("logStreamName", Some("ünï code/ok".into())).is_ok());
    }

    #[test]
    fn tokens() {
        assert_eq!(parse_offset_token(Some(&offset_token(42))).unwrap(), 42);
        assert!(parse_offset_token(Some("garbage")).is_err());
        for parts in [vec!["a"], vec![""], vec!["", "b.c"], vec!["17", "ünï/x"]] {
            let t = key_token("sk", &parts);
            assert_eq!(parse_key_token("sk", &t, parts.len()).unwrap(), parts);
            assert!(parse_key_token("q", &t, parts.len()).is_err());
            assert!(parse_key_token("sk", &t, parts.len() + 1).is_err());
        }
        assert_eq!(key_token("n", &["ab"]), "n6162");
        for bad in ["", "sk", "skz1", "sk616", "sk61.6", "skff", "p2"] {
            assert!(parse_key_token("sk", bad, 2).is_err(), "{bad}");
        }
        assert_eq!(token_int("t", "").unwrap(), None);
        assert_eq!(token_int("t", "-5").unwrap(), Some(-5));
        assert!(token_int("t", "x").is_err());
    }
}
