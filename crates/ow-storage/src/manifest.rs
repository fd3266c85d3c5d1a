//! The manifest: the durable list of log groups, streams and segments.
//!
//! `manifest.json` in the data directory, replaced atomically (write `manifest.json.tmp`,
//! fsync, rename, fsync the directory). `wal_start` is the checkpoint: WAL files numbered
//! below it are fully contained in the listed segments; files from it on are replayed.
//!
//! Since format version 2 the log streams' metadata lives beside it, in the file that
//! `streams_file` names (`streams-<unique>.json`: per log group id, its streams), written and
//! fsynced before the manifest that names it, so the rename commits both; older stream
//! files are deleted after the commit (and a save deletes any a crash left). Streams are
//! most of the metadata and grow with every stream, and a store that only runs queries
//! reads the manifest without them ([`load_without_streams`]). Version 1 manifests, with
//! each group's streams inline, are read as before; the next save writes the current version.
//!
//! Version 3 (2026-11-30) has the layout of version 2; it says that segments may keep their
//! field counts in the compressed footer key and their n-gram sidecars in sidecar format 3,
//! which builds reading version 2 would take for segments without field counts (an empty
//! GetLogGroupFields) and for sidecars to ignore. A version 2 store is read as it is and
//! written as version 3 by its next save, so an older build refuses a store once this one
//! has written to it.
//!
//! A log group's `deleted_streams` are the tombstones of DeleteLogStream: WAL records of
//! that stream with `__seq` below `before_seq` are skipped on replay (the deleted events
//! were already removed from segments and the buffer when the tombstone was written). A
//! tombstone is dropped once the checkpoint passes `wal_number` (no WAL file that can
//! hold such a record remains).

use std::io::Write;
use std::path::Path;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::model::LogGroup;

/// Format version written by this build (it also reads versions 1 and 2).
pub(crate) const VERSION: u32 = 3;

/// The manifest. `S` is how a log group's streams are held: their metadata
/// (`Vec<ManifestStream>`, what a store writes and normally reads), or skipped unparsed
/// ([`IgnoredAny`], see [`load_without_streams`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest<S = Vec<ManifestStream>> {
    pub version: u32,
    pub wal_start: u64,
    pub next_group_id: u64,
    pub groups: Vec<ManifestGroup<S>>,
    /// Version 2: the file holding the groups' streams (their `streams` here are empty).
    /// In memory, after [`load`], `None` and the streams in the groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_file: Option<String>,
}

/// The streams file of version 2: each log group's streams, by group id.
#[derive(Debug, Serialize, Deserialize)]
struct StreamsFile {
    groups: Vec<(u64, Vec<ManifestStream>)>,
}

const STREAMS_PREFIX: &str = "streams-";

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            version: VERSION,
            wal_start: 1,
            next_group_id: 1,
            groups: Vec::new(),
            streams_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ManifestGroup<S = Vec<ManifestStream>> {
    pub id: u64,
    /// Derived counters (`stored_bytes`, `event_count`, first/last) are recomputed on load.
    pub meta: LogGroup,
    pub next_seq: u64,
    pub streams: S,
    pub segments: Vec<ManifestSegment>,
    /// Tombstones of deleted log streams (absent in manifests written before they existed).
    #[serde(default)]
    pub deleted_streams: Vec<StreamTombstone>,
}

/// A deleted log stream whose events may still be in WAL files from the checkpoint on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StreamTombstone {
    /// The log stream's name.
    pub name: String,
    /// Every event of the stream with `__seq` below this was deleted (the group's next
    /// `__seq` when the deletion committed; a re-created stream's events come after).
    pub before_seq: u64,
    /// The WAL file being written when the deletion committed: files numbered up to it may
    /// hold deleted events; once `wal_start` is above it the tombstone is not needed.
    pub wal_number: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ManifestStream {
    pub name: String,
    pub creation_time_ms: i64,
    /// Statistics of the stream's events that are in segments (not the WAL).
    pub stats: StreamStats,
}

/// Counters of a log stream's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StreamStats {
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub last_ingest: Option<i64>,
    pub bytes: u64,
    pub count: u64,
}

