# Shared by the benchmark scripts: the Release binary to measure.
# release_binary OVERRIDE TARGET PATH_IN_BUILD
#   OVERRIDE set: that binary (made absolute), nothing is built;
#   else: configure $BENCH_BUILD_DIR (default build-bench) in Release, build TARGET
#   with -j2, and print its path. Run from the repository root.
release_binary() {
  local override=$1 target=$2 rel=$3
  if [[ -n "$override" ]]; then
    echo "$(cd "$(dirname "$override")" && pwd)/$(basename "$override")"
    return
  fi
  local build_dir="${BENCH_BUILD_DIR:-build-bench}"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" -j2 --target "$target" >&2
  echo "$PWD/$build_dir/$rel"
}
