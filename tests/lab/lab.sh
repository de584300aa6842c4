#!/bin/bash
# The namespace lab: creates and removes the topology of one end-to-end run,
# every name prefixed by a run id so parallel runs do not collide.
#
#   client --- nat --- [router] --- gw --- server
#
#   lab.sh up RUNID [--no-nat] [--router-mtu N] [--kernel-gw]
#   lab.sh env RUNID     the address plan of a lab that is up (KEY=VALUE lines)
#   lab.sh down RUNID    removes it (stops what still runs in its namespaces)
#   lab.sh exec RUNID NODE CMD...   runs CMD in NODE's namespace
#
# Namespaces are tvlab-RUNID-{client,nat,router,gw,server}. Interfaces are
# created directly inside them, so their names are the same in every run.
#
#   client  eth0 192.168.100.2/24, default via the nat (or, with --no-nat,
#           the client itself holds the public address below)
#   nat     lan0 192.168.100.1/24, wan0 PUBLIC; nftables masquerade on wan0
#   router  (--router-mtu N) up0 198.51.100.1/24 with MTU N toward the nat,
#           down0 203.0.113.254/24 toward the gateway; sends ICMP
#           "fragmentation needed" for DF packets larger than N
#   gw      out0 and in0 with no kernel address: the dataplane's af_packet
#           ports. The kernel's own stack ignores them (netdev ingress drop,
#           no IPv6, no ARP) so only the dataplane and its TAPs answer.
#           With --kernel-gw they get 203.0.113.1/24 and 10.1.0.1/24 and the
#           kernel forwards: a userspace ESP peer can play the gateway.
#   server  eth0 10.1.0.10/24, route to the client's inner prefix
#           10.8.0.0/24 via the gateway's inside address 10.1.0.1
#
# PUBLIC (the client's address as the gateway sees it) is 198.51.100.2/24
# with a router, else 203.0.113.254/24 (the gateway's next hop). Addresses
# exist only inside the namespaces; the root namespace is not touched.
set -euo pipefail

STATE_DIR=${TVLAB_STATE_DIR:-/run/tvlab}

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_id() {
  [[ "$1" =~ ^[A-Za-z0-9_-]{1,32}$ ]] || {
    echo "lab.sh: run id '$1' must be 1-32 of [A-Za-z0-9_-]" >&2
    exit 2
  }
}

ns() { echo "tvlab-$RUNID-$1"; }
ns_exists() { ip netns list | awk '{print $1}' | grep -qxF "$(ns "$1")"; }
in_ns() {
  local node=$1
  shift
  ip netns exec "$(ns "$node")" "$@"
}
sysctl_ns() { in_ns "$1" sysctl -qw "$2" >/dev/null; }

# A veth pair from NODE_A's IF_A to NODE_B's IF_B, both ends up.
link() {
  local a=$1 ifa=$2 b=$3 ifb=$4
  ip -n "$(ns "$a")" link add "$ifa" type veth peer name "$ifb" netns "$(ns "$b")"
  ip -n "$(ns "$a")" link set "$ifa" up
  ip -n "$(ns "$b")" link set "$ifb" up
}

new_ns() {
  ip netns add "$(ns "$1")"
  ip -n "$(ns "$1")" link set lo up
  # Only IPv4 in this lab: no router solicitations or MLD noise on the links.
  sysctl_ns "$1" net.ipv6.conf.all.disable_ipv6=1
  sysctl_ns "$1" net.ipv6.conf.default.disable_ipv6=1
}

# Turns off TX checksum offload on NODE's IFACE (and with it TSO): a veth
# otherwise hands its peer packets whose checksum is still only the partial
# pseudo-header sum (CHECKSUM_PARTIAL), which an af_packet reader such as the
# dataplane sees and forwards as is. A real NIC never delivers those. Uses
# ethtool when installed, else the ETHTOOL_STXCSUM ioctl from Python.
no_tx_csum() {
  local node=$1 dev=$2
  if command -v ethtool >/dev/null; then
    in_ns "$node" ethtool -K "$dev" tx off >/dev/null
    return
  fi
  in_ns "$node" /usr/bin/python3 - "$dev" <<'PY'
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
ifreq = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(value)).ljust(40, b"\0")
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    fcntl.ioctl(s, SIOCETHTOOL, ifreq)
PY
}

