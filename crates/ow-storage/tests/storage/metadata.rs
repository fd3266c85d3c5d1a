//! Log groups and streams: create, list with prefix and pagination, delete, retention, tags.

use std::collections::BTreeMap;

use ow_storage::{PageRequest, Store, StoreConfig, StoreError, StreamOrder};

#[test]
fn log_groups_list_in_ascii_order_with_prefix_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    for name in ["b/x", "a", "B", "b/y", "b/z", "c"] {
        store.create_log_group(name, BTreeMap::new()).unwrap();
    }
    let all = store.list_log_groups(&PageRequest::default()).unwrap();
    let names: Vec<_> = all.items.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["B", "a", "b/x", "b/y", "b/z", "c"]);
    assert_eq!(all.next_token, None);

    let mut req = PageRequest {
        prefix: Some("b/".into()),
        limit: Some(2),
        next_token: None,
    };
    let p1 = store.list_log_groups(&req).unwrap();
    assert_eq!(
        p1.items.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["b/x", "b/y"]
    );
    req.next_token = p1.next_token.clone();
    assert!(req.next_token.is_some());
    let p2 = store.list_log_groups(&req).unwrap();
    assert_eq!(
        p2.items.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["b/z"]
    );
    assert_eq!(p2.next_token, None);

    let bad = PageRequest {
        next_token: Some("garbage".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.list_log_groups(&bad),
        Err(StoreError::InvalidNextToken(_))
    ));

    let g = store.log_group("a").unwrap();
    assert_eq!(g.arn(), "arn:aws:logs:us-east-1:000000000000:log-group:a:*");
    assert_eq!(
        g.log_group_arn(),
        "arn:aws:logs:us-east-1:000000000000:log-group:a"
    );
    assert_eq!(g.at_log(), "000000000000:a");
    assert!(g.creation_time_ms > 1_600_000_000_000);
}

#[test]
fn names_duplicates_and_missing_resources_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    for bad in ["", "has space", "aws/reserved", &"x".repeat(513)] {
        assert!(matches!(
            store.create_log_group(bad, BTreeMap::new()),
            Err(StoreError::InvalidParameter(_))
        ));
    }
    store.create_log_group("g", BTreeMap::new()).unwrap();
    assert!(matches!(
        store.create_log_group("g", BTreeMap::new()),
        Err(StoreError::LogGroupAlreadyExists(_))
    ));
    assert!(matches!(
        store.create_log_stream("nope", "s"),
        Err(StoreError::LogGroupNotFound(_))
    ));
    assert!(matches!(
        store.create_log_stream("g", "a:b"),
        Err(StoreError::InvalidParameter(_))
    ));
    store.create_log_stream("g", "s").unwrap();
    assert!(matches!(
        store.create_log_stream("g", "s"),
        Err(StoreError::LogStreamAlreadyExists { .. })
    ));
    assert!(matches!(
        store.put_log_events("g", "other", &crate::events(0..1, ow_storage::now_ms())),
        Err(StoreError::LogStreamNotFound { .. })
    ));
    assert!(matches!(
        store.put_retention_policy("g", 2),
        Err(StoreError::InvalidParameter(_))
    ));
}

