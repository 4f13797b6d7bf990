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

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
  exit 0
fi
(( $# <= 2 )) || { echo "ledger.sh: at most two arguments: [EVENTS] [ACCOUNTS]" >&2; exit 2; }

events="${1:-10000000}"
accounts="${2:-10000}"
timeout_s="${BENCH_TIMEOUT:-3600}"
for v in events accounts timeout_s; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "ledger.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( accounts >= 1 && events >= 3 * accounts )) || { echo "ledger.sh: need ACCOUNTS >= 1 and EVENTS >= 3 x ACCOUNTS" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
log() { printf '[ledger.sh] %s\n' "$*" >&2; }
die() { printf '[ledger.sh] ERROR: %s\n' "$*" >&2; exit 1; }

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
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"
source ops/bench/build.bash
bin="$(release_binary "${LEDGER_BENCH_BIN:-}" ledger_bench ops/bench/ledger_bench)"
log "measuring $bin"
[[ -x "$bin" ]] || die "$bin is not an executable"

# ---------------------------------------------------------------- 3. run, 4. clean up
tmp="$(mktemp -d "$tmp_base/authledger-ledger-bench.XXXXXX")"
chmod 0700 "$tmp"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read -r -a extra <<<"${LEDGER_BENCH_ARGS:-}"
log "ledger_bench --events $events --accounts $accounts ${extra[*]} (data in $tmp, limit ${timeout_s}s)"
echo
echo "## authledger ledger benchmark — $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(nproc) cores, $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
start=$SECONDS
rc=0
timeout --foreground -k 10 "$timeout_s" "$bin" --data "$tmp/data" --events "$events" --accounts "$accounts" "${extra[@]}" || rc=$?
(( rc == 124 )) && die "ledger_bench exceeded ${timeout_s}s (BENCH_TIMEOUT)"
(( rc == 0 )) || die "ledger_bench failed (exit $rc)"
log "done in $(( SECONDS - start )) s"
