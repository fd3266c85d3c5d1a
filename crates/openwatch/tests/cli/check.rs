//! Tests of `openwatch check` and `openwatch fmt`.

use std::io::Write;
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
            .expect("stdin accepts the query");
    }
    drop(input);
    child.wait_with_output().expect("openwatch finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_accepts_valid_queries_with_exit_0() {
    let o = openwatch(
        &[
            "check",
            "--query",
            "fields @timestamp, @message | sort @timestamp desc | limit 25",
            "--query",
            "filter @message like /(?i)(error|fail)/ | stats count(*) as errors by bin(5m)",
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("checked 2 queries: 2 valid, 0 invalid"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_rejects_with_exit_1_and_a_caret_under_the_span() {
    let o = openwatch(
        &[
            "check",
            "--color",
            "never",
            "--query",
            "fields x",
            "--query",
            "fields x\n| fitler x = 1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("error[Q201]: unknown command `fitler`"),
        "{out}"
    );
    assert!(out.contains("<query 2>:2:3"), "{out}");
    assert!(out.contains("2 │ | fitler x = 1\n  │   ^^^^^^"), "{out}");
    assert!(out.contains("did you mean `filter`?"), "{out}");
    assert!(stderr(&o).contains("1 valid, 1 invalid"), "{}", stderr(&o));
}

#[test]
fn check_reads_files_and_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.q");
    let bad = dir.path().join("bad.q");
    std::fs::write(
        &good,
        "\u{feff}# saved query, with a byte-order mark\nstats count(*) by bin(1h)\n",
    )
    .unwrap();
    std::fs::write(&bad, "stats count(*) by bin(1h) | stats avg(x)\n").unwrap();
    let o = openwatch(
        &[
            "check",
            "--color",
            "never",
            "--file",
            good.to_str().unwrap(),
            "--file",
            bad.to_str().unwrap(),
            "--file",
            "-",
        ],
        Some("filter count(*) > 1"),
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains(&format!("{}:1:39", bad.display())), "{out}");
    assert!(
        out.contains("error[Q326]: field `x` is not available after `stats`"),
        "{out}"
    );
    assert!(out.contains("<stdin>:1:8"), "{out}");
    assert!(out.contains("error[Q302]"), "{out}");
    assert!(!out.contains("good.q"), "{out}");
    assert!(
        stderr(&o).contains("checked 3 queries: 1 valid, 2 invalid"),
        "{}",
        stderr(&o)
    );
    // several files after one --file, as `--file saved/*.insights` gives them (new user,
    // session 8: the README's glob failed with "unexpected argument")
    let o = openwatch(
        &[
            "check",
            "--color",
            "never",
            "--file",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("checked 2 queries: 1 valid, 1 invalid"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let q = "stats count(*) by bin(300s)";
    let o = openwatch(&["check", "--color", "never", "--query", q], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("warning[Q309]"), "{}", stdout(&o));
    let o = openwatch(
        &["check", "--color", "never", "--deny-warnings", "--query", q],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn stats_limit_is_a_flag() {
    let q = "stats count(*) as a by x | stats sum(a) as b by x | stats max(b) as c";
    assert_eq!(
        openwatch(&["check", "--query", q], None).status.code(),
        Some(1)
    );
    assert_eq!(
        openwatch(&["check", "--max-stats-commands", "10", "--query", q], None)
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn missing_file_and_no_input_are_usage_errors() {
    let o = openwatch(&["check", "--file", "/nonexistent/query.q"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/query.q"),
        "{}",
        stderr(&o)
    );
    let o = openwatch(&["check"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--query"), "{}", stderr(&o));
}

#[test]
fn fmt_prints_the_canonical_form() {
    let o = openwatch(
        &[
            "fmt",
            "--query",
            "FIELDS @timestamp,@message|FILTER x=='a'",
            "--query",
            "STATS COUNT(*) BY bin(5m) | sort @timestamp",
        ],
        None,
    );
    // the first query has a syntax error (`==`): reported, not printed
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Q104"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "stats COUNT(*) by bin(5m)\n| sort @timestamp\n");

    let o = openwatch(
        &["fmt", "--file", "-"],
        Some("# top\nfields  a ,b|filter a='x' and (b>1 or c<2) # why\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // comments are kept
    assert_eq!(
        stdout(&o),
        "# top\nfields a, b\n| filter a = \"x\" and (b > 1 or c < 2) # why\n"
    );
}

#[test]
fn fmt_check_mode() {
    let canonical = "fields a, b\n| limit 5";
    assert_eq!(
        openwatch(&["fmt", "--check", "--query", canonical], None)
            .status
            .code(),
        Some(0)
    );
    let o = openwatch(&["fmt", "--check", "--query", "fields a,b | limit 5"], None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
}
