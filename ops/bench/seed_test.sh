#!/usr/bin/env bash
# ops/bench/seed_test.sh — ctest `bench_seed.smoke`: what create.sh and rss.sh rely on bench_seed for.
#
# Usage: ops/bench/seed_test.sh BENCH_SEED AUTHLEDGER
#
# Seeds 3 accounts × 6 keys (2 live, 4 revoked) into a temp data dir, then checks: the key files are
# 0600 with one line per admin key / sampled key; `authledger audit verify` accepts every chain;
# `authledger serve` fills its projections from the ledger, answers VALID for every sampled key
# (admin keys included), and creates a key with an admin key (201); the account lists its admin
# key, its 2 live seeded keys and the new one as active (GET /v1/keys). Removes the temp dir and stops the server on exit.
set -euo pipefail

seed_bin="${1:?usage: seed_test.sh BENCH_SEED AUTHLEDGER}"
bin="${2:?usage: seed_test.sh BENCH_SEED AUTHLEDGER}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/authledger-seed-test.XXXXXX")"
pid=""
cleanup() {
  local rc=$?
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  (( rc == 0 )) || tail -n 20 "$tmp/serve.log" 2>/dev/null >&2 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "seed_test: FAIL: $*" >&2; exit 1; }

"$seed_bin" --data "$tmp/data" --accounts 3 --keys 6 --max-live 2 --admin-out "$tmp/admins.txt" \
  --sample 9 --sample-out "$tmp/sample.txt" >"$tmp/seed.out" 2>"$tmp/seed.err" || { cat "$tmp/seed.err" >&2; fail "bench_seed failed"; }
grep -q 'events=36 ' "$tmp/seed.out" || fail "expected 3 x (2 + 6 + 4) = 36 events: $(cat "$tmp/seed.out")"
for f in admins.txt sample.txt; do
  [[ "$(stat -c %a "$tmp/$f")" == 600 ]] || fail "$f is not mode 0600"
done
[[ "$(wc -l <"$tmp/admins.txt")" == 3 ]] || fail "expected 3 admin keys"
[[ "$(wc -l <"$tmp/sample.txt")" == 9 ]] || fail "expected all 9 live keys in the sample"
"$seed_bin" --data "$tmp/data" --accounts 1 --admin-out "$tmp/admins.txt" >/dev/null 2>&1 \
  && fail "bench_seed overwrote an existing key file"

"$bin" audit verify --data "$tmp/data" >"$tmp/audit.out" 2>&1 || { cat "$tmp/audit.out" >&2; fail "audit verify"; }
grep -q 'verified 36 events in 3 account chains' "$tmp/audit.out" || fail "audit verify: $(cat "$tmp/audit.out")"

printf '[keys]\nmax_live_keys = 100\n' >"$tmp/bench.toml"
port=""
for ((p = 18380; p < 18480; p++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { port=$p; break; }
done
[[ -n "$port" ]] || fail "no free port"
url="http://127.0.0.1:$port"
"$bin" serve --data "$tmp/data" --config "$tmp/bench.toml" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do
  curl -fsS -o /dev/null -m 1 "$url/healthz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "authledger serve exited"
  sleep 0.1
done

while IFS= read -r body; do
  out="$(curl -sS -m 5 -X POST -H 'Content-Type: application/json' --data-binary "$body" "$url/v1/keys/verify")"
  [[ "$out" == *'"valid":true'* ]] || fail "a sampled key does not verify: $out"
done <"$tmp/sample.txt"

admin="$(head -n 1 "$tmp/admins.txt")"
printf 'Authorization: Bearer %s\n' "$admin" >"$tmp/admin.hdr"
code="$(curl -sS -m 5 -o "$tmp/created.json" -w '%{http_code}' -X POST -H @"$tmp/admin.hdr" \
  -H 'Content-Type: application/json' -d '{"name":"t","scopes":["monitors:read"],"environment":"live"}' "$url/v1/keys")"
[[ "$code" == 201 ]] || fail "POST /v1/keys answered $code: $(cat "$tmp/created.json")"
curl -sS -m 5 -H @"$tmp/admin.hdr" "$url/v1/keys" >"$tmp/keys.json"
active="$(grep -o '"status":"active"' "$tmp/keys.json" | wc -l)"
revoked="$(grep -o '"status":"revoked"' "$tmp/keys.json" | wc -l)"
echo "seed_test: 36 events, 9 sampled keys VALID, create 201, GET /v1/keys: $active active, $revoked revoked"
(( active + revoked > 0 )) || fail "GET /v1/keys: $(head -c 600 "$tmp/keys.json")"
(( active == 4 )) || fail "expected admin + 2 live seeded + 1 new = 4 active keys, got $active"
(( revoked == 4 )) || fail "expected the 4 revoked seeded keys listed, got $revoked"
echo "seed_test: 1 passed, 0 failed"
