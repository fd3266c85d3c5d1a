#!/usr/bin/env bash
# The whole test suite: every crate's unit, golden, conformance, property and end-to-end tests.
# Needs ../shared beside the repository (tests read ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/data ]; then
  echo "error: ../shared/data not found beside the repository; the tests read real logs from it" >&2
  exit 2
fi
cargo test --workspace --no-fail-fast "$@"
# The client suites below run target/debug/openwatch as built by the test build above.
export OPENWATCH_BUILD_AS_TESTS=1
# Real Python clients (boto3, AWS CLI) against `openwatch serve`; see scripts/py-tests.sh.
scripts/py-tests.sh
# CloudWatch metrics on each protocol under older pinned botocore versions (own venvs).
scripts/py-metrics-tests.sh
# The web console end to end in headless Chromium (builds it with npm, installs Debian's
# chromium when missing, as root); screenshots under target/e2e-screenshots.
if command -v npm >/dev/null 2>&1 || [ "${CI:-}" = true ]; then
  scripts/e2e-console.sh
else
  echo "warning: npm not found: skipping the web console test (scripts/e2e-console.sh)" >&2
fi
