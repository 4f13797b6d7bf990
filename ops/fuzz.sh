#!/usr/bin/env bash
# ops/fuzz.sh — build the libFuzzer targets (tests/fuzz/, CMake preset `fuzz`: clang-16 with
# -fsanitize=fuzzer,address,undefined) and fuzz each for a given time (docs/fuzzing.md).
#
# Usage: ops/fuzz.sh [SECONDS] [TARGET...]       e.g. ops/fuzz.sh 600 cidr envelope
#
#   SECONDS  time per target (default 60)
#   TARGET   api_key cidr redirect_uri envelope ledger_record json_request config http_request
#            (default: all of them)
#
# Each target starts from its seed corpus, tests/fuzz/corpus/<target>/ (read, never written), and
# keeps what it learns in build-fuzz/fuzz/<target>/corpus/ (reused by the next run). A crash, leak,
# sanitizer finding or timeout (30 s for one input) stops that target and leaves the input in
# build-fuzz/fuzz/<target>/crash-* (or leak-*, timeout-*, oom-*); replay it with
#   build-fuzz/tests/fuzz/fuzz_<target> FILE
# and make it a regression seed (docs/fuzzing.md says how). Per target the log is
# build-fuzz/fuzz/<target>/log; the summary printed at the end (one line per target: executions,
# coverage, corpus size, result) is what docs/fuzzing.md records. Exit 1 if any target failed.
#
# Environment:
#   FUZZ_PARALLEL  targets fuzzed at once (default 2; each uses one core, http_request a little more)
#   FUZZ_ARGS      extra libFuzzer flags, e.g. "-max_len=2048"
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
all_targets=(api_key cidr redirect_uri envelope ledger_record json_request config http_request)
seconds="${1:-60}"
[[ $# -gt 0 ]] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "fuzz: SECONDS must be a positive number, got '$seconds'" >&2; exit 2
fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [[ " ${all_targets[*]} " != *" $t "* ]]; then
    echo "fuzz: unknown target '$t' (expected: ${all_targets[*]})" >&2; exit 2
  fi
done
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"

bash ops/install-deps.sh fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]/#/fuzz_}"

out=build-fuzz/fuzz
mkdir -p "$out"
run_one() {
  local t="$1" seconds="$2" dir="$out/$1"
  mkdir -p "$dir/corpus"
  local bin="build-fuzz/tests/fuzz/fuzz_$t" rc=0
  # -use_value_profile helps through the comparisons of checksums and literals; halting on the first
  # finding (libFuzzer's default) keeps its input as an artifact.
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -use_value_profile=1 -print_final_stats=1 \
    -artifact_prefix="$dir/" ${FUZZ_ARGS:-} "$dir/corpus" "tests/fuzz/corpus/$t" >"$dir/log" 2>&1 || rc=$?
  local execs cov corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 | cut -d' ' -f2)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  local result=ok
  [[ $rc -ne 0 ]] && result="FAILED (exit $rc; see $dir/log and $dir/)"
  printf '%-14s %6ss  execs %-11s cov %-6s corpus %-6s %s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "$corpus" "$result"
  [[ $rc -eq 0 ]]
}
export -f run_one
export out

echo "fuzz: ${#targets[@]} target(s), ${seconds}s each, ${FUZZ_PARALLEL:-2} at once; logs in $out/<target>/log"
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_PARALLEL:-2}" -I{} bash -c 'run_one "$1" "$2"' _ {} "$seconds" \
  | tee "$out/summary.$$.partial"
status=${PIPESTATUS[1]}
mv "$out/summary.$$.partial" "$out/summary.txt"
exit $(( status != 0 ))
