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
mapfile -t unit_targets < <(/usr/bin/python3 - "$asan" <<'PY'
import json, os, subprocess, sys
build = sys.argv[1]
def introspect(what):
    return json.loads(subprocess.check_output(["meson", "introspect", build, what]))
targets = {t["id"]: t for t in introspect("--targets")}
wanted = set()
for t in introspect("--tests"):
    if not ("unit" in t["suite"] or any(s.endswith(":unit") for s in t["suite"])):
        continue
    # The test's own program when we build it (not /usr/bin/python3), and
    # everything it depends on (tools a Python test drives).
    if os.path.abspath(t["cmd"][0]).startswith(os.path.abspath(build) + os.sep):
        wanted.add(os.path.relpath(t["cmd"][0], build))
    for dep in t.get("depends", []):
        if dep in targets:
            for f in targets[dep]["filename"]:
                wanted.add(os.path.relpath(f, build))
print("\n".join(sorted(wanted)))
PY
)
ninja -C "$asan" -j "$jobs" "${unit_targets[@]}"

echo "== tests ($asan)"
# Any UBSan report fails the run; leaks fail it through ASan's LeakSanitizer.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C "$asan" --no-rebuild --num-processes "$jobs" --print-errorlogs --suite unit \
  --timeout-multiplier 4

echo "== fuzz (clang-14 + libFuzzer, ${TRAVERSE_FUZZ_SECONDS:-20} s per target)"
# A short run of every fuzzer from its kept corpus: the parsers must survive
# new inputs, not only the ones committed. New finds go to a scratch dir.
fuzz=${TRAVERSE_FUZZ_BUILD:-build-fuzz}
[ -f "$fuzz/build.ninja" ] || CXX=clang++-14 meson setup "$fuzz" --buildtype=debugoptimized \
  -Dnative=false >/dev/null
fuzzers=(
  "dataplane/api/validate_fuzz dataplane/api/fuzz_corpus"
  "control/ike/message/ike_message_fuzz control/ike/message/fuzz_corpus/message"
  "control/ike/message/ike_fragment_fuzz control/ike/message/fuzz_corpus/fragment"
)
for entry in "${fuzzers[@]}"; do
  read -r target corpus <<<"$entry"
  ninja -C "$fuzz" -j "$jobs" "$target"
  scratch=$(mktemp -d)
  "$fuzz/$target" -max_total_time="${TRAVERSE_FUZZ_SECONDS:-20}" -max_len=4096 \
    -print_final_stats=1 "$scratch" "$corpus" 2>&1 | tail -n 3
  rm -rf "$scratch"
done

echo "== all tests passed"
