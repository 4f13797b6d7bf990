#!/usr/bin/env bash
# kill -9 in the middle of writes loses nothing that was acknowledged, and a torn
# tail left in the ledger is cut on the next start. Usage: crash_test.sh <authledger>
set -euo pipefail
BIN=${1:?usage: crash_test.sh <authledger binary>}
TMP=$(mktemp -d)
SERVER_PID=""
WRITER_PID=""
cleanup() {
  [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
DATA=$TMP/data
J='Content-Type: application/json'
CONF=$TMP/authledger.toml
printf '[keys]\nmax_live_keys = 100000\n' >"$CONF"
export AUTHLEDGER_CONFIG=$CONF

"$BIN" bootstrap --data "$DATA" --account crashy >"$TMP/boot" 2>/dev/null
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {
  PORT=$(free_port)
  "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" 2>>"$TMP/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
    sleep 0.1
  done
  fail "server did not become healthy: $(cat "$TMP/server.log")"
}

start_server
# A writer that records each key only once the server has acknowledged it (201).
(
  i=0
  while [ $i -lt 2000 ]; do
    out=$(curl -s -o "$TMP/resp" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/v1/keys" \
      -H "Authorization: Bearer $ADMIN" -H "$J" -d "{\"name\":\"k$i\",\"scopes\":[\"monitors:read\"]}") || break
    if [ "$out" = 201 ]; then
      python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$TMP/resp" >>"$TMP/acked"
    fi
    i=$((i + 1))
  done
) &
WRITER_PID=$!
# Kill once a few writes were acknowledged (and more are in flight), however slow the machine is.
for _ in $(seq 1 300); do
  [ "$(wc -l <"$TMP/acked" 2>/dev/null || echo 0)" -ge 5 ] && break
  sleep 0.1
done
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
wait "$WRITER_PID" 2>/dev/null || true
WRITER_PID=""
ACKED=$(wc -l <"$TMP/acked" 2>/dev/null || echo 0)
[ "$ACKED" -gt 0 ] || fail "no write was acknowledged before the kill"

# Simulate a torn write: half a record's worth of garbage at the end of the last segment.
LAST=$(ls "$DATA/ledger/"*.log | sort | tail -n 1)
printf '\x17\x00\x00\x00garbage-from-a-torn-write' >>"$LAST"

start_server
grep -q "torn tail" "$TMP/server.log" || fail "the torn tail was not reported: $(cat "$TMP/server.log")"
while read -r key; do
  code=$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/keys/verify" -H "$J" -d "{\"key\":\"$key\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
  [ "$code" = VALID ] || fail "an acknowledged key was lost after kill -9 (code $code)"
done <"$TMP/acked"
# And the ledger accepts new writes after recovery.
curl -sf -X POST "http://127.0.0.1:$PORT/v1/keys/$(sed -n 's/^key_id: //p' "$TMP/boot")/scopes" \
  -H "Authorization: Bearer $ADMIN" -H "$J" -d '{"scopes":["monitors:read"]}' >/dev/null || fail "write after recovery failed"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "server exited non-zero"
SERVER_PID=""
echo "crash_test: $ACKED acknowledged keys survived kill -9; torn tail cut"
