#!/usr/bin/env bash
# CloudWatch metrics (`monitoring`) with real boto3 clients on each wire protocol, under
# several pinned botocore versions, against `openwatch serve` on a loopback port:
#   - botocore 1.40.0  (before the protocol switch: AWS Query only)
#   - botocore 1.42.7  (first release listing smithy-rpc-v2-cbor/json/query; picks JSON 1.0)
#   - the suite's own pin (tests/python/requirements.txt, in target/py-venv; see
#     scripts/py-tests.sh, which runs the whole Python suite including this file)
# With a multi-protocol botocore, tests/python/test_metrics_protocols.py also forces
# Query, JSON 1.0 and CBOR through botocore's own serializers (model override).
# Each version gets its own virtual environment under target/. Needs PyPI; an install
# failure is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
# Under scripts/test.sh the binary is the one `cargo test --workspace` built (same
# features: a plain `cargo build -p openwatch` would compile DataFusion a second time).
if [ -n "${OPENWATCH_BUILD_AS_TESTS:-}" ]; then
  cargo test --workspace --no-run -q
else
  cargo build -p openwatch
fi
status=0
for version in 1.40 1.42.7; do
  venv="$target/py-venv-botocore-$version"
  req="tests/python/requirements-botocore-$version.txt"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "error: python3 -m venv failed" >&2; exit 2; }
  fi
  if ! "$venv/bin/pip" install --disable-pip-version-check -q -r "$req"; then
    echo "error: pip could not install $req (is PyPI reachable?)" >&2
    exit 2
  fi
  echo "== botocore $version"
  VIRTUAL_ENV="$(cd "$venv" && pwd)" "$venv/bin/python" -m pytest -q \
    tests/python/test_metrics_protocols.py "$@" || status=1
done
exit $status
