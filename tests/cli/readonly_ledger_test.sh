#!/usr/bin/env bash
# Auditing never writes, and damage is never cut silently (issue 13, defect 2):
#   1. `audit verify`, `audit export` and `replay` leave the ledger byte for byte as it was,
#      and create nothing in it.
#   2. A byte flipped inside the last, acknowledged record: verify, export and replay fail
#      naming the segment file, byte offset and ledger position, and change nothing; `serve`
#      refuses to start, and starts with --truncate-damaged-tail, saying what it cut.
#   3. A genuine partial write (the file ends in the middle of a record after the last one):
#      the audit tools read up to it and say so without cutting; `serve` cuts it.
#   4. Everything a real bootstrap and serve create is owner-only (0600 files, 0700 dirs),
#      whatever the caller's umask.
# Usage: readonly_ledger_test.sh <authledger>
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"
umask 022  # what a careless operator's shell has: authledger must not inherit it

"$BIN" bootstrap --data "$DATA" --account acme >"$TMP/boot" 2>/dev/null
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")
start_server
for name in a b; do
  curl -sf -X POST "$BASE/v1/keys" -H "Authorization: Bearer $ADMIN" -H "$J" \
    -d "{\"name\":\"$name\",\"scopes\":[\"monitors:read\"]}" >/dev/null || die "creating key $name failed"
done
stop_server  # signs a checkpoint: the last record of the ledger

step "file modes after a real bootstrap and serve (shell umask 022)"
loose=$(find "$DATA" \( -type f -perm /077 \) -o \( -type d -perm /077 \) | sed "s|$DATA|DATA|" | head -n 10)
[ -z "$loose" ] || fail "files or directories readable by group or others: $loose"
[ "$(stat -c %a "$DATA")" = 700 ] && [ "$(stat -c %a "$DATA/ledger")" = 700 ] && [ "$(stat -c %a "$DATA/projections")" = 700 ] ||
  fail "data directories are not 0700: $(stat -c '%a %n' "$DATA" "$DATA/ledger" "$DATA/projections")"
for f in "$DATA/ledger/LOCK" "$DATA/ledger/000001.log" "$DATA/pepper" "$DATA/checkpoint.key"; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f is $(stat -c %a "$f"), not 0600"
done
echo "   every file 0600, every directory 0700"

# Every file of the ledger directory: name, size, mode and SHA-256 (what "changed nothing" compares).
ledger_sum() { (cd "$DATA/ledger" && find . -printf '%p %s %m\n' | sort && find . -type f | sort | xargs sha256sum); }
# last_record FIELD: the byte offset, size or first position of the last record of segment 1.
last_record() {
  "$PY" - "$DATA/ledger/000001.log" "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
off, last = 16, None
while off + 8 <= len(b):
    (length,) = struct.unpack_from('<I', b, off + 4)
    if off + 8 + length > len(b):
        break
    last = (off, 8 + length, struct.unpack_from('<Q', b, off + 8)[0])
    off += 8 + length
print({'offset': last[0], 'size': last[1], 'position': last[2]}[sys.argv[2]])
PY
}
HEAD_POS=$(last_record position)

step "the audit tools change nothing"
before=$(ledger_sum)
"$BIN" audit verify --data "$DATA" >"$TMP/v" 2>&1 || fail "untouched ledger did not verify: $(cat "$TMP/v")"
"$BIN" audit export --data "$DATA" --out "$TMP/export.jsonl" >/dev/null 2>&1 || fail "export failed"
"$BIN" replay --data "$DATA" --until "$HEAD_POS" --out "$TMP/replay0" >/dev/null 2>&1 || fail "replay failed"
[ "$(ledger_sum)" = "$before" ] || fail "verify, export or replay changed the ledger directory"
echo "   verify, export and replay left the ledger byte for byte as it was"

