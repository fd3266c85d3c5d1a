//! Each format on small inputs: timestamps, streams, compression, malformed records.

use std::io::Write;

use ow_ingest::{import_paths, import_reader, Format, ImportOptions, NoProgress};
use ow_storage::{Store, StoreConfig, StoredEvent};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    (dir, store)
}

fn events(store: &Store, group: &str) -> Vec<StoredEvent> {
    store
        .read_events(group, None, i64::MIN, i64::MAX, None)
        .unwrap()
}

#[test]
fn cloudwatch_events_lines_and_response_documents() {
    let (_d, store) = store();
    let lines = "{\"timestamp\":1559763003171,\"message\":\"START\\n\",\"ingestionTime\":1}\n\
                 {\"timestamp\":1559763003172,\"message\":\"x\",\"logStreamName\":\"s:1\"}\n\
                 {\"timestamp\":\"bad\",\"message\":\"y\"}\n\
                 {\"message\":\"no time\"}\n";
    let s = import_reader(
        &store,
        "lambda.json",
        lines.as_bytes(),
        &ImportOptions::new("g"),
    )
    .unwrap();
    assert_eq!(s.events, 2);
    assert_eq!(s.rejected, 2);
    assert_eq!(
        s.rejections.iter().map(|r| r.line).collect::<Vec<_>>(),
        [Some(3), Some(4)]
    );
    let ev = events(&store, "g");
    assert_eq!(ev[0].timestamp_ms, 1_559_763_003_171);
    assert_eq!(ev[0].message, "START\n");
    assert_eq!(ev[0].log_stream, "lambda.json");
    // logStreamName honoured (':' is not allowed in stream names: replaced)
    assert_eq!(ev[1].log_stream, "s_1");

    let doc = r#"{
  "events": [
    {"logStreamName": "a", "timestamp": 1000, "message": "one", "ingestionTime": 5, "eventId": "1"},
    {"logStreamName": "b", "timestamp": 2000, "message": "two", "ingestionTime": 5, "eventId": "2"}
  ],
  "searchedLogStreams": []
}"#;
    let s = import_reader(
        &store,
        "resp.json",
        doc.as_bytes(),
        &ImportOptions::new("h"),
    )
    .unwrap();
    assert_eq!(s.events, 2);
    let ev = events(&store, "h");
    assert_eq!(
        ev.iter()
            .map(|e| (e.timestamp_ms, e.log_stream.as_str(), e.message.as_str()))
            .collect::<Vec<_>>(),
        [(1000, "a", "one"), (2000, "b", "two")]
    );
}

