#!/usr/bin/env bash
# ops/bench/create.sh — key creation over HTTP (POST /v1/keys) at scale: embedded ledger and
# devbroker (librdkafka's mock cluster) in the same run.
#
# Usage: ops/bench/create.sh
#
# The table: one row per ledger × accounts × keys already in each account × connections, with
# creates/s, p50 and p99 (medians of ROUNDS), and the issue-12 targets (at 64 connections: >= 5,000
# creates/s across 1,000 accounts, >= 2,000/s in one account, p99 < 20 ms; flat within 10 % from 0 to
# the most keys). All on 127.0.0.1, bounded in time:
#   1. installs the bench dependencies (ops/install-deps.sh bench), builds `authledger`,
#      `bench_seed` and `devbroker` in Release into build-bench/ (separate from build/);
#   2. writes the bench configuration (below) unless BENCH_CONFIG names one;
#   3. per row: `bench_seed` writes the accounts straight into the ledger (an admin key each, then
#      KEYS keys per account; beyond MAX_LIVE the older ones revoked, so that creates stay under
#      keys.max_live_keys = 100000), `authledger serve` fills its projections on start, and wrk
#      sends creates (ops/bench/rotate.lua, rotating over the accounts' admin keys; every response
#      must be a 201, else the script fails). Each measurement (round × connections) starts from the
#      same seeded state: embedded, a copy of the data dir filled once; devbroker, a fresh mock
#      cluster seeded again (it cannot be copied);
#   4. prints every run, then the medians; removes the temp dir and stops everything on exit.
# Rows whose accounts × keys exceed MAX_TOTAL_KEYS are skipped (1,000 accounts × 10k keys would be
# 10M keys), and so are devbroker rows whose ledger would not fit the mock's retention (it keeps
# only ~5 MiB per partition and silently drops older data; one account lives in one partition).
#
# One account may hold at most 100,000 live keys, and one account takes ~15,000 creates/s on 2
# cores: a run (with its warm-up) must stay under that, hence runs of 5 s and at most 10,000 live
# keys seeded (an account of 100k keys then has 90k revoked ones); a run that hits the limit fails.
#
# The bench configuration (the defaults but for two limits a write benchmark would hit):
#   [keys]   max_live_keys = 100000                               (default 25 per account)
#   [limits] key_reads_per_minute = key_writes_per_minute = 1000000 (default 600 / 120 per key)
# The Kafka settings are the shipped ones (KafkaLog's defaults); the devbroker topic has
# DEVBROKER_PARTITIONS partitions.
#
# Time: the full default matrix took 16 minutes on 2 cores with the write path of issue 11 (9
# ledgers, 6 runs of ~15 s each; the 1M-key one copies a 1.1 GB data dir before each run); a
# subset, e.g. LEDGERS=embedded ACCOUNTS=1 KEYS="0 10000" CONNECTIONS=64 ROUNDS=1, about a minute.
#
# Environment:
#   LEDGERS               ledgers to measure               (default: "embedded devbroker")
#   ACCOUNTS              accounts per row                 (default: "1 1000")
#   KEYS                  keys already in each account     (default: "0 1000 10000 100000")
#   CONNECTIONS           wrk connections                  (default: "1 64"; threads: min(2, C))
#   ROUNDS                measurements per row, medians    (default: 3)
#   DURATION              seconds of one wrk run           (default: 5)
#   WARMUP_SECONDS        unreported creates (1 connection) before each run (default: 2; 0 = none)
#   REQUEST_TIMEOUT       wrk --timeout: slower creates count as socket errors (default: 30 s)
#   MAX_TOTAL_KEYS        skip rows above it               (default: 1000000)
#   MAX_LIVE              live keys seeded per account at most (default: 10000)
#   DEVBROKER_PARTITIONS  the mock topic's partitions      (default: 12, as ops/kafka/compose.yaml)
#   FILL_TIMEOUT          limit for a server to fill and listen (default: 1200 s)
#   SEED_TIMEOUT          limit for one bench_seed run     (default: 1200 s)
#   WRK_TIMEOUT           limit for one wrk run            (default: DURATION + REQUEST_TIMEOUT + 60 s)
#   BENCH_PORT            first port tried                 (default: 18180)
#   BENCH_CONFIG          use this config file instead of the bench configuration
#   BENCH_BUILD_DIR       build directory                  (default: build-bench)
#   AUTHLEDGER_BIN, BENCH_SEED_BIN, DEVBROKER_BIN  use these binaries instead of building them
#   TMPDIR                where the data dirs go (the 1M-key row needs ~2.5 GB) (default: /tmp)
#   KEEP_TMP=1            keep the temp dir (logs, wrk outputs) for inspection
# Note: wrk, the server (and the devbroker) share this machine's cores; compare within a run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/build.bash"
source "$here/server.bash"