# Keeps the kernel of the gw namespace off a dataplane port: af_packet taps
# see frames before the netdev ingress hook, the kernel's stack only after.
isolate_port() {
  local dev=$1
  ip -n "$(ns gw)" link set "$dev" arp off
  in_ns gw nft -f - <<EOF
table netdev tvlab_$dev {
  chain ingress {
    type filter hook ingress device "$dev" priority 0; policy drop;
  }
}
EOF
}

cmd_up() {
  local nat=1 router_mtu="" kernel_gw=0
  while (($#)); do
    case $1 in
      --no-nat) nat=0 ;;
      --router-mtu)
        router_mtu=${2:?--router-mtu needs a value}
        shift
        ;;
      --kernel-gw) kernel_gw=1 ;;
      *)
        echo "lab.sh up: unknown option '$1'" >&2
        exit 2
        ;;
    esac
    shift
  done
  if ns_exists client || ns_exists nat || ns_exists router || ns_exists gw || ns_exists server; then
    echo "lab.sh up: lab '$RUNID' already exists (lab.sh down $RUNID)" >&2
    exit 1
  fi
  mkdir -p "$STATE_DIR"
  # A half-built lab is removed again.
  trap 'echo "lab.sh up: failed at line $LINENO; removing lab $RUNID" >&2; cmd_down' ERR

  local nodes=(client gw server)
  ((nat)) && nodes+=(nat)
  [[ -n $router_mtu ]] && nodes+=(router)
  for n in "${nodes[@]}"; do
    new_ns "$n"
  done

  # The node facing the gateway side holds the public address: the router
  # (its down0) or else the edge (nat or client).
  local edge=client edge_if=eth0 public
  if ((nat)); then
    link client eth0 nat lan0
    ip -n "$(ns client)" addr add 192.168.100.2/24 dev eth0
    ip -n "$(ns nat)" addr add 192.168.100.1/24 dev lan0
    ip -n "$(ns client)" route add default via 192.168.100.1
    sysctl_ns nat net.ipv4.ip_forward=1
    edge=nat
    edge_if=wan0
  fi
  if [[ -n $router_mtu ]]; then
    public=198.51.100.2
    link "$edge" "$edge_if" router up0
    ip -n "$(ns "$edge")" link set "$edge_if" mtu "$router_mtu"
    ip -n "$(ns router)" link set up0 mtu "$router_mtu"
    ip -n "$(ns "$edge")" addr add "$public/24" dev "$edge_if"
    ip -n "$(ns router)" addr add 198.51.100.1/24 dev up0
    ip -n "$(ns "$edge")" route add default via 198.51.100.1
    link router down0 gw out0
    ip -n "$(ns router)" addr add 203.0.113.254/24 dev down0
    sysctl_ns router net.ipv4.ip_forward=1
    # Every "fragmentation needed" is sent: the test counts on them.
    sysctl_ns router net.ipv4.icmp_ratelimit=0
  else
    public=203.0.113.254
    link "$edge" "$edge_if" gw out0
    ip -n "$(ns "$edge")" addr add "$public/24" dev "$edge_if"
  fi
  if ((nat)); then
    in_ns nat nft -f - <<'EOF'