#[test]
fn cloudwatch_export_lines_with_continuations_and_stream_from_directory() {
    let (d, store) = store();
    let dir = d.path().join("export/task-1/my-stream");
    std::fs::create_dir_all(&dir).unwrap();
    let body = "2023-07-10T11:42:18.000Z first\ncontinued\n2023-07-10T11:42:19.500Z {\"a\":1}\n";
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join("000000.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(body.as_bytes()).unwrap();
    gz.finish().unwrap();
    let s = import_paths(
        &store,
        &[d.path().join("export")],
        &ImportOptions::new("g"),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(s.events, 2, "{:?}", s.rejections);
    let ev = events(&store, "g");
    assert_eq!(ev[0].timestamp_ms, 1_688_989_338_000);
    assert_eq!(ev[0].message, "first\ncontinued");
    assert_eq!(ev[1].timestamp_ms, 1_688_989_339_500);
    assert_eq!(ev[1].message, "{\"a\":1}");
    assert_eq!(ev[0].log_stream, "my-stream");
}

#[test]
fn ndjson_compressed_timestamp_fields_and_malformed_lines() {
    let (d, store) = store();
    let body = "{\"ts\":\"2024-03-01T00:00:01Z\",\"n\":1}\n\
                {\"ts\":1709251202,\"n\":2}\n\
                {\"ts\":1709251203500,\"n\":3}\n\
                {broken\n\
                \n\
                [1,2]\n\
                {\"n\":4}\n";
    let zst = d.path().join("app.ndjson.zst");
    std::fs::write(&zst, zstd::encode_all(body.as_bytes(), 3).unwrap()).unwrap();
    let opts = ImportOptions {
        timestamp_field: Some("ts".into()),
        format: Format::Ndjson,
        ..ImportOptions::new("g")
    };
    let s = import_paths(&store, std::slice::from_ref(&zst), &opts, &NoProgress).unwrap();
    // `{broken` and `[1,2]` are not JSON objects: kept as text events (QA finding 1)
    assert_eq!(s.events, 6);
    assert_eq!(s.rejected, 0, "{:?}", s.rejections);
    assert_eq!(s.non_json_lines, 2);
    // and where they are, to find and fix them
    let places: Vec<(String, Option<u64>)> = s
        .non_json_first
        .iter()
        .map(|l| (l.source.clone(), l.line))
        .collect();
    let name = zst.display().to_string();
    assert_eq!(places, [(name.clone(), Some(4)), (name, Some(6))]);
    assert_eq!(s.ingestion_time_fallbacks, 3);
    let ev = events(&store, "g");
    let ts: Vec<i64> = ev.iter().take(3).map(|e| e.timestamp_ms).collect();
    assert_eq!(
        ts,
        [1_709_251_201_000, 1_709_251_202_000, 1_709_251_203_500]
    );
    assert!(
        ev[3].timestamp_ms > 1_709_251_203_500,
        "ingestion time for the 4th"
    );
    assert_eq!(ev[0].log_stream, "app.ndjson");
    assert_eq!(ev[0].message, "{\"ts\":\"2024-03-01T00:00:01Z\",\"n\":1}");
    let mut rest: Vec<&str> = ev[3..].iter().map(|e| e.message.as_str()).collect();
    rest.sort();
    assert_eq!(rest, ["[1,2]", "{\"n\":4}", "{broken"]);

    // a JSON key "@timestamp" given as such
    let opts = ImportOptions {
        timestamp_field: Some("@timestamp".into()),
        ..ImportOptions::new("h")
    };
    let s = import_reader(
        &store,
        "x",
        "{\"@timestamp\":\"2020-09-14T00:44:23.000Z\"}\n".as_bytes(),
        &opts,
    )
    .unwrap();
    assert_eq!(s.ingestion_time_fallbacks, 0);
    assert_eq!(events(&store, "h")[0].timestamp_ms, 1_600_044_263_000);
}

#[test]
fn text_lines_with_a_timestamp_format_and_real_logs() {
    let (_d, store) = store();
    let m = crate::manifest();
    let other = crate::data_dir().join("other");
    let apache = other.join("apache-access-combined.elastic-examples.log");
    let s = import_paths(
        &store,
        &[apache],
        &ImportOptions::new("apache"),
        &NoProgress,
    )
    .unwrap();
    let want = m["other"]["other/apache-access-combined.elastic-examples.log"]["lines"]
        .as_u64()
        .unwrap();
    assert_eq!(s.events, want);
    assert_eq!(
        s.ingestion_time_fallbacks, want,
        "no format given: ingestion time"
    );

    let text = "17/May/2015:10:05:03 +0000 GET /a\nno time here\n";
    let opts = ImportOptions {
        format: Format::Text,
        timestamp_format: Some("%d/%b/%Y:%H:%M:%S %z".into()),
        ..ImportOptions::new("t")
    };
    let s = import_reader(&store, "access.log", text.as_bytes(), &opts).unwrap();
    assert_eq!(s.events, 2);
    assert_eq!(s.ingestion_time_fallbacks, 1);
    let ev = events(&store, "t");
    assert_eq!(ev[0].timestamp_ms, 1_431_857_103_000);
    assert_eq!(ev[0].message, "17/May/2015:10:05:03 +0000 GET /a");

    // the other real files: route53 NDJSON and Lambda get-log-events output
    for (rel, group) in [
        (
            "other/route53-resolver-query-logs.elastic-integrations.ndjson",
            "r53",
        ),
        (
            "other/fixtures/lambda-get-log-events.awsdocs.ndjson",
            "lambda",
        ),
    ] {
        let s = import_paths(
            &store,
            &[crate::data_dir().join(rel)],
            &ImportOptions::new(group),
            &NoProgress,
        )
        .unwrap();
        let info = &m["other"][rel];
        assert_eq!(s.events, info["lines"].as_u64().unwrap(), "{rel}");
        assert_eq!(s.rejected, 0);
        if group == "lambda" {
            let g = store.log_group(group).unwrap();
            // the manifest's time_min has second resolution; the events carry ms
            let min =
                ow_ingest::time::parse_iso8601_ms(info["time_min"].as_str().unwrap()).unwrap();
            assert_eq!(
                g.first_event_timestamp_ms.map(|t| t / 1000 * 1000),
                Some(min)
            );
            assert_eq!(s.ingestion_time_fallbacks, 0);
        }
    }
}

#[test]
fn pretty_printed_cloudtrail_documents_and_arrays() {
    let (_d, store) = store();
    let doc = r#"{
  "Records": [
    {
      "eventVersion": "1.05",
      "eventTime": "2017-12-11T15:01:51Z",
      "eventSource": "s3.amazonaws.com",
      "eventName": "GetObject",
      "awsRegion": "eu-central-1",
      "recipientAccountId": "111111111111",
      "n": 1.50E3
    },
    {"eventTime": "2017-12-11T15:04:51Z", "eventName": "X", "eventSource": "y"}
  ]
}"#;
    let s = import_reader(
        &store,
        "111111111111_CloudTrail_eu-west-1_x.json",
        doc.as_bytes(),
        &ImportOptions::new("g"),
    )
    .unwrap();
    assert_eq!(s.events, 2);
    let ev = events(&store, "g");
    assert_eq!(
        ev[0].message,
        r#"{"eventVersion":"1.05","eventTime":"2017-12-11T15:01:51Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-central-1","recipientAccountId":"111111111111","n":1.50E3}"#
    );
    assert_eq!(ev[0].log_stream, "111111111111_CloudTrail_eu-central-1");
    // a reader has no file name to take account and region from: the default stream
    assert_eq!(ev[1].log_stream, "111111111111_CloudTrail_eu-west-1_x.json");

    let arr = r#"[{"eventTime":"2024-07-30T21:31:10Z","eventSource":"a","eventName":"b","awsRegion":"r1","recipientAccountId":"222222222222"}, 5]"#;
    let s = import_reader(&store, "arr.json", arr.as_bytes(), &ImportOptions::new("a")).unwrap();
    // auto: the element `5` is not a JSON object, kept as a text event
    assert_eq!((s.events, s.rejected, s.non_json_lines), (2, 0, 1));
    let a = events(&store, "a");
    assert_eq!(a[0].log_stream, "222222222222_CloudTrail_r1");
    assert_eq!(a[1].message, "5");
    assert_eq!(a[1].log_stream, "arr.json");
    // --format cloudtrail rejects it
    let opts = ImportOptions {
        format: Format::CloudTrail,
        ..ImportOptions::new("a2")
    };
    let s = import_reader(&store, "arr.json", arr.as_bytes(), &opts).unwrap();
    assert_eq!((s.events, s.rejected), (1, 1));

    // a document cut short, explicit cloudtrail: reported, not a crash
    let opts = ImportOptions {
        format: Format::CloudTrail,
        ..ImportOptions::new("c")
    };
    let s = import_reader(&store, "cut.json", &doc.as_bytes()[..200], &opts).unwrap();
    assert_eq!(s.events, 0);
    assert_eq!(s.rejected, 1);
    assert!(s.rejections[0].reason.starts_with("invalid JSON"));
    // auto: not JSON after all, so its 8 non-blank lines are kept as text events
    let s = import_reader(
        &store,
        "cut.json",
        &doc.as_bytes()[..200],
        &ImportOptions::new("c2"),
    )
    .unwrap();
    assert_eq!((s.events, s.rejected, s.non_json_lines), (8, 0, 8));
    let c2 = events(&store, "c2");
    assert!(c2.iter().any(|e| e.message == "  \"Records\": ["));
}

/// QA finding 1 (data loss): in `auto` (and `ndjson`) every line that is not a JSON
/// object is stored as a text event with the ingestion time, as CloudWatch Logs does.
#[test]
fn qa_import_mixed_lines_kept() {
    let (_d, store) = store();
    let mixed = "{\"time\":1700000000,\"msg\":\"started\"}\n\
                 plain text line\n\
                 2023-11-14 ERROR something broke\n";
    let before = ow_storage::now_ms();
    let s = import_reader(
        &store,
        "mixed.log",
        mixed.as_bytes(),
        &ImportOptions::new("m"),
    )
    .unwrap();
    assert_eq!((s.events, s.rejected, s.non_json_lines), (3, 0, 2));
    assert_eq!(s.ingestion_time_fallbacks, 2);
    let ev = events(&store, "m");
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[0].timestamp_ms, 1_700_000_000_000);
    assert_eq!(ev[1].message, "plain text line");
    assert_eq!(ev[2].message, "2023-11-14 ERROR something broke");
    assert!(ev[1].timestamp_ms >= before && ev[2].timestamp_ms >= before);

    // broken JSON, a JSON scalar, a JSON array and nesting too deep for the parser
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let nd = format!(
        "{{\"time\":1700000000,\"a\":1}}\n{{\"a\":\n42\n{deep}\n\"str\"\n{{\"time\":1700000001}}\n"
    );
    for format in [Format::Auto, Format::Ndjson] {
        let group = format!("n-{format}");
        let opts = ImportOptions {
            format,
            ..ImportOptions::new(&group)
        };
        let s = import_reader(&store, "x.ndjson", nd.as_bytes(), &opts).unwrap();
        assert_eq!(
            (s.events, s.rejected, s.non_json_lines),
            (6, 0, 4),
            "{format}"
        );
        let msgs: Vec<String> = events(&store, &group)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert!(msgs.contains(&"{\"a\":".to_string()), "{msgs:?}");
        assert!(msgs.contains(&deep), "{format}");
    }

    // an auto-detected CloudTrail-per-line file keeps a broken line as text;
    // explicit --format cloudtrail rejects it with its line
    let ct = "{\"eventVersion\":\"1.08\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"123456789012\"}\n\
              {\"eventVersion\":\"1.08\",\"eventTi\n";
    let s = import_reader(&store, "ct.json", ct.as_bytes(), &ImportOptions::new("ct")).unwrap();
    assert_eq!((s.events, s.rejected, s.non_json_lines), (2, 0, 1));
    let opts = ImportOptions {
        format: Format::CloudTrail,
        ..ImportOptions::new("ct2")
    };
    let s = import_reader(&store, "ct.json", ct.as_bytes(), &opts).unwrap();
    assert_eq!((s.events, s.rejected), (1, 1));
    assert_eq!(s.rejections[0].line, Some(2));
    assert!(s.rejections[0].reason.starts_with("invalid JSON"));

    // a broken first line that opens an object is not a document: every line is kept
    let s = import_reader(
        &store,
        "b.log",
        "{\"a\":\nplain\n{\"time\":1700000002}\n".as_bytes(),
        &ImportOptions::new("b"),
    )
    .unwrap();
    assert_eq!((s.events, s.rejected, s.non_json_lines), (3, 0, 2));
}