step "a byte flipped inside the last, acknowledged record"
AT=$(last_record offset)
SIZE=$(last_record size)
cp "$DATA/ledger/000001.log" "$TMP/intact.log"
"$PY" - "$DATA/ledger/000001.log" "$AT" "$SIZE" <<'PY'
import sys
p, at, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b = bytearray(open(p, 'rb').read())
b[at + size // 2] ^= 0x01
open(p, 'wb').write(bytes(b))
PY
before=$(ledger_sum)
expect_damage() {  # NAME FILE: FILE (a tool's output) names the damage
  grep -q "000001.log at byte offset $AT" "$2" || fail "$1 did not name the segment and offset $AT: $(cat "$2")"
  grep -q "ledger position $HEAD_POS" "$2" || fail "$1 did not name ledger position $HEAD_POS: $(cat "$2")"
  [ "$(ledger_sum)" = "$before" ] || fail "$1 changed the ledger directory"
}
rc=0; "$BIN" audit verify --data "$DATA" >"$TMP/out-verify" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "audit verify passed a ledger whose last record is damaged: $(cat "$TMP/out-verify")"
grep -q '^OK' "$TMP/out-verify" && fail "audit verify printed OK on damage"
expect_damage "audit verify" "$TMP/out-verify"
rc=0; "$BIN" audit export --data "$DATA" --out "$TMP/damaged.jsonl" >"$TMP/out-export" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "audit export exported a damaged ledger"
[ ! -e "$TMP/damaged.jsonl" ] || fail "audit export wrote a file from a damaged ledger"
expect_damage "audit export" "$TMP/out-export"
rc=0; "$BIN" replay --data "$DATA" --until 1 --out "$TMP/replay1" >"$TMP/out-replay" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "replay ran over a damaged ledger"
expect_damage "replay" "$TMP/out-replay"
echo "   verify, export and replay fail naming the damage, and leave it as it is"

PORT=$(free_port)
rc=0; timeout 20 "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$TMP/out-serve" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "serve did not refuse to start on a damaged tail (exit $rc): $(cat "$TMP/out-serve")"
grep -q -- "--truncate-damaged-tail" "$TMP/out-serve" || fail "serve did not name the flag: $(cat "$TMP/out-serve")"
expect_damage "serve" "$TMP/out-serve"
echo "   serve refuses to start, naming the damage and --truncate-damaged-tail"

: >"$TMP/server.log"
start_server --truncate-damaged-tail
grep -q "cut a DAMAGED tail of $SIZE bytes (1 record(s)" "$TMP/server.log" ||
  die "serve --truncate-damaged-tail did not say what it cut"
stop_server
[ "$(stat -c %s "$DATA/ledger/000001.log")" -ge "$AT" ] || fail "more than the damaged tail was cut"
cmp -s -n "$AT" "$DATA/ledger/000001.log" "$TMP/intact.log" || fail "bytes before the damage changed"
"$BIN" audit verify --data "$DATA" >"$TMP/v" 2>&1 || fail "the ledger does not verify after the cut: $(cat "$TMP/v")"
echo "   serve --truncate-damaged-tail cut exactly the damaged record, logged it, and the rest verifies"

step "a genuine partial write at the end is read up to, not cut, by the audit tools; serve cuts it"
# A write cut short: the first half of a record (a copy of the last one's bytes) after the
# last record, as a crash mid-append leaves it: nothing the projections have seen.
AT=$(stat -c %s "$DATA/ledger/000001.log")
SIZE=$(last_record size)
head -c "$(( $(last_record offset) + SIZE / 2 ))" "$DATA/ledger/000001.log" | tail -c "$((SIZE / 2))" >"$TMP/half"
cat "$TMP/half" >>"$DATA/ledger/000001.log"
before=$(ledger_sum)
"$BIN" audit verify --data "$DATA" >"$TMP/v" 2>&1 || fail "a torn partial write failed verify: $(cat "$TMP/v")"
grep -q "torn tail of $((SIZE / 2)) bytes in 000001.log at byte offset $AT" "$TMP/v" ||
  fail "verify did not report the torn tail: $(cat "$TMP/v")"
[ "$(ledger_sum)" = "$before" ] || fail "audit verify cut the torn tail"
: >"$TMP/server.log"
start_server
grep -q "cut a torn tail of $((SIZE / 2)) bytes from 000001.log at byte offset $AT" "$TMP/server.log" ||
  die "serve did not cut the torn tail"
curl -sf -X POST "$BASE/v1/keys" -H "Authorization: Bearer $ADMIN" -H "$J" \
  -d '{"name":"after","scopes":["monitors:read"]}' >/dev/null || die "a write after the repair failed"
stop_server
"$BIN" audit verify --data "$DATA" --strict >"$TMP/v" 2>&1 || fail "verify after the repair: $(cat "$TMP/v")"
echo "readonly_ledger_test: the audit tools never write; damage is named and kept; only a partial write is cut"
