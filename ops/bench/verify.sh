#!/usr/bin/env bash
# ops/bench/verify.sh — benchmark the hot path (POST /v1/keys/verify) against an nginx baseline.
#
# Usage: ops/bench/verify.sh
#
# What it does, all on 127.0.0.1 and bounded in time:
#   1. installs the bench dependencies (ops/install-deps.sh bench: build deps + curl, python3, wrk, nginx);
#   2. builds `authledger` in Release into build-bench/ (separate from build/);
#   3. bootstraps a throw-away data dir, starts `authledger serve` on a free loopback port, waits for
#      /healthz, creates a key with scope monitors:read through the admin key, and checks once with
#      curl that verifying it answers 200 {"valid":true,"code":"VALID"};
#   4. starts nginx (ops/bench/nginx.conf.in: 2 workers, access_log off, `return 200 "ok\n"`) on
#      another free loopback port;
#   5. runs ROUNDS rounds; each round runs wrk against nginx, then against authledger, with the same
#      arguments and the same request (ops/bench/verify.lua: POST /v1/keys/verify + JSON body);
#      verify.lua counts non-200 statuses and bodies without "valid":true;
#   6. prints a markdown table per round, the medians, and the ratio authledger/nginx of the median
#      req/s. Exits 1 if any response was not a 200 VALID (the numbers would be meaningless).
# Both servers are stopped and the temp dir is removed on exit (also on Ctrl-C).
#
# Environment:
#   ROUNDS          number of rounds                           (default: 3)
#   WRK_ARGS        wrk load arguments, same for both targets  (default: -t2 -c64 -d10s)
#   WARMUP_SECONDS  unreported warm-up per target before round 1 (default: 2; 0 = none)
#   WRK_TIMEOUT     hard limit in seconds for one wrk run      (default: 300)
#   BENCH_PORT      first port tried for authledger            (default: 18080; nginx from 18090)
#   BENCH_CONFIG    optional config file passed to `authledger serve --config`
#   BENCH_BUILD_DIR build directory                            (default: build-bench)
#   AUTHLEDGER_BIN  use this binary instead of building one
#   KEEP_TMP=1      keep the temp dir (logs, wrk outputs) for inspection
# Note: wrk, nginx and authledger share this machine's cores; compare ratios, not absolute numbers.
set -euo pipefail

