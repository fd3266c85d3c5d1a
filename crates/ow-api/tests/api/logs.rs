//! Log groups, streams, events, retention, tags through the API over a real store.

use serde_json::{json, Value};

use crate::common::{now_ms, Harness, ACCOUNT};

async fn setup(h: &Harness, group: &str, stream: &str) {
    h.ok("CreateLogGroup", json!({"logGroupName": group})).await;
    h.ok(
        "CreateLogStream",
        json!({"logGroupName": group, "logStreamName": stream}),
    )
    .await;
}

fn names(v: &Value, list: &str, member: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g[member].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn log_groups_create_describe_paginate_delete() {
    let h = Harness::new();
    for g in ["b", "a/x", "a", "B", "c"] {
        h.ok("CreateLogGroup", json!({"logGroupName": g})).await;
    }
    let (kind, _, _) = h.err("CreateLogGroup", json!({"logGroupName": "a"})).await;
    assert_eq!(kind, "ResourceAlreadyExistsException");
    let (kind, msg, _) = h
        .err("CreateLogGroup", json!({"logGroupName": "bad name"}))
        .await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(msg.contains("regular expression"), "{msg}");

    // ASCII order, pages of 2 linked by nextToken.
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = json!({"limit": 2});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = h.ok("DescribeLogGroups", req).await;
        all.extend(names(&page, "logGroups", "logGroupName"));
        pages += 1;
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(all, vec!["B", "a", "a/x", "b", "c"]);
    assert_eq!(pages, 3);

    let prefixed = h
        .ok("DescribeLogGroups", json!({"logGroupNamePrefix": "a"}))
        .await;
    assert_eq!(
        names(&prefixed, "logGroups", "logGroupName"),
        vec!["a", "a/x"]
    );
    let pattern = h
        .ok("DescribeLogGroups", json!({"logGroupNamePattern": "/x"}))
        .await;
    assert_eq!(names(&pattern, "logGroups", "logGroupName"), vec!["a/x"]);
    let g = &prefixed["logGroups"][0];
    assert_eq!(
        g["arn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:a:*")
    );
    assert_eq!(
        g["logGroupArn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:a")
    );
    assert!(g.get("retentionInDays").is_none());
    let created = g["creationTime"].as_i64().unwrap();
    assert!((now_ms() - created).abs() < 60_000);

    let (kind, _, _) = h.err("DescribeLogGroups", json!({"limit": 51})).await;
    assert_eq!(kind, "InvalidParameterException");

    h.ok("DeleteLogGroup", json!({"logGroupName": "a"})).await;
    let (kind, _, _) = h.err("DeleteLogGroup", json!({"logGroupName": "a"})).await;
    assert_eq!(kind, "ResourceNotFoundException");
}

#[tokio::test]
async fn log_streams() {
    let h = Harness::new();
    setup(&h, "g", "s2").await;
    for s in ["s1", "s3", "t"] {
        h.ok(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": s}),
        )
        .await;
    }
    let (kind, _, _) = h
        .err(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "s1"}),
        )
        .await;
    assert_eq!(kind, "ResourceAlreadyExistsException");
    let (kind, _, _) = h
        .err(
            "CreateLogStream",
            json!({"logGroupName": "nope", "logStreamName": "s"}),
        )
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
    let (kind, _, _) = h
        .err(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "a:b"}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");

    let page = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "limit": 3}),
        )
        .await;
    assert_eq!(
        names(&page, "logStreams", "logStreamName"),
        vec!["s1", "s2", "s3"]
    );
    let t = page["nextToken"].as_str().unwrap();
    let page2 = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "limit": 3, "nextToken": t}),
        )
        .await;
    assert_eq!(names(&page2, "logStreams", "logStreamName"), vec!["t"]);
    assert!(page2.get("nextToken").is_none());
    let desc = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupIdentifier": format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g"),
                   "logStreamNamePrefix": "s", "descending": true}),
        )
        .await;
    assert_eq!(
        names(&desc, "logStreams", "logStreamName"),
        vec!["s3", "s2", "s1"]
    );
    assert_eq!(
        desc["logStreams"][0]["arn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:log-stream:s3")
    );
    let (kind, _, _) = h
        .err(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "orderBy": "LastEventTime", "logStreamNamePrefix": "s"}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    h.ok(
        "DeleteLogStream",
        json!({"logGroupName": "g", "logStreamName": "t"}),
    )
    .await;
    let (kind, _, _) = h
        .err(
            "DeleteLogStream",
            json!({"logGroupName": "g", "logStreamName": "t"}),
        )
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
}

