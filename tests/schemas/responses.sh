#!/usr/bin/env bash
# tests/schemas/responses.sh — what the real server answers matches schemas/openapi.json.
#
# Usage: bash tests/schemas/responses.sh <authledger-binary>
#
#  1. installs the validator's npm packages (npm ci) if tests/schemas/node_modules lacks one;
#  2. in a temp data dir: `authledger bootstrap`, then `authledger serve` on a free loopback port;
#  3. drives every operation of the REST API with curl, and every documented error status at least
#     once (400 … 503; the 429 of too many failed authentications last, as it blocks this IP's failures), each
#     call checked for its expected status and captured as one JSON Lines exchange
#     {"method","path_template","status","headers":{lowercase},"body"};
#  4. validates the captured exchanges with validate-responses.mjs (which first checks that the
#     document is valid OpenAPI 3.1), requiring every documented operation to be exercised.
# Exits non-zero on any failure; the temp dir and the server are cleaned up on exit.
# RESPONSES_KEEP=FILE keeps a copy of the captured exchanges (full keys and client secrets in it are
# redacted).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/authledger.bash"
al_init "$(realpath "${1:?usage: bash tests/schemas/responses.sh <authledger-binary>}")"
trap 'exit 130' INT TERM
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY="$(command -v python3)"
D="$DATA"
EXCH="$TMP/exchanges.jsonl"
: >"$EXCH"



# --- 1. validator dependencies -------------------------------------------------------------
if [[ ! -d "$HERE/node_modules/ajv" || ! -d "$HERE/node_modules/ajv-formats" ||
      ! -d "$HERE/node_modules/@seriousme/openapi-schema-validator" ]]; then
  step "npm ci in tests/schemas"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

# --- 2. server ---------------------------------------------------------------------------------
step "bootstrap"
"$BIN" bootstrap --data "$D" --account acme >"$TMP/bootstrap.out" 2>"$TMP/bootstrap.err" ||
  { redact <"$TMP/bootstrap.err" >&2; die "bootstrap failed"; }
ADMIN_KEY="$(awk '$1=="key:"{print $2}' "$TMP/bootstrap.out")"
[[ -n "$ADMIN_KEY" ]] || die "bootstrap printed no key"

step "serve"
start_server

# --- 3. exchanges ------------------------------------------------------------------------------
# record METHOD TEMPLATE STATUS: appends the exchange in $TMP/h (headers, last block) and
# $TMP/resp.json (body) to $EXCH.
record() {
  "$PY" - "$1" "$2" "$3" "$TMP/h" "$TMP/resp.json" >>"$EXCH" <<'PY' || die "cannot record the exchange"
import json, sys
method, template, status, hfile, bfile = sys.argv[1:6]
blocks = [b for b in open(hfile, encoding="latin-1").read().replace("\r\n", "\n").split("\n\n") if b.strip()]
headers = {}
for line in blocks[-1].split("\n")[1:] if blocks else []:
    if ":" in line:
        name, value = line.split(":", 1)
        name = name.strip().lower()
        headers[name] = headers[name] + ", " + value.strip() if name in headers else value.strip()
raw = open(bfile, "rb").read().decode("utf-8", "replace")
body = raw
# JSON bodies are parsed; JSON Lines (application/x-ndjson) stay text, even when they hold one line.
if "json" in headers.get("content-type", "") and "ndjson" not in headers.get("content-type", ""):
    try:
        body = json.loads(raw)
    except ValueError:
        pass
print(json.dumps({"method": method, "path_template": template, "status": int(status),
                  "headers": headers, "body": body}, ensure_ascii=False))
PY
}

# call METHOD TEMPLATE PATH WANT [curl args…]: one request, captured; its status must be WANT.
call() {
  local method=$1 template=$2 path=$3 want=$4
  shift 4
  rm -f "$TMP/h" "$TMP/resp.json"
  local code
  code="$(curl -sS -D "$TMP/h" -o "$TMP/resp.json" -w '%{http_code}' --max-time 15 -X "$method" "$@" "$BASE$path")" ||
    die "$method $path: curl failed"
  touch "$TMP/resp.json"
  record "$method" "$template" "$code"
  if [[ "$code" != "$want" ]]; then
    echo "response: $(redact <"$TMP/resp.json")" >&2
    die "$method $path: HTTP $code, expected $want"
  fi
  echo "   $method $path -> $code"
}
# expect_json EXPR VALUE: the last body has VALUE at EXPR.
expect_json() {
  local got
  got="$(json_at "$TMP/resp.json" "$1")"
  [[ "$got" == "$2" ]] || die "expected $1 == $2 in the last response, got $got"
}

