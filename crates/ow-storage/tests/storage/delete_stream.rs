//! DeleteLogStream deletes the stream's events everywhere (QA bug): segments, buffer, WAL,
//! counters; durable; crash-safe.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use arrow::array::{Array, StringArray};
use ow_storage::{InputLogEvent, Store, StoreConfig, StoreError};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{events, id_of, stored_ids};

const TS: i64 = 1_700_000_000_000;

fn bytes_of(evs: &[InputLogEvent]) -> u64 {
    evs.iter().map(|e| e.message.len() as u64 + 26).sum()
}

/// `@logStream` values of every row a snapshot of `g` shows (segment files + buffer).
fn snapshot_streams(store: &Store) -> Vec<String> {
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    let mut out = Vec::new();
    for g in &snap.groups {
        for s in &g.segments {
            let f = std::fs::File::open(&s.path).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .unwrap()
                .build()
                .unwrap();
            let mut rows = 0u64;
            for b in reader {
                let b = b.unwrap();
                let col = b
                    .column_by_name("@logStream")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone();
                rows += b.num_rows() as u64;
                out.extend(col.iter().map(|v| v.unwrap().to_owned()));
            }
            assert_eq!(rows, s.row_count, "segment row_count matches its file");
        }
        for b in &g.buffered {
            let col = b.column(2).as_any().downcast_ref::<StringArray>().unwrap();
            out.extend(col.iter().map(|v| v.unwrap().to_owned()));
        }
    }
    out
}

/// Group `g` with streams `a` and `b`: a 0..50 + b 100..130 flushed into segments,
/// then a 50..60 + b 130..135 in the buffer/WAL. Returns (a's first seq, b's first seq,
/// bytes of b's events).
fn setup(store: &Store) -> (u64, u64, u64) {
    store.create_log_group("g", BTreeMap::new()).unwrap();
    store.create_log_stream("g", "a").unwrap();
    store.create_log_stream("g", "b").unwrap();
    let a1 = events(0..50, TS);
    let b1 = events(100..130, TS + 5);
    let a_seq = store.put_log_events_at("g", "a", &a1, TS).unwrap();
    let b_seq = store.put_log_events_at("g", "b", &b1, TS).unwrap();
    store.flush().unwrap();
    let a2 = events(50..60, TS + 1);
    let b2 = events(130..135, TS + 2);
    store.put_log_events_at("g", "a", &a2, TS).unwrap();
    store.put_log_events_at("g", "b", &b2, TS).unwrap();
    (
        a_seq.first_seq.unwrap(),
        b_seq.first_seq.unwrap(),
        bytes_of(&b1) + bytes_of(&b2),
    )
}

fn b_ids() -> Vec<u64> {
    // b1 at TS+5, b2 at TS+2: read order is by timestamp
    (130..135).chain(100..130).collect()
}

fn assert_only_b(store: &Store, a_seq: u64, b_seq: u64, b_bytes: u64) {
    assert_eq!(stored_ids(store, "g"), b_ids());
    assert!(store
        .read_events("g", Some("a"), i64::MIN, i64::MAX, None)
        .unwrap()
        .is_empty());
    assert_eq!(store.get_event("g", a_seq).unwrap(), None);
    assert_eq!(
        store
            .get_event("g", b_seq)
            .map(|e| e.map(|e| id_of(&e.message)))
            .unwrap(),
        Some(100)
    );
    let streams = snapshot_streams(store);
    assert_eq!(streams.len(), 35);
    assert!(streams.iter().all(|s| s == "b"), "{streams:?}");
    let lg = store.log_group("g").unwrap();
    assert_eq!(lg.stored_bytes, b_bytes);
    assert_eq!(lg.event_count, 35);
    assert_eq!(
        store.field_stats("g", i64::MIN, i64::MAX).unwrap().events,
        35
    );
    assert!(matches!(
        store.log_stream("g", "a"),
        Err(StoreError::LogStreamNotFound { .. })
    ));
    assert_eq!(store.log_stream("g", "b").unwrap().event_count, 35);
}

