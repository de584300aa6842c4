#!/usr/bin/env python3
"""Golden packet-in/packet-out tests of traverse-dataplane on net_pcap vdevs.

scapy (an ESP implementation nobody here wrote) builds the input captures:
ESP-in-UDP from a road-warrior client on the outside, clear traffic from a
protected server on the inside. The dataplane runs on them with static SAs,
then scapy decrypts what it wrote to the outside capture and reads what it
wrote to the inside capture. Every path is asserted on the wire: encryption,
decryption, TTL, MSS clamping, ICMP "fragmentation needed" / "packet too
big", pre-fragmentation, outer reassembly, replay and ICV drops, NAT
keepalives, IKE to the exception path, passive PMTU from an ICMP error.

usage: golden_test.py TRAVERSE_DATAPLANE
"""
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import (ICMP, IP, TCP, UDP, Ether, IPv6, ICMPv6PacketTooBig, Raw, rdpcap,
                       wrpcap, defragment, fragment)
from scapy.layers.ipsec import ESP, SecurityAssociation

GW_OUT_MAC = "02:00:00:00:00:01"   # net_pcap ports get fixed MACs from DPDK; we do not rely on them
ROUTER_MAC = "02:00:00:00:0f:fe"
SERVER_MAC = "02:00:00:00:0a:0a"
GW_OUT, ROUTER, CLIENT = "192.0.2.1", "192.0.2.254", "198.51.100.7"
GW_IN, SERVER, CLIENT_INNER = "10.1.0.1", "10.1.0.10", "10.8.0.5"
GW_IN6, SERVER6, CLIENT_INNER6 = "2001:db8:1::1", "2001:db8:1::10", "fd00::5"
PREFIX_NET, PREFIX_HOST = "10.77.0.0/16", "10.77.3.4"  # a remote site behind the client
KEY_OUT = bytes(range(16))             # gateway -> client, SPI 0x1001
SALT_OUT = bytes.fromhex("0a0b0c0d")
KEY_IN = bytes(range(16, 32))          # client -> gateway, SPI 0x2001
SALT_IN = bytes.fromhex("01020304")
MTU = 1500

failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)


def sa(spi, key, salt, src, dst):
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key + salt,
                               nat_t_header=UDP(sport=4500, dport=4500),
                               tunnel_header=IP(src=src, dst=dst))


def encrypt(sa_, packet, seq):
    """scapy's ESP-in-UDP leaves the UDP length at 8 (the header alone);
    receivers that check it, as ours does, need the real one."""
    e = sa_.encrypt(packet, seq_num=seq)
    e[UDP].len = len(bytes(e[UDP]))
    e[UDP].chksum = 0
    return IP(bytes(e))


def config(tmp, outside_in, inside_in):
    return f"""
[dataplane]
workers = 1
eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "golden{os.getpid()}",
       "--log-level", "error"]
api_socket = "{tmp}/api/dp.sock"
mbufs = 8192
max_sas = 1024

[dataplane.outside]
device = "net_pcap_out,rx_pcap={outside_in},tx_pcap={tmp}/outside_out.pcap"
address = "{GW_OUT}/24"
gateway = "{ROUTER}"
mtu = {MTU}

[dataplane.inside]
device = "net_pcap_in,rx_pcap={inside_in},tx_pcap={tmp}/inside_out.pcap"
address = ["{GW_IN}/24", "{GW_IN6}/64"]

[[dataplane.sa]]
direction = "outbound"
spi = 0x1001
key = "{KEY_OUT.hex()}"
salt = "{SALT_OUT.hex()}"
local = "{GW_OUT}"
remote = "{CLIENT}"
udp_encap = true

[[dataplane.sa]]
direction = "inbound"
spi = 0x2001
key = "{KEY_IN.hex()}"
salt = "{SALT_IN.hex()}"
local = "{GW_OUT}"
remote = "{CLIENT}"
udp_encap = true
replay_window = 64
soft_packets = 2
hard_packets = 3

[[dataplane.policy]]
selector = "{CLIENT_INNER}/32"
spi = 0x1001

[[dataplane.policy]]
selector = "{CLIENT_INNER6}/128"
spi = 0x1001

# A prefix policy (site-to-site style): found in the LPM table after the
# burst's exact lookup misses.
[[dataplane.policy]]
selector = "{PREFIX_NET}"
spi = 0x1001

[[dataplane.neighbor]]
port = "outside"
address = "{ROUTER}"
mac = "{ROUTER_MAC}"

[[dataplane.neighbor]]
port = "inside"
address = "{SERVER}"
mac = "{SERVER_MAC}"

[[dataplane.neighbor]]
port = "inside"
address = "{SERVER6}"
mac = "{SERVER_MAC}"
"""