if [[ $# -gt 0 ]]; then
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "verify.sh: unexpected argument '$1' (configure with environment variables, see --help)" >&2; exit 2 ;;
  esac
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

rounds="${ROUNDS:-3}"
wrk_args_str="${WRK_ARGS:--t2 -c64 -d10s}"
warmup="${WARMUP_SECONDS:-2}"
wrk_timeout="${WRK_TIMEOUT:-300}"
port_base="${BENCH_PORT:-18080}"
scope="monitors:read"
for v in rounds warmup wrk_timeout port_base; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "verify.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( rounds >= 1 )) || { echo "verify.sh: ROUNDS must be >= 1" >&2; exit 2; }
read -r -a wrk_args <<<"$wrk_args_str"
config=""
if [[ -n "${BENCH_CONFIG:-}" ]]; then
  config="$(cd "$(dirname "$BENCH_CONFIG")" && pwd)/$(basename "$BENCH_CONFIG")"
fi
# The flags given below must win over whatever the caller's environment says.
unset AUTHLEDGER_DATA AUTHLEDGER_LISTEN AUTHLEDGER_CONFIG

log() { printf '[verify.sh] %s\n' "$*" >&2; }
die() { printf '[verify.sh] ERROR: %s\n' "$*" >&2; exit 1; }

cd "$root"
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"

# ---------------------------------------------------------------- 1. dependencies, 2. build
bash ops/install-deps.sh bench
source ops/bench/build.bash
bin="$(release_binary "${AUTHLEDGER_BIN:-}" authledger app/authledger)"
log "measuring $bin"
[[ -x "$bin" ]] || die "$bin is not an executable"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$nginx_bin" ]] || die "nginx not found"
lua="$here/verify.lua"
[[ -r "$lua" && -r "$here/nginx.conf.in" ]] || die "missing $lua or $here/nginx.conf.in"

# ---------------------------------------------------------------- temp dir, cleanup
tmp="$(mktemp -d /tmp/authledger-bench.XXXXXX)"
al_pid=""
ngx_pid=""

stop_pid() {  # stop_pid PID NAME: TERM, wait up to 10 s, then KILL
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop within 10 s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$al_pid" authledger
  stop_pid "$ngx_pid" nginx
  if [[ $rc -ne 0 ]]; then
    for f in "$tmp/authledger.log" "$tmp/nginx/error.log"; do
      if [[ -s "$f" ]]; then
        log "last lines of $f:"
        tail -n 20 "$f" >&2 || true
      fi
    done
  fi
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then
    log "kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {  # first port >= $1 nobody listens on (loopback)
  local p
  for ((p = $1; p < $1 + 200 && p < 65536; p++)); do
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port in $1..$(( $1 + 199 ))"
}

# ---------------------------------------------------------------- 3. authledger
data="$tmp/data"
mkdir -p "$data"
chmod 0700 "$tmp" "$data"
log "bootstrapping $data"
"$bin" bootstrap --data "$data" --account bench >"$tmp/bootstrap.out" 2>"$tmp/bootstrap.err" \
  || { cat "$tmp/bootstrap.err" >&2; die "authledger bootstrap failed"; }
admin_key="$(sed -n 's/^[[:space:]]*key:[[:space:]]*\([^[:space:]]\{1,\}\).*$/\1/p' "$tmp/bootstrap.out" | head -n 1)"
if [[ -z "$admin_key" ]]; then
  admin_key="$(grep -oE '[A-Za-z0-9]+_(live|test)_[A-Za-z0-9]+' "$tmp/bootstrap.out" | head -n 1 || true)"
fi
[[ -n "$admin_key" ]] || die "could not find the admin key in the output of authledger bootstrap"

al_port="$(free_port "$port_base")"
al_url="http://127.0.0.1:$al_port"
serve_args=(serve --data "$data" --listen "127.0.0.1:$al_port")
[[ -n "$config" ]] && serve_args+=(--config "$config")
log "starting authledger ${serve_args[*]}"
"$bin" "${serve_args[@]}" >"$tmp/authledger.log" 2>&1 &
al_pid=$!

wait_http() {  # wait_http URL PID NAME SECONDS
  local url="$1" pid="$2" name="$3" secs="$4" i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during startup"
    if curl -fsS -o /dev/null -m 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name did not answer $url within $secs s"
}
wait_http "$al_url/healthz" "$al_pid" authledger 30
log "authledger is up on $al_url (pid $al_pid)"

# the admin key goes through a header file, not the command line (ps)
printf 'Authorization: Bearer %s\n' "$admin_key" >"$tmp/admin.hdr"
create_body='{"name":"bench","scopes":["'"$scope"'"],"environment":"live"}'
code="$(curl -sS -m 10 -o "$tmp/created.json" -w '%{http_code}' -X POST \
  -H @"$tmp/admin.hdr" -H 'Content-Type: application/json' -d "$create_body" "$al_url/v1/keys")" \
  || die "POST /v1/keys failed"
[[ "$code" == 201 ]] || { cat "$tmp/created.json" >&2; echo >&2; die "POST /v1/keys answered $code, expected 201"; }
python3 - "$tmp/created.json" "$tmp/verify.json" "$scope" <<'PY' || die "unexpected POST /v1/keys response"
import json, sys
created = json.load(open(sys.argv[1]))
key = created.get("key")
if not isinstance(key, str) or not key:
    sys.exit("no 'key' in the POST /v1/keys response")
with open(sys.argv[2], "w") as f:
    json.dump({"key": key, "scope": sys.argv[3]}, f, separators=(",", ":"))
print("[verify.sh] created key id %s" % created.get("id"), file=sys.stderr)
PY

code="$(curl -sS -m 10 -o "$tmp/verified.json" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' --data-binary @"$tmp/verify.json" "$al_url/v1/keys/verify")" \
  || die "POST /v1/keys/verify failed"
[[ "$code" == 200 ]] || { cat "$tmp/verified.json" >&2; echo >&2; die "POST /v1/keys/verify answered $code, expected 200"; }
python3 - "$tmp/verified.json" <<'PY' || die "the new key does not verify as VALID"
import json, sys
r = json.load(open(sys.argv[1]))
print("[verify.sh] verify check: %s" % json.dumps(r, separators=(",", ":")), file=sys.stderr)
if r.get("valid") is not True or r.get("code") != "VALID":
    sys.exit(1)
PY
# What verify.lua will require in every 200 body (compact JSON as the server writes it).
al_expect='"valid":true'
grep -qF "$al_expect" "$tmp/verified.json" || { al_expect='VALID'; log "response is not compact JSON; verify.lua will check for VALID"; }

# ---------------------------------------------------------------- 4. nginx
mkdir -p "$tmp/nginx/tmp"
ngx_port="$(free_port $(( port_base + 10 )))"
ngx_url="http://127.0.0.1:$ngx_port"
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@PORT@|$ngx_port|g" "$here/nginx.conf.in" >"$tmp/nginx/nginx.conf"
ngx_cmd=("$nginx_bin" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx/" -e "$tmp/nginx/error.log")
"${ngx_cmd[@]}" -t -q || die "nginx rejected $tmp/nginx/nginx.conf"
log "starting nginx on $ngx_url"
"${ngx_cmd[@]}" &
ngx_pid=$!
wait_http "$ngx_url/" "$ngx_pid" nginx 10

# ---------------------------------------------------------------- 5. rounds
# run_wrk NAME URL EXPECT OUTFILE [wrk args...]
run_wrk() {
  local name="$1" url="$2" expect="$3" out="$4"
  shift 4
  if ! VERIFY_BODY_FILE="$tmp/verify.json" VERIFY_EXPECT="$expect" \
       timeout "$wrk_timeout" wrk "$@" --latency -s "$lua" "$url" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk against $name failed or exceeded ${wrk_timeout}s"
  fi
}

# parse_wrk FILE -> "rps p50_ms p99_ms responses non200 unexpected socket_errors"
parse_wrk() {
  local out rps p50 p99 sock responses non200 unexpected
  out="$(wrk_report "$1" verify.lua responses non200 unexpected_body)" || return 1
  read -r rps p50 p99 sock responses non200 unexpected <<<"$out"
  echo "$rps $p50 $p99 $responses $non200 $unexpected $sock"
}

median() {  # median FORMAT VALUES...
  local fmt="$1"
  shift
  printf '%s\n' "$@" | sort -g | awk -v fmt="$fmt" '
    { a[NR] = $1 }
    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf fmt, m }'
}

targets=(nginx authledger)
declare -A url=([nginx]="$ngx_url" [authledger]="$al_url")
declare -A expect=([nginx]="ok" [authledger]="$al_expect")
# shellcheck disable=SC2016  # backticks are markdown, not command substitution
declare -A label=([nginx]='nginx `return 200`' [authledger]='authledger `POST /v1/keys/verify`')
declare -A rps_list=() p50_list=() p99_list=()
bad_total=0
sock_total=0

if (( warmup > 0 )); then
  for t in "${targets[@]}"; do
    log "warm-up ${warmup}s against $t"
    run_wrk "$t" "${url[$t]}" "${expect[$t]}" "$tmp/wrk-warmup-$t.txt" -t2 -c16 "-d${warmup}s"
  done
fi

echo
echo "## authledger verify vs nginx — $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(nproc) cores, wrk ${wrk_args_str} --latency"
for ((r = 1; r <= rounds; r++)); do
  echo
  echo "### Round $r/$rounds"
  echo
  echo "| target | req/s | p50 (ms) | p99 (ms) | responses | non-200 | not VALID | socket errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for t in "${targets[@]}"; do
    log "round $r/$rounds: wrk ${wrk_args_str} against $t"
    out="$tmp/wrk-$r-$t.txt"
    run_wrk "$t" "${url[$t]}" "${expect[$t]}" "$out" "${wrk_args[@]}"
    parsed="$(parse_wrk "$out")" || { cat "$out" >&2; die "could not parse the wrk output above"; }
    read -r rps p50 p99 resp non200 unexpected sock <<<"$parsed"
    rps_list[$t]+=" $rps"
    p50_list[$t]+=" $p50"
    p99_list[$t]+=" $p99"
    bad_total=$(( bad_total + non200 + unexpected ))
    sock_total=$(( sock_total + sock ))
    printf '| %s | %.0f | %.3f | %.3f | %d | %d | %d | %d |\n' \
      "${label[$t]}" "$rps" "$p50" "$p99" "$resp" "$non200" "$unexpected" "$sock"
    sleep 1
  done
done

echo
echo "### Median of $rounds round(s)"
echo
echo "| target | req/s | p50 (ms) | p99 (ms) |"
echo "| --- | ---: | ---: | ---: |"
declare -A med_rps=()
for t in "${targets[@]}"; do
  read -r -a rl <<<"${rps_list[$t]}"
  read -r -a p5 <<<"${p50_list[$t]}"
  read -r -a p9 <<<"${p99_list[$t]}"
  med_rps[$t]="$(median '%.2f' "${rl[@]}")"
  printf '| %s | %.0f | %s | %s |\n' "${label[$t]}" "${med_rps[$t]}" \
    "$(median '%.3f' "${p5[@]}")" "$(median '%.3f' "${p9[@]}")"
done
echo
awk -v a="${med_rps[authledger]}" -v n="${med_rps[nginx]}" 'BEGIN {
  if (n > 0) printf "**authledger / nginx (median req/s): %.3f** (%.1f %% of the static nginx baseline)\n", a / n, 100 * a / n
  else print "**authledger / nginx: n/a (nginx median is 0)**"
}'
echo

if (( sock_total > 0 )); then
  log "warning: wrk reported $sock_total socket error(s) (connect/read/write/timeout), see the tables"
fi
if (( bad_total > 0 )); then
  die "$bad_total response(s) were not a 200 with the expected body: these numbers do not measure successful verifications"
fi
log "all responses were 200 and VALID"
