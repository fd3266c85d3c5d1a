//! PutLogEvents through the store, visibility, snapshots under concurrency, retention.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{Array, UInt64Array};
use ow_storage::{schema, InputLogEvent, Snapshot, Store, StoreConfig};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const DAY: i64 = 86_400_000;

#[test]
fn put_log_events_reports_rejected_indexes_and_stores_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    store.create_log_group("g", BTreeMap::new()).unwrap();
    store.create_log_stream("g", "s").unwrap();
    store.put_retention_policy("g", 1).unwrap();
    // the real clock: reads hide events expired at the time of the read
    let now = ow_storage::now_ms();
    let ts = [
        now - 15 * DAY,       // too old and expired
        now - 2 * DAY,        // expired (retention 1 day)
        now - 20 * 3_600_000, // ok
        now,                  // ok
        now + 2 * 3_600_000,  // ok: exactly 2 h ahead
        now + 3 * 3_600_000,  // too new
    ];
    let events: Vec<InputLogEvent> = ts
        .iter()
        .enumerate()
        .map(|(i, &t)| InputLogEvent {
            timestamp_ms: t,
            message: format!("event {i}"),
        })
        .collect();
    let out = store.put_log_events_at("g", "s", &events, now).unwrap();
    assert_eq!(out.accepted, 3);
    assert_eq!(out.rejected.too_old_log_event_end_index, Some(1));
    assert_eq!(out.rejected.expired_log_event_end_index, Some(2));
    assert_eq!(out.rejected.too_new_log_event_start_index, Some(5));
    let stored: Vec<String> = store
        .read_events("g", Some("s"), i64::MIN, i64::MAX, None)
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(stored, ["event 2", "event 3", "event 4"]);

    // whole-batch failures store nothing
    let unordered = vec![events[3].clone(), events[2].clone()];
    assert!(store.put_log_events_at("g", "s", &unordered, now).is_err());
    assert_eq!(store.log_group("g").unwrap().event_count, 3);
}

#[test]
fn acknowledged_events_are_visible_at_once_and_after_flush_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let now = ow_storage::now_ms();
    store
        .import_events("g", "s", crate::events(0..10, now))
        .unwrap();
    let snap = store.snapshot(&["g"], now, now).unwrap();
    assert_eq!(seqs(&snap).len(), 10);
    assert!(snap.groups[0].segments.is_empty());
    store.flush().unwrap();
    let snap2 = store.snapshot(&["g"], now, now).unwrap();
    assert!(snap2.groups[0].buffered.is_empty());
    assert_eq!(seqs(&snap2), (0..10).collect::<Vec<_>>());
    // the earlier snapshot is unaffected
    assert_eq!(seqs(&snap).len(), 10);
    // out-of-range snapshot sees nothing
    let none = store.snapshot(&["g"], now + 1, now + 10).unwrap();
    assert!(seqs(&none).is_empty());
    let e = store.get_event("g", 4).unwrap().unwrap();
    assert_eq!(crate::id_of(&e.message), 4);
    assert_eq!(e.log_stream, "s");
    assert!(store.get_event("g", 99).unwrap().is_none());
    assert!(store.snapshot(&["missing"], 0, 1).is_err());
}