fn events(base: i64, n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"timestamp": base + i as i64, "message": format!("event {i}")}))
            .collect(),
    )
}

#[tokio::test]
async fn put_and_get_log_events_with_tokens() {
    let h = Harness::new();
    setup(&h, "g", "s").await;
    let base = now_ms() - 60_000;
    let out = h
        .ok(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": events(base, 25)}),
        )
        .await;
    assert!(out.get("rejectedLogEventsInfo").is_none(), "{out}");

    // Forward from the head in pages of 10 until the token repeats.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut req =
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 10, "startFromHead": true});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = h.ok("GetLogEvents", req).await;
        for e in page["events"].as_array().unwrap() {
            seen.push(e["message"].as_str().unwrap().to_string());
            assert!(e["ingestionTime"].as_i64().unwrap() >= base);
        }
        let next = page["nextForwardToken"].as_str().unwrap().to_string();
        assert!(page["nextBackwardToken"].is_string());
        if token.as_deref() == Some(next.as_str()) {
            break;
        }
        token = Some(next);
    }
    let expected: Vec<String> = (0..25).map(|i| format!("event {i}")).collect();
    assert_eq!(seen, expected);

    // Default (startFromHead false): the newest page, in ascending order; then backwards.
    let newest = h
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 10}),
        )
        .await;
    let msgs: Vec<&str> = newest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.first(), Some(&"event 15"));
    assert_eq!(msgs.last(), Some(&"event 24"));
    let back = h
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 10,
                   "nextToken": newest["nextBackwardToken"]}),
        )
        .await;
    assert_eq!(back["events"][0]["message"], "event 5");

    // Time range: startTime inclusive, endTime exclusive.
    let ranged = h
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true,
                   "startTime": base + 3, "endTime": base + 6}),
        )
        .await;
    assert_eq!(ranged["events"].as_array().unwrap().len(), 3);
    assert_eq!(ranged["events"][0]["message"], "event 3");

    let (kind, _, _) = h
        .err(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "nextToken": "garbage"}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "nope"}),
        )
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
}

#[tokio::test]
async fn put_log_events_rules() {
    let h = Harness::new();
    setup(&h, "g", "s").await;
    let now = now_ms();
    // Out of order: the whole call fails and nothing is stored.
    let (kind, _, _) = h
        .err(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
                {"timestamp": now, "message": "b"}, {"timestamp": now - 1000, "message": "a"}]}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    // Too old prefix and too new suffix are rejected one by one.
    let out = h
        .ok(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
                {"timestamp": now - 15 * 86_400_000, "message": "old"},
                {"timestamp": now - 1000, "message": "ok"},
                {"timestamp": now + 3 * 3_600_000, "message": "new"}]}),
        )
        .await;
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"tooNewLogEventStartIndex": 2, "tooOldLogEventEndIndex": 1})
    );
    let got = h
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
        )
        .await;
    let msgs: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, vec!["ok"]);
    // Shape errors.
    let (kind, msg, _) = h
        .err(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"message": "x"}]}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(msg.contains("logEvents.1.member.timestamp"), "{msg}");
    let (kind, _, _) = h
        .err(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": []}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "missing", "logEvents": events(now, 1)}),
        )
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
    // Over 1 MiB counted as AWS counts (message + 26 bytes each).
    let big: Vec<Value> = (0..5)
        .map(|i| json!({"timestamp": now, "message": format!("{i}{}", "x".repeat(250_000))}))
        .collect();
    let (kind, _, _) = h
        .err(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": big}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
}