#[test]
fn qa_delete_log_stream_removes_events_everywhere_and_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let (a_seq, b_seq, b_bytes) = setup(&store);
    assert_eq!(stored_ids(&store, "g").len(), 95);
    store.delete_log_stream("g", "a").unwrap();
    assert_only_b(&store, a_seq, b_seq, b_bytes);
    // deleting again: the stream is gone
    assert!(matches!(
        store.delete_log_stream("g", "a"),
        Err(StoreError::LogStreamNotFound { .. })
    ));
    drop(store);
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    assert_only_b(&store, a_seq, b_seq, b_bytes);
}

#[test]
fn qa_delete_log_stream_wal_events_do_not_replay() {
    // the store is not closed cleanly: the buffered events of both streams are only in
    // the WAL when the process goes away (std::mem::forget skips the flush on drop)
    let dir = tempfile::tempdir().unwrap();
    let (a_seq, b_seq, b_bytes) = {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        let r = setup(&store);
        store.delete_log_stream("g", "a").unwrap();
        // b gets more events after the deletion, a is re-created and gets one
        store.create_log_stream("g", "a").unwrap();
        store
            .put_log_events_at("g", "a", &events(900..901, TS + 3), TS)
            .unwrap();
        let wal_files = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
        assert!(wal_files >= 1);
        store.close().unwrap();
        r
    };
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let a: Vec<u64> = store
        .read_events("g", Some("a"), i64::MIN, i64::MAX, None)
        .unwrap()
        .iter()
        .map(|e| id_of(&e.message))
        .collect();
    assert_eq!(a, vec![900]);
    assert_eq!(store.get_event("g", a_seq).unwrap(), None);
    assert!(store.get_event("g", b_seq).unwrap().is_some());
    assert_eq!(
        store.log_group("g").unwrap().stored_bytes,
        b_bytes + bytes_of(&events(900..901, TS + 3))
    );
}

#[test]
fn qa_delete_log_stream_recreated_stream_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    setup(&store);
    store.delete_log_stream("g", "a").unwrap();
    store.create_log_stream("g", "a").unwrap();
    let s = store.log_stream("g", "a").unwrap();
    assert_eq!(
        (s.event_count, s.stored_bytes, s.first_event_timestamp_ms),
        (0, 0, None)
    );
    assert!(store
        .read_events("g", Some("a"), i64::MIN, i64::MAX, None)
        .unwrap()
        .is_empty());
    store
        .put_log_events_at("g", "a", &events(500..503, TS + 9), TS)
        .unwrap();
    store.flush().unwrap();
    let ids: Vec<u64> = store
        .read_events("g", Some("a"), i64::MIN, i64::MAX, None)
        .unwrap()
        .iter()
        .map(|e| id_of(&e.message))
        .collect();
    assert_eq!(ids, vec![500, 501, 502]);
    assert_eq!(store.log_stream("g", "a").unwrap().event_count, 3);
    // other stream untouched: 35 of b + 3 of the new a
    assert_eq!(store.log_group("g").unwrap().event_count, 38);
}

#[test]
fn qa_delete_log_stream_keeps_other_streams_and_groups_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    setup(&store);
    store.create_log_group("other", BTreeMap::new()).unwrap();
    store.create_log_stream("other", "a").unwrap();
    store
        .put_log_events_at("other", "a", &events(0..7, TS), TS)
        .unwrap();
    // a segment holding only stream b must not be rewritten
    store
        .put_log_events_at("g", "b", &events(200..204, TS - 100_000_000), TS)
        .unwrap();
    store.flush().unwrap();
    let only_b: Vec<String> = store
        .snapshot(&["g"], TS - 100_000_000, TS - 100_000_000)
        .unwrap()
        .groups[0]
        .segments
        .iter()
        .map(|s| s.object_path.clone())
        .collect();
    assert_eq!(only_b.len(), 1);
    store.delete_log_stream("g", "a").unwrap();
    let mut expect: Vec<u64> = (200..204).collect();
    expect.extend(b_ids());
    assert_eq!(stored_ids(&store, "g"), expect);
    assert_eq!(stored_ids(&store, "other"), (0..7).collect::<Vec<_>>());
    let after: Vec<String> = store
        .snapshot(&["g"], TS - 100_000_000, TS - 100_000_000)
        .unwrap()
        .groups[0]
        .segments
        .iter()
        .map(|s| s.object_path.clone())
        .collect();
    assert_eq!(after, only_b);
}

