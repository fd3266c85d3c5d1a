//! The partial count of `stats count(*) by …` (`count_by` in ow-query): the same rows as
//! DataFusion's own partial aggregate (`EngineConfig::partial_count` off), the counts of an
//! independent `serde_json` scan of the real CloudTrail records, and work counters that show
//! where it applies and where it does not.

use std::collections::BTreeMap;
use std::sync::Arc;

use ow_query::{EngineConfig, QueryEngine, QueryOutput};
use ow_storage::{NewEvent, Store, StoreConfig};
use serde_json::Value;

use crate::common::{plain_rows as rows, run};
use crate::seed::{cloudtrail_lines, path, record_time_ms};

fn engine(store: &Arc<Store>, partial_count: bool, partitions: usize) -> QueryEngine {
    QueryEngine::new(
        store.clone(),
        EngineConfig {
            partitions,
            partial_count,
            // Several batches per segment, so that keys repeat across batches and the
            // pass-through probe is reached.
            batch_rows: 250,
            ..EngineConfig::default()
        },
    )
}

/// The rows of `out` as a multiset (stats rows without a full sort come in any order).
fn sorted_rows(out: &QueryOutput) -> Vec<Vec<(String, String)>> {
    let mut r = rows(out);
    r.sort();
    r
}

/// Every real CloudTrail record in log group `ct`, two thirds flushed to segments (64-row
/// row groups) and the rest still in the in-memory buffer; and the parsed records.
fn cloudtrail() -> (tempfile::TempDir, Arc<Store>, Vec<Value>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = StoreConfig {
        row_group_rows: 64,
        ..StoreConfig::default()
    };
    let store = Arc::new(Store::open(dir.path(), config).expect("open store"));
    let mut records = Vec::new();
    let mut parts: [Vec<NewEvent>; 2] = Default::default();
    for (i, l) in cloudtrail_lines().into_iter().enumerate() {
        let v: Value = serde_json::from_str(&l).expect("json line");
        parts[usize::from(i % 3 == 0)].push(NewEvent {
            timestamp_ms: record_time_ms(&v),
            message: l,
        });
        records.push(v);
    }
    let [flushed, buffered] = parts;
    store.import_events("ct", "s", flushed).expect("import");
    store.flush().expect("flush");
    store.import_events("ct", "s", buffered).expect("import");
    (dir, store, records)
}

#[test]
fn counts_by_keys_match_an_independent_count_of_real_cloudtrail() {
    let (_dir, store, records) = cloudtrail();
    // Independent count: (eventSource, eventName) -> events, over the parsed records.
    let mut expected: BTreeMap<(Option<String>, Option<String>), u64> = BTreeMap::new();
    for v in &records {
        *expected
            .entry((path(v, "eventSource"), path(v, "eventName")))
            .or_default() += 1;
    }
    let q = "stats count(*) as n by eventSource, eventName";
    for partitions in [1, 2] {
        let out = run(&engine(&store, true, partitions), &["ct"], q).unwrap();
        let mut got: BTreeMap<(Option<String>, Option<String>), u64> = BTreeMap::new();
        for i in 0..out.rows.len() {
            let key = (
                out.get(i, "eventSource").map(str::to_string),
                out.get(i, "eventName").map(str::to_string),
            );
            let n: u64 = out.get(i, "n").unwrap().parse().unwrap();
            assert!(got.insert(key, n).is_none(), "a group twice in {q}");
        }
        assert_eq!(got, expected, "{partitions} partitions");
        // The node counted every event.
        assert_eq!(out.scan.rows_counted_early, records.len() as u64);
    }
    assert!(expected.len() > 100, "{} groups", expected.len());
}

