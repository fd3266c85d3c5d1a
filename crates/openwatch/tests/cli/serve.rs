//! Tests of `openwatch serve`: the demo key printed once, health, graceful stop, config errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn spawn(data_dir: &std::path::Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env_remove("OPENWATCH_ACCESS_KEY_ID")
        .env_remove("OPENWATCH_SECRET_ACCESS_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openwatch binary runs")
}

/// Reads stderr until the "serving … on http://ADDR" line; returns ADDR and the lines read.
pub(crate) fn wait_serving(child: &mut Child) -> (String, Vec<String>) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut reader = BufReader::new(stderr);
    let mut lines = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).expect("stderr is text") > 0 {
        let text = line.trim_end().to_string();
        line.clear();
        if let Some(addr) = text.split("on http://").nth(1) {
            let addr = addr.trim().to_string();
            lines.push(text);
            // Keep draining stderr so the server never writes to a closed pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return (addr, lines);
        }
        lines.push(text);
    }
    panic!("server exited before serving: {lines:?}");
}

fn health(addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(addr) {
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            return out;
        }
        assert!(Instant::now() < deadline, "no connection to {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn stop(mut child: Child) -> (i32, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let code = child.wait().expect("server exits").code().unwrap_or(-1);
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out).unwrap();
    }
    (code, out)
}

#[test]
fn serve_prints_a_demo_key_once_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = spawn(&data, &[]);
    let (addr, _) = wait_serving(&mut child);
    let h = health(&addr);
    assert!(h.starts_with("HTTP/1.1 200"), "{h}");
    assert!(h.contains("{\"status\":\"ok\"}"), "{h}");
    let (code, stdout) = stop(child);
    assert_eq!(code, 0);
    let secret_line = stdout
        .lines()
        .find(|l| l.contains("AWS_SECRET_ACCESS_KEY="))
        .unwrap_or_else(|| panic!("no key printed: {stdout}"));
    let secret = secret_line.split('=').nth(1).unwrap().trim().to_string();
    // both region variables, for SDKs that read either (the AWS CLI v1 reads only the second)
    for var in ["AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1"] {
        assert!(
            stdout.lines().any(|l| l.trim() == var),
            "{var} not printed: {stdout}"
        );
    }
    let saved = std::fs::read_to_string(data.join("credentials.json")).unwrap();
    assert!(saved.contains(&secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Second start: the saved key is reused and the secret is not printed again.
    let mut child = spawn(&data, &[]);
    let (_, lines) = wait_serving(&mut child);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("using the demo access key")),
        "{lines:?}"
    );
    let (code, stdout) = stop(child);
    assert_eq!(code, 0);
    assert!(!stdout.contains(&secret), "{stdout}");
}

#[test]
fn serve_rejects_a_bad_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"accessKeys": [], "maxBodyByte": 5}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("maxBodyByte"), "{err}");
}

/// QA: data imported with `--account D` into a fresh data directory went to
/// `accounts/D/`; a server whose default account is D then read the directory itself and
/// recorded D as default, so neither the server nor `query --account D` saw the data again.
#[test]
fn serve_refuses_to_hide_data_imported_for_its_default_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ct = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        .join("cloudtrail/trailscraper-testdata.ndjson.gz");
    let config = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/openwatch-serve.json"
    ));
    let text = std::fs::read_to_string(&config).unwrap();
    let account = text
        .split("\"accountId\"")
        .nth(1)
        .and_then(|s| s.split('"').nth(1))
        .expect("the example config names an account")
        .to_string();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_openwatch"))
            .args(args)
            .output()
            .unwrap()
    };
    let d = data.to_str().unwrap();
    let o = run(&[
        "import",
        "--data-dir",
        d,
        "--account",
        &account,
        "--log-group",
        "ct",
        "--quiet",
        ct.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            d,
            "--config",
        ])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("accounts/{account}")), "{err}");
    // nothing changed: the data is still reachable as before
    assert!(!data.join("default-account").exists());
    let o = run(&[
        "query",
        "--data-dir",
        d,
        "--account",
        &account,
        "--log-group",
        "ct",
        "--format",
        "csv",
        "stats count(*) as n",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().nth(1), Some("2"), "{out}");
}
