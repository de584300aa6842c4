#!/usr/bin/env python3
"""Two peers choose the same outbound SPI: traverse-dataplane keeps both SAs.

Outbound SPIs are chosen by the peers, so two road-warrior clients may pick
the same one. The dataplane names outbound SAs by (SPI, cookie). In a network
namespace this test creates (and always removes): the dataplane on af_packet
vdevs over two veth pairs, two clients on the outside segment, a sender on the
inside. Two workers, each polling its own af_packet queue (fanout by flow
hash), so the SAs' packets may be handed over to their owner. Through the API (tests/dataplane/api_script.cc) it installs two
outbound SAs with SPI 0x3000 and different cookies, keys and peers, one Office
Mode policy for each, then sends inside traffic to both inner addresses and
asserts:
- both installs succeed, a third with a used (SPI, cookie) is refused, a
  policy naming an unknown cookie is refused, sa_list shows both cookies;
- on the wire (tcpdump, decrypted with scapy): each client receives only its
  own inner traffic, under its own keys, with its own sequence numbers;
- the per-SA counters count each SA's packets separately;
- an ICMP "fragmentation needed" quoting client B's ESP lowers only B's path
  MTU (the quoted addresses pick the SA when the SPI is shared);
- deleting A by (SPI, cookie) leaves B installed and forwarding; a policy
  delete naming the wrong SA is refused.

usage: shared_spi_test.py TRAVERSE_DATAPLANE TRAVERSE_API_SCRIPT
"""
import json
import subprocess
import sys
import tempfile
import time

from scapy.all import ICMP, IP, UDP, Ether, Raw, rdpcap

from veth_namespace import VethNamespace, open_esp, stop_capture

GW_OUT, GW_IN, SERVER, ROUTER = "192.0.2.1", "10.1.0.1", "10.1.0.10", "192.0.2.254"
CLIENTS = {  # cookie -> peer, inner address, key, salt
    1: ("192.0.2.7", "10.8.0.5", bytes(range(16)), bytes.fromhex("0a0b0c0d")),
    2: ("192.0.2.8", "10.8.0.6", bytes(range(100, 116)), bytes.fromhex("01020304")),
}
SPI = 0x3000
PEER_MAC, SERVER_MAC = "02:00:00:00:07:07", "02:00:00:00:0a:0a"

SENDER = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for frame in sys.argv[2:]:
    s.send(bytes.fromhex(frame))
"""

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def send(ns, iface, frames):
    ns.sh(sys.executable, "-c", SENDER, iface, *[bytes(f).hex() for f in frames])


def main():
    dataplane, script = sys.argv[1], sys.argv[2]
    answers = []
    with VethNamespace("spi", PEER_MAC, SERVER_MAC) as ns:
        dp_out_mac = json.loads(ns.sh("ip", "-j", "link", "show", "dp-out").stdout)[0]["address"]
        tmp = tempfile.mkdtemp(prefix="traverse-spi-")
        neighbors = "".join(f"""
[[dataplane.neighbor]]
port = "outside"
address = "{peer}"
mac = "{PEER_MAC}"
""" for peer, _, _, _ in CLIENTS.values())
        open(f"{tmp}/dp.toml", "w").write(f"""
[dataplane]
workers = 2
eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "{ns.name}",
       "--log-level", "error", "--lcores", "0@0,1@1,2@0"]
