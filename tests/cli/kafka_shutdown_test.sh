#!/usr/bin/env bash
# Stopping a Kafka writer while its brokers are away is bounded (issue 13, defect 10: it took
# ~55 s and logged nothing after "shutting down"):
#   1. writes are acknowledged, then every broker goes down and more writes are sent (they
#      cannot be acknowledged); SIGTERM with [server] shutdown_timeout_ms = 2000: the writer
#      exits 0 within the bound plus a margin, and its log names what it gave up on (how many
#      writes, which partitions);
#   2. no write that was acknowledged (201) is lost: with the brokers back, a new writer
#      verifies every acknowledged key VALID, and every one is in the topic exactly once;
#      a write given up on was answered 503 (or never answered), never 201;
#   3. the embedded ledger still stops cleanly and at once (exit 0, no give-up line).
# Usage: kafka_shutdown_test.sh <authledger> (devbroker is found next to it in the build tree).
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
source "$(dirname "$0")/../lib/kafka.bash"
al_init "${1:-}"
# shellcheck disable=SC2034  # req's curl --max-time (kafka.bash)
REQ_TIMEOUT=30
kafka_init
EMBEDDED_PID=""
trap 'rc=$?; kill_bounded "${EMBEDDED_PID:-}"; (exit $rc); kafka_cleanup' EXIT
command -v curl >/dev/null || fail "curl is not installed"
TOPIC=authledger.events
SHUTDOWN_MS=2000
BOUND_S=5  # shutdown_timeout_ms plus the 1 s the process may take after it, plus scheduling slack
printf '[server]\nshutdown_timeout_ms = %s\n[limits]\nkey_writes_per_minute = 100000\n' "$SHUTDOWN_MS" \
  >"$TMP/authledger.toml"
export AUTHLEDGER_CONFIG=$TMP/authledger.toml

start_devbroker 3 "$TOPIC" 4
timeout 20 kcat -L -J -b "$BROKERS" -t "$TOPIC" >"$TMP/meta.json" 2>/dev/null || kdie "kcat -L failed"
BROKER_IDS=$(json_get "$TMP/meta.json" brokers | "$PY" -c 'import json,sys; print(" ".join(str(b["id"]) for b in json.load(sys.stdin)))')
bootstrap_accounts acme globex
start_node writer "$DATA"
W=$WRITER_URL
step "writer $W"

: >"$TMP/writes.txt"
create() {  # NAME ACCOUNT: POST /v1/keys once
  echo "$1 $2" >>"$TMP/writes.txt"
  req "$1" POST "$W/v1/keys" -H "Authorization: Bearer ${ADMIN[$2]}" -H "$J" \
    -d "{\"name\":\"$1\",\"scopes\":[\"monitors:read\"]}"
}
for acct in acme globex; do  # the first write after a start may answer 503 while re-synchronising
  for i in $(seq 1 20); do
    [ "$(create "warm-$acct-$i" "$acct")" = 201 ] && break
    sleep 0.5
  done
  for i in 1 2 3; do
    c=$(create "acked-$acct-$i" "$acct")
    expect "acked-$acct-$i" "$c" 201
  done
done
# settled: applied == ledger_head (so the writes below are the only ones outstanding)
for _ in $(seq 1 50); do
  c=$(req settle GET "$W/readyz" -H "Authorization: Bearer ${ADMIN[acme]}")
  [ "$c" = 200 ] && [ "$(field settle applied)" = "$(field settle ledger_head)" ] && break
  sleep 0.2
done

step "every broker down; writes that cannot be acknowledged are outstanding; SIGTERM"
# Gone as a network partition looks: connections open, no answer (devbroker stopped).
kill -STOP "$BROKER_PID"
pids=()
for i in 1 2 3 4; do
  acct=acme
  [ $((i % 2)) = 0 ] && acct=globex
  create "late-$acct-$i" "$acct" >/dev/null &
  pids+=($!)
done
sleep 1  # the writes reach the ledger
t0=$("$PY" -c 'import time; print(time.monotonic())')
kill -TERM "$WRITER_PID"
while kill -0 "$WRITER_PID" 2>/dev/null; do
  elapsed=$("$PY" -c "import time; print(time.monotonic() - $t0)")
  "$PY" -c "import sys; sys.exit(float(sys.argv[1]) > $BOUND_S + 25)" "$elapsed" ||
    kdie "the writer has not exited $elapsed s after SIGTERM"
  sleep 0.1
