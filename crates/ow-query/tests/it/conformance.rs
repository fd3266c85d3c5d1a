//! Runs the data-driven conformance suite in `tests/conformance/*.test` (format:
//! `tests/conformance/README.md`). Each query runs twice: once while the events sit in the
//! in-memory buffer and once after they were flushed to Parquet segments.

use std::path::{Path, PathBuf};

use ow_query::{QueryError, QueryOutput};

use crate::common::{run_range, TestStore};

#[derive(Debug, Default)]
struct Case {
    line: usize,
    query: String,
    expected: Vec<String>,
    rowsort: bool,
    error: Option<String>,
    ptr: Option<bool>,
    stats: Vec<(String, f64)>,
    columns: Option<Vec<String>>,
    /// Inclusive query range set by a `range` line right before the case.
    range: Option<(i64, i64)>,
}

#[derive(Debug, Default)]
struct Block {
    /// (group, timestamp_ms, message)
    events: Vec<(String, i64, String)>,
    tables: Vec<(String, String)>,
    cases: Vec<Case>,
}

fn parse_time(s: &str) -> i64 {
    if let Ok(ms) = s.parse::<i64>() {
        return ms;
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad event time {s:?}: {e}"))
        .timestamp_millis()
}

fn parse_file(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks: Vec<Block> = Vec::new();
    let mut pending_range: Option<(i64, i64)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let head = line.trim();
        if head.is_empty() || head.starts_with('#') {
            i += 1;
            continue;
        }
        let mut words = head.split_whitespace();
        let kw = words.next().unwrap_or_default();
        match kw {
            "events" => {
                let group = words.next().unwrap_or("test").to_string();
                let new_block = blocks.last().is_none_or(|b| !b.cases.is_empty());
                if new_block {
                    blocks.push(Block::default());
                }
                let b = blocks.last_mut().unwrap();
                i += 1;
                while i < lines.len()
                    && !lines[i].trim().is_empty()
                    && !lines[i].starts_with("events")
                {
                    let l = lines[i];
                    let (t, msg) = l.split_once(' ').unwrap_or((l, ""));
                    b.events
                        .push((group.clone(), parse_time(t), msg.to_string()));
                    i += 1;
                }
            }
            "table" => {
                let name = words.next().expect("table name").to_string();
                let b = blocks.last_mut().expect("table after events");
                i += 1;
                let mut csv = String::new();
                while i < lines.len() && !lines[i].trim().is_empty() {
                    csv.push_str(lines[i]);
                    csv.push('\n');
                    i += 1;
                }
                b.tables.push((name, csv));
            }
            "range" => {
                let s = parse_time(words.next().expect("range start"));
                let e = parse_time(words.next().expect("range end"));
                pending_range = Some((s, e));
                i += 1;
            }
            "query" => {
                let mut case = Case {
                    line: i + 1,
                    range: pending_range.take(),
                    ..Case::default()
                };
                let rest: Vec<&str> = words.collect();
                let mut k = 0;
                while k < rest.len() {
                    match rest[k] {
                        "rowsort" => case.rowsort = true,
                        "ptr" => case.ptr = Some(true),
                        "noptr" => case.ptr = Some(false),
                        "error" => {
                            k += 1;
                            case.error = Some(rest.get(k).copied().unwrap_or("").to_string());
                        }
                        other => panic!("line {}: unknown query option {other}", i + 1),
                    }
                    k += 1;
                }
                i += 1;
                let mut q = Vec::new();
                while i < lines.len() && lines[i].trim() != "----" && !lines[i].trim().is_empty() {
                    q.push(lines[i]);
                    i += 1;
                }
                case.query = q.join("\n");
                if i < lines.len() && lines[i].trim() == "----" {
                    i += 1;
                    while i < lines.len() && !lines[i].trim().is_empty() {
                        let l = lines[i].trim();
                        if let Some(s) = l.strip_prefix("-- stats ") {
                            for kv in s.split_whitespace() {
                                let (k, v) = kv.split_once('=').expect("stat=value");
                                case.stats.push((k.to_string(), v.parse().expect("number")));
                            }
                        } else if let Some(c) = l.strip_prefix("-- columns ") {
                            case.columns =
                                Some(serde_json::from_str(c).expect("columns JSON list"));
                        } else {
                            case.expected.push(l.to_string());
                        }
                        i += 1;
                    }
                }
                blocks
                    .last_mut()
                    .expect("query after events")
                    .cases
                    .push(case);
            }
            other => panic!("line {}: unknown directive {other:?}", i + 1),
        }
    }
    blocks
}

