//! Parquet segments: writing (sorted, zstd, promoted columns, field counts) and reading.
//!
//! A segment holds the core columns of [`crate::schema::core_schema`] followed by the
//! promoted columns chosen for that segment. Row groups follow each other in
//! (`@timestamp`, `__seq`) order and carry min/max statistics; inside a row group the rows
//! are ordered by `@message` bytes ([`StoreConfig::cluster_rows_by_message`], for
//! compression), or by (`@timestamp`, `__seq`) when that is off, and then the file
//! declares that sort order. The file's
//! key/value metadata holds `openwatch.field_counts`: the number of events in which each
//! flattened field path appears (for GetLogGroupFields).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, StringBuilder, UInt64Array,
};
use arrow::compute::interleave_record_batch;
use arrow::datatypes::{Field, Schema};
use bytes::Bytes;
use parking_lot::Mutex;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::{KeyValue, PageIndexPolicy, ParquetMetaDataReader, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::config::StoreConfig;
use crate::error::{Result, StoreError};
use crate::fields::{flatten_with, JsonScalar};
use crate::hash::{FxHashMap, FxHashSet};
use crate::ngram::common_prefix_len;
use crate::ngram::NgramIndex;
use crate::parsed::{FieldNames, Leaf, ParsedBySeq};
use crate::schema::{self, core_schema};
use crate::snapshot::SegmentInfo;

/// Key of the field-count metadata in the Parquet footer, as JSON text (segments written
/// before 2026-11-30; still read).
pub(crate) const FIELD_COUNTS_KEY: &str = "openwatch.field_counts";

/// Key of the field-count metadata in the Parquet footer, as the same JSON compressed with
/// zstd and encoded in standard base64 (the footer is not compressed: the JSON of a
/// CloudTrail segment's ~1,000 paths was 28 KB, a fifth of a percent of the segment).
pub(crate) const FIELD_COUNTS_ZSTD_KEY: &str = "openwatch.field_counts.zstd";

/// zstd level of the field counts: they are small, written once per segment.
const FIELD_COUNTS_LEVEL: i32 = 9;

/// The [`FIELD_COUNTS_ZSTD_KEY`] value of field counts' JSON text.
fn compress_field_counts(json: &str) -> Result<String> {
    use base64::Engine as _;
    let z = zstd::bulk::compress(json.as_bytes(), FIELD_COUNTS_LEVEL).map_err(internal)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(z))
}

/// The JSON text of a [`FIELD_COUNTS_ZSTD_KEY`] value; `None` if it is not base64 of zstd
/// of UTF-8 text of at most 64 MiB.
fn decompress_field_counts(value: &str) -> Option<String> {
    use base64::Engine as _;
    let z = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    let json = zstd::bulk::decompress(&z, 64 << 20).ok()?;
    String::from_utf8(json).ok()
}

/// Shared ownership of a segment file. When compaction or retention drops a segment,
/// it marks the handle obsolete; the file is queued for deletion when the last handle
/// (the store's or a snapshot's) goes away.
pub(crate) struct SegmentHandle {
    pub info: SegmentInfo,
    obsolete: AtomicBool,
    garbage: Arc<Mutex<Vec<String>>>,
    /// What a reader keeps of the file between queries (see [`crate::SegmentRef::reader_cache`]):
    /// dropped with the handle, before the file is deleted.
    pub reader_cache: std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for SegmentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentHandle")
            .field("info", &self.info)
            .field("obsolete", &self.obsolete)
            .field("reader_cache", &self.reader_cache.get().is_some())
            .finish_non_exhaustive()
    }
}

impl SegmentHandle {
    pub fn new(info: SegmentInfo, garbage: Arc<Mutex<Vec<String>>>) -> Self {
        SegmentHandle {
            info,
            obsolete: AtomicBool::new(false),
            garbage,
            reader_cache: std::sync::OnceLock::new(),
        }
    }

    pub fn mark_obsolete(&self) {
        self.obsolete.store(true, Ordering::SeqCst);
    }
}

impl Drop for SegmentHandle {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::SeqCst) {
            self.garbage.lock().push(self.info.object_path.clone());
        }
    }
}

/// A segment encoded in memory, ready to be stored.
pub(crate) struct EncodedSegment {
    pub bytes: Bytes,
    pub info: SegmentInfo,
    /// The segment's n-gram index sidecar ([`crate::ngram`]), unless disabled.
    pub ngram: Option<Vec<u8>>,
}

