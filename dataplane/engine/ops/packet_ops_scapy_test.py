#!/usr/bin/python3
"""Checks the path-MTU packet operations against scapy, an independent parser.

Run as: packet_ops_scapy_test.py PATH/TO/packet-ops-wire-tool

The tool prints the ICMP errors, clamped SYNs and fragments it made; scapy
dissects them, recomputes every checksum (a copy with the field deleted) and
reassembles the fragments. Then scapy builds ICMP errors quoting ESP packets
and the tool's parser must read them as scapy meant.
"""

import subprocess
import sys

from scapy.all import (ESP, ICMP, IP, IPv6, TCP, UDP, ICMPv6PacketTooBig, Raw, conf,
                       defragment, raw)

conf.verb = 0

GATEWAY4, PEER4, ROUTER4 = "192.0.2.1", "198.51.100.2", "203.0.113.5"
GATEWAY6, PEER6, ROUTER6 = "2001:db8:ff00::1", "2001:db8:ee00::2", "2001:db8:dd00::5"

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def checksum_ok(pkt, layer, field):
    """True when scapy computes the same checksum as the packet carries."""
    copy = pkt.copy()
    delattr(copy[layer], field)
    rebuilt = pkt.__class__(raw(copy))
    return len(raw(copy)) == len(raw(pkt)) and getattr(rebuilt[layer], field) == getattr(pkt[layer], field)


def check_too_big4(mtu, offending, out, tag):
    p = IP(out)
    off = IP(offending)
    quote_len = min(off.len, 576 - 28)
    check(p.version == 4 and p.ihl == 5 and p.len == len(out) <= 576, tag + ": IPv4 header / length")
    check(p.ttl == 64 and p.proto == 1, tag + ": TTL 64, protocol ICMP")
    check(p.src == GATEWAY4 and p.dst == off.src, tag + ": addresses")
    check(checksum_ok(p, IP, "chksum"), tag + ": IPv4 header checksum")
    check(p[ICMP].type == 3 and p[ICMP].code == 4, tag + ": type 3 code 4")
    check(p[ICMP].nexthopmtu == mtu, tag + ": next-hop MTU %d" % p[ICMP].nexthopmtu)
    check(checksum_ok(p, ICMP, "chksum"), tag + ": ICMP checksum")
    quote = raw(p[ICMP].payload)
    check(len(quote) == quote_len and quote == offending[:quote_len], tag + ": quote")


def check_too_big6(mtu, offending, out, tag):
    p = IPv6(out)
    off = IPv6(offending)
    quote_len = min(40 + off.plen, 1280 - 48)
    check(p.version == 6 and p.plen == len(out) - 40 and len(out) <= 1280, tag + ": IPv6 length")
    check(p.hlim == 64 and p.nh == 58, tag + ": hop limit 64, ICMPv6")
    check(p.src == GATEWAY6 and p.dst == off.src, tag + ": addresses")
    ptb = p[ICMPv6PacketTooBig]
    check(ptb.code == 0 and ptb.mtu == mtu, tag + ": code 0, MTU")
    check(checksum_ok(p, ICMPv6PacketTooBig, "cksum"), tag + ": ICMPv6 checksum")
    quote = raw(ptb.payload)
    check(len(quote) == quote_len and quote == offending[:quote_len], tag + ": quote")


def check_mss(max_mss, before, after, tag):
    ip_class = IP if before[0] >> 4 == 4 else IPv6
    b, a = ip_class(before), ip_class(after)
    check(checksum_ok(b, TCP, "chksum"), tag + ": input TCP checksum (test packet)")
    check(checksum_ok(a, TCP, "chksum"), tag + ": clamped TCP checksum")
    if ip_class is IP:
        check(checksum_ok(a, IP, "chksum"), tag + ": IPv4 header checksum")
    old = [v for k, v in b[TCP].options if k == "MSS"]
    new = [v for k, v in a[TCP].options if k == "MSS"]
    check(old and new == [min(v, max_mss) for v in old], tag + ": MSS %s -> %s" % (old, new))
    check([k for k, _ in a[TCP].options] == [k for k, _ in b[TCP].options], tag + ": other options")
    check(raw(a[TCP].payload) == raw(b[TCP].payload), tag + ": payload untouched")
    check(len(before) == len(after), tag + ": length")