#[test]
fn qa_delete_log_stream_while_snapshot_held() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    setup(&store);
    store.flush().unwrap();
    let held = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    let paths: Vec<std::path::PathBuf> = held.groups[0]
        .segments
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert!(!paths.is_empty());
    store.delete_log_stream("g", "a").unwrap();
    // the held snapshot still reads its files: all 95 events, 60 of them of a
    let mut a = 0;
    let mut total = 0;
    for p in &paths {
        let f = std::fs::File::open(p).expect("held segment file still exists");
        for b in ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap()
        {
            let b = b.unwrap();
            let col = b
                .column_by_name("@logStream")
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            total += col.len();
            a += col.iter().filter(|v| *v == Some("a")).count();
        }
    }
    assert_eq!((total, a), (95, 60));
    // a new snapshot does not see them
    assert_eq!(snapshot_streams(&store).len(), 35);
    drop(held);
    store.maintain(TS).unwrap();
    assert!(
        paths.iter().all(|p| !p.exists()),
        "old files deleted once released"
    );
}

const CRASH_DIR: &str = "OW_DELETE_CRASH_DIR";

#[test]
fn qa_delete_log_stream_crash_mid_delete() {
    if let Ok(dir) = std::env::var(CRASH_DIR) {
        // child: more events of both streams in the WAL, then the deletion, which the
        // crash hook (OW_STORAGE_CRASH_AT) aborts
        let store = Store::open(std::path::Path::new(&dir), StoreConfig::default()).unwrap();
        store
            .put_log_events_at("g", "a", &events(60..65, TS + 3), TS)
            .unwrap();
        store
            .put_log_events_at("g", "b", &events(135..140, TS + 4), TS)
            .unwrap();
        store.delete_log_stream("g", "a").unwrap();
        println!("delete returned");
        return;
    }
    for (point, deleted) in [
        ("delete_log_stream:segments_written", false),
        ("delete_log_stream:manifest_saved", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
            setup(&store);
            store.close().unwrap();
        }
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "delete_stream::qa_delete_log_stream_crash_mid_delete",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DIR, dir.path())
            .env("OW_STORAGE_CRASH_AT", point)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the child must crash");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("delete returned"));
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        assert!(
            store.recovery_report().orphan_segments_removed >= 1,
            "{point}: the files of the other state are removed"
        );
        let b_expect: Vec<u64> = (130..135).chain(135..140).chain(100..130).collect();
        let b: Vec<u64> = store
            .read_events("g", Some("b"), i64::MIN, i64::MAX, None)
            .unwrap()
            .iter()
            .map(|e| id_of(&e.message))
            .collect();
        assert_eq!(b, b_expect, "{point}: stream b intact");
        let a: Vec<u64> = store
            .read_events("g", Some("a"), i64::MIN, i64::MAX, None)
            .unwrap()
            .iter()
            .map(|e| id_of(&e.message))
            .collect();
        if deleted {
            assert!(a.is_empty(), "{point}: {a:?}");
            assert!(store.log_stream("g", "a").is_err());
            assert_eq!(store.log_group("g").unwrap().event_count, 40);
        } else {
            assert_eq!(a, (0..50).chain(50..60).chain(60..65).collect::<Vec<_>>());
            assert_eq!(store.log_stream("g", "a").unwrap().event_count, 65);
            assert_eq!(store.log_group("g").unwrap().event_count, 105);
        }
        assert_eq!(stored_ids(&store, "g").len(), a.len() + b.len());
    }
}