#[tokio::test]
async fn filter_log_events_with_patterns() {
    let h = Harness::new();
    setup(&h, "g", "s1").await;
    h.ok(
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s2"}),
    )
    .await;
    let now = now_ms() - 10_000;
    h.ok(
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s1", "logEvents": [
            {"timestamp": now, "message": "ERROR disk full"},
            {"timestamp": now + 2, "message": "{\"level\":\"info\",\"code\":200}"}]}),
    )
    .await;
    h.ok(
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s2", "logEvents": [
            {"timestamp": now + 1, "message": "ERROR cpu hot"},
            {"timestamp": now + 3, "message": "{\"level\":\"error\",\"code\":500}"}]}),
    )
    .await;
    let all = h.ok("FilterLogEvents", json!({"logGroupName": "g"})).await;
    let msgs: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[0], "ERROR disk full");
    assert_eq!(msgs[1], "ERROR cpu hot");
    assert_eq!(all["events"][1]["logStreamName"], "s2");

    let errors = h
        .ok(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "ERROR"}),
        )
        .await;
    assert_eq!(errors["events"].as_array().unwrap().len(), 2);
    let json_match = h
        .ok(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "{ $.code >= 500 }"}),
        )
        .await;
    assert_eq!(json_match["events"].as_array().unwrap().len(), 1);
    assert_eq!(json_match["events"][0]["logStreamName"], "s2");
    let in_stream = h
        .ok(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "ERROR", "logStreamNames": ["s1"]}),
        )
        .await;
    assert_eq!(in_stream["events"].as_array().unwrap().len(), 1);

    // Paging by 1 visits every event once.
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"logGroupName": "g", "limit": 1});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = h.ok("FilterLogEvents", req).await;
        count += page["events"].as_array().unwrap().len();
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(count, 4);

    let (kind, _, _) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "{ $.x = "}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
}