if [[ $# -gt 0 ]]; then
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "create.sh: unexpected argument '$1' (configure with environment variables, see --help)" >&2; exit 2 ;;
  esac
fi

read -r -a ledgers <<<"${LEDGERS:-embedded devbroker}"
read -r -a account_counts <<<"${ACCOUNTS:-1 1000}"
read -r -a key_counts <<<"${KEYS:-0 1000 10000 100000}"
read -r -a connections <<<"${CONNECTIONS:-1 64}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
warmup="${WARMUP_SECONDS:-2}"
max_total="${MAX_TOTAL_KEYS:-1000000}"
max_live="${MAX_LIVE:-10000}"
partitions="${DEVBROKER_PARTITIONS:-12}"
fill_timeout="${FILL_TIMEOUT:-1200}"
seed_timeout="${SEED_TIMEOUT:-1200}"
request_timeout="${REQUEST_TIMEOUT:-30}"
wrk_timeout="${WRK_TIMEOUT:-$(( ${DURATION:-5} + ${REQUEST_TIMEOUT:-30} + 60 ))}"
port_base="${BENCH_PORT:-18180}"
for v in rounds duration warmup request_timeout max_total max_live partitions fill_timeout seed_timeout wrk_timeout port_base; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "create.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
for v in "${account_counts[@]}" "${key_counts[@]}" "${connections[@]}"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "create.sh: ACCOUNTS, KEYS and CONNECTIONS take whole numbers (got '$v')" >&2; exit 2; }
done
for l in "${ledgers[@]}"; do
  [[ "$l" == embedded || "$l" == devbroker ]] || { echo "create.sh: LEDGERS takes embedded and devbroker (got '$l')" >&2; exit 2; }
done
(( rounds >= 1 && duration >= 1 && partitions >= 1 )) || { echo "create.sh: ROUNDS, DURATION and DEVBROKER_PARTITIONS must be >= 1" >&2; exit 2; }
# The flags given below must win over whatever the caller's environment says.
unset AUTHLEDGER_DATA AUTHLEDGER_LISTEN AUTHLEDGER_CONFIG AUTHLEDGER_KAFKA_BROKERS AUTHLEDGER_KAFKA_TOPIC

# ---------------------------------------------------------------- 1. dependencies, build
cd "$root"
bash ops/install-deps.sh bench >&2
bench_binary "${AUTHLEDGER_BIN:-}" authledger app/authledger
seed_bin="$(release_binary "${BENCH_SEED_BIN:-}" bench_seed ops/bench/bench_seed)"
[[ -x "$seed_bin" ]] || die "$seed_bin is not an executable"
devbroker_bin=""
if [[ " ${ledgers[*]} " == *" devbroker "* ]]; then
  devbroker_bin="$(release_binary "${DEVBROKER_BIN:-}" devbroker ops/devbroker/devbroker)"
  [[ -x "$devbroker_bin" ]] || die "$devbroker_bin is not an executable"
fi

# ---------------------------------------------------------------- 2. temp dir, configuration
bench_tmpdir authledger-create-bench
trap bench_exit EXIT
if [[ -n "${BENCH_CONFIG:-}" ]]; then
  config="$(cd "$(dirname "$BENCH_CONFIG")" && pwd)/$(basename "$BENCH_CONFIG")"
else
  config="$BENCH_TMP/bench.toml"
  cat >"$config" <<'EOF'
# ops/bench/create.sh: the defaults, but for the limits a write benchmark would hit.
[keys]
max_live_keys = 100000
[limits]
key_reads_per_minute = 1000000
key_writes_per_minute = 1000000
EOF
fi

# ---------------------------------------------------------------- 3. rows
declare -A rps_l=() p50_l=() p99_l=() fill_s=() seed_line=()
row_keys=()   # "ledger|accounts|keys" in the order measured
sock_total=0
skipped=()

# est_partition_bytes ACCOUNTS KEYS LIVE: a generous estimate of the ledger bytes in the fullest
# partition after seeding: ~1 KiB per event on the mock (envelope, headers, record batch; see
# docs/performance.md, Kafka ledger); fewer accounts than partitions may all share one,
# more hash unevenly (1.5x the mean).
est_partition_bytes() {
  local a=$1 k=$2 l=$3 bytes
  bytes=$(( a * (2 + k + (k - l)) * 1024 ))
  if (( a < partitions )); then echo "$bytes"; else echo $(( bytes * 3 / (2 * partitions) )); fi
}

# measure RUN_DIR LEDGER ACCOUNTS CONNS ROUND KEY: warm-up, one wrk run, its line in the runs table.
measure() {
  local dir=$1 ledger=$2 a=$3 c=$4 r=$5 key=$6 t out parsed rps p50 p99 resp bad sock statuses
  t=$(( c < 2 ? c : 2 ))
  if (( warmup > 0 )); then
    # One connection: at most one create is still in flight when the measured run starts.
    run_rotate create "$dir/admins.txt" "$dir/wrk-warmup.txt" -t1 -c1 "-d${warmup}s"
    parsed="$(parse_rotate "$dir/wrk-warmup.txt")" || { cat "$dir/wrk-warmup.txt" >&2; die "could not parse wrk's output"; }
    read -r _ _ _ _ bad _ statuses <<<"$parsed"
    (( bad == 0 )) || die "warm-up: $bad create(s) were not a 201 (statuses $statuses)"
  fi
  out="$dir/wrk-$r-$c.txt"
  run_rotate create "$dir/admins.txt" "$out" "-t$t" "-c$c" "-d${duration}s" --timeout "${request_timeout}s"
  parsed="$(parse_rotate "$out")" || { cat "$out" >&2; die "could not parse wrk's output above"; }
  read -r rps p50 p99 resp bad sock statuses <<<"$parsed"
  printf '| %s | %s | %s | %s | %s | %.0f | %.2f | %.2f | %d | %d | %d |\n' \
    "$ledger" "$a" "${key##*|}" "$c" "$r" "$rps" "$p50" "$p99" "$resp" "$bad" "$sock"
  (( bad == 0 )) || die "$bad create(s) were not a 201 (statuses $statuses): these numbers would not measure creates"
  (( resp > 0 )) || die "no create completed within ${duration} s: raise DURATION for this row"
  sock_total=$(( sock_total + sock ))
  rps_l[$key|$c]+=" $rps"
  p50_l[$key|$c]+=" $p50"
  p99_l[$key|$c]+=" $p99"
}

run_row() {
  local ledger=$1 a=$2 k=$3 live=$4 key="$1|$2|$3" dir="$BENCH_TMP/row" r c
  rm -rf "$dir"
  mkdir -p "$dir"
  row_keys+=("$key")
  if [[ "$ledger" == embedded ]]; then
    log "$key: seeding"
    seed_line[$key]="$(seed "$dir/snap" "$a" "$k" "$live" "$dir")"
    log "$key: ${seed_line[$key]}"
    start_server "$dir/snap" "$dir/fill.log" "$fill_timeout"
    fill_s[$key]=$srv_ready_s
    log "$key: filled and listening after ${fill_s[$key]} s"
    stop_server
  fi
  for ((r = 1; r <= rounds; r++)); do
    for c in "${connections[@]}"; do
      rm -rf "$dir/data"
      if [[ "$ledger" == embedded ]]; then
        cp -a "$dir/snap" "$dir/data"
        start_server "$dir/data" "$dir/serve.log" "$fill_timeout"
      else
        stop_devbroker
        start_devbroker "$dir" "$partitions"
        seed_line[$key]="$(seed "$dir/data" "$a" "$k" "$live" "$dir")"
        start_server "$dir/data" "$dir/serve.log" "$fill_timeout"
        [[ -n "${fill_s[$key]:-}" ]] || fill_s[$key]=$srv_ready_s
      fi
      log "$key: round $r/$rounds, $c connection(s), ${duration} s"
      measure "$dir" "$ledger" "$a" "$c" "$r" "$key"
      stop_server
    done
  done
  stop_devbroker
  [[ "${KEEP_TMP:-0}" == 1 ]] || rm -rf "$dir"
}

echo
echo "## Key creation over HTTP (POST /v1/keys) — $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(machine_note)"
echo
echo "wrk -t min(2,C) -cC -d${duration}s --timeout ${request_timeout}s --latency, ${warmup} s warm-up (1 connection) before each run, ${rounds} round(s);" \
  "config: ${BENCH_CONFIG:-max_live_keys = 100000, key_reads/writes_per_minute = 1000000}; devbroker: 3 brokers, $partitions partitions"
echo
echo "### Every run"
echo
echo "| ledger | accounts | keys/account | conns | round | creates/s | p50 ms | p99 ms | responses | not 201 | socket errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for a in "${account_counts[@]}"; do
  for k in "${key_counts[@]}"; do
    live=0
    (( k > max_live )) && live=$max_live
    if (( a * k > max_total )); then
      skipped+=("$a account(s) × $k keys: $(( a * k )) keys > MAX_TOTAL_KEYS ($max_total)")
      continue
    fi
    for ledger in "${ledgers[@]}"; do
      if [[ "$ledger" == devbroker ]]; then
        est="$(est_partition_bytes "$a" "$k" "$(( live > 0 ? live : k ))")"
        if (( est > 4 * 1024 * 1024 )); then
          skipped+=("devbroker, $a account(s) × $k keys: ~$(( est / 1024 / 1024 )) MiB in one partition; the mock keeps ~5 MiB")
          continue
        fi
      fi
      run_row "$ledger" "$a" "$k" "$live"
    done
  done
done

# ---------------------------------------------------------------- 4. medians
echo
echo "### Median of $rounds round(s)"
echo
echo "| ledger | accounts | keys/account | conns | creates/s | p50 ms | p99 ms | vs 0 keys | devbroker / embedded | fill s | target (64 conns) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
declare -A med=()
for key in "${row_keys[@]}"; do
  for c in "${connections[@]}"; do
    read -r -a l <<<"${rps_l[$key|$c]:-}"
    (( ${#l[@]} > 0 )) && med[$key|$c]="$(median '%.1f' "${l[@]}")"
  done
done
for key in "${row_keys[@]}"; do
  IFS='|' read -r ledger a k <<<"$key"
  for c in "${connections[@]}"; do
    [[ -n "${med[$key|$c]:-}" ]] || continue
    read -r -a p5 <<<"${p50_l[$key|$c]}"
    read -r -a p9 <<<"${p99_l[$key|$c]}"
    m=${med[$key|$c]}
    p50="$(median '%.2f' "${p5[@]}")"
    p99="$(median '%.2f' "${p9[@]}")"
    base="${med[$ledger|$a|0|$c]:-}"
    flat="–"
    [[ -n "$base" ]] && flat="$(awk -v m="$m" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", m / b; else print "–" }')"
    emb="${med[embedded|$a|$k|$c]:-}"
    vs="–"
    [[ "$ledger" == devbroker && -n "$emb" ]] && vs="$(awk -v m="$m" -v b="$emb" 'BEGIN { if (b > 0) printf "%.2f", m / b; else print "–" }')"
    target="–"
    if (( c == 64 )); then
      want=$(( a >= 1000 ? 5000 : 2000 ))
      target="$(awk -v m="$m" -v w="$want" -v p="$p99" 'BEGIN {
        printf "%s (>= %d/s, p99 < 20 ms)", (m >= w && p < 20) ? "meets" : "misses", w }')"
    fi
    printf '| %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' \
      "$ledger" "$a" "$k" "$c" "$m" "$p50" "$p99" "$flat" "$vs" "${fill_s[$key]:-–}" "$target"
  done
done
echo
echo "\"vs 0 keys\": median creates/s over the same ledger, accounts and connections with no keys seeded (flat: >= 0.90)."
for key in "${row_keys[@]}"; do echo "- seed $key: ${seed_line[$key]:-}"; done
for s in "${skipped[@]}"; do echo "- skipped: $s"; done
echo
(( sock_total == 0 )) || log "warning: wrk reported $sock_total socket error(s) (timeouts: creates slower than ${request_timeout} s), see the runs"
log "all creates were 201"
