//! The CloudWatch metrics service through `app()` + `oneshot` on all three protocols (AWS
//! Query form/XML, AWS JSON 1.0, Smithy RPC v2 CBOR): every operation, the error shapes
//! (`ErrorResponse`, `__type` + `x-amzn-query-error`), SigV4 with signing name
//! `monitoring`, the Logs metric-filter operations on JSON 1.1 with PutLogEvents feeding
//! the filters, and an end-to-end CIS run over real CloudTrail with a webhook receiver.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use ciborium::value::Value as Cbor;
use ow_api::{ApiConfig, AppState, KeyStore};
use ow_metrics::{
    ActionDispatcher, ActionsConfig, AlarmState, Clock, FakeClock, Monitoring, RetryPolicy,
    SnsTarget,
};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{key, ScriptedEngine};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Query,
    Json10,
    Cbor,
}

const ALL: [Proto; 3] = [Proto::Query, Proto::Json10, Proto::Cbor];

/// 2024-01-02T12:00:00Z.
const T0_MS: i64 = 1_704_196_800_000;

struct Mon {
    _dir: tempfile::TempDir,
    state: AppState,
    router: axum::Router,
    clock: Arc<FakeClock>,
}

impl Mon {
    fn new() -> Mon {
        let dir = tempfile::tempdir().unwrap();
        let mut sc = crate::common::store_config();
        sc.put_limits.max_age_ms = i64::MAX;
        sc.put_limits.max_future_ms = i64::MAX;
        let store = Arc::new(ow_storage::Store::open(dir.path(), sc).unwrap());
        let backend = Arc::new(ow_api::adapters::StoreBackend::new(store));
        let keys = KeyStore::new(vec![key()]).unwrap();
        let config = ApiConfig::default();
        let clock = Arc::new(FakeClock::new(T0_MS));
        let monitoring = Monitoring::open(
            dir.path(),
            ow_api::monitoring::monitoring_config(&config, &ow_api::default_account_id(&keys)),
            clock.clone(),
        )
        .unwrap();
        let state = AppState::with_monitoring(
            config,
            keys,
            backend,
            Arc::new(ScriptedEngine),
            dir.path(),
            monitoring,
        )
        .unwrap();
        let router = ow_api::app(state.clone());
        Mon {
            _dir: dir,
            state,
            router,
            clock,
        }
    }

    fn m(&self) -> &Monitoring {
        self.state.monitoring()
    }

    async fn raw(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, bytes.to_vec())
    }

    /// Calls `op` on protocol `p` with `input` (JSON 1.0 shape; timestamps as epoch
    /// seconds in members whose names end in `Time`/`Date`/`Timestamp`). Returns the status,
    /// headers and the response decoded to JSON (XML: lists/maps rebuilt, scalars as text).
    async fn call(&self, p: Proto, op: &str, input: Value) -> (StatusCode, HeaderMap, Value) {
        let req = build(p, op, &input, "monitoring");
        let (status, headers, body) = self.raw(req).await;
        let v = decode(p, &headers, &body);
        (status, headers, v)
    }

    async fn ok(&self, p: Proto, op: &str, input: Value) -> Value {
        let (status, _, v) = self.call(p, op, input.clone()).await;
        assert_eq!(status, StatusCode::OK, "{p:?} {op} {input}: {v}");
        // Query: unwrap <OpResponse><OpResult>.
        match p {
            Proto::Query => v[format!("{op}Result")].clone(),
            _ => v,
        }
    }

    /// Expects an error; returns (legacy code as a client sees it, message, status).
    async fn err(&self, p: Proto, op: &str, input: Value) -> (String, String, StatusCode, Value) {
        let (status, headers, v) = self.call(p, op, input.clone()).await;
        assert_ne!(status, StatusCode::OK, "{p:?} {op} {input} succeeded: {v}");
        match p {
            Proto::Query => (
                v["Error"]["Code"].as_str().unwrap_or("").to_string(),
                v["Error"]["Message"].as_str().unwrap_or("").to_string(),
                status,
                v,
            ),
            _ => {
                // botocore's query-compatible error parsing: the code comes from the header.
                let h = headers
                    .get("x-amzn-query-error")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let code = h.split(';').next().unwrap_or("").to_string();
                assert!(
                    h.ends_with(";Sender") || h.ends_with(";Receiver"),
                    "x-amzn-query-error {h}"
                );
                assert!(v["__type"].is_string(), "{v}");
                (
                    code,
                    v["message"].as_str().unwrap_or("").to_string(),
                    status,
                    v,
                )
            }
        }
    }

    /// A Logs (JSON 1.1) call.
    async fn logs(&self, op: &str, body: Value) -> Value {
        let (status, _, bytes) = self
            .raw(crate::common::Harness::request(op, &body.to_string()))
            .await;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let shown: String = body.to_string().chars().take(300).collect();
        assert_eq!(status, StatusCode::OK, "{op} {shown}: {v}");
        v
    }

    async fn logs_err(&self, op: &str, body: Value) -> String {
        let (status, _, bytes) = self
            .raw(crate::common::Harness::request(op, &body.to_string()))
            .await;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{op} {body}: {v}");
        v["__type"].as_str().unwrap_or("").to_string()
    }
}

fn is_time_member(k: &str) -> bool {
    k.ends_with("Time") || k.ends_with("Date") || k == "Timestamp"
}

fn sign(req: &mut Request<Body>, body: &[u8], service: &str) {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let k = key();
    let identity = aws_credential_types::Credentials::new(
        &k.access_key_id,
        &k.secret_access_key,
        None,
        None,
        "test",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!(
        "http://signing.invalid{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let method = req.method().as_str().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let signable = SignableRequest::new(
        &method,
        uri,
        headers.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(req);
}

fn build(p: Proto, op: &str, input: &Value, service: &str) -> Request<Body> {
    let (uri, ctype, body): (String, &str, Vec<u8>) = match p {
        Proto::Json10 => (
            "/".into(),
            "application/x-amz-json-1.0",
            input.to_string().into_bytes(),
        ),
        Proto::Cbor => (
            format!("/service/GraniteServiceVersion20100801/operation/{op}"),
            "application/cbor",
            {
                let mut buf = Vec::new();
                ciborium::ser::into_writer(&to_cbor(input, false), &mut buf).unwrap();
                buf
            },
        ),
        Proto::Query => {
            let mut pairs = vec![
                ("Action".to_string(), op.to_string()),
                ("Version".to_string(), "2010-08-01".to_string()),
            ];
            flatten("", input, false, &mut pairs);
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            (
                "/".into(),
                "application/x-www-form-urlencoded; charset=utf-8",
                body.into_bytes(),
            )
        }
    };
    let mut b = Request::builder()
        .method("POST")
        .uri(uri)
        .header("host", "localhost:4566")
        .header("content-type", ctype);
    match p {
        Proto::Json10 => {
            b = b
                .header(
                    "x-amz-target",
                    format!("GraniteServiceVersion20100801.{op}"),
                )
                .header("x-amzn-query-mode", "true")
        }
        Proto::Cbor => {
            b = b
                .header("smithy-protocol", "rpc-v2-cbor")
                .header("accept", "application/cbor")
        }
        Proto::Query => {}
    }
    let mut req = b.body(Body::from(body.clone())).unwrap();
    sign(&mut req, &body, service);
    req
}

fn to_cbor(v: &Value, time: bool) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) if time => Cbor::Tag(1, Box::new(Cbor::Float(n.as_f64().unwrap()))),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap()),
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(a) => Cbor::Array(a.iter().map(|x| to_cbor(x, false)).collect()),
        Value::Object(m) => Cbor::Map(
            m.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(v, is_time_member(k))))
                .collect(),
        ),
    }
}

