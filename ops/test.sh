#!/usr/bin/env bash
# ops/test.sh — build everything and run the whole test suite (the README's test command; CI runs it
# through .ci/run).
#
# Usage: ops/test.sh [extra ctest arguments...]     e.g. ops/test.sh -R domain
#
# Steps: installs build + test dependencies (ops/install-deps.sh test), configures build/ with CMake
# (RelWithDebInfo), builds all targets with -j2, then runs
#   ctest --test-dir build --output-on-failure -j2
# and exits with ctest's status; ctest's summary is the last thing printed.
#
# Environment:
#   BUILD_DIR    CMake build directory (default: build)
#   CCACHE_DIR   compiler cache        (default: ~/.cache/ccache)
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir="${BUILD_DIR:-build}"
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"

bash ops/install-deps.sh test
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2
exec ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
