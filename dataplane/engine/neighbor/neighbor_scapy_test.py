#!/usr/bin/python3
"""ARP and neighbor discovery against scapy, both directions.

Frames built by Traverse (through traverse-neighbor-frame-tool) are dissected
by scapy, which checks every field and recomputes the ICMPv6 checksum; frames
built by scapy are parsed by Traverse, which must learn exactly what RFC 826
and RFC 4861 allow. Run with Debian's interpreter (/usr/bin/python3) for
python3-scapy. Usage: neighbor_scapy_test.py PATH/TO/traverse-neighbor-frame-tool
"""

import random
import socket
import subprocess
import sys

from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, in6_chksum)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import raw
from scapy.utils6 import in6_getnsma, in6_getnsmac

TOOL = sys.argv[1] if len(sys.argv) > 1 else "traverse-neighbor-frame-tool"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def tool(*args):
    result = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout.strip()


def build(kind, src_mac, src_ip, target, dst_mac="-", vlan=0):
    code, out = tool(kind, src_mac, src_ip, target, dst_mac, str(vlan))
    if code != 0:
        raise RuntimeError(f"{kind} {src_ip} -> {target}: tool exit {code}: {out}")
    return bytes.fromhex(out)


def parse(frame):
    data = frame if isinstance(frame, bytes) else raw(frame)
    code, out = tool("parse", data.hex())
    assert code == 0, out
    if out == "none":
        return None
    return dict(field.split("=", 1) for field in out.split())


def same_ip(a, b):
    family = socket.AF_INET6 if ":" in a else socket.AF_INET
    try:
        return socket.inet_pton(family, a) == socket.inet_pton(family, b)
    except OSError:
        return False


def random_mac(rng):
    first = rng.randrange(256) & 0xFC | 0x02  # unicast, locally administered
    return ":".join(f"{b:02x}" for b in [first] + [rng.randrange(256) for _ in range(5)])


def random_v4(rng):
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def random_v6(rng):
    prefix = rng.choice(["2001:db8", "fe80", "fd00:1"])
    return f"{prefix}::{rng.randrange(1, 0xffff):x}:{rng.randrange(0xffff):x}:{rng.randrange(1, 0xffff):x}"


def icmpv6_checksum_ok(p, layer):
    """Scapy's own checksum of the built message, and the sum over it."""
    stored = p[layer].cksum
    copy = p.copy()
    del copy[layer].cksum
    recomputed = Ether(raw(copy))[layer].cksum
    over_all = in6_chksum(58, p[IPv6], raw(p[IPv6].payload))
    return stored == recomputed and over_all == 0, stored, recomputed


