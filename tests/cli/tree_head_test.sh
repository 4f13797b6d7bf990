#!/usr/bin/env bash
# Issue 13, defect 1: cutting the ledger back to an older checkpoint passed `audit verify --strict`.
# Signed tree heads and `audit verify --since-head` catch it. Through the real CLI and HTTP:
#   - heads are witnessed to a second directory as they are signed, and served by GET /v1/audit/tree-head;
#   - a served inclusion proof and consistency proof verify with Python's hashlib alone
#     (tests/cli/merkle_verify.py, the SIEM recipe of docs/siem.md);
#   - truncating the log to the end of an older checkpoint still passes --strict (every remaining
#     checkpoint is genuine) but fails --since-head, naming the partition and both sizes;
#   - a rewritten event fails it; a fork re-signed with the same key (the data directory's own
#     key) passes --strict and fails --since-head.
# Usage: tree_head_test.sh <authledger>
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"
HERE=$(cd "$(dirname "$0")" && pwd)
WITNESS=$TMP/witness
mkdir -p "$WITNESS"
export AUTHLEDGER_WITNESS_DIR=$WITNESS

"$BIN" bootstrap --data "$DATA" --account acme >"$TMP/boot" 2>/dev/null
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")
new_key() { curl -sf -X POST "$BASE/v1/keys" -H "Authorization: Bearer $ADMIN" -H "$J" -d "{\"name\":\"$1\",\"scopes\":[\"monitors:read\"]}" >"$TMP/key-$1"; }

step "first session: a key for the on-call engineer; stopping signs checkpoint 1"
start_server
new_key oncall
LEAKED=$(json_get "$TMP/key-oncall" key)
LEAKED_ID=$(json_get "$TMP/key-oncall" id)
PUB=$(curl -sf "$BASE/v1/audit/public-key" | json_get /dev/stdin public_key)
stop_server
[ -s "$WITNESS/tree-head-0.json" ] || fail "no witnessed tree head after the first checkpoint"
cp "$WITNESS/tree-head-0.json" "$TMP/head1.json"
SIZE1=$(json_get "$TMP/head1.json" tree_size)

step "second session: the key leaks and is revoked; stopping signs checkpoint 2"
start_server
curl -sf -X DELETE "$BASE/v1/keys/$LEAKED_ID" -H "Authorization: Bearer $ADMIN" >/dev/null
for k in a b c; do new_key "$k"; done
stop_server
cp "$WITNESS/tree-head-0.json" "$TMP/kept.json"
SIZE2=$(json_get "$TMP/kept.json" tree_size)
[ "$SIZE2" -gt "$SIZE1" ] || fail "the second head ($SIZE2) does not extend the first ($SIZE1)"
[ "$(wc -l <"$WITNESS/tree-heads.jsonl")" = 2 ] || fail "tree-heads.jsonl should hold two heads"

step "the API serves the same signed head, and proofs a SIEM verifies with hashlib"
start_server
curl -sf "$BASE/v1/audit/tree-head" -H "Authorization: Bearer $ADMIN" >"$TMP/served.json"
"$PY" - "$TMP/served.json" "$TMP/kept.json" <<'PY' || fail "served head differs from the witnessed one"
import json, sys
served, kept = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert served["heads"] == [kept], (served, kept)
PY
curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/audit/tree-head" >"$TMP/code" || true
[ "$(cat "$TMP/code")" = 401 ] || fail "tree-head without a key: $(cat "$TMP/code")"
# The revocation event, as the event stream delivers it (id: = position, data: = stored bytes).
timeout 5 curl -sN "$BASE/v1/events" -H "Authorization: Bearer $ADMIN" >"$TMP/stream" 2>/dev/null || true
"$PY" - "$TMP/stream" "$TMP/revoked.event" <<'PY' >"$TMP/revoked.pos" || fail "no revocation on the event stream"
import sys
pos = None
for line in open(sys.argv[1]):
    if line.startswith("id: "):
        pos = line[4:].strip()
    if line.startswith("data: ") and "key.revoked.v1" in line:
        open(sys.argv[2], "w").write(line[6:].rstrip("\n"))
        print(pos)
        sys.exit(0)
sys.exit(1)
PY
POS=$(cat "$TMP/revoked.pos")
curl -sf "$BASE/v1/audit/proof?position=$POS" -H "Authorization: Bearer $ADMIN" >"$TMP/proof.json" ||
  fail "no inclusion proof for position $POS"
"$PY" "$HERE/merkle_verify.py" inclusion "$TMP/revoked.event" "$TMP/proof.json" "$TMP/kept.json" >/dev/null ||
  fail "the served inclusion proof does not verify: $(cat "$TMP/proof.json")"
printf '%s' "$(sed 's/revoked/Revoked/' "$TMP/revoked.event")" >"$TMP/altered.event"
"$PY" "$HERE/merkle_verify.py" inclusion "$TMP/altered.event" "$TMP/proof.json" "$TMP/kept.json" >/dev/null &&
  fail "an altered event verified against the inclusion proof"