ADMIN=(-H "Authorization: Bearer $ADMIN_KEY")
JSON=(-H 'Content-Type: application/json')
# A well-formed key (right brand, valid checksum) that was never issued.
BRAND="${ADMIN_KEY%%_*}"
UNKNOWN_KEY="$("$PY" -c 'import sys,zlib,random
a="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
k=sys.argv[1]+"_live_"+"".join(random.choice(a) for _ in range(45))
c=zlib.crc32(k.encode()); s=""
for _ in range(6): s=a[c%62]+s; c//=62
print(k+s)' "$BRAND")"

# stream_call PATH WANT [curl args…]: GET /v1/events, captured like `call`. A stream never ends by
# itself, so curl stops after 2 s (exit 28, expected) with the head and what arrived so far.
stream_call() {
  local path=$1 want=$2
  shift 2
  rm -f "$TMP/h" "$TMP/resp.json"
  local code rc=0
  code="$(curl -s -N -D "$TMP/h" -o "$TMP/resp.json" -w '%{http_code}' --max-time 2 "$@" "$BASE$path")" || rc=$?
  [[ $rc == 0 || $rc == 28 ]] || die "GET $path: curl failed (exit $rc)"
  touch "$TMP/resp.json"
  record GET /v1/events "$code"
  if [[ "$code" != "$want" ]]; then
    echo "response: $(redact <"$TMP/resp.json")" >&2
    die "GET $path: HTTP $code, expected $want"
  fi
  echo "   GET $path -> $code"
}

step "operations endpoints"
call GET /healthz /healthz 200
call GET /readyz /readyz 200
call GET /metrics /metrics 401
call GET /healthz /healthz 200 "${ADMIN[@]}"
call GET /readyz /readyz 200 "${ADMIN[@]}"
call GET /metrics /metrics 200 "${ADMIN[@]}"

step "create keys"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" \
  --data-binary '{"name":"grafana","scopes":["metrics:read","monitors:read"]}'
A_ID="$(json_at "$TMP/resp.json" '["id"]')"; A_KEY="$(json_at "$TMP/resp.json" '["key"]')"
A_POS="$(json_at "$TMP/resp.json" '["position"]')"
call GET /readyz /readyz 403 -H "Authorization: Bearer $A_KEY"  # details need ops:read
call GET /healthz /healthz 401 -H "Authorization: Bearer $UNKNOWN_KEY"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"ci runner","scopes":["monitors:read"],"environment":"test","allowed_cidrs":["10.0.0.0/8"],"expires_at":"2030-01-01T00:00:00Z"}'
R_ID="$(json_at "$TMP/resp.json" '["id"]')"; R_KEY="$(json_at "$TMP/resp.json" '["key"]')"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" \
  --data-binary '{"name":"key manager","scopes":["keys:admin"],"environment":null}'
K_ID="$(json_at "$TMP/resp.json" '["id"]')"; K_KEY="$(json_at "$TMP/resp.json" '["key"]')"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" \
  --data-binary '{"name":"office-only admin","scopes":["keys:admin"],"allowed_cidrs":["10.0.0.0/8","2001:db8::/32"]}'
I_ID="$(json_at "$TMP/resp.json" '["id"]')"; I_KEY="$(json_at "$TMP/resp.json" '["key"]')"

step "reads"
call GET /v1/keys /v1/keys 200 "${ADMIN[@]}"
call GET /v1/keys '/v1/keys?status=active' 200 "${ADMIN[@]}"
call GET '/v1/keys/{id}' "/v1/keys/$A_ID" 200 "${ADMIN[@]}" -H "X-Min-Position: $A_POS"
expect_json '["id"]' "$A_ID"

step "400"
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":['
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '["not an object"]'
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":["monitors:read"],"colour":"red"}'
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":["monitors:delete"]}'
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":["monitors:read"],"allowed_cidrs":["10.0.0.0/33"]}'
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":["monitors:read"],"expires_at":"tomorrow"}'
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":42,"scopes":["monitors:read"]}'
call GET /v1/keys '/v1/keys?status=bogus' 400 "${ADMIN[@]}"
call GET /v1/keys /v1/keys 400 "${ADMIN[@]}" -H 'X-Min-Position: soon'
call GET '/v1/keys/{id}' "/v1/keys/$A_ID" 400 "${ADMIN[@]}" -H 'X-Min-Position: -1'
call POST '/v1/keys/{id}/scopes' "/v1/keys/$A_ID/scopes" 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"scopes":"alerts:read"}'
call POST '/v1/keys/{id}/rotate' "/v1/keys/$A_ID/rotate" 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"grace_period_seconds":99999999}'
call DELETE '/v1/keys/{id}' "/v1/keys/$A_ID" 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"why":"x"}'
call GET /v1/audit-log '/v1/audit-log?limit=0' 400 "${ADMIN[@]}"
call GET /v1/audit-log '/v1/audit-log?cursor=abc' 400 "${ADMIN[@]}"
call POST /v1/keys/verify /v1/keys/verify 400 "${JSON[@]}" --data-binary '{"key":'
call POST /v1/keys/verify /v1/keys/verify 400 "${JSON[@]}" --data-binary "{\"key\":\"$A_KEY\",\"ip\":\"not-an-ip\"}"
call POST /v1/keys/verify /v1/keys/verify 400 "${JSON[@]}" --data-binary '{"key":"x","user":"y"}'

