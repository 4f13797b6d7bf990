#!/usr/bin/env bash
# tests/schemas/run.sh — the events the real server stores validate against schemas/events/.
#
# Usage: bash tests/schemas/run.sh <authledger-binary>
#
#  1. installs the validator's npm packages (npm ci) if tests/schemas/node_modules is missing;
#  2. in a temp data dir: `authledger bootstrap`, then `authledger serve` on a free loopback port,
#     and a REST scenario that makes every event type (create key, grant and revoke a scope,
#     rotate, verify the new key -> key.used.v1, revoke; register a confidential OAuth client,
#     rotate its secret, delete it), waiting for key.used.v1 in the audit log;
#     then stops the server with SIGTERM;
#  3. extracts the stored events from <data>/ledger/*.log with ledger_to_jsonl.py
#     (docs/ledger-format.md, CRC-checked);
#  4. validates them with validate-events.mjs (schemas + hash chain) and requires every type;
#     checks that a client event's subject is "clients/" + data.client_id;
#  5. checks that no full key (nor its secret part) and no OAuth client secret (nor its random
#     part) printed during the scenario appears in the stored events or in the server's log.
# Exits non-zero on any failure; the temp dir and the server are cleaned up on exit.
# SCHEMAS_KEEP_EVENTS=FILE keeps a copy of the extracted events (they hold no secrets).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/authledger.bash"
al_init "$(realpath "${1:?usage: bash tests/schemas/run.sh <authledger-binary>}")"
trap 'exit 130' INT TERM
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY="$(command -v python3)"
D="$DATA"



# --- 1. validator dependencies -------------------------------------------------------------
if [[ ! -d "$HERE/node_modules/ajv" || ! -d "$HERE/node_modules/ajv-formats" ]]; then
  step "npm ci in tests/schemas"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

# --- 2. scenario against the real binary ------------------------------------------------------
step "bootstrap"
"$BIN" bootstrap --data "$D" --account acme >"$TMP/bootstrap.out" 2>"$TMP/bootstrap.err" ||
  { redact <"$TMP/bootstrap.err" >&2; die "bootstrap failed"; }
ACCOUNT="$(awk '$1=="account:"{print $2}' "$TMP/bootstrap.out")"
ADMIN_ID="$(awk '$1=="key_id:"{print $2}' "$TMP/bootstrap.out")"
ADMIN_KEY="$(awk '$1=="key:"{print $2}' "$TMP/bootstrap.out")"
[[ -n "$ACCOUNT" && -n "$ADMIN_ID" && -n "$ADMIN_KEY" ]] || die "bootstrap printed no account/key_id/key"
KEYS_FILE="$TMP/full-keys.txt"
printf '%s\n' "$ADMIN_KEY" >"$KEYS_FILE"
CLIENT_SECRETS_FILE="$TMP/client-secrets.txt"
: >"$CLIENT_SECRETS_FILE"
echo "account $ACCOUNT, admin key id $ADMIN_ID"

step "serve"
start_server