impl StreamStats {
    pub fn add(&mut self, ts: i64, ingest: i64, bytes: u64) {
        self.first_ts = Some(self.first_ts.map_or(ts, |f| f.min(ts)));
        self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
        self.last_ingest = Some(self.last_ingest.map_or(ingest, |l| l.max(ingest)));
        self.bytes += bytes;
        self.count += 1;
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ManifestSegment {
    pub object_path: String,
    pub min_ts: i64,
    pub max_ts: i64,
    pub min_seq: u64,
    pub max_seq: u64,
    pub rows: u64,
    pub bytes: u64,
    pub event_bytes: u64,
    pub columns: Vec<String>,
}

/// Reads the manifest with every group's streams; `Ok(None)` when there is none yet (a new
/// data directory).
pub(crate) fn load(dir: &Path) -> Result<Option<Manifest>> {
    let Some(mut m) = load_as::<Vec<ManifestStream>>(dir)? else {
        return Ok(None);
    };
    if m.version < 2 {
        // version 1: the streams are inline
        return Ok(Some(m));
    }
    // Versions 2 and 3: the streams file must hold exactly the manifest's groups. Anything else is
    // damage, reported rather than read as groups without streams (the next save would
    // make that loss permanent and delete the file that still had them).
    let corrupt = |what: String| StoreError::Corrupt(format!("{}: {what}", dir.display()));
    let name = m.streams_file.take().ok_or_else(|| {
        corrupt("manifest.json (version 2 or later) names no log streams file".into())
    })?;
    let path = dir.join(&name);
    let text = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => corrupt(format!(
            "manifest.json names the log streams file {name}, which is missing"
        )),
        _ => StoreError::io(&path, e),
    })?;
    let file: StreamsFile = serde_json::from_slice(&text)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
    let mut by_group: std::collections::HashMap<u64, Vec<ManifestStream>> =
        std::collections::HashMap::with_capacity(file.groups.len());
    for (id, streams) in file.groups {
        if by_group.insert(id, streams).is_some() {
            return Err(corrupt(format!("{name} lists log group id {id} twice")));
        }
    }
    for g in &mut m.groups {
        g.streams = by_group.remove(&g.id).ok_or_else(|| {
            corrupt(format!(
                "{name} has no entry for log group {} (id {})",
                g.meta.name, g.id
            ))
        })?;
    }
    if let Some(id) = by_group.keys().min() {
        return Err(corrupt(format!(
            "{name} lists log group id {id}, which manifest.json does not have"
        )));
    }
    Ok(Some(m))
}

/// Reads the manifest without the log streams' metadata (every group's `streams` is
/// empty): a store that only serves queries has no use for it, and it is most of the
/// metadata (276 KB of 288 KB with 1,335 log streams), growing with every stream. The
/// streams file of version 2 is not opened; a version 1 manifest's inline streams are
/// still scanned as JSON, to find where they end, but nothing is built from them.
pub(crate) fn load_without_streams(dir: &Path) -> Result<Option<Manifest>> {
    let Some(m) = load_as::<IgnoredAny>(dir)? else {
        return Ok(None);
    };
    Ok(Some(Manifest {
        version: m.version,
        wal_start: m.wal_start,
        next_group_id: m.next_group_id,
        groups: m
            .groups
            .into_iter()
            .map(|g| ManifestGroup {
                id: g.id,
                meta: g.meta,
                next_seq: g.next_seq,
                streams: Vec::new(),
                segments: g.segments,
                deleted_streams: g.deleted_streams,
            })
            .collect(),
        streams_file: None,
    }))
}

fn load_as<S: serde::de::DeserializeOwned>(dir: &Path) -> Result<Option<Manifest<S>>> {
    let path = dir.join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let m: Manifest<S> = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
    if !(1..=VERSION).contains(&m.version) {
        return Err(StoreError::UnsupportedFormat(format!(
            "{}: format version {} is not supported (this build reads versions 1 to {VERSION}; \
             a newer openwatch wrote it)",
            path.display(),
            m.version
        )));
    }
    Ok(Some(m))
}

/// Writes the manifest (format version [`VERSION`]) atomically and durably: first a new streams file
/// (fsynced, and the directory with it), then the manifest naming it (write, fsync, rename,
/// fsync the directory); then deletes every other streams file (older ones, or one a crash
/// left before its manifest was renamed). Until the rename, the previous manifest and its
/// streams file are the store.
pub(crate) fn save(dir: &Path, m: &Manifest) -> Result<()> {
    let mut on_disk = m.clone();
    on_disk.version = VERSION;
    let streams = StreamsFile {
        groups: on_disk
            .groups
            .iter_mut()
            .map(|g| (g.id, std::mem::take(&mut g.streams)))
            .collect(),
    };
    // never overwrite a file that may be the committed one (a clock set back could repeat
    // a name)
    let mut name = unique_streams_name();
    while dir.join(&name).exists() {
        name = unique_streams_name();
    }
    write_durably(&dir.join(&name), &streams)?;
    crate::wal::sync_dir(dir)?;
    on_disk.streams_file = Some(name.clone());
    let tmp = dir.join("manifest.json.tmp");
    let path = dir.join("manifest.json");
    write_durably(&tmp, &on_disk)?;
    std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
    crate::wal::sync_dir(dir)?;
    remove_other_streams_files(dir, &name);
    Ok(())
}

fn write_durably(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_vec(value).map_err(|e| StoreError::Internal(e.to_string()))?;
    let mut f = std::fs::File::create(path).map_err(|e| StoreError::io(path, e))?;
    f.write_all(&text).map_err(|e| StoreError::io(path, e))?;
    f.sync_all().map_err(|e| StoreError::io(path, e))
}

/// `streams-<nanoseconds since the epoch>-<counter>.json`: a name no earlier save used.
fn unique_streams_name() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{STREAMS_PREFIX}{nanos}-{n}.json")
}

/// Deletes the streams files other than `keep` (best effort: a file left here is deleted by
/// a later save and never read, since no manifest names it).
fn remove_other_streams_files(dir: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name != keep && name.starts_with(STREAMS_PREFIX) && name.ends_with(".json") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