#[test]
fn metadata_survives_reopen_and_delete_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let now = ow_storage::now_ms();
    {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        let tags = BTreeMap::from([("team".to_string(), "sec".to_string())]);
        store.create_log_group("g", tags).unwrap();
        store.put_retention_policy("g", 30).unwrap();
        store
            .tag_log_group("g", BTreeMap::from([("env".into(), "prod".into())]))
            .unwrap();
        store.untag_log_group("g", &["team".to_string()]).unwrap();
        store.create_log_stream("g", "s1").unwrap();
        store.create_log_stream("g", "s2").unwrap();
        store
            .put_log_events("g", "s1", &crate::events(0..3, now - 5000))
            .unwrap();
        store
            .put_log_events("g", "s2", &crate::events(3..4, now))
            .unwrap();
    }
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let g = store.log_group("g").unwrap();
    assert_eq!(g.retention_in_days, Some(30));
    assert_eq!(
        g.tags,
        BTreeMap::from([("env".to_string(), "prod".to_string())])
    );
    assert_eq!(g.event_count, 4);
    assert_eq!(g.first_event_timestamp_ms, Some(now - 5000));
    assert_eq!(g.last_event_timestamp_ms, Some(now));
    let msg_bytes: u64 = crate::events(0..4, 0)
        .iter()
        .map(|e| e.message.len() as u64 + 26)
        .sum();
    assert_eq!(g.stored_bytes, msg_bytes);

    let s1 = store.log_stream("g", "s1").unwrap();
    assert_eq!(s1.event_count, 3);
    assert_eq!(s1.first_event_timestamp_ms, Some(now - 5000));
    assert_eq!(s1.last_event_timestamp_ms, Some(now - 5000));
    assert!(s1.last_ingestion_time_ms.unwrap() >= now);

    let by_time = store
        .list_log_streams("g", &Default::default(), StreamOrder::LastEventTime, true)
        .unwrap();
    assert_eq!(
        by_time
            .items
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["s2", "s1"]
    );
    let paged = store
        .list_log_streams(
            "g",
            &PageRequest {
                limit: Some(1),
                ..Default::default()
            },
            StreamOrder::LogStreamName,
            false,
        )
        .unwrap();
    assert_eq!(paged.items[0].name, "s1");
    let rest = store
        .list_log_streams(
            "g",
            &PageRequest {
                limit: Some(1),
                next_token: paged.next_token,
                ..Default::default()
            },
            StreamOrder::LogStreamName,
            false,
        )
        .unwrap();
    assert_eq!(rest.items[0].name, "s2");
    assert_eq!(rest.next_token, None);
    assert!(store
        .list_log_streams(
            "g",
            &PageRequest {
                prefix: Some("s".into()),
                ..Default::default()
            },
            StreamOrder::LastEventTime,
            false
        )
        .is_err());

    store.flush().unwrap();
    let seg_dir = dir.path().join("segments");
    let files = |d: &std::path::Path| {
        walk(d)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .count()
    };
    assert_eq!(files(&seg_dir), 1);
    store.delete_log_group("g").unwrap();
    assert!(matches!(
        store.log_group("g"),
        Err(StoreError::LogGroupNotFound(_))
    ));
    assert_eq!(files(&seg_dir), 0);
    drop(store);
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    assert!(store
        .list_log_groups(&Default::default())
        .unwrap()
        .items
        .is_empty());
}

#[test]
fn a_second_process_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let err = Store::open(dir.path(), StoreConfig::default()).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
}