curl -sf "$BASE/v1/audit/consistency?first=$SIZE1" -H "Authorization: Bearer $ADMIN" >"$TMP/cons.json" ||
  fail "no consistency proof"
"$PY" "$HERE/merkle_verify.py" consistency "$TMP/cons.json" "$TMP/head1.json" "$TMP/kept.json" >/dev/null ||
  fail "the served consistency proof does not verify: $(cat "$TMP/cons.json")"
stop_server

"$BIN" audit verify --data "$DATA" --public-key "$PUB" --strict --since-head "$TMP/kept.json" >"$TMP/v" ||
  fail "the intact ledger is not consistent with its own head: $(cat "$TMP/v")"
grep -q "consistent with the 1 tree head" "$TMP/v" || fail "no consistency line: $(cat "$TMP/v")"
grep -q "the newest was signed at .* s ago)" "$TMP/v" || fail "the newest head's age is not reported: $(cat "$TMP/v")"
cp -a "$DATA" "$TMP/pristine"

step "defect 1: cut the log back to the end of checkpoint 1 (the revocation goes with it)"
"$PY" - "$DATA/ledger" <<'PY'
import glob, os, struct, sys
# Segment: 16-byte header, then records [crc u32][length u32][body]; checkpoints are records of their own.
segs = sorted(glob.glob(os.path.join(sys.argv[1], "*.log")))
assert len(segs) == 1, segs
b = open(segs[0], "rb").read()
off, seen = 16, 0
while off < len(b):
    (length,) = struct.unpack_from("<I", b, off + 4)
    end = off + 8 + length
    if b"ledger.checkpoint.v1" in b[off:end]:
        seen += 1
        if seen == 1:
            break
    off = end
assert seen == 1
with open(segs[0], "r+b") as f:
    f.truncate(end)
for other in os.listdir(sys.argv[1]):
    if not other.endswith(".log"):
        os.remove(os.path.join(sys.argv[1], other))  # sidecars of the cut segment
PY
"$BIN" audit verify --data "$DATA" --public-key "$PUB" --strict >"$TMP/v" 2>&1 ||
  fail "the truncated ledger should still pass --strict (this is the defect): $(cat "$TMP/v")"
rc=0; "$BIN" audit verify --data "$DATA" --public-key "$PUB" --strict --since-head "$TMP/kept.json" >"$TMP/v" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "truncation: expected exit 3, got $rc: $(cat "$TMP/v")"
HELD=$((SIZE1 + 1))  # the events checkpoint 1 signs, and checkpoint 1 itself
grep -q "partition 0 holds $HELD events, but the kept tree head was signed at tree_size $SIZE2: the ledger was truncated" "$TMP/v" ||
  fail "truncation not named with partition and sizes: $(cat "$TMP/v")"

step "a fork re-signed with the same key: passes --strict, fails --since-head"
"$BIN" rebuild --data "$DATA" >/dev/null 2>&1 || fail "rebuild of the truncated ledger failed"
start_server
for k in x y z w; do new_key "$k"; done
stop_server
"$BIN" audit verify --data "$DATA" --public-key "$PUB" --strict >"$TMP/v" 2>&1 || fail "the fork is validly signed: $(cat "$TMP/v")"
rc=0; "$BIN" audit verify --data "$DATA" --public-key "$PUB" --since-head "$TMP/kept.json" >"$TMP/v" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "fork: expected exit 3, got $rc: $(cat "$TMP/v")"
grep -q "partition 0: its first $SIZE2 events do not hash to the root of the kept tree head" "$TMP/v" ||
  fail "fork not named: $(cat "$TMP/v")"

step "a rewritten event in an export of the pristine ledger fails --since-head"
"$BIN" audit export --data "$TMP/pristine" --out "$TMP/export.jsonl" >/dev/null
"$BIN" audit verify --file "$TMP/export.jsonl" --since-head "$TMP/kept.json" >"$TMP/v" ||
  fail "the pristine export is not consistent with the kept head: $(cat "$TMP/v")"
sed 's/"name":"a"/"name":"A"/' "$TMP/export.jsonl" >"$TMP/rewritten.jsonl"
cmp -s "$TMP/export.jsonl" "$TMP/rewritten.jsonl" && fail "the rewrite changed nothing"
rc=0; "$BIN" audit verify --file "$TMP/rewritten.jsonl" --since-head "$TMP/kept.json" >"$TMP/v" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "rewrite: expected exit 3, got $rc: $(cat "$TMP/v")"
# A head whose signature does not verify is refused as input, not taken as the truth.
sed 's/"tree_size": *[0-9]*/"tree_size":1/' "$TMP/kept.json" >"$TMP/forged-head.json"
rc=0; "$BIN" audit verify --file "$TMP/export.jsonl" --since-head "$TMP/forged-head.json" >"$TMP/v" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 3 ] && grep -q "signature does not verify" "$TMP/v" ||
  fail "a forged kept head was accepted (rc $rc): $(cat "$TMP/v")"
echo "tree_head_test: witnessed and served heads agree; hashlib verifies inclusion and consistency; truncation, fork and rewrite caught by --since-head"
