#!/usr/bin/env bash
# kill -9 in the middle of writes loses nothing that was acknowledged, and a torn
# tail left in the ledger is cut on the next start:
#   1. one writer, one write at a time; kill -9; a torn record appended; restart.
#   2. a burst of concurrent creates and revokes over many accounts and many in one
#      account (group-committed: many batches per fdatasync), kill -9 with requests in
#      flight, restart: every acknowledged create verifies, every acknowledged revoke
#      holds, each unacknowledged write is there whole or not at all; `audit verify
#      --strict` passes, and the projections the restarted server caught up equal, byte
#      for byte, what `authledger rebuild` writes.
# Usage: crash_test.sh <authledger> <projections_dump>
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"
DUMP=${2:?usage: crash_test.sh <authledger> <projections_dump>}
[ -x "$DUMP" ] || fail "$DUMP is not an executable"
BURST="$PY $(dirname "$0")/crash_burst.py"
WRITER_PID=""
crash_cleanup() {
  local rc=$?
  if [ -n "$WRITER_PID" ]; then kill "$WRITER_PID" 2>/dev/null || true; fi
  (exit "$rc")
  al_cleanup
}
trap crash_cleanup EXIT
CONF=$TMP/authledger.toml
printf '[keys]\nmax_live_keys = 100000\n[limits]\nkey_writes_per_minute = 1000000\nkey_reads_per_minute = 1000000\n' >"$CONF"
export AUTHLEDGER_CONFIG=$CONF

"$BIN" bootstrap --data "$DATA" --account crashy >"$TMP/boot" 2>/dev/null
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")

step "one writer, kill -9, a torn tail"
start_server
# A writer that records each key only once the server has acknowledged it (201).
(
  i=0
  while [ $i -lt 2000 ]; do
    out=$(curl -s -o "$TMP/resp" -w '%{http_code}' -X POST "$BASE/v1/keys" \
      -H "Authorization: Bearer $ADMIN" -H "$J" -d "{\"name\":\"k$i\",\"scopes\":[\"monitors:read\"]}") || break
    if [ "$out" = 201 ]; then
      json_get "$TMP/resp" key >>"$TMP/acked"
    fi
    i=$((i + 1))
  done
) &
WRITER_PID=$!
# Kill once a few writes were acknowledged (and more are in flight), however slow the machine is.
for _ in $(seq 1 300); do
  [ "$(wc -l 2>/dev/null <"$TMP/acked" || echo 0)" -ge 5 ] && break
  sleep 0.1
done
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
wait "$WRITER_PID" 2>/dev/null || true
WRITER_PID=""
ACKED=$(wc -l 2>/dev/null <"$TMP/acked" || echo 0)
[ "$ACKED" -gt 0 ] || fail "no write was acknowledged before the kill"

# Simulate a torn write: the first half of a record (a copy of the last one's) at the end of
# the last segment, as a write cut short leaves it. (Bytes that cannot begin a record are
# damage, not a torn write: serve refuses them; see readonly_ledger_test.sh.)
LAST=$(ls "$DATA/ledger/"*.log | sort | tail -n 1)
"$PY" - "$LAST" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
off, last = 16, None
while off + 8 <= len(b) and off + 8 + struct.unpack_from('<I', b, off + 4)[0] <= len(b):
    size = 8 + struct.unpack_from('<I', b, off + 4)[0]
    last, off = b[off:off + size], off + size
if off == len(b):  # else the kill itself left a write cut short there
    open(sys.argv[1], 'ab').write(last[: len(last) // 2])
PY

start_server
grep -q "torn tail" "$TMP/server.log" || fail "the torn tail was not reported: $(cat "$TMP/server.log")"
while read -r key; do
  code=$(curl -sf -X POST "$BASE/v1/keys/verify" -H "$J" -d "{\"key\":\"$key\"}" | json_get /dev/stdin code)
  [ "$code" = VALID ] || fail "an acknowledged key was lost after kill -9 (code $code)"
done <"$TMP/acked"
# And the ledger accepts new writes after recovery.
curl -sf -X POST "$BASE/v1/keys/$(sed -n 's/^key_id: //p' "$TMP/boot")/scopes" \
  -H "Authorization: Bearer $ADMIN" -H "$J" -d '{"scopes":["monitors:read"]}' >/dev/null || fail "write after recovery failed"
stop_server
echo "   $ACKED acknowledged keys survived kill -9; torn tail cut"

step "a burst of group-committed writes, kill -9 with requests in flight"
# Accounts: the one above (hot: most of the burst) and seven more.
echo "$(sed -n 's/^account: //p' "$TMP/boot") $ADMIN" >"$TMP/accounts"
for i in 1 2 3 4 5 6 7; do
  "$BIN" bootstrap --data "$DATA" --account "burst$i" --allow-existing >"$TMP/boot$i" 2>/dev/null ||
    fail "bootstrap of account burst$i failed"
  echo "$(sed -n 's/^account: //p' "$TMP/boot$i") $(sed -n 's/^key: //p' "$TMP/boot$i")" >>"$TMP/accounts"
done
start_server
$BURST seed "$BASE" "$TMP/accounts" 12 "$TMP/seeded" || die "seeding the keys to revoke failed"
# The client itself sends SIGKILL, once enough writes were acknowledged, while its other threads wait on theirs.
$BURST burst "$BASE" "$TMP/accounts" "$TMP/seeded" "$TMP/burst" "$SERVER_PID" || die "the burst failed"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
start_server
$BURST check "$BASE" "$TMP/accounts" "$TMP/seeded" "$TMP/burst" || die "acknowledged writes were lost"
stop_server
verify_and_rebuild "$DUMP"
echo "crash_test: acknowledged writes survive kill -9, alone and in a group-committed burst"
