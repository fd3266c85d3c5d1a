//! Integration tests of `ow-storage` (one test binary: linking is slow).

mod crash;
mod delete_stream;
mod metadata;
mod ngram;
mod read_only;
mod segments;
mod write_path;

use ow_storage::{InputLogEvent, Store, StoreConfig};

/// A store config that flushes often, so that tests cross segment boundaries.
pub fn small_config() -> StoreConfig {
    StoreConfig {
        flush_threshold_bytes: 16 << 10,
        ..StoreConfig::default()
    }
}

/// Events with messages `{"id":<id>,...}` at `ts`.
pub fn events(ids: std::ops::Range<u64>, ts: i64) -> Vec<InputLogEvent> {
    ids.map(|id| InputLogEvent {
        timestamp_ms: ts,
        message: format!(r#"{{"id":{id},"eventName":"E{}","n":{}}}"#, id % 7, id * 3),
    })
    .collect()
}

/// `id` of every stored event of `group` (any time), in (timestamp, seq) order.
pub fn stored_ids(store: &Store, group: &str) -> Vec<u64> {
    store
        .read_events(group, None, i64::MIN, i64::MAX, None)
        .unwrap()
        .iter()
        .map(|e| id_of(&e.message))
        .collect()
}

/// The `id` field of a test message.
pub fn id_of(message: &str) -> u64 {
    let ex = ow_storage::fields::PathExtractor::new(["id"], 200);
    ex.extract(message)[0]
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {message}"))
}
