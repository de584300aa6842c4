#!/usr/bin/env bash
# Runs every test suite: installs what is missing, builds (optimised, then
# again with AddressSanitizer + UndefinedBehaviorSanitizer), runs the unit and
# interop suites in both, and checks formatting. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

jobs=$(nproc)
build=${TRAVERSE_BUILD:-build}
asan=${TRAVERSE_ASAN_BUILD:-build-asan}

echo "== format"
scripts/check-format.sh

echo "== build ($build)"
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized
ninja -C "$build" -j "$jobs"

echo "== tests ($build)"
meson test -C "$build" --num-processes "$jobs" --print-errorlogs

echo "== build ($asan: ASan + UBSan, unit tests only)"
[ -f "$asan/build.ninja" ] || meson setup "$asan" --buildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false
# Only what the unit suite runs: the sanitizers watch the parsers and the
# ESP core; the DPDK engine is exercised by the suites above.
mapfile -t unit_targets < <(meson introspect "$asan" --tests | /usr/bin/python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin):
    if "unit" in t["suite"] or any(s.endswith(":unit") for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], build))' "$asan")
ninja -C "$asan" -j "$jobs" "${unit_targets[@]}"

echo "== tests ($asan)"
# Any UBSan report fails the run; leaks fail it through ASan's LeakSanitizer.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C "$asan" --no-rebuild --num-processes "$jobs" --print-errorlogs --suite unit \
  --timeout-multiplier 4

echo "== all tests passed"