#[tokio::test]
async fn retention_and_tags() {
    let h = Harness::new();
    h.ok(
        "CreateLogGroup",
        json!({"logGroupName": "g", "tags": {"team": "a"}}),
    )
    .await;
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 30}),
    )
    .await;
    let d = h.ok("DescribeLogGroups", json!({})).await;
    assert_eq!(d["logGroups"][0]["retentionInDays"], 30);
    let (kind, _, _) = h
        .err(
            "PutRetentionPolicy",
            json!({"logGroupName": "g", "retentionInDays": 2}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    h.ok("DeleteRetentionPolicy", json!({"logGroupName": "g"}))
        .await;
    let d = h.ok("DescribeLogGroups", json!({})).await;
    assert!(d["logGroups"][0].get("retentionInDays").is_none());

    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g");
    h.ok(
        "TagResource",
        json!({"resourceArn": arn, "tags": {"env": "prod"}}),
    )
    .await;
    let t = h
        .ok("ListTagsForResource", json!({"resourceArn": arn}))
        .await;
    assert_eq!(t, json!({"tags": {"env": "prod", "team": "a"}}));
    h.ok(
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["team"]}),
    )
    .await;
    let t = h
        .ok("ListTagsForResource", json!({"resourceArn": arn}))
        .await;
    assert_eq!(t, json!({"tags": {"env": "prod"}}));
    let (kind, _, _) = h
        .err(
            "ListTagsForResource",
            json!({"resourceArn": "arn:aws:logs:us-east-1:1:log-group:nope"}),
        )
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
    let (kind, _, _) = h
        .err(
            "TagResource",
            json!({"resourceArn": "not-an-arn", "tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let many: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (kind, _, _) = h
        .err("TagResource", json!({"resourceArn": arn, "tags": many}))
        .await;
    assert_eq!(kind, "TooManyTagsException");
}

#[tokio::test]
async fn log_group_fields_and_log_record() {
    let h = Harness::new();
    setup(&h, "g", "s").await;
    let now = now_ms() - 1000;
    h.ok(
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
            {"timestamp": now, "message": "{\"a\":1,\"b\":{\"c\":\"x\"}}"},
            {"timestamp": now, "message": "{\"a\":2}"}]}),
    )
    .await;
    let f = h
        .ok(
            "GetLogGroupFields",
            json!({"logGroupName": "g", "time": now / 1000}),
        )
        .await;
    let fields: Vec<(String, i64)> = f["logGroupFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["percent"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(fields.contains(&("a".to_string(), 100)), "{fields:?}");
    assert!(fields.contains(&("b.c".to_string(), 50)), "{fields:?}");
    assert!(
        fields.contains(&("@message".to_string(), 100)),
        "{fields:?}"
    );

    // The scripted engine's pointers are `group#seq`; the first event has the first seq.
    let mut found = None;
    for seq in 0..4u64 {
        let (status, body, _) = h
            .send(Harness::request(
                "GetLogRecord",
                &json!({"logRecordPointer": format!("g#{seq}")}).to_string(),
            ))
            .await;
        if status == axum::http::StatusCode::OK {
            found = Some(body);
            break;
        }
    }
    let record = found.expect("one of the first seqs exists");
    assert_eq!(record["logRecord"]["@logStream"], "s");
    assert_eq!(record["logRecord"]["@log"], format!("{ACCOUNT}:g"));
    assert_eq!(record["logRecord"]["@timestamp"], now.to_string());
    assert_eq!(record["logRecord"]["a"], "1");
    assert_eq!(record["logRecord"]["b.c"], "x");
    let (kind, _, _) = h
        .err("GetLogRecord", json!({"logRecordPointer": "garbage"}))
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err("GetLogRecord", json!({"logRecordPointer": "g#999999"}))
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
}

/// Events spread over many Parquet segments (one per batch, in different hours) plus the
/// buffer: paging GetLogEvents both ways and FilterLogEvents visits each event exactly once,
/// in order, though the reads stop early at page boundaries.
#[tokio::test]
async fn paging_over_many_segments() {
    let h = Harness::with_store_config(ow_storage::StoreConfig {
        flush_threshold_bytes: 1,
        ..crate::common::store_config()
    });
    setup(&h, "g", "s").await;
    let hour = 3_600_000;
    let base = now_ms() - 10 * hour;
    let mut expected = Vec::new();
    for b in 0..8i64 {
        let batch: Vec<Value> = (0..5)
            .map(|i| {
                let m = format!("b{b} e{i} {}", if i % 2 == 0 { "even" } else { "odd" });
                expected.push(m.clone());
                json!({"timestamp": base + b * hour + i, "message": m})
            })
            .collect();
        h.ok(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": batch}),
        )
        .await;
    }
    let segments = std::fs::read_dir(h.dir.path().join("segments"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(segments >= 1, "segments were written");

    // Forward in pages of 3.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req =
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 3, "startFromHead": true});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = h.ok("GetLogEvents", req).await;
        seen.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_string()),
        );
        let next = page["nextForwardToken"].as_str().unwrap().to_string();
        if token.as_deref() == Some(next.as_str()) {
            break;
        }
        token = Some(next);
    }
    assert_eq!(seen, expected);

    // Backward from the end in pages of 4.
    let mut back: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"logGroupName": "g", "logStreamName": "s", "limit": 4});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = h.ok("GetLogEvents", req).await;
        let msgs: Vec<String> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect();
        back.splice(0..0, msgs);
        let next = page["nextBackwardToken"].as_str().unwrap().to_string();
        if token.as_deref() == Some(next.as_str()) {
            break;
        }
        token = Some(next);
    }
    assert_eq!(back, expected);

    // FilterLogEvents with a pattern, pages of 2.
    let mut matched = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"logGroupName": "g", "filterPattern": "even", "limit": 2});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = h.ok("FilterLogEvents", req).await;
        matched.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_string()),
        );
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let evens: Vec<String> = expected
        .iter()
        .filter(|m| m.ends_with("even"))
        .cloned()
        .collect();
    assert_eq!(matched, evens);
}

