#!/usr/bin/env bash
# tests/format_check.sh — the C++ sources are formatted as .clang-format says (clang-format 14, Debian 12).
#
# Usage: tests/format_check.sh SOURCE_DIR
# Fails listing each file clang-format would change; fix them with
#   git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
src="${1:?usage: format_check.sh SOURCE_DIR}"
cd "$src"
command -v clang-format >/dev/null || { echo "format_check: clang-format is not installed (ops/install-deps.sh test installs it)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find domain ledger projections commands gateway app tests ops -name '*.cc' -o -name '*.h' | sort)
fi
bad=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if (( ${#bad[@]} )); then
  echo "format_check: ${#bad[@]} file(s) not formatted as .clang-format says:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "format_check: ${#files[@]} files formatted"
