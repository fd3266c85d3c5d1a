//! The three queries that started the project, run unchanged on `../shared/data/cloudtrail`,
//! plus the same queries with an account that occurs in the data (the seed account
//! `012345678987` occurs nowhere, so the unchanged queries must return no rows).
//!
//! Expected rows come from an independent computation in this file: a plain `serde_json`
//! scan of the NDJSON lines that applies each filter as written in Rust (substring tests on
//! the field text and on the raw line; a missing field fails `like` and passes `not like`,
//! spec §3.4), builds the output row by hand (coalesce = first present value, concat of
//! missing = empty text) and orders by `eventTime` descending. It shares no code with the
//! engine: no planner, no UDF, no storage extraction. Rows are compared as multisets (events
//! with equal timestamps may come in any order); the engine's order is checked separately.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{self, event_time_ms, plain_rows, read_ndjson_gz, TestStore};

pub const SEED_FIELDS: &str = "fields awsRegion, coalesce(userIdentity.userName, responseElements.assumedRoleUser.assumedRoleId, userIdentity.sessionContext.sessionIssuer.userName) as username, recipientAccountId as account, eventSource, eventName, sourceIPAddress as IP, @timestamp, eventTime, coalesce(userIdentity.arn, resources.0.ARN) as arn, concat(arn, eventName) as exclude, @message";

/// All CloudTrail NDJSON files (real and fixtures).
pub fn cloudtrail_lines() -> Vec<String> {
    let dir = common::shared_data().join("cloudtrail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("cloudtrail dir")
        .chain(std::fs::read_dir(dir.join("fixtures")).expect("fixtures dir"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".ndjson.gz"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| read_ndjson_gz(f)).collect()
}

/// Event time of a record: `eventTime`, else a JSON `@timestamp` key (otrf data), else 0.
pub fn record_time_ms(v: &Value) -> i64 {
    event_time_ms(v)
        .or_else(|| {
            let t = v.get("@timestamp")?.as_str()?;
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|d| d.timestamp_millis())
        })
        .unwrap_or(0)
}

/// A store holding every CloudTrail record in log group `cloudtrail`.
pub fn cloudtrail_store() -> (TestStore, Vec<(i64, String, Value)>) {
    let lines = cloudtrail_lines();
    let mut events = Vec::new();
    for l in lines {
        let v: Value = serde_json::from_str(&l).expect("json line");
        events.push((record_time_ms(&v), l, v));
    }
    let ts = TestStore::new();
    ts.import(
        "cloudtrail",
        "all",
        events.iter().map(|(t, l, _)| (*t, l.clone())).collect(),
    );
    ts.flush();
    (ts, events)
}

/// The text of a flattened path (`a.b.0.c`) of a JSON record, as Logs Insights shows it.
pub fn path(v: &Value, p: &str) -> Option<String> {
    let mut cur = v;
    for seg in p.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn like(v: &Option<String>, needle: &str) -> bool {
    v.as_deref().is_some_and(|s| s.contains(needle))
}

fn ts_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

type Row = Vec<(String, String)>;

fn seed_row(ms: i64, line: &str, v: &Value) -> Row {
    let username = path(v, "userIdentity.userName")
        .or_else(|| path(v, "responseElements.assumedRoleUser.assumedRoleId"))
        .or_else(|| path(v, "userIdentity.sessionContext.sessionIssuer.userName"));
    let arn = path(v, "userIdentity.arn").or_else(|| path(v, "resources.0.ARN"));
    let event_name = path(v, "eventName");
    let exclude = format!(
        "{}{}",
        arn.clone().unwrap_or_default(),
        event_name.clone().unwrap_or_default()
    );
    let cells: Vec<(&str, Option<String>)> = vec![
        ("awsRegion", path(v, "awsRegion")),
        ("username", username),
        ("account", path(v, "recipientAccountId")),
        ("eventSource", path(v, "eventSource")),
        ("eventName", event_name),
        ("IP", path(v, "sourceIPAddress")),
        ("@timestamp", Some(ts_text(ms))),
        ("eventTime", path(v, "eventTime")),
        ("arn", arn),
        ("exclude", Some(exclude)),
        ("@message", Some(line.to_string())),
    ];
    cells
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
}

/// Expected rows: filter, newest first, at most 10,000.
fn expected(
    events: &[(i64, String, Value)],
    keep: impl Fn(&str, &Value) -> bool,
) -> Vec<(i64, Row)> {
    let mut rows: Vec<(i64, Row)> = events
        .iter()
        .filter(|(_, l, v)| keep(l, v))
        .map(|(t, l, v)| (*t, seed_row(*t, l, v)))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.truncate(10_000);
    rows
}

fn multiset(rows: &[Row]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(format!("{r:?}")).or_insert(0) += 1;
    }
    m
}

fn check(ts: &TestStore, query: &str, want: Vec<(i64, Row)>) -> usize {
    let engine = ts.engine(None);
    let out =
        common::run(&engine, &["cloudtrail"], query).unwrap_or_else(|e| panic!("{query}\n{e:?}"));
    let got = plain_rows(&out);
    assert!(
        out.rows
            .iter()
            .all(|r| r.last().is_some_and(|f| f.field == "@ptr")),
        "every row has @ptr"
    );
    let want_rows: Vec<Row> = want.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(got.len(), want_rows.len(), "row count of {query}");
    assert_eq!(multiset(&got), multiset(&want_rows), "rows of {query}");
    // Newest first.
    let stamps: Vec<&str> = got
        .iter()
        .map(|r| {
            r.iter()
                .find(|(k, _)| k == "@timestamp")
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        })
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "rows are newest first"
    );
    assert_eq!(out.statistics.records_scanned as usize, ts_events(ts));
    assert_eq!(
        out.statistics.records_matched as usize,
        want_rows.len(),
        "recordsMatched"
    );
    got.len()
}

