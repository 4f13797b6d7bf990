#!/usr/bin/env bash
# The authledger executable driven as an operator would: --help, bootstrap (key
# printed once, refused the second time), serve on a free port, rebuild while
# stopped, restart, lock against a second process. Usage: cli_test.sh <authledger>
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"

# --help on every subcommand explains itself.
"$BIN" --help | grep -q "bootstrap" || fail "top-level --help does not list bootstrap"
"$BIN" serve --help | grep -q -- "--listen" || fail "serve --help lacks --listen"
"$BIN" bootstrap --help | grep -q -- "--account" || fail "bootstrap --help lacks --account"
"$BIN" rebuild --help | grep -q -- "--data" || fail "rebuild --help lacks --data"
if "$BIN" serve --listen nonsense --data "$DATA" 2>"$TMP/err"; then fail "bad --listen accepted"; fi
grep -q "HOST:PORT" "$TMP/err" || fail "bad --listen error is unclear: $(cat "$TMP/err")"
# A bad configuration file: the error names the setting, its value and the allowed range (issue 13).
check_config_error() {  # TOML EXPECTED-STDERR-LINE
  local rc=0
  printf '%b' "$1" >"$TMP/bad.toml"
  # (bounded: a build that accepted the file would serve until stopped)
  timeout 10 "$BIN" serve --config "$TMP/bad.toml" --data "$DATA" --listen 127.0.0.1:0 >"$TMP/out" 2>"$TMP/err" ||
    rc=$?
  [ "$rc" != 0 ] || fail "serve started with a bad config: $1"
  grep -qxF "$2" "$TMP/err" || fail "bad config '$1': expected '$2', got: $(cat "$TMP/err")"
}
check_config_error '[keys]\nmax_live_keys = 1000000\n' \
  'authledger: InvalidArgument: config: keys.max_live_keys = 1000000 is out of range: it must be 1..100000'
check_config_error '[keys]\nrotation_grace = "90d"\n' \
  'authledger: InvalidArgument: config: keys.rotation_grace = 90d is out of range: it must be 0ms..30d'
check_config_error '[server]\nlisen = "127.0.0.1:1"\n' \
  'authledger: InvalidArgument: config: unknown setting server.lisen (ops/authledger.example.toml lists every setting of [server])'
check_config_error '[server]\nthreads = "4"\n' \
  'authledger: InvalidArgument: config: server.threads must be an integer, not a string'
[ ! -e "$DATA" ] || fail "a refused configuration still created $DATA"

# bootstrap prints the key exactly once.
"$BIN" bootstrap --data "$DATA" --account acme >"$TMP/boot" 2>"$TMP/boot.err"
KEY=$(sed -n 's/^key: //p' "$TMP/boot")
[[ "$KEY" =~ ^al_live_[0-9A-Za-z]{51}$ ]] || fail "bootstrap printed no well-formed key"
[ "$(stat -c %a "$DATA/pepper")" = "600" ] || fail "pepper file is not mode 0600"
if "$BIN" bootstrap --data "$DATA" --account again >"$TMP/boot2" 2>&1; then fail "second bootstrap succeeded"; fi
grep -q "already has events" "$TMP/boot2" || fail "second bootstrap error unclear"
grep -rqF "$KEY" "$DATA" && fail "the full key was written to the data directory"

start_server
# A second process cannot open the same ledger.
if "$BIN" rebuild --data "$DATA" 2>"$TMP/lock.err"; then fail "rebuild ran against a live server's ledger"; fi
grep -qi "locked" "$TMP/lock.err" || fail "lock error unclear: $(cat "$TMP/lock.err")"
NEW=$(curl -sf -X POST "$BASE/v1/keys" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d '{"name":"ci","scopes":["monitors:read"]}')
NEWKEY=$(json_get /dev/stdin key <<<"$NEW")
verify() {
  curl -sf -X POST "$BASE/v1/keys/verify" -H "$J" -d "{\"key\":\"$1\",\"scope\":\"monitors:read\"}" |
    json_get /dev/stdin code
}
[ "$(verify "$NEWKEY")" = VALID ] || fail "new key does not verify"
stop_server
grep -qF "$NEWKEY" "$TMP/server.log" && fail "a key appeared in the server log"

# 6 events: account, admin key, ci key, a key.used.v1 for each of the two keys used, and the
# checkpoint signed when the server stopped
"$BIN" rebuild --data "$DATA" >"$TMP/rebuild.out" 2>&1 || fail "rebuild failed: $(cat "$TMP/rebuild.out")"
grep -q "rebuilt projections from 6 events" "$TMP/rebuild.out" || fail "rebuild output: $(cat "$TMP/rebuild.out")"

start_server
[ "$(verify "$NEWKEY")" = VALID ] || fail "key does not verify after rebuild + restart"
stop_server
# The connection cap must fit the open-file limit; the refusal names the setting to change.
printf '[server]\nmax_connections = 5000\n' >"$TMP/fds.toml"
if (ulimit -n 1024 && timeout 30 "$BIN" serve --config "$TMP/fds.toml" --data "$DATA" --listen 127.0.0.1:0) \
  >"$TMP/fds.out" 2>&1; then fail "serve started with max_connections beyond the open-file limit"; fi
grep -q "server.max_connections = 5000" "$TMP/fds.out" || fail "fd limit error unclear: $(cat "$TMP/fds.out")"
grep -q "RLIMIT_NOFILE is 1024" "$TMP/fds.out" || fail "fd limit error lacks the limit: $(cat "$TMP/fds.out")"
# Unset, the cap is what the limit holds (1024 - 256), said in a warning, and the server serves.
if (ulimit -n 1024 && exec timeout 5 "$BIN" serve --data "$DATA" --listen 127.0.0.1:0) >"$TMP/fds-auto.out" 2>&1; then
  fail "serve under ulimit -n 1024 stopped before the timeout: $(cat "$TMP/fds-auto.out")"
fi
grep -q "server.max_connections is 768" "$TMP/fds-auto.out" || fail "no fd-limit warning: $(cat "$TMP/fds-auto.out")"
grep -q "serving as" "$TMP/fds-auto.out" || fail "serve did not start under ulimit -n 1024: $(cat "$TMP/fds-auto.out")"
echo "cli_test: all checks passed"
