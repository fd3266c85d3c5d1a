//! The CloudWatch metrics service (`monitoring`, api.md Part B) on the three protocols AWS
//! SDKs use — one operation table ([`Op`]), three codecs:
//!
//! | Protocol | How a request is recognised | Input | Output |
//! |---|---|---|---|
//! | AWS Query | `POST /`, `Content-Type: application/x-www-form-urlencoded`, `Action=<Op>&Version=2010-08-01` (or the same parameters in `GET /?…`) | [`query_xml::decode_form`] | XML `<OpResponse>` / `<ErrorResponse>` |
//! | AWS JSON 1.0 | `POST /`, `X-Amz-Target: GraniteServiceVersion20100801.<Op>` | JSON | JSON, errors `{"__type","message"}` |
//! | Smithy RPC v2 CBOR | `POST /service/GraniteServiceVersion20100801/operation/<Op>` | CBOR | CBOR, `smithy-protocol: rpc-v2-cbor` |
//!
//! Every request is SigV4-verified with the Logs API's key store, signing name
//! `monitoring`. JSON and CBOR errors carry `x-amzn-query-error: <Code>;<Sender|Receiver>`
//! (the service is `awsQueryCompatible`), so botocore reports the legacy Query code
//! (`InvalidParameterValue`, …) whichever protocol it used.
//!
//! Operations: PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics,
//! PutMetricAlarm, PutCompositeAlarm, DescribeAlarms, DescribeAlarmsForMetric,
//! DescribeAlarmHistory, SetAlarmState, DeleteAlarms, EnableAlarmActions,
//! DisableAlarmActions, TagResource, UntagResource, ListTagsForResource (alarm and dashboard
//! ARNs),
//! PutDashboard, GetDashboard, ListDashboards, DeleteDashboards.
//!
//! The metric-filter operations of CloudWatch Logs (PutMetricFilter, …) are in
//! [`logs_filters`], dispatched by the JSON 1.1 front end; after each PutLogEvents the stored events go
//! through the log group's metric filters.

pub mod cbor;
pub mod logs_filters;
mod ops;
pub mod query_xml;
pub mod wire;

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tracing::Instrument;

use crate::error::ApiError;
use crate::AppState;
pub use ops::Op;
use wire::Out;

/// `X-Amz-Target` prefix of the metrics service on AWS JSON 1.0.
pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";

/// Path prefix of the Smithy RPC v2 CBOR operations.
pub const CBOR_PATH_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";

/// SigV4 signing name of the metrics service.
pub const SIGNING_NAME: &str = "monitoring";

/// The wire protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS Query (form in, XML out).
    Query,
    /// AWS JSON 1.0.
    Json10,
    /// Smithy RPC v2 CBOR.
    Cbor,
}

/// An error as the metrics service answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct WireError {
    /// `__type` of the JSON/CBOR protocols (the model's shape name).
    pub type_name: String,
    /// The legacy Query error code (`<Code>`, `x-amzn-query-error`).
    pub code: String,
    /// HTTP status.
    pub status: u16,
    /// Message sent to the client.
    pub message: String,
    /// `Sender` (client fault) or `Receiver`.
    pub sender: bool,
    /// `DashboardValidationMessages` of a `DashboardInvalidInputError`.
    pub validation: Option<Vec<(String, String)>>,
}

impl WireError {
    /// `InvalidParameterValue` (400).
    pub fn invalid_value(message: String) -> Self {
        WireError {
            type_name: "InvalidParameterValueException".into(),
            code: "InvalidParameterValue".into(),
            status: 400,
            message,
            sender: true,
            validation: None,
        }
    }

    /// A body that cannot be decoded (400).
    pub fn serialization(message: String) -> Self {
        WireError {
            type_name: "SerializationException".into(),
            code: "SerializationException".into(),
            status: 400,
            message,
            sender: true,
            validation: None,
        }
    }

