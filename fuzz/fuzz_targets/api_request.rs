//! Fuzz the API's request decoding and dispatch: the first byte picks the operation (or a
//! garbage target), the second whether the request is signed, the rest is the body. The
//! server must answer every request with a JSON object and never a 5xx or a panic.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    key: ow_api::AccessKey,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            ow_storage::Store::open(dir.path(), ow_storage::StoreConfig::default()).unwrap(),
        );
        let engine = Arc::new(ow_query::QueryEngine::new(
            store.clone(),
            ow_query::EngineConfig::default(),
        ));
        let key = ow_api::auth::generate_key(ow_api::auth::DEFAULT_ACCOUNT_ID);
        let state = ow_api::AppState::new(
            ow_api::ApiConfig::default(),
            ow_api::KeyStore::new(vec![key.clone()]).unwrap(),
            Arc::new(ow_api::adapters::StoreBackend::new(store)),
            Arc::new(ow_api::adapters::EngineBackend::new(engine)),
            dir.path(),
        )
        .unwrap();
        let router = ow_api::app(state);
        Fixture { runtime, router, key, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let f = fixture();
    let ops = ow_api::Operation::ALL;
    let target = match ops.get(usize::from(data[0])) {
        Some(op) => format!("Logs_20140328.{}", op.name()),
        None => format!("Logs_20140328.Op{}", data[0]),
    };
    let body = data[2..].to_vec();
    let mut req = Request::builder()
        .method("POST")
        .uri("/")
        .header("host", "localhost")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(Body::from(body.clone()))
        .unwrap();
    if data[1] % 2 == 0 {
        let _ = ow_api::sign::sign_request(&mut req, &body, &f.key, "us-east-1", SystemTime::now());
    }
    let router = f.router.clone();
    f.runtime.block_on(async move {
        let resp = router.oneshot(req).await.unwrap();
        assert!(!resp.status().is_server_error(), "{}", resp.status());
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(v.is_object());
    });
});