fn flatten(prefix: &str, v: &Value, time: bool, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, is_time_member(k), out);
            }
        }
        Value::Array(a) => {
            if a.is_empty() {
                out.push((prefix.to_string(), String::new()));
            }
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}.member.{}", i + 1), x, false, out);
            }
        }
        Value::Number(n) if time => {
            let ms = (n.as_f64().unwrap() * 1000.0) as i64;
            // Out-of-range times are sent as the number's text.
            let text = chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_else(|| n.to_string());
            out.push((prefix.into(), text));
        }
        Value::String(s) => out.push((prefix.into(), s.clone())),
        other => out.push((prefix.into(), other.to_string())),
    }
}

fn cbor_json(v: Cbor) -> Value {
    match v {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => json!(b),
        Cbor::Integer(i) => json!(i128::from(i) as i64),
        Cbor::Float(f) => json!(f),
        Cbor::Text(s) => json!(s),
        Cbor::Array(a) => Value::Array(a.into_iter().map(cbor_json).collect()),
        Cbor::Map(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.into_text().unwrap(), cbor_json(v)))
                .collect(),
        ),
        Cbor::Tag(1, inner) => {
            assert!(
                matches!(*inner, Cbor::Float(_)),
                "timestamps are tag 1 + double"
            );
            cbor_json(*inner)
        }
        other => panic!("unexpected CBOR {other:?}"),
    }
}

fn decode(p: Proto, headers: &HeaderMap, body: &[u8]) -> Value {
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match p {
        Proto::Json10 => {
            assert_eq!(ctype, "application/x-amz-json-1.0");
            serde_json::from_slice(body).unwrap()
        }
        Proto::Cbor => {
            assert_eq!(ctype, "application/cbor");
            assert_eq!(headers["smithy-protocol"], "rpc-v2-cbor");
            cbor_json(ciborium::de::from_reader(body).unwrap())
        }
        Proto::Query => {
            assert_eq!(ctype, "text/xml");
            let text = std::str::from_utf8(body).unwrap();
            let (root, tree) = parse_xml(text);
            assert!(
                text.contains("xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\""),
                "{text}"
            );
            if root == "ErrorResponse" {
                assert!(tree["RequestId"].is_string(), "{text}");
            } else {
                assert!(root.ends_with("Response"), "{text}");
                assert!(tree["ResponseMetadata"]["RequestId"].is_string(), "{text}");
            }
            tree
        }
    }
}

/// A minimal XML reader for the responses: elements and text only; `<member>` children
/// become arrays, `<entry><key/><value/>` children objects, empty elements `""`.
fn parse_xml(text: &str) -> (String, Value) {
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#13;", "\r")
            .replace("&amp;", "&")
    }
    fn element(s: &str, pos: &mut usize) -> (String, Value) {
        assert_eq!(&s[*pos..*pos + 1], "<");
        let end = s[*pos..].find('>').unwrap() + *pos;
        let tag = &s[*pos + 1..end];
        let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
        if tag.ends_with('/') {
            *pos = end + 1;
            return (name.to_string(), json!(""));
        }
        *pos = end + 1;
        let close = format!("</{name}>");
        if !s[*pos..].starts_with('<') || s[*pos..].starts_with(&close) {
            let stop = s[*pos..].find(&close).unwrap() + *pos;
            let t = unescape(&s[*pos..stop]);
            *pos = stop + close.len();
            return (name.to_string(), json!(t));
        }
        let mut children = Vec::new();
        while !s[*pos..].starts_with(&close) {
            children.push(element(s, pos));
        }
        *pos += close.len();
        let v = if children.iter().all(|(n, _)| n == "member") {
            Value::Array(children.into_iter().map(|(_, v)| v).collect())
        } else if children.iter().all(|(n, _)| n == "entry") {
            Value::Object(
                children
                    .into_iter()
                    .map(|(_, e)| (e["key"].as_str().unwrap().to_string(), e["value"].clone()))
                    .collect(),
            )
        } else {
            Value::Object(children.into_iter().collect())
        };
        (name.to_string(), v)
    }
    let mut pos = text.find('<').unwrap();
    element(text, &mut pos)
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {s}")),
        other => panic!("not a number: {other}"),
    }
}

/// A timestamp as epoch ms: a number of seconds (JSON/CBOR) or ISO 8601 text (XML).
fn time_ms(v: &Value) -> i64 {
    match v {
        Value::Number(n) => (n.as_f64().unwrap() * 1000.0).round() as i64,
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis(),
        other => panic!("not a timestamp: {other}"),
    }
}

fn arr(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::String(s) if s.is_empty() => vec![],
        Value::Null => vec![],
        other => panic!("not a list: {other}"),
    }
}

fn secs(ms: i64) -> Value {
    json!(ms / 1000)
}

