//! Tests of the query socket: `openwatch query` on a data directory that `openwatch serve`
//! holds is answered by the server, with the output, diagnostics and exit code of a local
//! run; a socket left behind by a killed server is ignored.

use std::path::Path;
use std::process::Output;

use crate::query::{imported, query, records};
use crate::serve::{spawn, stop, wait_serving};

/// Queries covering every output format, a stats query, a time range, a bad query (exit 1
/// with a diagnostic), a missing log group (exit 1 with help) and a warning.
fn cases() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "--format",
            "ndjson",
            "fields @timestamp, query_name, @message | sort @timestamp asc | limit 50",
        ],
        vec![
            "--format",
            "json",
            "fields @timestamp, query_type | limit 5",
        ],
        vec![
            "--format",
            "csv",
            "stats count(*) as n by query_type | sort n desc",
        ],
        vec![
            "--format",
            "table",
            "stats count(*) as n by bin(1h) as hour",
        ],
        vec![
            "--format",
            "ndjson-compact",
            "--timestamps",
            "rfc3339",
            "filter query_type = 'A' | fields @timestamp, query_name",
        ],
        vec![
            "--start",
            "1000000000",
            "--end",
            "2000000000",
            "--format",
            "csv",
            "stats count(*) as n",
        ],
        vec!["stats count(*) as n by | limit"],
        vec!["--log-group", "nope", "fields @message"],
        vec!["stats count(*) as n by query_type | fields query_name"],
        vec![
            "--limit",
            "3",
            "--quiet",
            "--format",
            "csv",
            "fields query_name",
        ],
    ]
}

fn run_all(dir: &Path) -> Vec<Output> {
    cases().iter().map(|args| query(dir, args)).collect()
}

#[test]
fn a_query_of_a_served_data_directory_is_answered_by_the_server_as_a_local_run() {
    let dir = imported();
    let local = run_all(dir.path());
    // the data really is there: the csv count of every record
    assert_eq!(
        String::from_utf8_lossy(&local[5].stdout),
        format!("n\n{}\n", records().len())
    );
    assert_eq!(local[6].status.code(), Some(1), "the bad query fails");
    assert_eq!(
        local[7].status.code(),
        Some(1),
        "the missing log group fails"
    );

    let mut server = spawn(dir.path(), &[]);
    wait_serving(&mut server);
    let socket = dir.path().join("query.sock");
    assert!(
        socket.exists(),
        "the server listens on {}",
        socket.display()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the socket is owner-only");
    }
    let served = run_all(dir.path());
    // A client that connects and goes away without a request does not stop the server.
    drop(std::os::unix::net::UnixStream::connect(&socket).unwrap());
    let again = query(dir.path(), &cases()[2]);
    let (code, _) = stop(server);
    assert_eq!(code, 0);
    assert!(!socket.exists(), "a stopped server removes its socket");

    for ((args, l), s) in cases().iter().zip(&local).zip(&served) {
        assert_eq!(s.status.code(), l.status.code(), "exit code of {args:?}");
        assert_eq!(
            String::from_utf8_lossy(&s.stdout),
            String::from_utf8_lossy(&l.stdout),
            "stdout of {args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&s.stderr),
            String::from_utf8_lossy(&l.stderr),
            "stderr of {args:?}"
        );
    }
    assert_eq!(again.stdout, local[2].stdout);
}

/// `stats count(*)` over the data directory gives the number of imported records.
fn counts_every_record(dir: &Path) {
    let o = query(dir, &["--format", "csv", "stats count(*) as n"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("n\n{}\n", records().len())
    );
}

#[test]
fn a_socket_left_by_a_killed_server_is_ignored() {
    let dir = imported();
    let mut server = spawn(dir.path(), &[]);
    wait_serving(&mut server);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        dir.path().join("query.sock").exists(),
        "SIGKILL leaves the socket file"
    );
    counts_every_record(dir.path());
    // and the next server replaces it
    let mut server = spawn(dir.path(), &[]);
    wait_serving(&mut server);
    counts_every_record(dir.path());
    assert_eq!(stop(server).0, 0);
}