pub fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_segment_missing_from_disk_is_reported_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        store
            .import_events("g", "s", crate::events(0..3, ow_storage::now_ms()))
            .unwrap();
    }
    let seg = walk(&dir.path().join("segments"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    std::fs::remove_file(&seg).unwrap();
    let err = Store::open(dir.path(), StoreConfig::default()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

/// A data directory is one account's: a group created under one account id (say by
/// `openwatch import`, default 000000000000) and read by a store opened as another (say
/// `openwatch serve` with a key of account 210987654321) names the reading account in its
/// ARN and `@log`.
#[test]
fn groups_belong_to_the_account_the_store_is_opened_as() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        store.create_log_group("g", BTreeMap::new()).unwrap();
        assert_eq!(store.log_group("g").unwrap().account_id, "000000000000");
    }
    let config = StoreConfig {
        account_id: "210987654321".to_owned(),
        region: "eu-west-1".to_owned(),
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let g = store.log_group("g").unwrap();
    assert_eq!(
        g.log_group_arn(),
        "arn:aws:logs:eu-west-1:210987654321:log-group:g"
    );
    assert_eq!(g.at_log(), "210987654321:g");
}

/// The log streams' metadata lives in the streams file the manifest names (formats 2 and 3);
/// version 1 (inline streams) and version 2 manifests still open, and the next save writes
/// version 3.
#[test]
fn log_streams_live_beside_the_manifest_and_version_1_manifests_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let now = ow_storage::now_ms();
    let streams_files = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("streams-"))
            .collect();
        v.sort();
        v
    };
    let read_json = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let listed = |s: &Store| -> Vec<(String, i64, Option<i64>)> {
        s.list_log_streams(
            "g",
            &PageRequest::default(),
            StreamOrder::LogStreamName,
            false,
        )
        .unwrap()
        .items
        .into_iter()
        .map(|st| (st.name, st.creation_time_ms, st.last_event_timestamp_ms))
        .collect()
    };
    let before = {
        let store = Store::open(dir.path(), crate::small_config()).unwrap();
        store.create_log_group("g", BTreeMap::new()).unwrap();
        store.create_log_stream("g", "a").unwrap();
        store.create_log_stream("g", "b").unwrap();
        store
            .put_log_events("g", "a", &crate::events(0..20, now))
            .unwrap();
        store.flush().unwrap();
        listed(&store)
    };
    assert_eq!(before.len(), 2);
    // a save left one streams file, the one the manifest names; no stream inline
    let files = streams_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let m = read_json(dir.path().join("manifest.json"));
    assert_eq!(m["version"], 3);
    assert_eq!(m["streams_file"], files[0].as_str());
    assert_eq!(m["groups"][0]["streams"], serde_json::json!([]));
    let streams = read_json(dir.path().join(&files[0]));
    assert_eq!(streams["groups"][0][1].as_array().unwrap().len(), 2);
    assert_eq!(
        listed(&Store::open(dir.path(), crate::small_config()).unwrap()),
        before
    );

    // the same store written by version 1: the streams inline, no streams file
    let mut v1 = m.clone();
    v1["version"] = 1.into();
    v1["groups"][0]["streams"] = streams["groups"][0][1].clone();
    v1.as_object_mut().unwrap().remove("streams_file");
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec(&v1).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(dir.path().join(&files[0])).unwrap();
    // and a streams file a crash left before its manifest was renamed: never read
    std::fs::write(dir.path().join("streams-1-0.json"), b"{ torn").unwrap();
    {
        let store = Store::open(dir.path(), crate::small_config()).unwrap();
        assert_eq!(listed(&store), before);
        assert_eq!(stored_ids(&store), (0..20).collect::<Vec<_>>());
        store.create_log_stream("g", "c").unwrap(); // a save: the current version
    }
    let files = streams_files(dir.path());
    assert_eq!(files.len(), 1, "the torn file was not removed: {files:?}");
    assert_ne!(files[0], "streams-1-0.json");
    let mut m = read_json(dir.path().join("manifest.json"));
    assert_eq!(m["version"], 3);
    // a version 2 manifest (the same layout) opens as it is and is written as version 3
    m["version"] = 2.into();
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec(&m).unwrap(),
    )
    .unwrap();
    {
        let store = Store::open(dir.path(), crate::small_config()).unwrap();
        let names: Vec<String> = listed(&store).into_iter().map(|s| s.0).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(read_json(dir.path().join("manifest.json"))["version"], 2);
        store.create_log_stream("g", "d").unwrap();
    }
    assert_eq!(read_json(dir.path().join("manifest.json"))["version"], 3);
    let files = streams_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let store = Store::open(dir.path(), crate::small_config()).unwrap();
    let names: Vec<String> = listed(&store).into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);

    drop(store);

    // damage is reported, never read as log groups without streams (a save would then make
    // the loss permanent and delete the file that still had them)
    let good_manifest = std::fs::read(dir.path().join("manifest.json")).unwrap();
    let good_streams = std::fs::read(dir.path().join(&files[0])).unwrap();
    let corrupt = |why: &str| match Store::open(dir.path(), crate::small_config()) {
        Err(StoreError::Corrupt(m)) => m,
        other => panic!("{why}: expected a corrupt-store error, got {other:?}"),
    };
    // a valid streams file without this group's entry
    std::fs::write(dir.path().join(&files[0]), br#"{"groups":[]}"#).unwrap();
    let m = corrupt("no entry for the group");
    assert!(m.contains("no entry for log group g"), "{m}");
    // an entry for a group the manifest does not have
    let mut extra = serde_json::from_slice::<serde_json::Value>(&good_streams).unwrap();
    extra["groups"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!([99, []]));
    std::fs::write(
        dir.path().join(&files[0]),
        serde_json::to_vec(&extra).unwrap(),
    )
    .unwrap();
    let m = corrupt("an unknown group id");
    assert!(m.contains("log group id 99"), "{m}");
    std::fs::write(dir.path().join(&files[0]), &good_streams).unwrap();
    // a version 2 manifest that names no streams file
    let mut m2 = read_json(dir.path().join("manifest.json"));
    m2.as_object_mut().unwrap().remove("streams_file");
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec(&m2).unwrap(),
    )
    .unwrap();
    let m = corrupt("no streams file named");
    assert!(m.contains("names no log streams file"), "{m}");
    // a format newer than this build reads is not damage: it says so
    let mut v4 = serde_json::from_slice::<serde_json::Value>(&good_manifest).unwrap();
    v4["version"] = 4.into();
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec(&v4).unwrap(),
    )
    .unwrap();
    match Store::open(dir.path(), crate::small_config()) {
        Err(e @ StoreError::UnsupportedFormat(_)) => {
            let m = e.to_string();
            assert!(m.contains("format version 4 is not supported"), "{m}");
            assert!(m.contains("versions 1 to 3"), "{m}");
        }
        other => panic!("expected an unsupported-format error, got {other:?}"),
    }
    // a manifest naming a streams file that is gone
    std::fs::write(dir.path().join("manifest.json"), &good_manifest).unwrap();
    std::fs::remove_file(dir.path().join(&files[0])).unwrap();
    let m = corrupt("the streams file is missing");
    assert!(
        m.contains(&format!("{}, which is missing", files[0])),
        "{m}"
    );
    // and nothing was lost: with the file back, the store is whole
    std::fs::write(dir.path().join(&files[0]), &good_streams).unwrap();
    let store = Store::open(dir.path(), crate::small_config()).unwrap();
    assert_eq!(listed(&store).len(), 4);
}

fn stored_ids(store: &Store) -> Vec<u64> {
    crate::stored_ids(store, "g")
}
