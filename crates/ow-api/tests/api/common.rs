//! Test harness: a server state over a real store in a temp dir, signed requests, oneshot.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use ow_api::backend::{
    Cancel, PartialFn, ProgressFn, QueryBackend, QueryFailure, QueryFuture, QueryResult, QuerySpec,
};
use ow_api::{AccessKey, ApiConfig, ApiError, AppState, KeyStore};
use serde_json::Value;
use tower::ServiceExt;

pub const ACCOUNT: &str = "123456789012";

pub fn key() -> AccessKey {
    AccessKey {
        access_key_id: "AKIDTESTKEY0000000001".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        account_id: ACCOUNT.into(),
    }
}

/// A scripted query engine for lifecycle tests: a query text `wait` runs until cancelled;
/// `fail` fails; anything else completes at once with one row echoing the query and groups.
pub struct ScriptedEngine;

impl QueryBackend for ScriptedEngine {
    fn validate(&self, spec: &QuerySpec) -> Result<(), ApiError> {
        let query = &spec.query;
        if query.contains("|||") {
            Err(ApiError::MalformedQuery {
                message: "Q201: unexpected '|'".into(),
                start_char: query.find("|||").unwrap_or(0),
                end_char: query.find("|||").unwrap_or(0) + 1,
            })
        } else {
            Ok(())
        }
    }

    fn run(
        &self,
        spec: QuerySpec,
        cancel: Cancel,
        progress: ProgressFn,
        _partial: PartialFn,
    ) -> QueryFuture {
        Box::pin(async move {
            match spec.query.as_str() {
                "wait" => {
                    progress(7, 70);
                    while !cancel.is_cancelled() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(QueryFailure::Cancelled)
                }
                "fail" => Err(QueryFailure::Failed("scripted failure".into())),
                q if q.starts_with("rows ") => {
                    let n: usize = q[5..].parse().unwrap_or(0);
                    Ok(QueryResult {
                        rows: (0..n)
                            .map(|i| vec![("i".to_string(), i.to_string())])
                            .collect(),
                        ..Default::default()
                    })
                }
                q => Ok(QueryResult {
                    rows: vec![vec![
                        ("query".into(), q.to_string()),
                        ("groups".into(), spec.log_groups.join(",")),
                        ("start".into(), spec.start_ms.to_string()),
                        ("end".into(), spec.end_ms.to_string()),
                    ]],
                    records_matched: 1.0,
                    records_scanned: 2.0,
                    bytes_scanned: 3.0,
                    log_groups_scanned: spec.log_groups.len() as f64,
                }),
            }
        })
    }

    fn decode_ptr(&self, ptr: &str) -> Option<(String, u64)> {
        let (g, s) = ptr.rsplit_once('#')?;
        Some((g.to_string(), s.parse().ok()?))
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub router: Router,
}

pub fn store_config() -> ow_storage::StoreConfig {
    ow_storage::StoreConfig {
        account_id: ACCOUNT.into(),
        ..Default::default()
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(ApiConfig::default(), Arc::new(ScriptedEngine))
    }

    pub fn with(config: ApiConfig, engine: Arc<dyn QueryBackend>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        Harness::in_dir(dir, config, engine)
    }

    pub fn in_dir(
        dir: tempfile::TempDir,
        config: ApiConfig,
        engine: Arc<dyn QueryBackend>,
    ) -> Harness {
        Harness::build(dir, config, engine, store_config())
    }

    /// A harness over a store with `sc` (e.g. a tiny flush threshold for many segments).
    pub fn with_store_config(sc: ow_storage::StoreConfig) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        Harness::build(dir, ApiConfig::default(), Arc::new(ScriptedEngine), sc)
    }

    fn build(
        dir: tempfile::TempDir,
        config: ApiConfig,
        engine: Arc<dyn QueryBackend>,
        sc: ow_storage::StoreConfig,
    ) -> Harness {
        let store = Arc::new(ow_storage::Store::open(dir.path(), sc).unwrap());
        let backend = Arc::new(ow_api::adapters::StoreBackend::new(store));
        let keys = KeyStore::new(vec![key()]).unwrap();
        let state = AppState::new(config, keys, backend, engine, dir.path()).unwrap();
        let router = ow_api::app(state.clone());
        Harness { dir, state, router }
    }

    /// A signed JSON 1.1 request for `op`.
    pub fn request(op: &str, body: &str) -> Request<Body> {
        let mut req = Request::builder()
            .method("POST")
            .uri("/")
            .header("host", "localhost:4566")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Logs_20140328.{op}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        ow_api::sign::sign_request(
            &mut req,
            body.as_bytes(),
            &key(),
            "us-east-1",
            SystemTime::now(),
        )
        .unwrap();
        req
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, json, headers)
    }

    /// Calls `op` and expects 200.
    pub async fn ok(&self, op: &str, body: Value) -> Value {
        let (status, json, _) = self.send(Harness::request(op, &body.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{op} {body}: {json}");
        json
    }

    /// Calls `op` and expects an error; returns (`__type`, message, status).
    pub async fn err(&self, op: &str, body: Value) -> (String, String, StatusCode) {
        let (status, json, _) = self.send(Harness::request(op, &body.to_string())).await;
        assert_ne!(
            status,
            StatusCode::OK,
            "{op} {body} unexpectedly succeeded: {json}"
        );
        (
            json["__type"].as_str().unwrap_or("").to_string(),
            json["message"].as_str().unwrap_or("").to_string(),
            status,
        )
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
