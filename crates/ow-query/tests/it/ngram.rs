//! Block skipping with the segments' n-gram index (`ow_query::skip`) on real CloudTrail:
//! a needle query reads only candidate blocks and returns exactly the rows of a full scan;
//! a deleted or corrupt sidecar falls back to a full read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use ow_query::scan::{event_table, Prefilter, ScanCounters, ScanRequest, ScanSegment, ScanSource};
use ow_query::skip::may_match;
use ow_storage::ngram::{sidecar_path, NgramIndex};
use ow_storage::{NewEvent, Store, StoreConfig};

use crate::common;
use crate::seed::cloudtrail_lines;

/// Every CloudTrail line of `../shared/data`, imported into group `ct` in several flushes
/// (several segments) with small `@message` pages (several blocks per segment).
fn store() -> (tempfile::TempDir, Arc<Store>, Vec<String>) {
    let lines = cloudtrail_lines();
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        message_page_bytes: 64 << 10,
        // a larger filter than the default: these blocks are small (tens of events)
        ngram_bits_per_kib: 320,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let base = 1_700_000_000_000i64;
    for (k, chunk) in lines.chunks(lines.len().div_ceil(3)).enumerate() {
        store
            .import_events(
                "ct",
                "s",
                chunk.iter().enumerate().map(|(i, l)| NewEvent {
                    // one segment window (1 day) per chunk: separate segments
                    timestamp_ms: base + k as i64 * 86_400_000 + i as i64,
                    message: l.clone(),
                }),
            )
            .unwrap();
        store.flush().unwrap();
    }
    (dir, Arc::new(store), lines)
}

/// Runs the scan alone with `prefilter` as the explicit `@message like` prefilter and returns
/// the messages it yields and its counters.
fn scan(store: &Store, prefilter: Prefilter) -> (Vec<String>, Arc<ScanCounters>) {
    let snap = store.snapshot(&["ct"], i64::MIN, i64::MAX).unwrap();
    let g = &snap.groups[0];
    let source = ScanSource {
        log_group: "ct".into(),
        account_id: g.log_group.account_id.clone(),
        segments: g
            .segments
            .iter()
            .map(|s| ScanSegment {
                path: s.path.clone(),
                min_timestamp_ms: s.min_timestamp_ms,
                max_timestamp_ms: s.max_timestamp_ms,
                handle: Some(s.clone()),
            })
            .collect(),
        buffer: g.buffered.clone(),
        min_timestamp_ms: g.min_timestamp_ms,
    };
    let request = ScanRequest {
        paths: Vec::new(),
        needs_message: true,
        start_ms: i64::MIN,
        end_ms: i64::MAX,
        prefilter: Some(prefilter),
        implied_prefilter: None,
        newest_first: true,
        pushdown: true,
        batch_rows: 8192,
    };
    let counters = Arc::new(ScanCounters::default());
    let table = event_table(
        vec![source],
        request,
        counters.clone(),
        Arc::new(AtomicBool::new(false)),
        2,
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let batches = rt.block_on(async {
        let ctx = SessionContext::new();
        ctx.read_table(Arc::new(table))
            .unwrap()
            .collect()
            .await
            .unwrap()
    });
    let mut out = Vec::new();
    for b in batches {
        let m = b
            .column_by_name("@message")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap()
            .clone();
        out.extend(m.iter().map(|v| v.unwrap().to_owned()));
    }
    out.sort();
    (out, counters)
}

/// The value of `path` in the first record from line `from` on that has one (8+ bytes).
fn pick(lines: &[String], from: usize, path: &str) -> String {
    lines[from..]
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| crate::seed::path(&v, path))
        .find(|s| s.len() >= 8)
        .unwrap_or_else(|| panic!("no {path} in the data"))
}

/// The candidate blocks of every segment according to the sidecars (read independently).
fn candidate_blocks(store: &Store, p: &Prefilter) -> (u64, u64) {
    let snap = store.snapshot(&["ct"], i64::MIN, i64::MAX).unwrap();
    let (mut total, mut kept) = (0, 0);
    for s in &snap.groups[0].segments {
        let ix = NgramIndex::load(&s.path, Some(s.row_count)).expect("sidecar");
        total += ix.blocks.len() as u64;
        kept += ix.blocks.iter().filter(|b| may_match(p, b)).count() as u64;
    }
    (total, kept)
}

