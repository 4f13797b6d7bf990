# Shared by the benchmark scripts: their arguments, the Release binary to measure, a throw-away
# data dir, and running a benchmark program under a hard time limit.

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# bench_args DEFAULT_EVENTS DEFAULT_ACCOUNTS DEFAULT_TIMEOUT_S "$@"
#   For the scripts taking [EVENTS] [ACCOUNTS]: on -h/--help prints the script's header comment
#   and exits; else sets events, accounts (the defaults when absent) and timeout_s ($BENCH_TIMEOUT
#   or the default), or exits 2 unless they are whole numbers with EVENTS >= 3 x ACCOUNTS >= 3.
bench_args() {
  local me default_events=$1 default_accounts=$2 default_timeout=$3 v
  shift 3
  me="$(basename "$0")"
  if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
    exit 0
  fi
  (( $# <= 2 )) || { echo "$me: at most two arguments: [EVENTS] [ACCOUNTS]" >&2; exit 2; }
  events="${1:-$default_events}"
  accounts="${2:-$default_accounts}"
  timeout_s="${BENCH_TIMEOUT:-$default_timeout}"
  for v in events accounts timeout_s; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$me: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
  done
  (( accounts >= 1 && events >= 3 * accounts )) || { echo "$me: need ACCOUNTS >= 1 and EVENTS >= 3 x ACCOUNTS" >&2; exit 2; }
}

# release_binary OVERRIDE TARGET PATH_IN_BUILD
#   OVERRIDE set: that binary (made absolute), nothing is built;
#   else: configure $BENCH_BUILD_DIR (default build-bench) in Release, build TARGET
#   with -j2, and print its path. Run from the repository root.
release_binary() {
  local override=$1 target=$2 rel=$3
  if [[ -n "$override" ]]; then
    echo "$(cd "$(dirname "$override")" && pwd)/$(basename "$override")"
    return
  fi
  local build_dir="${BENCH_BUILD_DIR:-build-bench}"
  # g++ 12 at -O3 reports a -Wrestrict false positive inside std::string's operator+ (GCC bug
  # 105651) in domain/events.cc; keep it a warning here so -Werror does not stop the Release build.
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-Wno-error=restrict >/dev/null
  cmake --build "$build_dir" -j2 --target "$target" >&2
  echo "$PWD/$build_dir/$rel"
}

# bench_binary OVERRIDE TARGET PATH_IN_BUILD
#   release_binary (from the repository root, with ccache), announced and checked; sets bin.
bench_binary() {
  export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"
  bin="$(release_binary "$@")"
  log "measuring $bin"
  [[ -x "$bin" ]] || die "$bin is not an executable"
}

# bench_tmpdir PREFIX
#   Creates a private (0700) directory ${TMPDIR:-/tmp}/PREFIX.XXXXXX, sets BENCH_TMP to it, and
#   removes it when the script exits, also on Ctrl-C or termination (KEEP_TMP=1 keeps it).
bench_tmpdir() {
  BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  chmod 0700 "$BENCH_TMP"
  trap _bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
_bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then printf '[%s] kept %s\n' "$(basename "$0")" "$BENCH_TMP" >&2; else rm -rf "$BENCH_TMP"; fi
  exit "$rc"
}

# run_bench TITLE TIMEOUT_S BINARY ARGS...
#   Prints a heading (TITLE, time, cores, commit), runs BINARY ARGS... killed after TIMEOUT_S
#   seconds, and exits 1 with a message if it overran or failed.
run_bench() {
  local title=$1 timeout_s=$2 bin=$3 me name start rc=0
  shift 3
  me="$(basename "$0")"
  name="$(basename "$bin")"
  echo
  echo "## $title — $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  start=$SECONDS
  timeout --foreground -k 10 "$timeout_s" "$bin" "$@" || rc=$?
  if (( rc == 124 )); then printf '[%s] ERROR: %s exceeded %ss (BENCH_TIMEOUT)\n' "$me" "$name" "$timeout_s" >&2; exit 1; fi
  if (( rc != 0 )); then printf '[%s] ERROR: %s failed (exit %s)\n' "$me" "$name" "$rc" >&2; exit 1; fi
  printf '[%s] done in %s s\n' "$me" $(( SECONDS - start )) >&2
}

# run_events_bench TITLE TMP_PREFIX EXTRA_ARGS
#   For the [EVENTS] [ACCOUNTS] scripts: run_bench of $bin --data <a bench_tmpdir>/data
#   --events $events --accounts $accounts, then EXTRA_ARGS split at spaces.
run_events_bench() {
  local title=$1 prefix=$2 extra
  read -r -a extra <<<"$3"
  bench_tmpdir "$prefix"
  log "$(basename "$bin") --events $events --accounts $accounts ${extra[*]} (data in $BENCH_TMP, limit ${timeout_s}s)"
  run_bench "$title" "$timeout_s" "$bin" --data "$BENCH_TMP/data" --events "$events" --accounts "$accounts" "${extra[@]}"
}

# wrk_report FILE TAG FIELDS...: reads wrk's --latency output in FILE, with the summary line
# "TAG: key=value ..." that a bench Lua script writes; prints "req_s p50_ms p99_ms socket_errors"
# and then the value of each of FIELDS (0 when absent). Fails unless all of them were found.
wrk_report() {
  local file=$1 tag=$2
  shift 2
  awk -v tag="$tag:" -v fields="$*" '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/)  return v * 60000
      if (v ~ /s$/)  return v * 1000
      return v + 0
    }
    /^Requests\/sec:/ { rps = $2 }
    /^[ \t]*50%/      { p50 = ms($2) }
    /^[ \t]*99%/      { p99 = ms($2) }
    /Socket errors:/  { s = $0; gsub(/[^0-9 ]/, " ", s); n = split(s, a, " "); for (i = 1; i <= n; i++) sock += a[i] }
    $1 == tag         { for (i = 2; i <= NF; i++) { split($i, kv, "="); val[kv[1]] = kv[2] }; seen = 1 }
    END {
      if (rps == "" || p50 == "" || p99 == "" || !seen) exit 1
      printf "%s %.3f %.3f %d", rps, p50, p99, sock
      n = split(fields, f, " ")
      for (i = 1; i <= n; i++) printf " %s", (f[i] in val ? val[f[i]] : 0)
      printf "\n"
    }' "$file"
}