#[test]
fn awslogs_trees_are_walked_and_digest_files_skipped() {
    let (d, store) = store();
    let src = crate::data_dir().join("cloudtrail/delivery/trailscraper");
    let file = std::fs::read_dir(&src)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let root = d.path().join("AWSLogs");
    let day = root.join("111111111111/CloudTrail/eu-central-1/2017/12/11");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::copy(&file, day.join(file.file_name().unwrap())).unwrap();
    // a digest file is JSON but holds no events
    let digest = root.join("111111111111/CloudTrail-Digest/eu-central-1/2017/12/11");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(
        digest.join("111111111111_CloudTrail-Digest_eu-central-1_x.json"),
        r#"{"awsAccountId":"111111111111","digestStartTime":"2017-12-11T14:00:00Z"}"#,
    )
    .unwrap();
    let m = crate::manifest();
    let want = m["delivery"]["cloudtrail/delivery/trailscraper"]["records"]
        .as_u64()
        .unwrap();
    let s = import_paths(&store, &[root], &ImportOptions::new("t"), &NoProgress).unwrap();
    assert_eq!((s.inputs, s.events, s.rejected), (1, want, 0));
    assert_eq!(
        s.log_streams.iter().collect::<Vec<_>>(),
        ["111111111111_CloudTrail_eu-central-1"]
    );
}

