#!/usr/bin/env bash
# Builds the web console (web/, TypeScript + Vite) into web/dist, which `openwatch` embeds
# and serves at /console/. Needs Node.js >= 20.19 and npm; the Rust build does not (without
# web/dist the console page only says to run this script).
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found; install Node.js (>= 20.19) and npm to build the console" >&2
  exit 2
fi
npm ci --no-audit --no-fund
npm run build
echo "console built: web/dist (served by 'openwatch serve' at http://127.0.0.1:4566/console/)"
