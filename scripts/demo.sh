#!/usr/bin/env bash
# Traverse demo: installs what is missing, builds everything, then runs a
# quick pass of the ESP microbenchmarks (one repetition each) and prints the
# ESP-versus-raw-cipher table with the ipsec-mb targets. scripts/bench.sh is
# the full run (three repetitions, medians). Runs from any directory.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

build=${TRAVERSE_BUILD:-build}
echo "== build ($build)"
[ -f "$build/build.ninja" ] || meson setup "$build"
ninja -C "$build"

echo "== ESP microbenchmarks (quick pass)"
TRAVERSE_BUILD="$build" BENCH_MIN_TIME=${BENCH_MIN_TIME:-0.03} \
  BENCH_REPETITIONS=${BENCH_REPETITIONS:-1} scripts/bench.sh "$@"
