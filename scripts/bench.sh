#!/usr/bin/env bash
# Builds and runs the ESP microbenchmarks (bench/esp_bench.cc) pinned to one
# core, then prints the ESP-versus-raw-cipher table and checks the ipsec-mb
# targets (bench/esp_report.py). Writes build/bench/esp_bench.json (raw
# Google Benchmark output), results.json and esp_bench.png beside it.
# Arguments go to the report: --strict fails the script on a missed target.
# Environment: TRAVERSE_BUILD (build dir, default build), BENCH_MIN_TIME
# (seconds per run, default 0.05), BENCH_REPETITIONS (default 3; the report
# uses the median), BENCH_FILTER (a --benchmark_filter regex).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${TRAVERSE_BUILD:-build}
min_time=${BENCH_MIN_TIME:-0.05}
repetitions=${BENCH_REPETITIONS:-3}
filter=${BENCH_FILTER:-.}

[ -f "$build/build.ninja" ] || meson setup "$build"
# --ike: the IKE setup-rate benchmark (Traverse and strongSwan as responders,
# side by side) instead of the ESP microbenchmark. --ike --quick for a short run.
if [ "${1:-}" = "--ike" ]; then
  shift
  ninja -C "$build" bench/ike/traverse-ike-load control/traverse-control \
    dataplane/engine/traverse-dataplane
  exec /usr/bin/python3 bench/ike/run_setup_bench.py --build-dir "$build" "$@"
fi
ninja -C "$build" bench/esp_bench

out="$build/bench"
mkdir -p "$out"
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
fi
count=$("$build/bench/esp_bench" --benchmark_list_tests --benchmark_filter="$filter" | wc -l)
echo "== esp_bench: $count benchmarks x $repetitions repetitions, min time ${min_time}s" \
  "${pin[*]:+(${pin[*]})}"
start=$SECONDS
# Repetitions interleaved at random, so a noisy moment does not hit one case's
# every run; stdout gets the same JSON as the file.
"${pin[@]}" "$build/bench/esp_bench" \
  --benchmark_filter="$filter" \
  --benchmark_min_time="$min_time" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_format=json \
  --benchmark_out="$out/esp_bench.json" >"$out/esp_bench.stdout.json"
echo "== esp_bench: done in $((SECONDS - start)) s"

/usr/bin/python3 bench/esp_report.py "$out/esp_bench.json" "$@"