def traverse_builds_scapy_reads(rng):
    for i in range(20):
        src_mac, dst_mac = random_mac(rng), random_mac(rng)
        src, target = random_v4(rng), random_v4(rng)
        unicast = i % 3 == 1
        vlan = rng.randrange(1, 4095) if i % 4 == 2 else 0
        frame = build("arp", src_mac, src, target, dst_mac if unicast else "-", vlan)
        p = Ether(frame)
        arp = p[ARP]
        want_len = 64 if vlan else 60
        check(len(frame) == want_len and
              p.dst == (dst_mac if unicast else "ff:ff:ff:ff:ff:ff") and p.src == src_mac and
              arp.hwtype == 1 and arp.ptype == 0x0800 and arp.hwlen == 6 and arp.plen == 4 and
              arp.op == 1 and arp.hwsrc == src_mac and arp.psrc == src and
              arp.hwdst == "00:00:00:00:00:00" and arp.pdst == target and
              (p[Dot1Q].vlan == vlan and p[Dot1Q].type == 0x0806 if vlan else p.type == 0x0806),
              f"ARP request {src} ({src_mac}) who-has {target}"
              f"{' unicast ' + dst_mac if unicast else ''}{f' vlan {vlan}' if vlan else ''}")

    for i in range(20):
        src_mac, dst_mac = random_mac(rng), random_mac(rng)
        src, target = random_v6(rng), random_v6(rng)
        unicast = i % 3 == 1
        vlan = rng.randrange(1, 4095) if i % 4 == 2 else 0
        frame = build("ns", src_mac, src, target, dst_mac if unicast else "-", vlan)
        p = Ether(frame)
        ip6, ns = p[IPv6], p[ICMPv6ND_NS]
        target_bytes = socket.inet_pton(socket.AF_INET6, target)
        nsma = socket.inet_ntop(socket.AF_INET6, in6_getnsma(target_bytes))
        want_dst_ip = target if unicast else nsma
        want_dst_mac = dst_mac if unicast else in6_getnsmac(in6_getnsma(target_bytes))
        ok_sum, stored, recomputed = icmpv6_checksum_ok(p, ICMPv6ND_NS)
        option = p[ICMPv6NDOptSrcLLAddr] if ICMPv6NDOptSrcLLAddr in p else None
        check(len(frame) == (90 if vlan else 86) and p.dst == want_dst_mac and
              p.src == src_mac and ip6.version == 6 and ip6.tc == 0 and ip6.fl == 0 and
              ip6.plen == 32 and ip6.nh == 58 and ip6.hlim == 255 and
              same_ip(ip6.src, src) and same_ip(ip6.dst, want_dst_ip) and
              ns.type == 135 and ns.code == 0 and ns.res == 0 and same_ip(ns.tgt, target) and
              option is not None and option.len == 1 and option.lladdr == src_mac and
              (p[Dot1Q].vlan == vlan if vlan else p.type == 0x86DD) and ok_sum,
              f"NS {src} ({src_mac}) for {target} -> {want_dst_ip} {want_dst_mac}"
              f"{f' vlan {vlan}' if vlan else ''} checksum {stored:#06x}/{recomputed:#06x}")

    code, out = tool("arp", "02:00:00:00:00:01", "192.0.2.1", "2001:db8::1")
    check(code == 1 and out == "refused", "ARP for an IPv6 target is refused")
    code, out = tool("ns", "02:00:00:00:00:01", "::", "2001:db8::1")
    check(code == 1 and out == "refused", "NS from :: is refused")
    code, out = tool("ns", "02:00:00:00:00:01", "fe80::1", "ff02::1")
    check(code == 1 and out == "refused", "NS for a multicast target is refused")


