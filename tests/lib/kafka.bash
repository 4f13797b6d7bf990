# Shared helpers for the shell tests that run the Kafka ledger on devbroker (ops/devbroker,
# librdkafka's mock cluster) and read it back with kcat. Source it after authledger.bash and
# call kafka_init after al_init "$BIN":
#   kafka_init           DEVBROKER (found next to $BIN in the build tree), kcat required, $TMP/r
#                        made, T0 set; every process below is stopped on exit (kafka_cleanup)
#   step MSG             progress heading with the seconds since kafka_init
#   kill_bounded PID     SIGTERM, up to 10 s, then SIGKILL
#   kdie MSG             FAIL: MSG with the last requests and the end of every node's log
#   start_devbroker N TOPIC PARTITIONS   devbroker behind a fifo on fd 3 (BROKER_PID); waits for
#                        its first line: BROKERS (bootstrap list), K (authledger's --kafka-* flags);
#                        its answers go to $TMP/broker.out.log, its stderr to $TMP/devbroker.log
#   broker_ask CMD...    send a fault command, print its one-line answer (bounded wait)
#   broker CMD...        the same, but the answer must be "ok ..." (else kdie)
#   bootstrap_accounts NAME...   `authledger bootstrap` each (the first one creates the ledger):
#                        ADMIN[NAME] (admin key), ACCT[NAME] (account id), $TMP/boot.NAME
#   wait_ready URL PID SECONDS   /readyz answers 200 before the deadline, while PID lives
#   start_node NAME DATA [serve args...]   `serve` on a free port: NAME_PID, NAME_URL
#   stop_node NAME       SIGTERM; must exit 0 within 30 s
#   req NAME METHOD URL [curl args...]   prints the status; $TMP/r/NAME.{json,h,code}; curl's
#                        --max-time is REQ_TIMEOUT (set it before kafka_init; default 30 s)
#   body/hdr/field/seconds/expect        read what req stored (see each function)
#   read_topic           every message of $TOPIC (kcat -C -J) into $TMP/topic.jsonl
# Node logs are $TMP/NAME.log; every request req sends is logged in $TMP/requests.log.

# kafka_init: find devbroker and kcat, prepare $TMP/r, stop every process we start on exit
kafka_init() {
  DEVBROKER=$(dirname "$BIN")/../ops/devbroker/devbroker
  [ -x "$DEVBROKER" ] || fail "devbroker not built at $DEVBROKER"
  command -v kcat >/dev/null || fail "kcat is not installed (ops/install-deps.sh test)"
  BROKER_PID="" WRITER_PID="" REPLICA_PID=""
  REQ_TIMEOUT=${REQ_TIMEOUT:-30}
  T0=$SECONDS
  mkdir -p "$TMP/r"
  trap kafka_cleanup EXIT
}

# step MSG: a progress heading with the seconds since kafka_init
step() { echo "== [$((SECONDS - T0))s] $*"; }

# kill_bounded PID: SIGTERM, up to 10 s, then SIGKILL
kill_bounded() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# kafka_cleanup (the EXIT trap): stop the nodes, then devbroker, then al_cleanup with the exit status
kafka_cleanup() {
  local rc=$?
  kill_bounded "${REPLICA_PID:-}"
  kill_bounded "${WRITER_PID:-}"
  { exec 3>&-; } 2>/dev/null || true
  kill_bounded "${BROKER_PID:-}"
  set +e  # else, under set -e, a failing run would stop at (exit 1) and keep $TMP
  (exit "$rc")
  al_cleanup
}

# kdie MSG: fail with the last requests and the end of each log (keys redacted, librdkafka
# chatter kept: it explains faults)
kdie() {
  echo "FAIL: $*" >&2
  if [ -s "$TMP/requests.log" ]; then
    echo "--- last requests (name method url -> status seconds) ---" >&2
    tail -n 15 "$TMP/requests.log" >&2
  fi
  for f in writer replica devbroker broker.out; do
    [ -s "$TMP/$f.log" ] || continue
    echo "--- $f log (last 25 lines) ---" >&2
    tail -n 25 "$TMP/$f.log" | redact >&2
  done
  exit 1
}

# start_devbroker N TOPIC PARTITIONS: devbroker on loopback, stdin a fifo kept open on fd 3
start_devbroker() {
  mkfifo "$TMP/broker.in"
  "$DEVBROKER" --brokers "$1" --topic "$2" --partitions "$3" \
    <"$TMP/broker.in" >"$TMP/broker.out.log" 2>"$TMP/devbroker.log" &
  BROKER_PID=$!
  exec 3>"$TMP/broker.in"  # keeps devbroker's stdin open
  wait_broker_address
  K=(--kafka-brokers "$BROKERS" --kafka-topic "$2")
}

# wait_broker_address: devbroker's first line (within 20 s) is its bootstrap list: BROKERS
wait_broker_address() {
  local deadline=$((SECONDS + 20))
  until [ -s "$TMP/broker.out.log" ]; do
    [ $SECONDS -lt $deadline ] && kill -0 "$BROKER_PID" 2>/dev/null || kdie "devbroker printed no address"
    sleep 0.1
  done
  BROKERS=$(head -n 1 "$TMP/broker.out.log")
  [[ "$BROKERS" =~ ^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+)*$ ]] || kdie "devbroker's first line: '$BROKERS'"
}