/// The rows of the segments that a flush, a compaction or a rewrite writes out of
/// `batches` (core columns), as (batch, row) pairs, one list per segment, in segment row
/// order:
/// - rows with `@timestamp` < `min_timestamp_ms` are left out (retention of buffered
///   events; `i64::MIN` keeps all);
/// - the rest, in (`@timestamp`, `__seq`) order, are cut into one run per `window_ms`
///   window of `@timestamp` (`None`: one run);
/// - with [`StoreConfig::cluster_rows_by_message`], each run is reordered chunk by chunk
///   (`row_group_rows` rows, so every row group keeps the time range it would have had)
///   by `@message` bytes, ties in time order: events of one kind end up side by side,
///   which is what zstd's window needs (on generated CloudTrail the `@message` pages
///   compress about 1.35 times smaller, and faster).
///
/// Only the order is computed here; [`gather`] then copies each segment's rows once.
pub(crate) fn plan_segments(
    batches: &[RecordBatch],
    min_timestamp_ms: i64,
    window_ms: Option<i64>,
    config: &StoreConfig,
) -> Result<Vec<Vec<(usize, usize)>>> {
    let mut keys: Vec<(i64, u64, usize, usize)> = Vec::new();
    let mut messages: Vec<&StringArray> = Vec::with_capacity(batches.len());
    for (b, batch) in batches.iter().enumerate() {
        let col = |i: usize| batch.column(i).as_any();
        let (Some(ts), Some(msg), Some(seq)) = (
            col(0).downcast_ref::<Int64Array>(),
            col(3).downcast_ref::<StringArray>(),
            col(4).downcast_ref::<UInt64Array>(),
        ) else {
            return Err(internal("unexpected core column types"));
        };
        messages.push(msg);
        keys.extend(
            ts.values()
                .iter()
                .zip(seq.values().iter())
                .enumerate()
                .filter(|(_, (&t, _))| t >= min_timestamp_ms)
                .map(|(r, (&t, &q))| (t, q, b, r)),
        );
    }
    // Events usually arrive in time order (imports of time-ordered files, live logs):
    // then there is nothing to reorder.
    if !keys
        .windows(2)
        .all(|w| (w[0].0, w[0].1) <= (w[1].0, w[1].1))
    {
        keys.sort_unstable_by_key(|&(t, q, _, _)| (t, q));
    }
    let mut runs: Vec<&[(i64, u64, usize, usize)]> = Vec::new();
    match window_ms {
        Some(w) => {
            let w = w.max(1);
            let mut rest = &keys[..];
            while let Some(&(t0, ..)) = rest.first() {
                let n = rest
                    .iter()
                    .position(|&(t, ..)| t.div_euclid(w) != t0.div_euclid(w))
                    .unwrap_or(rest.len());
                runs.push(&rest[..n]);
                rest = &rest[n..];
            }
        }
        None if !keys.is_empty() => runs.push(&keys[..]),
        None => {}
    }
    let chunk = config.row_group_rows.max(1);
    Ok(runs
        .into_iter()
        .map(|run| {
            let mut order: Vec<u32> = (0..run.len() as u32).collect();
            if config.cluster_rows_by_message {
                let text = |i: u32| {
                    let (_, _, b, r) = run[i as usize];
                    messages[b].value(r).as_bytes()
                };
                for part in order.chunks_mut(chunk) {
                    sort_by_bytes(part, &text);
                }
            }
            order
                .into_iter()
                .map(|i| {
                    let (_, _, b, r) = run[i as usize];
                    (b, r)
                })
                .collect()
        })
        .collect())
}

/// Sorts `order` by `text(i)` bytes, ties by `i`: the order of
/// `order.sort_by(|&x, &y| text(x).cmp(text(y)).then(x.cmp(&y)))`, computed as a most
/// significant digit radix sort with 8-byte digits. A comparison sort touches two messages
/// at random per comparison (about 16 per row for a row group), and the misses made it
/// a tenth of an import's time; here every pass reads each message once, skipping first
/// the prefix a run shares (CloudTrail records share their first 40 or so bytes).
fn sort_by_bytes<'t>(order: &mut [u32], text: &impl Fn(u32) -> &'t [u8]) {
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(order.len());
    // runs (start, end, depth, passes) left to sort, whose texts share their first `depth`
    // bytes; a work list, not recursion: hostile texts can nest a run in a run thousands
    // deep. A run still unresolved after RADIX_PASSES passes (texts alike over long
    // stretches, differing a little at a time: each pass would peel off only a few) is
    // compared instead, so the radix passes never cost more than a bounded multiple of the
    // comparison sort.
    const RADIX_PASSES: usize = 16;
    let mut work: Vec<(usize, usize, usize, usize)> = vec![(0, order.len(), 0, 0)];
    while let Some((lo, hi, mut depth, passes)) = work.pop() {
        let run = &mut order[lo..hi];
        if run.len() < 2 {
            continue;
        }
        if run.len() <= 16 || passes >= RADIX_PASSES {
            // small runs: compare (the shared prefix is skipped)
            run.sort_unstable_by(|&x, &y| {
                let (a, b) = (text(x), text(y));
                a.get(depth..)
                    .unwrap_or_default()
                    .cmp(b.get(depth..).unwrap_or_default())
                    .then(x.cmp(&y))
            });
            continue;
        }
        // skip the prefix every text of the run shares past `depth`
        let first = text(run[0]);
        let mut shared = first.len().saturating_sub(depth);
        for &i in &run[1..] {
            let a = first.get(depth..depth + shared).unwrap_or_default();
            shared = common_prefix_len(a, text(i).get(depth..).unwrap_or_default());
            if shared == 0 {
                break;
            }
        }
        depth += shared;
        keyed.clear();
        keyed.extend(run.iter().map(|&i| (digit(text(i), depth), i)));
        keyed.sort_unstable();
        for (slot, &(_, i)) in run.iter_mut().zip(keyed.iter()) {
            *slot = i;
        }
        // Within a run of equal digits, a text that ends inside the digit is a prefix of
        // every longer one (the padding zeros equal their bytes): those come first, by
        // length then index; the longer ones are sorted on the next digit.
        let next = depth + 8;
        let mut start = 0;
        while start < keyed.len() {
            let d = keyed[start].0;
            let end = start + keyed[start..].iter().take_while(|k| k.0 == d).count();
            if end - start > 1 {
                let part = &mut run[start..end];
                let ended = part.iter().filter(|&&i| text(i).len() <= next).count();
                if ended > 0 {
                    let mut short: Vec<u32> = Vec::with_capacity(ended);
                    let mut long: Vec<u32> = Vec::with_capacity(part.len() - ended);
                    for &i in part.iter() {
                        if text(i).len() <= next {
                            short.push(i);
                        } else {
                            long.push(i);
                        }
                    }
                    short.sort_unstable_by_key(|&i| (text(i).len(), i));
                    part[..ended].copy_from_slice(&short);
                    part[ended..].copy_from_slice(&long);
                }
                work.push((lo + start + ended, lo + end, next, passes + 1));
            }
            start = end;
        }
    }
}

/// The 8 bytes of `s` from `depth` as a big-endian number (zero bytes past the end).
fn digit(s: &[u8], depth: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(rest) = s.get(depth..) {
        let n = rest.len().min(8);
        w[..n].copy_from_slice(&rest[..n]);
    }
    u64::from_be_bytes(w)
}