    fn unknown_operation(op: &str, protocol: Protocol) -> Self {
        let shown: String = op.chars().take(100).collect();
        match protocol {
            Protocol::Query => WireError {
                type_name: "InvalidAction".into(),
                code: "InvalidAction".into(),
                status: 400,
                message: format!("The action {shown} is not valid for this web service."),
                sender: true,
                validation: None,
            },
            _ => WireError {
                type_name: "UnknownOperationException".into(),
                code: "UnknownOperationException".into(),
                status: 400,
                message: format!("Operation {shown} is not supported by this server"),
                sender: true,
                validation: None,
            },
        }
    }
}

impl From<ow_metrics::MetricsError> for WireError {
    fn from(e: ow_metrics::MetricsError) -> Self {
        let (type_name, code, status) = e.aws_error();
        let user = e.is_user_error();
        if !user {
            tracing::error!(error = %e, "internal error in the metrics service");
        }
        let validation = match &e {
            ow_metrics::MetricsError::DashboardInvalidInput { messages, .. } => {
                Some(messages.clone())
            }
            _ => None,
        };
        WireError {
            type_name: type_name.into(),
            code: code.into(),
            status,
            message: if user {
                e.to_string()
            } else {
                "The service encountered an internal error; see the server log".into()
            },
            sender: user,
            validation,
        }
    }
}

impl From<ApiError> for WireError {
    /// Authentication and transport errors, with the codes AWS's Query services use
    /// (`MissingAuthenticationToken`, `IncompleteSignature`, `SignatureDoesNotMatch`,
    /// `InvalidClientTokenId`) \[I\].
    fn from(e: ApiError) -> Self {
        let (type_name, status, message) = e.wire();
        let code = match &e {
            ApiError::MissingAuthenticationToken => "MissingAuthenticationToken",
            ApiError::IncompleteSignature(_) => "IncompleteSignature",
            ApiError::InvalidSignature(_) => "SignatureDoesNotMatch",
            ApiError::UnrecognizedClient => "InvalidClientTokenId",
            ApiError::RequestTooLarge { .. } => "RequestEntityTooLarge",
            ApiError::Internal(_) => "InternalServiceError",
            _ => type_name,
        };
        if let ApiError::Internal(detail) = &e {
            tracing::error!(error = %detail, "internal error");
        }
        let internal = matches!(e, ApiError::Internal(_) | ApiError::ServiceUnavailable(_));
        WireError {
            type_name: if internal {
                "InternalServiceFault".into()
            } else {
                type_name.into()
            },
            code: code.into(),
            status: status.as_u16(),
            message,
            sender: !internal,
            validation: None,
        }
    }
}

pub(crate) fn validation_out(v: &[(String, String)]) -> Out {
    Out::List(
        v.iter()
            .map(|(p, m)| {
                Out::Struct(vec![
                    ("DataPath", Out::Str(p.clone())),
                    ("Message", Out::Str(m.clone())),
                ])
            })
            .collect(),
    )
}

/// Whether a `POST /` request is for the metrics service (Query form or JSON 1.0 target)
/// rather than CloudWatch Logs.
pub fn is_monitoring_request(headers: &HeaderMap) -> bool {
    if let Some(t) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return t.starts_with(TARGET_PREFIX);
    }
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The router part for the CBOR paths.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/service/GraniteServiceVersion20100801/operation/{op}",
        post(handle_cbor),
    )
}

/// `POST /`: metrics requests (Query, JSON 1.0) here, everything else to the Logs API.
pub async fn handle_root(State(state): State<AppState>, request: Request) -> Response {
    if is_monitoring_request(request.headers()) {
        let protocol = if request.headers().contains_key("x-amz-target") {
            Protocol::Json10
        } else {
            Protocol::Query
        };
        handle(state, request, protocol).await
    } else {
        crate::dispatch::handle(State(state), request).await
    }
}

/// `GET /?Action=<Op>&Version=2010-08-01&…`: AWS Query with the parameters in the query
/// string (older tools and hand-written requests; the signature covers the query string).
pub async fn handle_query_get(State(state): State<AppState>, request: Request) -> Response {
    handle(state, request, Protocol::Query).await
}