#[test]
fn leading_blank_lines_and_a_bom_do_not_change_detection_or_line_numbers() {
    let (_d, store) = store();
    // `{oops` is kept as a text event; the invalid UTF-8 line is rejected with its line
    let input = b"\n  \n\xEF\xBB\xBF{\"time\":\"2024-03-01T00:00:00Z\",\"a\":1}\n{oops\n\xFF\n";
    let s = import_reader(&store, "x.ndjson", &input[..], &ImportOptions::new("g")).unwrap();
    assert_eq!((s.events, s.non_json_lines, s.rejected), (2, 1, 1));
    assert_eq!(s.rejections[0].line, Some(5));
    assert_eq!(s.rejections[0].reason, "not valid UTF-8");
    let ev = events(&store, "g");
    assert_eq!(ev[0].timestamp_ms, 1_709_251_200_000);
    assert_eq!(ev[0].message, "{\"time\":\"2024-03-01T00:00:00Z\",\"a\":1}");
}

/// A directory tree with link loops, a dangling link and a FIFO (QA, session 5: the loops
/// made an import run forever; one bad entry stopped a whole tree; a FIFO blocked it).
#[cfg(unix)]
#[test]
fn a_tree_walk_skips_and_reports_loops_dangling_links_and_fifos() {
    use std::os::unix::fs::symlink;
    let (_d, store) = store();
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("logs");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("x.ndjson"), "{\"a\":1}\n{\"a\":2}\n").unwrap();
    std::fs::write(root.join("sub/y.ndjson"), "{\"a\":3}\n").unwrap();
    symlink(".", root.join("self")).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    symlink("nowhere", root.join("dangling")).unwrap();
    symlink("x.ndjson", root.join("z-link.ndjson")).unwrap(); // a link to a file is read
    let fifo = root.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let have_fifo = made.is_ok_and(|s| s.success());

    let s = import_paths(
        &store,
        std::slice::from_ref(&root),
        &ImportOptions::new("g"),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(s.events, 5, "x twice (once through the link) and y");
    let mut values: Vec<String> = events(&store, "g").into_iter().map(|e| e.message).collect();
    values.sort();
    assert_eq!(
        values,
        [
            "{\"a\":1}",
            "{\"a\":1}",
            "{\"a\":2}",
            "{\"a\":2}",
            "{\"a\":3}"
        ]
    );
    let reasons: Vec<String> = s.rejections.iter().map(|r| r.to_string()).collect();
    let skipped = 3 + usize::from(have_fifo);
    assert_eq!(s.rejected as usize, skipped, "{reasons:?}");
    assert_eq!(
        s.rejected_by_reason["skipped directory entry"] as usize,
        skipped
    );
    assert_eq!(
        reasons.iter().filter(|r| r.contains("a link loop")).count(),
        2,
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("dangling")),
        "{reasons:?}"
    );
    if have_fifo {
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("pipe") && r.contains("not a regular file")),
            "{reasons:?}"
        );
    }
}