/// Deletion protection ("Protecting log groups from deletion", CloudWatch Logs User Guide;
/// PutLogGroupDeletionProtection, API reference): while on, DeleteLogGroup fails with AWS's
/// `ValidationException` and message, and so does DeleteLogStream; nothing is deleted; once
/// turned off (by name or by ARN) the deletions succeed.
#[tokio::test]
async fn deletion_protection_blocks_delete() {
    const GROUP_MSG: &str =
        "Cannot delete log group with deletion protection enabled. Disable deletion protection first.";
    let h = Harness::new();
    h.ok(
        "CreateLogGroup",
        json!({"logGroupName": "keep", "deletionProtectionEnabled": true}),
    )
    .await;
    h.ok(
        "CreateLogStream",
        json!({"logGroupName": "keep", "logStreamName": "s"}),
    )
    .await;
    let now = now_ms();
    h.ok(
        "PutLogEvents",
        json!({"logGroupName": "keep", "logStreamName": "s",
               "logEvents": [{"timestamp": now - 1, "message": "one"},
                             {"timestamp": now, "message": "two"}]}),
    )
    .await;
    let d = h.ok("DescribeLogGroups", json!({})).await;
    assert_eq!(d["logGroups"][0]["deletionProtectionEnabled"], true);

    let (kind, msg, status) = h
        .err("DeleteLogGroup", json!({"logGroupName": "keep"}))
        .await;
    assert_eq!(
        (kind.as_str(), msg.as_str(), status.as_u16()),
        ("ValidationException", GROUP_MSG, 400)
    );
    let (kind, msg, status) = h
        .err(
            "DeleteLogStream",
            json!({"logGroupName": "keep", "logStreamName": "s"}),
        )
        .await;
    assert_eq!(
        (kind.as_str(), status.as_u16()),
        ("ValidationException", 400)
    );
    assert!(msg.contains("deletion protection enabled"), "{msg}");
    // Other deletions are not blocked.
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "keep", "retentionInDays": 7}),
    )
    .await;
    h.ok("DeleteRetentionPolicy", json!({"logGroupName": "keep"}))
        .await;

    // Nothing was deleted: the group, its stream and its events are all there.
    let d = h.ok("DescribeLogGroups", json!({})).await;
    assert_eq!(names(&d, "logGroups", "logGroupName"), vec!["keep"]);
    let page = h
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "keep", "logStreamName": "s", "startFromHead": true}),
        )
        .await;
    assert_eq!(names(&page, "events", "message"), vec!["one", "two"]);

    // Off by name: the stream can go.
    h.ok(
        "PutLogGroupDeletionProtection",
        json!({"logGroupIdentifier": "keep", "deletionProtectionEnabled": false}),
    )
    .await;
    let d = h.ok("DescribeLogGroups", json!({})).await;
    assert_eq!(d["logGroups"][0]["deletionProtectionEnabled"], false);
    h.ok(
        "DeleteLogStream",
        json!({"logGroupName": "keep", "logStreamName": "s"}),
    )
    .await;

    // On and off again by ARN (with and without the trailing `:*`).
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:keep");
    h.ok(
        "PutLogGroupDeletionProtection",
        json!({"logGroupIdentifier": format!("{arn}:*"), "deletionProtectionEnabled": true}),
    )
    .await;
    let (kind, msg, _) = h
        .err("DeleteLogGroup", json!({"logGroupName": "keep"}))
        .await;
    assert_eq!(
        (kind.as_str(), msg.as_str()),
        ("ValidationException", GROUP_MSG)
    );
    h.ok(
        "PutLogGroupDeletionProtection",
        json!({"logGroupIdentifier": arn, "deletionProtectionEnabled": false}),
    )
    .await;
    h.ok("DeleteLogGroup", json!({"logGroupName": "keep"}))
        .await;
    let d = h.ok("DescribeLogGroups", json!({})).await;
    assert!(d["logGroups"].as_array().unwrap().is_empty(), "{d}");

    // Errors: an unknown group (by name, by ARN, another account's ARN), missing or bad
    // members.
    let other = "arn:aws:logs:us-east-1:999999999999:log-group:keep";
    for id in ["keep", arn.as_str(), other] {
        let (kind, msg, _) = h
            .err(
                "PutLogGroupDeletionProtection",
                json!({"logGroupIdentifier": id, "deletionProtectionEnabled": false}),
            )
            .await;
        assert_eq!(kind, "ResourceNotFoundException", "{id}");
        assert_eq!(msg, "The specified log group does not exist.");
    }
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    for (body, member) in [
        (
            json!({"deletionProtectionEnabled": true}),
            "logGroupIdentifier",
        ),
        (
            json!({"logGroupIdentifier": "g"}),
            "deletionProtectionEnabled",
        ),
    ] {
        let (kind, msg, _) = h.err("PutLogGroupDeletionProtection", body).await;
        assert_eq!(kind, "InvalidParameterException");
        assert!(msg.contains(&format!("at '{member}'")), "{msg}");
        assert!(msg.contains("must not be null"), "{msg}");
    }
    let (kind, _, _) = h
        .err(
            "PutLogGroupDeletionProtection",
            json!({"logGroupIdentifier": "bad name", "deletionProtectionEnabled": true}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err(
            "PutLogGroupDeletionProtection",
            json!({"logGroupIdentifier": "g", "deletionProtectionEnabled": "yes"}),
        )
        .await;
    assert_eq!(kind, "SerializationException");
    // A failed request changed nothing.
    let d = h
        .ok("DescribeLogGroups", json!({"logGroupNamePrefix": "g"}))
        .await;
    assert_eq!(d["logGroups"][0]["deletionProtectionEnabled"], false);

    let (kind, _, _) = h
        .err(
            "CreateLogGroup",
            json!({"logGroupName": "k", "kmsKeyId": "arn:aws:kms:x"}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err("CreateLogGroup", json!({"logGroupName": "aws/x"}))
        .await;
    assert_eq!(kind, "InvalidParameterException");
}

/// QA finding C: a negative InputLogEvent timestamp (model: `range min 0`) is rejected with
/// AWS's validation wording before anything is written, even beside valid events.
#[tokio::test]
async fn qa_put_log_events_negative_timestamp() {
    let h = Harness::new();
    setup(&h, "g", "s").await;
    let now = now_ms();
    let (kind, message, status) = h
        .err(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
                {"timestamp": now, "message": "fine"},
                {"timestamp": -5, "message": "bad"}]}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
    assert_eq!(
        message,
        "1 validation error detected: Value '-5' at 'logEvents.2.member.timestamp' failed to \
         satisfy constraint: Member must have value greater than or equal to 0"
    );
    let got = h
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
        )
        .await;
    assert_eq!(got["events"], json!([]), "{got}");
}

/// QA finding F: a bad filter pattern's message says "Invalid filter pattern: " once.
#[tokio::test]
async fn qa_filter_pattern_error_text_once() {
    let h = Harness::new();
    setup(&h, "g", "s").await;
    let (kind, message, _) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "{ $.x = "}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(message.starts_with("Invalid filter pattern: "), "{message}");
    assert_eq!(
        message.matches("Invalid filter pattern").count(),
        1,
        "{message}"
    );
}

