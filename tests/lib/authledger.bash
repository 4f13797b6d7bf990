# Shared helpers for the shell tests that drive the real `authledger` binary.
# Source it, then call al_init "$BIN":
#   TMP, DATA        a fresh temp dir (removed on exit) and a data dir inside it
#   J                the JSON Content-Type header for curl -H
#   fail MSG         print FAIL: MSG and exit 1
#   die MSG          the same, with the end of the server log (keys redacted)
#   step MSG         print a progress heading
#   free_port        a free loopback TCP port
#   start_server [ARGS...]   serve $DATA on a free port (PORT, BASE, SERVER_PID), wait for /healthz;
#                    its log goes to $TMP/server.log
#   stop_server      SIGTERM and wait; fails if the server exits non-zero
#   json_get FILE KEY...     print FILE's JSON value at KEY, KEY2, ... (strings bare)
#   json_at FILE EXPR        the same with a Python subscript, e.g. '["keys"][0]["id"]' 
#   redact           stdin -> stdout with anything shaped like a full key or client secret replaced
#   verify_and_rebuild DUMP  (server stopped) `audit verify --strict` passes on $DATA, and its projections
#                    as the server left them equal, byte for byte, what `authledger rebuild` writes (DUMP:
#                    the projections_dump binary); prints one line of result
#   PY               the Python the helpers run: /usr/bin/python3 when it exists (a `python3`
#                    on PATH may be a slow shim, pyenv: ~0.4 s a call on a busy machine)
# Everything here targets 127.0.0.1 only and is bounded in time.

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

al_init() {
  BIN=${1:?usage: <test>.sh <authledger binary>}
  [ -x "$BIN" ] || { echo "FAIL: $BIN is not an executable" >&2; exit 2; }
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/authledger-shtest.XXXXXX")
  DATA=$TMP/data
  J='Content-Type: application/json'
  SERVER_PID=""
  trap al_cleanup EXIT
}

al_cleanup() {
  local rc=$?
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

die() {
  echo "FAIL: $*" >&2
  if [ -f "$TMP/server.log" ]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$TMP/server.log" | redact >&2
  fi
  exit 1
}

step() { echo "== $*"; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() {
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" "$@" 2>>"$TMP/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$BASE/healthz" >/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "server did not become healthy: $(redact <"$TMP/server.log")"
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || fail "server exited non-zero"
  SERVER_PID=""
}

json_get() {
  "$PY" -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$@"
}

json_at() {
  "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval("j"+sys.argv[2]); print(v if not isinstance(v,(dict,list,bool)) and v is not None else json.dumps(v))' "$1" "$2"
}

redact() {
  sed -E -e 's/[a-z][a-z0-9]{1,9}_(live|test)_[0-9A-Za-z]{51}/<redacted key>/g' \
         -e 's/[a-z][a-z0-9]{1,9}_cs_[0-9A-Za-z]{43}/<redacted client secret>/g'
}

verify_and_rebuild() {
  local dump=${1:?usage: verify_and_rebuild <projections_dump>}
  "$BIN" audit verify --data "$DATA" --strict >"$TMP/verify.out" 2>&1 || fail "audit verify --strict: $(cat "$TMP/verify.out")"
  "$dump" "$DATA/projections" >"$TMP/live.dump" || fail "cannot dump the projections the server left"
  "$BIN" rebuild --data "$DATA" >"$TMP/rebuild.out" 2>&1 || fail "rebuild failed: $(cat "$TMP/rebuild.out")"
  "$dump" "$DATA/projections" >"$TMP/rebuilt.dump" || fail "cannot dump the rebuilt projections"
  cmp -s "$TMP/live.dump" "$TMP/rebuilt.dump" ||
    fail "the projections the server left differ from a rebuild's ($(wc -l <"$TMP/live.dump") vs $(wc -l \
      <"$TMP/rebuilt.dump") rows; first differences, column family and key: $(diff "$TMP/live.dump" "$TMP/rebuilt.dump" |
      cut -f1,2 | head -n 6 | tr '\n' ' '))"
  echo "   audit verify --strict passes; the projections ($(wc -l <"$TMP/live.dump") rows) equal a rebuild's byte for byte"
}
