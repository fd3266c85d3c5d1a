//! The n-gram index sidecar: soundness (property test), format, and lifecycle with its
//! segment (flush, compaction, retention, DeleteLogStream, DeleteLogGroup, recovery).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ow_storage::ngram::{sidecar_path, NgramIndex, SIDECAR_SUFFIX};
use ow_storage::{NewEvent, Store, StoreConfig};
use proptest::prelude::*;

/// Every file under `segments/`.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir.join("segments")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).unwrap() {
                out.insert(f.unwrap().path());
            }
        }
    }
    out
}

/// Asserts the files on disk are exactly the live segments of `groups` and one valid
/// sidecar per segment (no orphan, none missing), each describing its segment's rows.
fn assert_sidecars_match(store: &Store, dir: &Path, groups: &[&str]) -> usize {
    let mut want = BTreeSet::new();
    let mut segments = 0;
    if !groups.is_empty() {
        let snap = store.snapshot(groups, i64::MIN, i64::MAX).unwrap();
        for g in &snap.groups {
            for s in &g.segments {
                segments += 1;
                let ix = NgramIndex::load(&s.path, Some(s.row_count))
                    .unwrap_or_else(|| panic!("no valid sidecar for {}", s.path.display()));
                assert_eq!(ix.row_count, s.row_count);
                want.insert(s.path.clone());
                want.insert(sidecar_path(&s.path));
            }
        }
    }
    assert_eq!(files(dir), want);
    segments
}

fn msg_events(range: std::ops::Range<u64>, ts: i64, stream_tag: &str) -> Vec<NewEvent> {
    range
        .map(|i| NewEvent {
            timestamp_ms: ts + i as i64,
            message: format!(
                r#"{{"id":{i},"stream":"{stream_tag}","key":"AKIA{:016X}","pad":"{}"}}"#,
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                "x".repeat((i % 50) as usize)
            ),
        })
        .collect()
}

fn config() -> StoreConfig {
    StoreConfig {
        flush_threshold_bytes: 16 << 10,
        // small pages: several index blocks per segment
        message_page_bytes: 4 << 10,
        ..StoreConfig::default()
    }
}

#[test]
fn sidecars_follow_segments_through_flush_compaction_retention_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), config()).unwrap();
    let now = ow_storage::now_ms();
    let old = now - 10 * 86_400_000;
    for k in 0..6u64 {
        store
            .import_events("g", "a", msg_events(k * 200..k * 200 + 200, old, "a"))
            .unwrap();
        store
            .import_events(
                "g",
                "b",
                msg_events(k * 200..k * 200 + 200, now - 60_000, "b"),
            )
            .unwrap();
        store.flush().unwrap();
        assert_sidecars_match(&store, dir.path(), &["g"]);
    }
    // several blocks per segment
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    let s = &snap.groups[0].segments[0];
    let ix = NgramIndex::load(&s.path, Some(s.row_count)).unwrap();
    assert!(ix.blocks.len() > 1, "{} blocks", ix.blocks.len());
    drop(snap);

    // compaction (small segments merge after each flush; force one more round)
    store.compact().unwrap();
    assert_sidecars_match(&store, dir.path(), &["g"]);

    // DeleteLogStream rewrites the segments holding stream b
    store.delete_log_stream("g", "b").unwrap();
    let n = assert_sidecars_match(&store, dir.path(), &["g"]);
    assert!(n > 0);

    // retention drops the old segments (stream a, 10 days old)
    store.put_retention_policy("g", 1).unwrap();
    assert!(store.apply_retention(now).unwrap() > 0);
    assert_sidecars_match(&store, dir.path(), &["g"]);

    // a new group, then log group deletion
    store
        .import_events("h", "s", msg_events(0..300, now, "h"))
        .unwrap();
    store.flush().unwrap();
    assert!(assert_sidecars_match(&store, dir.path(), &["g", "h"]) > 0);
    store.delete_log_group("h").unwrap();
    store.delete_log_group("g").unwrap();
    assert_sidecars_match(&store, dir.path(), &[]);
}

#[test]
fn recovery_removes_orphan_sidecars_and_keeps_listed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let seg = {
        let store = Store::open(dir.path(), config()).unwrap();
        store
            .import_events(
                "g",
                "s",
                msg_events(0..100, ow_storage::now_ms() - 1000, "s"),
            )
            .unwrap();
        store.flush().unwrap();
        let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
        snap.groups[0].segments[0].path.clone()
    };
    let orphan = seg.with_file_name(format!("1-2-3-dead.parquet{SIDECAR_SUFFIX}"));
    std::fs::write(&orphan, b"stray").unwrap();
    let store = Store::open(dir.path(), config()).unwrap();
    assert!(!orphan.exists());
    assert!(sidecar_path(&seg).exists());
    // a sidecar is not counted as an orphan segment
    assert_eq!(store.recovery_report().orphan_segments_removed, 0);
    assert_sidecars_match(&store, dir.path(), &["g"]);
}

#[test]
fn sidecar_header_rejects_damage() {
    let msgs: Vec<&[u8]> = vec![b"hello world", b"AKIAEXAMPLE", b"abc"];
    let ix = NgramIndex::build(&msgs, &[0, 2], 40);
    let bytes = ix.encode();
    assert_eq!(NgramIndex::decode(&bytes).unwrap(), ix);
    assert_eq!(ix.blocks.len(), 2);
    assert_eq!(ix.blocks[1].rows, 1);
    assert_eq!(ix.blocks[0].message_bytes, 22);
    // every single-byte change and every truncation is detected
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        assert!(NgramIndex::decode(&b).is_err(), "flip at {i} accepted");
        assert!(
            NgramIndex::decode(&bytes[..i]).is_err(),
            "truncation at {i}"
        );
    }
    // a block of messages shorter than 4 bytes holds no literal of 4 bytes or more
    assert!(!ix.blocks[1].may_contain(b"abcd"));
    assert!(ix.blocks[1].may_contain(b"abc"));
    assert!(ix.blocks[0].may_contain(b"o wor"));
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    // a small alphabet so literals taken at random often occur in other messages too
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'b', b'c', b'"', b'\\', b'{', b':', 0xC3, 0xA9]),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The index never excludes a block holding a match, whatever the filter size.
    #[test]
    fn index_never_excludes_a_block_with_a_match(
        msgs in prop::collection::vec(message(), 1..60),
        starts in prop::collection::vec(0u64..60, 0..8),
        bits_per_kib in prop::sample::select(vec![1u64, 8, 40, 400, 5000]),
        picks in prop::collection::vec((0usize..60, 0usize..40, 0usize..12), 1..10),
        random in prop::collection::vec(message(), 1..5),
    ) {
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let ix = NgramIndex::decode(&NgramIndex::build(&refs, &starts, bits_per_kib).encode())
            .expect("round trip");
        prop_assert_eq!(ix.row_count, msgs.len() as u64);
        let mut literals: Vec<Vec<u8>> = random;
        for (m, at, len) in picks {
            let m = &msgs[m % msgs.len()];
            let at = at.min(m.len());
            let end = (at + len).min(m.len());
            literals.push(m[at..end].to_vec());
        }
        for lit in &literals {
            for b in &ix.blocks {
                let rows = &refs[b.first_row as usize..(b.first_row + b.rows) as usize];
                let hit = rows.iter().any(|m| memchr::memmem::find(m, lit).is_some());
                if hit {
                    prop_assert!(b.may_contain(lit), "block {} excludes {:?}", b.first_row, lit);
                }
            }
        }
    }
}
