# Shared by the write-path benchmark scripts (create.sh, rss.sh): a seeded data dir, an
# `authledger serve` on it, the devbroker, wrk runs with rotate.lua, and what they report.
# Source build.bash first (log, die). Every process started here is stopped by stop_all, which the
# scripts call from their EXIT trap.

srv_pid=""     # the `authledger serve` started last
srv_url=""     # its http://127.0.0.1:PORT
srv_ready_s="" # the seconds it took to fill its projections and listen
srv_pids=()    # every server started (stop_all stops those still running)
broker_pid=""  # the running devbroker
brokers=""     # its bootstrap address

# stop_pid PID NAME: TERM, wait up to 30 s (a server signs a last checkpoint), then KILL.
stop_pid() {
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop within 30 s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

stop_server() { stop_pid "$srv_pid" authledger; srv_pid=""; }
stop_devbroker() { stop_pid "$broker_pid" devbroker; broker_pid=""; brokers=""; }
stop_all() {
  local p
  for p in "${srv_pids[@]}"; do stop_pid "$p" authledger; done
  srv_pids=()
  srv_pid=""
  stop_devbroker
}

# bench_exit: the scripts' EXIT trap (after bench_tmpdir): stops everything, shows the server's
# last log lines after a failure, then removes the temp dir (build.bash's _bench_cleanup).
bench_exit() {
  local rc=$? f
  stop_all
  if (( rc != 0 )); then
    for f in "$BENCH_TMP"/row/serve.log "$BENCH_TMP"/row/fill.log "$BENCH_TMP"/*/serve.log; do
      [[ -s "$f" ]] || continue
      log "last lines of $f:"
      tail -n 15 "$f" >&2 || true
    done
  fi
  set +e  # (exit RC) hands RC to _bench_cleanup; under errexit it would end this trap instead
  (exit "$rc")
  _bench_cleanup
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {  # free_port FIRST: the first loopback port >= FIRST nobody listens on
  local p
  for ((p = $1; p < $1 + 200 && p < 65536; p++)); do
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port in $1..$(( $1 + 199 ))"
}

# start_devbroker DIR PARTITIONS: librdkafka's mock cluster (3 brokers) with topic
# authledger.events; sets broker_pid and brokers. Its output goes to DIR/devbroker.out.
start_devbroker() {
  local dir=$1 partitions=$2 i
  rm -f "$dir/devbroker.out"  # the redirection below truncates it only once the child runs
  "$devbroker_bin" --brokers 3 --topic authledger.events --partitions "$partitions" \
    </dev/null >"$dir/devbroker.out" 2>"$dir/devbroker.err" &
  broker_pid=$!
  for ((i = 0; i < 100; i++)); do
    [[ -s "$dir/devbroker.out" ]] && break
    kill -0 "$broker_pid" 2>/dev/null || { cat "$dir/devbroker.err" >&2; die "devbroker exited"; }
    sleep 0.1
  done
  brokers="$(head -n 1 "$dir/devbroker.out")"
  [[ "$brokers" == 127.0.0.1:* ]] || die "devbroker did not print its bootstrap address"
}

# seed DATA_DIR ACCOUNTS KEYS MAX_LIVE OUT_DIR [bench_seed args...]: bench_seed into DATA_DIR
# (on the devbroker when $brokers is set), admin keys to OUT_DIR/admins.txt; prints its summary
# line. Extra arguments go to bench_seed (e.g. --sample N --sample-out FILE).
seed() {
  local data=$1 accounts=$2 keys=$3 max_live=$4 out=$5
  shift 5
  local args=(--data "$data" --accounts "$accounts" --keys "$keys" --max-live "$max_live" --admin-out "$out/admins.txt")
  [[ -n "$config" ]] && args+=(--config "$config")
  [[ -n "$brokers" ]] && args+=(--kafka-brokers "$brokers")
  rm -f "$out/admins.txt"
  timeout --foreground -k 10 "$seed_timeout" "$seed_bin" "${args[@]}" "$@" >"$out/seed.out" 2>"$out/seed.err" \
    || { cat "$out/seed.err" >&2; die "bench_seed failed or exceeded ${seed_timeout}s"; }
  tail -n 1 "$out/seed.out"
}

# start_server DATA_DIR LOG SECONDS: `authledger serve` on DATA_DIR (with $config, and on the
# devbroker when $brokers is set) on a free loopback port; waits until /healthz answers (the
# server listens only once its projections caught up with the ledger) for at most SECONDS. Sets
# srv_pid, srv_url and srv_ready_s (seconds from start to the first /healthz answer).
start_server() {
  local data=$1 logf=$2 secs=$3 port start i
  port="$(free_port "$port_base")"
  srv_url="http://127.0.0.1:$port"
  local args=(serve --data "$data" --listen "127.0.0.1:$port")
  [[ -n "$config" ]] && args+=(--config "$config")
  [[ -n "$brokers" ]] && args+=(--kafka-brokers "$brokers")
  start=$(date +%s.%N)
  "$bin" "${args[@]}" >"$logf" 2>&1 &
  srv_pid=$!
  srv_pids+=("$srv_pid")
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$srv_pid" 2>/dev/null || { tail -n 20 "$logf" >&2; die "authledger serve exited during startup"; }
    if curl -fsS -o /dev/null -m 1 "$srv_url/healthz" 2>/dev/null; then
      srv_ready_s="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
      return 0
    fi
    sleep 0.1
  done
  die "authledger serve did not answer $srv_url/healthz within $secs s (FILL_TIMEOUT)"
}

# rss_kb PID: "VmRSS VmHWM" of PID in kB (/proc/PID/status).
rss_kb() {
  awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { if (r == "" || h == "") exit 1; print r, h }' "/proc/$1/status"
}

# run_rotate MODE FILE OUT WRK_ARGS...: wrk with rotate.lua against $srv_url, bounded by
# $wrk_timeout; the output goes to OUT.
run_rotate() {
  local mode=$1 file=$2 out=$3
  shift 3
  if ! ROTATE_MODE="$mode" ROTATE_FILE="$file" timeout "$wrk_timeout" \
       wrk "$@" --latency -s "$here/rotate.lua" "$srv_url" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed or exceeded ${wrk_timeout}s"
  fi
}

# parse_rotate FILE -> "req_s p50_ms p99_ms responses bad socket_errors statuses"
parse_rotate() {
  local out rps p50 p99 sock responses bad statuses
  out="$(wrk_report "$1" rotate.lua responses bad statuses)" || return 1
  read -r rps p50 p99 sock responses bad statuses <<<"$out"
  echo "$rps $p50 $p99 $responses $bad $sock $statuses"
}

# median FORMAT VALUES...
median() {
  local fmt="$1"
  shift
  printf '%s\n' "$@" | sort -g | awk -v fmt="$fmt" '
    { a[NR] = $1 }
    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf fmt, m }'
}

# machine_note: one line naming the machine, for the tables' headings.
machine_note() {
  echo "$(nproc) cores, $(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
}
