#!/usr/bin/env bash
# `authledger replay`: drive a live server through key creations, a scope grant,
# a revocation, a rotation and a scope removal, recording the ledger position of
# each write and what GET /v1/keys said right after it; then OAuth clients
# registered, a secret rotated, one deleted (with GET /v1/oauth/clients after
# each); stop the server; replay --until each position (and --until times taken
# from the responses) and check the replayed key and client lists equal what the
# live system said then. Also: statuses are computed at the replay time, --valid-only, the error
# cases, and that the live data directory is left untouched.
# Usage: replay_test.sh <authledger>
set -euo pipefail
source "$(dirname "$0")/../lib/authledger.bash"
al_init "${1:-}"
jget() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2:]]; print(v)' "$@"; }

"$BIN" replay --help | grep -q -- "--until" || fail "replay --help lacks --until"
"$BIN" replay --help | grep -qi "server is stopped" || fail "replay --help does not say the server must be stopped"

"$BIN" bootstrap --data "$DATA" --account acme >"$TMP/boot" 2>/dev/null
"$BIN" bootstrap --data "$DATA" --account globex --allow-existing >"$TMP/boot2" 2>/dev/null
ADMIN=$(sed -n 's/^key: //p' "$TMP/boot")
ACCT=$(sed -n 's/^account: //p' "$TMP/boot")
OTHER_ACCT=$(sed -n 's/^account: //p' "$TMP/boot2")
start_server
URL=$BASE

# A replay needs the ledger to itself.
rc=0; "$BIN" replay --data "$DATA" --until 1 --out "$TMP/locked" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" != 0 ] && grep -qi "locked" "$TMP/err" && grep -qi "stop the server" "$TMP/err" ||
  fail "replay against a running server: rc $rc, $(cat "$TMP/err")"

# step NAME METHOD PATH [BODY]: one write; records its response, position and the key list after it.
STEPS=()
step() {
  local name=$1 method=$2 path=$3 body=${4:-}
  sleep 0.01  # distinct millisecond event times, so the --until TIME boundaries below are exact
  if [ -n "$body" ]; then
    curl -sf -D "$TMP/$name.hdr" -X "$method" "$URL$path" -H "Authorization: Bearer $ADMIN" -H "$J" -d "$body" \
      >"$TMP/$name.json" || fail "$name: $method $path failed"
  else
    curl -sf -D "$TMP/$name.hdr" -X "$method" "$URL$path" -H "Authorization: Bearer $ADMIN" \
      >"$TMP/$name.json" || fail "$name: $method $path failed"
  fi
  local pos hdr
  pos=$(jget "$TMP/$name.json" position)
  hdr=$(tr -d '\r' <"$TMP/$name.hdr" | sed -n 's/^[Xx]-[Ll]edger-[Pp]osition: //p')
  [ "$pos" = "$hdr" ] || fail "$name: body position $pos != header $hdr"
  echo "$pos" >"$TMP/$name.pos"
  curl -sf "$URL/v1/keys" -H "Authorization: Bearer $ADMIN" >"$TMP/$name.keys" || fail "$name: GET /v1/keys failed"
  curl -sf "$URL/v1/oauth/clients" -H "Authorization: Bearer $ADMIN" >"$TMP/$name.clients" ||
    fail "$name: GET /v1/oauth/clients failed"
  STEPS+=("$name")
}
step create-a POST /v1/keys '{"name":"alpha","scopes":["monitors:read"]}'
A=$(jget "$TMP/create-a.json" id)
step create-b POST /v1/keys '{"name":"beta","scopes":["monitors:read","alerts:read"]}'
B=$(jget "$TMP/create-b.json" id)
step grant-a POST "/v1/keys/$A/scopes" '{"scopes":["metrics:read"]}'
step revoke-b DELETE "/v1/keys/$B"
step rotate-a POST "/v1/keys/$A/rotate" '{"grace_period_seconds":3600}'
C=$(jget "$TMP/rotate-a.json" id)
step narrow-c DELETE "/v1/keys/$C/scopes/monitors:read"
step register-web POST /v1/oauth/clients '{"name":"web","redirect_uris":["https://a.example/cb"],"scopes":["monitors:read"]}'
WEB=$(jget "$TMP/register-web.json" id)
step register-cli POST /v1/oauth/clients '{"name":"cli","redirect_uris":["http://localhost/cb"],"scopes":["alerts:read"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"none"}'
CLI=$(jget "$TMP/register-cli.json" id)
step rotate-web POST "/v1/oauth/clients/$WEB/rotate-secret"
step delete-cli DELETE "/v1/oauth/clients/$CLI"
stop_server

