#!/usr/bin/env bash
# Chaos: the disk fills up under a running writer (issue 13). The data directory lives on a
# small tmpfs; once a filler file has taken every free page:
#   - every write answers 503 application/problem+json (/problems/unavailable, Retry-After)
#     and stores nothing; the server log says the disk is full;
#   - reads keep serving: verify, list, health;
#   - nothing is corrupted: the failed appends were taken back;
# then, with the filler removed, writes succeed again without a restart, `audit verify
# --strict` passes with no torn tail to report, and the projections equal a rebuild's.
# Needs root (or CAP_SYS_ADMIN) for `mount -t tmpfs`; without it the test FAILS (no skip).
# Usage: disk_full.sh <authledger> <projections_dump>
set -euo pipefail
source "$(dirname "$0")/../../tests/lib/authledger.bash"
al_init "${1:-}"
DUMP=${2:?usage: disk_full.sh <authledger> <projections_dump>}
[ -x "$DUMP" ] || fail "$DUMP is not an executable"
MNT=$TMP/mnt
disk_full_cleanup() {
  local rc=$?
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
  if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" || umount -l "$MNT" || true; fi
  (exit "$rc")
  al_cleanup
}
trap disk_full_cleanup EXIT

mkdir -p "$MNT"
mount -t tmpfs -o size=48m,mode=0700 authledger-disk-full "$MNT" 2>"$TMP/mount.err" ||
  fail "cannot mount a tmpfs on $MNT ($(cat "$TMP/mount.err")): this test fills a small file system and needs" \
    "root or CAP_SYS_ADMIN for mount -t tmpfs; run the suite as root (it is not skipped)"
DATA=$MNT/data
CONF=$TMP/authledger.toml
printf '[limits]\nkey_writes_per_minute = 100000\nkey_reads_per_minute = 100000\n[keys]\nmax_live_keys = 1000\n' >"$CONF"
export AUTHLEDGER_CONFIG=$CONF

"$BIN" bootstrap --data "$DATA" --account full >"$TMP/boot" 2>/dev/null || fail "bootstrap on the tmpfs failed"
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")
start_server

create_key() {  # NAME -> prints the HTTP status; the body goes to $TMP/resp-NAME (headers to .h)
  curl -s -o "$TMP/resp-$1" -D "$TMP/resp-$1.h" -w '%{http_code}' -X POST "$BASE/v1/keys" \
    -H "Authorization: Bearer $ADMIN" -H "$J" -d "{\"name\":\"$1\",\"scopes\":[\"monitors:read\"]}"
}
verify_key() {  # KEY -> prints the HTTP status and the code
  curl -s -o "$TMP/verify" -w '%{http_code}' -X POST "$BASE/v1/keys/verify" -H "$J" -d "{\"key\":\"$1\"}"
  printf ' %s' "$(json_get "$TMP/verify" code 2>/dev/null || echo none)"
}

step "before: writes succeed"
for i in 1 2 3; do
  [ "$(create_key "before$i")" = 201 ] || die "create before$i: $(cat "$TMP/resp-before$i")"
done
KEY=$(json_get "$TMP/resp-before1" key)

step "fill the file system"
# top_up: take every page that is free now (the store may free some: obsolete files go).
top_up() {
  dd if=/dev/zero of="$MNT/filler-small" bs=4k oflag=append conv=notrunc 2>/dev/null || true
  local avail
  avail=$(df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' ')
  [ "$avail" = 0 ] || fail "the tmpfs still has $avail bytes free after filling it"
}
dd if=/dev/zero of="$MNT/filler-big" bs=1M 2>/dev/null || true
top_up

step "while full: writes answer 503 problem+json, reads keep serving"
# The last page of the active segment may still hold a record or two: writes go on until the
# first 503. From then on (same-sized requests, and the filler topped up) every one is refused.
refused=0 squeezed=""
for i in $(seq 10 60); do
  top_up
  code=$(create_key "during$i")
  if [ "$code" = 201 ] && [ "$refused" = 0 ]; then squeezed="$squeezed during$i"; continue; fi
  [ "$code" = 503 ] || die "write during$i on a full disk answered $code, not 503: $(cat "$TMP/resp-during$i")"
  grep -qi '^content-type: application/problem+json' "$TMP/resp-during$i.h" || die "503 without problem+json"
  grep -qi '^retry-after:' "$TMP/resp-during$i.h" || die "503 without Retry-After"
  [ "$(json_get "$TMP/resp-during$i" type)" = /problems/unavailable ] || die "wrong problem type: $(cat "$TMP/resp-during$i")"
  json_get "$TMP/resp-during$i" detail | grep -q "$TMP" && die "the detail shows a server path"
  [ "$(verify_key "$KEY")" = "200 VALID" ] || die "verify stopped serving on a full disk: $(cat "$TMP/verify")"
  refused=$((refused + 1))
  [ "$refused" -lt 12 ] || break
