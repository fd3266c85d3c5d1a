//! StartQuery, GetQueryResults, StopQuery, DescribeQueries (spec/api.md §A.2).

use std::cmp::Reverse;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    identifier_to_name, int_in, key_token, log_group_name, offset_token, parse_key_token,
    parse_offset_token, required, token_int,
};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::queries::{QueryInfo, QueryMeta, QueryStatus};
use crate::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartQueryInput {
    query_language: Option<String>,
    log_group_name: Option<String>,
    log_group_names: Option<Vec<String>>,
    log_group_identifiers: Option<Vec<String>>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    query_string: Option<String>,
    limit: Option<i64>,
}

/// StartQuery: `startTime`/`endTime` are epoch **seconds**, both inclusive. [I] The end
/// second is inclusive as a whole: events up to `endTime * 1000 + 999` ms are in range.
/// The query is validated fully before a `queryId` is issued, as AWS does: compile errors
/// (syntax, semantic checks) and planner errors (`Q4xx`: an unsupported command, a lookup
/// table that cannot be loaded, a bad `SOURCE` …) are `MalformedQueryException` with the
/// first diagnostic's character offsets (`queryCompileError.location`); a missing log group
/// (named in the request or by `SOURCE`) is `ResourceNotFoundException`. Only errors found
/// while reading events (storage, runtime) make the query `Failed`.
pub(crate) fn start_query(
    state: &AppState,
    principal: &Principal,
    input: StartQueryInput,
) -> Result<Value, ApiError> {
    let config = state.config();
    let language = input.query_language.as_deref().unwrap_or("CWLI");
    if language != "CWLI" {
        return Err(if matches!(language, "SQL" | "PPL") {
            ApiError::InvalidParameter(format!(
                "queryLanguage {language} is not supported by this server; use CWLI"
            ))
        } else {
            ApiError::constraint(
                "queryLanguage",
                language,
                "Member must satisfy enum value set: [CWLI, SQL, PPL]",
            )
        });
    }
    let query_string = required(input.query_string, "queryString")?;
    super::check_len(
        "queryString",
        &query_string,
        0,
        config.max_query_string_chars,
    )?;
    let start_s = required(input.start_time, "startTime")?;
    let end_s = required(input.end_time, "endTime")?;
    if start_s < 0 {
        return Err(ApiError::constraint(
            "startTime",
            start_s,
            "Member must have value greater than or equal to 0",
        ));
    }
    if end_s < start_s {
        return Err(ApiError::InvalidParameter(
            "endTime must be greater than or equal to startTime".to_string(),
        ));
    }
    let limit = match input.limit {
        None => None,
        Some(l) => Some(int_in("limit", Some(l), 1, config.max_query_limit as i64, 0)? as usize),
    };
    let given = [
        input.log_group_name.is_some(),
        input.log_group_names.is_some(),
        input.log_group_identifiers.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    let starts_with_source = query_string
        .trim_start()
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("source"));
    if given > 1 {
        return Err(ApiError::InvalidParameter(
            "Only one of logGroupName, logGroupNames and logGroupIdentifiers may be specified"
                .to_string(),
        ));
    }
    if given == 0 && !starts_with_source {
        return Err(ApiError::InvalidParameter(
            "One of logGroupName, logGroupNames or logGroupIdentifiers must be specified"
                .to_string(),
        ));
    }
    let mut groups = Vec::new();
    if let Some(n) = input.log_group_name {
        groups.push(log_group_name("logGroupName", Some(n))?);
    }
    for n in input.log_group_names.unwrap_or_default() {
        groups.push(log_group_name("logGroupNames", Some(n))?);
    }
    for id in input.log_group_identifiers.unwrap_or_default() {
        super::check_identifier_account(&id, state.account_id())?;
        groups.push(log_group_name(
            "logGroupIdentifiers",
            Some(identifier_to_name(&id)),
        )?);
    }
    if groups.len() > config.max_query_log_groups {
        return Err(ApiError::InvalidParameter(format!(
            "A query may read at most {} log groups; {} were given",
            config.max_query_log_groups,
            groups.len()
        )));
    }
    let start_ms = start_s
        .checked_mul(1000)
        .ok_or_else(|| ApiError::constraint("startTime", start_s, "Member is out of range"))?;
    let end_ms = end_s
        .checked_mul(1000)
        .and_then(|v| v.checked_add(999))
        .ok_or_else(|| ApiError::constraint("endTime", end_s, "Member is out of range"))?;
    let request = crate::backend::QuerySpec {
        query: query_string.clone(),
        log_groups: groups.clone(),
        start_ms,
        end_ms,
        limit,
    };
    // Everything that can be known without reading events is checked here, before a
    // queryId exists (spec/api.md §A.2 StartQuery errors).
    state.engine().validate(&request)?;
    for g in &request.log_groups {
        super::logs::require_group(state, principal, g)?;
    }
    let meta = QueryMeta {
        account_id: principal.account_id.clone(),
        query_string,
        log_group_names: groups,
    };
    let id = state
        .queries()
        .start(request, meta, config.query_retention)?;
    Ok(json!({ "queryId": id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetQueryResultsInput {
    query_id: Option<String>,
    next_token: Option<String>,
    max_items: Option<i64>,
}

/// GetQueryResults: rows, statistics (the engine's progress while running), status. Rows come
/// in pages of `maxItems` (default and at most 10,000) linked by an offset `nextToken` [I]
/// (the rows of a finished query never change, so an offset is a stable position).
/// While `Running`, `results` holds the partial rows (see [`crate::queries`]).
pub(crate) fn get_query_results(
    state: &AppState,
    principal: &Principal,
    input: GetQueryResultsInput,
) -> Result<Value, ApiError> {
    let id = required(input.query_id, "queryId")?;
    super::check_len("queryId", &id, 0, 256)?;
    let page_max = state.config().max_results_per_page;
    // [I] maxItems 0 or absent = a full page.
    let max_items = match int_in("maxItems", input.max_items, 0, page_max as i64, 0)? {
        0 => page_max,
        n => n as usize,
    };
    let offset = parse_offset_token(input.next_token.as_deref())?;
    let info = state.queries().get(&principal.account_id, &id)?;
    let mut out = json!({
        "queryLanguage": "CWLI",
        "results": [],
        "statistics": statistics(&info),
        "status": info.status.as_str(),
    });
    if let Some(output) = &info.output {
        let rows = &output.rows;
        let end = offset.saturating_add(max_items).min(rows.len());
        let page: Vec<Value> = rows
            .get(offset.min(rows.len())..end)
            .unwrap_or(&[])
            .iter()
            .map(|row| row_json(row))
            .collect();
        out["results"] = Value::Array(page);
        if end < rows.len() {
            out["nextToken"] = Value::String(offset_token(end));
        }
    } else if let Some(rows) = &info.partial_rows {
        // [I] While Running: the first `maxItems` rows found so far, no nextToken (rows
        // found later may sort before them, so offsets are not stable until Complete).
        out["results"] = Value::Array(
            rows.iter()
                .take(max_items)
                .map(|row| row_json(row))
                .collect(),
        );
    }
    Ok(out)
}

fn row_json(row: &[(String, String)]) -> Value {
    Value::Array(
        row.iter()
            .map(|(field, value)| json!({"field": field, "value": value}))
            .collect(),
    )
}

fn statistics(info: &QueryInfo) -> Value {
    let running = crate::backend::QueryResult {
        records_scanned: info.progress.0 as f64,
        bytes_scanned: info.progress.1 as f64,
        ..Default::default()
    };
    let s = info.output.as_deref().unwrap_or(&running);
    json!({
        "recordsMatched": s.records_matched,
        "recordsScanned": s.records_scanned,
        "estimatedRecordsSkipped": 0.0,
        "bytesScanned": s.bytes_scanned,
        "estimatedBytesSkipped": 0.0,
        "logGroupsScanned": s.log_groups_scanned,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StopQueryInput {
    query_id: Option<String>,
}

pub(crate) fn stop_query(
    state: &AppState,
    principal: &Principal,
    input: StopQueryInput,
) -> Result<Value, ApiError> {
    let id = required(input.query_id, "queryId")?;
    state.queries().stop(&principal.account_id, &id)?;
    Ok(json!({ "success": true }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeQueriesInput {
    log_group_name: Option<String>,
    status: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    query_language: Option<String>,
}

/// DescribeQueries: the account's queries, newest first [I], filtered by log group (any of
/// the query's groups), status and language. Pages are linked by the position of the page's
/// last query, `(createTime, queryId)` [I: AWS tokens are opaque; ours is
/// [`super::key_token`]]: the next page starts strictly after it, so queries started or
/// expired between calls never make another query repeat or vanish.
pub(crate) fn describe_queries(
    state: &AppState,
    principal: &Principal,
    input: DescribeQueriesInput,
) -> Result<Value, ApiError> {
    let max = int_in("maxResults", input.max_results, 1, 1000, 1000)? as usize;
    let status = match input.status.as_deref() {
        None => None,
        Some(s) => Some(QueryStatus::parse(s).ok_or_else(|| {
            ApiError::constraint(
                "status",
                s,
                "Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]",
            )
        })?),
    };
    if let Some(l) = input.query_language.as_deref() {
        if !matches!(l, "CWLI" | "SQL" | "PPL") {
            return Err(ApiError::constraint(
                "queryLanguage",
                l,
                "Member must satisfy enum value set: [CWLI, SQL, PPL]",
            ));
        }
    }
    let group = match input.log_group_name {
        None => None,
        Some(g) => Some(log_group_name("logGroupName", Some(g))?),
    };
    // The cursor: the last query of the previous page (newest first, then by id).
    let after: Option<(i64, String)> = match input.next_token.as_deref() {
        None => None,
        Some(t) => {
            let mut parts = parse_key_token("q", t, 2)?.into_iter();
            let time = token_int(t, &parts.next().unwrap_or_default())?
                .ok_or_else(|| super::invalid_token(t))?;
            Some((time, parts.next().unwrap_or_default()))
        }
    };
    let mut all: Vec<QueryInfo> = state
        .queries()
        .list(&principal.account_id)
        .into_iter()
        .filter(|q| status.is_none_or(|s| q.status == s))
        .filter(|_| input.query_language.as_deref().is_none_or(|l| l == "CWLI"))
        .filter(|q| {
            group
                .as_ref()
                .is_none_or(|g| q.meta.log_group_names.iter().any(|n| n == g))
        })
        .filter(|q| {
            after.as_ref().is_none_or(|(time, id)| {
                (Reverse(q.create_time_ms), q.query_id.as_str()) > (Reverse(*time), id.as_str())
            })
        })
        .collect();
    let more = all.len() > max;
    all.truncate(max);
    let page: Vec<Value> = all
        .iter()
        .map(|q| {
            let mut v = json!({
                "queryLanguage": "CWLI",
                "queryId": q.query_id,
                "queryString": q.meta.query_string,
                "status": q.status.as_str(),
                "createTime": q.create_time_ms,
                "queryDuration": q.duration_ms,
                "bytesScanned": q.output.as_ref().map(|o| o.bytes_scanned).unwrap_or(0.0),
            });
            if let Some(g) = q.meta.log_group_names.first() {
                v["logGroupName"] = Value::String(g.clone());
            }
            v
        })
        .collect();
    let mut out = json!({ "queries": page });
    if let (true, Some(last)) = (more, all.last()) {
        let time = last.create_time_ms.to_string();
        out["nextToken"] = Value::String(key_token("q", &[&time, &last.query_id]));
    }
    Ok(out)
}