api_socket = "{tmp}/api/dp.sock"
mbufs = 8192
max_sas = 1024
[dataplane.outside]
device = "net_af_packet_out,iface=dp-out,qpairs=2"
address = "{GW_OUT}/24"
[dataplane.inside]
device = "net_af_packet_in,iface=dp-in,qpairs=2"
address = "{GW_IN}/24"
[[dataplane.neighbor]]
port = "inside"
address = "{SERVER}"
mac = "{SERVER_MAC}"
{neighbors}""")
        capture = ns.capture("peer-out", f"{tmp}/out.pcap", "udp port 4500")
        dp = ns.spawn(dataplane, "--config", f"{tmp}/dp.toml", "--run-seconds", "12",
                      "--stats-json", f"{tmp}/stats.json",
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        api = ns.spawn(script, f"{tmp}/api/dp.sock", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       text=True)

        def call(**request):
            api.stdin.write(json.dumps(request) + "\n")
            api.stdin.flush()
            answer = json.loads(api.stdout.readline())
            answers.append((request, answer))
            return answer

        for cookie, (peer, inner, key, salt) in CLIENTS.items():
            r = call(op="sa_add", spi=SPI, direction="outbound", cookie=cookie, key=key.hex(),
                     salt=salt.hex(), local=GW_OUT, remote=peer, udp=True)
            check(r["status"] == "ok", f"outbound SA spi {SPI:#x} cookie {cookie} installed ({r})")
            r = call(op="policy_add", selector=f"{inner}/32", spi=SPI, cookie=cookie)
            check(r["status"] == "ok", f"policy {inner}/32 -> cookie {cookie} ({r})")
        peer, inner, key, salt = CLIENTS[2]
        r = call(op="sa_add", spi=SPI, direction="outbound", cookie=2, key=key.hex(),
                 salt=salt.hex(), local=GW_OUT, remote=peer, udp=True)
        check(r["status"] == "exists", f"a used (SPI, cookie) is refused ({r['status']})")
        r = call(op="policy_add", selector="10.8.0.9/32", spi=SPI, cookie=3)
        check(r["status"] == "unknown_sa", f"a policy naming an unknown cookie is refused ({r['status']})")
        listed = call(op="sa_list")
        outbound = sorted(s["cookie"] for s in listed.get("sas", [])
                          if s["direction"] == "outbound" and s["spi"] == SPI)
        check(outbound == [1, 2], f"sa_list shows both SAs with their cookies ({outbound})")

        def inside_frame(inner, n):
            return Ether(src=SERVER_MAC, dst="02:00:00:00:00:01") / \
                IP(src=SERVER, dst=inner) / UDP(sport=1000 + n % 8, dport=9) / \
                Raw(b"%04d" % n + b"s" * 60)

        send(ns, "peer-in", [inside_frame(CLIENTS[c][1], n) for n in range(20) for c in CLIENTS])
        time.sleep(0.5)
        counts = {c: call(op="sa_counters", spi=SPI, direction="outbound", cookie=c) for c in CLIENTS}
        check(counts[1].get("packets") == 20 and counts[2].get("packets") == 20,
              f"per-SA counters: 20 packets each ({counts[1].get('packets')}, {counts[2].get('packets')})")
        check(counts[1].get("cookie") == 1 and counts[2].get("cookie") == 2,
              "each counter reply names its own SA")

        # A router says B's ESP packets are too big: only B's path MTU drops.
        quoted = IP(src=GW_OUT, dst=CLIENTS[2][0], flags="DF", len=1500) / \
            UDP(sport=4500, dport=4500) / Raw(SPI.to_bytes(4, "big") + (5).to_bytes(4, "big") + b"q" * 32)
        too_big = Ether(src=PEER_MAC, dst=dp_out_mac) / IP(src=ROUTER, dst=GW_OUT) / \
            ICMP(type=3, code=4, nexthopmtu=1300) / quoted
        send(ns, "peer-out", [too_big])
        time.sleep(0.5)
        mtus = {c: call(op="sa_counters", spi=SPI, direction="outbound", cookie=c).get("path_mtu")
                for c in CLIENTS}
        check(mtus[2] == 1300 and mtus[1] != 1300,
              f"ICMP quoting B's packet lowered B's path MTU only (A {mtus[1]}, B {mtus[2]})")

        # The heap that holds per-SA state asks for transparent huge pages
        # (dataplane/engine/huge_pages.hh: one re-exec with a glibc tunable)
        # wherever the kernel allows THP; the process keeps its name.
        thp_mode = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
        if "[never]" in thp_mode:
            print("skip  THP heap check: the kernel disables transparent huge pages")
        else:
            environ = open(f"/proc/{dp.pid}/environ", "rb").read().split(b"\0")
            comm = open(f"/proc/{dp.pid}/comm").read().strip()
            check(b"GLIBC_TUNABLES=glibc.malloc.hugetlb=1" in environ and comm == "traverse-datapl",
                  f"the dataplane re-executed itself with THP for its heap (comm {comm})")

        r = call(op="policy_delete", selector=f"{CLIENTS[1][1]}/32", spi=SPI, cookie=2)
        check(r["status"] == "unknown_sa", f"policy delete naming the other SA refused ({r['status']})")
        r = call(op="sa_delete", spi=SPI, direction="outbound", cookie=1)
        check(r["status"] == "ok", f"delete of (SPI, cookie 1) ({r})")
        r = call(op="sa_delete", spi=SPI, direction="outbound", cookie=1)
        check(r["status"] == "unknown_sa", f"a second delete finds nothing ({r['status']})")
        r = call(op="sa_counters", spi=SPI, direction="outbound", cookie=2)
        check(r["status"] == "ok", "B still installed after A's delete")
        send(ns, "peer-in", [inside_frame(CLIENTS[2][1], 100 + n) for n in range(10)])
        time.sleep(0.5)
        r = call(op="sa_counters", spi=SPI, direction="outbound", cookie=2)
        check(r.get("packets") == 30, f"B keeps forwarding after A's delete ({r.get('packets')} packets)")
        api.stdin.close()
        api.wait(timeout=10)
        dp.wait(timeout=60)
        check(dp.returncode == 0, f"dataplane exited cleanly ({dp.returncode})")
        time.sleep(0.5)
        stop_capture(capture)
        stats = json.load(open(f"{tmp}/stats.json"))
        packets = rdpcap(f"{tmp}/out.pcap")

    # On the wire: each client's packets decrypt with its own keys and carry
    # only its own inner traffic; sequence numbers per SA run 1, 2, 3, ...
    got = {c: [] for c in CLIENTS}
    strays = 0
    for p in packets:
        if IP not in p or UDP not in p or p[UDP].dport != 4500 or len(p[UDP].payload) < 8:
            continue
        owner = next((c for c, v in CLIENTS.items() if v[0] == p[IP].dst), None)
        esp = bytes(p[UDP].payload)
        if owner is None or int.from_bytes(esp[:4], "big") != SPI:
            strays += 1
            continue
        peer, inner, key, salt = CLIENTS[owner]
        try:
            clear = open_esp(esp, key, salt, GW_OUT, peer)
            ok = IP in clear and clear[IP].dst == inner
        except Exception:  # noqa: BLE001 - wrong keys are the failure under test
            ok = False
        if not ok:
            strays += 1
            continue
        got[owner].append(int.from_bytes(esp[4:8], "big"))
    check(strays == 0, f"every ESP packet decrypts with its own client's keys ({strays} did not)")
    check(got[1] == list(range(1, 21)), f"client A: 20 packets, sequence 1..20 ({len(got[1])})")
    check(got[2] == list(range(1, 31)), f"client B: 30 packets, sequence 1..30 ({len(got[2])})")
    check(stats.get("outbound_sas") == 1, f"one outbound SA left installed ({stats.get('outbound_sas')})")
    check(stats.get("no_policy", 0) == 0, f"no packet lacked a policy ({stats.get('no_policy')})")
    # 16 flows over two fanout queues: the SAs' owner received some of them
    # from the other worker (P(all on one queue) = 2^-15).
    check(stats.get("handoff_sent", 0) > 0 and stats.get("handoff_dropped", 0) == 0,
          f"packets were handed over to the SA owner, none dropped "
          f"({stats.get('handoff_sent')} sent, {stats.get('handoff_dropped')} dropped)")
    if failures:
        for request, answer in answers:
            print("  ", json.dumps(request), "->", json.dumps(answer))
        sys.exit(f"{len(failures)} check(s) failed")
    print("shared outbound SPI test passed")


if __name__ == "__main__":
    main()
