#!/usr/bin/env bash
# Traverse demo: installs what is missing, builds everything, then brings up
# the namespace lab (tests/lab/ike/demo.py): the Traverse gateway
# (traverse-dataplane + traverse-control) and a strongSwan road warrior
# behind a NAT; shows traversectl status and list-sas, pings the protected
# server through the tunnel and measures a TCP transfer each way, then
# removes everything it made. Runs from any directory; needs root.
#
#   scripts/demo.sh [--keep] [--esp-bench] [--dataplane-lab] [--mib N]
#     --keep           leave the lab up and print how to explore and remove it
#     --esp-bench      also the ESP microbenchmark table (quick pass;
#                      scripts/bench.sh is the full run)
#     --dataplane-lab  also the dataplane-only lab (static SAs, scapy peer)
#     --mib N          MiB per TCP transfer (default 16)
set -euo pipefail
cd "$(dirname "$0")/.."

keep=() esp_bench=0 dataplane_lab=0 mib=16
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=(--keep) ;;
    --esp-bench) esp_bench=1 ;;
    --dataplane-lab) dataplane_lab=1 ;;
    --mib)
      [ $# -ge 2 ] || { echo "demo.sh: --mib needs a number" >&2; exit 2; }
      mib=$2
      shift
      ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo.sh: unknown option $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (package installation and network namespaces)" >&2
  exit 1
fi

scripts/setup.sh

build=${TRAVERSE_BUILD:-build}
echo "== build ($build)"
[ -f "$build/build.ninja" ] || meson setup "$build"
ninja -C "$build"

if [ "$esp_bench" = 1 ]; then
  echo "== ESP microbenchmarks (quick pass)"
  TRAVERSE_BUILD="$build" BENCH_MIN_TIME=${BENCH_MIN_TIME:-0.03} \
    BENCH_REPETITIONS=${BENCH_REPETITIONS:-1} scripts/bench.sh
fi

if [ "$dataplane_lab" = 1 ]; then
  echo "== DPDK dataplane alone in the namespace lab (static SAs, userspace ESP peer)"
  /usr/bin/python3 tests/lab/dataplane_lab_test.py --build-dir "$build" --scenarios gcm,pmtu
fi

echo "== IKEv2 remote access: Traverse gateway and a strongSwan client behind NAT"
/usr/bin/python3 tests/lab/ike/demo.py --build-dir "$build" --mib "$mib" "${keep[@]}"
