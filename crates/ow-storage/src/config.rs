//! Store configuration. AWS limits are configuration with AWS's values as defaults.

/// Configuration of a [`crate::Store`]. `Default` gives AWS's limits and sizes that suit
/// one machine.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Account id of every log group: used in `@log` (`account:group`) and ARNs.
    /// Default `000000000000` (CONTRACTS.md).
    pub account_id: String,
    /// Region used in ARNs. Default `us-east-1`.
    pub region: String,
    /// Field cap per JSON event (spec §3.2 [V]: 200).
    pub max_fields_per_event: usize,
    /// PutLogEvents rules (spec api.md, PutLogEvents [V]).
    pub put_limits: PutLimits,
    /// Flush the in-memory buffer to segments once it holds this many bytes of messages.
    /// Default 64 MiB.
    pub flush_threshold_bytes: usize,
    /// Flush by age, in ms: a background thread owned by the store flushes once the
    /// oldest buffered event was acknowledged this long ago, so a quiet store does not
    /// keep events only in the WAL and memory. `None`: no background thread (flushes at
    /// `flush_threshold_bytes`, on [`crate::Store::flush`] and on close only). Default
    /// 5 minutes [I].
    pub flush_max_age_ms: Option<i64>,
    /// Time window of a segment, in ms: a flush writes one segment per log group and
    /// window (`floor(@timestamp / window)`). Default 1 day: live ingestion fills one
    /// window per flush anyway, and bulk imports of old data get segments of useful size;
    /// retention (whole segments) is then at most one day late (AWS: typically 72 h [V]).
    pub segment_window_ms: i64,
    /// Compaction merges small segments of one log group that lie in one compaction
    /// window (in ms, default 1 day).
    pub compaction_window_ms: i64,
    /// Target size of compacted segments, rows. A segment below a quarter of it is
    /// "small"; compaction runs on a window holding at least 4 small segments, or at least
    /// 2 whose rows add up to less than 1 % of it. Default 1,000,000.
    pub compaction_target_rows: usize,
    /// At most this many bytes of events (message + 26) are merged by one compaction
    /// step, which holds them in memory. Default 256 MiB.
    pub compaction_max_bytes: usize,
    /// A JSON path present in at least this fraction of a segment's events becomes a
    /// promoted `Utf8` column of that segment. Default 0.05: sparse columns cost little in
    /// Parquet (a null is a bit), and a sparse field such as CloudTrail's `errorCode`
    /// (about 6 % of events) is exactly what selective hunting queries filter on.
    pub promote_min_fraction: f64,
    /// At most this many promoted columns per segment (most frequent first). Default 64.
    pub max_promoted_columns: usize,
    /// Rows per Parquet row group. Default 65,536.
    pub row_group_rows: usize,
    /// zstd level of segment columns other than `@message`. Default 5: those columns are
    /// a sixth of a segment's bytes, and level 5 makes them about 3 % smaller than level 3
    /// (1 GB benchmark: 26.6 MB against 27.4 MB) for about 5 % more import CPU time (with
    /// the 2 MiB pages below, against level 3 and 4 MiB pages: median 1.05 of 15 one-core
    /// pairs of the 200 MB import on a noisy machine); that pays for the smaller `@message`
    /// pages, which make a query that reads `@message` for scattered rows faster.
    pub zstd_level: i32,
    /// zstd level of the `@message` column (most of a segment's bytes). Default 2. On the
    /// 1 GB benchmark the column was 137.2 MB at level 1, 134.2 MB at 2 and 133.0 MB at 3
    /// (4 MiB pages), and 134.1 MB at level 4 against 133.6 MB at 3 (2 MiB pages). With
    /// 2 MiB pages, level 2 (zstd's "fast" strategy) against 3 ("double fast"): the store
    /// 1.08 MB larger, the import 7 % faster (single one-core runs, 8.09 s against 8.70 s
    /// wall; `@message` compression was a fifth of the import's CPU time), queries as fast
    /// (q1, q2, q7 of `../shared/bench/queries`: 0.93-0.97 of the level 3 store in paired
    /// runs, which also carried the smaller footers of 2026-11-30). The store stays under a
    /// sixth of the raw NDJSON (1/6.03) because the footers lost 1.1 MB the same day:
    /// statistics nobody read, the Arrow schema, and uncompressed field counts.
    pub message_zstd_level: i32,
    /// Target size of a `@message` data page before compression, bytes: larger pages
    /// compress better (zstd sees more similar records) and prune less finely: a query
    /// that needs `@message` for a few rows spread over a row group decompresses every page
    /// holding one of them. Parquet checks the limit every 1,024 rows, so real pages end at
    /// the first 1,024-row step past it (QA, 1 GB benchmark: median 3.1 MB and 2,048 rows
    /// at 2 MiB, 4.6 MB and 3,072 rows at 4 MiB: 1.57 times as many pages).
    /// Default 2 MiB, measured on the 1 GB benchmark (`@message`
    /// column bytes; q1 of `../shared/bench/queries`, whose 290 candidate rows lie on nearly
    /// every page, wall time):
    ///
    /// | page | `@message` | q1 |
    /// |---|---|---|
    /// | 1 MiB | 135.5 MB | 0.111 s |
    /// | 2 MiB | 133.6 MB | 0.151 s |
    /// | 4 MiB | 133.0 MB | 0.194 s |
    ///
    /// With [`StoreConfig::zstd_level`] 5 the 2 MiB store is still under a sixth of the raw
    /// NDJSON (1/6.016), as the 4 MiB one was (1/6.013); 1 MiB would not be (1/5.92).
    pub message_page_bytes: usize,
    /// Largest dictionary page of a promoted column, bytes; a column chunk whose distinct
    /// values outgrow it writes its remaining pages plain. Default 4 MiB, not Parquet's
    /// 1 MiB: CloudTrail's `userAgent` (thousands of distinct agents per row group)
    /// outgrew 1 MiB. Measured on the 1 GB benchmark: the store 238 KB smaller, a query
    /// parsing `userAgent` about 5 % faster in paired runs (the function runs once per
    /// distinct value), the import's CPU time within the noise (0.88 of the 1 MiB setting
    /// in 4 pairs on a noisy machine), peak memory about 18 MiB more.
    pub dictionary_page_bytes: usize,
    /// At most this many distinct field paths are counted per segment for field
    /// statistics (GetLogGroupFields). Default 1,000 (the old per-group discovery quota [D]).
    pub max_field_stats_paths: usize,
    /// Size of the `@message` n-gram index ([`crate::ngram`]) written beside each
    /// segment, in filter bits per KiB of message text; 0 writes no index. Default 40:
    /// about 0.5 % of the raw text, under 3 % of the segment bytes of CloudTrail logs.
    pub ngram_bits_per_kib: u64,
    /// Order the rows of each row group by `@message` bytes instead of by time (the row
    /// groups themselves stay in time order, each with its `@timestamp` statistics).
    /// Similar events side by side compress far better: on 1 GB of generated CloudTrail
    /// the `@message` column shrinks by about a quarter and zstd runs faster. Readers never
    /// depend on row order inside a row group (every query sorts; GetLogEvents and
    /// FilterLogEvents sort by (`@timestamp`, `__seq`)). Default true.
    pub cluster_rows_by_message: bool,
    /// Whether [`crate::Store::open_read_only`] reads the log streams' metadata (names,
    /// creation times, statistics): the streams file beside the manifest (see
    /// `manifest.rs`), or a version 1 manifest's inline streams. Default true. A read-only
    /// store that only runs queries (`openwatch query`) sets false: the streams are most of
    /// the metadata and grow with every stream (with 1,335 streams, parsing them was 6.0 M of
    /// an empty query's 38.3 M instructions), and queries never read them. Such a store
    /// knows only the streams that have events in the WAL, so DescribeLogStreams-like calls
    /// on it are incomplete; log group figures and every query are unaffected.
    /// [`crate::Store::open`] ignores it (a writer rewrites the streams on every save).
    pub log_stream_metadata: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            max_fields_per_event: crate::fields::DEFAULT_MAX_FIELDS,
            put_limits: PutLimits::default(),
            flush_threshold_bytes: 64 << 20,
            flush_max_age_ms: Some(300_000),
            segment_window_ms: 86_400_000,
            compaction_window_ms: 86_400_000,
            compaction_target_rows: 1_000_000,
            compaction_max_bytes: 256 << 20,
            promote_min_fraction: 0.05,
            max_promoted_columns: 64,
            row_group_rows: 65_536,
            zstd_level: 5,
            message_zstd_level: 2,
            message_page_bytes: 2 << 20,
            dictionary_page_bytes: 4 << 20,
            max_field_stats_paths: 1_000,
            ngram_bits_per_kib: 40,
            cluster_rows_by_message: true,
            log_stream_metadata: true,
        }
    }
}