# api METHOD PATH EXPECTED_STATUS [JSON_BODY] -> response body in $TMP/resp.json
# (ACTOR_EMAIL=... api ...: the call names the person the admin key acts for)
api() {
  local method=$1 path=$2 want=$3 body=${4:-}
  local args=(-sS -o "$TMP/resp.json" -w '%{http_code}' --max-time 15 -X "$method"
              -H "Authorization: Bearer $ADMIN_KEY")
  [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [[ -n "${ACTOR_EMAIL:-}" ]] && args+=(-H "X-Actor-Email: $ACTOR_EMAIL")
  local code
  code="$(curl "${args[@]}" "$BASE$path")" || die "$method $path: curl failed"
  if [[ "$code" != "$want" ]]; then
    echo "response: $(redact <"$TMP/resp.json")" >&2
    die "$method $path: HTTP $code, expected $want"
  fi
  echo "   $method $path -> $code"
}

step "REST scenario"
api POST /v1/keys 201 \
  '{"name":"ci","scopes":["monitors:read"],"environment":"test","allowed_cidrs":["10.0.0.0/8"],"expires_at":"2030-01-01T00:00:00Z"}'
KEY1_ID="$(json_at "$TMP/resp.json" '["id"]')"
KEY1="$(json_at "$TMP/resp.json" '["key"]')"
[[ -n "$KEY1_ID" && -n "$KEY1" ]] || die "POST /v1/keys: no id/key in the response"
printf '%s\n' "$KEY1" >>"$KEYS_FILE"

api POST "/v1/keys/$KEY1_ID/scopes" 200 '{"scopes":["alerts:read"]}'
api DELETE "/v1/keys/$KEY1_ID/scopes/alerts:read" 200

api POST "/v1/keys/$KEY1_ID/rotate" 201 '{"grace_period_seconds":60}'
KEY2_ID="$(json_at "$TMP/resp.json" '["id"]')"
KEY2="$(json_at "$TMP/resp.json" '["key"]')"
[[ -n "$KEY2_ID" && -n "$KEY2" && "$KEY2_ID" != "$KEY1_ID" ]] || die "rotate: no new id/key in the response"
printf '%s\n' "$KEY2" >>"$KEYS_FILE"

api POST /v1/keys/verify 200 "{\"key\":\"$KEY2\",\"ip\":\"10.1.2.3\"}"
[[ "$(json_at "$TMP/resp.json" '["valid"]')" == "true" ]] ||
  die "verify of the rotated key was not valid: $(redact <"$TMP/resp.json")"

api DELETE "/v1/keys/$KEY2_ID" 200

# OAuth client: registered (confidential: client_secret_basic by default), secret rotated, deleted.
api POST /v1/oauth/clients 201 \
  '{"name":"web app","redirect_uris":["https://app.example.com/cb"],"scopes":["monitors:read"]}'
CLIENT_ID="$(json_at "$TMP/resp.json" '["id"]')"
CLIENT_SECRET1="$(json_at "$TMP/resp.json" '.get("client_secret", "")')"
[[ "$CLIENT_ID" =~ ^clnt_[0-9A-Za-z]{12}$ ]] || die "POST /v1/oauth/clients: no client id in the response"
[[ -n "$CLIENT_SECRET1" ]] || die "POST /v1/oauth/clients: a confidential client got no client_secret"
printf '%s\n' "$CLIENT_SECRET1" >>"$CLIENT_SECRETS_FILE"

api POST "/v1/oauth/clients/$CLIENT_ID/rotate-secret" 200
CLIENT_SECRET2="$(json_at "$TMP/resp.json" '.get("client_secret", "")')"
[[ -n "$CLIENT_SECRET2" && "$CLIENT_SECRET2" != "$CLIENT_SECRET1" ]] || die "rotate-secret: no new client_secret in the response"
printf '%s\n' "$CLIENT_SECRET2" >>"$CLIENT_SECRETS_FILE"

# A public client (no secret, so no secret_hash in its event).
api POST /v1/oauth/clients 201 \
  '{"name":"cli","redirect_uris":["http://127.0.0.1:8765/cb"],"scopes":["monitors:read"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"none"}'
[[ "$(json_at "$TMP/resp.json" '.get("client_secret", "")')" == "" ]] || die "a public client got a client_secret"

ACTOR_EMAIL=Ops.Lead@Example.COM api DELETE "/v1/oauth/clients/$CLIENT_ID" 200 '{"reason":"schema test"}'
[[ "$(json_at "$TMP/resp.json" '["status"]')" == "deleted" ]] ||
  die "DELETE /v1/oauth/clients/{id}: the client is not deleted: $(redact <"$TMP/resp.json")"

step "waiting for io.authledger.key.used.v1 in the audit log"
found=""
for _ in $(seq 50); do
  api GET "/v1/audit-log?limit=500" 200 >/dev/null
  if grep -q '"io.authledger.key.used.v1"' "$TMP/resp.json"; then found=1; break; fi
  sleep 0.2
done
[[ -n "$found" ]] || die "no io.authledger.key.used.v1 in GET /v1/audit-log after 10 s"

step "stopping the server (SIGTERM)"
kill -TERM "$SERVER_PID"
rc=0
for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && die "the server did not stop within 10 s of SIGTERM"
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
[[ $rc -eq 0 ]] || die "the server exited with status $rc after SIGTERM"

# --- 3. extract the stored events --------------------------------------------------------------
step "extracting $D/ledger/*.log"
EVENTS="$TMP/events.jsonl"
"$PY" "$HERE/ledger_to_jsonl.py" "$D/ledger" "$EVENTS" || die "ledger_to_jsonl.py failed"
if [[ -n "${SCHEMAS_KEEP_EVENTS:-}" ]]; then cp "$EVENTS" "$SCHEMAS_KEEP_EVENTS"; echo "events copied to $SCHEMAS_KEEP_EVENTS"; fi

# --- 4. validate -------------------------------------------------------------------------------
step "validating"
node "$HERE/validate-events.mjs" "$EVENTS" | tee "$TMP/validate.out" || die "schema validation failed"
grep -qx 'every event type is covered' "$TMP/validate.out" || die "the scenario did not produce every event type"
grep -q '"actoremail":"Ops.Lead@example.com"' "$EVENTS" ||
  die "the event made with X-Actor-Email does not carry actoremail (domain lowercased)"
# validate-events.mjs ties subject to data.key_id; the same for OAuth clients.
"$PY" - "$EVENTS" <<'PY' || die "a client event's subject does not name its client"
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    e = json.loads(line)
    cid = e.get("data", {}).get("client_id")
    if cid is not None and e.get("subject") != "clients/" + cid:
        print(f"line {n} [{e.get('type')}]: subject {e.get('subject')!r} is not 'clients/{cid}'", file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
PY

# --- 5. no secrets in events or logs ---------------------------------------------------------
step "checking that no key material was stored or logged"
[[ "$(wc -l <"$KEYS_FILE")" -eq 3 ]] || die "expected 3 full keys from the scenario"
# Each key's secret part too: <brand>_<env>_<12 id><33 secret><6 checksum>.
sed -E 's/^[a-z][a-z0-9]*_(live|test)_[0-9A-Za-z]{12}([0-9A-Za-z]{33})[0-9A-Za-z]{6}$/\2/;t;d' "$KEYS_FILE" >"$TMP/secrets.txt"
[[ "$(wc -l <"$TMP/secrets.txt")" -eq 3 ]] || die "a scenario key does not have the documented format"
# OAuth client secrets: <brand>_cs_<43 random>; the random part alone is checked too.
[[ "$(wc -l <"$CLIENT_SECRETS_FILE")" -eq 2 ]] || die "expected 2 client secrets from the scenario"
sed -E 's/^[a-z][a-z0-9]*_cs_([0-9A-Za-z]{43})$/\1/;t;d' "$CLIENT_SECRETS_FILE" >"$TMP/client-secret-parts.txt"
[[ "$(wc -l <"$TMP/client-secret-parts.txt")" -eq 2 ]] || die "a client secret does not have the documented format"
for f in "$EVENTS" "$TMP/server.log" "$TMP/bootstrap.err"; do
  if grep -qF -f "$KEYS_FILE" "$f"; then die "a full key appears in $(basename "$f")"; fi
  if grep -qF -f "$TMP/secrets.txt" "$f"; then die "a key's secret part appears in $(basename "$f")"; fi
  if grep -qF -f "$CLIENT_SECRETS_FILE" "$f"; then die "an OAuth client secret appears in $(basename "$f")"; fi
  if grep -qF -f "$TMP/client-secret-parts.txt" "$f"; then die "an OAuth client secret's random part appears in $(basename "$f")"; fi
done
echo "no full key, client secret or secret part in the $(wc -l <"$EVENTS") stored events or the server log"

echo "1 passed, 0 failed"
