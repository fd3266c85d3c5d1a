#!/usr/bin/env bash
# Benchmark of `openwatch import` (not a timed test): imports generated CloudTrail NDJSON
# (../shared/bench/gen_cloudtrail.py) and reports, from one run:
#   * events/s (wall clock of the whole import, including the final flush to Parquet),
#   * peak memory (max RSS from /usr/bin/time),
#   * bytes on disk of the segments, as a ratio of the raw NDJSON and of DuckDB's zstd
#     Parquet of the same data (written exactly as ../shared/bench/run_peers.py does:
#     raw line + typed columns, ROW_GROUP_SIZE 122880).
# Targets (issue 3): > 100,000 events/s on one core, peak memory < 1 GiB, on disk < 1/6 raw.
#
# Measured 2026-11-29 (1GB seed 1, 685,877 events; `cargo bench -p ow-ingest --bench import`,
# same code path; the 2-core machine was shared with other builds, load ~4):
#   CPU 11.4 s (user 8.7-9.1 + sys 2.3-2.7) -> ~60,000 events per CPU-second;
#   wall 12.0 s on 2 cores (57,000 events/s), 21 s pinned to one busy core;
#   peak RSS 515-550 MiB; segments 182,192,949 bytes = 1/5.49 of raw,
#   0.69 x DuckDB's zstd Parquet of the same data (264,452,416 bytes, same run).
# Measured 2026-11-29 late (main after the one-copy flush, 16a67b2), this script, one core:
#   wall 15.3 s = 45,100 events/s (the machine ran about 1.2x slower than in the afternoon);
#   peak RSS 626 MiB; on disk 166,077,496 bytes = 1/6.02 of raw, 0.628 x DuckDB's Parquet.
#   Paired against the previous build (e100ebe), 5 whole-process pairs on 2 cores:
#   CPU 0.907 (median ratio), peak memory 705 -> 589 MiB.
#   Instructions (valgrind --tool=callgrind, import of the first 20 MB, 13,733 events):
#   e100ebe 2.093 G, 16a67b2 1.890 G, 571d757 1.760 G (0.841 of e100ebe).
# Measured 2026-11-30 (c26c5e1: one JSON parse per event, faster n-gram sketch, radix
# clustering), paired against 8560917, 5 whole-process pairs of the 1 GB import pinned to one
# core: CPU 0.941 (median ratio; 0.88-0.96), wall 0.914; 10.78 CPU-s = 63,600 events per
# CPU-second; peak memory 607 -> 668 MiB; segments byte-identical but @ingestionTime.
#   Instructions (callgrind, the same 20 MB): 1.396 G (0.793 of 8560917's 1.760 G).
#   This script the same hour, one core, machine shared with a test run: wall 14.7 s
#   (46,800 events/s), CPU 14.4 s, peak RSS 673 MiB, on disk 166,081,454 bytes = 1/6.02 of
#   raw, 0.628 x DuckDB's Parquet.
#   475cefd (memory caps on the parsed fields, a bound on radix passes: the same 1.396 G
#   instructions on CloudTrail), paired again against 8560917, 5 pairs, one core: CPU 0.946
#   (0.84-1.00), wall 0.948, peak 606 -> 670 MiB (the machine slower: 13.5 CPU-s).
# Measured 2026-11-30 midday (f1cef42: 2 MiB @message pages, zstd 5 for the other columns),
#   paired against the previous layout (4 MiB, zstd 3), 15 one-core pairs of the 200 MB import
#   on a noisy machine: CPU 1.05 (median ratio); peak memory 409 -> 403 MiB; the 1 GB store
#   166,164,591 bytes = 1/6.016 of raw (was 166,230,352 = 1/6.013).
# Measured 2026-11-30 afternoon (70e37f1, a new and faster machine of the same kind, idle),
#   `taskset -c 1` on the 1 GB file, 3 whole-process runs: wall 9.17 s median = 74,800
#   events/s, CPU 9.05 s (user 8.06, sys 0.93), peak 661 MiB; segments 166,148,016 bytes =
#   1/6.016 of raw. Profile: docs/benchmarks/peers-1GB-2026-11-30-pm.md.
#
# Usage: scripts/bench-import.sh [SIZE (default 1GB)] [SEED (default 1)]
#   BENCH_CORES=0     CPU list for taskset (default 0: one core); empty = no pinning
#   BENCH_NO_BUILD=1  skip `cargo build --release -p openwatch`
# Needs python3 with the duckdb module for the DuckDB ratio (pip install duckdb);
# without it the DuckDB ratio is skipped.
set -euo pipefail
size="${1:-1GB}"
seed="${2:-1}"
cores="${BENCH_CORES-0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$root/../shared"
out="$root/target/bench-import"
mkdir -p "$out"
data="$out/cloudtrail-$size-seed$seed.ndjson"

if [[ ! -s "$data" ]]; then
  echo "generating $data" >&2
  python3 "$shared/bench/gen_cloudtrail.py" --size "$size" --seed "$seed" --out "$data"
fi
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  (cd "$root" && cargo build --release -p openwatch)
fi
bin="${CARGO_TARGET_DIR:-$root/target}/release/openwatch"

rm -rf "$out/ow-data"
pin=()
if [[ -n "$cores" ]] && command -v taskset >/dev/null; then pin=(taskset -c "$cores"); fi
/usr/bin/time -v -o "$out/time.txt" "${pin[@]}" "$bin" import --quiet \
  --data-dir "$out/ow-data" --log-group bench "$data" | tee "$out/import.txt"

raw=$(stat -c %s "$data")
ondisk=$(du -sb "$out/ow-data/segments" | cut -f1)
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
events=$(sed -n 's/^imported \([0-9]*\) events.*/\1/p' "$out/import.txt")
secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time.txt")

duck=""
if python3 -c 'import duckdb' 2>/dev/null; then
  duck=$(python3 - "$data" "$out/duckdb.parquet" "$shared/bench" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[3])
import duckdb
import run_peers  # the peer benchmark's own schema, so the Parquet is the same file
data, path = sys.argv[1], sys.argv[2]
lines = (f"read_csv('{data}', columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='', "
         f"header=false, auto_detect=false, max_line_size=16777216)")
select_all = (f"SELECT line AS message, CAST(r.eventTime AS TIMESTAMP) AS ts, r.* "
              f"FROM (SELECT line, from_json(line, '{run_peers.duck_struct_json()}') AS r FROM {lines})")
if os.path.exists(path):
    os.remove(path)
con = duckdb.connect()
con.execute(f"COPY ({select_all}) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
print(os.path.getsize(path))
PY
)
fi

echo
echo "== openwatch import benchmark ($size, seed $seed, cores: ${cores:-all}) =="
echo "events:            $events"
echo "wall time:         $secs"
grep -o '[0-9]* events/s' "$out/import.txt" | sed 's/^/throughput:        /'
awk -v kb="$rss_kb" 'BEGIN { printf "peak memory:       %.1f MiB\n", kb / 1024 }'
awk -v r="$raw" -v d="$ondisk" 'BEGIN { printf "raw NDJSON:        %d bytes\non disk:           %d bytes = 1/%.2f of raw\n", r, d, r / d }'
if [[ -n "$duck" ]]; then
  awk -v q="$duck" -v d="$ondisk" 'BEGIN { printf "DuckDB Parquet:    %d bytes; openwatch / DuckDB = %.3f\n", q, d / q }'
fi