#[test]
fn needle_query_reads_only_candidate_blocks_and_matches_a_full_scan() {
    let (_dir, store, lines) = store();
    let snap = store.snapshot(&["ct"], i64::MIN, i64::MAX).unwrap();
    assert!(snap.groups[0].segments.len() >= 3);
    drop(snap);
    // needles from the data: the rarest access key id, an event id; and an absent key
    let mut keys: std::collections::HashMap<String, usize> = Default::default();
    for l in &lines {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
            if let Some(k) = crate::seed::path(&v, "userIdentity.accessKeyId") {
                *keys.entry(k).or_default() += 1;
            }
        }
    }
    let key = keys
        .into_iter()
        .filter(|(k, _)| k.len() >= 16)
        .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)))
        .expect("an access key id")
        .0;
    let event_id = pick(&lines, lines.len() / 2, "eventID");
    let needles = [
        key.clone(),
        format!("\"{event_id}\""),
        "AKIA3NOTINTHEDATA7QX".to_owned(),
    ];
    for needle in &needles {
        let want: Vec<String> = {
            let mut w: Vec<String> = lines
                .iter()
                .filter(|l| l.contains(needle.as_str()))
                .cloned()
                .collect();
            w.sort();
            w
        };
        let p = Prefilter::Contains(needle.as_bytes().to_vec());
        let (got, c) = scan(&store, p.clone());
        assert_eq!(got, want, "needle {needle}");
        let (total, kept) = candidate_blocks(&store, &p);
        let considered = c.ngram_blocks_considered.load(Ordering::Relaxed);
        let skipped = c.ngram_blocks_skipped.load(Ordering::Relaxed);
        assert_eq!(considered, total, "needle {needle}");
        assert_eq!(considered - skipped, kept, "needle {needle}");
        eprintln!(
            "needle {needle}: {skipped} of {total} blocks skipped, {} matches",
            want.len()
        );
        assert!(total >= 10, "{total} blocks");
        assert!(
            skipped * 2 > total,
            "needle {needle}: only {skipped} of {total} blocks skipped"
        );
        // recordsScanned stays the number of events in range
        assert_eq!(
            c.records_scanned.load(Ordering::Relaxed),
            lines.len() as u64
        );
    }

    // through the engine: same rows as the independent scan
    let engine = ow_query::QueryEngine::new(store.clone(), ow_query::EngineConfig::default());
    let q = format!("fields @message | filter @message like '{key}' | limit 10000");
    let out = common::run(&engine, &["ct"], &q).unwrap();
    let mut got: Vec<String> = common::plain_rows(&out)
        .into_iter()
        .map(|r| r.into_iter().find(|(f, _)| f == "@message").unwrap().1)
        .collect();
    got.sort();
    let mut want: Vec<String> = lines.iter().filter(|l| l.contains(&key)).cloned().collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(out.statistics.records_scanned, lines.len() as f64);

    // combinations: Or keeps blocks of either needle, NotContains prunes nothing
    let other = pick(&lines, lines.len() / 5, "requestID");
    let or = Prefilter::Or(vec![
        Prefilter::Contains(key.as_bytes().to_vec()),
        Prefilter::Contains(other.as_bytes().to_vec()),
    ]);
    let (got, c) = scan(&store, or.clone());
    let mut want: Vec<String> = lines
        .iter()
        .filter(|l| l.contains(&key) || l.contains(&other))
        .cloned()
        .collect();
    want.sort();
    assert_eq!(got, want);
    let (_, kept) = candidate_blocks(&store, &or);
    assert_eq!(
        c.ngram_blocks_considered.load(Ordering::Relaxed)
            - c.ngram_blocks_skipped.load(Ordering::Relaxed),
        kept
    );
    let (got, c) = scan(&store, Prefilter::NotContains(key.as_bytes().to_vec()));
    assert_eq!(
        got.len(),
        lines.iter().filter(|l| !l.contains(&key)).count()
    );
    assert_eq!(c.ngram_blocks_skipped.load(Ordering::Relaxed), 0);
}

#[test]
fn deleted_or_corrupt_sidecar_falls_back_to_a_full_read() {
    let (_dir, store, lines) = store();
    let needle = pick(&lines, lines.len() / 3, "eventID");
    let mut want: Vec<String> = lines
        .iter()
        .filter(|l| l.contains(&needle))
        .cloned()
        .collect();
    want.sort();
    assert!(!want.is_empty());
    let p = Prefilter::Contains(needle.as_bytes().to_vec());
    let (got, c) = scan(&store, p.clone());
    assert_eq!(got, want);
    assert!(c.ngram_blocks_skipped.load(Ordering::Relaxed) > 0);

    let snap = store.snapshot(&["ct"], i64::MIN, i64::MAX).unwrap();
    let segs: Vec<_> = snap.groups[0]
        .segments
        .iter()
        .map(|s| s.path.clone())
        .collect();
    drop(snap);
    // corrupt one sidecar (one flipped byte in a filter), delete another
    let side0 = sidecar_path(&segs[0]);
    let mut bytes = std::fs::read(&side0).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&side0, &bytes).unwrap();
    std::fs::remove_file(sidecar_path(&segs[1])).unwrap();
    let (got, c) = scan(&store, p.clone());
    assert_eq!(got, want);
    let only_third = NgramIndex::load(&segs[2], None).unwrap().blocks.len() as u64;
    assert_eq!(
        c.ngram_blocks_considered.load(Ordering::Relaxed),
        only_third
    );
    // every sidecar gone: a plain full read, same rows
    for s in &segs {
        let _ = std::fs::remove_file(sidecar_path(s));
    }
    let (got, c) = scan(&store, p);
    assert_eq!(got, want);
    assert_eq!(c.ngram_blocks_considered.load(Ordering::Relaxed), 0);
    assert_eq!(
        c.records_scanned.load(Ordering::Relaxed),
        lines.len() as u64
    );
}