async fn handle_cbor(State(state): State<AppState>, request: Request) -> Response {
    handle(state, request, Protocol::Cbor).await
}

async fn handle(state: AppState, request: Request, protocol: Protocol) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!("monitoring", request_id = %request_id, protocol = ?protocol);
    async move {
        let started = std::time::Instant::now();
        let result = process(&state, request, protocol, &request_id).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(r) => {
                tracing::info!(status = 200, elapsed_ms, "request done");
                r
            }
            Err((op, e)) => {
                tracing::info!(status = e.status, op = %op, code = %e.code, error = %e.message, elapsed_ms, "request failed");
                error_response(protocol, &e, &request_id)
            }
        }
    }
    .instrument(span)
    .await
}

type Failed = (String, WireError);

async fn process(
    state: &AppState,
    request: Request,
    protocol: Protocol,
    request_id: &str,
) -> Result<Response, Failed> {
    let (parts, body) = request.into_parts();
    let limit = state.config().max_body_bytes;
    let fail = |e: WireError| (String::new(), e);
    let bytes = read_body(body, limit).await.map_err(fail)?;
    let principal = state
        .keys()
        .verify_service(&parts, &bytes, SystemTime::now(), SIGNING_NAME)
        .map_err(|e| fail(e.into()))?;
    // PutMetricData bodies may be gzip-compressed (the model's `requestcompression`; botocore
    // compresses bodies of 10 KiB and more). The signature covers the compressed bytes.
    let bytes = decode_content(&parts.headers, bytes, limit).map_err(fail)?;
    let (op_name, input) = match protocol {
        Protocol::Query => {
            let form: &[u8] = if parts.method == axum::http::Method::GET {
                parts.uri.query().unwrap_or("").as_bytes()
            } else {
                &bytes
            };
            let (action, version, tree) = query_xml::decode_form(form).map_err(fail)?;
            if let Some(v) = version.as_deref() {
                if v != query_xml::VERSION {
                    return Err(fail(WireError::invalid_value(format!(
                        "The value {v} for parameter Version is invalid: this service is version {}",
                        query_xml::VERSION
                    ))));
                }
            }
            (action, tree)
        }
        Protocol::Json10 => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let op = target.strip_prefix(TARGET_PREFIX).unwrap_or("").to_string();
            let tree = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                serde_json::Value::Object(Default::default())
            } else {
                match serde_json::from_slice::<serde_json::Value>(&bytes) {
                    Ok(v @ serde_json::Value::Object(_)) => v,
                    Ok(_) => {
                        return Err(fail(WireError::serialization(
                            "The request body must be a JSON object".into(),
                        )))
                    }
                    Err(e) => {
                        return Err(fail(WireError::serialization(format!(
                            "The request body is not valid JSON: {e}"
                        ))))
                    }
                }
            };
            (op, tree)
        }
        Protocol::Cbor => {
            let op = parts
                .uri
                .path()
                .strip_prefix(CBOR_PATH_PREFIX)
                .unwrap_or("")
                .to_string();
            (op, cbor::decode(&bytes).map_err(fail)?)
        }
    };
    let op = Op::from_name(&op_name).ok_or_else(|| {
        (
            op_name.clone(),
            WireError::unknown_operation(&op_name, protocol),
        )
    })?;
    let state = state.clone();
    let account = principal.account_id.clone();
    let out = tokio::task::spawn_blocking(move || {
        let scoped = state.for_account(&account)?;
        ops::run(scoped.monitoring(), &account, op, &input)
    })
    .await
    .map_err(|e| {
        (
            op_name.clone(),
            WireError::from(ApiError::Internal(format!("operation task failed: {e}"))),
        )
    })?
    .map_err(|e| (op_name.clone(), e))?;
    Ok(ok_response(protocol, op, out.as_ref(), request_id))
}