def main():
    binary = sys.argv[1]
    client_to_gw = sa(0x2001, KEY_IN, SALT_IN, CLIENT, GW_OUT)
    eth_out = Ether(src=ROUTER_MAC, dst=GW_OUT_MAC)
    eth_in = Ether(src=SERVER_MAC, dst=GW_OUT_MAC)

    # ---- outside input: what arrives from the internet
    up_udp = IP(src=CLIENT_INNER, dst=SERVER, ttl=64) / UDP(sport=5000, dport=7) / Raw(b"u" * 100)
    up_syn = IP(src=CLIENT_INNER, dst=SERVER, ttl=64) / TCP(sport=40000, dport=80, flags="S",
                                                             options=[("MSS", 1460)])
    esp_udp = encrypt(client_to_gw, up_udp, 1)
    esp_syn = encrypt(client_to_gw, up_syn, 2)
    tampered = bytearray(bytes(encrypt(client_to_gw, up_udp, 3)))
    tampered[-1] ^= 1
    big_up = IP(src=CLIENT_INNER, dst=SERVER, ttl=64) / UDP(sport=5001, dport=7) / Raw(b"F" * 1600)
    esp_big = encrypt(client_to_gw, big_up, 4)   # > MTU: arrives in outer fragments
    esp_big[IP].flags = 0
    outer_fragments = fragment(esp_big, fragsize=1000)
    unknown_spi = encrypt(sa(0x7777, KEY_IN, SALT_IN, CLIENT, GW_OUT), up_udp, 1)
    keepalive = IP(src=CLIENT, dst=GW_OUT) / UDP(sport=4500, dport=4500) / Raw(b"\xff")
    ike = IP(src=CLIENT, dst=GW_OUT) / UDP(sport=4500, dport=4500) / Raw(b"\x00" * 4 + b"I" * 60)
    # A router on the path says our ESP packets to the client are too big.
    quoted = IP(src=GW_OUT, dst=CLIENT, flags="DF", len=1500) / UDP(sport=4500, dport=4500) / \
        Raw(bytes.fromhex("00001001") + b"\x00\x00\x00\x09" + b"q" * 32)
    too_big = IP(src=ROUTER, dst=GW_OUT) / ICMP(type=3, code=4, nexthopmtu=1300) / quoted
    forged = IP(src=ROUTER, dst=GW_OUT) / ICMP(type=3, code=4, nexthopmtu=600) / \
        (IP(src=GW_OUT, dst="203.0.113.99", flags="DF", len=1500) / UDP(sport=4500, dport=4500) /
         Raw(bytes.fromhex("00001001") + b"\x00" * 36))
    outside = [esp_udp, esp_udp, bytes(tampered), esp_syn, *outer_fragments, unknown_spi,
               keepalive, ike, too_big, forged]

    # ---- inside input: what the protected server sends toward the client
    down_udp = IP(src=SERVER, dst=CLIENT_INNER, ttl=64) / UDP(sport=7, dport=5000) / Raw(b"d" * 200)
    down_syn = IP(src=SERVER, dst=CLIENT_INNER, ttl=64) / TCP(sport=80, dport=40000, flags="SA",
                                                               options=[("MSS", 1460)])
    down_df = IP(src=SERVER, dst=CLIENT_INNER, flags="DF", ttl=64) / ICMP() / Raw(b"x" * 1450)
    down_frag = IP(src=SERVER, dst=CLIENT_INNER, flags=0, ttl=64, id=0x4242) / \
        UDP(sport=7, dport=5002) / Raw(b"y" * 1450)
    down_v6 = IPv6(src=SERVER6, dst=CLIENT_INNER6, hlim=64) / UDP(sport=7, dport=5003) / \
        Raw(b"6" * 1450)
    no_policy = IP(src=SERVER, dst="10.9.9.9") / UDP() / Raw(b"n" * 10)
    down_prefix = IP(src=SERVER, dst=PREFIX_HOST, ttl=64) / UDP(sport=7, dport=5004) / Raw(b"p" * 60)
    inside = [down_udp, down_syn, down_df, down_frag, down_v6, no_policy, down_prefix]

    keep = os.environ.get("TRAVERSE_KEEP")  # a directory to leave the run in, for debugging
    with tempfile.TemporaryDirectory(prefix="traverse-golden-") as scratch:
        tmp = keep or scratch
        os.makedirs(tmp, exist_ok=True)
        outside_in, inside_in = f"{tmp}/outside_in.pcap", f"{tmp}/inside_in.pcap"
        wrpcap(outside_in, [eth_out / (p if isinstance(p, IP) else IP(p)) for p in outside])
        wrpcap(inside_in, [eth_in / p for p in inside])
        with open(f"{tmp}/dp.toml", "w") as f:
            f.write(config(tmp, outside_in, inside_in))
        run = subprocess.run([binary, "--config", f"{tmp}/dp.toml", "--run-seconds", "3",
                              "--stats-json", f"{tmp}/stats.json"],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            print(run.stdout, run.stderr)
            sys.exit(f"traverse-dataplane exited {run.returncode}")
        stats = json.load(open(f"{tmp}/stats.json"))
        out_pkts = rdpcap(f"{tmp}/outside_out.pcap")
        in_pkts = rdpcap(f"{tmp}/inside_out.pcap")
    print(f"outside_out: {len(out_pkts)} packets, inside_out: {len(in_pkts)} packets")
    nonzero = {k: v for k, v in stats.items() if v and not isinstance(v, list)}
    print("counters:", json.dumps(nonzero, sort_keys=True))

    # ---- inbound: decrypted packets on the inside, TTL decremented, to the server's MAC
    inner_in = [p for p in in_pkts if IP in p and p[IP].src == CLIENT_INNER]
    check(all(p[Ether].dst == SERVER_MAC for p in inner_in), "inbound frames go to the server's MAC")
    udp_in = [p for p in inner_in if UDP in p and p[UDP].dport == 7 and len(p[Raw].load) == 100]
    check(len(udp_in) == 1, "inbound UDP decrypted exactly once (the replay was dropped)")
    if udp_in:
        check(udp_in[0][IP].ttl == 63 and bytes(udp_in[0][Raw]) == b"u" * 100,
              "inbound UDP payload intact, TTL 64 -> 63")
    syn_in = [p for p in inner_in if TCP in p]
    check(len(syn_in) == 1 and dict(syn_in[0][TCP].options).get("MSS", 0) < 1460,
          f"inbound SYN has its MSS clamped ({dict(syn_in[0][TCP].options).get('MSS') if syn_in else '-'})")
    big_in = [p for p in inner_in if UDP in p and p[UDP].dport == 7 and Raw in p and len(p[Raw].load) == 1600]
    check(len(big_in) == 1, "outer-fragmented ESP reassembled, decrypted and forwarded")
    check(stats["esp_replay_duplicate"] == 1, "replayed ESP counted as replay_duplicate")
    check(stats["esp_bad_icv"] == 1, "tampered ESP counted as bad_icv")
    check(stats["no_inbound_sa"] == 1, "unknown SPI counted")
    check(stats["nat_keepalive"] == 1, "NAT keepalive counted and dropped")
    check(stats["ike_to_tap"] == 1, "IKE after the non-ESP marker goes to the exception path")
    check(stats["reassembled"] == 1, "outer fragments reassembled once")
    check(stats["decrypted"] == 3 and stats["inbound_sas"] == 0,
          "hard lifetime (3 packets): the third decrypts, then the inbound SA is removed")

    # ---- outbound: ESP on the outside, decrypted independently by scapy
    gw_to_client = sa(0x1001, KEY_OUT, SALT_OUT, GW_OUT, CLIENT)
    esp_out = [p for p in out_pkts if UDP in p and p[UDP].dport == 4500]
    check(all(p[Ether].dst == ROUTER_MAC for p in esp_out), "ESP frames go to the router's MAC")
    check(all(p[IP].flags.DF for p in esp_out), "outer DF set: the ESP packet is never fragmented")
    check(all(len(p[IP]) <= MTU for p in esp_out), "no ESP packet exceeds the outside MTU")
    plain = []
    for p in esp_out:
        e = IP(bytes(p[IP]))
        e[UDP].chksum = None   # scapy's decrypt wants ESP right after UDP
        try:
            plain.append(gw_to_client.decrypt(e))
        except Exception as exc:  # noqa: BLE001 - reported as a failure
            check(False, f"scapy failed to decrypt one of our packets: {exc}")
    down = [p for p in plain if (IP in p and p[IP].src == SERVER) or (IPv6 in p and p[IPv6].src == SERVER6)]
    udp_down = [p for p in down if IP in p and UDP in p and p[UDP].dport == 5000]
    check(len(udp_down) == 1 and udp_down[0][IP].ttl == 63 and bytes(udp_down[0][Raw]) == b"d" * 200,
          "outbound UDP: scapy decrypts our ESP to the original packet, TTL 63")
    prefix_down = [p for p in down if IP in p and UDP in p and p[UDP].dport == 5004]
    check(len(prefix_down) == 1 and prefix_down[0][IP].dst == PREFIX_HOST and
          bytes(prefix_down[0][Raw]) == b"p" * 60,
          "a destination covered only by a prefix policy is encrypted with its SA")
    syn_down = [p for p in down if TCP in p]
    mss = dict(syn_down[0][TCP].options).get("MSS", 0) if syn_down else 0
    check(len(syn_down) == 1 and 1000 < mss < 1460, f"outbound SYN-ACK MSS clamped to {mss}")
    frags = [p for p in down if IP in p and p[IP].id == 0x4242]
    check(len(frags) >= 2, f"non-DF oversized packet pre-fragmented into {len(frags)} ESP packets")
    whole = defragment(frags) if frags else []
    rebuilt = [p for p in whole if UDP in p and p[UDP].dport == 5002]
    check(len(rebuilt) == 1 and bytes(rebuilt[0][Raw]) == b"y" * 1450,
          "scapy reassembles the decrypted fragments into the original datagram")
    check(not any(IP in p and ICMP in p and p[IP].src == SERVER for p in down),
          "the DF packet that does not fit was not sent")

    # ---- ICMP errors to the inside sender
    icmp4 = [p for p in in_pkts if ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 4]
    check(len(icmp4) == 1 and icmp4[0][IP].dst == SERVER and icmp4[0][IP].src == GW_IN,
          "DF packet too big for the tunnel: ICMP fragmentation needed to the server")
    if icmp4:
        mtu = icmp4[0][ICMP].nexthopmtu
        check(1400 <= mtu < 1450, f"reported MTU {mtu} fits the tunnel")
        check(ICMP(bytes(icmp4[0][ICMP])).chksum == icmp4[0][ICMP].chksum, "ICMP checksum valid")
    ptb = [p for p in in_pkts if ICMPv6PacketTooBig in p]
    check(len(ptb) == 1 and ptb[0][IPv6].dst == SERVER6, "IPv6 too big: ICMPv6 packet too big to the server")
    check(stats["no_policy"] == 1, "traffic without a policy counted and dropped")
    check(stats["icmp_too_big_sent"] == 2, "two ICMP errors sent")

    # ---- passive PMTU: the valid error lowered the SA's path MTU, the forged one did not
    sas = {(s["direction"], s["spi"]): s for s in stats.get("sas", [])}
    out_sa = sas.get(("outbound", 0x1001), {})
    check(out_sa.get("path_mtu") == 1300, f"ICMP quoting our SPI lowered the path MTU to {out_sa.get('path_mtu')}")
    check(stats["pmtu_icmp_rejected_by_control"] >= 1, "forged ICMP (wrong peer) rejected")

    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all golden checks passed")


if __name__ == "__main__":
    main()
