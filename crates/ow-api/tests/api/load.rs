//! Load: 16 concurrent writers and 8 concurrent queriers against one server on loopback for
//! a bounded time; afterwards every acknowledged event is queryable and the counts match.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, QueryStatus};

use crate::common::now_ms;
use crate::sdk::TestServer;

const WRITERS: usize = 16;
const QUERIERS: usize = 8;
const RUN_FOR: Duration = Duration::from_secs(4);

async fn count_query(
    c: &aws_sdk_cloudwatchlogs::Client,
    query: &str,
    start_s: i64,
    end_s: i64,
) -> Vec<Vec<(String, String)>> {
    let id = c
        .start_query()
        .log_group_name("load")
        .start_time(start_s)
        .end_time(end_s)
        .query_string(query)
        .send()
        .await
        .unwrap()
        .query_id
        .unwrap();
    loop {
        let r = c.get_query_results().query_id(&id).send().await.unwrap();
        match r.status() {
            Some(QueryStatus::Complete) => {
                return r
                    .results()
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
            Some(QueryStatus::Running) | Some(QueryStatus::Scheduled) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => panic!("query ended {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_writers_and_queries_then_counts_match() {
    let server = TestServer::start(Default::default(), |c| {
        // Small buffer so flushes to segments happen while queries run.
        c.flush_threshold_bytes = 256 * 1024;
    })
    .await;
    let c = server.client();
    c.create_log_group()
        .log_group_name("load")
        .send()
        .await
        .unwrap();
    for w in 0..WRITERS {
        c.create_log_stream()
            .log_group_name("load")
            .log_stream_name(format!("w{w:02}"))
            .send()
            .await
            .unwrap();
    }
    let start_ms = now_ms() - 60_000;
    let deadline = Instant::now() + RUN_FOR;

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let c = server.client();
        writers.push(tokio::spawn(async move {
            let mut acked = 0u64;
            let mut batch_no = 0i64;
            while Instant::now() < deadline {
                let events: Vec<InputLogEvent> = (0..50)
                    .map(|i| {
                        InputLogEvent::builder()
                            .timestamp(start_ms + batch_no)
                            .message(format!("{{\"writer\":{w},\"batch\":{batch_no},\"i\":{i}}}"))
                            .build()
                            .unwrap()
                    })
                    .collect();
                let r = c
                    .put_log_events()
                    .log_group_name("load")
                    .log_stream_name(format!("w{w:02}"))
                    .set_log_events(Some(events))
                    .send()
                    .await
                    .expect("PutLogEvents under load");
                assert!(r.rejected_log_events_info().is_none());
                acked += 50;
                batch_no += 1;
            }
            (format!("w{w:02}"), acked)
        }));
    }
    let mut queriers = Vec::new();
    for _ in 0..QUERIERS {
        let c = server.client();
        queriers.push(tokio::spawn(async move {
            let mut done = 0u32;
            let mut last = 0u64;
            while Instant::now() < deadline {
                let rows = count_query(
                    &c,
                    "stats count(*) as n",
                    start_ms / 1000 - 1,
                    now_ms() / 1000 + 60,
                )
                .await;
                let n: u64 = rows
                    .first()
                    .and_then(|r| r.iter().find(|(f, _)| f == "n"))
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                // Acknowledged events never disappear.
                assert!(n >= last, "count went down: {last} -> {n}");
                last = n;
                done += 1;
            }
            done
        }));
    }
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    for w in writers {
        let (stream, n) = w.await.unwrap();
        acked.insert(stream, n);
    }
    let mut queries_run = 0;
    for q in queriers {
        queries_run += q.await.unwrap();
    }
    assert!(queries_run >= QUERIERS as u32);
    eprintln!(
        "load: {} events acknowledged by {WRITERS} writers, {queries_run} queries completed by {QUERIERS} queriers in {RUN_FOR:?}",
        acked.values().sum::<u64>()
    );
    let total: u64 = acked.values().sum();
    assert!(total >= (WRITERS * 50) as u64);

    let end_s = now_ms() / 1000 + 60;
    let rows = count_query(&c, "stats count(*) as n", start_ms / 1000 - 1, end_s).await;
    assert_eq!(rows[0][0], ("n".to_string(), total.to_string()));
    let rows = count_query(
        &c,
        "stats count(*) as n by @logStream | sort @logStream asc",
        start_ms / 1000 - 1,
        end_s,
    )
    .await;
    let per_stream: BTreeMap<String, u64> = rows
        .iter()
        .map(|r| {
            let get = |k: &str| r.iter().find(|(f, _)| f == k).unwrap().1.clone();
            (get("@logStream"), get("n").parse().unwrap())
        })
        .collect();
    assert_eq!(per_stream, acked);
    server.stop().await;
}
