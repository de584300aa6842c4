#!/usr/bin/env python3
"""SA add/delete churn while traffic runs through traverse-dataplane.

In a network namespace this test creates (and always removes): the dataplane
on af_packet vdevs over two veth pairs, a sender on the inside veth that
streams UDP toward a client's inner address, tcpdump on the outside veth. A
churn tool installs a new outbound SA every few milliseconds, repoints the
policy and deletes the old SA. Afterwards scapy decrypts every captured ESP
packet with the keys of its SPI and the test asserts: every packet decrypts
(no packet used garbage or freed keys), sequence numbers per SPI are unique
and increasing (no IV reuse), no packet of an SA left the gateway after its
delete was acknowledged, the dataplane survived and counted no unexpected drop.

usage: sa_churn_test.py TRAVERSE_DATAPLANE TRAVERSE_SA_CHURN
"""
import json
import subprocess
import sys
import tempfile
import time

from scapy.all import IP, UDP, Ether, Raw, rdpcap

from veth_namespace import VethNamespace, open_esp, stop_capture

GW_OUT, CLIENT, GW_IN, SERVER, INNER = "192.0.2.1", "192.0.2.7", "10.1.0.1", "10.1.0.10", "10.8.0.5"
PEER_MAC, SERVER_MAC = "02:00:00:00:07:07", "02:00:00:00:0a:0a"
ITERATIONS, INTERVAL_MS = 150, 10
GRACE_S = 0.05  # a packet already inside the worker when the delete lands


SENDER = """
import signal, socket, sys, time
frame = bytes.fromhex(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("peer-in", 0))
sent = 0
def done(*_):
    print(sent, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    for _ in range(200):
        s.send(frame)
        sent += 1
    time.sleep(0.01)
"""


def main():
    dataplane, churn = sys.argv[1], sys.argv[2]
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    with VethNamespace("churn", PEER_MAC, SERVER_MAC) as ns:
        tmp = tempfile.mkdtemp(prefix="traverse-churn-")
        cfg = f"""
[dataplane]
workers = 1
eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "{ns.name}",
       "--log-level", "error"]
api_socket = "{tmp}/api/dp.sock"
mbufs = 8192
max_sas = 1024
[dataplane.outside]
device = "net_af_packet_out,iface=dp-out"
address = "{GW_OUT}/24"
[dataplane.inside]
device = "net_af_packet_in,iface=dp-in"
address = "{GW_IN}/24"
[[dataplane.neighbor]]
port = "outside"
address = "{CLIENT}"
mac = "{PEER_MAC}"
"""
        open(f"{tmp}/dp.toml", "w").write(cfg)
        capture = ns.capture("peer-out", f"{tmp}/out.pcap", "udp port 4500")
        dp = ns.spawn(dataplane, "--config", f"{tmp}/dp.toml", "--run-seconds", "8",
                      "--stats-json", f"{tmp}/stats.json",
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)

        # The sender: raw frames on the inside veth, about 20k packets a second,
        # from a process inside the namespace.
        frame = bytes(Ether(src=SERVER_MAC, dst="02:00:00:00:00:01") /
                      IP(src=SERVER, dst=INNER) / UDP(sport=7, dport=9) / Raw(b"c" * 64))
        sender = ns.spawn(sys.executable, "-c", SENDER, frame.hex(), stdout=subprocess.PIPE,
                          text=True)
        run = subprocess.run(["ip", "netns", "exec", ns.name, churn, f"{tmp}/api/dp.sock",
                              str(ITERATIONS), str(INTERVAL_MS), GW_OUT, CLIENT, INNER, "0x10000"],
                             capture_output=True, text=True, timeout=120)
        time.sleep(0.5)
        sender.terminate()
        sent = [int((sender.communicate(timeout=10)[0] or "0").split()[-1] or 0)]
        check(run.returncode == 0, f"churn tool: every add/policy/delete acknowledged ({run.stderr.strip()})")
        sas = {}
        for line in run.stdout.splitlines():
            entry = json.loads(line)
            sas[entry["spi"]] = entry
        deleted_at = {}
        spis = sorted(sas)
        for previous, current in zip(spis, spis[1:]):
            deleted_at[previous] = sas[current]["previous_deleted"]
        dp.wait(timeout=60)
        check(dp.returncode == 0, f"dataplane exited cleanly ({dp.returncode})")
        time.sleep(0.5)
        stop_capture(capture)
        stats = json.load(open(f"{tmp}/stats.json"))
        packets = rdpcap(f"{tmp}/out.pcap")

    print(f"sent {sent[0]} inner packets, captured {len(packets)} ESP packets, {len(sas)} SAs")
    nonzero = {k: v for k, v in stats.items() if isinstance(v, int) and v}
    print("counters:", json.dumps(nonzero, sort_keys=True))
    seen = {}
    undecryptable = 0
    late = []
    for p in packets:
        if UDP not in p or len(p[UDP].payload) < 8:
            continue
        esp = bytes(p[UDP].payload)
        spi, seq = int.from_bytes(esp[:4], "big"), int.from_bytes(esp[4:8], "big")
        entry = sas.get(spi)
        if entry is None:
            undecryptable += 1
            continue
        try:
            inner = open_esp(esp, bytes.fromhex(entry["key"]), bytes.fromhex(entry["salt"]),
                             GW_OUT, CLIENT)
            if not (IP in inner and inner[IP].dst == INNER):
                undecryptable += 1
        except Exception as exc:  # noqa: BLE001 - an undecryptable packet is the failure
            if undecryptable == 0:
                print("first decryption failure:", repr(exc))
            undecryptable += 1
        seen.setdefault(spi, []).append(seq)
        if spi in deleted_at and float(p.time) > deleted_at[spi] + GRACE_S:
            late.append((spi, float(p.time) - deleted_at[spi]))
    check(len(packets) > 1000, f"traffic flowed during the churn ({len(packets)} ESP packets)")
    check(undecryptable == 0, f"every ESP packet decrypts with its SPI's keys ({undecryptable} did not)")
    check(len(seen) >= ITERATIONS // 2, f"{len(seen)} of {ITERATIONS} SAs carried traffic")
    bad_seq = [s for s, seqs in seen.items() if seqs != sorted(set(seqs)) or seqs[0] != 1]
    check(not bad_seq, f"sequence numbers per SA start at 1, unique and increasing ({len(bad_seq)} bad)")
    check(not late, f"no packet of an SA after its delete was acknowledged (+{GRACE_S}s) {late[:3]}")
    check(stats.get("outbound_sas") == 1, f"one outbound SA left installed ({stats.get('outbound_sas')})")
    check(stats.get("esp_no_headroom", 0) == 0 and stats.get("handoff_dropped", 0) == 0,
          "no unexpected drops")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("SA churn test passed")


if __name__ == "__main__":
    main()
