#!/usr/bin/env bash
# devbroker (ops/devbroker): prints its bootstrap address first, real Kafka
# clients (kcat) see the topic and can produce and consume over loopback, and
# fault commands on stdin are answered. Usage: devbroker_test.sh <authledger>
# (devbroker is found next to it in the build tree).
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
source "$(dirname "$0")/../lib/kafka.bash"
al_init "${1:-}"
kafka_init
"$DEVBROKER" --help | grep -q -- "--partitions" || fail "devbroker --help lacks --partitions"
start_devbroker 3 authledger.events 6
OUT=$TMP/broker.out.log

# A real client sees the topic with its partitions, and can produce and consume.
timeout 20 kcat -L -J -b "$BROKERS" -t authledger.events >"$TMP/meta.json" || fail "kcat -L failed"
PARTS=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(len(m["topics"][0]["partitions"]))' "$TMP/meta.json")
[ "$PARTS" = 6 ] || fail "topic has $PARTS partitions, expected 6"
echo "hello-ledger" | timeout 20 kcat -P -b "$BROKERS" -t authledger.events -p 2 || fail "kcat -P failed"
GOT=$(timeout 20 kcat -C -b "$BROKERS" -t authledger.events -p 2 -o beginning -e -q) || fail "kcat -C failed"
[ "$GOT" = hello-ledger ] || fail "consumed '$GOT'"

# Fault commands are answered one line each.
[[ "$(broker_ask down 2)" == "ok broker 2 down" ]] || fail "down: $(cat "$OUT")"
[[ "$(broker_ask up 2)" == "ok broker 2 up" ]] || fail "up: $(cat "$OUT")"
[[ "$(broker_ask error Produce 2 NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT)" == ok* ]] || fail "error: $(cat "$OUT")"
[[ "$(broker_ask rtt 1 50)" == ok* ]] || fail "rtt: $(cat "$OUT")"
[[ "$(broker_ask error Produce 1 NO_SUCH_CODE)" == "error: unknown error code 'NO_SUCH_CODE'" ]] || fail "bad code accepted"
[[ "$(broker_ask frobnicate)" == error:* ]] || fail "unknown command accepted"
# Numbers are decimal integers: a sign, a fraction or an overflow is not one.
[[ "$(broker_ask error Produce 99999999999999999999 REQUEST_TIMED_OUT)" == "error: COUNT must be 1..10000" ]] ||
  fail "an overflowing COUNT was accepted"
[[ "$(broker_ask error Produce 1.5 REQUEST_TIMED_OUT)" == "error: COUNT must be 1..10000" ]] ||
  fail "COUNT 1.5 accepted"
[[ "$(broker_ask error Produce 1 2147483648)" == "error: unknown error code '2147483648'" ]] ||
  fail "an error code beyond int32 was accepted"
# Injected NOT_LEADER / timeout errors are retried by a real producer: the message still lands.
echo "after-faults" | timeout 30 kcat -P -b "$BROKERS" -t authledger.events -p 2 || fail "produce after injected errors failed"
[[ "$(broker_ask quit)" == "ok bye" ]] || fail "quit: $(cat "$OUT")"
wait "$BROKER_PID" || fail "devbroker exited non-zero"
BROKER_PID=""
[ "$(wc -l <"$OUT")" = 11 ] || fail "devbroker's answers are not one line each: $(cat "$OUT")"
echo "devbroker_test: bootstrap address, topic metadata, produce/consume and fault commands work"