/// The rows `rows` ((batch, row) pairs, from [`plan_segments`]) of `batches` as one
/// batch: a zero-copy slice when they are one contiguous run of one batch, else one copy.
pub(crate) fn gather(batches: &[RecordBatch], rows: &[(usize, usize)]) -> Result<RecordBatch> {
    if let Some(&(b, r0)) = rows.first() {
        let contiguous = rows
            .iter()
            .enumerate()
            .all(|(i, &(bi, ri))| bi == b && ri == r0 + i);
        if contiguous {
            return Ok(batches[b].slice(r0, rows.len()));
        }
    }
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    interleave_record_batch(&refs, rows).map_err(internal)
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Leaves importers parsed for rows of a segment being written ([`crate::parsed`]).
#[derive(Clone, Copy)]
pub(crate) struct Parsed<'a> {
    /// The leaves, by `__seq`.
    pub by_seq: &'a ParsedBySeq,
    /// The names of their path ids.
    pub names: &'a FieldNames,
}

/// Field discovery over one segment: per-path event counts and the values of each event.
struct Discovery {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    counts: Vec<u64>,
    last_event: Vec<u32>,
    /// (event, path id, start, len | ARENA bit): value text in the message or the arena.
    values: Vec<(u32, u32, u32, u32)>,
    arena: String,
    /// Some path was not tracked: the segment has more than `max_field_stats_paths`.
    untracked: bool,
}

const ARENA: u32 = 1 << 31;

/// Values of a path that [`Discovery::identifier_like`] samples per segment (evenly strided).
const IDENTIFIER_SAMPLE: usize = 16_384;

/// Field discovery sizes its vector of values from this many first events.
const VALUES_SAMPLE: usize = 256;

impl Discovery {
    /// Discovers the fields of every event of `messages` (`seqs`: their `__seq`), from the
    /// leaves an importer parsed where `parsed` has them, else by parsing the message.
    fn run(
        messages: &StringArray,
        seqs: &UInt64Array,
        parsed: Parsed<'_>,
        config: &StoreConfig,
    ) -> Discovery {
        let mut d = Discovery {
            ids: FxHashMap::default(),
            names: Vec::new(),
            counts: Vec::new(),
            last_event: Vec::new(),
            values: Vec::new(),
            arena: String::new(),
            untracked: false,
        };
        // segment id of each store path id met so far ([`crate::parsed::FieldNames`])
        let mut by_store_id: Vec<u32> = Vec::new();
        for ev in 0..messages.len() {
            let msg = messages.value(ev);
            let mark = d.values.len();
            let ev32 = ev as u32;
            if ev == VALUES_SAMPLE.min(messages.len()) {
                // One reservation from the first events' fields, instead of growing (and
                // copying) the vector of all values a dozen times. Capped at one value per
                // 16 bytes of the remaining text (the reservation then stays under the size
                // of the messages), since first events can be far wider than the rest.
                let per_event = d.values.len() / ev.max(1) + 1;
                let rest = messages.len() - ev;
                let offsets = messages.value_offsets();
                let text = offsets[messages.len()] - offsets[ev];
                let cap = usize::try_from(text).unwrap_or(0) / 16;
                d.values.reserve((rest * per_event * 9 / 8).min(cap));
            }
            let leaves = if parsed.by_seq.is_empty() || ev >= seqs.len() {
                None
            } else {
                parsed.by_seq.get(seqs.value(ev))
            };
            let arena_mark = d.arena.len();
            let from_leaves = leaves.is_some_and(|leaves| {
                d.add_leaves(
                    ev32,
                    msg.len(),
                    leaves,
                    &mut by_store_id,
                    parsed.names,
                    config,
                )
            });
            let ok = from_leaves || {
                d.values.truncate(mark);
                d.arena.truncate(arena_mark);
                d.add_parsed(ev32, msg, config)
            };
            if !ok {
                d.values.truncate(mark);
                continue;
            }
            for &(_, id, _, _) in &d.values[mark..] {
                let i = id as usize;
                if d.last_event[i] != ev32 {
                    d.last_event[i] = ev32;
                    d.counts[i] += 1;
                }
            }
        }
        d
    }

    /// The segment id of `path`, added on first sight; `None` past
    /// `config.max_field_stats_paths` paths (the path is then not tracked).
    fn path_id(&mut self, path: &str, config: &StoreConfig) -> Option<u32> {
        if let Some(&id) = self.ids.get(path) {
            return Some(id);
        }
        if self.names.len() >= config.max_field_stats_paths {
            self.untracked = true;
            return None;
        }
        let id = self.names.len() as u32;
        self.ids.insert(path.into(), id);
        self.names.push(path.into());
        self.counts.push(0);
        self.last_event.push(u32::MAX);
        Some(id)
    }

    /// Parses event `ev`'s message `msg` and records its values; `false` when it has no
    /// fields (its values recorded so far are the caller's to drop).
    fn add_parsed(&mut self, ev: u32, msg: &str, config: &StoreConfig) -> bool {
        let arena_mark = self.arena.len();
        let base = msg.as_ptr() as usize;
        let ok = flatten_with(msg, config.max_fields_per_event, |path, v| {
            let Some(id) = self.path_id(path, config) else {
                return;
            };
            let inside = |s: &str| {
                let p = s.as_ptr() as usize;
                p >= base && p + s.len() <= base + msg.len()
            };
            let (start, len) = match &v {
                JsonScalar::String(std::borrow::Cow::Borrowed(s))
                | JsonScalar::Number(std::borrow::Cow::Borrowed(s))
                    if inside(s) =>
                {
                    ((s.as_ptr() as usize - base) as u32, s.len() as u32)
                }
                other => match other.as_text() {
                    Some(t) => {
                        let start = self.arena.len() as u32;
                        self.arena.push_str(&t);
                        (start, t.len() as u32 | ARENA)
                    }
                    // null: counted as a field, no value
                    None => (0, u32::MAX),
                },
            };
            self.values.push((ev, id, start, len));
        });
        if !ok {
            self.arena.truncate(arena_mark);
        }
        ok
    }

