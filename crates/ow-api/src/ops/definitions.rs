//! PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition (spec/api.md §A.2).

use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_len, int_in, key_token, log_group_name, parse_key_token, required};
use crate::auth::Principal;
use crate::definitions::QueryDefinition;
use crate::error::ApiError;
use crate::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutQueryDefinitionInput {
    query_language: Option<String>,
    name: Option<String>,
    query_definition_id: Option<String>,
    log_group_names: Option<Vec<String>>,
    query_string: Option<String>,
    client_token: Option<String>,
    parameters: Option<Vec<ParameterInput>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterInput {
    name: Option<String>,
    default_value: Option<String>,
    description: Option<String>,
}

fn language(member: &str, value: Option<&str>) -> Result<String, ApiError> {
    match value.unwrap_or("CWLI") {
        l @ ("CWLI" | "SQL" | "PPL") => Ok(l.to_string()),
        l => Err(ApiError::constraint(
            member,
            l,
            "Member must satisfy enum value set: [CWLI, SQL, PPL]",
        )),
    }
}

/// PutQueryDefinition: absent `queryDefinitionId` creates, present updates (and must exist).
/// `clientToken` (36–128 chars) makes a create idempotent: the same token again returns the
/// same `queryDefinitionId` and creates no duplicate.
/// The query text is stored as given, not compiled (AWS saves invalid queries too [I]).
pub(crate) fn put_query_definition(
    state: &AppState,
    principal: &Principal,
    input: PutQueryDefinitionInput,
) -> Result<Value, ApiError> {
    let language = language("queryLanguage", input.query_language.as_deref())?;
    let name = required(input.name, "name")?;
    check_len("name", &name, 1, 255)?;
    let query_string = required(input.query_string, "queryString")?;
    check_len("queryString", &query_string, 1, 10_000)?;
    if let Some(t) = &input.client_token {
        check_len("clientToken", t, 36, 128)?;
    }
    let mut groups = Vec::new();
    for g in input.log_group_names.unwrap_or_default() {
        groups.push(log_group_name("logGroupNames", Some(g))?);
    }
    let params = input.parameters.unwrap_or_default();
    if params.len() > 20 {
        return Err(ApiError::constraint(
            "parameters",
            params.len(),
            "Member must have length less than or equal to 20",
        ));
    }
    let mut parameters = Vec::new();
    for p in params {
        let pname = required(p.name, "parameters.member.name")?;
        check_len("parameters.member.name", &pname, 1, 128)?;
        let ok = pname
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && pname.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(ApiError::constraint(
                "parameters.member.name",
                &pname,
                "Member must satisfy regular expression pattern: ^[a-zA-Z_][a-zA-Z0-9_]*$",
            ));
        }
        let mut v = json!({ "name": pname });
        if let Some(d) = p.default_value {
            check_len("parameters.member.defaultValue", &d, 0, 1024)?;
            v["defaultValue"] = Value::String(d);
        }
        if let Some(d) = p.description {
            check_len("parameters.member.description", &d, 0, 512)?;
            v["description"] = Value::String(d);
        }
        parameters.push(v);
    }
    let (id, create) = match input.query_definition_id {
        Some(id) => {
            check_len("queryDefinitionId", &id, 0, 256)?;
            (id, false)
        }
        None => (uuid::Uuid::new_v4().to_string(), true),
    };
    let client_token = if create { input.client_token } else { None };
    let id = state.definitions().put(
        QueryDefinition {
            account_id: principal.account_id.clone(),
            query_definition_id: id.clone(),
            name,
            query_string,
            log_group_names: groups,
            query_language: language,
            parameters,
            last_modified_ms: crate::queries::now_ms(),
            client_token,
        },
        create,
    )?;
    Ok(json!({ "queryDefinitionId": id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeQueryDefinitionsInput {
    query_language: Option<String>,
    query_definition_name_prefix: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// DescribeQueryDefinitions: the account's definitions by name, then id [I], filtered by
/// name prefix and language. Pages are linked by the `(name, queryDefinitionId)` of the
/// page's last definition [I: AWS tokens are opaque; ours is [`super::key_token`]]: the next
/// page starts strictly after it, so definitions created or deleted between calls never
/// make another one repeat or vanish (a renamed definition moves in the order).
pub(crate) fn describe_query_definitions(
    state: &AppState,
    principal: &Principal,
    input: DescribeQueryDefinitionsInput,
) -> Result<Value, ApiError> {
    let language = match input.query_language.as_deref() {
        None => None,
        Some(l) => Some(language("queryLanguage", Some(l))?),
    };
    if let Some(p) = &input.query_definition_name_prefix {
        check_len("queryDefinitionNamePrefix", p, 1, 255)?;
    }
    let max = int_in("maxResults", input.max_results, 1, 1000, 1000)? as usize;
    // The cursor: the (name, id) of the last definition of the previous page.
    let after: Option<(String, String)> = match input.next_token.as_deref() {
        None => None,
        Some(t) => {
            let mut parts = parse_key_token("d", t, 2)?.into_iter();
            let name = parts.next().unwrap_or_default();
            Some((name, parts.next().unwrap_or_default()))
        }
    };
    let mut all = state.definitions().list(
        &principal.account_id,
        input.query_definition_name_prefix.as_deref(),
        language.as_deref(),
    );
    all.retain(|d| {
        after.as_ref().is_none_or(|(name, id)| {
            (d.name.as_str(), d.query_definition_id.as_str()) > (name.as_str(), id.as_str())
        })
    });
    let more = all.len() > max;
    all.truncate(max);
    let page: Vec<Value> = all.iter().map(QueryDefinition::to_wire).collect();
    let mut out = json!({ "queryDefinitions": page });
    if let (true, Some(last)) = (more, all.last()) {
        out["nextToken"] = Value::String(key_token("d", &[&last.name, &last.query_definition_id]));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteQueryDefinitionInput {
    query_definition_id: Option<String>,
}

pub(crate) fn delete_query_definition(
    state: &AppState,
    principal: &Principal,
    input: DeleteQueryDefinitionInput,
) -> Result<Value, ApiError> {
    let id = required(input.query_definition_id, "queryDefinitionId")?;
    state.definitions().delete(&principal.account_id, &id)?;
    Ok(json!({ "success": true }))
}
