#!/usr/bin/env bash
# `authledger audit export` + `audit verify`: an untouched ledger and its export
# verify; every kind of tampering with an export (byte flip, deletion,
# reordering, insertion, torn truncation) fails with exit 3 and names the first
# broken link; a damaged ledger file fails too. Usage: audit_test.sh <authledger>
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"

"$BIN" bootstrap --data "$DATA" --account acme >"$TMP/boot" 2>/dev/null
"$BIN" bootstrap --data "$DATA" --account globex --allow-existing >"$TMP/boot2" 2>/dev/null
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")
start_server
for name in a b c; do
  curl -sf -X POST "$BASE/v1/keys" -H "Authorization: Bearer $ADMIN" -H "$J" \
    -d "{\"name\":\"$name\",\"scopes\":[\"monitors:read\"]}" >"$TMP/key-$name"
done
ID=$(json_get "$TMP/key-a" id)
PUB=$(curl -sf "$BASE/v1/audit/public-key" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["algorithm"]=="Ed25519"; print(d["public_key"])')
[[ "$PUB" =~ ^[0-9a-f]{64}$ ]] || fail "no public key served"
curl -sf -X DELETE "$BASE/v1/keys/$ID" -H "Authorization: Bearer $ADMIN" >/dev/null
stop_server

# Untouched: the ledger and its export verify.
"$BIN" audit verify --data "$DATA" >"$TMP/v" || fail "untouched ledger did not verify: $(cat "$TMP/v")"
grep -q "^OK: verified .* events in 2 account chains and 1 signed checkpoints" "$TMP/v" ||
  fail "unexpected verify output (stopping the server should have signed a checkpoint): $(cat "$TMP/v")"
"$BIN" audit verify --data "$DATA" --public-key "$PUB" --strict >"$TMP/v" || fail "pinned strict verify failed: $(cat "$TMP/v")"
grep -q "(pinned)" "$TMP/v" || fail "key not reported as pinned"
OTHER=$(printf '%064d' 7)
rc=0; "$BIN" audit verify --data "$DATA" --public-key "$OTHER" >"$TMP/v" || rc=$?
[ "$rc" = 3 ] && grep -q "other than the trusted one" "$TMP/v" || fail "a checkpoint under another key was accepted"
"$BIN" audit export --data "$DATA" --out "$TMP/export.jsonl" >"$TMP/e" || fail "export failed"
N=$(wc -l <"$TMP/export.jsonl")
grep -q "exported $N events" "$TMP/e" || fail "export count: $(cat "$TMP/e")"
[ "$N" -ge 9 ] || fail "expected at least 9 events, got $N"
"$BIN" audit verify --file "$TMP/export.jsonl" >"$TMP/v" || fail "untouched export did not verify: $(cat "$TMP/v")"
for k in a b c; do
  secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"][20:])' "$TMP/key-$k")
  grep -qF "$secret" "$TMP/export.jsonl" && fail "a key's secret is in the export"
done

# tamper KIND EXPECTED-TEXT: apply KIND to a copy of the export, expect exit 3 naming the spot.
tamper() {
  local kind=$1 expect=$2 f="$TMP/t-$1.jsonl" rc=0
  python3 - "$TMP/export.jsonl" "$f" "$kind" <<'PY'
import sys
src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src, 'rb').read().split(b'\n')[:-1]
if kind == 'flip':        # change one character of the first event's data (still valid JSON)
    lines[0] = lines[0].replace(b'"name":"acme"', b'"name":"acmf"')
    assert b'acmf' in lines[0]
elif kind == 'delete':    # remove the second event (acme's bootstrap key)
    del lines[1]
elif kind == 'reorder':   # swap two of acme's events (its keys a and b: lines 5 and 6)
    assert b'"name":"a"' in lines[4] and b'"name":"b"' in lines[5]
    lines[4], lines[5] = lines[5], lines[4]
elif kind == 'duplicate': # insert a copy of an event
    lines.insert(3, lines[1])
elif kind == 'truncate':  # cut the last event in half (a torn copy)
    lines[-1] = lines[-1][: len(lines[-1]) // 2]
elif kind == 'forge':     # alter the signed heads of the checkpoint (last line) without the key
    assert b'checkpoint.v1' in lines[-1]
    i = lines[-1].index(b'"seq":') + 6
    lines[-1] = lines[-1][:i] + b'9' + lines[-1][i:]
elif kind == 'drop-before-checkpoint':  # remove the event right before the checkpoint
    del lines[-2]
elif kind == 'drop-tail':  # remove the final checkpoint: only --strict can tell
    del lines[-1]
open(dst, 'wb').write(b'\n'.join(lines) + b'\n')
PY
  "$BIN" audit verify --file "$f" --public-key "$PUB" --strict >"$TMP/out-$kind" 2>&1 || rc=$?
  [ "$rc" = 3 ] || fail "$kind: expected exit 3, got $rc: $(cat "$TMP/out-$kind")"
  if [ "$kind" != drop-tail ]; then
    grep -q "first broken link: account" "$TMP/out-$kind" || fail "$kind: no broken link named"
  fi
  grep -q -- "$expect" "$TMP/out-$kind" || fail "$kind: expected '$expect' in: $(cat "$TMP/out-$kind")"
}
tamper flip "seq 2 at position 2: prevhash does not match the stored bytes of seq 1 at position 1"
tamper delete "expected seq 2, found a gap after seq 1"
tamper reorder "expected seq 3, found a gap after seq 2"
tamper duplicate "appears twice"
tamper truncate "not a valid event envelope"
tamper forge "signature does not verify"
tamper drop-before-checkpoint "instead of the one before it"
tamper drop-tail "not covered by a signed checkpoint"

# A damaged ledger file is refused, never silently read.
SEG=$(ls "$DATA/ledger/"*.log | head -n 1)
python3 - "$SEG" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'"name":"acme"')
b[i + 9] ^= 0x01
open(p, 'wb').write(bytes(b))
PY
rc=0
"$BIN" audit verify --data "$DATA" >"$TMP/out-disk" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a flipped byte in the ledger file verified"
grep -qi "corrupt" "$TMP/out-disk" || fail "disk damage not reported as corruption: $(cat "$TMP/out-disk")"
echo "audit_test: intact ledger verified; flip, delete, reorder, duplicate, truncate, forged checkpoint, dropped tail and disk damage detected"