step "401"
call GET /v1/keys /v1/keys 401
call GET /v1/keys /v1/keys 401 -H "Authorization: Basic YWRtaW46YWRtaW4="
call GET /v1/audit-log /v1/audit-log 401 -H "Authorization: Bearer $UNKNOWN_KEY"

step "403"
call GET /v1/keys /v1/keys 403 -H "Authorization: Bearer $A_KEY"
call GET /v1/audit-log /v1/audit-log 403 -H "Authorization: Bearer $A_KEY"
call GET '/v1/keys/{id}' "/v1/keys/$A_ID" 403 -H "Authorization: Bearer $I_KEY"
call POST /v1/keys /v1/keys 403 -H "Authorization: Bearer $K_KEY" "${JSON[@]}" \
  --data-binary '{"name":"escalation","scopes":["monitors:write"]}'
call POST '/v1/keys/{id}/scopes' "/v1/keys/$A_ID/scopes" 403 -H "Authorization: Bearer $K_KEY" "${JSON[@]}" \
  --data-binary '{"scopes":["monitors:write"]}'
call DELETE '/v1/keys/{id}/scopes/{scope}' "/v1/keys/$A_ID/scopes/monitors:read" 403 -H "Authorization: Bearer $K_KEY"
call POST '/v1/keys/{id}/rotate' "/v1/keys/$A_ID/rotate" 403 -H "Authorization: Bearer $K_KEY"
call DELETE '/v1/keys/{id}' "/v1/keys/$A_ID" 403 -H "Authorization: Bearer $K_KEY"

step "404 and 405"
call GET '/v1/keys/{id}' /v1/keys/not-a-key-id 404 "${ADMIN[@]}"
call GET '/v1/keys/{id}' /v1/keys/AAAAAAAAAAAA 404 "${ADMIN[@]}"
call DELETE '/v1/keys/{id}' /v1/keys/AAAAAAAAAAAA 404 "${ADMIN[@]}"
call POST '/v1/keys/{id}/rotate' /v1/keys/AAAAAAAAAAAA/rotate 404 "${ADMIN[@]}"
call POST '/v1/keys/{id}/scopes' /v1/keys/AAAAAAAAAAAA/scopes 404 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"scopes":["alerts:read"]}'
call DELETE '/v1/keys/{id}/scopes/{scope}' "/v1/keys/$A_ID/scopes/billing:read" 404 "${ADMIN[@]}"
call GET /v1/no-such-endpoint /v1/no-such-endpoint 404 "${ADMIN[@]}"
call PUT /v1/keys /v1/keys 405 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{}'
call DELETE /v1/audit-log /v1/audit-log 405 "${ADMIN[@]}"
call POST /healthz /healthz 405

step "event stream"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"siem","scopes":["events:read"]}'
E_KEY="$(json_at "$TMP/resp.json" '["key"]')"
stream_call /v1/events 200 -H "Authorization: Bearer $E_KEY"
grep -q '^retry: 2000$' "$TMP/resp.json" || die "the event stream does not start with retry: 2000"
grep -q '^event: io.authledger.account.created.v1$' "$TMP/resp.json" || die "the event stream lacks account.created"
grep -q '^id: 1$' "$TMP/resp.json" || die "the first event's id is not 1"
stream_call '/v1/events?after=2' 200 "${ADMIN[@]}"
grep -q '^id: 1$' "$TMP/resp.json" && die "after=2 sent the first event again"
stream_call /v1/events 200 "${ADMIN[@]}" -H 'Last-Event-ID: 3'
call GET /v1/events '/v1/events?after=bogus' 400 "${ADMIN[@]}"
call GET /v1/events '/v1/events?after=999999' 400 "${ADMIN[@]}"
call GET /v1/events /v1/events 401
call GET /v1/events /v1/events 403 -H "Authorization: Bearer $A_KEY"
call POST /v1/events /v1/events 405 "${ADMIN[@]}"