    /// Records event `ev`'s values from the leaves an importer parsed (the same values
    /// [`Discovery::add_parsed`] finds: a test compares the segments). `false` (parse it
    /// instead) when a leaf does not fit the message or its path id is unknown.
    fn add_leaves(
        &mut self,
        ev: u32,
        msg_len: usize,
        leaves: &[Leaf],
        by_store_id: &mut Vec<u32>,
        names: &FieldNames,
        config: &StoreConfig,
    ) -> bool {
        const UNSEEN: u32 = u32::MAX;
        const UNTRACKED: u32 = u32::MAX - 1;
        for leaf in leaves {
            let sid = leaf.path as usize;
            if sid >= by_store_id.len() {
                by_store_id.resize(sid + 1, UNSEEN);
            }
            let mut id = by_store_id[sid];
            if id == UNSEEN {
                let Some(name) = names.name(leaf.path) else {
                    return false;
                };
                id = self.path_id(&name, config).unwrap_or(UNTRACKED);
                by_store_id[sid] = id;
            }
            if id == UNTRACKED {
                self.untracked = true;
                continue;
            }
            let (start, len) = match leaf.len {
                Leaf::NULL => (0, u32::MAX),
                // as `add_parsed` keeps them: the text in the arena
                Leaf::TRUE | Leaf::FALSE => {
                    let t = if leaf.len == Leaf::TRUE {
                        "true"
                    } else {
                        "false"
                    };
                    let start = self.arena.len() as u32;
                    self.arena.push_str(t);
                    (start, t.len() as u32 | ARENA)
                }
                len => {
                    if leaf.start as usize + len as usize > msg_len {
                        return false;
                    }
                    (leaf.start, u32::from(len))
                }
            };
            self.values.push((ev, id, start, len));
        }
        true
    }

    /// Paths to promote, most frequent first, capped at `config.max_promoted_columns`:
    /// - a path present in >= `config.promote_min_fraction` of the rows and not
    ///   identifier-like (see [`Discovery::identifier_like`]);
    /// - a path the log group already has as a column (`known`, see
    ///   `Store::known_columns`) that is absent from this segment: an all-null column, which
    ///   costs a few bytes and tells a scan there is nothing to parse for it;
    /// - in a segment of fewer than [`IDENTIFIER_SAMPLE`] rows, a known path present at all,
    ///   without the identifier test: that test's distinct fraction depends on the sample's
    ///   size, and a small sample makes repeated values (principal ARNs) look unique.
    ///   A day's first events, cut off by the time window, once kept `userIdentity.arn` in
    ///   `@message` for 2,264 rows, and every query on it decoded `@message` pages there;
    /// - in any segment, a known path present in >= `config.promote_min_fraction` of the rows
    ///   but with fewer values than the identifier test samples ([`IDENTIFIER_SAMPLE`]):
    ///   fewer values look more distinct, so the test flipped with segment size (the 1 GB
    ///   benchmark kept `requestParameters.roleSessionName`, 11 % of events, in `@message`
    ///   in its 3 smallest segments, and a query on it decoded their whole `@message`).
    ///   A path with more values decides alone: a rule of "once a column, always a
    ///   column" made the 1 GB benchmark store 1.1 % larger (borderline columns such as
    ///   `resources.0.ARN`, which still follows its group in segments where it has fewer
    ///   values than that; this rule made that store 465 KB, 0.28 %, larger).
    ///
    /// Known paths absent from the segment are added to `self` with a count of 0.
    /// [I] Our rule (AWS stores no columns).
    fn promoted(
        &mut self,
        rows: usize,
        messages: &StringArray,
        config: &StoreConfig,
        known: &HashSet<String>,
    ) -> Vec<u32> {
        let min = ((rows as f64) * config.promote_min_fraction)
            .ceil()
            .max(1.0) as u64;
        // Past the cap on tracked paths, a path missing from `ids` may still occur: it gets
        // no all-null column (which would hide its values from queries).
        let mut absent: Vec<&String> = known
            .iter()
            .filter(|p| !self.untracked && !self.ids.contains_key(p.as_str()))
            .collect();
        absent.sort();
        for p in absent {
            let id = self.names.len() as u32;
            self.ids.insert(p.as_str().into(), id);
            self.names.push(p.as_str().into());
            self.counts.push(0);
            self.last_event.push(u32::MAX);
        }
        let small = rows < IDENTIFIER_SAMPLE;
        // known paths promoted without the tests: absent ones, all in a small segment, and
        // frequent ones whose values are too few for the identifier test to judge alike in
        // every segment (fewer than it samples)
        let follows_group = |i: u32| {
            let count = self.counts[i as usize];
            known.contains(&*self.names[i as usize])
                && (small || count == 0 || (count >= min && count < IDENTIFIER_SAMPLE as u64))
        };
        let mut ids: Vec<u32> = (0..self.names.len() as u32)
            .filter(|&i| self.counts[i as usize] >= min && !follows_group(i))
            .filter(|&i| !schema::is_core_column(&self.names[i as usize]))
            .collect();
        let unique = self.identifier_like(&ids, messages);
        ids.retain(|i| !unique.contains(i));
        ids.extend(
            (0..self.names.len() as u32)
                .filter(|&i| follows_group(i) && !schema::is_core_column(&self.names[i as usize])),
        );
        ids.sort_by(|&a, &b| {
            self.counts[b as usize]
                .cmp(&self.counts[a as usize])
                .then_with(|| self.names[a as usize].cmp(&self.names[b as usize]))
        });
        ids.truncate(config.max_promoted_columns);
        ids
    }

