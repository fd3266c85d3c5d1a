//! AWS JSON 1.1 request decoding and dispatch on `X-Amz-Target`.
//!
//! One request: read the body (capped), verify SigV4, find the operation, parse the body as
//! a JSON object, run the operation, answer `200` with a JSON object or the error table's
//! `{"__type", "message"}` (spec/api.md §A.1). Every response carries `x-amzn-RequestId`.

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::AppState;

/// The `X-Amz-Target` prefix of CloudWatch Logs (spec §A.1).
pub const TARGET_PREFIX: &str = "Logs_20140328.";

/// The JSON 1.1 content type, used for every response.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

macro_rules! operations {
    ($($name:ident),* $(,)?) => {
        /// The operations this server answers, named as in `X-Amz-Target`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Operation { $($name),* }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Operation] = &[$(Operation::$name),*];

            /// The operation's AWS name (`CreateLogGroup`, …).
            pub fn name(self) -> &'static str {
                match self { $(Operation::$name => stringify!($name)),* }
            }

            /// The operation named `name` (exact, case-sensitive as AWS).
            pub fn from_name(name: &str) -> Option<Operation> {
                match name { $(stringify!($name) => Some(Operation::$name),)* _ => None }
            }
        }
    };
}

operations!(
    CreateLogGroup,
    DeleteLogGroup,
    DescribeLogGroups,
    CreateLogStream,
    DeleteLogStream,
    DescribeLogStreams,
    PutLogEvents,
    GetLogEvents,
    FilterLogEvents,
    StartQuery,
    GetQueryResults,
    StopQuery,
    DescribeQueries,
    PutQueryDefinition,
    DescribeQueryDefinitions,
    DeleteQueryDefinition,
    GetLogGroupFields,
    GetLogRecord,
    PutRetentionPolicy,
    DeleteRetentionPolicy,
    PutLogGroupDeletionProtection,
    TagResource,
    UntagResource,
    ListTagsForResource,
    PutMetricFilter,
    DescribeMetricFilters,
    DeleteMetricFilter,
    TestMetricFilter,
    PutSubscriptionFilter,
    DescribeSubscriptionFilters,
    DeleteSubscriptionFilter,
);

/// The operation named by an `X-Amz-Target` header value.
///
/// # Errors
/// [`ApiError::UnknownOperation`] when the header is absent, has another prefix, or names an
/// operation we do not serve.
pub fn parse_target(target: Option<&HeaderValue>) -> Result<Operation, ApiError> {
    let Some(target) = target else {
        return Err(ApiError::UnknownOperation(
            "Missing X-Amz-Target header".to_string(),
        ));
    };
    let text = target.to_str().unwrap_or("");
    text.strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name)
        .ok_or_else(|| {
            ApiError::UnknownOperation(format!(
                "Operation {} is not supported by this server",
                truncate(text, 200)
            ))
        })
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Deserialises an operation's input straight from the request body (one pass, no
/// intermediate JSON tree). An empty body is `{}`; anything but a JSON object is a
/// [`ApiError::Serialization`].
///
/// Unknown members are ignored (as AWS's JSON protocol does); a member of the wrong JSON
/// type is a [`ApiError::Serialization`] naming the problem. Required members are `Option`s
/// in the input types and checked by the operation, so that their absence is AWS's
/// "Member must not be null" `InvalidParameterException`.
pub fn input<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}",
        Some(b'{') => body,
        Some(_) => {
            return Err(ApiError::Serialization(
                "Start of structure or map expected: the request body must be a JSON object"
                    .to_string(),
            ))
        }
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Serialization(format!("Invalid request body: {e}")))
}

/// The axum handler for `POST /`.
pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| truncate(t, 100).to_string())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        target = %target,
        access_key = tracing::field::Empty,
        account = tracing::field::Empty,
    );
    async move {
        let started = std::time::Instant::now();
        let result = process(&state, request).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let response = match result {
            Ok(body) => {
                tracing::info!(status = 200, elapsed_ms, "request done");
                json_response(StatusCode::OK, &body)
            }
            Err(err) => {
                let (kind, status, _) = err.wire();
                if let ApiError::Internal(detail) = &err {
                    tracing::error!(error = %detail, elapsed_ms, "internal error");
                } else {
                    tracing::info!(status = status.as_u16(), error_type = kind, error = %err, elapsed_ms, "request failed");
                }
                json_response(status, &err.body())
            }
        };
        with_request_id(response, &request_id)
    }
    .instrument(span)
    .await
}

async fn process(state: &AppState, request: Request) -> Result<Value, ApiError> {
    let (parts, body) = request.into_parts();
    let limit = state.config().max_body_bytes;
    let bytes = read_body(body, limit).await?;
    let principal = state.keys().verify(&parts, &bytes, SystemTime::now())?;
    let span = tracing::Span::current();
    span.record("access_key", principal.access_key_id.as_str());
    span.record("account", principal.account_id.as_str());
    let op = parse_target(parts.headers.get("x-amz-target"))?;
    run(state, op, principal, bytes).await
}

async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            // axum reports an exceeded limit as a length-limit error in the source chain.
            let text = format!("{e:?}");
            if text.contains("LengthLimit") || text.contains("length limit") {
                Err(ApiError::RequestTooLarge { limit_bytes: limit })
            } else {
                Err(ApiError::Serialization(format!(
                    "cannot read request body: {e}"
                )))
            }
        }
    }
}

/// Runs `op` for `principal` with the parsed body. The store and the query manager are
/// synchronous; their work runs on the blocking pool so a slow fsync never stalls the
/// reactor. A panic inside an operation (a bug) becomes an `Internal` error.
pub async fn run(
    state: &AppState,
    op: Operation,
    principal: Principal,
    body: bytes::Bytes,
) -> Result<Value, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let state = state.for_account(&principal.account_id)?;
        crate::ops::dispatch(&state, op, &principal, &body)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("operation task failed: {e}")))?
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, text).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// `GET /health`: `200 {"status":"ok"}` while serving, `503 {"status":"shutting down"}`
/// once shutdown began. Needs no signature.
pub async fn health(State(state): State<AppState>) -> Response {
    if state.is_shutting_down() {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"status": "shutting down"}),
        )
    } else {
        json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn targets() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(
            parse_target(Some(&h("Logs_20140328.PutLogEvents"))).unwrap(),
            Operation::PutLogEvents
        );
        for bad in [
            "PutLogEvents",
            "Logs_20140328.putLogEvents",
            "Logs_20140328.",
            "X.Y",
        ] {
            assert!(matches!(
                parse_target(Some(&h(bad))),
                Err(ApiError::UnknownOperation(_))
            ));
        }
        assert!(parse_target(None).is_err());
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
    }

    #[test]
    fn bodies() {
        type Obj = Map<String, Value>;
        assert!(input::<Obj>(b"").unwrap().is_empty());
        assert!(input::<Obj>(b" {} ").unwrap().is_empty());
        for bad in [
            &b"[]"[..],
            b"null",
            b"{",
            b"\"x\"",
            b"\xff",
            b"{} {}",
            b"{\"a\":\xff}",
        ] {
            assert!(matches!(input::<Obj>(bad), Err(ApiError::Serialization(_))));
        }
    }
}