step "scopes"
call POST '/v1/keys/{id}/scopes' "/v1/keys/$A_ID/scopes" 200 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"scopes":["alerts:read"]}'
call POST '/v1/keys/{id}/scopes' "/v1/keys/$A_ID/scopes" 200 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"scopes":["alerts:read"]}'
expect_json '["position"]' 0
call DELETE '/v1/keys/{id}/scopes/{scope}' "/v1/keys/$A_ID/scopes/alerts:read" 200 "${ADMIN[@]}"
call DELETE '/v1/keys/{id}/scopes/{scope}' "/v1/keys/$R_ID/scopes/monitors:read" 422 "${ADMIN[@]}"

step "rotate"
call POST '/v1/keys/{id}/rotate' "/v1/keys/$A_ID/rotate" 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"grace_period_seconds":3600}'
B_ID="$(json_at "$TMP/resp.json" '["id"]')"; B_KEY="$(json_at "$TMP/resp.json" '["key"]')"
expect_json '["rotated_from"]' "$A_ID"
call GET '/v1/keys/{id}' "/v1/keys/$A_ID" 200 "${ADMIN[@]}"
expect_json '["status"]' rotating
call POST '/v1/keys/{id}/rotate' "/v1/keys/$A_ID/rotate" 409 "${ADMIN[@]}"
call POST '/v1/keys/{id}/rotate' "/v1/keys/$B_ID/rotate" 201 "${ADMIN[@]}"
C_ID="$(json_at "$TMP/resp.json" '["id"]')"; C_KEY="$(json_at "$TMP/resp.json" '["key"]')"
call POST '/v1/keys/{id}/rotate' "/v1/keys/$C_ID/rotate" 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"grace_period_seconds":0}'
call GET /v1/keys '/v1/keys?status=expired' 200 "${ADMIN[@]}"

step "revoke"
call DELETE '/v1/keys/{id}' "/v1/keys/$K_ID?reason=no+longer+needed" 200 "${ADMIN[@]}"
expect_json '["status"]' revoked
call DELETE '/v1/keys/{id}' "/v1/keys/$K_ID" 409 "${ADMIN[@]}"
call DELETE '/v1/keys/{id}' "/v1/keys/$I_ID" 200 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"reason":"office closed"}'
call POST '/v1/keys/{id}/scopes' "/v1/keys/$K_ID/scopes" 409 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"scopes":["alerts:read"]}'
call DELETE '/v1/keys/{id}/scopes/{scope}' "/v1/keys/$K_ID/scopes/keys:admin" 409 "${ADMIN[@]}"
call GET /v1/keys /v1/keys 401 -H "Authorization: Bearer $K_KEY"

step "verify"
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$B_KEY\",\"scope\":\"monitors:read\"}"
expect_json '["code"]' VALID
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$A_KEY\"}"
expect_json '["code"]' VALID
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$R_KEY\",\"ip\":\"10.1.2.3\",\"scope\":null}"
expect_json '["code"]' VALID
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary '{"key":"hello"}'
expect_json '["code"]' MALFORMED
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$UNKNOWN_KEY\"}"
expect_json '["code"]' NOT_FOUND
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$K_KEY\"}"
expect_json '["code"]' REVOKED
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$C_KEY\"}"
expect_json '["code"]' EXPIRED
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$B_KEY\",\"scope\":\"billing:read\"}"
expect_json '["code"]' INSUFFICIENT_SCOPE
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$R_KEY\",\"ip\":\"192.0.2.1\"}"
expect_json '["code"]' IP_NOT_ALLOWED
call POST /v1/keys/verify /v1/keys/verify 200 "${JSON[@]}" --data-binary "{\"key\":\"$R_KEY\"}"
expect_json '["code"]' IP_NOT_ALLOWED

step "OAuth clients: register"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"client admin","scopes":["clients:admin"]}'
CA_KEY="$(json_at "$TMP/resp.json" '["key"]')"
call POST /v1/oauth/clients /v1/oauth/clients 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"status page","description":"the public status page","redirect_uris":["https://status.example.com/oauth/callback"],"scopes":["monitors:read"]}'
CL_ID="$(json_at "$TMP/resp.json" '["id"]')"; CL_SECRET="$(json_at "$TMP/resp.json" '["client_secret"]')"
CL_POS="$(json_at "$TMP/resp.json" '["position"]')"
expect_json '["confidential"]' true
expect_json '["token_endpoint_auth_method"]' client_secret_basic
expect_json '["grant_types"]' '["authorization_code", "refresh_token"]'
[[ "$CL_SECRET" =~ ^[a-z][a-z0-9]{1,9}_cs_[0-9A-Za-z]{43}$ ]] || die "the confidential client got no client_secret of the documented shape"
call POST /v1/oauth/clients /v1/oauth/clients 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"single-page app","redirect_uris":["http://localhost:8080/cb","http://127.0.0.1/cb","http://[::1]/cb"],"scopes":["monitors:read"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"none"}'
PUB_ID="$(json_at "$TMP/resp.json" '["id"]')"
expect_json '["confidential"]' false
expect_json '.get("client_secret", "(absent)")' '(absent)'
call POST /v1/oauth/clients /v1/oauth/clients 201 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"exporter","description":null,"redirect_uris":null,"scopes":["metrics:read"],"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post"}'
M_ID="$(json_at "$TMP/resp.json" '["id"]')"
expect_json '["redirect_uris"]' '[]'