def real_options(pkt):
    """The options that are not end-of-list or no-operation padding, as bytes."""
    return [raw(o) for o in pkt.options if (o.copy_flag, o.optclass, o.option) not in
            ((0, 0, 0), (0, 0, 1))]


def check_fragments(mtu, original, frags, tag):
    pkts = [IP(f) for f in frags]
    source = IP(original)
    first_options = source.options
    copied = [o for o, flag in zip(real_options(source),
                                   [o.copy_flag for o in source.options
                                    if (o.copy_flag, o.optclass, o.option) not in
                                    ((0, 0, 0), (0, 0, 1))]) if flag]
    for i, f in enumerate(pkts):
        check(f.len == len(frags[i]) <= mtu, tag + ": fragment %d fits" % i)
        check(checksum_ok(f, IP, "chksum"), tag + ": fragment %d header checksum" % i)
        check(not f.flags.DF, tag + ": no DF")
        if f.flags.MF:
            check((f.len - f.ihl * 4) % 8 == 0, tag + ": fragment %d payload multiple of 8" % i)
        if f.frag == 0:
            check(f.options == first_options, tag + ": first fragment keeps every option")
        else:
            # RFC 791: later fragments carry the options with the copy flag, only.
            check(real_options(f) == copied, tag + ": fragment %d copied options" % i)
    whole = defragment(pkts)
    check(len(whole) == 1, tag + ": scapy reassembles one packet (got %d)" % len(whole))
    if len(whole) == 1:
        check(raw(whole[0]) == original, tag + ": reassembled byte for byte")


def run_generated(tool):
    out = subprocess.run([tool], check=True, capture_output=True, text=True).stdout
    counts = {}
    for n, line in enumerate(out.splitlines()):
        kind, *fields = line.split()
        tag = "%s#%d" % (kind, n)
        counts[kind] = counts.get(kind, 0) + 1
        if kind in ("too_big4", "too_big6"):
            mtu, offending, icmp = int(fields[0]), bytes.fromhex(fields[1]), bytes.fromhex(fields[2])
            (check_too_big4 if kind == "too_big4" else check_too_big6)(mtu, offending, icmp, tag)
        elif kind in ("mss4", "mss6"):
            check_mss(int(fields[0]), bytes.fromhex(fields[1]), bytes.fromhex(fields[2]), tag)
        elif kind == "frag4":
            frags = [bytes.fromhex(h) for h in fields[2].split(",")]
            check_fragments(int(fields[0]), bytes.fromhex(fields[1]), frags, tag)
        else:
            check(False, "unknown line kind " + kind)
    check(all(counts.get(k, 0) >= 2 for k in ("too_big4", "too_big6", "mss4", "mss6", "frag4")),
          "every kind of packet generated: %s" % counts)
    return sum(counts.values())


def esp4(spi, size, udp=False, sport=4500, dport=4500):
    ip = IP(src=GATEWAY4, dst=PEER4, flags="DF", id=0)
    body = ESP(spi=spi, seq=1) / Raw(b"\x5a" * size)
    return raw(ip / UDP(sport=sport, dport=dport, chksum=0) / body if udp else ip / body)


def esp6(spi, size, udp=False):
    ip = IPv6(src=GATEWAY6, dst=PEER6)
    body = ESP(spi=spi, seq=1) / Raw(b"\x5a" * size)
    return raw(ip / UDP(sport=4500, dport=4500) / body if udp else ip / body)