/// The PutLogEvents limits (spec api.md, PutLogEvents rules 1–5 [V]).
#[derive(Debug, Clone)]
pub struct PutLimits {
    /// Maximum batch size in bytes, counted as Σ(UTF-8 bytes of message + `event_overhead_bytes`).
    /// AWS: 1,048,576.
    pub max_batch_bytes: usize,
    /// Bytes added per event when sizing a batch. AWS: 26.
    pub event_overhead_bytes: usize,
    /// Maximum events per batch. AWS: 10,000.
    pub max_batch_events: usize,
    /// Maximum size of one event (message + overhead), bytes. AWS: 1,048,576 (1 MB).
    pub max_event_bytes: usize,
    /// Maximum span between the first and last accepted event, ms. AWS: 24 hours.
    pub max_batch_span_ms: i64,
    /// Events more than this far in the future (ms) are rejected as too new. AWS: 2 hours.
    pub max_future_ms: i64,
    /// Events older than this (ms) are rejected as too old. AWS: 14 days.
    pub max_age_ms: i64,
}

impl Default for PutLimits {
    fn default() -> Self {
        PutLimits {
            max_batch_bytes: 1_048_576,
            event_overhead_bytes: 26,
            max_batch_events: 10_000,
            max_event_bytes: 1_048_576,
            max_batch_span_ms: 24 * 3_600_000,
            max_future_ms: 2 * 3_600_000,
            max_age_ms: 14 * 86_400_000,
        }
    }
}

/// Retention periods PutRetentionPolicy accepts, in days (spec api.md [V]).
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
