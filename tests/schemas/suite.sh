#!/usr/bin/env bash
# Validates what the whole C++ integration suite produced (ctest runs this after
# it: fixture suite_dump): every event of every test's ledger against its JSON
# Schema (with the hash chain re-checked per ledger), and every HTTP response the
# tests received against schemas/openapi.json. Usage: suite.sh <dump dir>
set -euo pipefail
DIR=${1:?usage: suite.sh <dump dir>}
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -d "$HERE/node_modules" ] || (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
shopt -s nullglob
events=("$DIR"/events-*.jsonl)
responses=("$DIR"/responses-*.jsonl)
[ ${#events[@]} -gt 0 ] || fail "no event dumps in $DIR (did the integration tests run with AUTHLEDGER_TEST_DUMP_DIR?)"
[ ${#responses[@]} -gt 0 ] || fail "no response dumps in $DIR"
total=0
for f in "${events[@]}"; do
  node "$HERE/validate-events.mjs" "$f" >"$DIR/last-events.out" 2>&1 || { cat "$DIR/last-events.out"; fail "events in $f"; }
  total=$((total + $(wc -l <"$f")))
done
cat "${responses[@]}" >"$DIR/all-responses.jsonl"
node "$HERE/validate-responses.mjs" "$DIR/all-responses.jsonl" || fail "responses do not match the OpenAPI document"
echo "suite: $total events from ${#events[@]} ledgers validated against their schemas"
echo "1 passed, 0 failed"
