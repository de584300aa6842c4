#!/usr/bin/env bash
# Installs every Debian package that the build, the tests, the namespace lab
# and the benchmarks need. Idempotent: runs `apt-get update` once, and only
# when something is missing, then installs only what is missing.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config clang-14 clang-format clang-tidy
  libclang-rt-14-dev lld-14
  # libraries
  dpdk dpdk-dev dpdk-doc libdpdk-dev libipsec-mb-dev libssl-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libasio-dev nlohmann-json3-dev
  libtomlplusplus-dev libpcap-dev
  # tests: independent implementations and published vectors
  python3 python3-scapy python3-cryptography python3-cryptography-vectors python3-matplotlib
  openssl
  tshark tcpdump
  # namespace lab and peers
  iproute2 iputils-ping nftables strongswan strongswan-swanctl
  libcharon-extra-plugins libstrongswan-standard-plugins tinyproxy squid
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Daemons installed as dependencies must not hold ports the lab uses.
for svc in strongswan-starter strongswan tinyproxy squid; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
echo "setup: done"
