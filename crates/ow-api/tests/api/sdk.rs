//! The official AWS SDK for Rust (aws-sdk-cloudwatchlogs) against a real server on a
//! loopback port, over the real store and query engine.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, QueryStatus};
use aws_sdk_cloudwatchlogs::Client;

use crate::common::{key, now_ms, store_config, ACCOUNT};

/// A running server: dropping it does not stop it; call [`TestServer::stop`].
pub struct TestServer {
    pub endpoint: String,
    /// The data directory (kept after `stop`).
    pub dir: Arc<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), ow_api::ApiError>>>,
}

impl TestServer {
    /// Starts a server with the real store and engine; `configure` adjusts the store config.
    pub async fn start(
        api: ow_api::ApiConfig,
        configure: impl FnOnce(&mut ow_storage::StoreConfig),
    ) -> TestServer {
        TestServer::start_with_engine(api, configure, ow_query::EngineConfig::default()).await
    }

    /// [`TestServer::start`] with an engine configuration.
    pub async fn start_with_engine(
        api: ow_api::ApiConfig,
        configure: impl FnOnce(&mut ow_storage::StoreConfig),
        engine_config: ow_query::EngineConfig,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut sc = store_config();
        configure(&mut sc);
        let store = Arc::new(ow_storage::Store::open(dir.path(), sc).unwrap());
        let engine = Arc::new(ow_query::QueryEngine::new(store.clone(), engine_config));
        let state = ow_api::AppState::new(
            api,
            ow_api::KeyStore::new(vec![key()]).unwrap(),
            Arc::new(ow_api::adapters::StoreBackend::new(store)),
            Arc::new(ow_api::adapters::EngineBackend::new(engine)),
            dir.path(),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(ow_api::serve(listener, state, async move {
            let _ = rx.await;
        }));
        TestServer {
            endpoint,
            dir: Arc::new(dir),
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// An SDK client for this server, signing with the test key.
    pub fn client(&self) -> Client {
        let k = key();
        let creds = aws_sdk_cloudwatchlogs::config::Credentials::new(
            k.access_key_id,
            k.secret_access_key,
            None,
            None,
            "test",
        );
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&self.endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        Client::from_conf(config)
    }

    /// Graceful shutdown (flushes the store).
    pub async fn stop(mut self) {
        self.stop_ref().await;
    }

    async fn stop_ref(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }
}

fn event(ts: i64, msg: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(ts)
        .message(msg)
        .build()
        .unwrap()
}

async fn wait_complete(
    client: &Client,
    id: &str,
) -> aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput {
    for _ in 0..600 {
        let r = client
            .get_query_results()
            .query_id(id)
            .send()
            .await
            .unwrap();
        match r.status() {
            Some(QueryStatus::Complete) => return r,
            Some(QueryStatus::Failed)
            | Some(QueryStatus::Cancelled)
            | Some(QueryStatus::Timeout) => {
                panic!("query {id} ended {:?}", r.status())
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("query {id} did not complete in time");
}

fn field<'a>(row: &'a [aws_sdk_cloudwatchlogs::types::ResultField], name: &str) -> Option<&'a str> {
    row.iter()
        .find(|f| f.field() == Some(name))
        .and_then(|f| f.value())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_every_operation() {
    let server = TestServer::start(Default::default(), |_| {}).await;
    let c = server.client();

    // Log groups, with the paginator.
    for i in 0..7 {
        c.create_log_group()
            .log_group_name(format!("/app/g{i}"))
            .tags("team", "core")
            .send()
            .await
            .unwrap();
    }
    let err = c
        .create_log_group()
        .log_group_name("/app/g0")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    let pages: Vec<_> = c
        .describe_log_groups()
        .limit(3)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let names: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().log_groups.unwrap_or_default())
        .map(|g| g.log_group_name.unwrap())
        .collect();
    assert_eq!(
        names,
        (0..7).map(|i| format!("/app/g{i}")).collect::<Vec<_>>()
    );
    c.delete_log_group()
        .log_group_name("/app/g6")
        .send()
        .await
        .unwrap();

    // Deletion protection: DeleteLogGroup is the SDK's ValidationException until
    // PutLogGroupDeletionProtection (here by ARN) turns it off.
    c.create_log_group()
        .log_group_name("/app/kept")
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap();
    let err = c
        .delete_log_group()
        .log_group_name("/app/kept")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    c.put_log_group_deletion_protection()
        .log_group_identifier(format!(
            "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/kept"
        ))
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap();
    c.delete_log_group()
        .log_group_name("/app/kept")
        .send()
        .await
        .unwrap();

    // Streams and events.
    let g = "/app/g0";
    for s in ["a", "b"] {
        c.create_log_stream()
            .log_group_name(g)
            .log_stream_name(s)
            .send()
            .await
            .unwrap();
    }
    let streams = c
        .describe_log_streams()
        .log_group_name(g)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(streams.len(), 2);
    let base = now_ms() - 120_000;
    let batch: Vec<InputLogEvent> = (0..30)
        .map(|i| {
            event(
                base + i,
                &format!(
                    "{{\"n\":{i},\"level\":\"{}\"}}",
                    if i % 3 == 0 { "ERROR" } else { "INFO" }
                ),
            )
        })
        .collect();
    let put = c
        .put_log_events()
        .log_group_name(g)
        .log_stream_name("a")
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();
    assert!(put.rejected_log_events_info().is_none());
    c.put_log_events()
        .log_group_name(g)
        .log_stream_name("b")
        .log_events(event(base + 100, "plain text line"))
        .send()
        .await
        .unwrap();

    // GetLogEvents paging forward with the SDK until the token repeats.
    let mut token: Option<String> = None;
    let mut got = 0;
    loop {
        let r = c
            .get_log_events()
            .log_group_name(g)
            .log_stream_name("a")
            .start_from_head(true)
            .limit(7)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        got += r.events().len();
        let next = r.next_forward_token().unwrap().to_string();
        if token.as_deref() == Some(next.as_str()) {
            break;
        }
        token = Some(next);
    }
    assert_eq!(got, 30);

    // FilterLogEvents through the paginator.
    let pages = c
        .filter_log_events()
        .log_group_name(g)
        .filter_pattern("{ $.level = \"ERROR\" }")
        .limit(4)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let filtered: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().events.unwrap_or_default())
        .collect();
    assert_eq!(filtered.len(), 10);
    let err = c
        .filter_log_events()
        .log_group_name(g)
        .filter_pattern("{ $.level = ")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    // Retention and tags.
    c.put_retention_policy()
        .log_group_name(g)
        .retention_in_days(7)
        .send()
        .await
        .unwrap();
    let d = c
        .describe_log_groups()
        .log_group_name_prefix(g)
        .send()
        .await
        .unwrap();
    let group = &d.log_groups()[0];
    assert_eq!(group.retention_in_days(), Some(7));
    let arn = group.log_group_arn().unwrap().to_string();
    assert_eq!(
        arn,
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{g}")
    );
    c.delete_retention_policy()
        .log_group_name(g)
        .send()
        .await
        .unwrap();
    c.tag_resource()
        .resource_arn(&arn)
        .tags("env", "test")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let expected: std::collections::HashMap<String, String> =
        [("env".to_string(), "test".to_string())].into();
    assert_eq!(tags.tags(), Some(&expected));

    // GetLogGroupFields.
    let fields = c
        .get_log_group_fields()
        .log_group_name(g)
        .time(base / 1000)
        .send()
        .await
        .unwrap();
    let level = fields
        .log_group_fields()
        .iter()
        .find(|f| f.name() == Some("level"))
        .expect("level field");
    // 30 of the 31 events are JSON with `level`.
    assert_eq!(level.percent(), 97);

    // Queries: StartQuery (seconds), GetQueryResults, GetLogRecord via @ptr.
    let q = c
        .start_query()
        .log_group_name(g)
        .start_time(base / 1000 - 1)
        .end_time(now_ms() / 1000 + 1)
        .query_string("filter level = \"ERROR\" | fields n | sort @timestamp desc | limit 3")
        .send()
        .await
        .unwrap();
    let id = q.query_id().unwrap().to_string();
    let r = wait_complete(&c, &id).await;
    let ns: Vec<&str> = r
        .results()
        .iter()
        .map(|row| field(row, "n").unwrap())
        .collect();
    assert_eq!(ns, vec!["27", "24", "21"]);
    assert_eq!(r.statistics().unwrap().records_matched(), 10.0);
    let ptr = field(&r.results()[0], "@ptr").expect("@ptr on non-aggregated rows");
    let rec = c
        .get_log_record()
        .log_record_pointer(ptr)
        .send()
        .await
        .unwrap();
    let record = rec.log_record().unwrap();
    assert_eq!(record.get("n").map(String::as_str), Some("27"));
    assert_eq!(record.get("@logStream").map(String::as_str), Some("a"));
    assert_eq!(
        record.get("@log").map(String::as_str),
        Some(format!("{ACCOUNT}:{g}").as_str())
    );
    let err = c
        .start_query()
        .log_group_name(g)
        .start_time(0)
        .end_time(1)
        .query_string("fields @message | stats count(* by x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_malformed_query_exception(), "{err:?}");
    let described = c.describe_queries().log_group_name(g).send().await.unwrap();
    assert!(described
        .queries()
        .iter()
        .any(|q| q.query_id() == Some(id.as_str()) && q.status() == Some(&QueryStatus::Complete)));
    let err = c.stop_query().query_id(&id).send().await.unwrap_err();
    assert!(err.into_service_error().is_invalid_parameter_exception());

    // Query definitions.
    let def = c
        .put_query_definition()
        .name("errors")
        .query_string("filter level = \"ERROR\"")
        .log_group_names(g)
        .send()
        .await
        .unwrap();
    let def_id = def.query_definition_id().unwrap().to_string();
    let defs = c.describe_query_definitions().send().await.unwrap();
    assert_eq!(defs.query_definitions().len(), 1);
    assert_eq!(defs.query_definitions()[0].name(), Some("errors"));
    assert!(c
        .delete_query_definition()
        .query_definition_id(&def_id)
        .send()
        .await
        .unwrap()
        .success());

    // Stream deletion, and a missing group.
    c.delete_log_stream()
        .log_group_name(g)
        .log_stream_name("b")
        .send()
        .await
        .unwrap();
    let err = c
        .describe_log_streams()
        .log_group_name("/nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_wrong_secret_is_rejected() {
    let server = TestServer::start(Default::default(), |_| {}).await;
    let creds = aws_sdk_cloudwatchlogs::config::Credentials::new(
        key().access_key_id,
        "wrong-secret",
        None,
        None,
        "test",
    );
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(&server.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let bad = Client::from_conf(config);
    let err = bad
        .create_log_group()
        .log_group_name("x")
        .send()
        .await
        .unwrap_err();
    let code = err.as_service_error().and_then(|e| {
        use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
        e.code().map(str::to_string)
    });
    assert_eq!(code.as_deref(), Some("InvalidSignatureException"));
    let groups = server.client().describe_log_groups().send().await.unwrap();
    assert!(groups.log_groups().is_empty());
    server.stop().await;
}

/// The CloudTrail records of the Invictus dataset (real, 2,900 events on 2023-07-10),
/// sorted by `eventTime`, as `(timestamp_ms, message)`.
pub fn invictus() -> Vec<(i64, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cloudtrail/invictus-aws_dataset.ndjson.gz"
    );
    let file = std::fs::File::open(path).expect("../shared/data beside the repository");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let t = chrono::DateTime::parse_from_rfc3339(v["eventTime"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        out.push((t, line));
    }
    out.sort_by_key(|e| e.0);
    out
}

/// PutLogEvents (age windows off, so a 2023 archive loads) -> StartQuery -> GetQueryResults
/// on real CloudTrail data; expected counts computed here from the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_cloudtrail_round_trip() {
    let server = TestServer::start(Default::default(), |c| {
        c.put_limits.max_age_ms = i64::MAX;
        c.put_limits.max_future_ms = i64::MAX;
    })
    .await;
    let c = server.client();
    let events = invictus();
    assert_eq!(events.len(), 2900);
    c.create_log_group()
        .log_group_name("cloudtrail")
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name("cloudtrail")
        .log_stream_name("218007301253_CloudTrail_us-east-1")
        .send()
        .await
        .unwrap();
    for chunk in events.chunks(200) {
        let batch: Vec<InputLogEvent> = chunk.iter().map(|(t, m)| event(*t, m)).collect();
        let r = c
            .put_log_events()
            .log_group_name("cloudtrail")
            .log_stream_name("218007301253_CloudTrail_us-east-1")
            .set_log_events(Some(batch))
            .send()
            .await
            .unwrap();
        assert!(r.rejected_log_events_info().is_none());
    }
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors = 0u64;
    for (_, m) in &events {
        let v: serde_json::Value = serde_json::from_str(m).unwrap();
        *expected
            .entry(v["eventName"].as_str().unwrap().to_string())
            .or_default() += 1;
        if v.get("errorCode").is_some() {
            errors += 1;
        }
    }
    assert_eq!(errors, 300);
    let start = events[0].0 / 1000;
    let end = events[events.len() - 1].0 / 1000;
    let q = c
        .start_query()
        .log_group_name("cloudtrail")
        .start_time(start)
        .end_time(end)
        .query_string("stats count(*) as n by eventName | sort n desc, eventName asc | limit 5")
        .send()
        .await
        .unwrap();
    let r = wait_complete(&c, q.query_id().unwrap()).await;
    let mut top: Vec<(String, u64)> = expected.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    let got: Vec<(String, u64)> = r
        .results()
        .iter()
        .map(|row| {
            (
                field(row, "eventName").unwrap().to_string(),
                field(row, "n").unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, top);
    assert_eq!(r.statistics().unwrap().records_scanned(), 2900.0);

    let q = c
        .start_query()
        .log_group_name("cloudtrail")
        .start_time(start)
        .end_time(end)
        .query_string("filter ispresent(errorCode) | stats count(*) as errors")
        .send()
        .await
        .unwrap();
    let r = wait_complete(&c, q.query_id().unwrap()).await;
    assert_eq!(field(&r.results()[0], "errors"), Some("300"));
    server.stop().await;
}

/// Graceful shutdown flushes: after `serve` returns, the events are in Parquet segments and a
/// reopened store returns all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_to_segments() {
    let mut server = TestServer::start(Default::default(), |_| {}).await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let base = now_ms() - 5_000;
    let batch: Vec<InputLogEvent> = (0..100)
        .map(|i| event(base + i, &format!("m{i}")))
        .collect();
    c.put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();
    let dir = server.dir.clone();
    let segments_before = count_parquet(dir.path());
    server.stop_ref().await;
    assert_eq!(segments_before, 0, "nothing flushed before shutdown");
    assert!(count_parquet(dir.path()) >= 1, "shutdown wrote a segment");
    let store = Arc::new(ow_storage::Store::open(dir.path(), store_config()).unwrap());
    let backend = ow_api::adapters::StoreBackend::new(store);
    use ow_api::LogBackend;
    let events = backend
        .read_events(
            "g",
            ow_api::backend::EventRange {
                streams: None,
                start_ms: base,
                end_ms: base + 100,
                cursor: ow_api::backend::Cursor::After(None),
                limit: 1000,
                filter: None,
            },
        )
        .unwrap();
    assert_eq!(events.len(), 100);
    assert_eq!(events[99].message, "m99");
}

fn count_parquet(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                n += 1;
            }
        }
    }
    n
}

/// The background maintenance applies a retention policy to a group that receives no more
/// writes: its expired segment disappears without any flush.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_maintenance_applies_retention() {
    let api = ow_api::ApiConfig {
        maintenance_interval: Some(Duration::from_millis(100)),
        ..Default::default()
    };
    let server = TestServer::start(api, |c| {
        c.flush_threshold_bytes = 1; // every batch goes to a segment at once
        c.put_limits.max_age_ms = i64::MAX;
    })
    .await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("old")
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name("old")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let three_days_ago = now_ms() - 3 * 86_400_000;
    let batch: Vec<InputLogEvent> = (0..10)
        .map(|i| event(three_days_ago + i, "old event"))
        .collect();
    c.put_log_events()
        .log_group_name("old")
        .log_stream_name("s")
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();
    let count = |c: Client| async move {
        c.filter_log_events()
            .log_group_name("old")
            .send()
            .await
            .unwrap()
            .events()
            .len()
    };
    assert_eq!(count(c.clone()).await, 10);
    c.put_retention_policy()
        .log_group_name("old")
        .retention_in_days(1)
        .send()
        .await
        .unwrap();
    let mut left = 10;
    for _ in 0..100 {
        left = count(c.clone()).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "expired events still returned");
    server.stop().await;
}

/// A query running past the engine's timeout ends with status `Timeout` (real engine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_timeout_status() {
    let engine = ow_query::EngineConfig {
        timeout: Duration::from_nanos(1),
        ..Default::default()
    };
    let server = TestServer::start_with_engine(Default::default(), |_| {}, engine).await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("t")
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name("t")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let base = now_ms() - 10_000;
    let batch: Vec<InputLogEvent> = (0..1000)
        .map(|i| event(base, &format!("{{\"i\":{i}}}")))
        .collect();
    c.put_log_events()
        .log_group_name("t")
        .log_stream_name("s")
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();
    let id = c
        .start_query()
        .log_group_name("t")
        .start_time(base / 1000 - 1)
        .end_time(now_ms() / 1000 + 1)
        .query_string("stats count(*) by i")
        .send()
        .await
        .unwrap()
        .query_id
        .unwrap();
    let mut status = None;
    for _ in 0..200 {
        let r = c.get_query_results().query_id(&id).send().await.unwrap();
        status = r.status().cloned();
        if !matches!(
            status,
            Some(QueryStatus::Running) | Some(QueryStatus::Scheduled)
        ) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, Some(QueryStatus::Timeout));
    server.stop().await;
}

/// StartQuery validates fully before issuing a query id (spec/api.md §A.2): planner errors
/// (an unsupported command, a lookup table that does not exist) are MalformedQueryException
/// with `queryCompileError.location` at the offending command; a query that plans is
/// accepted and runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_query_rejects_unplannable_queries() {
    let lookups = tempfile::tempdir().unwrap();
    std::fs::write(
        lookups.path().join("levels.csv"),
        "level,severity\nERROR,3\nINFO,1\n",
    )
    .unwrap();
    let engine = ow_query::EngineConfig {
        lookup_dir: Some(lookups.path().to_path_buf()),
        ..Default::default()
    };
    let server = TestServer::start_with_engine(Default::default(), |_| {}, engine).await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("v")
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name("v")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let base = now_ms() - 10_000;
    c.put_log_events()
        .log_group_name("v")
        .log_stream_name("s")
        .log_events(event(base, r#"{"level":"ERROR"}"#))
        .log_events(event(base + 1, r#"{"level":"INFO"}"#))
        .send()
        .await
        .unwrap();
    let start = |q: &str| {
        c.start_query()
            .log_group_name("v")
            .start_time(base / 1000 - 1)
            .end_time(now_ms() / 1000 + 1)
            .query_string(q)
            .send()
    };
    let before = c.describe_queries().send().await.unwrap().queries().len();

    // An unsupported command: Q400 at the command.
    let q = "fields @message | pattern @message";
    let err = start(q).await.unwrap_err().into_service_error();
    let aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError::MalformedQueryException(m) =
        &err
    else {
        panic!("expected MalformedQueryException, got {err:?}");
    };
    let compile = m.query_compile_error().expect("queryCompileError");
    let loc = compile.location().expect("location");
    assert_eq!(
        loc.start_char_offset(),
        Some(q.find("pattern").unwrap() as i32)
    );
    assert!(
        compile.message().unwrap_or("").contains("Q400"),
        "{compile:?}"
    );

    // A lookup table that does not exist: Q421 at the table name.
    let q = "fields level | lookup nosuch level OUTPUT severity";
    let err = start(q).await.unwrap_err().into_service_error();
    let aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError::MalformedQueryException(m) =
        &err
    else {
        panic!("expected MalformedQueryException, got {err:?}");
    };
    let compile = m.query_compile_error().expect("queryCompileError");
    assert_eq!(
        compile.location().and_then(|l| l.start_char_offset()),
        Some(q.find("nosuch").unwrap() as i32)
    );
    let message = compile.message().unwrap_or("");
    assert!(
        message.contains("Q421") && message.contains("nosuch"),
        "{message}"
    );
    // QA: the message reaches clients, so it must not reveal the server's directories
    assert!(
        !message.contains('/') && message.contains("nosuch.csv"),
        "{message}"
    );

    // A SOURCE naming a missing log group: ResourceNotFoundException.
    let err = c
        .start_query()
        .start_time(base / 1000 - 1)
        .end_time(now_ms() / 1000 + 1)
        .query_string("SOURCE \"nosuchgroup\" | fields @message")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // None of them was issued a query id.
    let after = c.describe_queries().send().await.unwrap().queries().len();
    assert_eq!(after, before);

    // A subquery plans (validated with its own plan) and runs.
    let id = start("filter level in (filter level = \"ERROR\" | fields level) | fields level")
        .await
        .unwrap()
        .query_id
        .unwrap();
    let r = wait_complete(&c, &id).await;
    let levels: Vec<Option<&str>> = r.results().iter().map(|row| field(row, "level")).collect();
    assert_eq!(levels, vec![Some("ERROR")]);
    // An unsupported command inside the subquery is found at StartQuery too.
    let q = "filter level in (pattern @message) | fields level";
    let err = start(q).await.unwrap_err().into_service_error();
    assert!(err.is_malformed_query_exception(), "{err:?}");

    // The existing table plans, runs and joins.
    let id =
        start("lookup levels level OUTPUT severity | sort severity desc | display level, severity")
            .await
            .unwrap()
            .query_id
            .unwrap();
    let r = wait_complete(&c, &id).await;
    let got: Vec<(Option<&str>, Option<&str>)> = r
        .results()
        .iter()
        .map(|row| (field(row, "level"), field(row, "severity")))
        .collect();
    assert_eq!(
        got,
        vec![(Some("ERROR"), Some("3")), (Some("INFO"), Some("1"))]
    );
    server.stop().await;
}

/// Subscription filters (spec/filter-patterns.md §7): the operations exist with AWS's shapes,
/// validate their input, and refuse every destination (OpenWatch delivers to none) with AWS's
/// unreachable-destination error naming the reason; nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_filters_refuse_undeliverable_destinations() {
    let server = TestServer::start(Default::default(), |_| {}).await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("sub")
        .send()
        .await
        .unwrap();
    let put = |dest: &str, pattern: &str| {
        c.put_subscription_filter()
            .log_group_name("sub")
            .filter_name("f")
            .filter_pattern(pattern)
            .destination_arn(dest)
            .send()
    };
    let err = put(
        "arn:aws:kinesis:us-east-1:123456789012:stream/logs",
        "{ $.eventName = \"ConsoleLogin\" }",
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    let message = err.meta().message().unwrap_or("");
    assert!(
        message.starts_with("Could not deliver test message to specified destination.")
            && message.contains("Kinesis Data Streams"),
        "{message}"
    );
    let err = put("arn:aws:lambda:us-east-1:123456789012:function:f", "ERROR")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.meta()
            .message()
            .unwrap_or("")
            .contains("a Lambda function"),
        "{err:?}"
    );
    // Input errors come first: a bad pattern, a missing group.
    let err = put(
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "{ $.x = ",
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert!(
        err.meta()
            .message()
            .unwrap_or("")
            .starts_with("Invalid filter pattern"),
        "{err:?}"
    );
    let err = c
        .put_subscription_filter()
        .log_group_name("nosuch")
        .filter_name("f")
        .filter_pattern("")
        .destination_arn("arn:aws:lambda:us-east-1:123456789012:function:f")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    // Nothing was stored.
    let listed = c
        .describe_subscription_filters()
        .log_group_name("sub")
        .send()
        .await
        .unwrap();
    assert!(listed.subscription_filters().is_empty());
    let err = c
        .delete_subscription_filter()
        .log_group_name("sub")
        .filter_name("f")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    server.stop().await;
}