/// An unusable `--timestamp-format` is an error before anything is stored (QA, session 5:
/// it was accepted and every event silently got the ingestion time).
#[test]
fn an_unusable_timestamp_format_is_refused() {
    for bad in ["%Q", "", "no specifier", "%Y-%m-%d %"] {
        let (_d, store) = store();
        let mut opts = ImportOptions::new("g");
        opts.format = Format::Text;
        opts.timestamp_format = Some(bad.to_owned());
        let r = import_reader(&store, "a.log", "2024-01-02 x\n".as_bytes(), &opts);
        match r {
            Err(ow_ingest::IngestError::InvalidOptions(m)) => {
                assert!(m.contains("--timestamp-format"), "{m}")
            }
            other => panic!("{bad:?} accepted: {other:?}"),
        }
        assert!(
            store.log_group("g").is_err(),
            "{bad:?}: the group was created"
        );
    }
    // a good one still works
    let (_d, store) = store();
    let mut opts = ImportOptions::new("g");
    opts.format = Format::Text;
    opts.timestamp_format = Some("%Y-%m-%d %H:%M:%S".to_owned());
    let s = import_reader(&store, "a.log", "2024-01-02 03:04:05 x\n".as_bytes(), &opts).unwrap();
    assert_eq!(s.events, 1);
    assert_eq!(events(&store, "g")[0].timestamp_ms, 1_704_164_645_000);
}