step "OAuth clients: reads"
call GET /v1/oauth/clients /v1/oauth/clients 200 "${ADMIN[@]}"
call GET /v1/oauth/clients '/v1/oauth/clients?status=active' 200 "${ADMIN[@]}"
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 200 "${ADMIN[@]}" -H "X-Min-Position: $CL_POS"
expect_json '["id"]' "$CL_ID"
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$PUB_ID" 200 -H "Authorization: Bearer $CA_KEY"
expect_json '["token_endpoint_auth_method"]' none

step "OAuth clients: 400"
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":['
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","redirect_uris":["http://evil.example.com/cb"],"scopes":["monitors:read"]}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","redirect_uris":["https://app.example.com/cb#frag"],"scopes":["monitors:read"]}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","scopes":["monitors:read"],"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","scopes":["monitors:read"],"grant_types":["password"]}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","scopes":["monitors:read"],"grant_types":["client_credentials","refresh_token"]}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"name":"x","scopes":["monitors:read"]}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","scopes":["monitors:read"],"grant_types":["client_credentials"],"colour":"red"}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","scopes":["monitors:read"],"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}'
call POST /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary \
  '{"name":"x","scopes":["monitors:delete"],"grant_types":["client_credentials"]}'
call GET /v1/oauth/clients '/v1/oauth/clients?status=bogus' 400 "${ADMIN[@]}"
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 400 "${ADMIN[@]}" -H 'X-Min-Position: soon'
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 400 "${ADMIN[@]}" "${JSON[@]}" \
  --data-binary '{"grace_period_seconds":60}'
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 400 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{"why":"x"}'
call GET /v1/audit-log '/v1/audit-log?client_id=bad' 400 "${ADMIN[@]}"

step "OAuth clients: 401 and 403"
call POST /v1/oauth/clients /v1/oauth/clients 401 "${JSON[@]}" --data-binary '{"name":"x","scopes":["monitors:read"]}'
call GET /v1/oauth/clients /v1/oauth/clients 401
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 401
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 401
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 401
# A_KEY (metrics:read, monitors:read) lacks clients:admin.
call POST /v1/oauth/clients /v1/oauth/clients 403 -H "Authorization: Bearer $A_KEY" "${JSON[@]}" \
  --data-binary '{"name":"x","scopes":["monitors:read"],"grant_types":["client_credentials"]}'
call GET /v1/oauth/clients /v1/oauth/clients 403 -H "Authorization: Bearer $A_KEY"
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 403 -H "Authorization: Bearer $A_KEY"
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 403 -H "Authorization: Bearer $A_KEY"
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 403 -H "Authorization: Bearer $A_KEY"
# CA_KEY holds clients:admin only: it may not hand out, or act on a client holding, a scope it lacks.
call POST /v1/oauth/clients /v1/oauth/clients 403 -H "Authorization: Bearer $CA_KEY" "${JSON[@]}" \
  --data-binary '{"name":"escalation","scopes":["monitors:write"],"grant_types":["client_credentials"]}'
expect_json '["type"]' /problems/forbidden
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 403 -H "Authorization: Bearer $CA_KEY"
expect_json '["type"]' /problems/forbidden
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 403 -H "Authorization: Bearer $CA_KEY"
expect_json '["type"]' /problems/forbidden

step "OAuth clients: 404 and 405"
call GET '/v1/oauth/clients/{id}' /v1/oauth/clients/clnt_AAAAAAAAAAAA 404 "${ADMIN[@]}"
call GET '/v1/oauth/clients/{id}' /v1/oauth/clients/not-a-client-id 404 "${ADMIN[@]}"
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$A_ID" 404 "${ADMIN[@]}"
call POST '/v1/oauth/clients/{id}/rotate-secret' /v1/oauth/clients/clnt_AAAAAAAAAAAA/rotate-secret 404 "${ADMIN[@]}"
call DELETE '/v1/oauth/clients/{id}' /v1/oauth/clients/clnt_AAAAAAAAAAAA 404 "${ADMIN[@]}"
call PUT /v1/oauth/clients /v1/oauth/clients 405 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{}'
call PATCH '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 405 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{}'
call GET '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 405 "${ADMIN[@]}"

