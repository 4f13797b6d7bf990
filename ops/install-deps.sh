#!/usr/bin/env bash
# ops/install-deps.sh — install the Debian 12 packages authledger needs, and only the missing ones.
#
# Usage: ops/install-deps.sh [build|test|bench|fuzz]      (default: build)
#
#   build   compiler, CMake, ccache and the libraries the project links against
#   test    build + curl, python3, kcat (integration and end-to-end tests), clang-format, and g++'s
#           sanitizer runtimes (the ASan/UBSan and TSan builds of ops/test.sh; docs/decisions.md 50)
#   bench   build + curl, python3, wrk and an nginx binary (ops/bench/verify.sh; create.sh and rss.sh
#           use wrk and curl, and build bench_seed and devbroker from the build packages)
#   fuzz    build + clang-16 and its sanitizer/libFuzzer runtimes (ops/fuzz.sh, docs/fuzzing.md)
#
# Idempotent: each package is checked with dpkg-query; when everything is present nothing runs
# (no root needed, no network). Otherwise, as root, it runs `apt-get update` once and
# `apt-get install --no-install-recommends` for the missing packages only. Not root and something
# missing is an error that lists what is missing.
#
# Environment: APT_GET_UPDATE=0 skips `apt-get update` (e.g. when the lists are known fresh).
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

profile="${1:-build}"
case "$profile" in
  -h|--help) usage; exit 0 ;;
  build|test|bench|fuzz) ;;
  *) echo "install-deps: unknown profile '$profile' (expected build, test, bench or fuzz)" >&2; usage >&2; exit 2 ;;
esac
if [[ $# -gt 1 ]]; then
  echo "install-deps: expected at most one argument" >&2; exit 2
fi

build_pkgs=(
  build-essential cmake ccache pkg-config
  libboost-dev librdkafka-dev librocksdb-dev libssl-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libargon2-dev libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libbenchmark-dev libdeflate-dev
)
# libasan8, libubsan1, liblsan0, libtsan2: what -fsanitize= links with g++ 12 (libgcc-12-dev pulls
# them in today; named so that the sanitizer builds never depend on that).
test_pkgs=(curl python3 kcat clang-format libasan8 libubsan1 liblsan0 libtsan2)
bench_pkgs=(curl python3 wrk)
fuzz_pkgs=(clang-16 libclang-rt-16-dev)

wanted=("${build_pkgs[@]}")
case "$profile" in
  test)  wanted+=("${test_pkgs[@]}")
         # The schema test runs ajv on Node.js; use the machine's node if it has one.
         if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
           wanted+=(nodejs npm)
         fi ;;
  bench) wanted+=("${bench_pkgs[@]}")
         # Any Debian nginx flavour will do; do not replace an installed nginx-full/-core/-extras
         # (they conflict with nginx-light).
         if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
           wanted+=(nginx-light)
         fi ;;
  fuzz)  wanted+=("${fuzz_pkgs[@]}") ;;
esac

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${wanted[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps ($profile): all ${#wanted[@]} packages present"
  exit 0
fi

echo "install-deps ($profile): missing: ${missing[*]}"
if [[ $EUID -ne 0 ]]; then
  echo "install-deps: not running as root, cannot install the packages above." >&2
  echo "  run:  sudo $0 $profile" >&2
  echo "  or:   sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

log="$(mktemp /tmp/authledger-install-deps.XXXXXX.log)"
trap 'rm -f "$log"' EXIT
run_quiet() {
  # Quiet on success; on failure show the full apt output.
  if ! "$@" >"$log" 2>&1; then
    echo "install-deps: command failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

export DEBIAN_FRONTEND=noninteractive
if [[ "${APT_GET_UPDATE:-1}" != 0 ]]; then
  echo "install-deps: apt-get update"
  run_quiet apt-get update
fi
echo "install-deps: apt-get install ${missing[*]}"
run_quiet apt-get install -y --no-install-recommends "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still+=("$pkg")
done
if [[ ${#still[@]} -ne 0 ]]; then
  echo "install-deps: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "install-deps ($profile): installed ${#missing[@]} package(s)"