/// Event times outside the years 1 to 9999 are rejected one by one (QA, session 5: a
/// `cloudwatch-events` time of 99999999999999999 ms was stored and then printed as a raw
/// number, and left out of RFC 3339 output).
#[test]
fn event_times_outside_years_1_to_9999_are_rejected() {
    let (_d, store) = store();
    let lines = "{\"timestamp\":99999999999999999,\"message\":\"far future\"}\n\
                 {\"timestamp\":253402300799999,\"message\":\"last ms of 9999\"}\n\
                 {\"timestamp\":-62135596800001,\"message\":\"before year 1\"}\n\
                 {\"timestamp\":1559763003171,\"message\":\"ok\"}\n";
    let mut opts = ImportOptions::new("g");
    opts.format = Format::CloudwatchEvents;
    let s = import_reader(&store, "ev.json", lines.as_bytes(), &opts).unwrap();
    assert_eq!(s.events, 2);
    assert_eq!(s.rejected, 2);
    assert_eq!(s.rejected_by_reason["timestamp out of range"], 2);
    assert_eq!(
        s.rejections.iter().map(|r| r.line).collect::<Vec<_>>(),
        [Some(1), Some(3)]
    );
    let mut kept: Vec<String> = events(&store, "g").into_iter().map(|e| e.message).collect();
    kept.sort();
    assert_eq!(kept, ["last ms of 9999", "ok"]);
}