#[test]
fn same_rows_with_and_without_the_partial_count_on_real_cloudtrail() {
    let (_dir, store, _records) = cloudtrail();
    let queries = [
        // The benchmark's q4, q5, q8 shapes.
        "stats count(*) as count by eventSource, eventName | sort count desc | limit 20",
        "stats count(*) as count by bin(1h) as hour, awsRegion",
        r"parse userAgent /^(?<agent>[A-Za-z][A-Za-z0-9._-]*)\/(?<agentVersion>[0-9][0-9.]*)/ | filter ispresent(agent) | stats count(*) as count by agent, agentVersion | sort count desc",
        // Default names, count() and two counts, nulls (errorCode is mostly missing).
        "stats count(*) by eventName",
        "stats count(*) as a, count() as b by awsRegion",
        "stats count(*) as n by errorCode",
        "stats count(*) as n by errorCode, readOnly, eventType",
        // Long values extracted from @message or promoted, rare paths, system fields.
        "stats count(*) as n by userIdentity.arn, sourceIPAddress",
        "stats count(*) as n by requestParameters.roleSessionName",
        "stats count(*) as n by @logStream",
        "stats count(*) as n by userAgent",
        // Computed keys: integers, floats, booleans, timestamps.
        "stats count(*) as n by strlen(eventName)",
        "stats count(*) as n by strlen(eventName) / 3",
        "stats count(*) as n by ispresent(errorCode), bin(1d)",
        "stats count(*) as n by datefloor(@timestamp, 1h)",
        // After a filter, before a filter, chained stats.
        "filter errorCode like /Denied|Unauthorized/ | stats count(*) as n by userIdentity.arn",
        "stats count(*) as n by eventName | filter n > 3 | sort n desc, eventName",
        "stats count(*) as n by eventSource | stats count(*) as m by n",
        // count_distinct(x) by k: DataFusion groups by (k, x) first, with no aggregate.
        "stats count_distinct(sourceIPAddress) as ips by userIdentity.arn",
        "stats count_distinct(eventName) as names by eventSource, awsRegion",
        "stats count(*) as n by @log, @logStream",
        // A key path read by another key too (no dictionary for it), keys mixing
        // dictionary keys and computed bits, three promoted keys.
        "stats count(*) as n by eventName, strlen(eventName)",
        "stats count(*) as n by bin(1h), awsRegion, eventName",
        "stats count(*) as n by eventSource, eventName, awsRegion",
        // Not a count of rows, or more than 4 keys: DataFusion's own partial aggregate stays.
        "stats count(*) as n, count(errorCode) as e by eventSource",
        "stats count(*) as n by eventSource, eventName, awsRegion, errorCode, readOnly",
    ];
    for q in queries {
        for partitions in [1, 2] {
            let on = run(&engine(&store, true, partitions), &["ct"], q)
                .unwrap_or_else(|e| panic!("{q}: {e:?}"));
            let off = run(&engine(&store, false, partitions), &["ct"], q)
                .unwrap_or_else(|e| panic!("{q}: {e:?}"));
            assert!(!on.rows.is_empty(), "{q}");
            assert_eq!(on.columns, off.columns, "{q}");
            assert_eq!(sorted_rows(&on), sorted_rows(&off), "{q} ({partitions})");
            if q.contains("sort") {
                assert_eq!(rows(&on), rows(&off), "{q} ({partitions})");
            }
            assert_eq!(on.statistics, off.statistics, "{q}");
            assert_eq!(off.scan.rows_counted_early, 0, "{q}");
            if q.contains("count(errorCode)") || q.ends_with("readOnly") {
                assert_eq!(on.scan.rows_counted_early, 0, "{q}");
            } else {
                assert!(on.scan.rows_counted_early > 0, "{q}");
            }
        }
    }
}

/// Keys that are JSON paths reach the partial count as dictionaries (a promoted column's
/// Parquet dictionary and keys, or extracted values packed into one) and are counted by
/// their dictionary key; keys that are system fields or computed, or a path another key's
/// expression reads, are not. The rows are checked against DataFusion's own partial
/// aggregate in `same_rows_with_and_without_the_partial_count_on_real_cloudtrail`.
#[test]
fn path_keys_are_counted_by_their_dictionary_keys() {
    let (_dir, store, records) = cloudtrail();
    let denied = records
        .iter()
        .filter(|v| {
            path(v, "errorCode").is_some_and(|c| c.contains("Denied") || c.contains("Unauthorized"))
        })
        .count() as u64;
    assert!(denied > 0);
    let all = records.len() as u64;
    // (query, rows counted early, of which by dictionary key)
    let cases = [
        ("stats count(*) as n by eventSource, eventName", all, all),
        ("stats count(*) as n by errorCode", all, all),
        ("stats count(*) as n by bin(1h), awsRegion", all, all),
        (
            "filter errorCode like /Denied|Unauthorized/ | stats count(*) as n by userIdentity.arn",
            denied,
            denied,
        ),
        ("stats count(*) as n by strlen(eventName)", all, 0),
        // count_distinct's (k, x) pairs (see `with_dictionary_input`)
        (
            "stats count_distinct(sourceIPAddress) as n by eventName",
            all,
            0,
        ),
        (
            "stats count(*) as n by eventName, strlen(eventName)",
            all,
            0,
        ),
        ("stats count(*) as n by @logStream", all, 0),
    ];
    for (q, counted, by_dictionary) in cases {
        for partitions in [1, 2] {
            let out = run(&engine(&store, true, partitions), &["ct"], q).unwrap();
            assert_eq!(out.scan.rows_counted_early, counted, "{q} ({partitions})");
            assert_eq!(
                out.scan.rows_counted_by_dictionary, by_dictionary,
                "{q} ({partitions})"
            );
        }
    }
}