/// One DescribeLogStreams page of group `g` (limit 2, `order` fields merged in):
/// (stream names, nextToken).
async fn stream_page(
    h: &Harness,
    g: &str,
    order: &Value,
    token: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let mut req = json!({"logGroupName": g, "limit": 2});
    for (k, v) in order.as_object().unwrap() {
        req[k] = v.clone();
    }
    if let Some(t) = token {
        req["nextToken"] = json!(t);
    }
    let page = h.ok("DescribeLogStreams", req).await;
    let next = page["nextToken"].as_str().map(str::to_string);
    (names(&page, "logStreams", "logStreamName"), next)
}

/// The rest of the pages from `token` on, all names in order.
async fn stream_rest(h: &Harness, g: &str, order: &Value, token: Option<String>) -> Vec<String> {
    let mut all = Vec::new();
    let mut token = token;
    while let Some(t) = token {
        let (names, next) = stream_page(h, g, order, Some(&t)).await;
        all.extend(names);
        token = next;
    }
    all
}

async fn create_streams(h: &Harness, g: &str, streams: &[&str]) {
    for s in streams {
        h.ok(
            "CreateLogStream",
            json!({"logGroupName": g, "logStreamName": s}),
        )
        .await;
    }
}

async fn delete_streams(h: &Harness, g: &str, streams: &[&str]) {
    for s in streams {
        h.ok(
            "DeleteLogStream",
            json!({"logGroupName": g, "logStreamName": s}),
        )
        .await;
    }
}