fn ts_events(_ts: &TestStore) -> usize {
    cloudtrail_lines().len()
}

fn q1(account: &str) -> String {
    format!(
        "{SEED_FIELDS}\n| filter account like '{account}'\n| filter @message like 'fail' or @message like 'denied' or @message like 'error'\n| filter eventSource like 'login' or eventSource like 'signin'"
    )
}

fn q2(account: &str) -> String {
    format!(
        "{SEED_FIELDS}\n| filter account like '{account}'\n| filter eventName like 'AssumeRole' and eventName not like 'AssumeRoleWithSAML'"
    )
}

fn q3() -> String {
    format!(
        "{SEED_FIELDS}\n| filter awsRegion not like 'us-east-1' and awsRegion not like 'us-west-1'"
    )
}

#[test]
fn seed_queries_match_an_independent_scan() {
    let (ts, events) = cloudtrail_store();
    let keep1 = |account: &'static str| {
        move |l: &str, v: &Value| {
            like(&path(v, "recipientAccountId"), account)
                && (l.contains("fail") || l.contains("denied") || l.contains("error"))
                && (like(&path(v, "eventSource"), "login")
                    || like(&path(v, "eventSource"), "signin"))
        }
    };
    let keep2 = |account: &'static str| {
        move |_: &str, v: &Value| {
            let n = path(v, "eventName");
            like(&path(v, "recipientAccountId"), account)
                && like(&n, "AssumeRole")
                && !like(&n, "AssumeRoleWithSAML")
        }
    };
    // Unchanged: the seed account occurs nowhere in the data.
    assert_eq!(
        check(
            &ts,
            &q1("012345678987"),
            expected(&events, keep1("012345678987"))
        ),
        0
    );
    assert_eq!(
        check(
            &ts,
            &q2("012345678987"),
            expected(&events, keep2("012345678987"))
        ),
        0
    );
    // With accounts present in the data.
    assert_eq!(
        check(
            &ts,
            &q1("111122223333"),
            expected(&events, keep1("111122223333"))
        ),
        3
    );
    let n2 = check(
        &ts,
        &q2("123837392027"),
        expected(&events, keep2("123837392027")),
    );
    assert!(n2 >= 49, "AssumeRole events of 123837392027: {n2}");
    // Third query: missing awsRegion passes `not like` (spec §3.4, our rule).
    let keep3 = |_: &str, v: &Value| {
        let r = path(v, "awsRegion");
        !like(&r, "us-east-1") && !like(&r, "us-west-1")
    };
    let n3 = check(&ts, &q3(), expected(&events, keep3));
    assert!(n3 > 100, "events outside us-east-1/us-west-1: {n3}");
}
