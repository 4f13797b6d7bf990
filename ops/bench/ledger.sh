#!/usr/bin/env bash
# ops/bench/ledger.sh — benchmark the auditors' ledger: rebuild, audit pages, verify.
#
# Usage: ops/bench/ledger.sh [EVENTS] [ACCOUNTS]      (default: 10000000 10000)
#
# What it does:
#   1. checks that the temp directory's file system has enough room and refuses otherwise:
#      at least 20 GB, and ~2.8 KB per event (measured: ~540 B/event of ledger plus
#      ~1.7 KB/event of projections after a rebuild, with headroom for compaction);
#   2. builds `ledger_bench` in Release into build-bench/ (separate from build/);
#   3. runs it on a throw-away data dir: it appends EVENTS realistic events for ACCOUNTS
#      accounts straight through EmbeddedLog (no HTTP), then measures separately
#      (a) `authledger rebuild` (Rebuild) in events/s, (b) audit-log pages (QueryAudit,
#      100 entries newest first, several kinds) median and p99, (c) `authledger audit
#      verify` (VerifyLedger) in events/s, and prints a markdown table;
#   4. removes the data dir on exit (also on Ctrl-C or timeout).
#
# Environment:
#   LEDGER_BENCH_ARGS  extra ledger_bench arguments, e.g. "--threads 8 --sync --span-days 365"
#   BENCH_TIMEOUT      hard limit in seconds for the ledger_bench run (default: 3600)
#   BENCH_BUILD_DIR    build directory                         (default: build-bench)
#   LEDGER_BENCH_BIN   use this binary instead of building one
#   TMPDIR             where the data dir goes                  (default: /tmp)
#   KEEP_TMP=1         keep the data dir for inspection
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/build.bash"
bench_args 10000000 10000 3600 "$@"

# ---------------------------------------------------------------- 1. free disk
tmp_base="${TMPDIR:-/tmp}"
free_kb="$(df -Pk "$tmp_base" | awk 'NR == 2 { print $4 }')"
[[ "$free_kb" =~ ^[0-9]+$ ]] || die "could not read the free space of $tmp_base from df"
need_kb=$(( 20 * 1000 * 1000 * 1000 / 1024 ))
(( events * 2800 / 1024 > need_kb )) && need_kb=$(( events * 2800 / 1024 ))
if (( free_kb < need_kb )); then
  log "only $(( free_kb / 1024 / 1024 )) GiB free in $tmp_base; $events events want about $(( need_kb / 1024 / 1024 + 1 )) GiB (and never less than 20 GB)."
  log "Free some space, or point TMPDIR at a larger file system, and run it again."
  exit 1
fi

# ---------------------------------------------------------------- 2. build
cd "$root"
bench_binary "${LEDGER_BENCH_BIN:-}" ledger_bench ops/bench/ledger_bench

# ---------------------------------------------------------------- 3. run, 4. clean up
run_events_bench "authledger ledger benchmark" authledger-ledger-bench "${LEDGER_BENCH_ARGS:-}"