step "OAuth clients: rotate-secret"
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 200 "${ADMIN[@]}"
CL_SECRET2="$(json_at "$TMP/resp.json" '["client_secret"]')"
[[ "$CL_SECRET2" =~ ^[a-z][a-z0-9]{1,9}_cs_[0-9A-Za-z]{43}$ && "$CL_SECRET2" != "$CL_SECRET" ]] ||
  die "rotate-secret did not answer a new client_secret"
[[ "$(json_at "$TMP/resp.json" '["secret_rotated_at"]')" != null ]] || die "rotate-secret left secret_rotated_at null"
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 200 "${ADMIN[@]}" "${JSON[@]}" --data-binary '{}'
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$PUB_ID/rotate-secret" 409 "${ADMIN[@]}"

step "OAuth clients: delete"
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$PUB_ID?reason=app+retired" 200 "${ADMIN[@]}"
expect_json '["status"]' deleted
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$PUB_ID" 409 "${ADMIN[@]}"
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$M_ID?reason=ignored" 200 "${ADMIN[@]}" "${JSON[@]}" \
  --data-binary '{"reason":"exporter decommissioned"}'
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$M_ID/rotate-secret" 409 "${ADMIN[@]}"
call GET /v1/oauth/clients '/v1/oauth/clients?status=deleted' 200 "${ADMIN[@]}"
expect_json '["clients"].__len__()' 2

step "OAuth clients: audit view"
# check_client_audit ID TYPE...: the last body is an audit page of entries all about client ID,
# with (at least) an entry of each TYPE.
check_client_audit() {
  "$PY" - "$TMP/resp.json" "$@" <<'PY' || die "GET /v1/audit-log?client_id=$1: wrong entries"
import json, sys
page, cid, types = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3:]
entries = page["entries"]
bad = [e for e in entries if e.get("client_id") != cid or e.get("subject") != "clients/" + cid or "key_id" in e]
if bad:
    sys.exit(f"{len(bad)} of {len(entries)} entries are not about {cid}: {bad[0]}")
missing = [t for t in types if t not in {e["type"] for e in entries}]
if missing:
    sys.exit(f"no entry of type {missing} among {[e['type'] for e in entries]}")
PY
}
call GET /v1/audit-log "/v1/audit-log?client_id=$CL_ID" 200 "${ADMIN[@]}"
check_client_audit "$CL_ID" io.authledger.client.registered.v1 io.authledger.client.secret_rotated.v1
call GET /v1/audit-log "/v1/audit-log?client_id=$M_ID&order=oldest" 200 "${ADMIN[@]}"
check_client_audit "$M_ID" io.authledger.client.registered.v1 io.authledger.client.deleted.v1
expect_json '["entries"][-1]["changes"]["reason"]' 'exporter decommissioned'
call GET /v1/audit-log '/v1/audit-log?client_id=clnt_AAAAAAAAAAAA' 200 "${ADMIN[@]}"
expect_json '["entries"]' '[]'
call GET /v1/audit-log "/v1/audit-log?client_id=$PUB_ID&format=csv" 200 "${ADMIN[@]}"
"$PY" - "$TMP/resp.json" "$PUB_ID" <<'PY' || die "the CSV audit export lacks the client_id column or its rows"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
head, cid = rows[0], sys.argv[2]
want = ("position,time,type,account_seq,subject,key_id,client_id,actor_type,actor_id,actor_email,"
        "actor_ip,actor_endpoint,changes").split(",")
if head != want:
    sys.exit(f"header {head}, expected {want}")
body = rows[1:]
if len(body) < 2 or any(r[head.index("client_id")] != cid or r[head.index("key_id")] != "" for r in body):
    sys.exit(f"rows are not all about {cid}: {body}")
PY

step "OAuth clients: 422 (25 active clients per account)"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" \
  --data-binary '{"name":"client registrar","scopes":["clients:admin","monitors:read"]}'
REG=(-H "Authorization: Bearer $(json_at "$TMP/resp.json" '["key"]')")
call GET /v1/oauth/clients '/v1/oauth/clients?status=active' 200 "${REG[@]}"
ACTIVE="$(json_at "$TMP/resp.json" '["clients"].__len__()')"
for i in $(seq $((ACTIVE + 1)) 25); do
  call POST /v1/oauth/clients /v1/oauth/clients 201 "${REG[@]}" "${JSON[@]}" \
    --data-binary "{\"name\":\"bulk $i\",\"scopes\":[\"monitors:read\"],\"grant_types\":[\"client_credentials\"]}"
done
LAST_ID="$(json_at "$TMP/resp.json" '["id"]')"
call POST /v1/oauth/clients /v1/oauth/clients 422 "${REG[@]}" "${JSON[@]}" \
  --data-binary '{"name":"one too many","scopes":["monitors:read"],"grant_types":["client_credentials"]}'
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$LAST_ID" 200 "${REG[@]}"
call POST /v1/oauth/clients /v1/oauth/clients 201 "${REG[@]}" "${JSON[@]}" \
  --data-binary '{"name":"room again","scopes":["monitors:read"],"grant_types":["client_credentials"]}'

