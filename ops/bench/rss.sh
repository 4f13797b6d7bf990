#!/usr/bin/env bash
# ops/bench/rss.sh — memory and verify throughput at a million keys, against a thousand keys in
# the same run.
#
# Usage: ops/bench/rss.sh
#
# Two ledgers of ACCOUNTS accounts: the small one holds each account's admin key only (1,000 keys
# by default), the large one KEYS_LARGE more keys per account (1,000 + 999,000 = 1,000,000 keys).
# Both servers run with the default configuration (no config file; BENCH_CONFIG to change that).
# All on 127.0.0.1, bounded in time:
#   1. installs the bench dependencies (ops/install-deps.sh bench), builds `authledger` and
#      `bench_seed` in Release into build-bench/ (separate from build/);
#   2. `bench_seed` writes both ledgers straight through the EventLog API (no HTTP), with a sample
#      of SAMPLE live keys spread over all accounts (all keys when fewer) as verify bodies;
#   3. starts `authledger serve` on each (it fills its projections on start, then listens) and
#      reads VmRSS and VmHWM (/proc/PID/status) once it answers /healthz;
#   4. runs ROUNDS rounds, each a wrk run of verifies against the small server, then the large one
#      (ops/bench/rotate.lua: POST /v1/keys/verify rotating over the sample; every response must
#      be a 200 with "valid":true, else the script fails);
#   5. reads VmRSS and VmHWM again, prints the table, the ratio of the median verify req/s (large /
#      small; the issue-12 target is >= 0.90) and whether the large server stayed under 300 MB;
#      stops both servers and removes the temp dir on exit (also on Ctrl-C).
# Time: about 3 minutes on 2 cores with the write path of issue 11 (seeding and filling the
# million keys take about a minute of it).
#
# Environment:
#   ACCOUNTS        accounts in each ledger                  (default: 1000)
#   KEYS_LARGE      keys per account in the large one, besides its admin key (default: 999)
#   SAMPLE          verify bodies (distinct keys) per ledger (default: 100000)
#   ROUNDS          rounds, medians                          (default: 5)
#   WRK_ARGS        wrk load arguments                       (default: -t2 -c64 -d10s)
#   WARMUP_SECONDS  unreported verifies per server before round 1 (default: 2; 0 = none)
#   FILL_TIMEOUT    limit for a server to fill and listen    (default: 1200 s)
#   SEED_TIMEOUT    limit for one bench_seed run             (default: 1200 s)
#   WRK_TIMEOUT     limit for one wrk run                    (default: 300 s)
#   BENCH_PORT      first port tried                         (default: 18280)
#   BENCH_CONFIG    config file for both servers             (default: none, the defaults)
#   BENCH_BUILD_DIR build directory                          (default: build-bench)
#   AUTHLEDGER_BIN, BENCH_SEED_BIN  use these binaries instead of building them
#   TMPDIR          where the data dirs go (1.1 GB for 1M keys) (default: /tmp)
#   KEEP_TMP=1      keep the temp dir (logs, wrk outputs) for inspection
# Note: wrk and the servers share this machine's cores; compare within a run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/build.bash"
source "$here/server.bash"