def icmp4(quoted, quote_len, mtu, type_=3, code=4, chksum=None):
    msg = ICMP(type=type_, code=code, nexthopmtu=mtu)
    if type_ != 3:
        msg = ICMP(type=type_, code=code)
    if chksum is not None:
        msg.chksum = chksum
    return raw(IP(src=ROUTER4, dst=GATEWAY4) / msg / Raw(quoted[:quote_len]))


def icmp6(quoted, quote_len, mtu):
    return raw(IPv6(src=ROUTER6, dst=GATEWAY6) / ICMPv6PacketTooBig(mtu=mtu) / Raw(quoted[:quote_len]))


def run_parse(tool):
    spi = 0x1000abcd
    cases = [
        (icmp4(esp4(spi, 1400), 548, 1300),
         "ok %s %s %s 0 1300 %d 0 0" % (ROUTER4, GATEWAY4, PEER4, spi)),
        (icmp4(esp4(spi, 1400), 28, 1400),
         "ok %s %s %s 0 1400 %d 0 0" % (ROUTER4, GATEWAY4, PEER4, spi)),
        (icmp4(esp4(spi, 1400, udp=True, dport=31000), 28, 1280),
         "ok %s %s %s 1 1280 - 4500 31000" % (ROUTER4, GATEWAY4, PEER4)),
        (icmp4(esp4(spi, 1400, udp=True), 548, 1280),
         "ok %s %s %s 1 1280 %d 4500 4500" % (ROUTER4, GATEWAY4, PEER4, spi)),
        (icmp6(esp6(spi, 1500), 1232, 1400),
         "ok %s %s %s 0 1400 %d 0 0" % (ROUTER6, GATEWAY6, PEER6, spi)),
        (icmp6(esp6(spi, 1500, udp=True), 1232, 1280),
         "ok %s %s %s 1 1280 %d 4500 4500" % (ROUTER6, GATEWAY6, PEER6, spi)),
        (icmp4(esp4(spi, 1400), 548, 1300, chksum=0x1234), "bad_checksum"),
        (icmp4(esp4(spi, 1400), 548, 60), "mtu_too_small"),
        (icmp4(esp4(spi, 1400), 548, 0), "mtu_not_reported"),
        (icmp4(esp4(spi, 1400), 548, 1448), "mtu_not_smaller"),
        (icmp4(esp4(spi, 1400), 548, 1300, type_=11, code=0), "wrong_type"),
        (icmp4(esp4(0, 1400), 548, 1300), "zero_spi"),
        (icmp4(raw(IP(src=GATEWAY4, dst=PEER4) / UDP(sport=4500, dport=4500) /
                   Raw(b"\x00\x00\x00\x00" + b"\x11" * 1400)), 548, 1300), "zero_spi"),
        (icmp4(raw(IP(src=GATEWAY4, dst=PEER4) / TCP() / Raw(b"x" * 1400)), 548, 1300), "not_esp"),
        (icmp4(esp4(spi, 1400), 22, 1300), "quote_truncated"),
        (icmp6(esp6(spi, 1500), 1232, 1279), "mtu_too_small"),
        (icmp6(esp4(spi, 1500), 1000, 1280), "quote_malformed"),
        (raw(IP(src=ROUTER4, dst=GATEWAY4) / UDP() / Raw(b"x" * 40)), "not_icmp"),
    ]
    stdin = "".join(pkt.hex() + "\n" for pkt, _ in cases)
    out = subprocess.run([tool, "parse"], input=stdin, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    check(len(out) == len(cases), "parse: one answer per packet")
    for i, ((_, expected), got) in enumerate(zip(cases, out)):
        check(got == expected, "parse case %d: expected %r, got %r" % (i, expected, got))
    return len(cases)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    generated = run_generated(sys.argv[1])
    parsed = run_parse(sys.argv[1])
    for f in failures:
        print("FAIL:", f)
    print("%d generated packets checked, %d scapy-built ICMP errors parsed, %d failures"
          % (generated, parsed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
