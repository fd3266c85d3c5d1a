//! QA finding A: accounts are isolated. Two access keys of different accounts through
//! `app()` + `oneshot`: neither sees the other's log groups, events, queries, query
//! definitions, tags, metrics, alarms or dashboards; the same log group name exists in
//! both; ARNs name the owning account.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use ow_api::{AccessKey, ApiConfig, AppState, KeyStore};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{key, now_ms, store_config, ACCOUNT};

const OTHER: &str = "222222222222";

fn other_key() -> AccessKey {
    AccessKey {
        access_key_id: "AKIDOTHERKEY000000002".into(),
        secret_access_key: "otherSecretOtherSecretOtherSecret".into(),
        account_id: OTHER.into(),
    }
}

struct Two {
    dir: tempfile::TempDir,
    router: Router,
}

impl Two {
    fn new() -> Two {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(ow_storage::Store::open(dir.path(), store_config()).unwrap());
        let engine = Arc::new(ow_query::QueryEngine::new(
            store.clone(),
            ow_query::EngineConfig::default(),
        ));
        let keys = KeyStore::new(vec![key(), other_key()]).unwrap();
        let state = AppState::new(
            ApiConfig::default(),
            keys,
            Arc::new(ow_api::adapters::StoreBackend::new(store)),
            Arc::new(ow_api::adapters::EngineBackend::new(engine)),
            dir.path(),
        )
        .unwrap();
        assert!(state.set_account_opener(ow_api::adapters::dir_opener(
            dir.path().to_path_buf(),
            ACCOUNT.into(),
            store_config(),
            ow_query::EngineConfig::default(),
            ApiConfig::default(),
        )));
        Two {
            router: ow_api::app(state),
            dir,
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A Logs (JSON 1.1) call as `k`.
    async fn logs(&self, k: &AccessKey, op: &str, body: Value) -> (StatusCode, Value) {
        let text = body.to_string();
        let mut req = Request::builder()
            .method("POST")
            .uri("/")
            .header("host", "localhost:4566")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Logs_20140328.{op}"))
            .body(Body::from(text.clone()))
            .unwrap();
        ow_api::sign::sign_request(&mut req, text.as_bytes(), k, "us-east-1", SystemTime::now())
            .unwrap();
        self.send(req).await
    }

    async fn logs_ok(&self, k: &AccessKey, op: &str, body: Value) -> Value {
        let (status, v) = self.logs(k, op, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{op} {body}: {v}");
        v
    }

    async fn logs_err(&self, k: &AccessKey, op: &str, body: Value) -> String {
        let (status, v) = self.logs(k, op, body.clone()).await;
        assert_ne!(status, StatusCode::OK, "{op} {body} succeeded: {v}");
        v["__type"].as_str().unwrap_or("").to_string()
    }

    /// A CloudWatch metrics (JSON 1.0) call as `k`.
    async fn metrics(&self, k: &AccessKey, op: &str, body: Value) -> (StatusCode, Value) {
        let text = body.to_string();
        let mut req = Request::builder()
            .method("POST")
            .uri("/")
            .header("host", "localhost:4566")
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "x-amz-target",
                format!("GraniteServiceVersion20100801.{op}"),
            )
            .header("x-amzn-query-mode", "true")
            .body(Body::from(text.clone()))
            .unwrap();
        ow_api::sign::sign_request_for(
            &mut req,
            text.as_bytes(),
            k,
            "us-east-1",
            "monitoring",
            SystemTime::now(),
        )
        .unwrap();
        self.send(req).await
    }

    async fn metrics_ok(&self, k: &AccessKey, op: &str, body: Value) -> Value {
        let (status, v) = self.metrics(k, op, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{op} {body}: {v}");
        v
    }

    async fn put(&self, k: &AccessKey, group: &str, messages: &[&str]) {
        self.logs_ok(k, "CreateLogGroup", json!({"logGroupName": group}))
            .await;
        self.logs_ok(
            k,
            "CreateLogStream",
            json!({"logGroupName": group, "logStreamName": "s"}),
        )
        .await;
        let t = now_ms();
        let events: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"timestamp": t + i as i64, "message": m}))
            .collect();
        self.logs_ok(
            k,
            "PutLogEvents",
            json!({"logGroupName": group, "logStreamName": "s", "logEvents": events}),
        )
        .await;
    }

    async fn messages(&self, k: &AccessKey, group: &str) -> Vec<String> {
        let v = self
            .logs_ok(k, "FilterLogEvents", json!({"logGroupName": group}))
            .await;
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect()
    }

