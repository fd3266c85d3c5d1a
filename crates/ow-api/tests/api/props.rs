//! Property tests: random bodies and headers at every operation. The server never answers
//! 5xx, always answers a JSON object (with `__type` and `message` on errors), and requests
//! without a valid signature change nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ow_api::Operation;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::common::Harness;

const MEMBERS: &[&str] = &[
    "logGroupName",
    "logStreamName",
    "logEvents",
    "timestamp",
    "message",
    "limit",
    "nextToken",
    "startTime",
    "endTime",
    "queryString",
    "queryId",
    "logGroupNames",
    "logGroupIdentifier",
    "logGroupIdentifiers",
    "filterPattern",
    "tags",
    "resourceArn",
    "tagKeys",
    "retentionInDays",
    "name",
    "queryDefinitionId",
    "logRecordPointer",
    "startFromHead",
    "orderBy",
    "descending",
    "maxItems",
    "maxResults",
    "status",
    "time",
    "logStreamNames",
    "logStreamNamePrefix",
    "logGroupNamePrefix",
    "logGroupNamePattern",
    "queryLanguage",
    "parameters",
    "kmsKeyId",
    "logGroupClass",
    "deletionProtectionEnabled",
    "clientToken",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            any::<i64>(),
            Just(0i64),
            Just(-1),
            Just(1),
            Just(50),
            Just(10_000),
            Just(i64::MAX),
            Just(i64::MIN)
        ]
        .prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("g".to_string()),
            Just("s".to_string()),
            Just("fields @message".to_string()),
            Just("arn:aws:logs:us-east-1:123456789012:log-group:g".to_string()),
            Just("f/0000".to_string()),
            "\\PC{0,40}",
        ]
        .prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(MEMBERS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // A JSON object with plausible members.
        prop::collection::vec((prop::sample::select(MEMBERS), value()), 0..8).prop_map(|kv| {
            let m: Map<String, Value> = kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            serde_json::to_vec(&Value::Object(m)).unwrap()
        }),
        // Any JSON value.
        value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // Arbitrary bytes.
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

fn operation() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(Operation::ALL).prop_map(|o| o.name().to_string()),
        1 => "[A-Za-z]{0,20}",
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn check_response(status: StatusCode, json: &Value) -> Result<(), TestCaseError> {
    prop_assert!(!status.is_server_error(), "server error {status}: {json}");
    prop_assert!(json.is_object(), "not a JSON object: {json}");
    if status != StatusCode::OK {
        prop_assert!(json["__type"].is_string(), "no __type: {json}");
        prop_assert!(json["message"].is_string(), "no message: {json}");
    }
    Ok(())
}

async fn fingerprint(h: &Harness) -> Value {
    let groups = h.ok("DescribeLogGroups", json!({})).await;
    let defs = h.ok("DescribeQueryDefinitions", json!({})).await;
    let events = h.ok("FilterLogEvents", json!({"logGroupName": "g"})).await["events"].clone();
    json!([groups, defs, events])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Signed requests with random bodies reach every operation's decoder and validation.
    #[test]
    fn signed_random_bodies_never_fail_the_server(op in operation(), body in body()) {
        let rt = runtime();
        rt.block_on(async {
            let h = Harness::new();
            h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
            h.ok("CreateLogStream", json!({"logGroupName": "g", "logStreamName": "s"})).await;
            let text = String::from_utf8_lossy(&body).into_owned();
            // Sign the exact bytes (lossy text of non-UTF-8 input is what we send).
            let req = Harness::request(&op, &text);
            let (status, json, headers) = h.send(req).await;
            check_response(status, &json)?;
            prop_assert!(headers.contains_key("x-amzn-requestid"));
            Ok(())
        })?;
    }

    /// Random headers (target, content type, authorization, date) and bodies without a valid
    /// signature are rejected and change nothing.
    #[test]
    fn unsigned_random_requests_change_nothing(
        op in operation(),
        body in body(),
        auth in prop_oneof![
            Just(None),
            "\\PC{0,80}".prop_map(Some),
            Just(Some("AWS4-HMAC-SHA256 Credential=AKIDTESTKEY0000000001/20240101/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00".to_string())),
        ],
        date in prop_oneof![Just(None), "[0-9TZ]{0,16}".prop_map(Some)],
        content_type in prop_oneof![Just("application/x-amz-json-1.1".to_string()), "\\PC{0,30}"],
    ) {
        let rt = runtime();
        rt.block_on(async {
            let h = Harness::new();
            h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
            let before = fingerprint(&h).await;
            let mut req = Request::builder()
                .method("POST")
                .uri("/")
                .header("host", "localhost");
            if let Ok(v) = axum::http::HeaderValue::from_str(&content_type) {
                req = req.header("content-type", v);
            }
            if let Ok(v) = axum::http::HeaderValue::from_str(&format!("Logs_20140328.{op}")) {
                req = req.header("x-amz-target", v);
            }
            if let Some(a) = auth.and_then(|a| axum::http::HeaderValue::from_str(&a).ok()) {
                req = req.header("authorization", a);
            }
            if let Some(d) = date.and_then(|d| axum::http::HeaderValue::from_str(&d).ok()) {
                req = req.header("x-amz-date", d);
            }
            let (status, json, _) = h.send(req.body(Body::from(body)).unwrap()).await;
            check_response(status, &json)?;
            prop_assert_ne!(status, StatusCode::OK);
            let after = fingerprint(&h).await;
            prop_assert_eq!(before, after);
            Ok(())
        })?;
    }
}
