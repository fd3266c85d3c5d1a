//! Tests of `openwatch query`: import real data with `openwatch import`, then query it in
//! every output format. Expected values come from reading the same NDJSON file with
//! serde_json in the test (not from the engine).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn openwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(args)
        .output()
        .expect("the openwatch binary runs")
}

pub(crate) fn route53() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        .join("other/route53-resolver-query-logs.elastic-integrations.ndjson")
}

pub(crate) fn records() -> Vec<serde_json::Value> {
    std::fs::read_to_string(route53())
        .expect("route53 data")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// A data dir with the Route 53 resolver logs in log group `r53`.
pub(crate) fn imported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = openwatch(&[
        "import",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--log-group",
        "r53",
        "--timestamp-field",
        "query_timestamp",
        "--quiet",
        route53().to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    dir
}

pub(crate) fn query(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["query", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    openwatch(&args)
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "query failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn count_by_type(recs: &[serde_json::Value]) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in recs {
        *m.entry(r["query_type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    m
}

#[test]
fn json_output_has_the_get_query_results_shape_and_statistics() {
    let dir = imported();
    let recs = records();
    let o = query(
        dir.path(),
        &[
            "--log-group",
            "r53",
            "--format",
            "json",
            "stats count(*) as n by query_type",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["status"], "Complete");
    let want = count_by_type(&recs);
    let rows = v["results"].as_array().expect("results");
    assert_eq!(rows.len(), want.len());
    for row in rows {
        let cells = row.as_array().unwrap();
        let t = cells.iter().find(|c| c["field"] == "query_type").unwrap()["value"]
            .as_str()
            .unwrap();
        let n = cells.iter().find(|c| c["field"] == "n").unwrap()["value"]
            .as_str()
            .unwrap();
        assert_eq!(n, want[t].to_string(), "count of {t}");
        assert!(
            cells.iter().all(|c| c["field"] != "@ptr"),
            "no @ptr on aggregated rows"
        );
    }
    assert_eq!(v["statistics"]["recordsScanned"], recs.len() as f64);
    assert_eq!(v["statistics"]["recordsMatched"], recs.len() as f64);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("recordsScanned {}", recs.len())),
        "statistics on stderr: {stderr}"
    );
}

#[test]
fn ndjson_compact_rows_are_the_ndjson_values_in_column_order() {
    let dir = imported();
    // `nosuch` is missing from every event: a null in its place.
    let q = "filter rcode = 'NXDOMAIN' | fields query_name, nosuch, srcaddr, @timestamp";
    let objects: Vec<serde_json::Value> = stdout(&query(dir.path(), &["--format", "ndjson", q]))
        .lines()
        .map(|l| serde_json::from_str(l).expect("one object per line"))
        .collect();
    let csv_out = stdout(&query(dir.path(), &["--format", "csv", q]));
    let columns: Vec<String> = csv::Reader::from_reader(csv_out.as_bytes())
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(columns, ["query_name", "nosuch", "srcaddr", "@timestamp"]);
    let arrays: Vec<Vec<serde_json::Value>> =
        stdout(&query(dir.path(), &["--format", "ndjson-compact", q]))
            .lines()
            .map(|l| serde_json::from_str(l).expect("one array per line"))
            .collect();
    assert!(!objects.is_empty());
    assert_eq!(arrays.len(), objects.len());
    for (a, o) in arrays.iter().zip(&objects) {
        let want: Vec<serde_json::Value> = columns
            .iter()
            .map(|c| o.get(c).cloned().unwrap_or(serde_json::Value::Null))
            .collect();
        assert_eq!(a, &want);
        assert!(a[0].is_string() && a[1].is_null() && a[2].is_string());
    }
    // @ptr only when asked for, in both shapes, with the same value (QA, session 8)
    let q = "filter rcode = 'NXDOMAIN' | fields @ptr, query_name | limit 3";
    let objects: Vec<serde_json::Value> = stdout(&query(dir.path(), &["--format", "ndjson", q]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let arrays: Vec<Vec<serde_json::Value>> =
        stdout(&query(dir.path(), &["--format", "ndjson-compact", q]))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert_eq!(objects.len(), 3);
    for (o, a) in objects.iter().zip(&arrays) {
        assert!(o["@ptr"].as_str().is_some_and(|p| !p.is_empty()), "{o}");
        assert_eq!(a, &vec![o["@ptr"].clone(), o["query_name"].clone()]);
    }
}

#[test]
fn ndjson_csv_and_table_outputs() {
    let dir = imported();
    let recs = records();
    let nx: Vec<&serde_json::Value> = recs.iter().filter(|r| r["rcode"] == "NXDOMAIN").collect();
    assert!(!nx.is_empty());
    let q = "filter rcode = 'NXDOMAIN' | fields query_name, srcaddr";
    // Without --log-group every log group is read.
    let out = stdout(&query(dir.path(), &["--format", "ndjson", q]));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one object per line"))
        .collect();
    assert_eq!(lines.len(), nx.len());
    let mut got: Vec<String> = lines
        .iter()
        .map(|l| l["query_name"].as_str().unwrap().to_string())
        .collect();
    let mut want: Vec<String> = nx
        .iter()
        .map(|r| r["query_name"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(lines
        .iter()
        .all(|l| l.get("@ptr").is_none() && l["srcaddr"].is_string()));

    let out = stdout(&query(dir.path(), &["--format", "csv", q]));
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        vec!["query_name", "srcaddr"]
    );
    assert_eq!(rd.records().count(), nx.len());

    let out = stdout(&query(dir.path(), &["--format", "table", q]));
    let mut it = out.lines();
    let header = it.next().unwrap();
    assert!(header.starts_with("query_name") && header.contains("srcaddr"));
    assert!(it.next().unwrap().starts_with("---"));
    assert_eq!(it.count(), nx.len());
}

#[test]
fn time_range_and_query_file() {
    let dir = imported();
    let recs = records();
    let start = chrono::DateTime::parse_from_rfc3339("2021-12-11T22:46:23Z")
        .unwrap()
        .timestamp();
    let in_range = recs
        .iter()
        .filter(|r| {
            let t = chrono::DateTime::parse_from_rfc3339(r["query_timestamp"].as_str().unwrap())
                .unwrap()
                .timestamp();
            t == start
        })
        .count();
    assert!(
        in_range > 0 && in_range < recs.len(),
        "the range selects a strict subset"
    );
    let qf = dir.path().join("q.insights");
    std::fs::write(&qf, "stats count(*) as n").unwrap();
    let s = start.to_string();
    // Epoch seconds, both ends inclusive: exactly the events of that second.
    let out = stdout(&query(
        dir.path(),
        &[
            "--start",
            &s,
            "--end",
            &s,
            "--format",
            "ndjson",
            "--query-file",
            qf.to_str().unwrap(),
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["n"], in_range.to_string());
    // ISO 8601 gives the same.
    let out = stdout(&query(
        dir.path(),
        &[
            "--start",
            "2021-12-11T22:46:23Z",
            "--end",
            "2021-12-11 22:46:23",
            "--format",
            "ndjson",
            "stats count(*) as n",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["n"], in_range.to_string());
    // Relative times: from 100000 days ago to now covers everything; 1h ago to now nothing.
    let out = stdout(&query(
        dir.path(),
        &[
            "--start",
            "100000d",
            "--end",
            "now",
            "--format",
            "ndjson",
            "stats count(*) as n",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["n"], recs.len().to_string());
    let out = stdout(&query(
        dir.path(),
        &["--start", "1h", "--format", "ndjson", "stats count(*) as n"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["n"], "0");
}

#[test]
fn a_bad_query_prints_a_diagnostic_and_exits_1() {
    let dir = imported();
    let o = query(dir.path(), &["--log-group", "r53", "filter (("]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error"), "diagnostic: {err}");
    let o = query(dir.path(), &["--log-group", "r53", "pattern @message"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pattern"));
    let o = query(dir.path(), &["--log-group", "nope", "fields @message"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope"));
}

/// A new user's finding: `stats count(*) by … | sort count desc` sorts on a field that
/// `stats` did not keep (the column is `count(*)`). The query runs, as on AWS, but the CLI
/// now prints `openwatch check`'s warning first; `--quiet` keeps stderr silent.
#[test]
fn a_query_with_warnings_runs_and_prints_them() {
    let dir = imported();
    let q = "stats count(*) by query_type | sort count desc";
    let o = query(dir.path(), &["--log-group", "r53", "--format", "csv", q]);
    assert!(!stdout(&o).is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning") && err.contains("Q326"), "{err}");
    let o = query(dir.path(), &["--log-group", "r53", "--quiet", q]);
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // a query without warnings prints none
    let o = query(
        dir.path(),
        &[
            "--log-group",
            "r53",
            "stats count(*) as n by query_type | sort n desc",
        ],
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
}

/// QA finding 2: control and bidi characters in values are escaped in `table` output only.
#[test]
fn qa_table_escapes_control_chars() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("evil.ndjson");
    std::fs::write(
        &file,
        "{\"time\":1700000000,\"v\":\"red\\u001b[31mX\\u0007\\u009b2J\\u007f\\u0000end\"}\n\
         {\"time\":1700000001,\"v\":\"abc\\u202egpj.exe\\u2066\\u202a\\u2069 tab\\there\"}\n",
    )
    .unwrap();
    let o = openwatch(&[
        "import",
        "--data-dir",
        d,
        "-g",
        "e",
        "-q",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = |format: &str| {
        stdout(&query(
            dir.path(),
            &[
                "-g",
                "e",
                "--start",
                "1700000000",
                "--format",
                format,
                "fields v | sort @timestamp asc",
            ],
        ))
    };
    let table = run("table");
    let raw: Vec<char> = table
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || ('\u{202a}'..='\u{202e}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect();
    assert!(
        raw.is_empty(),
        "raw control/bidi characters {raw:?} in {table:?}"
    );
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "v");
    assert_eq!(lines[2], r"red\x1b[31mX\x07\x9b2J\x7f\x00end");
    assert_eq!(
        lines[3],
        r"abc\u{202e}gpj.exe\u{2066}\u{202a}\u{2069} tab here"
    );
    // json and ndjson keep the values exact
    let nd = run("ndjson");
    let vals: Vec<String> = nd
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["v"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        vals,
        [
            "red\u{1b}[31mX\u{7}\u{9b}2J\u{7f}\u{0}end",
            "abc\u{202e}gpj.exe\u{2066}\u{202a}\u{2069} tab\there"
        ]
    );
    let json = run("json");
    assert!(json.contains(r"red\u001b[31mX\u0007"), "{json}");
}

/// QA finding 4: epoch milliseconds are refused with a hint; `-5m` is 5 minutes ago like
/// `5m`; `+5m` (the future) is refused.
#[test]
fn qa_time_args() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("now.log");
    // text without a timestamp: stored at the ingestion time (now)
    std::fs::write(&file, "just now\n").unwrap();
    let o = openwatch(&[
        "import",
        "--data-dir",
        d,
        "-g",
        "t",
        "-q",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let count = |range: &[&str]| {
        let mut args = vec!["-g", "t", "--format", "ndjson"];
        args.extend_from_slice(range);
        args.push("stats count(*) as n");
        let out = stdout(&query(dir.path(), &args));
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["n"].as_str().unwrap().to_owned()
    };
    let fails = |range: &[&str]| {
        let mut args = vec!["-g", "t"];
        args.extend_from_slice(range);
        args.push("stats count(*) as n");
        let o = query(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{range:?}");
        assert!(o.stdout.is_empty());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // -5m is 5 minutes ago, like 5m: the event of just now is after it
    assert_eq!(count(&["--start", "-5m"]), "1");
    assert_eq!(count(&["--start", "5m"]), "1");
    assert_eq!(count(&["--end", "-5m"]), "0");
    assert_eq!(count(&["--start=-1h", "--end", "now"]), "1");
    // the future is refused, not silently turned into the past
    let err = fails(&["--start", "+5m"]);
    assert!(
        err.contains("future time \"+5m\" is not supported"),
        "{err}"
    );
    // epoch milliseconds
    let err = fails(&["--start", "1700000005000"]);
    assert!(
        err.contains(
            "after the year 9999; it looks like epoch milliseconds: pass seconds (1700000005)"
        ),
        "{err}"
    );
    let err = fails(&["--end", "99999999999999999"]);
    assert!(err.contains("after the year 9999"), "{err}");
    assert!(!err.contains("milliseconds"), "{err}");
    // a relative time too far back is refused (QA, session 5: it wrapped to the future)
    let err = fails(&["--start", "106751991168d"]);
    assert!(err.contains("before the year 1"), "{err}");
    let err = fails(&["--start", "800000000d"]);
    assert!(err.contains("before the year 1"), "{err}");
    assert_eq!(count(&["--start", "700000d"]), "1");
    // the last second of 9999 is still fine
    assert_eq!(count(&["--start", "0", "--end", "253402300799"]), "1");
    assert_eq!(count(&["--start", "253402300799"]), "0");
    // a start after the end names both times as dates (QA, session 11: they were epoch ms);
    // a date-only --end is the end of that day
    let o = query(
        dir.path(),
        &[
            "-g",
            "t",
            "--start",
            "2024-01-01",
            "--end",
            "2023-01-01",
            "stats count(*)",
        ],
    );
    // (a usage error since session 20, quoting the arguments as given too)
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "--start \"2024-01-01\" (2024-01-01T00:00:00Z) is after --end \"2023-01-01\" (2023-01-01T23:59:59.999Z)"
        ),
        "{err}"
    );
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        .join("other/fixtures")
        .join(name)
}

fn import_into(dir: &Path, group: &str, format: &str, file: &Path) {
    let o = openwatch(&[
        "import",
        "--data-dir",
        dir.to_str().unwrap(),
        "--log-group",
        group,
        "--format",
        format,
        "--quiet",
        file.to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Rows of `--format json` output as field -> value maps.
fn json_rows(o: &Output) -> Vec<std::collections::BTreeMap<String, String>> {
    let v: serde_json::Value = serde_json::from_str(&stdout(o)).expect("JSON");
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .filter(|c| c["field"] != "@ptr")
                .map(|c| {
                    (
                        c["field"].as_str().unwrap().to_string(),
                        c["value"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Spec §3.2: Lambda fields discovered from the AWS docs' get-log-events capture, imported
/// with `openwatch import` (the REPORT line: 26.73 ms, billed 27 ms, 128 MB, 75 MB used;
/// memory in bytes) and the first JSON fragment of the `EVENT {"key": "value"}` line.
#[test]
fn lambda_fields_after_import() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("lambda-get-log-events.awsdocs.ndjson");
    import_into(dir.path(), "/aws/lambda/demo", "cloudwatch-events", &file);
    let o = query(
        dir.path(),
        &[
            "--log-group",
            "/aws/lambda/demo",
            "--format",
            "json",
            "filter @type = \"REPORT\" | fields @requestId, @duration, @billedDuration, @memorySize, @maxMemoryUsed, @maxMemoryUsed / 1000 / 1000 as usedMB",
        ],
    );
    let rows = json_rows(&o);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r["@requestId"], "4ce9340a-b765-490f-ad8a-02ab3415e2bf");
    assert_eq!(r["@duration"], "26.73");
    assert_eq!(r["@billedDuration"], "27");
    assert_eq!(r["@memorySize"], "128000000");
    assert_eq!(r["@maxMemoryUsed"], "75000000");
    assert_eq!(r["usedMB"], "75");

    let o = query(
        dir.path(),
        &[
            "--log-group",
            "/aws/lambda/demo",
            "--format",
            "json",
            "filter ispresent(key) | fields @requestId, key",
        ],
    );
    let rows = json_rows(&o);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["key"], "value");

    // START, END, REPORT have a @type; the two runtime lines only a @requestId
    let o = query(
        dir.path(),
        &[
            "--log-group",
            "/aws/lambda/demo",
            "--format",
            "json",
            "filter ispresent(@requestId) | stats count(*) as n, count(@type) as typed",
        ],
    );
    let rows = json_rows(&o);
    assert_eq!(rows[0]["n"], "5");
    assert_eq!(rows[0]["typed"], "3");
}

/// Spec §3.2 and example 18: VPC flow log fields of the AWS docs' default-format records,
/// imported as plain text. Expected values are read from the file with a plain split.
#[test]
fn vpc_flow_log_fields_after_import() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("vpc-flow-logs-v2.awsdocs.log");
    import_into(dir.path(), "vpc", "text", &file);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut want: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for l in text.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        if f[12] == "REJECT" {
            let e = want.entry(f[3].to_string()).or_default();
            e.0 += 1;
            e.1 += f[9].parse::<u64>().unwrap();
        }
    }
    assert_eq!(want.len(), 2);
    let o = query(
        dir.path(),
        &[
            "--log-group",
            "vpc",
            "--format",
            "json",
            "filter action = \"REJECT\" | stats count(*) as rejects, sum(bytes) as b by srcAddr",
        ],
    );
    let rows = json_rows(&o);
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for r in &rows {
        let (n, b) = want[&r["srcAddr"]];
        assert_eq!(r["rejects"], n.to_string());
        assert_eq!(r["b"], b.to_string());
    }
}

/// `@log` is `account:group` with the account of `--account` (and of the default account
/// recorded by `serve` without it), not `000000000000`.
#[test]
fn at_log_names_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, "{\"a\":1}\n{\"a\":2}\n").unwrap();
    let f = file.to_str().unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "--data-dir", d, "--log-group", "app", "--quiet"];
        args.extend_from_slice(extra);
        args.push(f);
        let o = openwatch(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let logs = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["--format", "json", "-g", "app"];
        args.extend_from_slice(extra);
        args.push("fields @log");
        json_rows(&query(dir.path(), &args))
            .into_iter()
            .map(|r| r.get("@log").cloned().unwrap_or_default())
            .collect()
    };
    import(&["--account", "222222222222"]);
    assert_eq!(
        logs(&["--account", "222222222222"]),
        ["222222222222:app", "222222222222:app"]
    );
    // The default account: the one `serve` recorded in the data directory.
    std::fs::write(dir.path().join("default-account"), "123456789012\n").unwrap();
    import(&[]);
    assert_eq!(logs(&[]), ["123456789012:app", "123456789012:app"]);
}

#[test]
fn timestamps_rfc3339_prints_iso_8601_like_the_source_field() {
    let dir = imported();
    let recs = records();
    let q = "fields @timestamp, query_timestamp, bin(1h) as hour";
    let out = stdout(&query(
        dir.path(),
        &["--format", "ndjson", "--timestamps", "rfc3339", q],
    ));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one object per line"))
        .collect();
    assert_eq!(lines.len(), recs.len());
    for l in &lines {
        // @timestamp was read from query_timestamp (whole seconds), so both print alike
        assert_eq!(l["@timestamp"], l["query_timestamp"], "{l}");
        let hour = l["hour"].as_str().unwrap();
        let ts = l["@timestamp"].as_str().unwrap();
        assert_eq!(hour, format!("{}:00:00Z", &ts[..13]), "{l}");
    }
    // the default stays GetQueryResults' form
    let out = stdout(&query(dir.path(), &["--format", "ndjson", q]));
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let ts = first["@timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2021-12-11 22:46:23.000".len(), "{ts}");
    assert_eq!(&ts[10..11], " ");
    assert!(ts.ends_with(".000"));
}

/// `openwatch query` opens the store read-only: several run at once on one data
/// directory, and none of them changes a file in it.
#[test]
fn queries_run_side_by_side_and_write_nothing() {
    let dir = imported();
    let before = ow_test_utils::file_listing(dir.path());
    let args = [
        "query",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--format",
        "ndjson",
        "stats count(*) as n by query_type | sort query_type asc",
    ];
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_openwatch"))
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the openwatch binary runs")
        })
        .collect();
    let outs: Vec<String> = children
        .into_iter()
        .map(|c| stdout(&c.wait_with_output().unwrap()))
        .collect();
    let expected: String = count_by_type(&records())
        .iter()
        .map(|(t, n)| format!("{{\"query_type\":\"{t}\",\"n\":\"{n}\"}}\n"))
        .collect();
    for out in &outs {
        assert_eq!(out, &expected);
    }
    assert_eq!(
        ow_test_utils::file_listing(dir.path()),
        before,
        "a query changed the data directory"
    );
}

/// `openwatch query … | head` ends quietly with status 0 in every format (QA, session 5:
/// ndjson, json and csv printed "error: Broken pipe" and exited 2).
#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..4000)
        .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(200)))
        .collect();
    let file = dir.path().join("big.ndjson");
    std::fs::write(&file, lines).unwrap();
    let data = dir.path().join("data");
    import_into(&data, "big", "ndjson", &file);
    for format in ["ndjson", "json", "csv", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_openwatch"))
            .args([
                "query",
                "--data-dir",
                data.to_str().unwrap(),
                "--format",
                format,
                "fields @message, pad",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the openwatch binary runs");
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {:?} {err}", out.status);
        assert!(!err.contains("error"), "{format}: {err}");
    }
}

/// Without --start/--end the range is the stored range: queryStartTime() is the earliest
/// event's time, queryEndTime() now, queryTimeRange() their difference (QA, session 5:
/// they were the extreme 64-bit values and -1).
#[test]
fn without_start_and_end_the_range_is_the_stored_range() {
    let dir = imported();
    let before_ms = chrono_now_ms();
    let o = query(
        dir.path(),
        &[
            "--format",
            "json",
            "fields queryStartTime() as s, queryEndTime() as e, queryTimeRange() as r, \
             toMillis(@timestamp) as t | sort @timestamp asc | limit 1",
        ],
    );
    let row = &json_rows(&o)[0];
    let n = |k: &str| -> i64 { row[k].parse().unwrap() };
    assert_eq!(n("s"), n("t"), "{row:?}");
    assert!(n("e") >= before_ms && n("e") <= chrono_now_ms(), "{row:?}");
    assert_eq!(n("r"), n("e") - n("s"), "{row:?}");
    // every event is in range
    let o = query(dir.path(), &["--format", "ndjson", "stats count(*) as n"]);
    assert_eq!(stdout(&o), format!("{{\"n\":\"{}\"}}\n", records().len()));
    // only --start: the end is now
    let o = query(
        dir.path(),
        &[
            "--start",
            "2000-01-01T00:00:00Z",
            "--format",
            "json",
            "fields queryStartTime() as s, queryEndTime() as e | limit 1",
        ],
    );
    let row = &json_rows(&o)[0];
    assert_eq!(row["s"], "946684800000");
    assert!(row["e"].parse::<i64>().unwrap() >= before_ms, "{row:?}");
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A log group name that does not exist: exit 1, and help naming the closest group (names
/// are case-sensitive: a case slip gets the suggestion too), else the groups there are.
#[test]
fn an_unknown_log_group_gets_a_suggestion_or_the_list() {
    let dir = imported();
    let d = dir.path().to_str().unwrap();
    let run = |group: &str| {
        let o = openwatch(&["query", "--data-dir", d, "-g", group, "stats count(*)"]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    for typo in ["r35", "R53"] {
        let (code, err) = run(typo);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("log group does not exist: {typo}")),
            "{err}"
        );
        assert!(err.contains("help: did you mean `r53`?"), "{err}");
    }
    let (code, err) = run("cloudtrail");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("help: the log groups are: r53"), "{err}");
}

/// A time range with no event in it says where the queried log groups' events are (QA,
/// session 11: `--start 7d` over old data gave 0 rows and no clue); the expected range is
/// read from the NDJSON file itself.
#[test]
fn an_empty_time_range_names_the_stored_one() {
    let dir = imported();
    let times: Vec<String> = records()
        .iter()
        .map(|r| r["query_timestamp"].as_str().unwrap().to_owned())
        .collect();
    let (first, last) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    let note = format!(
        "note: no event is in the time range; the queried log groups hold events from {first} to {last}"
    );
    let run = |range: &[&str]| {
        let mut args = vec!["-g", "r53"];
        args.extend_from_slice(range);
        args.push("stats count(*) as n");
        let o = query(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let err = run(&["--start", "1d"]);
    assert!(err.contains(&note), "{err}");
    // events in range, or no range given: no note
    assert!(!run(&["--start", "2021-01-01"]).contains("note:"));
    assert!(!run(&[]).contains("note:"));
}

/// A field no event has (a misspelt name) gets a note with the nearest field that exists
/// (QA, session 19: `filter evtName = …` gave 0 rows and no clue); a field that exists but
/// matches nothing, or an object's path, gets none.
#[test]
fn a_field_no_event_has_is_noted() {
    let dir = imported();
    let stderr = |q: &str| {
        let o = query(dir.path(), &["-g", "r53", q]);
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let typo = stderr("filter query_typ = 'A'");
    assert!(typo.contains("0 rows"), "{typo}");
    assert!(
        typo.contains(
            "note: no event in the time range has a field `query_typ` (did you mean `query_type`?)"
        ),
        "{typo}"
    );
    let column = stderr("fields query_nam, rcode | limit 3");
    assert!(
        column.contains("has a field `query_nam` (did you mean `query_name`?)"),
        "{column}"
    );
    assert!(!column.contains("`rcode`"), "{column}");
    // a SOURCE query's log groups are the engine's selection: noted too (QA, session 19)
    let o = query(
        dir.path(),
        &["SOURCE logGroups(namePrefix: ['r5']) | filter query_typ = 'A'"],
    );
    assert_eq!(o.status.code(), Some(0));
    let source = String::from_utf8_lossy(&o.stderr);
    assert!(
        source.contains("has a field `query_typ` (did you mean `query_type`?)"),
        "{source}"
    );
    // a count of 0 is as empty as no row (QA, session 20)
    let count = stderr("filter query_typ = 'A' | stats count(*) as n");
    assert!(count.contains("has a field `query_typ`"), "{count}");
    let counted = stderr("stats count(query_typ) as n, count_distinct(query_nam) as d");
    assert!(counted.contains("has a field `query_typ`"), "{counted}");
    assert!(counted.contains("has a field `query_nam`"), "{counted}");
    for q in [
        // `@ptr` is every event's (QA, session 20: noted as missing)
        "filter query_type = 'NOPE' | fields @ptr",
        "filter query_type = 'NOPE'",
        "fields answers | limit 2",
        "filter rcode = 'x' | stats count(*)",
    ] {
        let out = stderr(q);
        assert!(!out.contains("has a field"), "{q}: {out}");
    }
}

/// A SOURCE query selects its own log groups: `--log-group` beside it is refused (QA,
/// session 20: the default time range came from the `-g` groups and counts were short).
#[test]
fn log_groups_beside_a_source_query_are_refused() {
    let dir = imported();
    let o = query(
        dir.path(),
        &[
            "-g",
            "r53",
            "SOURCE logGroups(namePrefix: ['r5']) | stats count(*) as n",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("drop --log-group"), "{err}");
    let o = query(
        dir.path(),
        &[
            "--format",
            "csv",
            "SOURCE logGroups(namePrefix: ['r5']) | stats count(*) as n",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), format!("n\n{}\n", records().len()));
}

/// A SOURCE with `start=`/`end=` sets the range: `--start`/`--end` beside it are refused,
/// and an empty window gets the note on where the events are (QA, session 20: the window
/// silently won over `--start`, and an empty one said nothing); a SOURCE prefix that
/// matches only in another case says so.
#[test]
fn a_source_window_is_the_time_range() {
    let dir = imported();
    let o = query(
        dir.path(),
        &[
            "--start",
            "1d",
            "SOURCE 'r53' start=-1d | stats count(*) as n",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("drop --start and --end"));
    let o = query(
        dir.path(),
        &[
            "--format",
            "csv",
            "SOURCE 'r53' start=-1h | stats count(*) as n",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "n\n0\n");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("note: no event is in the time range"), "{err}");
    let o = query(
        dir.path(),
        &[
            "--format",
            "csv",
            "SOURCE 'r53' start=-100000d end=now | stats count(*) as n",
        ],
    );
    assert_eq!(stdout(&o), format!("n\n{}\n", records().len()));
    let o = query(
        dir.path(),
        &["SOURCE logGroups(namePrefix: ['R5']) | fields @message"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Q420") && err.contains("case-sensitive: `r53`"),
        "{err}"
    );
}

/// `--query-file -` reads the query from standard input (as `check` and `fmt` do); a zero
/// `--timeout` is a usage error (QA, session 20).
#[test]
fn a_query_from_stdin_and_a_zero_timeout() {
    use std::io::Write;
    let dir = imported();
    let mut child = Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args([
            "query",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "-g",
            "r53",
        ])
        .args(["--format", "csv", "--query-file", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"stats count(*) as n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), format!("n\n{}\n", records().len()));
    let o = query(
        dir.path(),
        &["-g", "r53", "--timeout", "0s", "stats count(*)"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad --timeout"));
    // an inverted range is a usage error that quotes the arguments as given
    let o = query(
        dir.path(),
        &[
            "-g",
            "r53",
            "--start",
            "2023-07-10T12:30:00Z",
            "--end",
            "2023-07-10T12:00:00Z",
            "stats count(*)",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--start \"2023-07-10T12:30:00Z\" (2023-07-10T12:30:00Z) is after --end \"2023-07-10T12:00:00Z\""),
        "{err}"
    );
}

/// A row cap out of range names `--limit` (QA, session 18: "limit must be between 1 and
/// 100000" named no argument) and is a usage error.
#[test]
fn a_row_cap_out_of_range_names_the_flag() {
    let dir = imported();
    for bad in ["0", "100001", "ten"] {
        let o = query(
            dir.path(),
            &["-g", "r53", "--limit", bad, "fields @timestamp"],
        );
        assert_eq!(o.status.code(), Some(2), "--limit {bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--limit"), "{err}");
        assert!(err.contains("from 1 to 100000"), "{err}");
    }
    let o = query(
        dir.path(),
        &["-g", "r53", "--limit", "100000", "fields @timestamp"],
    );
    assert_eq!(o.status.code(), Some(0));
}

/// A result cut at the row cap says so (QA, session 14: "10000 rows; recordsMatched 12902"
/// and nothing more); a result under the cap, or a `limit` of the query's own, does not.
#[test]
fn rows_cut_at_the_row_cap_say_how_to_get_more() {
    let dir = imported();
    let n = records().len();
    assert!(n > 3, "the sample has {n} records");
    let stderr = |args: &[&str]| {
        let o = query(dir.path(), args);
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let cut = stderr(&["-g", "r53", "--limit", "3", "fields @timestamp"]);
    assert!(cut.contains("3 rows; recordsMatched"), "{cut}");
    assert!(
        cut.contains("note: the rows stop at the row cap of 3; `--limit N` raises it"),
        "{cut}"
    );
    let whole = format!("{n}");
    let all = stderr(&["-g", "r53", "--limit", &whole, "fields @timestamp"]);
    assert!(!all.contains("row cap"), "{all}");
    let own = stderr(&["-g", "r53", "fields @timestamp | limit 3"]);
    assert!(!own.contains("row cap"), "{own}");
    // QA (session 18): a `stats` result with exactly as many groups as the cap was called
    // cut (its rows were compared with recordsMatched, which counts events)
    let types: std::collections::BTreeSet<String> = records()
        .iter()
        .filter_map(|r| r["query_type"].as_str().map(str::to_string))
        .collect();
    assert!(types.len() > 1 && types.len() < n, "{types:?}");
    let stats = "stats count(*) by query_type";
    let exact = format!("{}", types.len());
    let fits = stderr(&["-g", "r53", "--limit", &exact, stats]);
    assert!(fits.contains(&format!("{exact} rows;")), "{fits}");
    assert!(!fits.contains("row cap"), "{fits}");
    let fewer = format!("{}", types.len() - 1);
    let cut = stderr(&["-g", "r53", "--limit", &fewer, stats]);
    assert!(cut.contains(&format!("row cap of {fewer};")), "{cut}");
    // an explicit `limit` as large as the cap: a larger cap would not give more rows
    let own = stderr(&["-g", "r53", "--limit", "3", "fields @timestamp | limit 3"]);
    assert!(!own.contains("row cap"), "{own}");
}
