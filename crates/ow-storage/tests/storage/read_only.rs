//! Read-only opens (`Store::open_read_only`, what `openwatch query` uses): they see every
//! segment and every acknowledged event still in the WAL, write nothing to the data
//! directory, share it with each other, and exclude a writer (and are excluded by one).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use ow_storage::{Store, StoreError};
use ow_test_utils::file_listing as listing;

use crate::{events, small_config, stored_ids};

/// Copies a directory tree (a data directory of a few small files).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn wal_files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn a_read_only_store_sees_segments_and_the_wal_and_writes_nothing() {
    let live = tempfile::tempdir().unwrap();
    let copy = tempfile::tempdir().unwrap();
    let now = ow_storage::now_ms();
    let store = Store::open(live.path(), small_config()).unwrap();
    store.create_log_group("g", BTreeMap::new()).unwrap();
    store.create_log_stream("g", "s").unwrap();
    store
        .put_log_events("g", "s", &events(0..200, now))
        .unwrap();
    store.flush().unwrap();
    // acknowledged (in the WAL) but not flushed to a segment
    store
        .put_log_events("g", "s", &events(200..250, now))
        .unwrap();
    // the directory as a crash would leave it: segments, manifest, WAL with unflushed events
    copy_dir(live.path(), copy.path());
    drop(store);
    // ... plus a torn tail on the last WAL file and an orphan segment file
    let last_wal = wal_files(copy.path()).into_iter().next_back().unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&last_wal)
        .unwrap()
        .write_all(&[0u8; 3])
        .unwrap();
    let group_dir = std::fs::read_dir(copy.path().join("segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    std::fs::write(group_dir.join("orphan.parquet"), b"left by a crash").unwrap();
    let before = listing(copy.path());

    let ro = Store::open_read_only(copy.path(), small_config()).unwrap();
    assert!(ro.is_read_only());
    assert_eq!(stored_ids(&ro, "g"), (0..250).collect::<Vec<_>>());
    assert!(ro.recovery_report().tail_problem.is_some());
    assert_eq!(ro.recovery_report().truncated_bytes, 0);
    assert_eq!(ro.recovery_report().orphan_segments_removed, 0);
    let read_only = |r: Result<(), StoreError>| matches!(r, Err(StoreError::ReadOnly(_)));
    assert!(read_only(
        ro.put_log_events("g", "s", &events(250..251, now))
            .map(|_| ())
    ));
    assert!(read_only(
        ro.create_log_group("h", BTreeMap::new()).map(|_| ())
    ));
    assert!(read_only(ro.create_log_stream("g", "t").map(|_| ())));
    assert!(read_only(ro.put_retention_policy("g", 1)));
    assert!(read_only(ro.delete_log_stream("g", "s")));
    assert!(read_only(ro.compact().map(|_| ())));
    assert!(read_only(ro.maintain(now)));
    ro.flush().unwrap(); // nothing to write: the WAL events stay in memory
    ro.close().unwrap();
    drop(ro);
    assert_eq!(
        listing(copy.path()),
        before,
        "a read-only open changed files"
    );

    // a writer then recovers the copy as it always did
    let rw = Store::open(copy.path(), small_config()).unwrap();
    assert_eq!(stored_ids(&rw, "g"), (0..250).collect::<Vec<_>>());
    assert_eq!(rw.recovery_report().truncated_bytes, 3);
    assert!(rw.recovery_report().orphan_segments_removed >= 1);
}

#[test]
fn read_only_stores_share_a_directory_and_exclude_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let now = ow_storage::now_ms();
    {
        let store = Store::open(dir.path(), small_config()).unwrap();
        store.create_log_group("g", BTreeMap::new()).unwrap();
        store.create_log_stream("g", "s").unwrap();
        store.put_log_events("g", "s", &events(0..10, now)).unwrap();
    }
    let a = Store::open_read_only(dir.path(), small_config()).unwrap();
    let b = Store::open_read_only(dir.path(), small_config()).unwrap();
    assert_eq!(stored_ids(&a, "g"), stored_ids(&b, "g"));
    assert_eq!(stored_ids(&a, "g").len(), 10);
    match Store::open(dir.path(), small_config()) {
        Err(StoreError::InvalidParameter(m)) => assert!(m.contains("in use"), "{m}"),
        other => panic!("a writer opened beside readers: {other:?}"),
    }
    drop((a, b));
    let writer = Store::open(dir.path(), small_config()).unwrap();
    match Store::open_read_only(dir.path(), small_config()) {
        Err(StoreError::InvalidParameter(m)) => assert!(m.contains("writes to it"), "{m}"),
        other => panic!("a reader opened beside a writer: {other:?}"),
    }
    drop(writer);
    assert!(Store::open_read_only(dir.path(), small_config()).is_ok());
}

#[test]
fn a_read_only_open_of_a_missing_or_empty_directory_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    assert!(matches!(
        Store::open_read_only(&missing, small_config()),
        Err(StoreError::Io { .. })
    ));
    assert!(!missing.exists());
    // an empty directory is an empty store, and stays empty
    let empty = Store::open_read_only(dir.path(), small_config()).unwrap();
    let groups = empty
        .list_log_groups(&ow_storage::PageRequest::default())
        .unwrap();
    assert!(groups.items.is_empty());
    drop(empty);
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_read_only_open_without_stream_metadata_sees_the_same_events_and_group_figures() {
    let live = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let now = ow_storage::now_ms();
    {
        let store = Store::open(live.path(), small_config()).unwrap();
        store.create_log_group("g", BTreeMap::new()).unwrap();
        for s in ["a", "b", "c"] {
            store.create_log_stream("g", s).unwrap();
        }
        store
            .put_log_events("g", "a", &events(0..100, now))
            .unwrap();
        store
            .put_log_events("g", "b", &events(100..150, now))
            .unwrap();
        store.flush().unwrap();
        // "b" again and "c": acknowledged, in the WAL only
        store
            .put_log_events("g", "b", &events(150..170, now))
            .unwrap();
        store
            .put_log_events("g", "c", &events(170..180, now))
            .unwrap();
        // the directory as a crash would leave it (a close would flush the WAL's events)
        copy_dir(live.path(), dir.path());
    }
    let full = Store::open_read_only(dir.path(), small_config()).unwrap();
    let lean = Store::open_read_only(
        dir.path(),
        ow_storage::StoreConfig {
            log_stream_metadata: false,
            ..small_config()
        },
    )
    .unwrap();
    assert_eq!(stored_ids(&lean, "g"), (0..180).collect::<Vec<_>>());
    assert_eq!(stored_ids(&lean, "g"), stored_ids(&full, "g"));
    // the log group's figures come from segments and buffered events, not stream metadata
    let (lg, fg) = (lean.log_group("g").unwrap(), full.log_group("g").unwrap());
    assert_eq!(lg.event_count, 180);
    assert_eq!(lg, fg);
    // the lean store knows only the streams with events in the WAL
    let names = |s: &Store| -> Vec<String> {
        s.list_log_streams(
            "g",
            &ow_storage::PageRequest::default(),
            ow_storage::StreamOrder::LogStreamName,
            false,
        )
        .unwrap()
        .items
        .into_iter()
        .map(|st| st.name)
        .collect()
    };
    assert_eq!(names(&full), ["a", "b", "c"]);
    assert_eq!(names(&lean), ["b", "c"]);
}