#[test]
fn concurrent_writers_and_readers_see_consistent_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), crate::small_config()).unwrap());
    store.create_log_group("g", BTreeMap::new()).unwrap();
    store.create_log_stream("g", "s").unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let now = ow_storage::now_ms();
    let writers: Vec<_> = (0..4u64)
        .map(|t| {
            let store = store.clone();
            let acked = acked.clone();
            std::thread::spawn(move || {
                for b in 0..60u64 {
                    let base = t * 1_000_000 + b * 5;
                    let out = store
                        .put_log_events("g", "s", &crate::events(base..base + 5, now))
                        .unwrap();
                    assert_eq!(out.accepted, 5);
                    acked.fetch_add(5, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            let acked = acked.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                let mut rounds = 0;
                while !done.load(Ordering::SeqCst) || rounds < 3 {
                    let before = acked.load(Ordering::SeqCst);
                    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
                    let s = seqs(&snap);
                    let unique: HashSet<u64> = s.iter().copied().collect();
                    assert_eq!(unique.len(), s.len(), "an event is in two places");
                    assert!(s.len() as u64 >= before, "an acknowledged event is missing");
                    assert!(s.len() >= last, "a later snapshot lost events");
                    last = s.len();
                    rounds += 1;
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    assert_eq!(seqs(&snap), (0..1200).collect::<Vec<_>>());
    assert!(
        !snap.groups[0].segments.is_empty(),
        "small threshold should have flushed"
    );
}

#[test]
fn retention_drops_whole_expired_segments_but_not_files_a_snapshot_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let now = ow_storage::now_ms();
    store
        .import_events("g", "s", crate::events(0..5, now - 40 * DAY))
        .unwrap();
    store
        .import_events("g", "s", crate::events(5..8, now - 10 * DAY))
        .unwrap();
    store.flush().unwrap();
    let held = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    assert_eq!(held.groups[0].segments.len(), 2);
    store.put_retention_policy("g", 30).unwrap();
    assert_eq!(store.apply_retention(now).unwrap(), 1);
    assert_eq!(crate::stored_ids(&store, "g"), vec![5, 6, 7]);
    assert_eq!(store.log_group("g").unwrap().event_count, 3);
    // the snapshot taken before still reads the dropped file
    let old = held.groups[0]
        .segments
        .iter()
        .find(|s| s.max_timestamp_ms < now - 30 * DAY)
        .unwrap()
        .path
        .clone();
    assert!(old.exists());
    drop(held);
    store.maintain(now).unwrap();
    assert!(!old.exists());
    // nothing else expires at 30 days; 7 days drops the rest
    assert_eq!(store.apply_retention(now).unwrap(), 0);
    store.put_retention_policy("g", 7).unwrap();
    assert_eq!(store.apply_retention(now).unwrap(), 1);
    assert!(crate::stored_ids(&store, "g").is_empty());
}

/// All `__seq` values of a snapshot (segments read from Parquet, plus the buffer), sorted.
pub fn seqs(snap: &Snapshot) -> Vec<u64> {
    let mut out = Vec::new();
    for g in &snap.groups {
        for s in &g.segments {
            let f = std::fs::File::open(&s.path).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .unwrap()
                .build()
                .unwrap();
            for b in reader {
                let b = b.unwrap();
                let ts = b
                    .column_by_name(schema::TIMESTAMP)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .unwrap()
                    .clone();
                let col = b.column_by_name(schema::SEQ).unwrap();
                let seq = col.as_any().downcast_ref::<UInt64Array>().unwrap();
                for i in 0..seq.len() {
                    if ts.value(i) >= snap.start_ms && ts.value(i) <= snap.end_ms {
                        out.push(seq.value(i));
                    }
                }
            }
        }
        for b in &g.buffered {
            let seq = b.column(4).as_any().downcast_ref::<UInt64Array>().unwrap();
            out.extend(seq.values().iter().copied());
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn a_failed_flush_keeps_every_event_and_a_later_flush_commits_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let now = ow_storage::now_ms();
    store
        .import_events("g", "s", crate::events(0..50, now))
        .unwrap();
    // the group's segment directory cannot be created: a file is in the way
    let blocker = dir.path().join("segments/g1");
    std::fs::write(&blocker, b"not a directory").unwrap();
    assert!(store.flush().is_err());
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    assert_eq!(seqs(&snap), (0..50).collect::<Vec<_>>());
    drop(snap);
    store
        .import_events("g", "s", crate::events(50..60, now))
        .unwrap();
    std::fs::remove_file(&blocker).unwrap();
    store.flush().unwrap();
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    assert!(snap.groups[0].buffered.is_empty());
    assert_eq!(seqs(&snap), (0..60).collect::<Vec<_>>());
    drop(snap);
    drop(store);
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    assert_eq!(crate::stored_ids(&store, "g"), (0..60).collect::<Vec<_>>());
}

#[test]
fn read_events_prunes_row_groups_by_time_and_filters_streams() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        row_group_rows: 10,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let base = 1_700_000_000_000i64;
    for (stream, range) in [("a", 0..50u64), ("b", 50..100)] {
        let events: Vec<InputLogEvent> = range
            .map(|i| InputLogEvent {
                timestamp_ms: base + (i as i64 % 50) * 1000,
                message: format!(r#"{{"id":{i}}}"#),
            })
            .collect();
        store.import_events("g", stream, events).unwrap();
    }
    store.flush().unwrap();
    let got = store
        .read_events("g", None, base + 35_000, base + 44_999, None)
        .unwrap();
    assert_eq!(got.len(), 20);
    assert!(got
        .windows(2)
        .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
    let b: Vec<u64> = store
        .read_events("g", Some("b"), base + 35_000, base + 44_999, Some(3))
        .unwrap()
        .iter()
        .map(|e| crate::id_of(&e.message))
        .collect();
    assert_eq!(b, [85, 86, 87]);
}

#[test]
fn bulk_import_is_visible_at_once_and_durable_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let now = ow_storage::now_ms();
    {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        store
            .import_events("g", "a", crate::events(0..3, now))
            .unwrap();
        let out = store
            .bulk_import_streams(
                "g",
                vec![
                    ("a".into(), crate::events(3..5, now)),
                    ("b".into(), crate::events(5..6, now)),
                ],
            )
            .unwrap();
        assert_eq!(out.events, 3);
        let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
        assert_eq!(seqs(&snap), (0..6).collect::<Vec<_>>());
        assert_eq!(store.log_stream("g", "b").unwrap().event_count, 1);
        store.close().unwrap();
    }
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    assert_eq!(crate::stored_ids(&store, "g"), (0..6).collect::<Vec<_>>());
}

/// Retention and reads agree (spec api.md PutRetentionPolicy; [I] an expired event is never
/// returned, even before its lazy deletion): buffered events, a segment straddling the
/// cutoff, GetLogRecord; a flush does not write expired buffered events, and the group's
/// stored bytes / event count stop counting them.
#[test]
fn expired_events_are_never_read_from_the_buffer_or_a_straddling_segment() {
    let dir = tempfile::tempdir().unwrap();
    // one segment window for everything, so one segment straddles the cutoff
    let config = StoreConfig {
        segment_window_ms: 1_000 * DAY,
        compaction_window_ms: 1_000 * DAY,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let now = ow_storage::now_ms();
    // seq 0-2: 3 days old (expired under 1 day); 3-4: 1 day minus 10 minutes old (kept
    // for the 10 minutes this test may take); 5-6: now
    store
        .import_events("g", "s", crate::events(0..3, now - 3 * DAY))
        .unwrap();
    store
        .import_events("g", "s", crate::events(3..5, now - DAY + 600_000))
        .unwrap();
    store.flush().unwrap(); // no retention yet: one segment with seq 0-4
    store
        .import_events("g", "s", crate::events(5..7, now))
        .unwrap();
    store
        .import_events("g", "s", crate::events(7..9, now - 2 * DAY))
        .unwrap();
    let all = |store: &Store| -> Vec<u64> {
        let mut v: Vec<u64> = store
            .read_events("g", None, i64::MIN, i64::MAX, None)
            .unwrap()
            .iter()
            .map(|e| crate::id_of(&e.message))
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(all(&store), (0..9).collect::<Vec<_>>());

    store.put_retention_policy("g", 1).unwrap();
    // visible at once: 3, 4 (segment) and 5, 6 (buffer); 0-2 and 7-8 expired
    assert_eq!(all(&store), vec![3, 4, 5, 6]);
    assert_eq!(crate::stored_ids(&store, "g"), vec![3, 4, 5, 6]);
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    let g = &snap.groups[0];
    assert!(g.min_timestamp_ms > now - 3 * DAY && g.min_timestamp_ms <= now - DAY + 600_000);
    assert_eq!(g.segments.len(), 1, "the straddling segment is still read");
    let buffered: usize = g.buffered.iter().map(|b| b.num_rows()).sum();
    assert_eq!(buffered, 2);
    // GetLogRecord: seq 7 (buffer) and 0 (segment) expired, 3 and 5 not
    assert!(store.get_event("g", 7).unwrap().is_none());
    assert!(store.get_event("g", 0).unwrap().is_none());
    assert_eq!(store.get_event("g", 3).unwrap().unwrap().seq, 3);
    assert_eq!(store.get_event("g", 5).unwrap().unwrap().seq, 5);

    drop(snap);
    // a flush writes 5, 6 but not the expired 7, 8; the straddling segment stays until all
    // of it has expired
    store.flush().unwrap();
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    let rows: u64 = snap.groups[0].segments.iter().map(|s| s.row_count).sum();
    assert_eq!(rows, 5 + 2);
    assert_eq!(all(&store), vec![3, 4, 5, 6]);
    let group = store.log_group("g").unwrap();
    assert_eq!(
        group.event_count, 7,
        "expired buffered events no longer count"
    );

    // nothing expired survives a reopen (the WAL holding 7, 8 was retired by the flush)
    drop(snap);
    store.close().unwrap();
    drop(store);
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    assert_eq!(all(&store), vec![3, 4, 5, 6]);
    // a longer retention makes not-yet-deleted events visible again, as in AWS [V: deletion
    // is lazy]: 0-2 are still in the straddling segment
    store.put_retention_policy("g", 5).unwrap();
    assert_eq!(all(&store), (0..7).collect::<Vec<_>>());
}

/// Waits (up to 60 s) until `cond` holds; the flush thread runs on its own schedule.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..6000 {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// Flush by age: the store's background thread moves buffered events to segments once
/// the oldest is `flush_max_age_ms` old, with no writer involved; events stay readable
/// exactly once throughout, and the flushed WAL files are retired.
#[test]
fn background_flush_by_age_moves_the_buffer_to_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        flush_max_age_ms: Some(100),
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let now = ow_storage::now_ms();
    store
        .import_events("g", "s", crate::events(0..50, now))
        .unwrap();
    assert_eq!(crate::stored_ids(&store, "g"), (0..50).collect::<Vec<_>>());
    let flushed = eventually(|| {
        let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
        snap.groups[0].buffered.is_empty() && !snap.groups[0].segments.is_empty()
    });
    assert!(flushed, "the buffer was not flushed by age");
    assert_eq!(crate::stored_ids(&store, "g"), (0..50).collect::<Vec<_>>());
    // the flush deletes the retired WAL files just after its commit: wait for that too
    let wal_files = || std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert!(
        eventually(|| wal_files() == 1),
        "only the current WAL file remains: {} files",
        wal_files()
    );
}

/// With a long age (or none) nothing is flushed behind the writer's back.
#[test]
fn no_background_flush_before_the_age_or_when_disabled() {
    for age in [Some(3_600_000), None] {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            flush_max_age_ms: age,
            ..StoreConfig::default()
        };
        let store = Store::open(dir.path(), config).unwrap();
        let now = ow_storage::now_ms();
        store
            .import_events("g", "s", crate::events(0..5, now))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
        assert!(snap.groups[0].segments.is_empty(), "{age:?}");
        assert_eq!(
            snap.groups[0]
                .buffered
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>(),
            5
        );
    }
}

/// Writers keep writing while the background thread flushes every few ms; closing stops
/// the thread (the data directory's lock is free at once) and every acknowledged event is
/// stored exactly once, before and after a reopen.
#[test]
fn background_flush_races_writers_and_stops_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        flush_max_age_ms: Some(5),
        ..StoreConfig::default()
    };
    let store = Arc::new(Store::open(dir.path(), config).unwrap());
    let now = ow_storage::now_ms();
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for k in 0..40u64 {
                    let base = w * 10_000 + k * 10;
                    store
                        .import_events("g", "s", crate::events(base..base + 10, now))
                        .unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
    let mut want: Vec<u64> = (0..2u64)
        .flat_map(|w| w * 10_000..w * 10_000 + 400)
        .collect();
    want.sort_unstable();
    let mut got = crate::stored_ids(&store, "g");
    got.sort_unstable();
    assert_eq!(got, want);
    let segments = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap().groups[0]
        .segments
        .len();
    assert!(segments >= 1, "the background thread flushed");
    let store = Arc::try_unwrap(store).expect("only handle");
    store.close().unwrap();
    drop(store);
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let mut got = crate::stored_ids(&store, "g");
    got.sort_unstable();
    assert_eq!(got, want);
}

/// Opening a store starts a new WAL file; WAL files that hold no record are removed at
/// the next open, so read-only use (one `openwatch query` process after another) does not
/// pile up files that every later open would read. (WAL files that do hold records are
/// replayed and kept: the SIGKILL crash test reopens after every kind of torn write.)
#[test]
fn reopening_without_writes_leaves_one_wal_file() {
    let dir = tempfile::tempdir().unwrap();
    let wal_files = || std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        store
            .import_events("g", "s", crate::events(0..10, ow_storage::now_ms()))
            .unwrap();
    }
    for _ in 0..5 {
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        assert_eq!(crate::stored_ids(&store, "g"), (0..10).collect::<Vec<_>>());
    }
    assert_eq!(wal_files(), 1, "only the current WAL file remains");
}
