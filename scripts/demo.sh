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

echo "== DPDK gateway in the namespace lab"
# traverse-dataplane on af_packet vdevs between a road-warrior client (a
# userspace ESP peer behind NAT) and a protected server: ping and TCP both
# ways through the tunnel, the capture decrypted by tshark and scapy.
/usr/bin/python3 tests/lab/dataplane_lab_test.py --build-dir "$build" --scenarios gcm,pmtu