step "audit log"
call GET /v1/audit-log '/v1/audit-log?limit=2' 200 "${ADMIN[@]}"
CURSOR="$(json_at "$TMP/resp.json" '["next_cursor"]')"
[[ "$CURSOR" =~ ^[0-9]+\.[0-9]+$ ]] || die "the first audit page has no next_cursor"
call GET /v1/audit-log "/v1/audit-log?limit=2&cursor=$CURSOR" 200 "${ADMIN[@]}"
call GET /v1/audit-log /v1/audit-log 200 "${ADMIN[@]}"
call GET /v1/audit-log '/v1/audit-log?limit=500' 200 "${ADMIN[@]}"
expect_json '["next_cursor"]' null
call GET /v1/audit-log '/v1/audit-log?type=io.authledger.key.created.v1&order=oldest&since=2020-01-01T00:00:00Z' 200 "${ADMIN[@]}"
call GET /v1/audit-log '/v1/audit-log?format=jsonl&limit=3' 200 "${ADMIN[@]}"
call GET /v1/audit-log '/v1/audit-log?format=csv' 200 "${ADMIN[@]}"
call GET /v1/audit/public-key /v1/audit/public-key 200
# The verifiable log: no checkpoint is signed yet in this run, so heads are empty and proofs need a size.
call GET /v1/audit/tree-head /v1/audit/tree-head 200 "${ADMIN[@]}"
call GET /v1/audit/tree-head /v1/audit/tree-head 401
call GET /v1/audit/proof '/v1/audit/proof?position=1' 404 "${ADMIN[@]}"
call GET /v1/audit/proof '/v1/audit/proof?position=2&tree_size=3' 200 "${ADMIN[@]}"
call GET /v1/audit/proof '/v1/audit/proof?position=x' 400 "${ADMIN[@]}"
call GET /v1/audit/consistency '/v1/audit/consistency?first=1&second=3' 200 "${ADMIN[@]}"
call GET /v1/audit/consistency '/v1/audit/consistency?first=3&second=1' 400 "${ADMIN[@]}"
call GET /v1/audit/consistency '/v1/audit/consistency?first=1' 404 "${ADMIN[@]}"

step "X-Actor-Email (the person a key acts for)"
call POST /v1/keys /v1/keys 201 "${ADMIN[@]}" "${JSON[@]}" -H 'X-Actor-Email: Alice@Example.COM' \
  --data-binary '{"name":"made from the dashboard","scopes":["monitors:read"]}'
P_ID="$(json_at "$TMP/resp.json" '["id"]')"
# check_actor_email WANT_EMAIL KEY_ID: the last body is an audit page whose entries all carry
# actor.email WANT_EMAIL (next to a key actor), one of them the key.created of KEY_ID.
check_actor_email() {
  "$PY" - "$TMP/resp.json" "$@" <<'PY' || die "GET /v1/audit-log?actor=<email>: wrong entries"
import json, sys
page, email, kid = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
entries = page["entries"]
bad = [e for e in entries if e["actor"].get("email") != email or e["actor"]["type"] != "key"
       or len(e["actor"]["id"]) != 12]
if bad:
    sys.exit(f"{len(bad)} of {len(entries)} entries are not by a key acting for {email}: {bad[0]}")
if not any(e["type"] == "io.authledger.key.created.v1" and e.get("key_id") == kid for e in entries):
    sys.exit(f"no key.created entry for {kid} among {len(entries)} entries")
PY
}
# The domain was lowercased, the local part kept: the filter normalises the domain the same way.
call GET /v1/audit-log '/v1/audit-log?actor=Alice@example.com' 200 "${ADMIN[@]}"
check_actor_email Alice@example.com "$P_ID"
call GET /v1/audit-log '/v1/audit-log?actor=Alice%40EXAMPLE.com&format=jsonl' 200 "${ADMIN[@]}"
grep -q '"email":"Alice@example.com"' "$TMP/resp.json" || die "the jsonl audit export lacks actor.email"
# The local part is compared exactly.
call GET /v1/audit-log '/v1/audit-log?actor=alice@example.com' 200 "${ADMIN[@]}"
expect_json '["entries"]' '[]'
call GET /v1/audit-log "/v1/audit-log?key_id=$P_ID&format=csv" 200 "${ADMIN[@]}"
"$PY" - "$TMP/resp.json" "$P_ID" <<'PY' || die "the CSV audit export lacks the actor_email column or its value"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
head, body = rows[0], rows[1:]
if head.index("actor_email") != head.index("actor_id") + 1:
    sys.exit(f"header {head}: no actor_email right after actor_id")
