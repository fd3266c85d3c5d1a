//! Shared helpers: a store in a temp dir, importing events, running queries.

use std::path::PathBuf;
use std::sync::Arc;

use ow_query::{CancelToken, EngineConfig, QueryEngine, QueryError, QueryOutput, QueryRequest};
use ow_storage::{NewEvent, Store, StoreConfig};

/// A store in a temporary directory.
pub struct TestStore {
    pub dir: tempfile::TempDir,
    pub store: Arc<Store>,
}

impl TestStore {
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), StoreConfig::default()).expect("open store");
        TestStore {
            dir,
            store: Arc::new(store),
        }
    }

    /// Imports `(timestamp_ms, message)` events into `group`/`stream`.
    pub fn import(&self, group: &str, stream: &str, events: Vec<(i64, String)>) {
        self.store
            .import_events(
                group,
                stream,
                events.into_iter().map(|(t, m)| NewEvent {
                    timestamp_ms: t,
                    message: m,
                }),
            )
            .expect("import");
    }

    pub fn flush(&self) {
        self.store.flush().expect("flush");
    }

    pub fn engine(&self, lookup_dir: Option<PathBuf>) -> QueryEngine {
        let config = EngineConfig {
            lookup_dir,
            partitions: 2,
            ..EngineConfig::default()
        };
        QueryEngine::new(self.store.clone(), config)
    }
}

/// Runs `query` over `groups` and the whole time range.
pub fn run(engine: &QueryEngine, groups: &[&str], query: &str) -> Result<QueryOutput, QueryError> {
    run_range(engine, groups, query, 0, i64::MAX / 4)
}

pub fn run_range(
    engine: &QueryEngine,
    groups: &[&str],
    query: &str,
    start_ms: i64,
    end_ms: i64,
) -> Result<QueryOutput, QueryError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let req = QueryRequest {
        query: query.to_string(),
        log_groups: groups.iter().map(|g| g.to_string()).collect(),
        start_ms,
        end_ms,
        limit: None,
    };
    rt.block_on(engine.run(req, CancelToken::new()))
}

/// Rows as `(field, value)` lists without `@ptr`.
pub fn plain_rows(out: &QueryOutput) -> Vec<Vec<(String, String)>> {
    out.rows
        .iter()
        .map(|r| {
            r.iter()
                .filter(|f| f.field != "@ptr")
                .map(|f| (f.field.clone(), f.value.clone()))
                .collect()
        })
        .collect()
}

/// Path of the shared data folder.
pub fn shared_data() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
}

/// Reads a gzip NDJSON file into lines.
pub fn read_ndjson_gz(path: &std::path::Path) -> Vec<String> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
    r.lines()
        .map(|l| l.expect("line"))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Parses `eventTime` (ISO 8601) of a CloudTrail record to epoch ms.
pub fn event_time_ms(v: &serde_json::Value) -> Option<i64> {
    let t = v.get("eventTime")?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis())
}