    async fn count(&self, k: &AccessKey, group: &str) -> (String, Value) {
        let start = self
            .logs_ok(
                k,
                "StartQuery",
                json!({"logGroupName": group, "startTime": 0,
                       "endTime": now_ms() / 1000 + 60, "queryString": "stats count(*) as n"}),
            )
            .await;
        let id = start["queryId"].as_str().unwrap().to_string();
        for _ in 0..200 {
            let r = self
                .logs_ok(k, "GetQueryResults", json!({"queryId": id}))
                .await;
            if r["status"] == "Complete" {
                return (id, r["results"].clone());
            }
            assert!(
                r["status"] == "Running" || r["status"] == "Scheduled",
                "{r}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("query {id} did not complete");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qa_account_isolation() {
    let t = Two::new();
    let (a, b) = (key(), other_key());

    // Log groups and events: the same name in both accounts, each with its own events.
    t.put(&a, "/shared", &["a-one", "a-two"]).await;
    let none = t.logs_ok(&b, "DescribeLogGroups", json!({})).await;
    assert_eq!(none["logGroups"], json!([]), "{none}");
    assert_eq!(
        t.logs_err(&b, "FilterLogEvents", json!({"logGroupName": "/shared"}))
            .await,
        "ResourceNotFoundException"
    );
    t.put(&b, "/shared", &["b-one"]).await;
    assert_eq!(t.messages(&a, "/shared").await, ["a-one", "a-two"]);
    assert_eq!(t.messages(&b, "/shared").await, ["b-one"]);
    assert!(t.dir.path().join("accounts").join(OTHER).is_dir());
    for (k, acct) in [(&a, ACCOUNT), (&b, OTHER)] {
        let g = t.logs_ok(k, "DescribeLogGroups", json!({})).await;
        let groups = g["logGroups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{g}");
        assert_eq!(
            groups[0]["logGroupArn"],
            format!("arn:aws:logs:us-east-1:{acct}:log-group:/shared")
        );
    }

    // Another account's ARNs: not found, nothing changed.
    let a_arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/shared");
    assert_eq!(
        t.logs_err(
            &b,
            "TagResource",
            json!({"resourceArn": a_arn, "tags": {"x": "y"}})
        )
        .await,
        "ResourceNotFoundException"
    );
    assert_eq!(
        t.logs_err(&b, "ListTagsForResource", json!({"resourceArn": a_arn}))
            .await,
        "ResourceNotFoundException"
    );
    let tags = t
        .logs_ok(&a, "ListTagsForResource", json!({"resourceArn": a_arn}))
        .await;
    assert_eq!(tags["tags"], json!({}));
    assert_eq!(
        t.logs_err(
            &b,
            "StartQuery",
            json!({"logGroupIdentifiers": [a_arn], "startTime": 0, "endTime": 1,
                   "queryString": "stats count(*)"})
        )
        .await,
        "ResourceNotFoundException"
    );
    let by_id = t
        .logs_ok(
            &b,
            "DescribeLogGroups",
            json!({"logGroupIdentifiers": [a_arn]}),
        )
        .await;
    assert_eq!(by_id["logGroups"], json!([]), "{by_id}");

    // Queries: each counts its own events; the other account cannot read or stop them.
    let (qa, ra) = t.count(&a, "/shared").await;
    let (_, rb) = t.count(&b, "/shared").await;
    assert_eq!(ra[0][0]["value"], "2", "{ra}");
    assert_eq!(rb[0][0]["value"], "1", "{rb}");
    assert_eq!(
        t.logs_err(&b, "GetQueryResults", json!({"queryId": qa}))
            .await,
        "ResourceNotFoundException"
    );
    let qs = t.logs_ok(&b, "DescribeQueries", json!({})).await;
    assert_eq!(qs["queries"].as_array().unwrap().len(), 1, "{qs}");

    // Query definitions.
    let d = t
        .logs_ok(
            &a,
            "PutQueryDefinition",
            json!({"name": "mine", "queryString": "fields @message"}),
        )
        .await;
    let did = d["queryDefinitionId"].as_str().unwrap().to_string();
    let defs = t.logs_ok(&b, "DescribeQueryDefinitions", json!({})).await;
    assert_eq!(defs["queryDefinitions"], json!([]));
    assert_eq!(
        t.logs_err(
            &b,
            "DeleteQueryDefinition",
            json!({"queryDefinitionId": did})
        )
        .await,
        "ResourceNotFoundException"
    );
    let defs = t.logs_ok(&a, "DescribeQueryDefinitions", json!({})).await;
    assert_eq!(defs["queryDefinitions"][0]["name"], "mine");

    // Metrics, alarms, dashboards.
    t.metrics_ok(
        &a,
        "PutMetricData",
        json!({"Namespace": "QA", "MetricData": [{"MetricName": "M", "Value": 1.0}]}),
    )
    .await;
    let la = t.metrics_ok(&a, "ListMetrics", json!({})).await;
    assert_eq!(la["Metrics"].as_array().unwrap().len(), 1, "{la}");
    let lb = t.metrics_ok(&b, "ListMetrics", json!({})).await;
    assert!(
        lb["Metrics"].as_array().is_none_or(|m| m.is_empty()),
        "{lb}"
    );
    for k in [&a, &b] {
        t.metrics_ok(
            k,
            "PutMetricAlarm",
            json!({"AlarmName": "al", "Namespace": "QA", "MetricName": "M", "Statistic": "Sum",
                   "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
                   "ComparisonOperator": "GreaterThanThreshold"}),
        )
        .await;
    }
    t.metrics_ok(
        &a,
        "PutMetricAlarm",
        json!({"AlarmName": "only-a", "Namespace": "QA", "MetricName": "M", "Statistic": "Sum",
               "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
               "ComparisonOperator": "GreaterThanThreshold"}),
    )
    .await;
    for (k, acct, n) in [(&a, ACCOUNT, 2), (&b, OTHER, 1)] {
        let d = t.metrics_ok(k, "DescribeAlarms", json!({})).await;
        let alarms = d["MetricAlarms"].as_array().unwrap();
        assert_eq!(alarms.len(), n, "{d}");
        assert_eq!(
            alarms[0]["AlarmArn"],
            format!("arn:aws:cloudwatch:us-east-1:{acct}:alarm:al")
        );
    }
    t.metrics_ok(
        &a,
        "PutDashboard",
        json!({"DashboardName": "dash", "DashboardBody": "{\"widgets\":[]}"}),
    )
    .await;
    let db = t.metrics_ok(&b, "ListDashboards", json!({})).await;
    assert!(
        db["DashboardEntries"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "{db}"
    );
    let (status, v) = t
        .metrics(&b, "GetDashboard", json!({"DashboardName": "dash"}))
        .await;
    assert_ne!(status, StatusCode::OK, "{v}");
    let da = t.metrics_ok(&a, "ListDashboards", json!({})).await;
    assert_eq!(da["DashboardEntries"][0]["DashboardName"], "dash");
}