# broker_ask CMD...: send one command to devbroker, print its one-line answer (waits up to 5 s)
broker_ask() {
  local want
  want=$(($(wc -l <"$TMP/broker.out.log") + 1))
  echo "$*" >&3
  for _ in $(seq 1 100); do
    [ "$(wc -l <"$TMP/broker.out.log")" -ge "$want" ] && break
    sleep 0.05
  done
  sed -n "${want}p" "$TMP/broker.out.log"
}

# broker CMD...: send one fault command; its answer must be "ok ..."
broker() {
  local line
  line=$(broker_ask "$@")
  [[ "$line" == ok* ]] || kdie "devbroker answered '$line' to '$*'"
}

# bootstrap_accounts NAME...: bootstrap each account on the topic (server stopped); fills ADMIN, ACCT
bootstrap_accounts() {
  declare -gA ADMIN ACCT
  local name extra first=1
  for name in "$@"; do
    extra=()
    [ "$first" = 1 ] || extra=(--allow-existing)
    first=0
    "$BIN" bootstrap "${K[@]}" --data "$DATA" --account "$name" "${extra[@]}" >"$TMP/boot.$name" 2>>"$TMP/boot.err" ||
      kdie "bootstrap $name failed: $(grep -v '^%' "$TMP/boot.err" | tail -n 5)"
    ADMIN[$name]=$(sed -n 's/^key: //p' "$TMP/boot.$name")
    ACCT[$name]=$(sed -n 's/^account: //p' "$TMP/boot.$name")
    [[ "${ADMIN[$name]}" =~ ^al_live_[0-9A-Za-z]{51}$ ]] || kdie "bootstrap $name printed no well-formed key"
  done
}

# wait_ready URL PID SECONDS: /readyz answers 200 before the deadline, while PID lives
wait_ready() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    curl -sf --max-time 5 "$1/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_node NAME DATA [serve args...]: serve on a free port; sets NAME_PID (WRITER_PID or
# REPLICA_PID) and NAME_URL; retries with another port if the chosen one was taken meanwhile.
start_node() {
  local name=$1 data=$2 port pid upper
  shift 2
  upper=$(echo "$name" | tr a-z A-Z)
  for _ in 1 2 3; do
    port=$(free_port)
    "$BIN" serve "${K[@]}" --data "$data" --listen "127.0.0.1:$port" "$@" >>"$TMP/$name.log" 2>&1 &
    pid=$!
    printf -v "${upper}_PID" %s "$pid"
    printf -v "${upper}_URL" %s "http://127.0.0.1:$port"
    wait_ready "http://127.0.0.1:$port" "$pid" 60 && return 0
    if ! kill -0 "$pid" 2>/dev/null && grep -q "Address already in use" "$TMP/$name.log"; then
      wait "$pid" 2>/dev/null || true
      continue
    fi
    kdie "$name did not become ready within 60 s"
  done
  kdie "$name found no free port"
}

# stop_node NAME: SIGTERM, must exit 0 within 30 s
stop_node() {
  local var pid rc=0 deadline=$((SECONDS + 30))
  var="$(echo "$1" | tr a-z A-Z)_PID"
  pid=${!var}
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || kdie "$1 did not stop within 30 s of SIGTERM"
    sleep 0.1
  done
  wait "$pid" || rc=$?
  printf -v "$var" %s ""
  [ "$rc" = 0 ] || kdie "$1 exited with status $rc after SIGTERM"
}

# req NAME METHOD URL [curl args...]: prints the status (curl --max-time $REQ_TIMEOUT); body in
# $TMP/r/NAME.json, headers in .h, status and seconds in .code
req() {
  local name=$1 method=$2 url=$3 out
  shift 3
  out=$(curl -sS --max-time "$REQ_TIMEOUT" -X "$method" -o "$TMP/r/$name.json" -D "$TMP/r/$name.h" \
    -w '%{http_code} %{time_total}' "$url" "$@" 2>>"$TMP/curl.err") || out="000 -"
  echo "$out" >"$TMP/r/$name.code"
  echo "$name $method ${url#http://} -> $out" >>"$TMP/requests.log"
  echo "${out%% *}"
}

# body NAME: the response body, keys redacted
body() { redact <"$TMP/r/$1.json"; }
# hdr NAME HEADER: the last value of HEADER in the response
hdr() { { grep -i "^$2:" "$TMP/r/$1.h" || true; } | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
# field NAME KEY...: the response body's JSON value at KEY, KEY2, ...
field() { json_get "$TMP/r/$1.json" "${@:2}"; }
# seconds NAME: how long the request took
seconds() { cut -d' ' -f2 "$TMP/r/$1.code"; }
# expect NAME CODE STATUS: the request NAME answered STATUS
expect() { [ "$2" = "$3" ] || kdie "$1: expected HTTP $3, got $2: $(body "$1" 2>/dev/null)"; }

# read_topic: every message of $TOPIC (kcat -C -J, from the beginning) into $TMP/topic.jsonl
read_topic() {
  timeout 60 kcat -C -b "$BROKERS" -t "$TOPIC" -o beginning -e -J -q >"$TMP/topic.jsonl" 2>"$TMP/kcat.err" ||
    kdie "kcat -C failed: $(tail -n 5 "$TMP/kcat.err")"
}