#[test]
fn long_inputs_keep_every_line_whole_across_read_buffers() {
    // 3,000 lines of 100 to 1,300 bytes (about 2 MB): many lines cross the importer's
    // read buffer (256 KiB), some end in CRLF, one is not UTF-8, the last has no newline.
    let (d, store) = store();
    let mut body = Vec::new();
    let mut want = Vec::new();
    for i in 0..3000u64 {
        let pad = "x".repeat((i * 7919 % 1200) as usize);
        let line = format!(
            "{{\"ts\":{},\"i\":{i},\"pad\":\"{pad}\"}}",
            1_709_251_200_000 + i
        );
        body.extend_from_slice(line.as_bytes());
        if i == 1234 {
            body.extend_from_slice(b"\n\xff\xfe not UTF-8");
        }
        if i != 2999 {
            body.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
        }
        want.push(line);
    }
    let path = d.path().join("long.ndjson");
    std::fs::write(&path, &body).unwrap();
    let opts = ImportOptions {
        timestamp_field: Some("ts".into()),
        ..ImportOptions::new("g")
    };
    let s = import_paths(&store, &[path], &opts, &NoProgress).unwrap();
    assert_eq!(s.events, 3000);
    assert_eq!(s.rejected, 1);
    assert_eq!(s.rejections[0].line, Some(1236));
    assert_eq!(s.rejections[0].reason, "not valid UTF-8");
    let got: Vec<String> = events(&store, "g").into_iter().map(|e| e.message).collect();
    assert_eq!(got, want);
}

#[test]
fn events_older_than_the_log_groups_retention_are_rejected_as_expired() {
    // QA: an import into a group with a 1-day retention stored 60,000 events that the
    // flush then dropped, and reported them as imported
    let (_d, store) = store();
    store
        .create_log_group("r", std::collections::BTreeMap::new())
        .unwrap();
    store.put_retention_policy("r", 1).unwrap();
    let recent = ow_storage::now_ms() - 3_600_000;
    let body = format!(
        "{{\"eventTime\":\"2024-03-01T00:00:00Z\",\"n\":1}}\n\
         {{\"eventTime\":{recent},\"n\":2}}\n\
         {{\"eventTime\":\"2024-03-02T00:00:00Z\",\"n\":3}}\n"
    );
    let s = import_reader(&store, "x", body.as_bytes(), &ImportOptions::new("r")).unwrap();
    assert_eq!(s.events, 1);
    assert_eq!(s.rejected, 2);
    let lines: Vec<Option<u64>> = s.rejections.iter().map(|r| r.line).collect();
    assert_eq!(lines, [Some(1), Some(3)]);
    assert!(
        s.rejections[0].reason.starts_with("expired"),
        "{}",
        s.rejections[0].reason
    );
    store.flush().unwrap();
    let ev = events(&store, "r");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].timestamp_ms, recent);
    // a group without retention keeps everything
    let s = import_reader(&store, "x", body.as_bytes(), &ImportOptions::new("keep")).unwrap();
    assert_eq!((s.events, s.rejected), (3, 0));
}

#[test]
fn a_first_line_of_only_a_byte_order_mark_is_blank() {
    // QA: the BOM-only line decided the layout (text), and every JSON line after it lost
    // its eventTime to the ingestion time
    let (_d, store) = store();
    let body = "\u{feff}\n{\"eventTime\":\"2024-03-01T00:00:00Z\",\"a\":1}\n\
                {\"eventTime\":\"2024-03-01T00:00:01Z\",\"b\":1}\n";
    let s = import_reader(&store, "x", body.as_bytes(), &ImportOptions::new("g")).unwrap();
    assert_eq!(s.events, 2);
    assert_eq!(s.ingestion_time_fallbacks, 0);
    assert_eq!(s.non_json_lines, 0);
    let ts: Vec<i64> = events(&store, "g").iter().map(|e| e.timestamp_ms).collect();
    assert_eq!(ts, [1_709_251_200_000, 1_709_251_201_000]);
}

#[test]
fn blank_lines_inside_an_export_event_are_kept() {
    // QA: a stack trace's empty lines were dropped from a multi-line cloudwatch-export event
    let (_d, store) = store();
    let body = "2024-03-01T00:00:00.000Z first line\n\n   \n  second part\n\
                2024-03-01T00:00:01.000Z next\n";
    let opts = ImportOptions {
        format: Format::CloudwatchExport,
        ..ImportOptions::new("g")
    };
    let s = import_reader(&store, "x", body.as_bytes(), &opts).unwrap();
    assert_eq!((s.events, s.rejected), (2, 0));
    let ev = events(&store, "g");
    assert_eq!(ev[0].message, "first line\n\n   \n  second part");
    assert_eq!(ev[1].message, "next");
}