    /// Candidates whose values look like identifiers: in an evenly strided sample of up to
    /// 16,384 of the segment's values, more than half are distinct and they average 16 bytes
    /// or more (request ids, event ids, session tokens, timestamps as text). Such a column
    /// compresses poorly, duplicates `@message`, and no `stats … by` groups on it; reading
    /// it from `@message` is cheap enough. Repeated long values (principal ARNs, access key
    /// ids, user agents) are NOT identifier-like: they dictionary-encode well and are what
    /// threat hunters filter and group on. The sample is strided over the whole segment, not
    /// its first values, because a time-sorted prefix overstates distinctness (it kept
    /// `userIdentity.arn` out). Measured on 1 GB of generated CloudTrail: a 90 % bar instead
    /// of 50 % promotes another ~9 MB of near-unique columns (creation dates, resource ARNs,
    /// error messages) for little query benefit.
    /// [I] Our choice of trade-off between disk size and scan speed.
    fn identifier_like(&self, ids: &[u32], messages: &StringArray) -> FxHashSet<u32> {
        // candidate index of each path id (usize::MAX: not a candidate)
        let mut slot: Vec<usize> = vec![usize::MAX; self.names.len()];
        for (k, &id) in ids.iter().enumerate() {
            slot[id as usize] = k;
        }
        // every `stride`-th occurrence of a path is sampled
        let strides: Vec<u64> = ids
            .iter()
            .map(|&id| (self.counts[id as usize] / IDENTIFIER_SAMPLE as u64).max(1))
            .collect();
        let text = |i: usize| {
            let (ev, _, start, len) = self.values[i];
            if len & ARENA != 0 {
                let l = (len & !ARENA) as usize;
                self.arena.get(start as usize..start as usize + l)
            } else {
                messages
                    .value(ev as usize)
                    .get(start as usize..start as usize + len as usize)
            }
        };
        // 1. the sample, as (candidate, index into `values`), with its sizes and bytes:
        // short values (under 16 bytes on average) are never identifier-like, and need no
        // distinct count
        let mut sample: Vec<(u32, u32)> = Vec::new();
        let mut occurrences = vec![0u64; ids.len()];
        let mut counts = vec![0usize; ids.len()];
        let mut bytes = vec![0usize; ids.len()];
        for (i, &(_, id, _, len)) in self.values.iter().enumerate() {
            let k = slot[id as usize];
            if k == usize::MAX || len == u32::MAX {
                continue;
            }
            occurrences[k] += 1;
            if counts[k] >= IDENTIFIER_SAMPLE || !(occurrences[k] - 1).is_multiple_of(strides[k]) {
                continue;
            }
            let Some(v) = text(i) else { continue };
            counts[k] += 1;
            bytes[k] += v.len();
            sample.push((k as u32, i as u32));
        }
        // 2. distinct values of the others, each followed only until the answer is known:
        // more than half distinct, or too few samples left to get there
        let mut open: Vec<bool> = (0..ids.len())
            .map(|k| counts[k] > 0 && bytes[k] >= 16 * counts[k])
            .collect();
        let mut identifier = vec![false; ids.len()];
        let mut seen: Vec<FxHashSet<&str>> = vec![FxHashSet::default(); ids.len()];
        let mut done = vec![0usize; ids.len()];
        for (k, i) in sample {
            let k = k as usize;
            if !open[k] {
                continue;
            }
            let Some(v) = text(i as usize) else { continue };
            if seen[k].capacity() == 0 {
                // sized up front: growing a set rehashes every value it holds
                seen[k].reserve(counts[k]);
            }
            seen[k].insert(v);
            done[k] += 1;
            if seen[k].len() * 2 > counts[k] {
                identifier[k] = true;
                open[k] = false;
            } else if (seen[k].len() + counts[k] - done[k]) * 2 <= counts[k] {
                open[k] = false;
            }
        }
        ids.iter()
            .zip(identifier)
            .filter(|(_, yes)| *yes)
            .map(|(&id, _)| id)
            .collect()
    }

    fn field_counts_json(&self, rows: usize) -> String {
        let mut pairs: Vec<(&str, u64)> = self
            .names
            .iter()
            .zip(&self.counts)
            .filter(|(_, c)| **c > 0)
            .map(|(n, c)| (&**n, *c))
            .collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        serde_json::json!({ "events": rows, "fields": pairs }).to_string()
    }
}

