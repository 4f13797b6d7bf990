#!/usr/bin/env bash
# ops/test.sh — build everything and run the whole test suite, then again under ASan + UBSan (the
# README's test command; CI runs it through .ci/run).
#
# Usage: ops/test.sh [extra ctest arguments...]     e.g. ops/test.sh -R domain
#
# Steps: installs build + test dependencies (ops/install-deps.sh test), then for each suite configures
# and builds (-j2) its tree and runs ctest (-j2, --output-on-failure) with the extra arguments:
#   normal      build/ (RelWithDebInfo): every test
#   asan-ubsan  build-asan/ (CMake preset asan-ubsan): every test, under AddressSanitizer (leaks
#               included) and UndefinedBehaviorSanitizer; any finding fails its test
#   tsan        build-tsan/ (CMake preset tsan): the tests labelled `concurrency` (the gtest binaries:
#               HTTP server, projector, command pipeline, Kafka, embedded log) under ThreadSanitizer;
#               not run by default (a third full build; see docs/decisions.md 50), SUITES adds it
# Every suite runs even if an earlier one failed; the last lines printed say how each ended, and the
# exit status is 0 only if all passed (docs/decisions.md 50 has what each costs in time).
#
# Environment:
#   BUILD_DIR    CMake build directory of the normal suite (default: build)
#   CCACHE_DIR   compiler cache        (default: ~/.cache/ccache)
#   SUITES       which suites to run, in order (default: "normal asan-ubsan"), e.g. SUITES=normal or
#                SUITES="normal asan-ubsan tsan"
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir="${BUILD_DIR:-build}"
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ccache}"
suites="${SUITES:-normal asan-ubsan}"
for suite in $suites; do
  case "$suite" in
    normal|asan-ubsan|tsan) ;;
    *) echo "test: unknown suite '$suite' in SUITES (expected normal, asan-ubsan, tsan)" >&2; exit 2 ;;
  esac
done

bash ops/install-deps.sh test

run_suite() {
  local suite="$1"; shift
  echo "=== test: suite $suite ==="
  if [[ "$suite" == normal ]]; then
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
      cmake --build "$build_dir" -j2 &&
      ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
  else
    # The presets (CMakePresets.json) hold the flags, the tree and the sanitizer options for ctest.
    cmake --preset "$suite" && cmake --build --preset "$suite" && ctest --preset "$suite" "$@"
  fi
}

summary=()
failed=0
for suite in $suites; do
  start=$SECONDS
  if run_suite "$suite" "$@"; then
    summary+=("$(printf 'test: %-10s passed  (%ds)' "$suite" $((SECONDS - start)))")
  else
    summary+=("$(printf 'test: %-10s FAILED  (%ds)' "$suite" $((SECONDS - start)))")
    failed=1
  fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