table ip nat {
  chain post {
    type nat hook postrouting priority 100;
    oifname "wan0" masquerade
  }
}
EOF
  fi

  link gw in0 server eth0
  ip -n "$(ns server)" addr add 10.1.0.10/24 dev eth0
  ip -n "$(ns server)" route add 10.8.0.0/24 via 10.1.0.1

  # What the gateway's ports receive carries finished checksums, as from a NIC.
  if [[ -n $router_mtu ]]; then
    no_tx_csum router down0
  else
    no_tx_csum "$edge" "$edge_if"
  fi
  no_tx_csum server eth0

  if ((kernel_gw)); then
    ip -n "$(ns gw)" addr add 203.0.113.1/24 dev out0
    ip -n "$(ns gw)" addr add 10.1.0.1/24 dev in0
    ip -n "$(ns gw)" route add default via 203.0.113.254
    sysctl_ns gw net.ipv4.ip_forward=1
  else
    isolate_port out0
    isolate_port in0
  fi

  trap - ERR
  local client_addr=192.168.100.2 nat_ns="" router_ns="" gw_next_hop=$public
  local out_peer_ns out_peer_if
  ((nat)) || client_addr=$public
  ((nat)) && nat_ns=$(ns nat)
  if [[ -n $router_mtu ]]; then
    router_ns=$(ns router) gw_next_hop=203.0.113.254
    out_peer_ns=$(ns router) out_peer_if=down0
  else
    out_peer_ns=$(ns "$edge") out_peer_if=$edge_if
  fi
  cat >"$STATE_DIR/$RUNID.env" <<EOF
LAB_RUNID=$RUNID
LAB_NS_CLIENT=$(ns client)
LAB_NS_NAT=$nat_ns
LAB_NS_ROUTER=$router_ns
LAB_NS_GW=$(ns gw)
LAB_NS_SERVER=$(ns server)
LAB_CLIENT_IF=eth0
LAB_CLIENT_ADDR=$client_addr
LAB_CLIENT_PUBLIC=$public
LAB_CLIENT_INNER=10.8.0.5
LAB_CLIENT_INNER_PREFIX=10.8.0.0/24
LAB_GW_OUTSIDE_IF=out0
LAB_GW_OUTSIDE_ADDR=203.0.113.1/24
LAB_GW_OUTSIDE_GATEWAY=$gw_next_hop
LAB_GW_OUTSIDE_PEER_NS=$out_peer_ns
LAB_GW_OUTSIDE_PEER_IF=$out_peer_if
LAB_GW_INSIDE_IF=in0
LAB_GW_INSIDE_ADDR=10.1.0.1/24
LAB_GW_KERNEL=$kernel_gw
LAB_SERVER_IF=eth0
LAB_SERVER_ADDR=10.1.0.10
LAB_SERVER_PREFIX=10.1.0.0/24
LAB_ROUTER_MTU=$router_mtu
EOF
  cat "$STATE_DIR/$RUNID.env"
}

cmd_down() {
  local n pids
  for n in client nat router gw server; do
    ns_exists "$n" || continue
    # What the test left running in the lab: stopped by pid, politely first.
    mapfile -t pids < <(ip netns pids "$(ns "$n")" 2>/dev/null || true)
    if ((${#pids[@]})); then
      kill -TERM "${pids[@]}" 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        mapfile -t pids < <(ip netns pids "$(ns "$n")" 2>/dev/null || true)
        ((${#pids[@]})) || break
        sleep 0.2
      done
      if ((${#pids[@]})); then
        kill -KILL "${pids[@]}" 2>/dev/null || true
      fi
    fi
    ip netns delete "$(ns "$n")" || true
  done
  rm -f "$STATE_DIR/$RUNID.env"
}

cmd_env() {
  cat "$STATE_DIR/$RUNID.env" 2>/dev/null || {
    echo "lab.sh env: no lab '$RUNID' is up" >&2
    exit 1
  }
}

(($# >= 2)) || usage
action=$1
RUNID=$2
check_id "$RUNID"
shift 2
case $action in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  env) cmd_env ;;
  exec)
    (($# >= 2)) || usage
    node=$1
    shift
    in_ns "$node" "$@"
    ;;
  *) usage ;;
esac
