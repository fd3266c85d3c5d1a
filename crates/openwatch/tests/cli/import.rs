//! Tests of `openwatch import`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn openwatch(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openwatch binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    if let Some(text) = stdin {
        input
            .write_all(text.as_bytes())
            .expect("stdin accepts input");
    }
    drop(input);
    child.wait_with_output().expect("openwatch finishes")
}

/// `openwatch import --data-dir DATA -g GROUP INPUT` (format auto), no stdin.
fn import_file(data: &std::path::Path, group: &str, input: &std::path::Path) -> Output {
    openwatch(
        &[
            "import",
            "--data-dir",
            data.to_str().unwrap(),
            "-g",
            group,
            input.to_str().unwrap(),
        ],
        None,
    )
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel)
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data("manifest.json")).unwrap()).unwrap()
}

#[test]
fn import_cloudtrail_delivery_tree_and_ndjson_then_the_store_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let m = manifest();
    let records = m["delivery"]["cloudtrail/delivery/invictus-aws_dataset"]["records"]
        .as_u64()
        .unwrap();
    let tree = data("cloudtrail/delivery/invictus-aws_dataset");
    let o = openwatch(
        &[
            "import",
            "--data-dir",
            d,
            "--log-group",
            "trail",
            tree.to_str().unwrap(),
        ],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains(&format!("imported {records} events")), "{out}");
    assert!(out.contains("from 55 inputs"), "{out}");
    assert!(out.contains("rejected: 0"), "{out}");
    assert!(
        out.contains("log streams: 123837392027_CloudTrail_us-east-1"),
        "{out}"
    );
    assert!(out.contains("events/s"), "{out}");

    let stratus = data("cloudtrail/stratus-red-team-detonation-logs.ndjson.gz");
    let want = m["cloudtrail"]["cloudtrail/stratus-red-team-detonation-logs.ndjson.gz"]["events"]
        .as_u64()
        .unwrap();
    let o = openwatch(
        &[
            "import",
            "--data-dir",
            d,
            "-g",
            "stratus",
            "-s",
            "one",
            stratus.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success());

    // the import flushed: the events are in Parquet segments, not only in the WAL
    let store = ow_storage::Store::open(dir.path(), Default::default()).unwrap();
    assert_eq!(store.log_group("trail").unwrap().event_count, records);
    assert_eq!(store.log_group("stratus").unwrap().event_count, want);
    let snap = store
        .snapshot(&["trail", "stratus"], i64::MIN, i64::MAX)
        .unwrap();
    for g in &snap.groups {
        assert!(g.buffered.is_empty());
        assert_eq!(
            g.segments.iter().map(|s| s.row_count).sum::<u64>(),
            g.log_group.event_count
        );
    }
    let streams = store
        .list_log_streams("stratus", &Default::default(), Default::default(), false)
        .unwrap();
    assert_eq!(streams.items.len(), 1);
    assert_eq!(streams.items[0].name, "one");
}

#[test]
fn import_from_stdin_reports_malformed_lines_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let input = "{\"timestamp\":1700000000000,\"message\":\"a\"}\n\
                 {\"timestamp\":1700000000001\n\
                 {\"timestamp\":1700000000002,\"message\":\"c\",\"logStreamName\":\"x\"}\n";
    let o = openwatch(
        &[
            "import",
            "--data-dir",
            d,
            "-g",
            "cw",
            "--format",
            "cloudwatch-events",
            "-",
        ],
        Some(input),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    // a rejected record: exit 1, everything else imported
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("imported 2 events"), "{out}");
    assert!(out.contains("rejected: 1 (invalid JSON: 1)"), "{out}");
    assert!(err.contains("warning: -:2: invalid JSON"), "{err}");
    assert!(out.contains("log streams: stdin, x"), "{out}");
}