/// Events of one key `k` with values of every kind: the key bits must keep apart what
/// Logs Insights keeps apart, and the final aggregate must merge what it merges.
#[test]
fn key_bits_keep_nulls_empty_strings_and_types_apart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreConfig::default()).expect("open store"));
    let long = "a value longer than twelve bytes";
    let values = [
        r#""""#.to_string(),
        "null".to_string(),
        r#""a""#.to_string(),
        "1".to_string(),
        r#""1""#.to_string(),
        "1.0".to_string(),
        "true".to_string(),
        r#""true""#.to_string(),
        format!("\"{long}\""),
        format!("\"{long}!\""),
    ];
    let mut events = Vec::new();
    let mut t = 1_704_067_200_000i64;
    for round in 0..40 {
        for (i, v) in values.iter().enumerate() {
            // Each value `i + 1` times a round, and some events without `k` at all.
            for _ in 0..=i {
                t += 1;
                events.push(NewEvent {
                    timestamp_ms: t,
                    message: format!(r#"{{"k":{v},"round":{round}}}"#),
                });
            }
        }
        t += 1;
        events.push(NewEvent {
            timestamp_ms: t,
            message: format!(r#"{{"other":{round}}}"#),
        });
    }
    let half = events.split_off(events.len() / 2);
    store.import_events("g", "s", events).expect("import");
    store.flush().expect("flush");
    store.import_events("g", "s", half).expect("import");
    for q in [
        "stats count(*) as n by k",
        "stats count(*) as n by k, round % 3",
        "stats count(*) as n by strlen(k)",
    ] {
        for partitions in [1, 2] {
            let on = run(&engine(&store, true, partitions), &["g"], q).unwrap();
            let off = run(&engine(&store, false, partitions), &["g"], q).unwrap();
            assert_eq!(sorted_rows(&on), sorted_rows(&off), "{q} ({partitions})");
            assert!(on.scan.rows_counted_early > 0, "{q}");
        }
    }
    // The counts themselves: 40 rounds, value i (1-based) i times a round. A missing `k`
    // (40 events) and JSON null both read as null: one group of 40 + 2 * 40 events.
    let out = run(&engine(&store, true, 2), &["g"], "stats count(*) as n by k").unwrap();
    let by_key: BTreeMap<Option<String>, String> = (0..out.rows.len())
        .map(|i| {
            (
                out.get(i, "k").map(str::to_string),
                out.get(i, "n").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(by_key.get(&None).map(String::as_str), Some("120"));
    assert_eq!(
        by_key.get(&Some(long.to_string())).map(String::as_str),
        Some("360")
    );
    assert_eq!(
        by_key.get(&Some(format!("{long}!"))).map(String::as_str),
        Some("400")
    );
    assert_eq!(
        by_key.get(&Some("a".into())).map(String::as_str),
        Some("120")
    );
}

/// Keys whose every value is distinct: after its probe batches the node passes rows
/// through with a count of 1, and the result is still exact.
#[test]
fn distinct_keys_pass_through_after_the_probe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreConfig::default()).expect("open store"));
    let t0 = 1_704_067_200_000i64;
    let events: Vec<NewEvent> = (0..5000i64)
        .map(|i| NewEvent {
            timestamp_ms: t0 + i,
            message: format!(
                r#"{{"uid":"uid-{i:06}-abcdefghijklmnop","kind":"k{}"}}"#,
                i % 7
            ),
        })
        .collect();
    store.import_events("g", "s", events).expect("import");
    store.flush().expect("flush");
    let q = "stats count(*) as n by uid | stats count(*) as m by n";
    let on = run(&engine(&store, true, 1), &["g"], q).unwrap();
    let off = run(&engine(&store, false, 1), &["g"], q).unwrap();
    assert_eq!(rows(&on), rows(&off));
    assert_eq!(on.get(0, "n"), Some("1"));
    assert_eq!(on.get(0, "m"), Some("5000"));
    // 5,000 rows counted by uid, one row each; the second stats counts 5,000 rows with one
    // key value. The first node emits every row (each uid once), the second one row a batch.
    assert_eq!(on.scan.rows_counted_early, 10_000);
    assert!(
        on.scan.partial_count_rows <= 5000 + 5000 / 250 + 1,
        "{:?}",
        on.scan
    );
}

/// A promoted key decoded from its Parquet dictionary: each batch shrinks to its distinct
/// values, long ones included (their views point into the one dictionary).
#[test]
fn promoted_keys_shrink_each_batch_to_its_distinct_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreConfig::default()).expect("open store"));
    let t0 = 1_704_067_200_000i64;
    let events: Vec<NewEvent> = (0..10_000i64)
        .map(|i| NewEvent {
            timestamp_ms: t0 + i,
            message: format!(
                r#"{{"kind":"a-kind-longer-than-twelve-bytes-{}","short":"s{}","n":{}}}"#,
                i % 50,
                i % 3,
                i % 7
            ),
        })
        .collect();
    store.import_events("g", "s", events).expect("import");
    store.flush().expect("flush");
    for (q, distinct) in [
        ("stats count(*) as n by kind", 50),
        ("stats count(*) as n by kind, short", 150),
    ] {
        for partitions in [1, 2] {
            let on = run(&engine(&store, true, partitions), &["g"], q).unwrap();
            let off = run(&engine(&store, false, partitions), &["g"], q).unwrap();
            assert_eq!(sorted_rows(&on), sorted_rows(&off), "{q}");
            assert_eq!(on.scan.rows_counted_early, 10_000, "{q}");
            assert_eq!(on.scan.rows_parsed, 0, "{q}: keys are promoted columns");
            // 40 batches of 250 rows, each with at most `distinct` keys (a view array with
            // a view per row would give 10,000).
            assert!(
                on.scan.partial_count_rows <= 40 * distinct,
                "{q}: {:?}",
                on.scan
            );
        }
    }
    let out = run(
        &engine(&store, true, 2),
        &["g"],
        "stats count(*) as n by kind",
    )
    .unwrap();
    assert_eq!(out.rows.len(), 50);
    assert!((0..50).all(|i| out.get(i, "n") == Some("200")));
}