/// Undoes `Content-Encoding: gzip` (at most `limit` bytes once inflated); other codings are
/// refused.
fn decode_content(
    headers: &HeaderMap,
    body: bytes::Bytes,
    limit: usize,
) -> Result<bytes::Bytes, WireError> {
    let Some(coding) = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(body);
    };
    let mut out = body;
    // Codings are listed in the order they were applied: undo them from the last.
    for c in coding.split(',').map(str::trim).rev() {
        match c.to_ascii_lowercase().as_str() {
            "" | "identity" => {}
            "gzip" | "x-gzip" => {
                use std::io::Read;
                let mut inflated = Vec::new();
                let reader = flate2::read::MultiGzDecoder::new(&out[..]);
                reader
                    .take(limit as u64 + 1)
                    .read_to_end(&mut inflated)
                    .map_err(|e| {
                        WireError::serialization(format!("The gzip request body is corrupt: {e}"))
                    })?;
                if inflated.len() > limit {
                    return Err(ApiError::RequestTooLarge { limit_bytes: limit }.into());
                }
                out = inflated.into();
            }
            other => {
                return Err(WireError::invalid_value(format!(
                    "Content-Encoding {} is not supported (only gzip)",
                    other.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    Ok(out)
}

async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, WireError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let text = format!("{e:?}");
        if text.contains("LengthLimit") || text.contains("length limit") {
            ApiError::RequestTooLarge { limit_bytes: limit }.into()
        } else {
            WireError::serialization(format!("cannot read request body: {e}"))
        }
    })
}

fn ok_response(protocol: Protocol, op: Op, out: Option<&Out>, request_id: &str) -> Response {
    let mut r = match protocol {
        Protocol::Query => {
            let xml = query_xml::response(op.name(), out, request_id);
            let mut r = (StatusCode::OK, xml).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
            r
        }
        Protocol::Json10 => {
            let v = out
                .map(wire::to_json)
                .unwrap_or_else(|| serde_json::json!({}));
            let mut r =
                (StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            r
        }
        Protocol::Cbor => {
            let body = match out {
                Some(o) => cbor::encode(&cbor::to_cbor(o)),
                None => cbor::encode(&ciborium::value::Value::Map(vec![])),
            };
            let mut r = (StatusCode::OK, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/cbor"),
            );
            r.headers_mut()
                .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            r
        }
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

fn error_response(protocol: Protocol, e: &WireError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = match protocol {
        Protocol::Query => {
            let mut r = (status, query_xml::error(e, request_id)).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
            r
        }
        Protocol::Json10 | Protocol::Cbor => {
            let mut members = vec![
                ("__type", Out::Str(e.type_name.clone())),
                ("message", Out::Str(e.message.clone())),
            ];
            if let Some(v) = &e.validation {
                members.push(("dashboardValidationMessages", validation_out(v)));
            }
            let tree = Out::Struct(members);
            let mut r = if protocol == Protocol::Json10 {
                let mut r = (
                    status,
                    serde_json::to_vec(&wire::to_json(&tree)).unwrap_or_default(),
                )
                    .into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-amz-json-1.0"),
                );
                r
            } else {
                let mut r = (status, cbor::encode(&cbor::to_cbor(&tree))).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/cbor"),
                );
                r.headers_mut()
                    .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
                r
            };
            let fault = if e.sender { "Sender" } else { "Receiver" };
            if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", e.code)) {
                r.headers_mut().insert("x-amzn-query-error", v);
            }
            r
        }
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

/// After a successful `PutLogEvents`: the events the store accepted (those not rejected as
/// too old, expired or too new) go through the log group's metric filters and their data
/// points into the metric store (filter-patterns.md §6: CloudWatch evaluates metric filters
/// at ingestion). A failure to record metric data is logged and does not fail the
/// `PutLogEvents` (the events are stored already) \[I\].
pub(crate) fn after_put_log_events(
    state: &AppState,
    log_group: &str,
    batch: Option<Vec<(i64, String)>>,
    rejected: &crate::backend::Rejected,
) {
    let Some(batch) = batch else { return };
    let start = rejected
        .too_old_end
        .unwrap_or(0)
        .max(rejected.expired_end.unwrap_or(0));
    let end = rejected
        .too_new_start
        .unwrap_or(batch.len())
        .min(batch.len());
    if start >= end {
        return;
    }
    let events: Vec<(i64, &str)> = batch[start..end]
        .iter()
        .map(|(t, m)| (*t, m.as_str()))
        .collect();
    if let Err(e) = state.monitoring().ingest(log_group, &events) {
        tracing::error!(error = %e, log_group, "metric filter data could not be recorded");
    }
}

/// Sets `metricFilterCount` of a DescribeLogGroups entry to the group's number of metric
/// filters.
pub(crate) fn with_metric_filter_count(
    state: &AppState,
    group: &crate::backend::GroupInfo,
    mut wire: serde_json::Value,
) -> serde_json::Value {
    wire["metricFilterCount"] =
        serde_json::json!(state.monitoring().filters.filter_count(&group.name));
    wire
}

/// Whether `PutLogEvents` on `log_group` must keep a copy of its batch for the metric
/// filters (only when the group has any).
pub(crate) fn wants_events(state: &AppState, log_group: &str) -> bool {
    state.monitoring().filters.has_filters(log_group)
}

/// The alarm settings of one account's metrics service: ARNs in the configured region and
/// in `account_id` (the account that owns the alarms).
pub fn monitoring_config(
    config: &crate::ApiConfig,
    account_id: &str,
) -> ow_metrics::MonitoringConfig {
    let mut m = ow_metrics::MonitoringConfig::default();
    m.alarm.region = config.region.clone();
    m.alarm.account_id = account_id.to_string();
    m
}

/// Opens the metrics service of `data_dir` (one account's data directory, see
/// [`crate::account_data_dir`]) for `account_id` on the system clock.
///
/// # Errors
/// [`ApiError::Internal`] when its files cannot be read (they are never overwritten then).
pub fn open(
    data_dir: &std::path::Path,
    config: &crate::ApiConfig,
    account_id: &str,
) -> Result<ow_metrics::Monitoring, ApiError> {
    ow_metrics::Monitoring::open(
        data_dir,
        monitoring_config(config, account_id),
        std::sync::Arc::new(ow_metrics::SystemClock),
    )
    .map_err(|e| ApiError::Internal(format!("opening the metrics service: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_by_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("GraniteServiceVersion20100801.ListMetrics"),
        );
        assert!(is_monitoring_request(&h));
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("Logs_20140328.PutLogEvents"),
        );
        assert!(!is_monitoring_request(&h));
        let mut q = HeaderMap::new();
        q.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        assert!(is_monitoring_request(&q));
        assert!(!is_monitoring_request(&HeaderMap::new()));
        for op in Op::ALL {
            assert_eq!(Op::from_name(op.name()), Some(*op));
        }
    }

    #[test]
    fn server_config_actions() {
        let c = crate::config::ServerConfig::from_json(
            r#"{"actions": {"sns": [{"topicArn": "arn:aws:sns:us-east-1:123456789012:ops",
                 "webhook": "http://127.0.0.1:9/hook"}], "retry": {"maxAttempts": 2},
                 "deadLetterPath": "/tmp/dead.jsonl"}}"#,
        )
        .unwrap();
        assert_eq!(
            c.actions.sns[0].topic_arn,
            "arn:aws:sns:us-east-1:123456789012:ops"
        );
        assert_eq!(c.actions.retry.max_attempts, 2);
        assert_eq!(c.actions.retry.initial_backoff_ms, 500);
        assert!(crate::config::ServerConfig::from_json(r#"{"actions": {"snss": []}}"#).is_err());
        assert!(crate::config::ServerConfig::from_json(
            r#"{"actions": {"sns": [{"topic": "x"}]}}"#
        )
        .is_err());
        assert!(crate::config::ServerConfig::from_json("{}")
            .unwrap()
            .actions
            .sns
            .is_empty());
    }
}