#[test]
fn an_empty_input_still_creates_the_log_group() {
    // QA: "imported 0 events into log group g", and then g did not exist
    let (_d, store) = store();
    for (group, body) in [("empty", ""), ("blank", " \n\r\n"), ("bom", "\u{feff}\n")] {
        let s = import_reader(&store, "x", body.as_bytes(), &ImportOptions::new(group)).unwrap();
        assert_eq!(s.events, 0);
        let g = store.log_group(group).unwrap();
        assert_eq!(g.name, group);
    }
    // an invalid name is refused before anything is read
    let err = import_reader(
        &store,
        "x",
        "a\n".as_bytes(),
        &ImportOptions::new("bad:name"),
    );
    assert!(err.is_err());
}

#[test]
fn ingestion_time_fallbacks_count_stored_events_only() {
    // QA: a rejected (too large) text line was counted as stored with the ingestion time
    let (_d, store) = store();
    let body = format!("short\n{}\nlast\n", "x".repeat(2 << 20));
    let opts = ImportOptions {
        format: Format::Text,
        ..ImportOptions::new("g")
    };
    let s = import_reader(&store, "x", body.as_bytes(), &opts).unwrap();
    assert_eq!((s.events, s.rejected), (2, 1));
    assert_eq!(s.ingestion_time_fallbacks, 2);
}

/// A time too large for i64 milliseconds is rejected without the saturated number that
/// stood for it (QA finding, session 7).
#[test]
fn a_time_past_i64_is_rejected_without_a_saturated_number() {
    let (_d, store) = store();
    let lines = "{\"timestamp\":123456789012345678901234567890,\"message\":\"past i64\"}\n\
                 {\"timestamp\":99999999999999999,\"message\":\"far future\"}\n";
    let mut opts = ImportOptions::new("g");
    opts.format = Format::CloudwatchEvents;
    let s = import_reader(&store, "ev.json", lines.as_bytes(), &opts).unwrap();
    assert_eq!(s.events, 0, "{:?}", s.rejections);
    let reasons: Vec<&str> = s.rejections.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "timestamp out of range: the time is not between the years 1 and 9999",
            // a real number: shown
            "timestamp out of range: 99999999999999999 ms is not between the years 1 and 9999",
        ]
    );
}

/// A line that is not a JSON object counts as kept text only once it is stored: one too
/// large is rejected and not counted (QA, session 8). The non-object elements of one JSON
/// array line share its place, listed once.
#[test]
fn non_json_lines_count_only_when_stored_and_list_each_place_once() {
    let (_d, st) = store();
    let mut opts = ImportOptions::new("g");
    opts.max_event_bytes = 100;
    let body = format!("{{\"a\":1}}\nshort text\n{}\n", "x".repeat(200));
    let s = import_reader(&st, "f.log", body.as_bytes(), &opts).unwrap();
    assert_eq!(s.events, 2);
    assert_eq!(s.rejected, 1);
    assert_eq!(s.rejections[0].line, Some(3));
    assert_eq!(
        s.non_json_lines, 1,
        "the rejected line is not counted as stored"
    );
    let places: Vec<Option<u64>> = s.non_json_first.iter().map(|l| l.line).collect();
    assert_eq!(places, [Some(2)]);

    let (_d2, st2) = store();
    let doc = "{\"Records\":[{\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventVersion\":\"1.08\",\
               \"eventName\":\"A\",\"eventSource\":\"s\"},7,\"x\",null,[1]]}\n";
    let s = import_reader(&st2, "ct.json", doc.as_bytes(), &ImportOptions::new("g")).unwrap();
    assert_eq!(s.non_json_lines, 4);
    let places: Vec<String> = s.non_json_first.iter().map(|l| l.to_string()).collect();
    assert_eq!(places, ["ct.json:1"]);
}
