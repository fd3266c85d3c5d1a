//! Protocol, authentication and error table, through `oneshot`.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::common::{key, Harness};

fn unsigned(op: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/")
        .header("host", "localhost:4566")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("Logs_20140328.{op}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn group_count(h: &Harness) -> usize {
    h.ok("DescribeLogGroups", json!({})).await["logGroups"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn health_needs_no_signature() {
    let h = Harness::new();
    let req = Request::get("/health").body(Body::empty()).unwrap();
    let (status, body, _) = h.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
    h.state.begin_shutdown();
    let req = Request::get("/health").body(Body::empty()).unwrap();
    let (status, _, _) = h.send(req).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn success_has_request_id_and_content_type() {
    let h = Harness::new();
    let (status, body, headers) = h
        .send(Harness::request(
            "CreateLogGroup",
            r#"{"logGroupName":"g"}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({}));
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
    assert_eq!(headers["x-amzn-requestid"].to_str().unwrap().len(), 36);
}

#[tokio::test]
async fn unsigned_request_is_rejected_and_touches_nothing() {
    let h = Harness::new();
    let (status, body, headers) = h
        .send(unsigned("CreateLogGroup", r#"{"logGroupName":"g"}"#))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    assert!(headers.contains_key("x-amzn-requestid"));
    assert_eq!(group_count(&h).await, 0);
}

#[tokio::test]
async fn tampered_body_fails_signature_and_touches_nothing() {
    let h = Harness::new();
    let signed = Harness::request("CreateLogGroup", r#"{"logGroupName":"g"}"#);
    let (parts, _) = signed.into_parts();
    let tampered = Request::from_parts(parts, Body::from(r#"{"logGroupName":"h"}"#));
    let (status, body, _) = h.send(tampered).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(group_count(&h).await, 0);
}

#[tokio::test]
async fn tampered_target_fails_signature() {
    let h = Harness::new();
    let mut signed = Harness::request("DescribeLogGroups", "{}");
    signed.headers_mut().insert(
        "x-amz-target",
        "Logs_20140328.CreateLogGroup".parse().unwrap(),
    );
    let (_, body, _) = h.send(signed).await;
    assert_eq!(body["__type"], "InvalidSignatureException");
}

#[tokio::test]
async fn unknown_key_and_wrong_secret() {
    let h = Harness::new();
    let body = r#"{"logGroupName":"g"}"#;
    let mut other = key();
    other.access_key_id = "AKIDUNKNOWN".into();
    let mut req = unsigned("CreateLogGroup", body);
    ow_api::sign::sign_request(
        &mut req,
        body.as_bytes(),
        &other,
        "us-east-1",
        SystemTime::now(),
    )
    .unwrap();
    let (_, json, _) = h.send(req).await;
    assert_eq!(json["__type"], "UnrecognizedClientException");

    let mut wrong = key();
    wrong.secret_access_key = "not-the-secret".into();
    let mut req = unsigned("CreateLogGroup", body);
    ow_api::sign::sign_request(
        &mut req,
        body.as_bytes(),
        &wrong,
        "us-east-1",
        SystemTime::now(),
    )
    .unwrap();
    let (_, json, _) = h.send(req).await;
    assert_eq!(json["__type"], "InvalidSignatureException");
    assert_eq!(group_count(&h).await, 0);
}

#[tokio::test]
async fn stale_signature_is_rejected() {
    let h = Harness::new();
    let body = "{}";
    let mut req = unsigned("DescribeLogGroups", body);
    let old = SystemTime::now() - Duration::from_secs(3600);
    ow_api::sign::sign_request(&mut req, body.as_bytes(), &key(), "us-east-1", old).unwrap();
    let (_, json, _) = h.send(req).await;
    assert_eq!(json["__type"], "InvalidSignatureException");
    assert!(json["message"]
        .as_str()
        .unwrap()
        .contains("Signature expired"));
}

/// QA finding E: a signature scoped to another region than the server's is rejected as AWS
/// does; the server's region is configuration (default us-east-1).
#[tokio::test]
async fn qa_sigv4_region() {
    let h = Harness::new();
    let mut req = unsigned("DescribeLogGroups", "{}");
    ow_api::sign::sign_request(&mut req, b"{}", &key(), "eu-west-1", SystemTime::now()).unwrap();
    let (status, json, _) = h.send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["__type"], "InvalidSignatureException");
    assert_eq!(
        json["message"],
        "Credential should be scoped to a valid region."
    );

    let config = ow_api::ApiConfig {
        region: "eu-central-1".into(),
        ..Default::default()
    };
    let h = Harness::with(config, std::sync::Arc::new(crate::common::ScriptedEngine));
    let mut req = unsigned("DescribeLogGroups", "{}");
    ow_api::sign::sign_request(&mut req, b"{}", &key(), "eu-central-1", SystemTime::now()).unwrap();
    let (status, _, _) = h.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let (status, json, _) = h.send(Harness::request("DescribeLogGroups", "{}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert_eq!(json["__type"], "InvalidSignatureException");
}

#[tokio::test]
async fn unknown_operation() {
    let h = Harness::new();
    let (kind, _, status) = h.err("DescribeEverything", json!({})).await;
    assert_eq!(kind, "UnknownOperationException");
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_json_and_wrong_types() {
    let h = Harness::new();
    for body in ["{", "[1,2]", "\"s\"", "{\"logGroupName\": }"] {
        let (status, json, _) = h.send(Harness::request("CreateLogGroup", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json["__type"], "SerializationException", "{body}");
    }
    let (kind, _, _) = h.err("CreateLogGroup", json!({"logGroupName": 5})).await;
    assert_eq!(kind, "SerializationException");
    let (kind, _, _) = h.err("DescribeLogGroups", json!({"limit": "ten"})).await;
    assert_eq!(kind, "SerializationException");
    assert_eq!(group_count(&h).await, 0);
}

#[tokio::test]
async fn missing_required_member_is_invalid_parameter() {
    let h = Harness::new();
    let (kind, msg, _) = h.err("CreateLogGroup", json!({})).await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(msg.contains("Value null at 'logGroupName'"), "{msg}");
}

#[tokio::test]
async fn empty_body_is_an_empty_object() {
    let h = Harness::new();
    let (status, json, _) = h.send(Harness::request("DescribeLogGroups", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json, json!({"logGroups": []}));
}

#[tokio::test]
async fn oversized_body_is_413_before_anything_runs() {
    let config = ow_api::ApiConfig {
        max_body_bytes: 1024,
        ..Default::default()
    };
    let h = Harness::with(config, std::sync::Arc::new(crate::common::ScriptedEngine));
    let big = json!({"logGroupName": "g", "tags": {"k": "v".repeat(2000)}}).to_string();
    let (status, json, _) = h.send(Harness::request("CreateLogGroup", &big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json["__type"], "RequestEntityTooLargeException");
    assert_eq!(group_count(&h).await, 0);
}

/// The example configuration in `examples/` (referenced by the README) stays valid.
#[test]
fn example_serve_config_parses() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/openwatch-serve.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let c = ow_api::config::ServerConfig::from_json(&text).unwrap();
    assert_eq!(c.keys.len(), 1);
    assert_eq!(c.keys[0].account_id, "123456789012");
    assert_eq!(c.api.max_concurrent_queries, 30);
    assert_eq!(c.age_windows.max_age_ms, None);
    assert_eq!(c.age_windows.max_future_ms, Some(7_200_000));
}