/// Encodes rows in segment order (from [`plan_segments`] and [`gather`]) as a Parquet
/// segment.
pub(crate) fn encode(
    rows: &RecordBatch,
    object_path: String,
    local_path: PathBuf,
    config: &StoreConfig,
    known: &HashSet<String>,
    parsed: Parsed<'_>,
) -> Result<EncodedSegment> {
    let n = rows.num_rows();
    let col = |i: usize| rows.column(i);
    let ts = col(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| internal("@timestamp is not Int64"))?;
    let messages = col(3)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| internal("@message is not Utf8"))?;
    let seqs = col(4)
        .as_any()
        .downcast_ref::<UInt64Array>()
        .ok_or_else(|| internal("__seq is not UInt64"))?;
    if n == 0 {
        return Err(internal("empty segment"));
    }
    let mut disc = Discovery::run(messages, seqs, parsed, config);
    let promoted = disc.promoted(n, messages, config, known);
    let mut slot_of: Vec<usize> = vec![usize::MAX; disc.names.len()];
    for (slot, &id) in promoted.iter().enumerate() {
        slot_of[id as usize] = slot;
    }
    let mut builders: Vec<StringBuilder> = promoted
        .iter()
        .map(|_| StringBuilder::with_capacity(n, n * 16))
        .collect();
    let mut row_vals: Vec<Option<&str>> = vec![None; promoted.len()];
    let mut taken: Vec<bool> = vec![false; promoted.len()];
    let mut vi = 0;
    for ev in 0..n {
        row_vals.iter_mut().for_each(|v| *v = None);
        taken.iter_mut().for_each(|t| *t = false);
        let msg = messages.value(ev);
        while vi < disc.values.len() && disc.values[vi].0 as usize == ev {
            let (_, id, start, len) = disc.values[vi];
            vi += 1;
            let slot = slot_of[id as usize];
            if slot == usize::MAX {
                continue;
            }
            // first occurrence of a path wins, even a null one
            if std::mem::replace(&mut taken[slot], true) || len == u32::MAX {
                continue;
            }
            let s = if len & ARENA != 0 {
                let l = (len & !ARENA) as usize;
                disc.arena.get(start as usize..start as usize + l)
            } else {
                msg.get(start as usize..start as usize + len as usize)
            };
            row_vals[slot] = s;
        }
        for (b, v) in builders.iter_mut().zip(&row_vals) {
            b.append_option(*v);
        }
    }

    let mut fields: Vec<Field> = core_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns: Vec<ArrayRef> = rows.columns().to_vec();
    let mut promoted_names = Vec::with_capacity(promoted.len());
    for (&id, mut b) in promoted.iter().zip(builders) {
        let name = disc.names[id as usize].to_string();
        fields.push(schema::promoted_field(&name));
        columns.push(Arc::new(b.finish()));
        promoted_names.push(name);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(internal)?;

    let level = ZstdLevel::try_new(config.zstd_level).map_err(internal)?;
    let message_level = ZstdLevel::try_new(config.message_zstd_level).map_err(internal)?;
    // Statistics: only `@timestamp`'s row-group min/max are read (time pruning of row
    // groups, `select_row_groups` in the scan and `read_core_range`); nothing reads other
    // columns' min/max or any page's (the column index). Computing them compared every value
    // of every column with the running min and max: `@message`'s rows are clustered by their
    // bytes, so each comparison ran along a long shared prefix (1.5 % of an import's CPU).
    // The offset index (page locations, and each page's unencoded `@message` bytes, which
    // `bytesScanned` sums) is written whatever the statistics setting.
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_statistics_enabled(EnabledStatistics::None)
        .set_column_statistics_enabled(
            ColumnPath::from(schema::TIMESTAMP),
            EnabledStatistics::Chunk,
        )
        .set_max_row_group_row_count(Some(config.row_group_rows.max(1)))
        // raw messages: no dictionary, big pages (more context for zstd)
        .set_column_dictionary_enabled(ColumnPath::from(schema::MESSAGE), false)
        .set_column_compression(
            ColumnPath::from(schema::MESSAGE),
            Compression::ZSTD(message_level),
        )
        .set_column_data_page_size_limit(
            ColumnPath::from(schema::MESSAGE),
            config.message_page_bytes.max(1024),
        );
    // promoted columns: a dictionary of up to `dictionary_page_bytes` before falling back
    // to plain pages
    props = props.set_dictionary_page_size_limit(config.dictionary_page_bytes.max(1024));
    // sorted or nearly sorted integers: delta encoding
    for col in [schema::TIMESTAMP, schema::INGESTION_TIME, schema::SEQ] {
        props = props
            .set_column_dictionary_enabled(ColumnPath::from(col), false)
            .set_column_encoding(ColumnPath::from(col), Encoding::DELTA_BINARY_PACKED);
    }
    // The file declares (`@timestamp`, `__seq`) order only when its rows are in it.
    let sorting = (!config.cluster_rows_by_message).then(|| {
        vec![
            SortingColumn {
                column_idx: 0,
                descending: false,
                nulls_first: false,
            },
            SortingColumn {
                column_idx: 4,
                descending: false,
                nulls_first: false,
            },
        ]
    });
    let props = props
        .set_sorting_columns(sorting)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            FIELD_COUNTS_ZSTD_KEY.to_owned(),
            compress_field_counts(&disc.field_counts_json(n))?,
        )]))
        .build();
    let mut buf = Vec::with_capacity(messages.value_data().len() / 4);
    // Without the Arrow schema in the footer (5 KB a segment): every column's Arrow type is
    // the Parquet type's default (Int64, UInt64, Utf8), and readers make their schema from
    // the Parquet schema (`read_core`, and the query scan's `segment_schema`).
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    let mut w = ArrowWriter::try_new_with_options(&mut buf, schema, options).map_err(internal)?;
    w.write(&batch).map_err(internal)?;
    w.close().map_err(internal)?;
    let bytes = Bytes::from(buf);

    let event_bytes: u64 = (0..n).map(|i| messages.value_length(i) as u64 + 26).sum();
    let info = SegmentInfo {
        path: local_path,
        object_path,
        min_timestamp_ms: ts.values().iter().copied().min().unwrap_or(0),
        max_timestamp_ms: ts.values().iter().copied().max().unwrap_or(0),
        min_seq: seqs.values().iter().copied().min().unwrap_or(0),
        max_seq: seqs.values().iter().copied().max().unwrap_or(0),
        row_count: n as u64,
        byte_size: bytes.len() as u64,
        event_bytes,
        promoted_columns: promoted_names,
    };
    let ngram = (config.ngram_bits_per_kib > 0)
        .then(|| ngram_sidecar(&bytes, messages, config.ngram_bits_per_kib))
        .transpose()?;
    Ok(EncodedSegment { bytes, info, ngram })
}

/// Builds the n-gram sidecar of a freshly written segment: one block per `@message` data
/// page (from the file's offset index), so a reader skips whole pages.
fn ngram_sidecar(bytes: &Bytes, messages: &StringArray, bits_per_kib: u64) -> Result<Vec<u8>> {
    let meta = ParquetMetaDataReader::new()
        .with_offset_index_policy(PageIndexPolicy::Optional)
        .parse_and_finish(bytes)
        .map_err(internal)?;
    let leaf = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().string() == schema::MESSAGE);
    let mut starts: Vec<u64> = Vec::new();
    let mut rg_start = 0u64;
    for (i, rg) in meta.row_groups().iter().enumerate() {
        let pages = leaf.and_then(|l| meta.offset_index().and_then(|o| o.get(i)?.get(l)));
        match pages {
            Some(p) => starts.extend(
                p.page_locations()
                    .iter()
                    .map(|loc| rg_start + loc.first_row_index.max(0) as u64),
            ),
            None => starts.push(rg_start),
        }
        rg_start += rg.num_rows().max(0) as u64;
    }
    let msgs: Vec<&[u8]> = (0..messages.len())
        .map(|i| messages.value(i).as_bytes())
        .collect();
    Ok(NgramIndex::build(&msgs, &starts, bits_per_kib).encode())
}

/// Reads the core columns of a segment's bytes.
pub(crate) fn read_core(data: Bytes, path: &str) -> Result<Vec<RecordBatch>> {
    read_core_range(data, path, i64::MIN, i64::MAX)
}

