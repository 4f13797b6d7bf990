#!/usr/bin/env bash
# ops/run.sh — build and run the authledger server in the foreground (the README's run command).
#
# Usage: ops/run.sh
#
# Steps: installs the build dependencies (ops/install-deps.sh build), configures build/ with CMake
# (RelWithDebInfo) and builds only the `authledger` target, then
#   - on first start (no <data>/ledger yet): runs `authledger bootstrap` and prints the first admin
#     API key ONCE inside a banner — it is never shown again and never written to disk by this script;
#   - otherwise: reminds you how to obtain keys;
# and finally execs `authledger serve` (Ctrl-C stops it).
#
# Environment:
#   AUTHLEDGER_DATA     data directory            (default: ./data, relative to the repository root;
#                                                   a relative override is relative to your cwd)
#   AUTHLEDGER_LISTEN   listen address host:port  (default: 127.0.0.1:8080)
#   AUTHLEDGER_ACCOUNT  account name for the first bootstrap (default: default)
#   AUTHLEDGER_CONFIG   optional config file, passed as --config (see ops/authledger.example.toml);
#                       --data and --listen given by this script take precedence over it
#   BUILD_DIR           CMake build directory     (default: build)
#   CCACHE_DIR          compiler cache            (default: ~/.cache/ccache)
set -euo pipefail

if [[ $# -gt 0 ]]; then
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "run.sh: unexpected argument '$1' (configure with environment variables, see --help)" >&2; exit 2 ;;
  esac
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

abspath() {  # absolute path of $1, relative to the caller's cwd; need not exist yet
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *)  printf '%s/%s\n' "$PWD" "${1#./}" ;;
  esac
}

if [[ -n "${AUTHLEDGER_DATA:-}" ]]; then
  data="$(abspath "$AUTHLEDGER_DATA")"
else
  data="$root/data"
fi
listen="${AUTHLEDGER_LISTEN:-127.0.0.1:8080}"
account="${AUTHLEDGER_ACCOUNT:-default}"
config=""
if [[ -n "${AUTHLEDGER_CONFIG:-}" ]]; then
  config="$(abspath "$AUTHLEDGER_CONFIG")"
  [[ -r "$config" ]] || { echo "run.sh: AUTHLEDGER_CONFIG=$config is not readable" >&2; exit 1; }
fi

cd "$root"
build_dir="${BUILD_DIR:-build}"
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"

bash ops/install-deps.sh build
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2 --target authledger
bin="$root/$build_dir/app/authledger"
[[ -x "$bin" ]] || { echo "run.sh: $bin was not produced by the build" >&2; exit 1; }

host="${listen%:*}"
case "$host" in ""|0.0.0.0|"[::]") host=127.0.0.1 ;; esac
base_url="http://$host:${listen##*:}"

mkdir -p "$data"
chmod 0700 "$data"

if [[ ! -d "$data/ledger" ]]; then
  echo "run.sh: no ledger in $data yet: bootstrapping account '$account'"
  if ! out="$("$bin" bootstrap --data "$data" --account "$account")"; then
    echo "run.sh: 'authledger bootstrap --data $data --account $account' failed" >&2
    exit 1
  fi
  key="$(sed -n 's/^[[:space:]]*key:[[:space:]]*\([^[:space:]]\{1,\}\).*$/\1/p' <<<"$out" | head -n 1)"
  if [[ -z "$key" ]]; then  # fallback: anything shaped like <brand>_<live|test>_<...>
    key="$(grep -oE '[A-Za-z0-9]+_(live|test)_[A-Za-z0-9]+' <<<"$out" | head -n 1 || true)"
  fi
  if [[ -n "$key" ]]; then  # whatever else bootstrap said (account id, ...), without the key
    while IFS= read -r line; do
      [[ -z "$line" || "$line" == *"$key"* ]] || printf 'bootstrap: %s\n' "$line"
    done <<<"$out"
  fi
  bar="=============================================================================="
  echo
  echo "$bar"
  echo "  authledger: first start, account '$account' created."
  echo
  if [[ -n "$key" ]]; then
    echo "  Admin API key:"
    echo
    echo "      $key"
  else
    echo "  Output of 'authledger bootstrap' (contains the admin API key):"
    echo
    while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$out"
  fi
  echo
  echo "  THIS IS THE ONLY TIME IT IS SHOWN. Store it in a password/secret manager now:"
  echo "  the server keeps only a keyed hash and cannot show it again."
  echo
  echo "  Create more keys with it, e.g.:"
  echo "    curl -sS -X POST $base_url/v1/keys \\"
  echo "      -H 'Authorization: Bearer <admin key>' -H 'Content-Type: application/json' \\"
  echo "      -d '{\"name\":\"ci\",\"scopes\":[\"monitors:read\"],\"environment\":\"live\"}'"
  echo "$bar"
  echo
  unset out key
else
  echo
  echo "run.sh: using existing ledger in $data."
  echo "  The admin API key was printed once, when this data directory was first started."
  echo "  To create more keys, use it with POST $base_url/v1/keys"
  echo "  (Authorization: Bearer <admin key>). Lost it? Start over with a fresh AUTHLEDGER_DATA."
  echo
fi

args=(serve --data "$data" --listen "$listen")
[[ -n "$config" ]] && args+=(--config "$config")
echo "run.sh: exec $bin ${args[*]}"
exec "$bin" "${args[@]}"
