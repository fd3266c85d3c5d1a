//! Import benchmark without the rest of the binary (no DataFusion to build):
//!
//! ```text
//! OW_BENCH_INPUT=target/bench-import/cloudtrail-1GB-seed1.ndjson \
//! OW_BENCH_DIR=target/bench-import/ow-data-lib \
//!     cargo bench -p ow-ingest --bench import
//! ```
//!
//! Prints events/s (import plus the final flush), peak memory (VmHWM) and the bytes of
//! the segments. `scripts/bench-import.sh` runs the same import through `openwatch
//! import` and adds the ratios against raw NDJSON and DuckDB's Parquet.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let Some(input) = std::env::var_os("OW_BENCH_INPUT") else {
        eprintln!("set OW_BENCH_INPUT to an NDJSON file (see the file's docs); skipping");
        return;
    };
    let dir = PathBuf::from(
        std::env::var_os("OW_BENCH_DIR")
            .unwrap_or_else(|| "target/bench-import/ow-data-lib".into()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    let store =
        ow_storage::Store::open(&dir, ow_storage::StoreConfig::default()).expect("open store");
    let summary = ow_ingest::import_paths(
        &store,
        &[PathBuf::from(input)],
        &ow_ingest::ImportOptions {
            bulk: std::env::var_os("OW_BENCH_WAL").is_none(),
            ..ow_ingest::ImportOptions::new("bench")
        },
        &ow_ingest::NoProgress,
    )
    .expect("import");
    let parsed = started.elapsed();
    store.close().expect("flush");
    drop(store);
    let secs = started.elapsed().as_secs_f64();
    let on_disk = dir_size(&dir.join("segments"));
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<u64>().ok())
            })
        })
        .unwrap_or(0);
    println!(
        "events {} in {:.2} s ({:.2} s before the final flush): {:.0} events/s; input {} bytes; \
         segments {} bytes (1/{:.2} of input); rejected {}; peak memory {:.1} MiB",
        summary.events,
        secs,
        parsed.as_secs_f64(),
        summary.events as f64 / secs,
        summary.input_bytes,
        on_disk,
        summary.input_bytes as f64 / on_disk.max(1) as f64,
        summary.rejected,
        peak as f64 / 1024.0
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_size(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