#[test]
fn a_missing_path_is_an_error_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = openwatch(
        &[
            "import",
            "--data-dir",
            d,
            "-g",
            "g",
            "/nonexistent/file.json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/file.json"), "{err}");
    // QA (session 11): a missing path beside a good one creates no data directory
    let good = dir.path().join("good.ndjson");
    std::fs::write(&good, "{\"a\":1}\n").unwrap();
    let fresh = dir.path().join("fresh");
    let o = openwatch(
        &[
            "import",
            "--data-dir",
            fresh.to_str().unwrap(),
            "-g",
            "g",
            "/nonexistent/file.json",
            good.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!fresh.exists(), "a data directory was created");
    let o = openwatch(
        &["import", "--data-dir", d, "-g", "g", "--format", "xml", "-"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

/// QA (session 11): an empty file is not reported as read as plain text, and an import
/// that finds no file at all (an empty directory) says so.
#[test]
fn empty_inputs_are_reported_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let empty_dir = dir.path().join("nothing");
    std::fs::create_dir(&empty_dir).unwrap();
    let empty_file = dir.path().join("empty.ndjson");
    std::fs::write(&empty_file, "\n\n").unwrap();
    let run = |path: &std::path::Path| {
        let o = import_file(&d, "g", path);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        (o.status.code(), out, err)
    };
    let (code, out, err) = run(&empty_dir);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("imported 0 events"), "{out}");
    assert!(out.contains("from 0 inputs"), "{out}");
    assert!(err.contains("warning: no input files were found"), "{err}");
    let (code, out, err) = run(&empty_file);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("from 1 input "), "{out}");
    assert!(!out.contains("read as plain text"), "{out}");
    assert!(!err.contains("no input files"), "{err}");
}

/// New user (session 10): `auto` names the inputs it read as plain text.
#[test]
fn auto_import_names_inputs_read_as_text() {
    // new user (session 10): a directory import stored a README's lines as events unnoticed
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let json = logs.join("a.json");
    std::fs::write(
        &json,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}\n",
    )
    .unwrap();
    let readme = logs.join("README.md");
    std::fs::write(&readme, "# Sample logs\n\nTwo lines of prose.\n").unwrap();
    let o = import_file(&d, "g", &logs);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("imported 3 events"), "{out}");
    assert!(
        out.contains(&format!(
            "note: 1 input was read as plain text, one event per line ({}); --format chooses another format",
            readme.display()
        )),
        "{out}"
    );
    // JSON input alone: no note
    let o = import_file(&d, "h", &json);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("imported 1 event"), "{out}");
    assert!(!out.contains("note:"), "{out}");
}

/// QA (session 18): importing a whole CloudTrail folder read the delivery files and the
/// NDJSON made from them, doubling every count, and nothing said so. Records whose eventID
/// came before are counted in a note (and still stored).
#[test]
fn records_read_twice_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let ndjson = data("cloudtrail/trailscraper-testdata.ndjson.gz");
    let delivery = data("cloudtrail/delivery/trailscraper");
    let o = openwatch(
        &[
            "import",
            "--data-dir",
            d.to_str().unwrap(),
            "-g",
            "twice",
            ndjson.to_str().unwrap(),
            delivery.to_str().unwrap(),
        ],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    // trailscraper: 2 records in the NDJSON, the same 2 in its delivery files
    assert!(out.contains("imported 4 events"), "{out}");
    assert!(
        out.contains("note: 2 CloudTrail records repeat the eventID of an earlier record"),
        "{out}"
    );
    // once: no note
    let o = import_file(&d, "once", &ndjson);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("imported 2 events"), "{out}");
    assert!(!out.contains("eventID"), "{out}");
}

/// QA finding 1: text lines among JSON lines are stored as text events, not rejected.
#[test]
fn qa_import_mixed_lines_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("mixed.log");
    std::fs::write(
        &file,
        "{\"time\":1700000000,\"msg\":\"started\"}\nplain text line\n2023-11-14 ERROR something broke\n",
    )
    .unwrap();
    let o = openwatch(
        &["import", "--data-dir", d, "-g", "m", file.to_str().unwrap()],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("imported 3 events"), "{out}");
    assert!(out.contains("rejected: 0"), "{out}");
    assert!(
        out.contains(&format!(
            "warning: 2 lines were not JSON objects; stored as text events (at {f}:2, {f}:3)",
            f = file.display()
        )),
        "{out}"
    );
    let q = openwatch(
        &[
            "query",
            "--data-dir",
            d,
            "-g",
            "m",
            "--start",
            "1700000000",
            "--format",
            "csv",
            "fields @message | filter @message like /ERROR|plain/ | sort @message asc",
        ],
        None,
    );
    let qout = String::from_utf8_lossy(&q.stdout);
    assert!(
        q.status.success(),
        "{qout}\n{}",
        String::from_utf8_lossy(&q.stderr)
    );
    assert_eq!(
        qout.lines().skip(1).collect::<Vec<_>>(),
        ["2023-11-14 ERROR something broke", "plain text line"],
        "{qout}"
    );
}