/// Every metrics operation on one protocol, with real values checked.
async fn all_operations(p: Proto) {
    let h = Mon::new();
    let ns = "App/Test";
    // --- PutMetricData: a value, a statistic set, and Values/Counts, two dimension sets.
    let t = T0_MS - 120_000; // 11:58
    h.ok(
        p,
        "PutMetricData",
        json!({"Namespace": ns, "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}],
             "Timestamp": secs(t), "Value": 10.0, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}],
             "Timestamp": secs(t + 10_000), "StatisticValues": {"SampleCount": 2, "Sum": 50, "Minimum": 20, "Maximum": 30}, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}],
             "Timestamp": secs(t), "Values": [1, 2, 3], "Counts": [1, 1, 2], "Unit": "Milliseconds"}
        ]}),
    )
    .await;
    // --- ListMetrics
    let out = h
        .ok(
            p,
            "ListMetrics",
            json!({"Namespace": ns, "Dimensions": [{"Name": "Host", "Value": "b"}]}),
        )
        .await;
    let metrics = arr(&out["Metrics"]);
    assert_eq!(metrics.len(), 1, "{out}");
    assert_eq!(metrics[0]["MetricName"], "Latency");
    assert_eq!(arr(&metrics[0]["Dimensions"])[0]["Value"], "b");
    let all = h.ok(p, "ListMetrics", json!({})).await;
    assert_eq!(arr(&all["Metrics"]).len(), 2);
    // --- GetMetricStatistics: host a, one 60 s period holding 10 + (20..30 ×2).
    let out = h
        .ok(
            p,
            "GetMetricStatistics",
            json!({"Namespace": ns, "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}],
                   "StartTime": secs(t), "EndTime": secs(T0_MS), "Period": 60,
                   "Statistics": ["Sum", "SampleCount", "Maximum", "Minimum", "Average"]}),
        )
        .await;
    assert_eq!(out["Label"], "Latency");
    let dps = arr(&out["Datapoints"]);
    assert_eq!(dps.len(), 1, "{out}");
    assert_eq!(num(&dps[0]["Sum"]), 60.0);
    assert_eq!(num(&dps[0]["SampleCount"]), 3.0);
    assert_eq!(num(&dps[0]["Maximum"]), 30.0);
    assert_eq!(num(&dps[0]["Minimum"]), 10.0);
    assert_eq!(num(&dps[0]["Average"]), 20.0);
    assert_eq!(dps[0]["Unit"], "Milliseconds");
    assert_eq!(time_ms(&dps[0]["Timestamp"]), t);
    // Extended statistics (host b: values 1, 2, 3, 3) come back as a map.
    let out = h
        .ok(
            p,
            "GetMetricStatistics",
            json!({"Namespace": ns, "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}],
                   "StartTime": secs(t), "EndTime": secs(T0_MS), "Period": 60, "ExtendedStatistics": ["p50", "p100"]}),
        )
        .await;
    let dp = &arr(&out["Datapoints"])[0];
    assert_eq!(num(&dp["ExtendedStatistics"]["p50"]), 2.0, "{out}");
    assert_eq!(num(&dp["ExtendedStatistics"]["p100"]), 3.0);
    // --- GetMetricData: a MetricStat and an expression over it.
    let out = h
        .ok(
            p,
            "GetMetricData",
            json!({"MetricDataQueries": [
                {"Id": "m1", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}]}, "Period": 60, "Stat": "Sum"}, "ReturnData": true},
                {"Id": "e1", "Expression": "m1 * 2", "Label": "double"}],
                "StartTime": secs(t), "EndTime": secs(T0_MS), "ScanBy": "TimestampAscending"}),
        )
        .await;
    let results = arr(&out["MetricDataResults"]);
    assert_eq!(results.len(), 2, "{out}");
    let by_id: BTreeMap<String, Value> = results
        .iter()
        .map(|r| (r["Id"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(
        arr(&by_id["m1"]["Values"])
            .iter()
            .map(num)
            .collect::<Vec<_>>(),
        vec![9.0]
    );
    assert_eq!(
        arr(&by_id["e1"]["Values"])
            .iter()
            .map(num)
            .collect::<Vec<_>>(),
        vec![18.0]
    );
    assert_eq!(by_id["e1"]["Label"], "double");
    assert_eq!(time_ms(&arr(&by_id["m1"]["Timestamps"])[0]), t);
    assert_eq!(by_id["m1"]["StatusCode"], "Complete");

    // --- PutMetricAlarm, DescribeAlarms, evaluation, history, DescribeAlarmsForMetric.
    h.ok(
        p,
        "PutMetricAlarm",
        json!({"AlarmName": "high-latency", "AlarmDescription": "p", "MetricName": "Latency", "Namespace": ns,
               "Dimensions": [{"Name": "Host", "Value": "a"}], "Statistic": "Maximum", "Period": 60,
               "EvaluationPeriods": 1, "Threshold": 25.0, "ComparisonOperator": "GreaterThanThreshold",
               "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"], "TreatMissingData": "notBreaching",
               "Tags": [{"Key": "team", "Value": "core"}]}),
    )
    .await;
    let out = h
        .ok(p, "DescribeAlarms", json!({"AlarmNames": ["high-latency"]}))
        .await;
    let alarms = arr(&out["MetricAlarms"]);
    assert_eq!(alarms.len(), 1, "{out}");
    let a = &alarms[0];
    assert_eq!(a["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(a["StateReason"], "Unchecked: Initial alarm creation");
    assert_eq!(
        a["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:high-latency"
    );
    assert_eq!(num(&a["Threshold"]), 25.0);
    assert_eq!(num(&a["Period"]), 60.0);
    assert_eq!(a["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(
        arr(&a["AlarmActions"]),
        vec![json!("arn:aws:sns:us-east-1:123456789012:ops")]
    );
    assert!(a["ActionsEnabled"] == json!(true) || a["ActionsEnabled"] == json!("true"));
    assert_eq!(time_ms(&a["AlarmConfigurationUpdatedTimestamp"]), T0_MS);
    // The minute 11:58–11:59 holds max 30 > 25: evaluating at 11:59 alarms.
    h.clock.set_ms(t + 60_000);
    let changes = h.m().alarms.evaluate_due();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].new_state, AlarmState::Alarm);
    let out = h
        .ok(p, "DescribeAlarms", json!({"StateValue": "ALARM"}))
        .await;
    let a = &arr(&out["MetricAlarms"])[0];
    assert_eq!(a["StateValue"], "ALARM");
    assert!(
        a["StateReason"]
            .as_str()
            .unwrap()
            .starts_with("Threshold Crossed"),
        "{a}"
    );
    let reason_data: Value = serde_json::from_str(a["StateReasonData"].as_str().unwrap()).unwrap();
    assert_eq!(reason_data["recentDatapoints"], json!([30.0]));
    assert_eq!(time_ms(&a["StateUpdatedTimestamp"]), t + 60_000);
    let out = h
        .ok(
            p,
            "DescribeAlarmHistory",
            json!({"AlarmName": "high-latency", "HistoryItemType": "StateUpdate"}),
        )
        .await;
    let items = arr(&out["AlarmHistoryItems"]);
    assert_eq!(items.len(), 1, "{out}");
    assert_eq!(
        items[0]["HistorySummary"],
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    );
    assert_eq!(time_ms(&items[0]["Timestamp"]), t + 60_000);
    let out = h
        .ok(
            p,
            "DescribeAlarmsForMetric",
            json!({"MetricName": "Latency", "Namespace": ns, "Dimensions": [{"Name": "Host", "Value": "a"}]}),
        )
        .await;
    assert_eq!(arr(&out["MetricAlarms"]).len(), 1);
    let out = h
        .ok(
            p,
            "DescribeAlarmsForMetric",
            json!({"MetricName": "Latency", "Namespace": ns, "Dimensions": [{"Name": "Host", "Value": "b"}]}),
        )
        .await;
    assert!(arr(&out["MetricAlarms"]).is_empty());
    // --- SetAlarmState, Disable/EnableAlarmActions.
    h.ok(
        p,
        "SetAlarmState",
        json!({"AlarmName": "high-latency", "StateValue": "OK", "StateReason": "manual", "StateReasonData": "{\"a\":1}"}),
    )
    .await;
    let out = h
        .ok(p, "DescribeAlarms", json!({"AlarmNamePrefix": "high"}))
        .await;
    assert_eq!(arr(&out["MetricAlarms"])[0]["StateValue"], "OK");
    assert_eq!(arr(&out["MetricAlarms"])[0]["StateReason"], "manual");
    h.ok(
        p,
        "DisableAlarmActions",
        json!({"AlarmNames": ["high-latency"]}),
    )
    .await;
    let out = h.ok(p, "DescribeAlarms", json!({})).await;
    let enabled = &arr(&out["MetricAlarms"])[0]["ActionsEnabled"];
    assert!(
        enabled == &json!(false) || enabled == &json!("false"),
        "{enabled}"
    );
    h.ok(
        p,
        "EnableAlarmActions",
        json!({"AlarmNames": ["high-latency"]}),
    )
    .await;
    assert!(h
        .m()
        .alarms
        .describe_alarms(&Default::default())
        .unwrap()
        .metric_alarms[0]
        .config
        .actions_enabled
        .unwrap_or(true));
    // --- PutCompositeAlarm, DescribeAlarms by type.
    h.ok(
        p,
        "PutCompositeAlarm",
        json!({"AlarmName": "any-trouble", "AlarmRule": "ALARM(\"high-latency\") OR FALSE"}),
    )
    .await;
    let out = h
        .ok(
            p,
            "DescribeAlarms",
            json!({"AlarmTypes": ["CompositeAlarm"]}),
        )
        .await;
    let comps = arr(&out["CompositeAlarms"]);
    assert_eq!(comps.len(), 1, "{out}");
    assert_eq!(comps[0]["AlarmRule"], "ALARM(\"high-latency\") OR FALSE");
    assert!(arr(&out["MetricAlarms"]).is_empty());
    let out = h
        .ok(
            p,
            "DescribeAlarms",
            json!({"ParentsOfAlarmName": "high-latency"}),
        )
        .await;
    assert_eq!(arr(&out["CompositeAlarms"]).len(), 1, "{out}");
    // --- Tags on alarm ARNs.
    let arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:high-latency";
    h.ok(
        p,
        "TagResource",
        json!({"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}]}),
    )
    .await;
    let out = h
        .ok(p, "ListTagsForResource", json!({"ResourceARN": arn}))
        .await;
    let tags: BTreeMap<String, String> = arr(&out["Tags"])
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        BTreeMap::from([
            ("team".into(), "core".into()),
            ("env".into(), "prod".into())
        ])
    );
    h.ok(
        p,
        "UntagResource",
        json!({"ResourceARN": arn, "TagKeys": ["team"]}),
    )
    .await;
    let out = h
        .ok(p, "ListTagsForResource", json!({"ResourceARN": arn}))
        .await;
    assert_eq!(arr(&out["Tags"]).len(), 1);
    let (code, _, status, _) = h
        .err(
            p,
            "ListTagsForResource",
            json!({"ResourceARN": format!("{arn}-nope")}),
        )
        .await;
    assert_eq!(
        (code.as_str(), status),
        ("ResourceNotFoundException", StatusCode::NOT_FOUND)
    );
    // --- DeleteAlarms: the metric alarm is referenced by the composite.
    let (code, _, status, _) = h
        .err(p, "DeleteAlarms", json!({"AlarmNames": ["high-latency"]}))
        .await;
    assert_eq!(
        (code.as_str(), status),
        ("ResourceConflict", StatusCode::CONFLICT)
    );
    h.ok(p, "DeleteAlarms", json!({"AlarmNames": ["any-trouble"]}))
        .await;
    h.ok(
        p,
        "DeleteAlarms",
        json!({"AlarmNames": ["high-latency", "never-existed"]}),
    )
    .await;
    let out = h
        .ok(
            p,
            "DescribeAlarms",
            json!({"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}),
        )
        .await;
    assert!(arr(&out["MetricAlarms"]).is_empty() && arr(&out["CompositeAlarms"]).is_empty());
    // History survives deletion.
    let out = h
        .ok(
            p,
            "DescribeAlarmHistory",
            json!({"AlarmName": "high-latency"}),
        )
        .await;
    assert!(arr(&out["AlarmHistoryItems"]).len() >= 3);

    // --- Dashboards.
    let body = r##"{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"# hi"}}]}"##;
    let out = h
        .ok(
            p,
            "PutDashboard",
            json!({"DashboardName": "main", "DashboardBody": body, "Tags": [{"Key": "team", "Value": "core"}]}),
        )
        .await;
    assert!(arr(&out["DashboardValidationMessages"]).is_empty(), "{out}");
    let out = h
        .ok(p, "GetDashboard", json!({"DashboardName": "main"}))
        .await;
    assert_eq!(out["DashboardBody"], body);
    assert_eq!(out["DashboardName"], "main");
    assert_eq!(
        out["DashboardArn"],
        "arn:aws:cloudwatch::123456789012:dashboard/main"
    );
    let out = h
        .ok(p, "ListDashboards", json!({"DashboardNamePrefix": "ma"}))
        .await;
    let entries = arr(&out["DashboardEntries"]);
    assert_eq!(entries.len(), 1);
    assert_eq!(num(&entries[0]["Size"]), body.len() as f64);
    assert_eq!(time_ms(&entries[0]["LastModified"]), h.clock.now_ms());
    let (code, msg, status, raw) = h
        .err(
            p,
            "PutDashboard",
            json!({"DashboardName": "bad", "DashboardBody": "{\"widgets\":[{\"type\":\"metric\"}]}"}),
        )
        .await;
    assert_eq!(
        (code.as_str(), status),
        ("InvalidParameterInput", StatusCode::BAD_REQUEST)
    );
    assert!(msg.contains("1 validation errors"), "{msg}");
    let vm = match p {
        Proto::Query => raw["Error"]["dashboardValidationMessages"].clone(),
        _ => raw["dashboardValidationMessages"].clone(),
    };
    assert_eq!(arr(&vm)[0]["DataPath"], "/widgets/0", "{raw}");
    assert_eq!(
        arr(&vm)[0]["Message"],
        "Should have required property 'properties'"
    );
    let darn = "arn:aws:cloudwatch::123456789012:dashboard/main";
    h.ok(
        p,
        "TagResource",
        json!({"ResourceARN": darn, "Tags": [{"Key": "owner", "Value": "sec"}]}),
    )
    .await;
    let out = h
        .ok(p, "ListTagsForResource", json!({"ResourceARN": darn}))
        .await;
    assert_eq!(
        arr(&out["Tags"]),
        vec![
            json!({"Key": "team", "Value": "core"}),
            json!({"Key": "owner", "Value": "sec"})
        ]
    );
    h.ok(
        p,
        "UntagResource",
        json!({"ResourceARN": darn, "TagKeys": ["owner"]}),
    )
    .await;
    let out = h
        .ok(p, "ListTagsForResource", json!({"ResourceARN": darn}))
        .await;
    assert_eq!(
        arr(&out["Tags"]),
        vec![json!({"Key": "team", "Value": "core"})]
    );
    h.ok(p, "DeleteDashboards", json!({"DashboardNames": ["main"]}))
        .await;
    let (code, _, status, _) = h
        .err(p, "GetDashboard", json!({"DashboardName": "main"}))
        .await;
    assert_eq!(
        (code.as_str(), status),
        ("ResourceNotFound", StatusCode::NOT_FOUND)
    );

    // --- Errors in each protocol's shape.
    let (code, msg, status, _) = h.err(p, "PutMetricData", json!({"MetricData": []})).await;
    assert_eq!(
        (code.as_str(), status),
        ("MissingParameter", StatusCode::BAD_REQUEST)
    );
    assert!(msg.contains("Namespace"), "{msg}");
    let (code, _, _, _) = h
        .err(
            p,
            "PutMetricData",
            json!({"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "x", "Value": 1}]}),
        )
        .await;
    assert_eq!(code, "InvalidParameterValue");
    let (code, _, _, _) = h
        .err(
            p,
            "SetAlarmState",
            json!({"AlarmName": "ghost", "StateValue": "OK", "StateReason": "r"}),
        )
        .await;
    assert_eq!(code, "ResourceNotFound");
    let (code, _, status, _) = h.err(p, "NoSuchOperation", json!({})).await;
    let want = if p == Proto::Query {
        "InvalidAction"
    } else {
        "UnknownOperationException"
    };
    assert_eq!((code.as_str(), status), (want, StatusCode::BAD_REQUEST));
}

#[tokio::test]
async fn metrics_query_protocol_every_operation() {
    all_operations(Proto::Query).await;
}

#[tokio::test]
async fn metrics_json10_every_operation() {
    all_operations(Proto::Json10).await;
}

#[tokio::test]
async fn metrics_cbor_every_operation() {
    all_operations(Proto::Cbor).await;
}

#[tokio::test]
async fn metrics_requests_need_a_monitoring_signature() {
    let h = Mon::new();
    for p in ALL {
        // Signed for `logs`: the credential scope names the wrong service.
        let req = build(p, "ListMetrics", &json!({}), "logs");
        let (status, headers, body) = h.raw(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{p:?}");
        let v = decode(p, &headers, &body);
        match p {
            Proto::Query => assert_eq!(v["Error"]["Code"], "SignatureDoesNotMatch"),
            _ => assert_eq!(
                headers["x-amzn-query-error"],
                "SignatureDoesNotMatch;Sender"
            ),
        }
        // Unsigned.
        let mut req = build(p, "ListMetrics", &json!({}), "monitoring");
        req.headers_mut().remove("authorization");
        let (status, headers, body) = h.raw(req).await;
        assert_ne!(status, StatusCode::OK);
        let v = decode(p, &headers, &body);
        match p {
            Proto::Query => assert_eq!(v["Error"]["Code"], "MissingAuthenticationToken"),
            _ => assert!(headers["x-amzn-query-error"]
                .to_str()
                .unwrap()
                .starts_with("MissingAuthenticationToken;")),
        }
    }
    // Malformed bodies are errors, not panics.
    for (p, body) in [
        (Proto::Cbor, b"\xff\xfe".to_vec()),
        (Proto::Json10, b"[1]".to_vec()),
        (Proto::Query, b"Version=2010-08-01".to_vec()),
    ] {
        let mut req = build(p, "ListMetrics", &json!({}), "monitoring");
        *req.body_mut() = Body::from(body.clone());
        req.headers_mut().remove("authorization");
        sign(&mut req, &body, "monitoring");
        let (status, _, _) = h.raw(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{p:?}");
    }
    // The Logs API still answers on POST / beside the metrics service.
    let out = h.logs("DescribeLogGroups", json!({})).await;
    assert!(out["logGroups"].is_array());
}

#[tokio::test]
async fn metric_filters_on_the_logs_api_feed_metrics_from_put_log_events() {
    let h = Mon::new();
    h.logs("CreateLogGroup", json!({"logGroupName": "app"}))
        .await;
    h.logs(
        "CreateLogStream",
        json!({"logGroupName": "app", "logStreamName": "s"}),
    )
    .await;
    assert_eq!(
        h.logs_err(
            "PutMetricFilter",
            json!({"logGroupName": "missing", "filterName": "f", "filterPattern": "ERROR",
                   "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}]}),
        )
        .await,
        "ResourceNotFoundException"
    );
    assert_eq!(
        h.logs_err(
            "PutMetricFilter",
            json!({"logGroupName": "app", "filterName": "f", "filterPattern": "{ $.x = ",
                   "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}]}),
        )
        .await,
        "InvalidParameterException"
    );
    h.logs(
        "PutMetricFilter",
        json!({"logGroupName": "app", "filterName": "latency", "filterPattern": "[ip, user, verb, ms]",
               "metricTransformations": [{"metricName": "Latency", "metricNamespace": "App", "metricValue": "$ms",
                                          "dimensions": {"Verb": "$verb"}, "unit": "Milliseconds"}]}),
    )
    .await;
    let out = h
        .logs("DescribeLogGroups", json!({"logGroupNamePrefix": "app"}))
        .await;
    assert_eq!(out["logGroups"][0]["metricFilterCount"], 1);
    let out = h
        .logs("DescribeMetricFilters", json!({"logGroupName": "app"}))
        .await;
    let f = &out["metricFilters"][0];
    assert_eq!(f["filterName"], "latency");
    assert_eq!(f["metricTransformations"][0]["dimensions"]["Verb"], "$verb");
    assert!(f["creationTime"].as_i64().unwrap() > 1_700_000_000_000);
    let out = h
        .logs(
            "TestMetricFilter",
            json!({"filterPattern": "[ip, user, verb, ms]", "logEventMessages": ["1.2.3.4 bob GET 12", "short"]}),
        )
        .await;
    assert_eq!(out["matches"].as_array().unwrap().len(), 1);
    assert_eq!(out["matches"][0]["eventNumber"], 1);
    assert_eq!(out["matches"][0]["extractedValues"]["$ms"], "12");

    // PutLogEvents: the first two events are in the minute 11:58, the third a minute later.
    let t = T0_MS - 120_000;
    h.logs(
        "PutLogEvents",
        json!({"logGroupName": "app", "logStreamName": "s", "logEvents": [
            {"timestamp": t, "message": "1.2.3.4 bob GET 12"},
            {"timestamp": t + 1000, "message": "1.2.3.4 bob GET 30"},
            {"timestamp": t + 2000, "message": "not matching"},
            {"timestamp": t + 61_000, "message": "1.2.3.4 ann PUT 7"}]}),
    )
    .await;
    let stats = |verb: &str| {
        h.m()
            .store
            .get_metric_statistics(&ow_metrics::GetMetricStatisticsInput {
                namespace: Some("App".into()),
                metric_name: Some("Latency".into()),
                dimensions: vec![ow_metrics::Dimension::new("Verb", verb)],
                start_time_ms: Some(t),
                end_time_ms: Some(T0_MS),
                period_s: Some(60),
                statistics: vec!["Sum".into(), "SampleCount".into()],
                ..Default::default()
            })
            .unwrap()
            .datapoints
            .iter()
            .map(|d| (d.timestamp_ms, d.sum.unwrap(), d.sample_count.unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(stats("GET"), vec![(t, 42.0, 2.0)]);
    assert_eq!(stats("PUT"), vec![(t + 60_000, 7.0, 1.0)]);
    // The same data is visible through the metrics API.
    let out = h
        .ok(Proto::Json10, "ListMetrics", json!({"Namespace": "App"}))
        .await;
    assert_eq!(out["Metrics"].as_array().unwrap().len(), 2);

    h.logs(
        "DeleteMetricFilter",
        json!({"logGroupName": "app", "filterName": "latency"}),
    )
    .await;
    assert_eq!(
        h.logs_err(
            "DeleteMetricFilter",
            json!({"logGroupName": "app", "filterName": "latency"})
        )
        .await,
        "ResourceNotFoundException"
    );
    // After deletion, new events publish nothing.
    h.logs(
        "PutLogEvents",
        json!({"logGroupName": "app", "logStreamName": "s", "logEvents": [
            {"timestamp": t + 5000, "message": "1.2.3.4 bob GET 100"}]}),
    )
    .await;
    assert_eq!(stats("GET"), vec![(t, 42.0, 2.0)]);
    // DeleteLogGroup takes the filters with it.
    h.logs(
        "PutMetricFilter",
        json!({"logGroupName": "app", "filterName": "again", "filterPattern": "",
               "metricTransformations": [{"metricName": "All", "metricNamespace": "App", "metricValue": "1"}]}),
    )
    .await;
    h.logs("DeleteLogGroup", json!({"logGroupName": "app"}))
        .await;
    let out = h.logs("DescribeMetricFilters", json!({})).await;
    assert!(out["metricFilters"].as_array().unwrap().is_empty(), "{out}");
}

// ---------------------------------------------------------------------------------------
// End to end: CIS pack + real CloudTrail through PutLogEvents, alarms, webhook receiver.

/// Real CloudTrail only (the hand-made fixtures trigger every control, which would make
/// the "right alarms" check weaker).
const FILES: [&str; 2] = [
    "stratus-red-team-detonation-logs.ndjson.gz",
    "invictus-aws_dataset.ndjson.gz",
];

/// A local HTTP receiver on 127.0.0.1: answers 500 to the first `fail_first` requests,
/// then 200; records every body it answered 200 to (and counts all requests).
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    requests: Arc<Mutex<usize>>,
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/sns", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(0usize));
        let (b, r) = (bodies.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let n = {
                    let mut c = r.lock().unwrap();
                    *c += 1;
                    *c
                };
                let status = if n <= fail_first {
                    "500 Internal Server Error"
                } else {
                    b.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Receiver {
            url,
            bodies,
            requests,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cis_pack_on_cloudtrail_through_the_api_alarms_and_notifies_a_webhook() {
    let h = Mon::new();
    let evs = ow_test_utils::cloudtrail::events(&FILES);
    assert!(evs.len() > 600, "{} events", evs.len());
    let topic = "arn:aws:sns:us-east-1:123456789012:security";
    // Install the CIS pack through the APIs: filters on JSON 1.1, alarms on JSON 1.0.
    h.logs("CreateLogGroup", json!({"logGroupName": "trail"}))
        .await;
    h.logs(
        "CreateLogStream",
        json!({"logGroupName": "trail", "logStreamName": "s"}),
    )
    .await;
    let pack = ow_metrics::packs::cis("trail").with_alarm_actions(&[topic.to_string()]);
    for f in &pack.metric_filters {
        let t = &f.metric_transformations[0];
        h.logs(
            "PutMetricFilter",
            json!({"logGroupName": "trail", "filterName": f.filter_name, "filterPattern": f.filter_pattern,
                   "metricTransformations": [{"metricName": t.metric_name, "metricNamespace": t.metric_namespace, "metricValue": t.metric_value}]}),
        )
        .await;
    }
    for a in &pack.alarms {
        h.ok(
            Proto::Json10,
            "PutMetricAlarm",
            json!({"AlarmName": a.alarm_name, "MetricName": a.metric_name, "Namespace": a.namespace,
                   "Statistic": a.statistic, "Period": a.period, "EvaluationPeriods": a.evaluation_periods,
                   "Threshold": a.threshold, "ComparisonOperator": a.comparison_operator,
                   "TreatMissingData": a.treat_missing_data, "AlarmActions": a.alarm_actions}),
        )
        .await;
    }
    let names: Vec<String> = pack
        .alarms
        .iter()
        .map(|a| a.alarm_name.clone().unwrap())
        .collect();
    assert_eq!(names.len(), 16);

    // Feed the events through PutLogEvents in chronological batches spanning < 24 h.
    let mut batch: Vec<Value> = Vec::new();
    let mut first = i64::MIN;
    let mut batches = 0;
    let mut bytes = 0;
    for (t, line, _) in &evs {
        if !batch.is_empty() && (t - first >= 23 * 3_600_000 || bytes + line.len() + 26 > 1_000_000)
        {
            h.logs(
                "PutLogEvents",
                json!({"logGroupName": "trail", "logStreamName": "s", "logEvents": batch}),
            )
            .await;
            batch = Vec::new();
            batches += 1;
            bytes = 0;
        }
        bytes += line.len() + 26;
        if batch.is_empty() {
            first = *t;
        }
        batch.push(json!({"timestamp": t, "message": line}));
    }
    h.logs(
        "PutLogEvents",
        json!({"logGroupName": "trail", "logStreamName": "s", "logEvents": batch}),
    )
    .await;
    assert!(batches >= 1);

    // Expected: every alarm whose intent some event matches.
    let expected: BTreeSet<String> = names
        .iter()
        .filter(|n| {
            evs.iter()
                .any(|(_, _, e)| ow_test_utils::cis::intent_of(n, e))
        })
        .cloned()
        .collect();
    assert!(expected.len() >= 4, "{expected:?}");
    assert!(
        expected.len() < 16,
        "some controls must stay quiet: {expected:?}"
    );

    // A webhook that fails its first 3 requests: retries deliver everything.
    let rx = Receiver::start(3);
    let dead = h._dir.path().join("dead-letters.jsonl");
    let dispatcher = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: topic.into(),
            webhook: Some(rx.url.clone()),
            command: None,
        }],
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff_ms: 5,
            max_backoff_ms: 20,
            timeout_ms: 5_000,
        },
        dead_letter_path: Some(dead.clone()),
    });
    let boundaries: BTreeSet<i64> = evs
        .iter()
        .map(|e| e.0.div_euclid(60_000) * 60_000 + 60_000)
        .collect();
    let mut fired = BTreeSet::new();
    let mut alarm_transitions = 0usize;
    let alarms = h.m().alarms.clone();
    let clock = h.clock.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        let mut outcomes = Vec::new();
        for b in boundaries {
            clock.set_ms(b);
            for c in alarms.evaluate_due() {
                if c.new_state == AlarmState::Alarm {
                    fired.insert(c.alarm_name);
                    alarm_transitions += 1;
                }
            }
            outcomes.extend(alarms.run_actions(&dispatcher));
        }
        (fired, alarm_transitions, outcomes)
    })
    .await
    .unwrap();
    let (fired, alarm_transitions, outcomes) = outcomes;
    assert_eq!(fired, expected);
    assert_eq!(outcomes.len(), alarm_transitions);
    assert!(outcomes.iter().all(|o| o.succeeded), "{outcomes:?}");
    assert!(
        outcomes.iter().any(|o| o.attempts > 1),
        "the failures were retried"
    );
    assert!(!dead.exists(), "nothing dead-lettered");
    let bodies = rx.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), alarm_transitions);
    assert_eq!(*rx.requests.lock().unwrap(), alarm_transitions + 3);
    let notified: BTreeSet<String> = bodies
        .iter()
        .map(|b| {
            assert_eq!(b["Type"], "Notification");
            assert_eq!(b["TopicArn"], topic);
            let msg: Value = serde_json::from_str(b["Message"].as_str().unwrap()).unwrap();
            assert_eq!(msg["NewStateValue"], "ALARM");
            assert_eq!(msg["Trigger"]["Namespace"], "CISBenchmark");
            let name = msg["AlarmName"].as_str().unwrap().to_string();
            assert_eq!(
                b["Subject"].as_str().unwrap(),
                format!("ALARM: \"{name}\" in US East (N. Virginia)")
            );
            name
        })
        .collect();
    assert_eq!(notified, expected);

    // A webhook that never answers: the notification is dead-lettered, not lost.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/sns", l.local_addr().unwrap())
    };
    let failing = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: topic.into(),
            webhook: Some(closed),
            command: None,
        }],
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff_ms: 5,
            max_backoff_ms: 10,
            timeout_ms: 2_000,
        },
        dead_letter_path: Some(dead.clone()),
    });
    let victim = expected.iter().next().unwrap().clone();
    h.ok(
        Proto::Cbor,
        "SetAlarmState",
        json!({"AlarmName": victim, "StateValue": "OK", "StateReason": "reset"}),
    )
    .await;
    h.ok(
        Proto::Cbor,
        "SetAlarmState",
        json!({"AlarmName": victim, "StateValue": "ALARM", "StateReason": "drill"}),
    )
    .await;
    let alarms = h.m().alarms.clone();
    let outcomes = tokio::task::spawn_blocking(move || alarms.run_actions(&failing))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(!outcomes[0].succeeded);
    assert_eq!(outcomes[0].attempts, 3);
    let text = std::fs::read_to_string(&dead).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(text.contains(&victim) && text.contains("drill"), "{text}");
    // The API shows the failed action in the alarm's history (Query protocol).
    let out = h
        .ok(
            Proto::Query,
            "DescribeAlarmHistory",
            json!({"AlarmName": victim, "HistoryItemType": "Action", "MaxRecords": 10}),
        )
        .await;
    let items = arr(&out["AlarmHistoryItems"]);
    assert_eq!(
        items[0]["HistorySummary"],
        format!("Failed to execute action {topic}"),
        "{out}"
    );
}

/// Random and mutated bodies on every protocol and operation: always an HTTP answer in the
/// protocol's shape (never a panic, never a 500).
#[tokio::test]
async fn hostile_bodies_get_client_errors() {
    let h = Mon::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let samples = [
        json!({"Namespace": "N", "MetricData": [{"MetricName": "m", "Value": 1, "Timestamp": 1e300}]}),
        json!({"MetricDataQueries": [{"Id": "A", "Expression": "((((", "Period": -5}], "StartTime": "x", "EndTime": []}),
        json!({"AlarmName": "", "Period": 1e20, "EvaluationPeriods": "many", "Threshold": "NaN", "Metrics": {}}),
        json!({"DashboardName": "d", "DashboardBody": "{\"widgets\": [[[[]]]]}"}),
        json!({"AlarmNames": [1, 2, {"x": null}], "MaxRecords": -1, "NextToken": "\u{0}"}),
        json!({"StartTime": -1e18, "EndTime": 1e18, "Period": 0, "Statistics": ["p200"]}),
    ];
    for p in ALL {
        for (i, op) in ow_api::monitoring::Op::ALL.iter().enumerate() {
            let input = samples[i % samples.len()].clone();
            let (status, _, v) = h.call(p, op.name(), input).await;
            assert!(status.as_u16() < 500, "{p:?} {op:?}: {status} {v}");
            // Random bytes as the body.
            let len = (next() % 200) as usize;
            let body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let mut req = build(p, op.name(), &json!({}), "monitoring");
            *req.body_mut() = Body::from(body.clone());
            req.headers_mut().remove("authorization");
            req.headers_mut().remove("x-amz-date");
            sign(&mut req, &body, "monitoring");
            let (status, headers, bytes) = h.raw(req).await;
            assert!(status.as_u16() < 500, "{p:?} {op:?} random body: {status}");
            if status != StatusCode::OK {
                // The error is in the protocol's shape.
                let _ = decode(p, &headers, &bytes);
            }
        }
    }
}

/// PutMetricData with `Content-Encoding: gzip` (botocore and the Rust SDK compress large
/// bodies) on every protocol; corrupt gzip is a client error.
#[tokio::test]
async fn gzip_request_bodies() {
    use std::io::Write as _;
    let h = Mon::new();
    for (i, p) in ALL.into_iter().enumerate() {
        let ns = format!("Gz/{i}");
        let data: Vec<Value> = (0..200)
            .map(|k| json!({"MetricName": format!("m{k}"), "Value": k, "Timestamp": secs(T0_MS - 60_000)}))
            .collect();
        let req = build(
            p,
            "PutMetricData",
            &json!({"Namespace": ns, "MetricData": data}),
            "monitoring",
        );
        let (parts, body) = req.into_parts();
        let plain = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let mut req = Request::from_parts(parts, Body::from(gz.clone()));
        req.headers_mut()
            .insert("content-encoding", "gzip".parse().unwrap());
        req.headers_mut().remove("authorization");
        req.headers_mut().remove("x-amz-date");
        sign(&mut req, &gz, "monitoring");
        let (status, _, body) = h.raw(req).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{p:?}: {}",
            String::from_utf8_lossy(&body)
        );
        let out = h.ok(p, "ListMetrics", json!({"Namespace": ns})).await;
        assert_eq!(arr(&out["Metrics"]).len(), 200, "{p:?}");

        let mut req = build(p, "ListMetrics", &json!({}), "monitoring");
        let junk = b"\x1f\x8b\x08\x00garbage".to_vec();
        *req.body_mut() = Body::from(junk.clone());
        req.headers_mut()
            .insert("content-encoding", "gzip".parse().unwrap());
        req.headers_mut().remove("authorization");
        req.headers_mut().remove("x-amz-date");
        sign(&mut req, &junk, "monitoring");
        let (status, _, _) = h.raw(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{p:?}");
    }
}

/// AWS Query over `GET /?Action=…` (parameters in the signed query string).
#[tokio::test]
async fn query_protocol_over_get() {
    let h = Mon::new();
    h.ok(
        Proto::Query,
        "PutMetricData",
        json!({"Namespace": "Get/Ns", "MetricData": [{"MetricName": "m", "Value": 1}]}),
    )
    .await;
    let q = "Action=ListMetrics&Version=2010-08-01&Namespace=Get%2FNs";
    let mut req = Request::builder()
        .method("GET")
        .uri(format!("/?{q}"))
        .header("host", "localhost:4566")
        .body(Body::empty())
        .unwrap();
    sign(&mut req, b"", "monitoring");
    let (status, headers, body) = h.raw(req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v = decode(Proto::Query, &headers, &body);
    let metrics = arr(&v["ListMetricsResult"]["Metrics"]);
    assert_eq!(metrics.len(), 1, "{v}");
    assert_eq!(metrics[0]["Namespace"], "Get/Ns");
    // Tampering with the signed query string is caught.
    let mut req = Request::builder()
        .method("GET")
        .uri(format!("/?{q}"))
        .header("host", "localhost:4566")
        .body(Body::empty())
        .unwrap();
    sign(&mut req, b"", "monitoring");
    *req.uri_mut() = "/?Action=ListMetrics&Version=2010-08-01&Namespace=Other"
        .parse()
        .unwrap();
    let (status, headers, body) = h.raw(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        decode(Proto::Query, &headers, &body)["Error"]["Code"],
        "SignatureDoesNotMatch"
    );
}

/// Tester's finding: DescribeMetricFilters' nextToken was an offset (`mf1:2`), so a filter
/// put before the cursor repeated an item and deleted ones made others vanish. The token
/// is now the position after the page's last filter (log group, filter name).
#[tokio::test]
async fn describe_metric_filters_tokens_survive_puts_and_deletes() {
    let h = Mon::new();
    let put = |g: &'static str, f: &'static str| {
        let h = &h;
        async move {
            h.logs(
                "PutMetricFilter",
                json!({"logGroupName": g, "filterName": f, "filterPattern": "ERROR",
                       "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}]}),
            )
            .await;
        }
    };
    let delete = |g: &'static str, f: &'static str| {
        let h = &h;
        async move {
            h.logs(
                "DeleteMetricFilter",
                json!({"logGroupName": g, "filterName": f}),
            )
            .await;
        }
    };
    // (names, nextToken) of one page of 2 from `token` (of group `g`, or of all groups).
    let page = |g: Option<&'static str>, token: Option<String>| {
        let h = &h;
        async move {
            let mut req = json!({"limit": 2});
            if let Some(g) = g {
                req["logGroupName"] = json!(g);
            }
            if let Some(t) = token {
                req["nextToken"] = json!(t);
            }
            let out = h.logs("DescribeMetricFilters", req).await;
            let names: Vec<String> = arr(&out["metricFilters"])
                .iter()
                .map(|f| {
                    format!(
                        "{}/{}",
                        f["logGroupName"].as_str().unwrap(),
                        f["filterName"].as_str().unwrap()
                    )
                })
                .collect();
            (names, out["nextToken"].as_str().map(str::to_string))
        }
    };
    let rest = |g: Option<&'static str>, token: Option<String>| async move {
        let mut all = Vec::new();
        let mut token = token;
        while let Some(t) = token {
            let (names, next) = page(g, Some(t)).await;
            all.extend(names);
            token = next;
        }
        all
    };
    for g in ["pg", "del", "other"] {
        h.logs("CreateLogGroup", json!({"logGroupName": g})).await;
    }
    for f in ["b", "d", "f", "h"] {
        put("pg", f).await;
        put("del", f).await;
    }
    // The repro: [b, d], then `a` is put before the cursor: the next page is [f, h].
    let (p1, t1) = page(Some("pg"), None).await;
    assert_eq!(p1, ["pg/b", "pg/d"]);
    put("pg", "a").await;
    assert_eq!(rest(Some("pg"), t1.clone()).await, ["pg/f", "pg/h"]);
    put("pg", "e").await;
    assert_eq!(rest(Some("pg"), t1).await, ["pg/e", "pg/f", "pg/h"]);
    // Deleting the listed filters: the rest are still listed.
    let (p1, t2) = page(Some("del"), None).await;
    assert_eq!(p1, ["del/b", "del/d"]);
    delete("del", "b").await;
    delete("del", "d").await;
    assert_eq!(rest(Some("del"), t2).await, ["del/f", "del/h"]);
    // Across log groups: [del/f, del/h], then a filter of `other` (between the cursor and
    // `pg`) is listed, and deleting the listed ones loses nothing.
    let (p1, t3) = page(None, None).await;
    assert_eq!(p1, ["del/f", "del/h"]);
    put("other", "x").await;
    delete("del", "f").await;
    assert_eq!(
        rest(None, t3).await,
        ["other/x", "pg/a", "pg/b", "pg/d", "pg/e", "pg/f", "pg/h"]
    );
    // A malformed or old-style token is still InvalidParameterException.
    for bad in ["garbage", "mf1:2", "mf2:zz"] {
        let (status, _, bytes) = h
            .raw(crate::common::Harness::request(
                "DescribeMetricFilters",
                &json!({"logGroupName": "pg", "nextToken": bad}).to_string(),
            ))
            .await;
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(v["__type"], "InvalidParameterException", "{v}");
        assert_eq!(v["message"], "The specified nextToken is invalid.", "{v}");
    }
}

/// The metrics service's lists page by position too [I: AWS tokens are opaque]:
/// DescribeAlarms after the last alarm name, DescribeAlarmHistory after the last item
/// (timestamp, order of recording), GetMetricData after the last point's timestamp.
#[tokio::test]
async fn metrics_list_tokens_survive_changes_between_pages() {
    let h = Mon::new();
    let p = Proto::Json10;
    let put_alarm = |name: &'static str| {
        let h = &h;
        async move {
            h.ok(
                p,
                "PutMetricAlarm",
                json!({"AlarmName": name, "MetricName": "Latency", "Namespace": "App",
                       "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
                       "ComparisonOperator": "GreaterThanThreshold"}),
            )
            .await;
        }
    };
    let alarms = |out: &Value| -> Vec<String> {
        arr(&out["MetricAlarms"])
            .iter()
            .map(|a| a["AlarmName"].as_str().unwrap().to_string())
            .collect()
    };
    // Alarms b, d, f, h a day apart (their creation is their history).
    for (i, name) in ["b", "d", "f", "h"].into_iter().enumerate() {
        h.clock.set_ms(T0_MS + i as i64 * 86_400_000);
        put_alarm(name).await;
    }
    // DescribeAlarms: [b, d]; `a` put and `b`, `d` deleted: the next page is [f, h].
    let p1 = h.ok(p, "DescribeAlarms", json!({"MaxRecords": 2})).await;
    assert_eq!(alarms(&p1), ["b", "d"]);
    put_alarm("a").await;
    h.ok(p, "DeleteAlarms", json!({"AlarmNames": ["b", "d"]}))
        .await;
    let p2 = h
        .ok(
            p,
            "DescribeAlarms",
            json!({"MaxRecords": 2, "NextToken": p1["NextToken"]}),
        )
        .await;
    assert_eq!(alarms(&p2), ["f", "h"]);
    assert!(p2.get("NextToken").is_none_or(Value::is_null), "{p2}");
    for bad in ["bogus", "da1:2"] {
        let (code, _, _, _) = h.err(p, "DescribeAlarms", json!({"NextToken": bad})).await;
        assert_eq!(code, "InvalidNextToken");
    }

    // DescribeAlarmHistory, oldest first: [b, d] created; when b's item expires before the
    // next page, f is still listed.
    let created = |out: &Value| -> Vec<String> {
        arr(&out["AlarmHistoryItems"])
            .iter()
            .map(|i| i["AlarmName"].as_str().unwrap().to_string())
            .collect()
    };
    let asc = json!({"ScanBy": "TimestampAscending", "MaxRecords": 2, "HistoryItemType": "ConfigurationUpdate"});
    let h1 = h.ok(p, "DescribeAlarmHistory", asc.clone()).await;
    assert_eq!(created(&h1), ["b", "d"]);
    h.clock.set_ms(T0_MS + 14 * 86_400_000 + 1);
    let mut next = asc.clone();
    next["NextToken"] = h1["NextToken"].clone();
    let h2 = h.ok(p, "DescribeAlarmHistory", next).await;
    assert_eq!(created(&h2), ["f", "h"]);
    // Newest first, back at the time of the deletions: items recorded in the cursor's
    // millisecond after the first page come before the cursor and repeat nothing.
    h.clock.set_ms(T0_MS + 3 * 86_400_000);
    let desc = json!({"MaxRecords": 2, "HistoryItemType": "ConfigurationUpdate"});
    let h1 = h.ok(p, "DescribeAlarmHistory", desc.clone()).await;
    // b's and d's deletions, recorded in that order in the millisecond of a's creation.
    assert_eq!(created(&h1), ["d", "b"]);
    put_alarm("x").await;
    put_alarm("y").await;
    let mut next = desc.clone();
    next["NextToken"] = h1["NextToken"].clone();
    let h2 = h.ok(p, "DescribeAlarmHistory", next).await;
    assert_eq!(created(&h2), ["a", "h"]);
    let (code, _, _, _) = h
        .err(p, "DescribeAlarmHistory", json!({"NextToken": "ah1:2"}))
        .await;
    assert_eq!(code, "InvalidNextToken");

    // GetMetricData, newest first in pages of 2 points: a newer point stored between pages
    // does not repeat one.
    h.clock.set_ms(T0_MS);
    let minute = |k: i64| T0_MS - 600_000 + k * 60_000;
    let put_point = |k: i64| {
        let h = &h;
        async move {
            h.ok(
                p,
                "PutMetricData",
                json!({"Namespace": "App", "MetricData": [
                    {"MetricName": "Hits", "Timestamp": secs(minute(k)), "Value": k as f64}]}),
            )
            .await;
        }
    };
    for k in 1..=4 {
        put_point(k).await;
    }
    let gmd = json!({"MetricDataQueries": [
        {"Id": "m", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Hits"}, "Period": 60, "Stat": "Sum"}}],
        "StartTime": secs(minute(0)), "EndTime": secs(T0_MS), "MaxDatapoints": 2});
    let values = |out: &Value| -> Vec<f64> {
        arr(&out["MetricDataResults"])
            .iter()
            .flat_map(|r| arr(&r["Values"]).iter().map(num).collect::<Vec<_>>())
            .collect()
    };
    let g1 = h.ok(p, "GetMetricData", gmd.clone()).await;
    assert_eq!(values(&g1), [4.0, 3.0]);
    put_point(5).await;
    let mut next = gmd.clone();
    next["NextToken"] = g1["NextToken"].clone();
    let g2 = h.ok(p, "GetMetricData", next).await;
    assert_eq!(values(&g2), [2.0, 1.0]);
    assert!(g2.get("NextToken").is_none_or(Value::is_null), "{g2}");
    let mut bad = gmd.clone();
    bad["NextToken"] = json!("gmd1:0:2");
    let (code, _, _, _) = h.err(p, "GetMetricData", bad).await;
    assert_eq!(code, "InvalidNextToken");
}