/// `parse` of a repeating promoted field (parsed once per distinct view of a batch, then
/// spread to the rows) and the partial count after it give the counts of an independent
/// scan of the real records with the same pattern.
#[test]
fn parse_then_count_matches_an_independent_count_of_real_cloudtrail() {
    let (_dir, store, records) = cloudtrail();
    let pattern = r"^(?<agent>[A-Za-z][A-Za-z0-9._-]*)/(?<agentVersion>[0-9][0-9.]*)";
    let re = regex::Regex::new(pattern).unwrap();
    let mut expected: BTreeMap<(Option<String>, Option<String>), u64> = BTreeMap::new();
    for v in &records {
        let key = path(v, "userAgent")
            .and_then(|ua| {
                re.captures(&ua).map(|c| {
                    (
                        Some(c["agent"].to_string()),
                        Some(c["agentVersion"].to_string()),
                    )
                })
            })
            .unwrap_or((None, None));
        *expected.entry(key).or_default() += 1;
    }
    assert!(expected.len() > 5, "{expected:?}");
    let q = r"parse userAgent /^(?<agent>[A-Za-z][A-Za-z0-9._-]*)\/(?<agentVersion>[0-9][0-9.]*)/ | stats count(*) as n by agent, agentVersion";
    for (partitions, partial_count) in [(1, true), (2, true), (2, false)] {
        let out = run(&engine(&store, partial_count, partitions), &["ct"], q).unwrap();
        let got: BTreeMap<(Option<String>, Option<String>), u64> = (0..out.rows.len())
            .map(|i| {
                (
                    (
                        out.get(i, "agent").map(str::to_string),
                        out.get(i, "agentVersion").map(str::to_string),
                    ),
                    out.get(i, "n").unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{partitions} partitions");
    }
}

/// Long `Utf8` keys (`@log`, `@logStream`, longer than 15 bytes) are keyed by the first row
/// with the same bytes, so a batch of one log stream shrinks to one row.
#[test]
fn long_utf8_keys_shrink_to_their_distinct_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreConfig::default()).expect("open store"));
    let group = "a-log-group-name-longer-than-fifteen-bytes";
    let t0 = 1_704_067_200_000i64;
    for (s, stream) in [
        "first-stream-name-longer-than-15",
        "second-stream-name-longer-than-15",
    ]
    .iter()
    .enumerate()
    {
        let events: Vec<NewEvent> = (0..1000i64)
            .map(|i| NewEvent {
                timestamp_ms: t0 + i * 2 + s as i64,
                message: format!(r#"{{"i":{i}}}"#),
            })
            .collect();
        store.import_events(group, stream, events).expect("import");
    }
    store.flush().expect("flush");
    let q = "stats count(*) as n by @log, @logStream";
    for partitions in [1, 2] {
        let on = run(&engine(&store, true, partitions), &[group], q).unwrap();
        let off = run(&engine(&store, false, partitions), &[group], q).unwrap();
        assert_eq!(sorted_rows(&on), sorted_rows(&off));
        assert_eq!(on.rows.len(), 2);
        assert!(on
            .rows
            .iter()
            .all(|r| r.iter().any(|f| f.field == "n" && f.value == "1000")));
        assert_eq!(on.scan.rows_counted_early, 2000);
        // 8 batches of 250 rows, each with at most 2 streams.
        assert!(on.scan.partial_count_rows <= 16, "{:?}", on.scan);
    }
}