# Fingerprint of the whole live data directory, to prove replay leaves it alone.
fingerprint() { (cd "$DATA" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
fingerprint >"$TMP/fp.before"
"$BIN" audit verify --data "$DATA" >"$TMP/v" || fail "ledger did not verify before replay: $(cat "$TMP/v")"

# same_clients LIVE REPLAYED: the OAuth client lists agree on every field both show.
same_clients() {
  python3 - "$1" "$2" <<'PY' || fail "replayed clients differ from the live answer ($1 vs $2)"
import json, sys
live = json.load(open(sys.argv[1]))["clients"]
replayed = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
f = ("id", "name", "status", "scopes", "grant_types", "redirect_uris", "token_endpoint_auth_method", "created_at",
     "created_by", "secret_rotated_at", "deleted_at")
a = [{k: x[k] for k in f} for x in live]
b = [{k: x[k] for k in f} for x in replayed]
if a != b:
    print("live:    ", json.dumps(a, indent=1), "\nreplayed:", json.dumps(b, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

# same LIVE REPLAYED: the key lists agree on ids, names, statuses, scopes, environments, times.
same() {
  python3 - "$1" "$2" <<'PY' || fail "replayed keys differ from the live answer ($1 vs $2)"
import json, sys
live = json.load(open(sys.argv[1]))["keys"]
replayed = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
f = ("id", "name", "status", "scopes", "environment", "created_at", "expires_at", "grace_until", "revoked_at",
     "replaced_by", "rotated_from")
a = [{k: x[k] for k in f} for x in live]
b = [{k: x[k] for k in f} for x in replayed]
if a != b:
    print("live:    ", json.dumps(a, indent=1), "\nreplayed:", json.dumps(b, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

# 1. --until POSITION reproduces every recorded step.
for s in "${STEPS[@]}"; do
  P=$(cat "$TMP/$s.pos")
  "$BIN" replay --data "$DATA" --until "$P" --out "$TMP/r-$s" >"$TMP/r-$s.out" 2>"$TMP/r-$s.err" ||
    fail "replay --until $P failed: $(cat "$TMP/r-$s.err")"
  grep -q "^position: $P$" "$TMP/r-$s.out" || fail "replay --until $P summary: $(cat "$TMP/r-$s.out")"
  grep -q "^replayed $P of [0-9]* events" "$TMP/r-$s.out" || fail "summary lacks the event count: $(cat "$TMP/r-$s.out")"
  grep -q "replay: $P events (" "$TMP/r-$s.err" || fail "no progress line on stderr: $(cat "$TMP/r-$s.err")"
  [ -f "$TMP/r-$s/REPLAY" ] || fail "no REPLAY file in the replay directory"
  "$BIN" replay --out "$TMP/r-$s" --keys "$ACCT" --format jsonl >"$TMP/r-$s.keys" 2>"$TMP/err" ||
    fail "query of replay $s failed: $(cat "$TMP/err")"
  same "$TMP/$s.keys" "$TMP/r-$s.keys"
  "$BIN" replay --out "$TMP/r-$s" --clients "$ACCT" --format jsonl >"$TMP/r-$s.clients" 2>"$TMP/err" ||
    fail "clients query of replay $s failed: $(cat "$TMP/err")"
  same_clients "$TMP/$s.clients" "$TMP/r-$s.clients"
done
# The client steps are really there: nothing before the first, web rotated and cli deleted at the end.
[ ! -s "$TMP/r-narrow-c.clients" ] || fail "clients before any was registered: $(cat "$TMP/r-narrow-c.clients")"
python3 - "$TMP/r-delete-cli.clients" "$WEB" "$CLI" <<'PY' || fail "replayed clients are not what the steps did"
import json, sys
c = {x["id"]: x for x in map(json.loads, open(sys.argv[1]))}
web, cli = c[sys.argv[2]], c[sys.argv[3]]
assert web["status"] == "active" and web["secret_rotated_at"] is not None, web
assert cli["status"] == "deleted" and cli["deleted_at"] is not None and cli["token_endpoint_auth_method"] == "none", cli
PY
"$BIN" replay --out "$TMP/r-delete-cli" --clients "$ACCT" --valid-only >"$TMP/clients.table" ||
  fail "clients table query failed"
grep -q "^# active OAuth clients of account $ACCT as of " "$TMP/clients.table" || fail "clients table: $(cat "$TMP/clients.table")"
grep -q "^$WEB  *web  *active  *monitors:read  *authorization_code,refresh_token " "$TMP/clients.table" ||
  fail "clients table row: $(cat "$TMP/clients.table")"
! grep -q "$CLI" "$TMP/clients.table" || fail "--valid-only listed a deleted client: $(cat "$TMP/clients.table")"
rc=0; "$BIN" replay --out "$TMP/r-delete-cli" --clients "$ACCT" --keys "$ACCT" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" != 0 ] || fail "--clients with --keys was accepted"
# Sanity: the steps really differ (b revoked, a rotating, c narrowed).
python3 - "$TMP/r-revoke-b.keys" "$TMP/r-narrow-c.keys" "$A" "$B" "$C" <<'PY' || fail "replayed states are not what the steps did"
import json, sys
st = lambda f: {k["id"]: (k["status"], k["scopes"]) for k in map(json.loads, open(f))}
r4, r6 = st(sys.argv[1]), st(sys.argv[2])
a, b, c = sys.argv[3:6]
assert r4[b] == ("revoked", ["alerts:read", "monitors:read"]), r4[b]
assert r4[a] == ("active", ["metrics:read", "monitors:read"]), r4[a]
assert r6[a][0] == "rotating" and r6[c] == ("active", ["metrics:read"]), r6
PY

# 2. Replay and query in one invocation; --valid-only; the table.
P4=$(cat "$TMP/revoke-b.pos")
"$BIN" replay --data "$DATA" --until "$P4" --out "$TMP/one" --keys "$ACCT" --valid-only >"$TMP/one.out" 2>/dev/null ||
  fail "replay + query in one invocation failed"
grep -q "^# valid keys of account $ACCT as of .* (ledger position $P4)" "$TMP/one.out" || fail "table header: $(cat "$TMP/one.out")"
grep -q "^$A  *alpha  *active  *live  *metrics:read,monitors:read " "$TMP/one.out" || fail "table row of a: $(cat "$TMP/one.out")"
grep -q "$B" "$TMP/one.out" && fail "--valid-only listed the revoked key: $(cat "$TMP/one.out")"
"$BIN" replay --out "$TMP/one" --keys "$ACCT" >"$TMP/all.out" || fail "table query failed"
grep -q "^$B  *beta  *revoked .*revoked 20" "$TMP/all.out" || fail "table lacks the revoked key: $(cat "$TMP/all.out")"

# 3. --until TIME: every event with time <= TIME, statuses computed at TIME.
T_REVOKE=$(jget "$TMP/revoke-b.json" revoked_at)
T_BEFORE=$(python3 -c 'import sys,datetime as d; t=d.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M:%S.%fZ")-d.timedelta(milliseconds=1); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(t.microsecond//1000))' "$T_REVOKE")
"$BIN" replay --data "$DATA" --until "$T_REVOKE" --out "$TMP/t-at" --keys "$ACCT" --format jsonl >"$TMP/t-at.out" 2>/dev/null ||
  fail "replay --until $T_REVOKE failed"
grep -q "^as_of: $T_REVOKE$" "$TMP/t-at.out" || fail "as_of is not the --until time: $(cat "$TMP/t-at.out")"
grep -q "^last_event_time: $T_REVOKE$" "$TMP/t-at.out" || fail "last applied event is not the revocation: $(cat "$TMP/t-at.out")"
STOP=$(sed -n 's/^stopped before position \([0-9]*\), the first event after --until.*/\1/p' "$TMP/t-at.out")
[ -n "$STOP" ] && [ "$STOP" -gt "$(cat "$TMP/revoke-b.pos")" ] && [ "$STOP" -le "$(cat "$TMP/rotate-a.pos")" ] ||
  fail "time replay does not say where it stopped: $(cat "$TMP/t-at.out")"
grep '^{' "$TMP/t-at.out" >"$TMP/t-at.keys"
same "$TMP/revoke-b.keys" "$TMP/t-at.keys"
"$BIN" replay --data "$DATA" --until "$T_BEFORE" --out "$TMP/t-before" >/dev/null 2>&1 || fail "replay --until $T_BEFORE failed"
"$BIN" replay --out "$TMP/t-before" --keys "$ACCT" --format jsonl >"$TMP/t-before.keys"
same "$TMP/grant-a.keys" "$TMP/t-before.keys"
# Offsets are accepted and mean the same instant.
T_CREATE_B=$(jget "$TMP/create-b.json" created_at)
OFFSET=$(python3 -c 'import sys,datetime as d; t=d.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M:%S.%fZ")+d.timedelta(hours=2); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03d+02:00"%(t.microsecond//1000))' "$T_CREATE_B")
"$BIN" replay --data "$DATA" --until "$OFFSET" --out "$TMP/t-b" >/dev/null 2>&1 || fail "replay --until $OFFSET failed"
"$BIN" replay --out "$TMP/t-b" --keys "$ACCT" --format jsonl >"$TMP/t-b.keys"
same "$TMP/create-b.keys" "$TMP/t-b.keys"
# Two hours after the rotation (grace: one hour), a is expired as of then, though no event says so.
T_ROT=$(jget "$TMP/rotate-a.json" created_at)
LATER=$(python3 -c 'import sys,datetime as d; t=d.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M:%S.%fZ")+d.timedelta(hours=2); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$T_ROT")
"$BIN" replay --data "$DATA" --until "$LATER" --out "$TMP/later" --keys "$ACCT" --format jsonl >"$TMP/later.out" 2>/dev/null ||
  fail "replay --until $LATER failed"
python3 - "$TMP/later.out" "$A" "$B" "$C" <<'PY' || fail "statuses are not computed at the replay time: $(cat "$TMP/later.out")"
import json, sys
st = {k["id"]: k["status"] for k in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
a, b, c = sys.argv[2:5]
assert st[a] == "expired" and st[b] == "revoked" and st[c] == "active", st
PY
"$BIN" replay --out "$TMP/later" --keys "$ACCT" --valid-only --format jsonl >"$TMP/later.valid"
python3 - "$TMP/later.valid" "$C" <<'PY' || fail "--valid-only after the grace period: $(cat "$TMP/later.valid")"
import json, sys
ids = sorted(json.loads(l)["id"] for l in open(sys.argv[1]))
assert sys.argv[2] in ids and len(ids) == 2, ids  # c and the bootstrap admin key
PY
# The other account's keys are there too, and replay to the head equals the final live state.
"$BIN" replay --out "$TMP/later" --keys "$OTHER_ACCT" --format jsonl >"$TMP/other.keys" || fail "query of the second account failed"
[ "$(wc -l <"$TMP/other.keys")" = 1 ] || fail "second account should have its admin key: $(cat "$TMP/other.keys")"

# 4. Errors: clear sentences, non-zero exits, nothing half-written.
expect_error() {  # WANT_RC TEXT -- ARGS...
  local want=$1 text=$2 rc=0; shift 3
  "$BIN" replay "$@" >"$TMP/e.out" 2>"$TMP/e.err" || rc=$?
  [ "$rc" != 0 ] || fail "replay $* succeeded"
  [ "$want" = any ] || [ "$rc" = "$want" ] || fail "replay $*: exit $rc, expected $want: $(cat "$TMP/e.err")"
  grep -q -- "$text" "$TMP/e.err" || fail "replay $*: expected '$text' in: $(cat "$TMP/e.err")"
}
expect_error any "account nosuchaccount does not exist in the replay at position" -- --out "$TMP/one" --keys nosuchaccount
expect_error 2 "give a ledger position" -- --data "$DATA" --until yesterday --out "$TMP/x1"
expect_error 2 "position 0, before the first event" -- --data "$DATA" --until 0 --out "$TMP/x2"
expect_error 2 "beyond the end of the ledger, which is at position" -- --data "$DATA" --until 999999 --out "$TMP/x3"
expect_error 2 "before the ledger's first event" -- --data "$DATA" --until 2001-01-01T00:00:00Z --out "$TMP/x4"
for x in x1 x2 x3 x4; do [ -e "$TMP/$x" ] && fail "a failed replay created its --out ($x)"; done
mkdir -p "$TMP/notreplay" && echo hi >"$TMP/notreplay/file"
expect_error any "is not a replay directory" -- --out "$TMP/notreplay" --keys "$ACCT"
expect_error any "does not exist; create a replay first" -- --out "$TMP/nonexistent" --keys "$ACCT"
expect_error any "is not empty" -- --data "$DATA" --until 1 --out "$TMP/notreplay"
expect_error any "is not empty" -- --data "$DATA" --until 1 --out "$TMP/one"
expect_error 2 "separate directory" -- --data "$DATA" --until 1 --out "$DATA" --force
expect_error 2 "separate directory" -- --data "$DATA" --until 1 --out "$DATA/projections" --force
expect_error 2 "separate directory" -- --data "$DATA" --until 1 --out "$TMP" --force
expect_error any "no ledger in" -- --data "$TMP/nodata" --until 1 --out "$TMP/x5"
[ -e "$TMP/nodata" ] && fail "replay created a data directory"
expect_error 2 "nothing to do" -- --out "$TMP/one"
expect_error 2 "--valid-only filters" -- --data "$DATA" --until 1 --out "$TMP/x6" --valid-only
# --force replaces a previous replay.
P1=$(cat "$TMP/create-a.pos")
"$BIN" replay --data "$DATA" --until "$P1" --out "$TMP/one" --force --keys "$ACCT" --format jsonl >"$TMP/forced" 2>/dev/null ||
  fail "--force did not replace the replay"
grep -q "^position: $P1$" "$TMP/forced" || fail "--force replay summary: $(cat "$TMP/forced")"
grep '^{' "$TMP/forced" >"$TMP/forced.keys"
same "$TMP/create-a.keys" "$TMP/forced.keys"

# 5. The live data directory is untouched: byte for byte, it verifies, rebuild still works.
fingerprint >"$TMP/fp.after"
diff "$TMP/fp.before" "$TMP/fp.after" >/dev/null || fail "replay changed the data directory: $(diff "$TMP/fp.before" "$TMP/fp.after")"
"$BIN" audit verify --data "$DATA" >"$TMP/v" || fail "ledger did not verify after replay: $(cat "$TMP/v")"
HEAD=$(sed -n 's/^replayed [0-9]* of \([0-9]*\) events.*/\1/p' "$TMP/forced")
"$BIN" rebuild --data "$DATA" >"$TMP/rebuild.out" 2>&1 || fail "rebuild failed after replay: $(cat "$TMP/rebuild.out")"
grep -q "rebuilt projections from $HEAD events" "$TMP/rebuild.out" || fail "rebuild output: $(cat "$TMP/rebuild.out")"
echo "replay_test: ${#STEPS[@]} recorded steps reproduced by --until POSITION, --until TIME boundaries exact, statuses as of the replay time, --valid-only, errors clear, live data untouched"