/// QA finding 3: exit 1 when any record was rejected; no empty `log streams:` line.
#[test]
fn qa_import_exit_code_on_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // a binary file: no line is UTF-8, nothing is imported
    let bin = dir.path().join("blob.bin");
    std::fs::write(&bin, [0xffu8, 0xfe, b'\n', 0x80, 0x81, b'\n', 0xc3, b'\n']).unwrap();
    let o = openwatch(
        &["import", "--data-dir", d, "-g", "b", bin.to_str().unwrap()],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("imported 0 events"), "{out}");
    assert!(out.contains("rejected: 3 (not valid UTF-8: 3)"), "{out}");
    assert!(!out.contains("log streams:"), "{out}");
    assert!(err.contains("blob.bin:2: not valid UTF-8"), "{err}");

    // one bad line among good ones: the good ones are imported, exit 1
    let f = dir.path().join("t.log");
    std::fs::write(&f, b"ok 1\n\xff\nok 2\n").unwrap();
    let o = openwatch(
        &["import", "--data-dir", d, "-g", "t2", f.to_str().unwrap()],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("imported 2 events"), "{out}");
    assert!(out.contains("log streams: t.log"), "{out}");

    // one event: singular
    let f = dir.path().join("one.log");
    std::fs::write(&f, b"just one\n").unwrap();
    let o = openwatch(
        &["import", "--data-dir", d, "-g", "t3", f.to_str().unwrap()],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("imported 1 event ("), "{out}");

    // --help documents it
    let h = openwatch(&["import", "--help"], None);
    let help = String::from_utf8_lossy(&h.stdout);
    assert!(help.contains("1 if any record was rejected"), "{help}");
}

/// `openwatch import … | <a reader that has gone>`: the summary stops at the closed pipe, the
/// import itself is complete, and the exit code is still the import's (0 here, 1 with
/// rejected records), with no panic.
#[test]
fn a_closed_stdout_ends_the_summary_not_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let f = dir.path().join("app.log");
    std::fs::write(&f, "line one\nline two\n").unwrap();
    let bad = dir.path().join("bad.log");
    std::fs::write(&bad, b"ok\n\xff\n").unwrap();
    for (file, group, want) in [(&f, "g", 0), (&bad, "b", 1)] {
        // `true` exits at once without reading, so the summary meets a closed pipe
        let script = format!(
            "'{}' import --data-dir '{d}' -g {group} '{}' | true; exit ${{PIPESTATUS[0]}}",
            env!("CARGO_BIN_EXE_openwatch"),
            file.display()
        );
        let o = Command::new("bash").args(["-c", &script]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(want), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = openwatch(
        &[
            "query",
            "--data-dir",
            d,
            "-g",
            "g",
            "--format",
            "csv",
            "stats count(*)",
        ],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l == "2"), "both events imported: {out}");
}

/// Error texts name the cause once (QA, session 5: "File exists (os error 17): File exists
/// (os error 17)" for a data directory that is a regular file, and every I/O error twice).
#[test]
fn errors_name_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "{\"a\":1}\n").unwrap();
    let f = file.to_str().unwrap();
    for args in [
        vec!["import", "--data-dir", f, "-g", "g", f],
        vec!["query", "--data-dir", f, "fields @message"],
    ] {
        let o = openwatch(&args, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is not a directory"), "{args:?}: {err}");
    }
    let data = dir.path().join("data");
    let missing = dir.path().join("missing.ndjson");
    let o = import_file(&data, "g", &missing);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
}