/// A data directory whose socket path is longer than a Unix socket address holds (107
/// bytes) is served too (through `/proc/self/fd` on Linux).
#[cfg(target_os = "linux")]
#[test]
fn a_data_directory_with_a_long_path_is_served() {
    let base = tempfile::tempdir().unwrap();
    let long = base.path().join("d".repeat(60)).join("e".repeat(60));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(["import", "--quiet", "--log-group", "r53", "--data-dir"])
        .arg(&long)
        .args(["--timestamp-field", "query_timestamp"])
        .arg(crate::query::route53())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(long.join("query.sock").as_os_str().len() > 107);
    counts_every_record(&long);
    let mut server = spawn(&long, &[]);
    wait_serving(&mut server);
    assert!(long.join("query.sock").exists());
    counts_every_record(&long);
    assert_eq!(stop(server).0, 0);
}

/// `openwatch import` of text lines from stdin into log group `more` of `dir`.
fn import_text_from_stdin(dir: &std::path::Path) -> std::process::Command {
    let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_openwatch"));
    import
        .args([
            "import",
            "--quiet",
            "--log-group",
            "more",
            "--format",
            "text",
        ])
        .arg("--data-dir")
        .arg(dir)
        .arg("-");
    import
}

/// While `import` holds the data directory (reading stdin here), a query says so and how
/// a running server would be reached.
#[test]
fn a_query_of_a_held_directory_explains_the_lock() {
    let dir = imported();
    let mut import = import_text_from_stdin(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = import.stdin.take().unwrap();
    // the import holds the lock once it has read something
    std::io::Write::write_all(&mut stdin, b"hello\n").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let o = loop {
        let o = query(dir.path(), &["stats count(*)"]);
        if !o.status.success() || std::time::Instant::now() > deadline {
            break o;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    // a second import says what holds the directory and how to proceed
    let second = import_text_from_stdin(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    drop(stdin);
    assert!(import.wait().unwrap().success());
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{second_err}");
    assert!(second_err.contains("is in use"), "{second_err}");
    assert!(
        second_err.contains("help: another `openwatch import` or an `openwatch serve` holds"),
        "{second_err}"
    );
    assert!(second_err.contains("PutLogEvents"), "{second_err}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is in use"), "{stderr}");
    assert!(
        stderr.contains("help: `openwatch import` and `openwatch serve` hold a data directory"),
        "{stderr}"
    );
}

/// A server that cannot start (its address is taken) leaves no socket behind.
#[test]
fn a_server_that_cannot_start_leaves_no_socket() {
    let dir = imported();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(["serve", "--listen", &addr, "--data-dir"])
        .arg(dir.path())
        .env_remove("OPENWATCH_ACCESS_KEY_ID")
        .env_remove("OPENWATCH_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!dir.path().join("query.sock").exists());
}

/// A peer that sends more than the server reads (1 MiB) without a newline gets an error
/// and exit code 2, and the server goes on answering.
#[test]
fn an_oversized_request_is_refused_and_the_server_goes_on() {
    use std::io::{Read, Write};
    let dir = imported();
    let mut server = spawn(dir.path(), &[]);
    wait_serving(&mut server);
    let mut peer = std::os::unix::net::UnixStream::connect(dir.path().join("query.sock")).unwrap();
    let mut head = [0u8; 5];
    peer.read_exact(&mut head).unwrap();
    assert_eq!(head[0], b'a');
    peer.write_all(&vec![b'x'; (1 << 20) + 1]).unwrap();
    let frames: Vec<(u8, usize, String)> = frames_of(&mut peer)
        .into_iter()
        .map(|(tag, n, body)| (tag, n, String::from_utf8_lossy(&body).into_owned()))
        .collect();
    let stderr: String = frames
        .iter()
        .filter(|f| f.0 == b'e')
        .map(|f| f.2.as_str())
        .collect();
    assert_eq!(
        stderr, "error: the query request is larger than openwatch serve reads (1 MiB)\n",
        "{frames:?}"
    );
    assert_eq!(
        frames.last().map(|f| (f.0, f.1)),
        Some((b'x', 2)),
        "{frames:?}"
    );
    counts_every_record(dir.path());
    assert_eq!(stop(server).0, 0);
}

/// Reads a server's reply on `peer` into frames: (tag, length, body).
fn frames_of(peer: &mut std::os::unix::net::UnixStream) -> Vec<(u8, usize, Vec<u8>)> {
    use std::io::Read;
    let mut reply = Vec::new();
    peer.read_to_end(&mut reply).unwrap();
    let mut frames = Vec::new();
    let mut rest = &reply[..];
    while rest.len() >= 5 {
        let n = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let body = if rest[0] == b'x' {
            &[][..]
        } else {
            &rest[5..5 + n]
        };
        frames.push((rest[0], n, body.to_vec()));
        rest = &rest[5 + body.len()..];
    }
    assert!(rest.is_empty(), "a partial frame at the end: {rest:?}");
    frames
}

/// A client that shows a spinner asks for progress (QA: served queries showed none): the
/// server sends progress frames (16 bytes: recordsScanned, bytesScanned so far) while a
/// long query runs, before its output, which is the same as without them; a client that
/// does not ask gets none.
#[test]
fn a_served_query_sends_progress_to_a_client_that_asks() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    // enough rows for a costly expression to take several of the engine's 200 ms ticks
    let rows = 60_000;
    let file = dir.path().join("events.ndjson");
    let mut text = String::new();
    for i in 0..rows {
        text.push_str(&format!(
            "{{\"n\":{i},\"s\":\"abcdefabcdefabcdefabcdef{}\"}}\n",
            i % 97
        ));
    }
    std::fs::write(&file, text).unwrap();
    let data = dir.path().join("data");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args([
            "import",
            "--data-dir",
            data.to_str().unwrap(),
            "-g",
            "g",
            "--quiet",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut server = spawn(&data, &[]);
    wait_serving(&mut server);
    let query = "stats count(*) as c by strlen(replace(replace(replace(replace(replace(replace(\
                 @message, 'a', 'bb'), 'b', 'cc'), 'c', 'dd'), 'd', 'ee'), 'e', 'ff'), 'f', 'gg')) as l";
    let ask = |progress: bool| {
        let mut peer = std::os::unix::net::UnixStream::connect(data.join("query.sock")).unwrap();
        let mut head = [0u8; 5];
        peer.read_exact(&mut head).unwrap();
        assert_eq!(head[0], b'a');
        let invocation = serde_json::json!({
            "query": query, "log_groups": ["g"], "start_ms": null, "end_ms": null,
            "now_ms": 4102444800000i64, "format": "csv", "timestamps": "aws", "limit": null,
            "timeout_ms": null, "quiet": false, "progress": progress,
        });
        let mut line = serde_json::to_vec(&invocation).unwrap();
        line.push(b'\n');
        peer.write_all(&line).unwrap();
        frames_of(&mut peer)
    };
    let with = ask(true);
    let without = ask(false);
    let output = |frames: &[(u8, usize, Vec<u8>)]| -> Vec<(u8, Vec<u8>)> {
        frames
            .iter()
            .filter(|f| f.0 != b'p')
            .map(|f| (f.0, f.2.clone()))
            .collect()
    };
    assert_eq!(output(&with), output(&without));
    let stdout: Vec<u8> = with
        .iter()
        .filter(|f| f.0 == b'o')
        .flat_map(|f| f.2.clone())
        .collect();
    let csv = String::from_utf8_lossy(&stdout).into_owned();
    let column = csv
        .lines()
        .next()
        .and_then(|h| h.split(',').position(|c| c == "c"))
        .expect("a column c");
    let counted: u64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(column).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, rows as u64, "{}", String::from_utf8_lossy(&stdout));
    assert!(!without.iter().any(|f| f.0 == b'p'), "no progress unasked");
    let progress: Vec<(u64, u64)> = with
        .iter()
        .take_while(|f| f.0 == b'p')
        .map(|f| {
            assert_eq!(f.1, 16);
            (
                u64::from_le_bytes(f.2[..8].try_into().unwrap()),
                u64::from_le_bytes(f.2[8..].try_into().unwrap()),
            )
        })
        .collect();
    assert!(
        !progress.is_empty(),
        "{:?}",
        with.iter().map(|f| f.0 as char).collect::<String>()
    );
    assert_eq!(
        progress.len(),
        with.iter().filter(|f| f.0 == b'p').count(),
        "progress comes before the output"
    );
    assert!(
        progress
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
        "{progress:?}"
    );
    assert!(progress.iter().all(|p| p.0 <= rows as u64), "{progress:?}");
    assert_eq!(stop(server).0, 0);
}
