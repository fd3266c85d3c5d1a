#!/usr/bin/env bash
# The main job on a fresh machine: build OpenWatch, import the real CloudTrail samples that ship
# in examples/cloudtrail into an embedded data directory, and run the three Logs Insights queries
# that started the project (examples/queries/0*.insights), printing their results.
#
# Environment: OPENWATCH_DEMO_DIR (default target/demo-data) is wiped and recreated;
# PROFILE=release builds optimised (slower to build, faster to query).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-dev}"
target_dir="${CARGO_TARGET_DIR:-target}"
# The web console (served at /console/ by `openwatch serve`) needs npm; without it the rest still runs.
if command -v npm >/dev/null 2>&1; then scripts/build-console.sh; else echo "== npm not found: skipping the web console (scripts/build-console.sh)"; fi
if [ "$profile" = release ]; then
  cargo build --release -p openwatch
  bin="$target_dir/release/openwatch"
else
  cargo build -p openwatch
  bin="$target_dir/debug/openwatch"
fi
data="${OPENWATCH_DEMO_DIR:-target/demo-data}"
rm -rf "$data"

echo "== Importing real CloudTrail samples into log group 'cloudtrail'"
"$bin" import --data-dir "$data" --log-group cloudtrail \
  examples/cloudtrail/AWSLogs \
  examples/cloudtrail/stratus-red-team-detonation-logs.ndjson.gz \
  examples/cloudtrail/trailscraper
echo "== Importing Panther rule-test fixtures (not real traffic) into log group 'cloudtrail-fixtures'"
"$bin" import --data-dir "$data" --log-group cloudtrail-fixtures \
  examples/cloudtrail/panther-analysis-rule-tests.ndjson.gz

echo "== Checking the queries"
"$bin" check --file examples/queries/01-login-errors.insights \
  --file examples/queries/02-assumerole-not-saml.insights \
  --file examples/queries/03-other-regions.insights

for q in examples/queries/0*.insights; do
  echo
  echo "== $q"
  cat "$q"
  echo "-- over log group 'cloudtrail':"
  "$bin" query --data-dir "$data" --log-group cloudtrail \
    --format table --query-file "$q"
done

echo
echo "== The first query again, over both log groups, with the fixtures' account id"
echo "   (no real public CloudTrail has failed console logins; see examples/cloudtrail/README.md)"
sed "s/012345678987/111122223333/" examples/queries/01-login-errors.insights > "$data/q1-fixtures.insights"
"$bin" query --data-dir "$data" --log-group cloudtrail --log-group cloudtrail-fixtures \
  --format table --query-file "$data/q1-fixtures.insights"

echo
echo "== Done. The data is in $data and the binary is $bin; try for example:"
echo "   $bin query --data-dir $data --log-group cloudtrail \\"
echo "       'stats count(*) as events by eventSource | sort events desc | limit 10'"
echo "   (the samples date from 2017 to 2024: a relative --start such as 7d finds none of them)"