/// Tester's finding: DescribeLogStreams' nextToken was a page offset, so a stream created
/// before the cursor repeated an item and deleted ones made others vanish. The token is now
/// the position after the page's last stream, by name in both directions.
#[tokio::test]
async fn describe_log_streams_tokens_survive_creations_and_deletions_by_name() {
    let h = Harness::new();
    let asc = json!({});
    let desc = json!({"descending": true});
    // The repro: [b, d], then `a` is created before the cursor: the next page is [f, h].
    setup(&h, "pg", "b").await;
    create_streams(&h, "pg", &["d", "f", "h"]).await;
    let (p1, t1) = stream_page(&h, "pg", &asc, None).await;
    assert_eq!(p1, ["b", "d"]);
    create_streams(&h, "pg", &["a"]).await;
    assert_eq!(stream_rest(&h, "pg", &asc, t1.clone()).await, ["f", "h"]);
    // A stream created after the cursor is listed.
    create_streams(&h, "pg", &["e"]).await;
    assert_eq!(stream_rest(&h, "pg", &asc, t1).await, ["e", "f", "h"]);

    // Deleting the listed streams: the rest are still listed.
    setup(&h, "del", "b").await;
    create_streams(&h, "del", &["d", "f", "h"]).await;
    let (p1, t1) = stream_page(&h, "del", &asc, None).await;
    assert_eq!(p1, ["b", "d"]);
    delete_streams(&h, "del", &["b", "d"]).await;
    assert_eq!(stream_rest(&h, "del", &asc, t1).await, ["f", "h"]);

    // Descending: a stream created before the cursor (`z`) and the deletion of the listed
    // ones change nothing after it.
    setup(&h, "dsc", "b").await;
    create_streams(&h, "dsc", &["d", "f", "h"]).await;
    let (p1, t1) = stream_page(&h, "dsc", &desc, None).await;
    assert_eq!(p1, ["h", "f"]);
    create_streams(&h, "dsc", &["z"]).await;
    assert_eq!(stream_rest(&h, "dsc", &desc, t1.clone()).await, ["d", "b"]);
    delete_streams(&h, "dsc", &["h", "f"]).await;
    create_streams(&h, "dsc", &["c"]).await;
    assert_eq!(
        stream_rest(&h, "dsc", &desc, t1.clone()).await,
        ["d", "c", "b"]
    );

    // Malformed tokens, old offset tokens and a token of another order stay
    // InvalidParameterException.
    let t1 = t1.unwrap();
    for (order, token) in [
        (json!({}), "garbage"),
        (json!({}), "p2"),
        (json!({}), "sna6"),
        (json!({}), t1.as_str()),
        (
            json!({"orderBy": "LastEventTime", "descending": true}),
            t1.as_str(),
        ),
    ] {
        let mut req = json!({"logGroupName": "dsc", "nextToken": token});
        for (k, v) in order.as_object().unwrap() {
            req[k] = v.clone();
        }
        let (kind, message, status) = h.err("DescribeLogStreams", req).await;
        assert_eq!(kind, "InvalidParameterException", "{token}");
        assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(
            message,
            format!("The specified nextToken is invalid: {token}")
        );
    }
}

