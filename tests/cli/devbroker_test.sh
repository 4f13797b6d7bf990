#!/usr/bin/env bash
# devbroker (ops/devbroker): prints its bootstrap address first, real Kafka
# clients (kcat) see the topic and can produce and consume over loopback, and
# fault commands on stdin are answered. Usage: devbroker_test.sh <authledger>
# (devbroker is found next to it in the build tree).
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"
DEVBROKER=$(dirname "$BIN")/../ops/devbroker/devbroker
[ -x "$DEVBROKER" ] || fail "devbroker not built at $DEVBROKER"
command -v kcat >/dev/null || fail "kcat is not installed (ops/install-deps.sh test)"
"$DEVBROKER" --help | grep -q -- "--partitions" || fail "devbroker --help lacks --partitions"

mkfifo "$TMP/in"
"$DEVBROKER" --brokers 3 --topic authledger.events --partitions 6 <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
BROKER_PID=$!
exec 3>"$TMP/in"  # keep stdin open
broker_cleanup() {
  local rc=$?
  exec 3>&-
  kill "$BROKER_PID" 2>/dev/null || true
  (exit "$rc")
  al_cleanup
}
trap broker_cleanup EXIT
for _ in $(seq 1 100); do [ -s "$TMP/out" ] && break; sleep 0.1; done
ADDR=$(head -n 1 "$TMP/out")
[[ "$ADDR" =~ ^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+)*$ ]] || fail "first line is not a bootstrap address: '$ADDR'"

# A real client sees the topic with its partitions, and can produce and consume.
timeout 20 kcat -L -J -b "$ADDR" -t authledger.events >"$TMP/meta.json" || fail "kcat -L failed"
PARTS=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(len(m["topics"][0]["partitions"]))' "$TMP/meta.json")
[ "$PARTS" = 6 ] || fail "topic has $PARTS partitions, expected 6"
echo "hello-ledger" | timeout 20 kcat -P -b "$ADDR" -t authledger.events -p 2 || fail "kcat -P failed"
GOT=$(timeout 20 kcat -C -b "$ADDR" -t authledger.events -p 2 -o beginning -e -q) || fail "kcat -C failed"
[ "$GOT" = hello-ledger ] || fail "consumed '$GOT'"

# Fault commands are answered one line each.
ask() { echo "$1" >&3; for _ in $(seq 1 50); do [ "$(wc -l <"$TMP/out")" -ge "$2" ] && break; sleep 0.1; done; sed -n "${2}p" "$TMP/out"; }
[[ "$(ask "down 2" 2)" == "ok broker 2 down" ]] || fail "down: $(cat "$TMP/out")"
[[ "$(ask "up 2" 3)" == "ok broker 2 up" ]] || fail "up: $(cat "$TMP/out")"
[[ "$(ask "error Produce 2 NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT" 4)" == ok* ]] || fail "error: $(cat "$TMP/out")"
[[ "$(ask "rtt 1 50" 5)" == ok* ]] || fail "rtt: $(cat "$TMP/out")"
[[ "$(ask "error Produce 1 NO_SUCH_CODE" 6)" == "error: unknown error code 'NO_SUCH_CODE'" ]] || fail "bad code accepted"
[[ "$(ask "frobnicate" 7)" == error:* ]] || fail "unknown command accepted"
# Injected NOT_LEADER / timeout errors are retried by a real producer: the message still lands.
echo "after-faults" | timeout 30 kcat -P -b "$ADDR" -t authledger.events -p 2 || fail "produce after injected errors failed"
[[ "$(ask "quit" 8)" == "ok bye" ]] || fail "quit: $(cat "$TMP/out")"
wait "$BROKER_PID" || fail "devbroker exited non-zero"
echo "devbroker_test: bootstrap address, topic metadata, produce/consume and fault commands work"
