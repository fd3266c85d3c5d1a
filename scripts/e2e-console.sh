#!/usr/bin/env bash
# End-to-end test of the web console in real headless Chromium:
#   installs Debian's chromium when missing (as root), builds the console and the binary,
#   imports the shared CloudTrail data (../shared/data) into a temporary data directory,
#   starts `openwatch serve` on 127.0.0.1 with a generated key, runs web/e2e/console.e2e.mjs
#   (playwright-core driving /usr/bin/chromium), saves screenshots under
#   target/e2e-screenshots, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "== Installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: chromium is not installed; run as root or: sudo apt-get install chromium" >&2
    exit 2
  fi
fi
data_src="$repo/../shared/data/cloudtrail/delivery/invictus-aws_dataset"
if [ ! -d "$data_src" ]; then
  echo "error: $data_src not found (the shared data beside the repository)" >&2
  exit 2
fi

echo "== Building the console and openwatch"
scripts/build-console.sh
(cd web && npx vitest run)
# Under scripts/test.sh the binary is the one `cargo test --workspace` built (same
# features: a plain `cargo build -p openwatch` would compile DataFusion a second time).
if [ -n "${OPENWATCH_BUILD_AS_TESTS:-}" ]; then
  cargo test --workspace --no-run -q
else
  cargo build -p openwatch
fi
target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/debug/openwatch"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== Importing the shared CloudTrail data"
"$bin" import --quiet --data-dir "$work/data" --log-group cloudtrail "$data_src"

export OPENWATCH_ACCESS_KEY_ID="AKIAE2E$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
export OPENWATCH_SECRET_ACCESS_KEY="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" 2>"$work/serve.log" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 || true)"
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/serve.log" >&2
    echo "error: openwatch serve exited" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.log" >&2; echo "error: openwatch serve did not start" >&2; exit 1; }
echo "== Server at $url; running the browser test"

shots="$repo/$target_dir/e2e-screenshots"
case "$target_dir" in /*) shots="$target_dir/e2e-screenshots" ;; esac
rm -rf "$shots"
mkdir -p "$shots"
(
  cd web
  OW_URL="$url" OW_KEY_ID="$OPENWATCH_ACCESS_KEY_ID" OW_SECRET="$OPENWATCH_SECRET_ACCESS_KEY" \
    OW_GROUP=cloudtrail OW_DATA="$data_src" OW_SCREENSHOTS="$shots" \
    node --test --test-reporter=spec e2e/console.e2e.mjs
)
echo "== Screenshots: $shots"