done
rc=0
wait "$WRITER_PID" || rc=$?
elapsed=$("$PY" -c "import time; print(round(time.monotonic() - $t0, 2))")
WRITER_PID=""
wait "${pids[@]}" || true
echo "   the writer exited with status $rc after $elapsed s (bound $BOUND_S s)"
[ "$rc" = 0 ] || kdie "the writer exited with status $rc after SIGTERM"
"$PY" -c "import sys; sys.exit(float(sys.argv[1]) > $BOUND_S)" "$elapsed" ||
  kdie "stopping took $elapsed s, more than the bound of $BOUND_S s (shutdown_timeout_ms = $SHUTDOWN_MS)"
sed -n '/shutting down/,$p' "$TMP/writer.log" | grep -v '^%' | redact | sed 's/^/   | /' | tail -n 20
grep -Eq 'kafka ledger: shutdown: gave up on [0-9]+ appends? \([0-9]+ events?\) .*\(partition [0-9]+: ' "$TMP/writer.log" ||
  kdie "the writer's log does not say what it gave up on"
for f in "$TMP"/r/late-*.code; do
  c=$(cut -d' ' -f1 "$f")
  [ "$c" != 201 ] || kdie "$(basename "$f" .code) was acknowledged although no broker was up"
done

step "brokers back: every acknowledged write is there, exactly once"
kill -CONT "$BROKER_PID"
start_node writer "$DATA"
W=$WRITER_URL
n=0
while read -r name acct; do
  [ "$(cut -d' ' -f1 "$TMP/r/$name.code")" = 201 ] || continue
  key=$(field "$name" key)
  c=$(req "v-$name" POST "$W/v1/keys/verify" -H "$J" -d "{\"key\":\"$key\",\"scope\":\"monitors:read\"}")
  expect "v-$name" "$c" 200
  [ "$(field "v-$name" code)" = VALID ] || kdie "acknowledged key $name does not verify: $(body "v-$name")"
  n=$((n + 1))
done <"$TMP/writes.txt"
[ "$n" -ge 6 ] || kdie "only $n writes were acknowledged before the brokers went down"
stop_node writer
read_topic
"$PY" - "$TMP" <<'EOF' || kdie "topic check failed"
import collections, json, sys
tmp = sys.argv[1]
names = collections.Counter()
for line in open(f"{tmp}/topic.jsonl"):
    if line.strip():
        ev = json.loads(json.loads(line)["payload"])
        if ev["type"] == "io.authledger.key.created.v1":
            names[ev["data"]["name"]] += 1
bad = []
for line in open(f"{tmp}/writes.txt"):
    name = line.split()[0]
    code = open(f"{tmp}/r/{name}.code").read().split()[0]
    if code == "201" and names[name] != 1:
        bad.append(f"{name}: acknowledged, {names[name]} times in the topic")
    if code == "503":  # given up: in the topic only if the answer said it might be
        body = json.load(open(f"{tmp}/r/{name}.json"))
        maybe = body.get("type") == "/problems/outcome-unknown"
        print(f"   {name}: 503 {body.get('type')}, {names[name]} times in the topic")
        if names[name] and not maybe:
            bad.append(f"{name}: answered 503 {body.get('type')} ({body.get('detail')}), yet in the topic")
    if names[name] > 1:
        bad.append(f"{name}: {names[name]} times in the topic")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"   every acknowledged write is in the topic exactly once ({sum(names.values())} keys created)")
EOF
echo "   $n acknowledged keys verify VALID after the restart"

step "the embedded ledger stops cleanly"
EMB=$TMP/embedded
"$BIN" bootstrap --data "$EMB" --account solo >"$TMP/boot.solo" 2>>"$TMP/boot.err" || kdie "embedded bootstrap failed"
unset AUTHLEDGER_CONFIG
K=()
start_node embedded "$EMB"
key=$(sed -n 's/^key: //p' "$TMP/boot.solo")
c=$(req emb-create POST "$EMBEDDED_URL/v1/keys" -H "Authorization: Bearer $key" -H "$J" \
  -d '{"name":"e1","scopes":["monitors:read"]}')
expect emb-create "$c" 201
t0=$SECONDS
stop_node embedded
[ $((SECONDS - t0)) -le 3 ] || kdie "the embedded writer took $((SECONDS - t0)) s to stop"
! grep -q 'gave up' "$TMP/embedded.log" || kdie "the embedded writer gave something up: $(grep 'gave up' "$TMP/embedded.log")"
echo "kafka_shutdown_test: all checks passed in $((SECONDS - T0)) s"
