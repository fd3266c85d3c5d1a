//! Crash safety: SIGKILL a writing child process at random points, reopen, check that
//! every acknowledged event is present exactly once and nothing unknown appeared; and
//! torn/corrupt WAL tails.
//!
//! The child is this test binary re-executed with `OW_CRASH_CHILD_DIR` set: it runs the
//! same test function, which then plays the writer. It prints `try <ids>` before each
//! write and `ack <ids>` after the write returned.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ow_storage::{Store, StoreConfig, StoreError};

const CHILD_DIR: &str = "OW_CRASH_CHILD_DIR";
const CHILD_MODE: &str = "OW_CRASH_CHILD_MODE";
const CHILD_ITER: &str = "OW_CRASH_CHILD_ITER";

/// xorshift64*: a seeded generator so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn child_config() -> StoreConfig {
    StoreConfig {
        flush_threshold_bytes: 48 << 10,
        segment_window_ms: 2_000,
        compaction_window_ms: 60_000,
        ..StoreConfig::default()
    }
}

/// The writer role. Never returns normally in "random" mode (the parent kills it).
fn run_child(dir: &str) {
    let mode = std::env::var(CHILD_MODE).unwrap_or_default();
    let iter: u64 = std::env::var(CHILD_ITER)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let store = Arc::new(Store::open(std::path::Path::new(dir), child_config()).unwrap());
    match store.create_log_group("g", BTreeMap::new()) {
        Ok(_) | Err(StoreError::LogGroupAlreadyExists(_)) => {}
        Err(e) => panic!("{e}"),
    }
    for s in ["s0", "s1", "s2"] {
        match store.create_log_stream("g", s) {
            Ok(_) | Err(StoreError::LogStreamAlreadyExists { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    if mode == "fixed" {
        // 20 acknowledged batches of 10, no flush (threshold is far away), then wait.
        for b in 0..20u64 {
            let ids: Vec<u64> = (b * 10..b * 10 + 10).collect();
            write(&store, "s0", &ids, b % 2 == 0);
        }
        println!("done");
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut c = 0u64;
                while Instant::now() < deadline {
                    let n = 1 + (c * 7 + t) % 12;
                    let base = iter * 100_000_000 + t * 10_000_000 + c * 100;
                    let ids: Vec<u64> = (base..base + n).collect();
                    write(&store, &format!("s{t}"), &ids, !(c + t).is_multiple_of(3));
                    c += 1;
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn write(store: &Store, stream: &str, ids: &[u64], via_put: bool) {
    let list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    println!("try {list}");
    let now = ow_storage::now_ms();
    let events = ids
        .iter()
        .map(|&id| ow_storage::InputLogEvent {
            timestamp_ms: now,
            message: format!(
                r#"{{"id":{id},"pad":"{}"}}"#,
                "x".repeat((id % 50) as usize)
            ),
        })
        .collect::<Vec<_>>();
    if via_put {
        let out = store.put_log_events("g", stream, &events).unwrap();
        assert_eq!(out.accepted, ids.len());
    } else {
        store.import_events("g", stream, events).unwrap();
    }
    println!("ack {list}");
}

struct Spawned {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    first_ack: mpsc::Receiver<()>,
    reader: std::thread::JoinHandle<()>,
}

fn spawn(test: &str, dir: &std::path::Path, mode: &str, iter: u64) -> Spawned {
    let trigger = if mode == "fixed" { "done" } else { "ack " };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_MODE, mode)
        .env(CHILD_ITER, iter.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let l2 = lines.clone();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut sent = false;
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if !line.ends_with('\n') {
                break; // cut by the kill
            }
            if !sent && line.contains(trigger) {
                sent = true;
                let _ = tx.send(());
            }
            l2.lock().unwrap().push(line.trim_end().to_owned());
        }
    });
    Spawned {
        child,
        lines,
        first_ack: rx,
        reader,
    }
}

/// Kills the child with SIGKILL and returns its complete output lines.
fn kill(mut s: Spawned) -> Vec<String> {
    let _ = s.child.kill(); // SIGKILL on Unix
    let _ = s.child.wait();
    let _ = s.reader.join();
    let lines = s.lines.lock().unwrap().clone();
    lines
}

fn ids_of(lines: &[String], tag: &str) -> Vec<u64> {
    lines
        .iter()
        // libtest prints "test <name> ... " without a newline before the first line
        .filter_map(|l| l.find(tag).map(|p| &l[p + tag.len()..]))
        .flat_map(|rest| rest.split(' ').map(|n| n.parse::<u64>().unwrap()))
        .collect()
}

fn check_store(dir: &std::path::Path, acked: &HashSet<u64>, tried: &HashSet<u64>) -> usize {
    let store = Store::open(dir, child_config()).unwrap();
    let ids = crate::stored_ids(&store, "g");
    let mut seen = HashMap::new();
    for id in &ids {
        *seen.entry(*id).or_insert(0) += 1;
    }
    let dups: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(dups.is_empty(), "events stored twice: {dups:?}");
    let missing: Vec<_> = acked.iter().filter(|id| !seen.contains_key(id)).collect();
    assert!(missing.is_empty(), "acknowledged events lost: {missing:?}");
    let unknown: Vec<_> = seen.keys().filter(|id| !tried.contains(id)).collect();
    assert!(unknown.is_empty(), "events nobody wrote: {unknown:?}");
    ids.len()
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_event() {
    const NAME: &str = "crash::sigkill_at_random_points_loses_no_acknowledged_event";
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        run_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x005e_ed0f_0a7c);
    let mut acked = HashSet::new();
    let mut tried = HashSet::new();
    let mut stored = 0;
    for iter in 1..=20u64 {
        let s = spawn(NAME, dir.path(), "random", iter);
        s.first_ack
            .recv_timeout(Duration::from_secs(60))
            .expect("child acknowledged nothing");
        std::thread::sleep(Duration::from_millis(rng.below(250)));
        let lines = kill(s);
        acked.extend(ids_of(&lines, "ack "));
        tried.extend(ids_of(&lines, "try "));
        // every other round the next child recovers the crashed directory itself
        if iter % 2 == 0 || iter == 20 {
            stored = check_store(dir.path(), &acked, &tried);
        }
    }
    assert!(
        acked.len() > 100,
        "too few writes to mean anything: {}",
        acked.len()
    );
    assert!(stored >= acked.len());
    // the children flushed (and compacted) while being killed, not only appended
    let store = Store::open(dir.path(), child_config()).unwrap();
    let snap = store.snapshot(&["g"], i64::MIN, i64::MAX).unwrap();
    assert!(!snap.groups[0].segments.is_empty());
}

#[test]
fn torn_and_corrupt_wal_tails_are_detected_and_cut() {
    const NAME: &str = "crash::torn_and_corrupt_wal_tails_are_detected_and_cut";
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        run_child(&dir);
        return;
    }
    for case in ["torn", "garbage", "bitflip", "middle"] {
        let dir = tempfile::tempdir().unwrap();
        let s = spawn(NAME, dir.path(), "fixed", 0);
        s.first_ack.recv_timeout(Duration::from_secs(60)).unwrap();
        let lines = kill(s);
        assert!(
            lines.last().is_some_and(|l| l.ends_with("done")),
            "{lines:?}"
        );
        let acked: HashSet<u64> = ids_of(&lines, "ack ").into_iter().collect();
        assert_eq!(acked.len(), 200);
        let wal_dir = dir.path().join("wal");
        let mut wals: Vec<_> = std::fs::read_dir(&wal_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        wals.sort();
        let last = wals.last().unwrap().clone();
        let mut bytes = std::fs::read(&last).unwrap();
        let full_len = bytes.len();
        match case {
            // a record header announcing more bytes than follow (a write cut by a crash)
            "torn" => {
                bytes.extend_from_slice(&500u32.to_le_bytes());
                bytes.extend_from_slice(&[0xAB; 4 + 100]);
            }
            "garbage" => bytes.extend_from_slice(&[0u8; 3]),
            // flip a bit inside the last record: its checksum fails, it is cut
            "bitflip" => bytes[full_len - 3] ^= 0x10,
            // damage in a WAL file that is not the last one cannot come from a crash
            "middle" => {
                bytes[full_len - 3] ^= 0x10;
                let name = last.file_stem().unwrap().to_str().unwrap();
                let next: u64 = name.parse::<u64>().unwrap() + 1;
                std::fs::write(wal_dir.join(format!("{next:020}.wal")), b"OWWAL\0\0\x01").unwrap();
            }
            _ => unreachable!(),
        }
        std::fs::write(&last, &bytes).unwrap();
        let opened = Store::open(dir.path(), child_config());
        if case == "middle" {
            assert!(matches!(opened, Err(StoreError::Corrupt(_))), "{case}");
            continue;
        }
        let store = opened.unwrap();
        let report = store.recovery_report().clone();
        assert!(report.tail_problem.is_some(), "{case}: {report:?}");
        let ids: Vec<u64> = crate::stored_ids(&store, "g");
        let got: HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(got.len(), ids.len(), "{case}: duplicates");
        if case == "bitflip" {
            // the last batch (ids 190..200) was in the damaged record
            let want: HashSet<u64> = (0..190).collect();
            assert_eq!(got, want, "{case}");
            assert!(report.tail_problem.unwrap().contains("checksum"));
        } else {
            assert_eq!(got, acked, "{case}");
            assert_eq!(report.truncated_bytes as usize, bytes.len() - full_len);
        }
        // the file was cut back, a second open finds nothing to repair
        drop(store);
        let store = Store::open(dir.path(), child_config()).unwrap();
        assert_eq!(store.recovery_report().tail_problem, None);
        assert_eq!(crate::stored_ids(&store, "g").len(), ids.len());
    }
}