def scapy_builds_traverse_reads():
    mac, peer = "02:aa:bb:cc:dd:ee", "02:11:22:33:44:55"
    bcast = "ff:ff:ff:ff:ff:ff"

    def expect(frame, what, **want):
        got = parse(frame)
        if not want:
            check(got is None, f"{what}: nothing learned (got {got})")
            return
        ok = got is not None and all(
            same_ip(got[k], v) if k == "ip" else got[k] == str(v) for k, v in want.items())
        check(ok, f"{what}: {got}")

    arp_req = Ether(src=mac, dst=bcast) / ARP(op=1, hwsrc=mac, psrc="192.0.2.10", pdst="192.0.2.1")
    expect(arp_req, "ARP who-has", ip="192.0.2.10", mac=mac, source="arp_request", vlan=0,
           gratuitous=0)
    expect(Ether(src=mac, dst=peer) / ARP(op=2, hwsrc=mac, psrc="192.0.2.10", hwdst=peer,
                                          pdst="192.0.2.1"),
           "ARP is-at", ip="192.0.2.10", mac=mac, source="arp_reply")
    expect(Ether(src=mac, dst=bcast) / ARP(op=1, hwsrc=mac, psrc="192.0.2.10", pdst="192.0.2.10"),
           "gratuitous ARP", ip="192.0.2.10", mac=mac, gratuitous=1)
    expect(Ether(src=mac, dst=bcast) / ARP(op=1, hwsrc=mac, psrc="0.0.0.0", pdst="192.0.2.10"),
           "ARP probe (RFC 5227)")
    expect(Ether(src=mac, dst=bcast) / Dot1Q(vlan=123, prio=5) /
           ARP(op=1, hwsrc=mac, psrc="192.0.2.10", pdst="192.0.2.1"),
           "802.1Q-tagged ARP", ip="192.0.2.10", mac=mac, vlan=123)
    expect(Ether(src=mac, dst=bcast) / Dot1Q(vlan=10) / Dot1Q(vlan=20) /
           ARP(op=1, hwsrc=mac, psrc="192.0.2.10", pdst="192.0.2.1"), "two VLAN tags")
    expect(Ether(src=mac, dst=bcast) /
           ARP(op=1, hwsrc="01:00:5e:00:00:01", psrc="192.0.2.10", pdst="192.0.2.1"),
           "ARP from a multicast MAC")

    target = "2001:db8::1"
    nsma = socket.inet_ntop(socket.AF_INET6,
                            in6_getnsma(socket.inet_pton(socket.AF_INET6, target)))

    def ns(src="2001:db8::99", hlim=255, with_option=True, **kw):
        p = Ether(src=mac, dst="33:33:ff:00:00:01") / IPv6(src=src, dst=nsma, hlim=hlim) / \
            ICMPv6ND_NS(tgt=target, **kw)
        return p / ICMPv6NDOptSrcLLAddr(lladdr=mac) if with_option else p

    expect(ns(), "NS with source link-layer option", ip="2001:db8::99", mac=mac,
           source="neighbor_solicitation")
    expect(ns(hlim=64), "NS with hop limit 64")
    expect(ns(src="::"), "NS from :: (DAD)")
    expect(ns(with_option=False), "NS without source link-layer option")
    expect(ns(code=1), "NS with code 1")
    expect(ns(cksum=0x1234), "NS with a wrong checksum")

    def na(flags, dst="2001:db8::1", hlim=255, **kw):
        return Ether(src=peer, dst=mac) / IPv6(src="fe80::7", dst=dst, hlim=hlim) / \
            ICMPv6ND_NA(tgt="2001:db8::7", R=0, S=flags[0], O=flags[1], **kw) / \
            ICMPv6NDOptDstLLAddr(lladdr=peer)

    expect(na((1, 1)), "solicited NA with override", ip="2001:db8::7", mac=peer,
           source="neighbor_advertisement", override=1)
    expect(na((1, 0)), "solicited NA without override", ip="2001:db8::7", mac=peer, override=0)
    expect(na((0, 1), dst="ff02::1"), "unsolicited NA to all-nodes", ip="2001:db8::7", mac=peer)
    expect(na((1, 1), dst="ff02::1"), "NA 'solicited' to a multicast address")
    expect(na((1, 1), hlim=254), "NA with hop limit 254")
    expect(Ether(src=peer, dst=mac) / Dot1Q(vlan=7) / IPv6(src="fe80::7", dst="fe80::1", hlim=255) /
           ICMPv6ND_NA(tgt="fe80::7", S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=peer),
           "802.1Q-tagged NA", ip="fe80::7", mac=peer, vlan=7)

    expect(Ether(src=peer, dst="33:33:00:00:00:01") / IPv6(src="fe80::1", dst="ff02::1", hlim=255) /
           ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=peer),
           "RA with source link-layer option", ip="fe80::1", mac=peer,
           source="router_advertisement")
    expect(Ether(src=peer, dst=mac) / IPv6(src="2001:db8::7", dst="2001:db8::1", hlim=255) /
           ICMPv6EchoRequest(), "ICMPv6 echo request")

    # Every truncation of a valid scapy NS is rejected by Traverse.
    whole = raw(ns())
    learned = [parse(whole[:n]) is not None for n in range(14, len(whole))]
    check(not any(learned), f"NS truncated at every length 14..{len(whole) - 1} is rejected")


def main():
    rng = random.Random(4861)
    traverse_builds_scapy_reads(rng)
    scapy_builds_traverse_reads()
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all neighbor interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
