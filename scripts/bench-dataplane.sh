#!/usr/bin/env bash
# Benchmarks the DPDK dataplane on net_pcap vdevs (infinite_rx, drop on
# transmit): outbound/inbound x 64/512/1420/IMIX x ESP/UDP x 1/100k SAs x 1/2
# workers, AES-128-GCM, beside the harness ceiling (testpmd I/O + raw
# ipsec-mb GCM) and DPDK's ipsec-secgw, all in the same run. Prints the table
# and the targets (PASS/MISS, never fails on a miss); writes
# BUILD/bench/dataplane_results.json (one object per case),
# dataplane_summary.json and dataplane_results.png.
#   --quick      1 SA, 1 worker, 64/512/1420, both directions (~3 minutes)
#   --repeat N   run each measurement N times, keep the median (noisy machines;
#                multiplies the run time)
# Other arguments go to bench/dataplane/run_bench.py (--seconds N, --no-secgw,
# --keep, ...). Environment: TRAVERSE_BUILD (build dir, default build).
# Needs root (DPDK), dpdk-testpmd, make and a C compiler (ipsec-secgw), scapy
# and matplotlib for /usr/bin/python3. Numbers are only meaningful on a quiet
# machine: the table shows the load average and each run's CPU share.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${TRAVERSE_BUILD:-build}
[ -f "$build/build.ninja" ] || meson setup "$build"
ninja -C "$build" dataplane/engine/traverse-dataplane dataplane/esp/libtraverse_esp.a \
  drivers/crypto/libtraverse_crypto.a

# The tools are meson targets once bench/meson.build has subdir('dataplane');
# until then they are compiled here against the same static libraries.
tools="$build/bench/dataplane"
if ninja -C "$build" -t targets all 2>/dev/null | grep -q '^bench/dataplane/dataplane-pcap-gen:'; then
  ninja -C "$build" bench/dataplane/dataplane-pcap-gen bench/dataplane/dataplane-gcm-cost
else
  echo "== bench/meson.build lacks subdir('dataplane'): compiling the tools directly"
  mkdir -p "$tools"
  libs=("$build/dataplane/esp/libtraverse_esp.a" "$build/drivers/crypto/libtraverse_crypto.a")
  flags=(-std=c++20 -O2 -g -I. -Wall -Wextra)
  for tool in pcap_gen:dataplane-pcap-gen gcm_cost:dataplane-gcm-cost; do
    src="bench/dataplane/${tool%%:*}.cc"
    out="$tools/${tool##*:}"
    if [ ! -x "$out" ] || [ "$src" -nt "$out" ] || [ "${libs[0]}" -nt "$out" ]; then
      c++ "${flags[@]}" "$src" "${libs[@]}" -lIPSec_MB $(pkg-config --libs openssl) -o "$out"
    fi
  done
fi

exec /usr/bin/python3 bench/dataplane/run_bench.py --build "$build" "$@"
