#!/usr/bin/env bash
# Fails when any C++ file in the tree differs from .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard \
  '*.cc' '*.hh' | grep -v '^subprojects/' || true)
[ ${#files[@]} -gt 0 ] || exit 0
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "format: $f differs from .clang-format (run clang-format -i $f)"
    bad=1
  fi
done
exit $bad