if len(body) != 1 or body[0][head.index("actor_email")] != "Alice@example.com":
    sys.exit(f"rows: {body}")
PY
call POST /v1/keys /v1/keys 400 "${ADMIN[@]}" "${JSON[@]}" -H 'X-Actor-Email: not-an-email' \
  --data-binary '{"name":"never made","scopes":["monitors:read"]}'
call DELETE '/v1/keys/{id}/scopes/{scope}' "/v1/keys/$P_ID/scopes/monitors:read" 400 "${ADMIN[@]}" \
  -H 'X-Actor-Email: alice@example.com' -H 'X-Actor-Email: bob@example.com'
call GET /v1/oauth/clients /v1/oauth/clients 400 "${ADMIN[@]}" -H 'X-Actor-Email: alice@example..com'
# Nothing was appended by the refused calls.
call GET /v1/audit-log '/v1/audit-log?actor=Alice@example.com' 200 "${ADMIN[@]}"
check_actor_email Alice@example.com "$P_ID"
expect_json '["entries"].__len__()' 1

step "503 (X-Min-Position far ahead)"
FAR=999999999999
call POST /v1/keys/verify /v1/keys/verify 503 "${JSON[@]}" -H "X-Min-Position: $FAR" --data-binary "{\"key\":\"$B_KEY\"}"
call GET '/v1/keys/{id}' "/v1/keys/$B_ID" 503 "${ADMIN[@]}" -H "X-Min-Position: $FAR"
call GET /v1/keys /v1/keys 503 "${ADMIN[@]}" -H "X-Min-Position: $FAR"
call GET /v1/audit-log /v1/audit-log 503 "${ADMIN[@]}" -H "X-Min-Position: $FAR"
call GET /v1/oauth/clients /v1/oauth/clients 503 "${ADMIN[@]}" -H "X-Min-Position: $FAR"
call GET '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 503 "${ADMIN[@]}" -H "X-Min-Position: $FAR"

step "413 (70 KiB body)"
"$PY" -c 'import json; print(json.dumps({"name": "x" * (70 * 1024), "scopes": ["monitors:read"]}))' >"$TMP/big.json"
call POST /v1/keys /v1/keys 413 "${ADMIN[@]}" "${JSON[@]}" -H 'Expect: 100-continue' --data-binary "@$TMP/big.json"
call POST /v1/keys/verify /v1/keys/verify 413 "${JSON[@]}" -H 'Expect: 100-continue' --data-binary "@$TMP/big.json"
call POST /v1/oauth/clients /v1/oauth/clients 413 "${ADMIN[@]}" "${JSON[@]}" -H 'Expect: 100-continue' --data-binary "@$TMP/big.json"
call POST '/v1/oauth/clients/{id}/rotate-secret' "/v1/oauth/clients/$CL_ID/rotate-secret" 413 "${ADMIN[@]}" "${JSON[@]}" \
  -H 'Expect: 100-continue' --data-binary "@$TMP/big.json"
call DELETE '/v1/oauth/clients/{id}' "/v1/oauth/clients/$CL_ID" 413 "${ADMIN[@]}" "${JSON[@]}" \
  -H 'Expect: 100-continue' --data-binary "@$TMP/big.json"

step "429 (failed authentications from this IP; last, as it blocks the IP's failed attempts for the rest of the minute)"
got429=""
for _ in $(seq 60); do
  rm -f "$TMP/h" "$TMP/resp.json"
  code="$(curl -sS -D "$TMP/h" -o "$TMP/resp.json" -w '%{http_code}' --max-time 15 \
          -H "Authorization: Bearer $UNKNOWN_KEY" "$BASE/v1/keys")" || die "GET /v1/keys: curl failed"
  touch "$TMP/resp.json"
  record GET /v1/keys "$code"
  case "$code" in
    401) ;;
    429) got429=1; break ;;
    *) die "GET /v1/keys with an unknown key: HTTP $code, expected 401 then 429" ;;
  esac
done
[[ -n "$got429" ]] || die "no 429 after 60 failed authentications"
echo "   GET /v1/keys -> 429"
# A valid credential from the same address is still served (decision 48a).
call GET /v1/keys /v1/keys 200 "${ADMIN[@]}"

if [[ -n "${RESPONSES_KEEP:-}" ]]; then
  redact <"$EXCH" >"$RESPONSES_KEEP"
  echo "exchanges copied to $RESPONSES_KEEP"
fi

# --- 4. validate -------------------------------------------------------------------------------
step "validating $(wc -l <"$EXCH") exchanges against schemas/openapi.json"
node "$HERE/validate-responses.mjs" "$EXCH" --require-all-operations 2>&1 | redact ||
  die "the responses do not match the OpenAPI document"

echo "1 passed, 0 failed"