if [[ $# -gt 0 ]]; then
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "rss.sh: unexpected argument '$1' (configure with environment variables, see --help)" >&2; exit 2 ;;
  esac
fi

accounts="${ACCOUNTS:-1000}"
keys_large="${KEYS_LARGE:-999}"
sample="${SAMPLE:-100000}"
rounds="${ROUNDS:-5}"
wrk_args_str="${WRK_ARGS:--t2 -c64 -d10s}"
warmup="${WARMUP_SECONDS:-2}"
fill_timeout="${FILL_TIMEOUT:-1200}"
seed_timeout="${SEED_TIMEOUT:-1200}"
wrk_timeout="${WRK_TIMEOUT:-300}"
port_base="${BENCH_PORT:-18280}"
for v in accounts keys_large sample rounds warmup fill_timeout seed_timeout wrk_timeout port_base; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "rss.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( accounts >= 1 && sample >= 1 && rounds >= 1 )) || { echo "rss.sh: ACCOUNTS, SAMPLE and ROUNDS must be >= 1" >&2; exit 2; }
read -r -a wrk_args <<<"$wrk_args_str"
config=""
if [[ -n "${BENCH_CONFIG:-}" ]]; then
  config="$(cd "$(dirname "$BENCH_CONFIG")" && pwd)/$(basename "$BENCH_CONFIG")"
fi
brokers=""
unset AUTHLEDGER_DATA AUTHLEDGER_LISTEN AUTHLEDGER_CONFIG AUTHLEDGER_KAFKA_BROKERS AUTHLEDGER_KAFKA_TOPIC

# ---------------------------------------------------------------- 1. dependencies, build
cd "$root"
bash ops/install-deps.sh bench >&2
bench_binary "${AUTHLEDGER_BIN:-}" authledger app/authledger
seed_bin="$(release_binary "${BENCH_SEED_BIN:-}" bench_seed ops/bench/bench_seed)"
[[ -x "$seed_bin" ]] || die "$seed_bin is not an executable"

bench_tmpdir authledger-rss-bench
trap bench_exit EXIT

sizes=(small large)
declare -A keys_per=([small]=0 [large]="$keys_large")
declare -A total=() seed_s=() fill_s=() url=() pid=() rss_fill=() hwm_fill=() rss_load=() hwm_load=()
declare -A rps_l=() p50_l=() p99_l=()

# ---------------------------------------------------------------- 2. seed, 3. fill
for s in "${sizes[@]}"; do
  dir="$BENCH_TMP/$s"
  mkdir -p "$dir"
  total[$s]=$(( accounts * (1 + ${keys_per[$s]}) ))
  n=$(( sample < total[$s] ? sample : total[$s] ))
  log "$s: seeding $accounts accounts × (admin + ${keys_per[$s]} keys) = ${total[$s]} keys, $n sampled"
  line="$(seed "$dir/data" "$accounts" "${keys_per[$s]}" 0 "$dir" --sample "$n" --sample-out "$dir/sample.txt")"
  log "$s: $line"
  seed_s[$s]="$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")"
  start_server "$dir/data" "$dir/serve.log" "$fill_timeout"
  fill_s[$s]=$srv_ready_s
  url[$s]=$srv_url
  pid[$s]=$srv_pid
  sleep 2  # let the start settle (background compactions, first checkpoint)
  read -r rss_fill[$s] hwm_fill[$s] < <(rss_kb "${pid[$s]}") || die "cannot read /proc/${pid[$s]}/status"
  log "$s: listening after ${fill_s[$s]} s; VmRSS ${rss_fill[$s]} kB, VmHWM ${hwm_fill[$s]} kB"
done

# ---------------------------------------------------------------- 4. rounds
check_run() {  # check_run FILE: parse, fail on any bad response; prints the parsed line
  local parsed bad statuses
  parsed="$(parse_rotate "$1")" || { cat "$1" >&2; die "could not parse wrk's output above"; }
  read -r _ _ _ _ bad _ statuses <<<"$parsed"
  (( bad == 0 )) || die "$bad verify response(s) were not a 200 VALID (statuses $statuses)"
  echo "$parsed"
}
if (( warmup > 0 )); then
  for s in "${sizes[@]}"; do
    srv_url=${url[$s]}
    run_rotate verify "$BENCH_TMP/$s/sample.txt" "$BENCH_TMP/$s/wrk-warmup.txt" -t2 -c16 "-d${warmup}s"
    check_run "$BENCH_TMP/$s/wrk-warmup.txt" >/dev/null
  done
fi

echo
echo "## Memory and verify throughput at 1M keys — $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(machine_note)"
echo
echo "wrk ${wrk_args_str} --latency, ${rounds} round(s); config: ${BENCH_CONFIG:-the defaults}"
echo
echo "### Every run"
echo
echo "| keys | round | verify req/s | p50 ms | p99 ms | responses | socket errors |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for ((r = 1; r <= rounds; r++)); do
  for s in "${sizes[@]}"; do
    srv_url=${url[$s]}
    log "round $r/$rounds: wrk ${wrk_args_str} against the $s ledger (${total[$s]} keys)"
    out="$BENCH_TMP/$s/wrk-$r.txt"
    run_rotate verify "$BENCH_TMP/$s/sample.txt" "$out" "${wrk_args[@]}"
    parsed="$(check_run "$out")"
    read -r rps p50 p99 resp _ sock _ <<<"$parsed"
    printf '| %s | %d | %.0f | %.3f | %.3f | %d | %d |\n' "${total[$s]}" "$r" "$rps" "$p50" "$p99" "$resp" "$sock"
    rps_l[$s]+=" $rps"
    p50_l[$s]+=" $p50"
    p99_l[$s]+=" $p99"
  done
done

# ---------------------------------------------------------------- 5. memory after the load, table
for s in "${sizes[@]}"; do
  read -r rss_load[$s] hwm_load[$s] < <(rss_kb "${pid[$s]}") || die "cannot read /proc/${pid[$s]}/status"
done
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
echo
echo "### Medians"
echo
echo "| keys | accounts | seed s | fill s | RSS after fill MB | HWM after fill MB | verify req/s | p50 ms | p99 ms | RSS after load MB | HWM after load MB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
declare -A med=()
for s in "${sizes[@]}"; do
  read -r -a rl <<<"${rps_l[$s]}"
  read -r -a p5 <<<"${p50_l[$s]}"
  read -r -a p9 <<<"${p99_l[$s]}"
  med[$s]="$(median '%.1f' "${rl[@]}")"
  printf '| %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s |\n' "${total[$s]}" "$accounts" "${seed_s[$s]}" \
    "${fill_s[$s]}" "$(mb "${rss_fill[$s]}")" "$(mb "${hwm_fill[$s]}")" "${med[$s]}" "$(median '%.3f' "${p5[@]}")" \
    "$(median '%.3f' "${p9[@]}")" "$(mb "${rss_load[$s]}")" "$(mb "${hwm_load[$s]}")"
done
echo
awk -v l="${med[large]}" -v s="${med[small]}" -v nl="${total[large]}" -v ns="${total[small]}" 'BEGIN {
  if (s > 0) printf "**verify req/s at %d keys / at %d keys: %.3f** (target >= 0.90: %s)\n", nl, ns, l / s, (l / s >= 0.9) ? "meets" : "misses"
}'
awk -v h="${hwm_load[large]}" -v n="${total[large]}" 'BEGIN {
  printf "**peak RSS (VmHWM) of the %d-key server: %.0f MB** (target < 300 MB: %s)\n", n, h / 1024, (h / 1024 < 300) ? "meets" : "misses"
}'
echo
log "all verifies were 200 VALID"