/// Reads the core columns of the row groups whose `@timestamp` statistics overlap
/// `[start_ms, end_ms]` (rows outside may still be returned: callers filter).
pub(crate) fn read_core_range(
    data: Bytes,
    path: &str,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<RecordBatch>> {
    let err = |e: parquet::errors::ParquetError| StoreError::Segment {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(err)?;
    let groups: Vec<usize> = builder
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .filter(|(_, rg)| match rg.column(0).statistics() {
            Some(parquet::file::statistics::Statistics::Int64(s)) => {
                match (s.min_opt(), s.max_opt()) {
                    (Some(&lo), Some(&hi)) => lo <= end_ms && hi >= start_ms,
                    _ => true,
                }
            }
            _ => true,
        })
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), 0..schema::CORE_COLUMNS.len());
    let reader = builder
        .with_row_groups(groups)
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(err)?;
    let mut out = Vec::new();
    for b in reader {
        let b = b.map_err(|e| StoreError::Segment {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        // re-label with the canonical schema (drops file-level metadata differences)
        let b = RecordBatch::try_new(core_schema(), b.columns().to_vec()).map_err(|e| {
            StoreError::Segment {
                path: path.to_owned(),
                message: e.to_string(),
            }
        })?;
        out.push(b);
    }
    Ok(out)
}

/// Reads the field counts stored in a segment's footer: `(events, [(path, count)])`.
pub(crate) fn read_field_counts(data: Bytes, path: &str) -> Result<(u64, Vec<(String, u64)>)> {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| StoreError::Segment {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    let kv = builder.metadata().file_metadata().key_value_metadata();
    let value = |key: &str| {
        kv.and_then(|kv| kv.iter().find(|k| k.key == key))
            .and_then(|k| k.value.clone())
    };
    let text = match value(FIELD_COUNTS_ZSTD_KEY) {
        Some(z) => Some(
            decompress_field_counts(&z).ok_or_else(|| StoreError::Segment {
                path: path.to_owned(),
                message: format!("bad {FIELD_COUNTS_ZSTD_KEY}: not base64 of zstd of UTF-8 text"),
            })?,
        ),
        None => value(FIELD_COUNTS_KEY),
    };
    let Some(text) = text else {
        return Ok((0, Vec::new()));
    };
    #[derive(serde::Deserialize)]
    struct Counts {
        events: u64,
        fields: Vec<(String, u64)>,
    }
    let c: Counts = serde_json::from_str(&text).map_err(|e| StoreError::Segment {
        path: path.to_owned(),
        message: format!("bad {FIELD_COUNTS_KEY}: {e}"),
    })?;
    Ok((c.events, c.fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment whose footer holds `kv`, with one row.
    fn segment_with_metadata(kv: Vec<KeyValue>) -> Bytes {
        let batch = RecordBatch::try_new(
            core_schema(),
            vec![
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(Int64Array::from(vec![2])),
                Arc::new(StringArray::from(vec!["s"])),
                Arc::new(StringArray::from(vec![r#"{"a":1}"#])),
                Arc::new(UInt64Array::from(vec![0u64])),
            ],
        )
        .unwrap();
        let props = WriterProperties::builder()
            .set_key_value_metadata(Some(kv))
            .build();
        let mut buf = Vec::new();
        let mut w = ArrowWriter::try_new(&mut buf, core_schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        Bytes::from(buf)
    }

    #[test]
    fn field_counts_are_read_compressed_and_in_the_older_plain_form() {
        let json = r#"{"events":7,"fields":[["a",7],["b.c",2]]}"#;
        let want = (7, vec![("a".to_owned(), 7), ("b.c".to_owned(), 2)]);
        let z = compress_field_counts(json).unwrap();
        assert!(!z.contains("b.c"), "stored compressed");
        let new = segment_with_metadata(vec![KeyValue::new(FIELD_COUNTS_ZSTD_KEY.to_owned(), z)]);
        assert_eq!(read_field_counts(new, "new").unwrap(), want);
        // segments written before the compressed key
        let old = segment_with_metadata(vec![KeyValue::new(
            FIELD_COUNTS_KEY.to_owned(),
            json.to_owned(),
        )]);
        assert_eq!(read_field_counts(old, "old").unwrap(), want);
        // a damaged value is an error naming the key, not counts of nothing
        let bad = segment_with_metadata(vec![KeyValue::new(
            FIELD_COUNTS_ZSTD_KEY.to_owned(),
            "not base64!".to_owned(),
        )]);
        let e = read_field_counts(bad, "bad").unwrap_err().to_string();
        assert!(e.contains(FIELD_COUNTS_ZSTD_KEY), "{e}");
    }

    /// The order the clustering must give: bytes, then index.
    fn by_comparison(texts: &[Vec<u8>]) -> Vec<u32> {
        let mut order: Vec<u32> = (0..texts.len() as u32).collect();
        order.sort_by(|&x, &y| texts[x as usize].cmp(&texts[y as usize]).then(x.cmp(&y)));
        order
    }

    fn by_radix(texts: &[Vec<u8>]) -> Vec<u32> {
        let mut order: Vec<u32> = (0..texts.len() as u32).rev().collect();
        sort_by_bytes(&mut order, &|i: u32| texts[i as usize].as_slice());
        order
    }

    proptest::proptest! {
        #[test]
        fn radix_clustering_orders_like_comparing_bytes(
            texts in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec![0u8, 1, b'a', b'b', 0xff]), 0..40),
                0..300,
            ),
            prefix in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
        ) {
            // a shared prefix, as CloudTrail records have
            let texts: Vec<Vec<u8>> = texts
                .into_iter()
                .map(|t| prefix.iter().copied().chain(t).collect())
                .collect();
            proptest::prop_assert_eq!(by_radix(&texts), by_comparison(&texts));
        }
    }

    #[test]
    fn radix_clustering_of_texts_alike_over_long_stretches_falls_back_to_comparing() {
        // QA: one differing byte at one of 1,000 8-byte positions: every pass peels off a
        // few texts only
        let texts: Vec<Vec<u8>> = (0..3000)
            .map(|i| {
                let mut t = vec![b'A'; 8100];
                t[(i * 7 % 1000) * 8 + 3] = b'B';
                t
            })
            .collect();
        assert_eq!(by_radix(&texts), by_comparison(&texts));
    }

    #[test]
    fn radix_clustering_handles_runs_nested_thousands_deep() {
        // each text is a prefix-plus-one of the next: one level per text
        let mut texts: Vec<Vec<u8>> = (1..5000)
            .map(|k| [vec![b'C'; 8 * k], vec![b'X']].concat())
            .collect();
        texts.extend((0..3000).map(|k| vec![b'C'; k]));
        texts.extend((0..50).map(|_| b"same text".to_vec()));
        assert_eq!(by_radix(&texts), by_comparison(&texts));
    }

    /// Core-column rows: (`@timestamp`, `@message`, `__seq`), one log stream.
    fn rows(events: &[(i64, &str, u64)]) -> RecordBatch {
        let ts: Int64Array = events.iter().map(|e| Some(e.0)).collect();
        let ingest: Int64Array = events.iter().map(|_| Some(0)).collect();
        let stream: StringArray = events.iter().map(|_| Some("s")).collect();
        let msg: StringArray = events.iter().map(|e| Some(e.1)).collect();
        let seq: UInt64Array = events.iter().map(|e| Some(e.2)).collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(ts),
            Arc::new(ingest),
            Arc::new(stream),
            Arc::new(msg),
            Arc::new(seq),
        ];
        RecordBatch::try_new(core_schema(), cols).unwrap()
    }

    fn messages(b: &RecordBatch) -> Vec<String> {
        let m = b.column(3).as_any().downcast_ref::<StringArray>().unwrap();
        m.iter().map(|v| v.unwrap().to_owned()).collect()
    }

    fn two_batches() -> Vec<RecordBatch> {
        vec![
            rows(&[(25, "e", 0), (0, "b", 1), (11, "d", 2)]),
            rows(&[(5, "a", 3), (10, "c", 4), (-3, "expired", 5), (11, "c", 6)]),
        ]
    }

    #[test]
    fn plans_cut_time_ordered_rows_into_windows_and_drop_expired_ones() {
        let batches = two_batches();
        let config = StoreConfig {
            cluster_rows_by_message: false,
            ..StoreConfig::default()
        };
        let plans = plan_segments(&batches, 0, Some(10), &config).unwrap();
        assert_eq!(
            plans,
            vec![
                vec![(0, 1), (1, 0)],
                vec![(1, 1), (0, 2), (1, 3)],
                vec![(0, 0)]
            ]
        );
        let segs: Vec<Vec<String>> = plans
            .iter()
            .map(|p| messages(&gather(&batches, p).unwrap()))
            .collect();
        assert_eq!(segs, vec![vec!["b", "a"], vec!["c", "d", "c"], vec!["e"]]);
        // no window, nothing expired: one run of all seven rows in time order
        let all = plan_segments(&batches, i64::MIN, None, &config).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(
            messages(&gather(&batches, &all[0]).unwrap()),
            vec!["expired", "b", "a", "c", "d", "c", "e"]
        );
    }

    #[test]
    fn clustering_orders_each_row_group_by_message_with_ties_in_time_order() {
        let batches = two_batches();
        let config = StoreConfig {
            cluster_rows_by_message: true,
            row_group_rows: 2,
            ..StoreConfig::default()
        };
        // time order: b(0) a(5) c(10) d(11) c(11, seq 6) e(25); chunks of 2 rows
        let plans = plan_segments(&batches, 0, None, &config).unwrap();
        assert_eq!(
            plans,
            vec![vec![(1, 0), (0, 1), (1, 1), (0, 2), (1, 3), (0, 0)]]
        );
        let config = StoreConfig {
            row_group_rows: 3,
            ..config
        };
        let plans = plan_segments(&batches, 0, None, &config).unwrap();
        // chunks [b a c] [d c e]: the equal "c"s are in different chunks
        assert_eq!(
            messages(&gather(&batches, &plans[0]).unwrap()),
            vec!["a", "b", "c", "c", "d", "e"]
        );
        let same = vec![rows(&[(1, "x", 0), (2, "x", 1), (3, "x", 2)])];
        let plans = plan_segments(&same, 0, None, &config).unwrap();
        assert_eq!(plans, vec![vec![(0, 0), (0, 1), (0, 2)]]);
    }

    #[test]
    fn wide_first_events_do_not_size_discovery_for_the_whole_segment() {
        // QA: 256 events of 200 fields, then plain text lines. Sizing the values for every
        // event from the first 256 asked for 7 GB on 2 M lines and aborted under a memory
        // limit; the reservation is now bounded by the text itself.
        let wide: String = (0..200)
            .map(|j| format!("\"a{j:03}\":{j}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut texts: Vec<String> = (0..256).map(|_| format!("{{{wide}}}")).collect();
        texts.extend((0..20_000).map(|_| "~".to_owned()));
        let messages: StringArray = texts.iter().map(|t| Some(t.as_str())).collect();
        let seqs: UInt64Array = (0..texts.len() as u64).collect();
        let none = ParsedBySeq::default();
        let names = FieldNames::default();
        let parsed = Parsed {
            by_seq: &none,
            names: &names,
        };
        let d = Discovery::run(&messages, &seqs, parsed, &StoreConfig::default());
        assert_eq!(d.values.len(), 256 * 200);
        // the old estimate: 20,000 more events x 201 values x 9/8 = 4.5 M values (72 MB)
        let bytes: usize = texts.iter().map(String::len).sum();
        assert!(
            d.values.capacity() <= (bytes / 16).max(d.values.len() * 2),
            "{} values reserved for {bytes} bytes of text",
            d.values.capacity()
        );
    }

    #[test]
    fn gather_slices_a_contiguous_run_without_copying() {
        let batches = two_batches();
        let run = gather(&batches, &[(1, 1), (1, 2)]).unwrap();
        let whole = batches[1].column(3).to_data();
        let part = run.column(3).to_data();
        // same value buffer: a slice, not a copy
        assert_eq!(whole.buffers()[1].as_ptr(), part.buffers()[1].as_ptr());
        assert_eq!(messages(&run), vec!["c", "expired"]);
    }
}
