//! Partial results while a query runs (spec/api.md §A.2 GetQueryResults: "partial results
//! while Running"): the engine's reports, and GetQueryResults of a Running query.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, QueryStatus};
use ow_query::{CancelToken, QueryEngine, QueryRequest, ResultField};
use ow_storage::{InputLogEvent as NewEvent, Store};

use crate::common::{now_ms, store_config};
use crate::sdk::TestServer;

type Rows = Vec<Vec<ResultField>>;

fn events(base: i64, from: usize, to: usize) -> Vec<NewEvent> {
    (from..to)
        .map(|i| NewEvent {
            timestamp_ms: base + i as i64,
            message: format!(r#"{{"n":{i},"odd":{}}}"#, i % 2),
        })
        .collect()
}

/// A store with two flushed segments (events 0..20 and 20..40) and 3 buffered events
/// (100..103), all in log group `g`.
fn store(dir: &std::path::Path, base: i64) -> Arc<Store> {
    let store = Arc::new(Store::open(dir, store_config()).unwrap());
    store.create_log_group("g", Default::default()).unwrap();
    store.import_events("g", "s", events(base, 0, 20)).unwrap();
    store.flush().unwrap();
    store.import_events("g", "s", events(base, 20, 40)).unwrap();
    store.flush().unwrap();
    store
        .import_events("g", "s", events(base, 100, 103))
        .unwrap();
    store
}

async fn run(
    engine: &QueryEngine,
    query: &str,
    base: i64,
    limit: Option<usize>,
) -> (Rows, Vec<Rows>) {
    run_until(engine, query, base, base + 1000, limit).await
}

async fn run_until(
    engine: &QueryEngine,
    query: &str,
    base: i64,
    end_ms: i64,
    limit: Option<usize>,
) -> (Rows, Vec<Rows>) {
    let seen: Arc<Mutex<Vec<Rows>>> = Arc::default();
    let s = seen.clone();
    let out = engine
        .run_with_partial_results(
            QueryRequest {
                query: query.to_string(),
                log_groups: vec!["g".into()],
                start_ms: base - 1000,
                end_ms,
                limit,
            },
            CancelToken::new(),
            &|_| {},
            &move |rows: &[Vec<ResultField>]| s.lock().unwrap().push(rows.to_vec()),
        )
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    (out.rows, seen)
}

/// Whether `part` appears in `whole` in the same relative order.
fn is_subsequence(part: &[Vec<ResultField>], whole: &[Vec<ResultField>]) -> bool {
    let mut it = whole.iter();
    part.iter().all(|row| it.any(|w| w == row))
}

fn ns(rows: &[Vec<ResultField>]) -> Vec<&str> {
    rows.iter()
        .map(|r| {
            r.iter()
                .find(|f| f.field == "n")
                .map(|f| f.value.as_str())
                .unwrap_or("-")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_reports_only_rows_certain_to_be_final() {
    let dir = tempfile::tempdir().unwrap();
    let base = now_ms() - 60_000;
    let engine = QueryEngine::new(store(dir.path(), base), Default::default());

    // 43 events, cap 10,000: every matching row is certain; the last report is the result.
    let (rows, seen) = run(&engine, "filter odd = 1 | fields n, @timestamp", base, None).await;
    assert_eq!(rows.len(), 21);
    assert_eq!(ns(&rows)[..4], ["101", "39", "37", "35"]);
    assert!(!seen.is_empty(), "a streaming query reports partial rows");
    for s in &seen {
        assert!(
            is_subsequence(s, &rows),
            "partial rows not in the final result: {s:?}"
        );
    }
    assert_eq!(seen.last().unwrap(), &rows);
    // Rows carry @ptr like the final ones.
    assert!(seen.last().unwrap()[0].iter().any(|f| f.field == "@ptr"));

    // Cap 5 over 43 events: only the 3 buffered events (newest, at most 5 events at or
    // after them) are certain; the 2 newest segment rows are not known until the end.
    let (rows, seen) = run(&engine, "fields n", base, Some(5)).await;
    assert_eq!(ns(&rows), ["102", "101", "100", "39", "38"]);
    assert_eq!(ns(seen.last().unwrap()), ["102", "101", "100"]);
    for s in &seen {
        assert!(is_subsequence(s, &rows), "{s:?}");
    }
    // Cap 1: only the newest event is certain.
    let (rows, seen) = run(&engine, "fields n", base, Some(1)).await;
    assert_eq!(ns(&rows), ["102"]);
    assert_eq!(ns(seen.last().unwrap()), ["102"]);
    // Without the buffered events, the newest point is a 40-row segment: with cap 5 no
    // row is certain before the end, so nothing is reported.
    let (rows, seen) = run_until(&engine, "fields n", base, base + 50, Some(5)).await;
    assert_eq!(ns(&rows), ["39", "38", "37", "36", "35"]);
    assert!(seen.is_empty(), "{seen:?}");
    // The same with an explicit limit and a projection after it.
    let (rows, seen) = run(&engine, "limit 4 | fields n * 2 as twice", base, None).await;
    let twice = |rows: &[Vec<ResultField>]| -> Vec<String> {
        rows.iter().map(|r| r[0].value.clone()).collect()
    };
    assert_eq!(twice(&rows), ["204", "202", "200", "78"]);
    assert_eq!(twice(seen.last().unwrap()), ["204", "202", "200"]);

    // Aggregations and explicit sorts report nothing while running.
    for q in [
        "stats count(*) by odd",
        "sort n asc | fields n",
        "fields n | dedup odd",
    ] {
        let (rows, seen) = run(&engine, q, base, None).await;
        assert!(!rows.is_empty(), "{q}");
        assert!(seen.is_empty(), "{q} reported partial rows: {seen:?}");
    }
}

fn rows_of(
    r: &aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput,
) -> Vec<Vec<(String, String)>> {
    r.results()
        .iter()
        .map(|row| {
            row.iter()
                .map(|f| {
                    (
                        f.field().unwrap_or("").to_string(),
                        f.value().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

/// GetQueryResults while Running: whatever rows are shown are in the final result, in the
/// same order. The query reads 100,000 events (limit 100,000, so every matching row is
/// certain as soon as it is found); no timing is asserted: the test polls until it has seen
/// Running with rows or the query completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_query_results_shows_partial_rows_while_running() {
    let server = TestServer::start(Default::default(), |_| {}).await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("p")
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name("p")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let base = now_ms() - 600_000;
    for b in 0..10 {
        let batch: Vec<InputLogEvent> = (0..10_000)
            .map(|i| {
                let n = b * 10_000 + i;
                InputLogEvent::builder()
                    .timestamp(base + b as i64)
                    .message(format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(40)))
                    .build()
                    .unwrap()
            })
            .collect();
        c.put_log_events()
            .log_group_name("p")
            .log_stream_name("s")
            .set_log_events(Some(batch))
            .send()
            .await
            .unwrap();
    }
    let id = c
        .start_query()
        .log_group_name("p")
        .start_time(base / 1000 - 1)
        .end_time(now_ms() / 1000 + 1)
        .query_string("filter n % 7 = 0 | fields n")
        .limit(100_000)
        .send()
        .await
        .unwrap()
        .query_id
        .unwrap();
    let mut while_running: Vec<Vec<(String, String)>> = Vec::new();
    let fin = loop {
        let r = c
            .get_query_results()
            .query_id(&id)
            .max_items(10_000)
            .send()
            .await
            .unwrap();
        let rows = rows_of(&r);
        match r.status() {
            Some(QueryStatus::Running) | Some(QueryStatus::Scheduled) => {
                assert!(r.next_token().is_none());
                if rows.len() > while_running.len() {
                    while_running = rows;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Some(QueryStatus::Complete) => break r,
            other => panic!("query ended {other:?}"),
        }
    };
    // The final result, all pages.
    let mut all = rows_of(&fin);
    let mut token = fin.next_token().map(str::to_string);
    while let Some(t) = token {
        let page = c
            .get_query_results()
            .query_id(&id)
            .next_token(t)
            .send()
            .await
            .unwrap();
        all.extend(rows_of(&page));
        token = page.next_token().map(str::to_string);
    }
    // 0, 7, …, 99,995: 14,286 rows, newest (largest batch) first.
    assert_eq!(all.len(), 14_286);
    let mut it = all.iter();
    for row in &while_running {
        assert!(
            it.any(|w| w == row),
            "a row shown while Running is not in the final result (or out of order): {row:?}"
        );
    }
    eprintln!(
        "partial results: {} rows seen while Running (of {})",
        while_running.len(),
        all.len()
    );
    server.stop().await;
}