/// A result row as the JSON object used in the files (field -> value, in order, no @ptr).
fn row_json(row: &[ow_query::ResultField]) -> String {
    let mut m = serde_json::Map::new();
    for f in row {
        if f.field != "@ptr" {
            m.insert(f.field.clone(), serde_json::Value::String(f.value.clone()));
        }
    }
    serde_json::Value::Object(m).to_string()
}

fn normalise(expected: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(expected)
        .unwrap_or_else(|e| panic!("bad expected row {expected}: {e}"));
    v.to_string()
}

fn check_case(
    file: &Path,
    phase: &str,
    case: &Case,
    result: Result<QueryOutput, QueryError>,
) -> Vec<String> {
    let at = format!("{}:{} ({phase})\n{}", file.display(), case.line, case.query);
    let mut failures = Vec::new();
    match (&case.error, result) {
        (Some(code), Err(QueryError::Malformed(diags))) => {
            if !diags
                .iter()
                .any(|d| d.code.as_str().starts_with(code.as_str()))
            {
                failures.push(format!("{at}\nexpected error {code}, got {diags:?}"));
            }
        }
        (Some(code), Err(e)) => {
            if !format!("{e:?}").contains(code.as_str()) {
                failures.push(format!("{at}\nexpected error {code}, got {e:?}"));
            }
        }
        (Some(code), Ok(out)) => failures.push(format!(
            "{at}\nexpected error {code}, got {} rows",
            out.rows.len()
        )),
        (None, Err(e)) => failures.push(format!("{at}\nunexpected error: {e:?}")),
        (None, Ok(out)) => {
            let mut got: Vec<String> = out.rows.iter().map(|r| row_json(r)).collect();
            let mut want: Vec<String> = case.expected.iter().map(|e| normalise(e)).collect();
            if case.rowsort {
                got.sort();
                want.sort();
            }
            if got != want {
                failures.push(format!(
                    "{at}\nexpected:\n  {}\ngot:\n  {}",
                    want.join("\n  "),
                    got.join("\n  ")
                ));
            }
            if let Some(ptr) = case.ptr {
                let has = out.rows.iter().all(|r| r.iter().any(|f| f.field == "@ptr"));
                let none = out.rows.iter().all(|r| r.iter().all(|f| f.field != "@ptr"));
                if (ptr && !has) || (!ptr && !none) {
                    failures.push(format!("{at}\n@ptr expected: {ptr}"));
                }
            }
            if let Some(cols) = &case.columns {
                if &out.columns != cols {
                    failures.push(format!(
                        "{at}\ncolumns: expected {cols:?}, got {:?}",
                        out.columns
                    ));
                }
            }
            for (k, v) in &case.stats {
                let got = match k.as_str() {
                    "recordsMatched" => out.statistics.records_matched,
                    "recordsScanned" => out.statistics.records_scanned,
                    "bytesScanned" => out.statistics.bytes_scanned,
                    other => panic!("unknown statistic {other}"),
                };
                if got != *v {
                    failures.push(format!("{at}\n{k}: expected {v}, got {got}"));
                }
            }
        }
    }
    failures
}

fn files() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    v.sort();
    v
}

#[test]
fn conformance_suite() {
    let only = std::env::var("CONFORMANCE_ONLY").ok();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in files() {
        if only
            .as_deref()
            .is_some_and(|o| !file.to_string_lossy().contains(o))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        for block in parse_file(&text) {
            let ts = TestStore::new();
            let mut groups: Vec<String> = Vec::new();
            for (g, t, m) in &block.events {
                ts.import(g, "stream-1", vec![(*t, m.clone())]);
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
            let lookup_dir = ts.dir.path().join("lookup-tables");
            std::fs::create_dir_all(&lookup_dir).expect("lookup dir");
            for (name, csv) in &block.tables {
                std::fs::write(lookup_dir.join(format!("{name}.csv")), csv).expect("write table");
            }
            let engine = ts.engine(Some(lookup_dir));
            let g: Vec<&str> = groups.iter().map(String::as_str).collect();
            let range = |c: &Case| c.range.unwrap_or((0, i64::MAX / 4));
            for case in &block.cases {
                count += 1;
                let (start, end) = range(case);
                failures.extend(check_case(
                    &file,
                    "buffer",
                    case,
                    run_range(&engine, &g, &case.query, start, end),
                ));
            }
            ts.flush();
            for case in &block.cases {
                let (start, end) = range(case);
                failures.extend(check_case(
                    &file,
                    "segments",
                    case,
                    run_range(&engine, &g, &case.query, start, end),
                ));
            }
        }
    }
    eprintln!("conformance: {count} cases, each run on the buffer and on segments");
    assert!(count > 0 || only.is_some(), "no conformance cases found");
    assert!(
        failures.is_empty(),
        "{} of {} conformance checks failed:\n\n{}",
        failures.len(),
        2 * count,
        failures.join("\n\n")
    );
}