/// The same with `orderBy=LastEventTime`: the token carries (lastEventTimestamp, name) of
/// the page's last stream, and the next page starts strictly after it in the same order
/// (streams without events first when ascending, last when descending).
#[tokio::test]
async fn describe_log_streams_tokens_survive_creations_and_deletions_by_last_event_time() {
    let h = Harness::new();
    let asc = json!({"orderBy": "LastEventTime"});
    let desc = json!({"orderBy": "LastEventTime", "descending": true});
    let base = now_ms() - 60_000;
    // Last event times: h < f < d < b; x has no events.
    let put = |s: &'static str, t: i64| {
        let h = &h;
        async move {
            h.ok(
                "PutLogEvents",
                json!({"logGroupName": "pg", "logStreamName": s,
                       "logEvents": [{"timestamp": t, "message": s}]}),
            )
            .await;
        }
    };
    setup(&h, "pg", "b").await;
    create_streams(&h, "pg", &["d", "f", "h", "x"]).await;
    for (i, s) in ["h", "f", "d", "b"].into_iter().enumerate() {
        put(s, base + i as i64 * 1000).await;
    }
    let page = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "pg", "orderBy": "LastEventTime"}),
        )
        .await;
    let all = names(&page, "logStreams", "logStreamName");
    assert_eq!(all, ["x", "h", "f", "d", "b"]);

    // Ascending: [x, h]; `a` (no events) sorts before the cursor, `c` (newest) after it.
    let (p1, t1) = stream_page(&h, "pg", &asc, None).await;
    assert_eq!(p1, ["x", "h"]);
    create_streams(&h, "pg", &["a", "c"]).await;
    put("c", base + 10_000).await;
    assert_eq!(
        stream_rest(&h, "pg", &asc, t1.clone()).await,
        ["f", "d", "b", "c"]
    );
    // Deleting the listed streams (and a stream between them) changes nothing after it.
    delete_streams(&h, "pg", &["x", "h", "a"]).await;
    assert_eq!(stream_rest(&h, "pg", &asc, t1).await, ["f", "d", "b", "c"]);

    // Descending: [c, b]; `z` (newer than all) sorts before the cursor, `e` (no events)
    // after it, at the end.
    let (p1, t1) = stream_page(&h, "pg", &desc, None).await;
    assert_eq!(p1, ["c", "b"]);
    create_streams(&h, "pg", &["z", "e"]).await;
    h.ok(
        "PutLogEvents",
        json!({"logGroupName": "pg", "logStreamName": "z",
               "logEvents": [{"timestamp": base + 20_000, "message": "z"}]}),
    )
    .await;
    assert_eq!(
        stream_rest(&h, "pg", &desc, t1.clone()).await,
        ["d", "f", "e"]
    );
    delete_streams(&h, "pg", &["c", "b"]).await;
    assert_eq!(
        stream_rest(&h, "pg", &desc, t1.clone()).await,
        ["d", "f", "e"]
    );

    // A time-ordered token is no name-ordered one, nor one of the other direction.
    let t1 = t1.unwrap();
    for order in [json!({}), asc] {
        let mut req = json!({"logGroupName": "pg", "nextToken": t1});
        for (k, v) in order.as_object().unwrap() {
            req[k] = v.clone();
        }
        let (kind, _, _) = h.err("DescribeLogStreams", req).await;
        assert_eq!(kind, "InvalidParameterException");
    }
}