done
[ "$refused" = 12 ] || die "only $refused writes were refused on a full disk"
SEG=$(ls "$DATA/ledger/"*.log | sort | tail -n 1)
seg_size=$(stat -c %s "$SEG")
for i in 1 2 3; do
  top_up
  [ "$(create_key "during$i$i")" = 503 ] || die "a write on a full disk was taken: $(cat "$TMP/resp-during$i$i")"
done
curl -sf "$BASE/v1/keys" -H "Authorization: Bearer $ADMIN" >"$TMP/list" || die "listing keys failed on a full disk"
curl -sf "$BASE/healthz" >/dev/null || die "healthz failed on a full disk"
grep -q "the ledger's disk is full (no space left writing" "$TMP/server.log" || die "the server log does not say the disk is full"
[ "$(stat -c %s "$SEG")" = "$seg_size" ] || die "a refused append left bytes in $SEG"
echo "   12 writes refused with 503 (after${squeezed:- none} fit the last page), verify/list/healthz served, the segment unchanged ($seg_size bytes)"

step "space returns: writes resume without a restart"
rm -f "$MNT/filler-big" "$MNT/filler-small"
for i in 1 2 3; do
  [ "$(create_key "after$i")" = 201 ] || die "create after$i once space returned: $(cat "$TMP/resp-after$i")"
  [ "$(verify_key "$(json_get "$TMP/resp-after$i" key)")" = "200 VALID" ] || die "key after$i does not verify"
done
curl -sf "$BASE/v1/keys?limit=100" -H "Authorization: Bearer $ADMIN" >"$TMP/list" || die "listing keys failed"
for name in $squeezed; do
  grep -q "\"name\":\"$name\"" "$TMP/list" || die "$name was acknowledged (201) on the nearly full disk but is gone"
done
[ "$(grep -o '"name":"during' "$TMP/list" | wc -l)" = "$(echo $squeezed | wc -w)" ] ||
  die "a write refused on the full disk was stored after all"
stop_server
grep -qi "torn tail" "$TMP/server.log" && die "the server found a torn tail"

step "nothing corrupted: a restart, audit verify --strict, and projections equal a rebuild"
# The read models are a cache of the ledger: after the disk was full they may not have been
# flushed at the stop (RocksDB holds back after a failed compaction); a restart catches them up.
: >"$TMP/server.log"
start_server
grep -qi "torn tail" "$TMP/server.log" && die "the restart found a torn tail"
for i in 1 2 3; do
  [ "$(verify_key "$(json_get "$TMP/resp-after$i" key)")" = "200 VALID" ] || die "key after$i lost by the restart"
done
stop_server
"$BIN" audit verify --data "$DATA" --strict >"$TMP/verify.out" 2>&1 || fail "audit verify --strict: $(cat "$TMP/verify.out")"
grep -qi "torn tail" "$TMP/verify.out" && fail "audit verify reports a torn tail: $(cat "$TMP/verify.out")"
"$DUMP" "$DATA/projections" >"$TMP/live.dump" || fail "cannot dump the projections"
"$BIN" rebuild --data "$DATA" >"$TMP/rebuild.out" 2>&1 || fail "rebuild failed: $(cat "$TMP/rebuild.out")"
"$DUMP" "$DATA/projections" >"$TMP/rebuilt.dump" || fail "cannot dump the rebuilt projections"
cmp -s "$TMP/live.dump" "$TMP/rebuilt.dump" || fail "the projections differ from a rebuild's: $(diff "$TMP/live.dump" "$TMP/rebuilt.dump" | cut -c1-300 | head -n 8)"
echo "disk_full: writes 503 while full, reads served, nothing corrupted, appends resumed when space returned"
