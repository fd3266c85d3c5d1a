#!/usr/bin/env bash
# Python real-client tests: boto3 and the AWS CLI (pinned in tests/python/requirements.txt,
# installed into the virtual environment target/py-venv) against `openwatch serve` on a
# loopback port. Needs PyPI (pip install); an install failure is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CARGO_TARGET_DIR:-target}/py-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { echo "error: python3 -m venv failed" >&2; exit 2; }
fi
if ! "$venv/bin/pip" install --disable-pip-version-check -q -r tests/python/requirements.txt; then
  echo "error: pip could not install tests/python/requirements.txt (is PyPI reachable?)" >&2
  exit 2
fi
# Under scripts/test.sh the binary is the one `cargo test --workspace` built (same
# features: a plain `cargo build -p openwatch` would compile DataFusion a second time).
if [ -n "${OPENWATCH_BUILD_AS_TESTS:-}" ]; then
  cargo test --workspace --no-run -q
else
  cargo build -p openwatch
fi
VIRTUAL_ENV="$(cd "$venv" && pwd)" "$venv/bin/python" -m pytest -q tests/python "$@"
