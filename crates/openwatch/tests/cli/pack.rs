//! Tests of `openwatch pack install`.

use std::process::{Command, Output};

fn openwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openwatch"))
        .args(args)
        .output()
        .expect("the openwatch binary runs")
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn pack_install_cis_then_canary_writes_filters_and_alarms_the_server_loads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let topic = "arn:aws:sns:us-east-1:000000000000:security";
    let out = openwatch(&[
        "pack",
        "install",
        "cis",
        "--log-group",
        "trail",
        "--data-dir",
        d,
        "--alarm-action",
        topic,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("installed the cis pack: 16 metric filters, 16 alarms"),
        "{stdout}"
    );
    // Installing again replaces by name: still 16.
    let out = openwatch(&["pack", "install", "cis", "-g", "trail", "--data-dir", d]);
    assert!(out.status.success());
    let out = openwatch(&[
        "pack",
        "install",
        "canary",
        "-g",
        "trail",
        "--data-dir",
        d,
        "--resource",
        "decoy-bucket",
        "--resource",
        "AKIADECOYKEY000000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What the server opens: the same Monitoring layout.
    let m = ow_metrics::Monitoring::open(
        dir.path(),
        Default::default(),
        std::sync::Arc::new(ow_metrics::SystemClock),
    )
    .unwrap();
    let (filters, _) = m
        .filters
        .describe_metric_filters(&ow_metrics::DescribeMetricFiltersInput {
            log_group_name: Some("trail".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(filters.len(), 18);
    assert!(filters.iter().any(|f| f.filter_name == "RootUsage"
        && f.filter_pattern
            .contains("$.userIdentity.invokedBy NOT EXISTS")));
    assert!(filters
        .iter()
        .any(|f| f.filter_name == "Canary-decoy-bucket"));
    let alarms = m
        .alarms
        .describe_alarms(&ow_metrics::DescribeAlarmsInput {
            max_records: Some(100),
            ..Default::default()
        })
        .unwrap()
        .metric_alarms;
    assert_eq!(alarms.len(), 18);
    let root = alarms.iter().find(|a| a.name() == "RootUsage").unwrap();
    // The second install had no --alarm-action: the pack's alarms were replaced without it.
    assert!(root.config.alarm_actions.is_empty());
    assert_eq!(root.config.namespace.as_deref(), Some("CISBenchmark"));
    assert!(json(&dir.path().join("metrics/alarms.json")).is_object());
    drop(m);

    // Usage errors exit 2 and name the problem.
    let out = openwatch(&["pack", "install", "canary", "-g", "trail", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resource"));
    let out = openwatch(&[
        "pack",
        "install",
        "cis",
        "-g",
        "trail",
        "--data-dir",
        d,
        "--resource",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn import_feeds_the_log_groups_metric_filters_with_the_new_events_only() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cloudtrail/stratus-red-team-detonation-logs.ndjson.gz"
    );
    // Expected: records whose eventSource is IAM, counted from the parsed file.
    let expected = std::io::BufReader::new(flate2_reader(file))
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l.unwrap()).ok())
        .filter(|v| v["eventSource"] == "iam.amazonaws.com")
        .count();
    assert!(expected >= 5, "{expected}");
    {
        let m = ow_metrics::Monitoring::open(
            dir.path(),
            Default::default(),
            std::sync::Arc::new(ow_metrics::SystemClock),
        )
        .unwrap();
        m.filters
            .put_metric_filter(
                &ow_metrics::PutMetricFilterInput {
                    log_group_name: Some("trail".into()),
                    filter_name: Some("iam".into()),
                    filter_pattern: Some(r#"{ $.eventSource = "iam.amazonaws.com" }"#.into()),
                    metric_transformations: vec![ow_metrics::MetricTransformation {
                        metric_name: "IamCalls".into(),
                        metric_namespace: "Test".into(),
                        metric_value: "1".into(),
                        default_value: None,
                        dimensions: Default::default(),
                        unit: None,
                    }],
                    apply_on_transformed_logs: false,
                },
                0,
            )
            .unwrap();
    }
    let line = format!("metric filters of trail: {expected} data points");
    for _ in 0..2 {
        // The second import stores the same records again: they are new events, counted once.
        let out = openwatch(&["import", "--data-dir", d, "-g", "trail", "--quiet", file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&line), "{stderr}");
    }
    // A group without metric filters reports nothing.
    let out = openwatch(&["import", "--data-dir", d, "-g", "other", "--quiet", file]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("metric filters"));
}

fn flate2_reader(path: &str) -> impl std::io::Read {
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
}

/// QA finding B: `pack install` uses the account `serve` would (the config's first key,
/// else the demo key saved in the data directory), `--account` another one in
/// `<data-dir>/accounts/<ID>/`, and the alarms' ARNs name the owning account.
#[test]
fn qa_pack_install_account() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let cfg = dir.path().join("cfg.json");
    std::fs::write(
        &cfg,
        r#"{"accessKeys": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s",
            "accountId": "123456789012"}], "region": "eu-west-1"}"#,
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let install = |extra: &[&str]| {
        let mut args = vec!["pack", "install", "cis", "-g", "trail", "--data-dir", d];
        args.extend_from_slice(extra);
        let out = openwatch(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let alarms_text =
        |p: &std::path::Path| std::fs::read_to_string(p.join("metrics/alarms.json")).unwrap();

    install(&["--config", c]);
    let text = alarms_text(dir.path());
    assert!(
        text.contains("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:RootUsage"),
        "{text}"
    );
    assert!(!text.contains("000000000000"));

    install(&["--config", c, "--account", "222222222222"]);
    let other = dir.path().join("accounts/222222222222");
    let text = alarms_text(&other);
    assert!(
        text.contains("arn:aws:cloudwatch:eu-west-1:222222222222:alarm:RootUsage"),
        "{text}"
    );
    // The default account's alarms are untouched by the other account's install.
    assert!(!alarms_text(dir.path()).contains("222222222222"));

    // No config: the demo key saved in the data directory names the account.
    let demo = tempfile::tempdir().unwrap();
    std::fs::write(
        demo.path().join("credentials.json"),
        r#"{"accessKeys": [{"accessKeyId": "AKIDDEMO", "secretAccessKey": "s",
            "accountId": "333333333333"}]}"#,
    )
    .unwrap();
    let out = openwatch(&[
        "pack",
        "install",
        "cis",
        "-g",
        "trail",
        "--data-dir",
        demo.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(alarms_text(demo.path()).contains("us-east-1:333333333333:alarm:RootUsage"));

    let out = openwatch(&[
        "pack",
        "install",
        "cis",
        "-g",
        "t",
        "--data-dir",
        d,
        "--account",
        "12",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not 12 digits"));
}

/// QA finding A (CLI side): `import --account` / `query --account` use the account's own
/// directory, the one `serve` opens for it; the default account does not see those events.
#[test]
fn qa_import_query_account() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(
        &input,
        "{\"timestamp\": 1700000000000, \"msg\": \"one\"}\n{\"timestamp\": 1700000001000, \"msg\": \"two\"}\n",
    )
    .unwrap();
    let out = openwatch(&[
        "import",
        "--data-dir",
        d,
        "--account",
        "222222222222",
        "-g",
        "app",
        "--quiet",
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("accounts/222222222222").is_dir());
    let query = |extra: &[&str]| {
        let mut args = vec![
            "query",
            "--data-dir",
            d,
            "--start",
            "0",
            "--end",
            "1800000000",
            "--format",
            "ndjson",
        ];
        args.extend_from_slice(extra);
        args.push("stats count(*) as n");
        openwatch(&args)
    };
    let out = query(&["--account", "222222222222", "-g", "app"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("\"n\":\"2\"") || text.contains("\"n\":2"),
        "{text}"
    );
    // The default account has no log group `app`.
    let out = query(&["-g", "app"]);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
