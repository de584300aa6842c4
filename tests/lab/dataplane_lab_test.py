#!/usr/bin/python3
"""End-to-end lab test of traverse-dataplane, in network namespaces.

For each scenario the test builds a lab with lab.sh (client -> nat -> [router]
-> gw -> server), starts traverse-dataplane in the gw namespace with a
generated config (static SAs, ESP in UDP) and esp-tun-peer in the client
namespace, and then checks on the wire:

  gcm, cbc   (AES-GCM-128 and AES-CBC-128 + HMAC-SHA-256-128)
    * ping client -> server and server -> client through the tunnel;
    * a 4 MiB TCP transfer each way, verified by SHA-256;
    * the capture next to the gateway's outside port, decrypted
      independently by tshark (ESP SA table) and scapy (SecurityAssociation):
      every ESP packet authenticates, and the inner packets are the ICMP and
      TCP traffic of the test;
    * the dataplane's final counters (--stats-json) agree with the peer's and
      the capture's, and show no unexpected drops.
  pmtu       (a router with a 1400-byte link between the NAT and the gateway)
    * with DF, a ping too big for the tunnel gets ICMP "fragmentation needed"
      back at the server (after the router's own ICMP taught the gateway the
      path MTU);
    * without DF it arrives at the client pre-fragmented (inner fragments,
      each fitting the tunnel) and reassembled by the client's kernel.

--peer-gateway runs a second esp-tun-peer (with the kernel forwarding) as the
gateway instead of the dataplane: the lab, the peer and the checks on their
own, and a reference for what the dataplane should do.

Every process started is stopped and every namespace removed, also on failure
and on SIGTERM; each wait has a timeout and the whole run has a deadline.
Run as root with /usr/bin/python3 (Debian's scapy). Exits non-zero on failure.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

warnings.filterwarnings("ignore")  # cryptography deprecation noise from scapy

DEADLINE_S = 280  # the whole run; meson's timeout is 300
TCP_BYTES = 4 << 20
TCP_PORT = 5001
NAT_T_PORT = 4500
SPI_IN = 0x1001   # client -> gateway
SPI_OUT = 0x2001  # gateway -> client
BACKSTOP_S = 240  # every long-running process exits on its own after this


class Failure(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


# Failed checks of the current scenario: a check that fails is reported and
# the scenario goes on (more evidence); require() stops it.
FAILED_CHECKS = []


def check(cond, what):
    if cond:
        log(f"   ok: {what}")
    else:
        log(f"   FAILED: {what}")
        FAILED_CHECKS.append(what)
    return bool(cond)


def require(cond, what):
    if not check(cond, what):
        raise Failure(what)


# ---------------------------------------------------------------------------
# TCP helpers, run as subcommands of this file inside the namespaces


def payload_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def tcp_server(addr, port, connections, timeout):
    srv = socket.create_server((addr, port))
    srv.settimeout(timeout)
    print("listening", flush=True)
    for _ in range(connections):
        conn, _peer = srv.accept()
        conn.settimeout(timeout)
        line = b""
        while not line.endswith(b"\n"):
            chunk = conn.recv(1)
            if not chunk:
                break
            line += chunk
        cmd, n, seed = line.decode().split()
        n = int(n)
        if cmd == "UP":
            h = hashlib.sha256()
            got = 0
            while got < n:
                data = conn.recv(min(1 << 16, n - got))
                if not data:
                    break
                h.update(data)
                got += len(data)
            conn.sendall(f"{h.hexdigest()} {got}\n".encode())
        else:
            conn.sendall(payload_bytes(n, int(seed)))
        conn.shutdown(socket.SHUT_WR)
        conn.close()
        print(f"served {cmd} {n}", flush=True)
    return 0


def tcp_client(addr, port, direction, n, seed, timeout):
    data = payload_bytes(n, seed)
    want = hashlib.sha256(data).hexdigest()
    start = time.monotonic()
    conn = socket.create_connection((addr, port), timeout=timeout)
    conn.sendall(f"{direction} {n} {seed}\n".encode())
    if direction == "UP":
        conn.sendall(data)
        reply = b""
        while True:
            chunk = conn.recv(256)
            if not chunk:
                break
            reply += chunk
        digest, got = reply.decode().split()
        got = int(got)
    else:
        h = hashlib.sha256()
        got = 0
        while True:
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
        digest = h.hexdigest()
    seconds = time.monotonic() - start
    result = {"direction": direction, "bytes": got, "sha256_ok": digest == want,
              "seconds": round(seconds, 3)}
    print(json.dumps(result), flush=True)
    return 0 if digest == want and got == n else 1


# ---------------------------------------------------------------------------
# processes


class Procs:
    """Every long-running process the test starts; stopped by pid."""

    def __init__(self, work):
        self.work = work
        self.running = []

    def start(self, name, ns, argv):
        out = os.path.join(self.work, f"{name}.out")
        err = os.path.join(self.work, f"{name}.err")
        cmd = (["ip", "netns", "exec", ns] if ns else []) + argv
        with open(out, "wb") as o, open(err, "wb") as e:
            p = subprocess.Popen(cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        p.name, p.out, p.err = name, out, err
        self.running.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"   {p.name} (pid {p.pid}) ignored signal {sig}; killing")
                p.kill()
                p.wait(timeout=5)
        if p in self.running:
            self.running.remove(p)
        return p.returncode

    def stop_all(self):
        for p in list(reversed(self.running)):
            try:
                self.stop(p, timeout=5)
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                log(f"   cannot stop {p.name}: {e}")


def text_of(path, tail=None):
    try:
        with open(path, errors="replace") as f:
            data = f.read()
    except FileNotFoundError:
        return ""
    if tail:
        data = "\n".join(data.splitlines()[-tail:])
    return data


def wait_for(what, predicate, timeout, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{proc.name} exited ({proc.returncode}) while waiting for {what}:\n"
                          f"{text_of(proc.err, 30)}")
        time.sleep(0.1)
    raise Failure(f"timed out after {timeout}s waiting for {what}")


def run(ns, argv, timeout, check_rc=False):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + argv
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Failure(f"'{' '.join(argv)}' in {ns} did not finish in {timeout}s") from None
    if check_rc and r.returncode != 0:
        raise Failure(f"'{' '.join(argv)}' in {ns} failed ({r.returncode}): {r.stderr.strip()}")
    return r


# ---------------------------------------------------------------------------
# transforms and keys


class Transform:
    def __init__(self, name, key_len, salt_len, auth_len, tshark_enc, tshark_auth, scapy_enc,
                 scapy_auth):
        self.name, self.key_len, self.salt_len, self.auth_len = name, key_len, salt_len, auth_len
        self.tshark_enc, self.tshark_auth = tshark_enc, tshark_auth
        self.scapy_enc, self.scapy_auth = scapy_enc, scapy_auth


GCM128 = Transform("aes128gcm16", 16, 4, 0, "AES-GCM with 16 octet ICV [RFC4106]", "NULL",
                   "AES-GCM", None)
CBC128 = Transform("aes128-sha256", 16, 0, 32, "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]",
                   "AES-CBC", "SHA2-256-128")


class SaKeys:
    def __init__(self, tr, spi):
        self.spi = spi
        self.key = os.urandom(tr.key_len)
        self.salt = os.urandom(tr.salt_len)
        self.auth = os.urandom(tr.auth_len)


# ---------------------------------------------------------------------------
# the lab


class Lab:
    def __init__(self, lab_sh, runid, options):
        self.lab_sh, self.runid = lab_sh, runid
        r = subprocess.run([lab_sh, "up", runid] + options, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise Failure(f"lab.sh up {runid} failed: {r.stderr.strip()}")
        self.env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        self.up = True

    def __getitem__(self, key):
        return self.env[key]

    def down(self):
        if self.up:
            r = subprocess.run([self.lab_sh, "down", self.runid], capture_output=True, text=True,
                               timeout=60)
            if r.returncode != 0:
                log(f"   lab.sh down {self.runid}: {r.stderr.strip()}")
            self.up = False


def dataplane_config(lab, tr, keys_in, keys_out, work, runid):
    def sa(direction, k):
        lines = [
            "[[dataplane.sa]]",
            f'direction = "{direction}"',
            f"spi = {k.spi:#x}",
            f'transform = "{tr.name}"',
            f'key = "{k.key.hex()}"',
        ]
        if k.salt:
            lines.append(f'salt = "{k.salt.hex()}"')
        if k.auth:
            lines.append(f'auth_key = "{k.auth.hex()}"')
        lines += [
            f'local = "{lab["LAB_GW_OUTSIDE_ADDR"].split("/")[0]}"',
            f'remote = "{lab["LAB_CLIENT_PUBLIC"]}"',
            "udp_encap = true",
            f"local_port = {NAT_T_PORT}",
            f"remote_port = {NAT_T_PORT}",
        ]
        return "\n".join(lines)

    eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix",
           f"tvlab-{runid}", "-l", "0-1"]
    return f"""# generated by dataplane_lab_test.py for lab {runid}
[dataplane]
workers = 1
mbufs = 8192
eal = {json.dumps(eal)}
api_socket = "{work}/dataplane.sock"

[dataplane.outside]
device = "net_af_packet0,iface={lab["LAB_GW_OUTSIDE_IF"]}"
address = "{lab["LAB_GW_OUTSIDE_ADDR"]}"
gateway = "{lab["LAB_GW_OUTSIDE_GATEWAY"]}"
tap = "tvout"

[dataplane.inside]
device = "net_af_packet1,iface={lab["LAB_GW_INSIDE_IF"]}"
address = "{lab["LAB_GW_INSIDE_ADDR"]}"
tap = "tvin"

{sa("inbound", keys_in)}

{sa("outbound", keys_out)}

[[dataplane.policy]]
selector = "{lab["LAB_CLIENT_INNER"]}/32"
spi = {keys_out.spi:#x}
"""


def peer_argv(binary, tr, out_keys, in_keys, extra):
    argv = [binary, "--transform", tr.name,
            "--out-spi", hex(out_keys.spi), "--out-key", out_keys.key.hex(),
            "--in-spi", hex(in_keys.spi), "--in-key", in_keys.key.hex(),
            "--run-seconds", str(BACKSTOP_S)]
    if tr.salt_len:
        argv += ["--out-salt", out_keys.salt.hex(), "--in-salt", in_keys.salt.hex()]
    if tr.auth_len:
        argv += ["--out-auth-key", out_keys.auth.hex(), "--in-auth-key", in_keys.auth.hex()]
    return argv + extra


# ---------------------------------------------------------------------------
# checks


def parse_ping(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    rtt = re.search(r"= [\d.]+/([\d.]+)/", out)
    return sent, got, rtt.group(1) if rtt else "-"


def ping(ns, dst, count, extra=(), timeout=30):
    r = run(ns, ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", *extra, dst], timeout)
    return r.stdout + r.stderr


def warm_up(lab, budget=20):
    """Pings until one reply: ARP/neighbor resolution and NAT mapping settle."""
    end = time.monotonic() + budget
    tries = 0
    while time.monotonic() < end:
        tries += 1
        r = run(lab["LAB_NS_CLIENT"], ["ping", "-n", "-c", "1", "-W", "1",
                                       lab["LAB_SERVER_ADDR"]], 5)
        if r.returncode == 0:
            log(f"-- warm-up: first reply after {tries} ping(s)")
            return
    raise Failure(f"no ping reply from {lab['LAB_SERVER_ADDR']} through the tunnel in {budget}s "
                  f"({tries} tries)")


def start_capture(procs, name, ns, iface, bpf, work):
    path = os.path.join(work, f"{name}.pcap")
    p = procs.start(name, ns, ["timeout", "-s", "INT", str(BACKSTOP_S), "tcpdump", "-n", "-i",
                               iface, "-U", "-s", "0", "-w", path, bpf])
    wait_for(f"tcpdump on {iface}", lambda: "listening on" in text_of(p.err), 10, p)
    p.pcap = path
    return p


def stop_capture(procs, p):
    time.sleep(0.5)  # the last packets reach the ring
    procs.stop(p, signal.SIGINT)
    summary = [line for line in text_of(p.err).splitlines() if "packets" in line]
    log(f"   capture {p.name}: {'; '.join(summary)}")
    return p.pcap


def tcp_transfers(lab, procs, script, work):
    server_ns, client_ns = lab["LAB_NS_SERVER"], lab["LAB_NS_CLIENT"]
    srv = procs.start("tcp-server", server_ns, [sys.executable, script, "_tcp_server",
                                                lab["LAB_SERVER_ADDR"], str(TCP_PORT), "2", "60"])
    wait_for("the TCP server", lambda: "listening" in text_of(srv.out), 10, srv)
    results = []
    for direction, seed in (("UP", 1), ("DOWN", 2)):
        r = run(client_ns, [sys.executable, script, "_tcp_client", lab["LAB_SERVER_ADDR"],
                            str(TCP_PORT), direction, str(TCP_BYTES), str(seed), "30"], 90)
        line = (r.stdout.strip().splitlines() or ["{}"])[-1]
        try:
            res = json.loads(line)
        except json.JSONDecodeError:
            res = {}
        what = "client -> server" if direction == "UP" else "server -> client"
        log(f"-- TCP {what}: {res or r.stderr.strip()[-300:]}")
        check(r.returncode == 0 and res.get("sha256_ok") and res.get("bytes") == TCP_BYTES,
              f"TCP {what}: {TCP_BYTES} bytes arrive with the right SHA-256")
        results.append(res)
    try:
        srv.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    procs.stop(srv)
    return results


def read_ipv4(pcap):
    """(IPv4 packet bytes) per frame of an Ethernet or raw-IP capture."""
    from scapy.utils import RawPcapReader

    reader = RawPcapReader(pcap)
    try:
        linktype = reader.linktype
        for data, _meta in reader:
            if linktype == 1:  # Ethernet
                if len(data) < 34 or data[12:14] != b"\x08\x00":
                    continue
                data = data[14:]
            elif linktype not in (12, 101):  # raw IP
                continue
            if data and data[0] >> 4 == 4:
                yield data
    finally:
        reader.close()


def ip_text(b):
    return socket.inet_ntoa(b)


def decrypt_with_scapy(pcap, sas):
    """Decrypts every ESP-in-UDP packet of the capture with scapy; a summary.

    Outer headers are parsed by hand (fast); scapy does the ESP work and
    dissects the inner packets."""
    from scapy.layers.inet import ICMP, IP, TCP
    from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation

    scapy_sas = {}
    for spi, (tr, keys, src, dst) in sas.items():
        kwargs = dict(spi=spi, crypt_algo=tr.scapy_enc, crypt_key=keys.key + keys.salt,
                      tunnel_header=IP(src=src, dst=dst))
        if tr.scapy_auth:
            kwargs.update(auth_algo=tr.scapy_auth, auth_key=keys.auth)
        scapy_sas[spi] = SecurityAssociation(ESP, **kwargs)
    s = {"esp": {}, "keepalive": {}, "ike": 0, "bad_icv": 0, "unknown_spi": 0, "outer_frag": 0,
         "icmp": {}, "tcp": {}, "tcp_payload": {}, "other_inner": 0, "max_outer": {},
         "icmp_errors": [], "max_outer_after_icmp": {}}
    for ip in read_ipv4(pcap):
        ihl = (ip[0] & 0x0F) * 4
        total = int.from_bytes(ip[2:4], "big")
        ip = ip[:total]
        proto, src, dst = ip[9], ip_text(ip[12:16]), ip_text(ip[16:20])
        frag = int.from_bytes(ip[6:8], "big")
        if proto == 1 and len(ip) >= ihl + 8 and ip[ihl] == 3:
            # Destination unreachable: (from, to, code, next-hop MTU).
            s["icmp_errors"].append((src, dst, ip[ihl + 1],
                                     int.from_bytes(ip[ihl + 6:ihl + 8], "big")))
            continue
        if frag & 0x3FFF:
            s["outer_frag"] += 1
            continue
        if proto != 17 or len(ip) < ihl + 8:
            continue
        sport = int.from_bytes(ip[ihl:ihl + 2], "big")
        dport = int.from_bytes(ip[ihl + 2:ihl + 4], "big")
        if NAT_T_PORT not in (sport, dport):
            continue
        data = ip[ihl + 8:]
        if data == b"\xff":
            s["keepalive"][src] = s["keepalive"].get(src, 0) + 1
            continue
        if data[:4] == b"\0\0\0\0":
            s["ike"] += 1
            continue
        spi = int.from_bytes(data[:4], "big")
        if spi not in scapy_sas:
            s["unknown_spi"] += 1
            continue
        key = f"{src}->{dst} spi {spi:#x}"
        s["esp"][key] = s["esp"].get(key, 0) + 1
        s["max_outer"][key] = max(s["max_outer"].get(key, 0), total)
        if s["icmp_errors"]:
            after = s["max_outer_after_icmp"]
            after[key] = max(after.get(key, 0), total)
        # The same packet as plain ESP (protocol 50) for scapy.
        header = bytearray(ip[:20])
        header[0] = 0x45
        header[2:4] = (20 + len(data)).to_bytes(2, "big")
        header[9] = 50
        try:
            inner = scapy_sas[spi].decrypt(IP(bytes(header) + data))
        except IPSecIntegrityError:
            s["bad_icv"] += 1
            continue
        flow = f"{inner.src}->{inner.dst}"
        if inner.haslayer(ICMP):
            k = f"{flow} icmp type {inner[ICMP].type}"
            s["icmp"][k] = s["icmp"].get(k, 0) + 1
        elif inner.haslayer(TCP):
            s["tcp"][flow] = s["tcp"].get(flow, 0) + 1
            s["tcp_payload"][flow] = s["tcp_payload"].get(flow, 0) + len(inner[TCP].payload)
        else:
            s["other_inner"] += 1
    return s


def count_esp(pcap):
    """ESP-in-UDP packets and keepalives per direction, without decrypting."""
    counts = {}
    for ip in read_ipv4(pcap):
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or len(ip) < ihl + 12:
            continue
        kind = "keepalive" if ip[ihl + 8:] == b"\xff" else "esp"
        k = f"{ip_text(ip[12:16])}->{ip_text(ip[16:20])} {kind}"
        counts[k] = counts.get(k, 0) + 1
    return counts


def decrypt_with_tshark(pcap, sas):
    prefs = ["-o", "esp.enable_encryption_decode:TRUE",
             "-o", "esp.enable_authentication_check:TRUE"]
    for spi, (tr, keys, src, dst) in sas.items():
        auth = "0x" + keys.auth.hex() if keys.auth else ""
        prefs += ["-o", f'uat:esp_sa:"IPv4","{src}","{dst}","{spi:#010x}","{tr.tshark_enc}",'
                        f'"0x{(keys.key + keys.salt).hex()}","{tr.tshark_auth}","{auth}"']
    r = run(None, ["tshark", "-n", "-r", pcap, *prefs, "-Y", "esp", "-T", "fields",
                   "-e", "esp.spi", "-e", "esp.icv_good", "-e", "esp.icv_bad", "-e", "ip.src",
                   "-e", "ip.dst", "-e", "ip.proto", "-E", "occurrence=a"], 120)
    if r.returncode != 0:
        raise Failure(f"tshark failed: {r.stderr.strip()}")
    t = {"esp": 0, "icv_good": 0, "icv_bad": 0, "inner": {}}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 6:
            continue
        t["esp"] += 1
        t["icv_good"] += f[1] == "1"
        t["icv_bad"] += f[2] == "1"
        srcs, dsts, protos = f[3].split(","), f[4].split(","), f[5].split(",")
        if len(srcs) >= 2 and len(protos) >= 2:
            proto = {"1": "icmp", "6": "tcp"}.get(protos[1], protos[1])
            k = f"{srcs[1]}->{dsts[1]} {proto}"
            t["inner"][k] = t["inner"].get(k, 0) + 1
    return t


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def nonzero(counters):
    return {k: v for k, v in sorted(counters.items()) if v and not isinstance(v, list)}


def sa_stats(g, direction, spi):
    """The per-SA entry of the dataplane's stats JSON, or None."""
    for sa in g.get("sas") or []:
        if sa.get("direction") == direction and sa.get("spi") == spi:
            return sa
    return None


# Dataplane counters that must stay zero in a clean run.
MUST_BE_ZERO = [
    "tx_dropped", "tap_dropped", "handoff_dropped", "no_inbound_sa", "no_outbound_sa",
    "malformed_l3", "mbuf_exhausted", "prefragment_failed", "event_dropped",
    "reassembly_failed", "sa_hard_expired", "esp_bad_icv", "esp_replay_duplicate",
    "esp_replay_too_old", "esp_bad_padding", "esp_bad_length", "esp_spi_mismatch",
    "esp_bad_inner_packet", "esp_unknown_next_header", "esp_no_headroom", "esp_no_tailroom",
    "esp_too_big", "esp_bad_outer_header", "outside_ierrors", "inside_ierrors",
]


# ---------------------------------------------------------------------------
# scenarios


class Run:
    """One scenario: a lab, a gateway, a client; cleaned up by close()."""

    def __init__(self, args, name, tr, router_mtu=None):
        self.args, self.name, self.tr = args, name, tr
        self.runid = f"{os.getpid() % 100000}{name}"
        self.work = tempfile.mkdtemp(prefix=f"tvlab-{self.runid}-")
        self.procs = Procs(self.work)
        self.lab = None
        self.router_mtu = router_mtu
        self.keys_in = SaKeys(tr, SPI_IN)
        self.keys_out = SaKeys(tr, SPI_OUT)
        self.gw = self.client = None
        self.gw_stats = self.client_stats = None

    def close(self, failed):
        self.procs.stop_all()
        if failed:
            for what, path in (("gateway", getattr(self, "gw_stats_path", "")),
                               ("client", getattr(self, "client_stats_path", ""))):
                stats = load_json(path) if path else None
                if stats is not None and (what == "gateway" and self.gw_stats is None
                                          or what == "client" and self.client_stats is None):
                    log(f"   {what} counters at exit: {nonzero(stats)}")
        if self.lab:
            self.lab.down()
        if failed or self.args.keep:
            log(f"   logs and captures kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def setup(self):
        options = ["--kernel-gw"] if self.args.peer_gateway else []
        if self.router_mtu:
            options += ["--router-mtu", str(self.router_mtu)]
        self.lab = Lab(self.args.lab_sh, self.runid, options)
        lab = self.lab
        log(f"-- lab {self.runid} up: client {lab['LAB_CLIENT_ADDR']} (public "
            f"{lab['LAB_CLIENT_PUBLIC']}), gw {lab['LAB_GW_OUTSIDE_ADDR']} / "
            f"{lab['LAB_GW_INSIDE_ADDR']}, server {lab['LAB_SERVER_ADDR']}"
            + (f", router MTU {self.router_mtu}" if self.router_mtu else ""))
        log(f"   transform {self.tr.name}; SA in spi {SPI_IN:#x} key {self.keys_in.key.hex()}"
            f"{self.keys_in.salt.hex()} auth {self.keys_in.auth.hex() or '-'}; SA out spi "
            f"{SPI_OUT:#x} key {self.keys_out.key.hex()}{self.keys_out.salt.hex()} auth "
            f"{self.keys_out.auth.hex() or '-'}")
        self.start_gateway()
        # Captured from before the client's first packet: the peer end of the
        # gateway's outside veth sees both directions whatever the port does.
        self.cap_out = start_capture(self.procs, "outside", lab["LAB_GW_OUTSIDE_PEER_NS"],
                                     lab["LAB_GW_OUTSIDE_PEER_IF"],
                                     f"udp port {NAT_T_PORT} or icmp", self.work)
        self.cap_gw = None
        if not self.args.peer_gateway and not self.router_mtu:
            # Also on the port itself, for comparison: af_packet's TX with
            # qdisc bypass may never reach the kernel's capture taps.
            self.cap_gw = start_capture(self.procs, "gw-out0", lab["LAB_NS_GW"],
                                        lab["LAB_GW_OUTSIDE_IF"], f"udp port {NAT_T_PORT}",
                                        self.work)
        # The client: a road warrior behind the NAT. A small TUN MTU on the
        # low-MTU path, so its own ESP packets fit the router's link.
        mtu = 1300 if self.router_mtu else 1400
        self.client_stats_path = os.path.join(self.work, "client-stats.json")
        argv = peer_argv(self.args.esp_tun_peer, self.tr, self.keys_in, self.keys_out, [
            "--tun", "tv0", "--address", f"{lab['LAB_CLIENT_INNER']}/32",
            "--route", lab["LAB_SERVER_PREFIX"], "--mtu", str(mtu),
            "--remote", lab["LAB_GW_OUTSIDE_ADDR"].split("/")[0], "--keepalive", "2",
            "--stats-json", self.client_stats_path])
        self.client = self.procs.start("client-peer", lab["LAB_NS_CLIENT"], argv)
        wait_for("esp-tun-peer in the client namespace",
                 lambda: "esp-tun-peer: tun" in text_of(self.client.err), 10, self.client)
        log(f"-- client: {text_of(self.client.err).splitlines()[0]}")

    def start_gateway(self):
        lab = self.lab
        self.gw_stats_path = os.path.join(self.work, "gw-stats.json")
        if self.args.peer_gateway:
            mtu = 1300 if self.router_mtu else 1400
            argv = peer_argv(self.args.esp_tun_peer, self.tr, self.keys_out, self.keys_in, [
                "--tun", "tvgw", "--route", lab["LAB_CLIENT_INNER_PREFIX"], "--mtu", str(mtu),
                "--stats-json", self.gw_stats_path])
            self.gw = self.procs.start("gw-peer", lab["LAB_NS_GW"], argv)
            wait_for("esp-tun-peer in the gw namespace",
                     lambda: "esp-tun-peer: tun" in text_of(self.gw.err), 10, self.gw)
            log(f"-- gateway (peer): {text_of(self.gw.err).splitlines()[0]}")
            return
        config = os.path.join(self.work, "dataplane.toml")
        with open(config, "w") as f:
            f.write(dataplane_config(lab, self.tr, self.keys_in, self.keys_out, self.work,
                                     self.runid))
        self.gw = self.procs.start("dataplane", lab["LAB_NS_GW"], [
            self.args.dataplane, "--config", config, "--run-seconds", str(BACKSTOP_S),
            "--stats-json", self.gw_stats_path])
        wait_for("traverse-dataplane to run",
                 lambda: "running with" in text_of(self.gw.err), 60, self.gw)
        # The exception TAPs carry the gateway's addresses (ARP, ping).
        for tap, addr in (("tvout", lab["LAB_GW_OUTSIDE_ADDR"]),
                          ("tvin", lab["LAB_GW_INSIDE_ADDR"])):
            wait_for(f"TAP {tap} with {addr}",
                     lambda: addr in run(lab["LAB_NS_GW"], ["ip", "-br", "addr", "show", tap],
                                         5).stdout, 15, self.gw)
        log(f"-- gateway (traverse-dataplane): "
            f"{text_of(self.gw.err).strip().splitlines()[-1]}")

    def stop_client(self):
        rc = self.procs.stop(self.client)
        self.client_stats = load_json(self.client_stats_path) or {}
        log(f"-- client peer stopped ({rc}); counters: {nonzero(self.client_stats)}")

    def stop_gateway(self):
        rc = self.procs.stop(self.gw, timeout=20)
        self.gw_stats = load_json(self.gw_stats_path)
        if self.gw_stats is None:
            raise Failure(f"gateway exited ({rc}) without writing {self.gw_stats_path}:\n"
                          f"{text_of(self.gw.err, 30)}")
        log(f"-- gateway stopped ({rc}); non-zero counters: {nonzero(self.gw_stats)}")
        check(rc == 0, f"gateway exited cleanly on SIGTERM (exit {rc})")

    # -- the traffic scenario (gcm, cbc) ------------------------------------

    def traffic(self):
        lab = self.lab
        warm_up(lab)
        out = ping(lab["LAB_NS_CLIENT"], lab["LAB_SERVER_ADDR"], 10)
        sent, got, rtt = parse_ping(out)
        log(f"-- ping client -> server {lab['LAB_SERVER_ADDR']}: {got}/{sent} replies, "
            f"avg rtt {rtt} ms")
        check(sent == 10 and got == 10, "ping client -> server: 10 of 10 replies")
        out = ping(lab["LAB_NS_SERVER"], lab["LAB_CLIENT_INNER"], 5)
        sent, got, rtt = parse_ping(out)
        log(f"-- ping server -> client {lab['LAB_CLIENT_INNER']}: {got}/{sent} replies, "
            f"avg rtt {rtt} ms")
        check(sent == 5 and got == 5, "ping server -> client: 5 of 5 replies")
        tcp_transfers(lab, self.procs, os.path.abspath(__file__), self.work)

        time.sleep(2.5)  # at least one more keepalive
        # The client first: the capture then holds everything it sent.
        self.stop_client()
        pcap = stop_capture(self.procs, self.cap_out)
        gw_pcap = stop_capture(self.procs, self.cap_gw) if self.cap_gw else None
        self.stop_gateway()

        public, gw_addr = lab["LAB_CLIENT_PUBLIC"], lab["LAB_GW_OUTSIDE_ADDR"].split("/")[0]
        sas = {SPI_IN: (self.tr, self.keys_in, public, gw_addr),
               SPI_OUT: (self.tr, self.keys_out, gw_addr, public)}
        t0 = time.monotonic()
        s = decrypt_with_scapy(pcap, sas)
        log(f"-- scapy decrypted the outside capture in {time.monotonic() - t0:.1f}s: "
            f"ESP {s['esp']}, keepalives {s['keepalive']}, bad ICV {s['bad_icv']}, unknown SPI "
            f"{s['unknown_spi']}, outer fragments {s['outer_frag']}, largest outer "
            f"{s['max_outer']}")
        log(f"   inner ICMP {s['icmp']}")
        log(f"   inner TCP packets {s['tcp']}, TCP payload bytes {s['tcp_payload']}")
        t = decrypt_with_tshark(pcap, sas)
        log(f"-- tshark: {t['esp']} ESP packets, ICV good {t['icv_good']}, bad {t['icv_bad']}; "
            f"inner {t['inner']}")

        client, server = lab["LAB_CLIENT_INNER"], lab["LAB_SERVER_ADDR"]
        up_key = f"{public}->{gw_addr} spi {SPI_IN:#x}"
        down_key = f"{gw_addr}->{public} spi {SPI_OUT:#x}"
        esp_up, esp_down = s["esp"].get(up_key, 0), s["esp"].get(down_key, 0)
        check(s["bad_icv"] == 0 and s["unknown_spi"] == 0,
              "scapy: every ESP packet in the capture authenticates")
        check(esp_up > 0 and esp_down > 0 and sum(s["esp"].values()) == esp_up + esp_down,
              f"ESP flows only {public}:{NAT_T_PORT} <-> {gw_addr}:{NAT_T_PORT}, both ways")
        check(s["icmp"].get(f"{client}->{server} icmp type 8", 0) >= 10
              and s["icmp"].get(f"{server}->{client} icmp type 0", 0) >= 10,
              "scapy: the client's echo requests and the server's replies are inside")
        check(s["icmp"].get(f"{server}->{client} icmp type 8", 0) >= 5
              and s["icmp"].get(f"{client}->{server} icmp type 0", 0) >= 5,
              "scapy: the server's echo requests and the client's replies are inside")
        check(s["tcp_payload"].get(f"{client}->{server}", 0) >= TCP_BYTES
              and s["tcp_payload"].get(f"{server}->{client}", 0) >= TCP_BYTES,
              f"scapy: at least {TCP_BYTES} bytes of TCP payload each way inside")
        check(s["other_inner"] == 0, "scapy: no inner packet other than ICMP and TCP")
        check(s["outer_frag"] == 0, "no outer (ESP) fragments on the wire")
        check(t["esp"] == esp_up + esp_down and t["icv_good"] == t["esp"] and t["icv_bad"] == 0,
              f"tshark: all {t['esp']} ESP packets decrypt with a good ICV")
        check(t["inner"].get(f"{client}->{server} icmp", 0) >= 15
              and t["inner"].get(f"{server}->{client} tcp", 0) > 0
              and t["inner"].get(f"{client}->{server} tcp", 0) > 0,
              "tshark: the inner packets are the test's ICMP and TCP")

        c = self.client_stats
        check(c.get("esp_tx") == esp_up,
              f"client sent {c.get('esp_tx')} ESP packets, the capture saw {esp_up}")
        check(c.get("decrypt_ok") == esp_down and c.get("esp_rx") == esp_down,
              f"client received and decrypted {c.get('decrypt_ok')} of {esp_down} ESP packets "
              f"the capture saw")
        keepalives = s["keepalive"].get(public, 0)
        # The last keepalive may leave after the capture stopped: allow one.
        sent_keepalives = c.get("keepalive_tx", 0)
        check(sent_keepalives >= 2 and sent_keepalives - 1 <= keepalives <= sent_keepalives,
              f"client sent {c.get('keepalive_tx')} NAT keepalives; the capture saw "
              f"{keepalives}")
        if gw_pcap:
            log(f"   info: the capture on the gateway's own port out0 saw {count_esp(gw_pcap)}")
        self.check_gateway_counters(esp_up, esp_down, keepalives)

    def check_gateway_counters(self, esp_up, esp_down, keepalives):
        g = self.gw_stats
        if self.args.peer_gateway:
            check(g.get("decrypt_ok") == esp_up, f"gateway peer decrypted {g.get('decrypt_ok')} "
                  f"of {esp_up} ESP packets")
            check(g.get("esp_tx") == esp_down, f"gateway peer sent {g.get('esp_tx')} ESP "
                  f"packets, the capture saw {esp_down}")
            return
        missing = [k for k in ["decrypted", "encrypted", "nat_keepalive"] + MUST_BE_ZERO
                   if k not in g]
        if missing:
            log(f"   note: counters absent from the stats JSON: {missing}")
        # The capture sits on the veth's far end; af_packet's socket ring can
        # drop a frame before DPDK reads it (the 22.11 PMD reports no imissed
        # for that), and TCP recovers. Allow up to 1% lost there, never more
        # decrypted than captured, and every received ESP packet decrypted.
        decrypted = g.get("decrypted") or 0
        lost = esp_up - decrypted
        check(0 <= lost <= max(2, esp_up // 100)
              and decrypted + (g.get("nat_keepalive") or 0) <= (g.get("rx_outside") or 0),
              f"dataplane decrypted {decrypted} of {esp_up} ESP packets in the capture "
              f"({lost} lost before the port, rx_outside {g.get('rx_outside')})")
        # The next hop is resolved before encryption, so every encrypted
        # packet reached the wire.
        unsent = (g.get("encrypted") or 0) - esp_down
        check(unsent == 0,
              f"dataplane encrypted {g.get('encrypted')} packets = {esp_down} ESP packets in "
              f"the capture ({unsent} unaccounted)")
        check(abs((g.get("nat_keepalive") or 0) - keepalives) <= 1,
              f"dataplane counted {g.get('nat_keepalive')} NAT keepalives = {keepalives} sent")
        bad = {k: g[k] for k in MUST_BE_ZERO if g.get(k)}
        check(not bad, f"no unexpected drops (non-zero: {bad or 'none'})")
        sa_in, sa_out = sa_stats(g, "inbound", SPI_IN), sa_stats(g, "outbound", SPI_OUT)
        log(f"   per-SA: inbound {sa_in}, outbound {sa_out}")
        if "sas" in g:
            check(sa_in and sa_in.get("packets") == decrypted and sa_in.get("drops") == 0,
                  f"inbound SA {SPI_IN:#x}: {decrypted} packets, no drops")
            check(sa_out and sa_out.get("packets") == g.get("encrypted")
                  and sa_out.get("drops") == 0,
                  f"outbound SA {SPI_OUT:#x}: {g.get('encrypted')} packets, no drops")
        # Inner packets the dataplane decrypted went out of the inside port;
        # what it encrypted came in on it (plus ARP and the TAP's own).
        check(g.get("tx_inside", 0) >= decrypted and g.get("rx_inside", 0) >= esp_down,
              f"inside port: tx {g.get('tx_inside')} >= {decrypted} decrypted, rx "
              f"{g.get('rx_inside')} >= {esp_down} encrypted")
        if g.get("outside_imissed") or g.get("inside_imissed"):
            log(f"   note: af_packet ring misses: outside {g.get('outside_imissed')}, inside "
                f"{g.get('inside_imissed')}")

    # -- the low-MTU router scenario (pmtu) -----------------------------------

    def pmtu(self):
        lab = self.lab
        warm_up(lab)
        server_ns, inner = lab["LAB_NS_SERVER"], lab["LAB_CLIENT_INNER"]
        size = 1400  # ICMP payload: a 1428-byte inner packet, too big for the tunnel

        # DF set: the first one is lost (the router tells the gateway), then
        # the gateway answers with "fragmentation needed".
        r = run(server_ns, ["ping", "-n", "-M", "do", "-s", str(size), "-c", "5", "-i", "0.5",
                            "-W", "1", inner], 30)
        out = r.stdout + r.stderr
        log(f"-- ping -M do -s {size} server -> client:\n   "
            + "\n   ".join(out.strip().splitlines()))
        mtus = [int(m) for m in re.findall(r"mtu ?= ?(\d+)", out)]
        require(mtus, "the server got ICMP fragmentation needed (or learned the MTU from it)")
        frag_needed_from = re.findall(r"From ([\d.]+) icmp_seq=\d+ Frag needed", out)
        log(f"   reported MTU(s) {sorted(set(mtus))}, ICMP from {sorted(set(frag_needed_from))}")
        gw_inside = lab["LAB_GW_INSIDE_ADDR"].split("/")[0]
        check(set(frag_needed_from) == {gw_inside},
              f"the ICMP came from the gateway's inside address {gw_inside}")
        check(all(576 <= m < self.router_mtu for m in mtus),
              f"the reported MTU is below the router's {self.router_mtu}")
        route = run(server_ns, ["ip", "route", "get", inner], 5).stdout.strip()
        log(f"   server's route cache: {route}")
        check("mtu" in route, "the server's kernel cached the path MTU toward the client")

        # DF clear: pre-fragmented by the gateway, reassembled by the client.
        cap_tun = start_capture(self.procs, "client-tun", lab["LAB_NS_CLIENT"], "tv0", "icmp",
                                self.work)
        out = run(server_ns, ["ping", "-n", "-M", "dont", "-s", str(size), "-c", "4", "-i",
                              "0.5", "-W", "2", inner], 30).stdout
        sent, got, rtt = parse_ping(out)
        log(f"-- ping -M dont -s {size} server -> client: {got}/{sent} replies, avg rtt {rtt} ms")
        check(got == sent == 4, "every unfragmentable-size ping without DF is answered")
        tun_pcap = stop_capture(self.procs, cap_tun)
        frags = self.inner_fragments(tun_pcap, lab["LAB_SERVER_ADDR"], inner)
        log(f"   at the client's TUN, echo requests by IP id: "
            f"{ {k: v for k, v in frags.items()} }")
        full = [v for v in frags.values() if v["total"] == size + 8 and v["count"] >= 2]
        check(len(full) >= 4, "each request arrived as >= 2 inner fragments adding up to "
              f"{size + 8} bytes of ICMP")
        largest = max([v["largest"] for v in frags.values()] or [0])
        check(largest <= min(mtus), f"every fragment ({largest} bytes at most) fits the "
              f"tunnel MTU {min(mtus)}")

        self.stop_client()
        pcap = stop_capture(self.procs, self.cap_out)
        self.stop_gateway()
        public, gw_addr = lab["LAB_CLIENT_PUBLIC"], lab["LAB_GW_OUTSIDE_ADDR"].split("/")[0]
        sas = {SPI_IN: (self.tr, self.keys_in, public, gw_addr),
               SPI_OUT: (self.tr, self.keys_out, gw_addr, public)}
        s = decrypt_with_scapy(pcap, sas)
        log(f"-- outside capture: ESP {s['esp']}, largest outer {s['max_outer']}, outer "
            f"fragments {s['outer_frag']}, ICMP errors {s['icmp_errors']}, bad ICV "
            f"{s['bad_icv']}")
        check(s["bad_icv"] == 0, "every ESP packet in the capture authenticates")
        if not self.args.peer_gateway:
            check(any(e[1] == gw_addr and e[2] == 4 for e in s["icmp_errors"]),
                  "the router sent the gateway ICMP fragmentation needed")
            after = s["max_outer_after_icmp"].get(f"{gw_addr}->{public} spi {SPI_OUT:#x}", 0)
            check(0 < after <= self.router_mtu,
                  f"after the router's ICMP every ESP packet to the client fits its MTU "
                  f"(largest {after} <= {self.router_mtu})")
            g = self.gw_stats
            log(f"   dataplane: icmp_too_big_sent {g.get('icmp_too_big_sent')}, prefragmented "
                f"{g.get('prefragmented')}, pmtu_icmp_rejected {g.get('pmtu_icmp_rejected')}, "
                f"pmtu_icmp_rejected_by_control {g.get('pmtu_icmp_rejected_by_control')}")
            check(g.get("icmp_too_big_sent", 0) >= 1, "dataplane counted ICMP too-big sent")
            check(g.get("prefragmented", 0) >= 1, "dataplane counted pre-fragmented packets")
            sa_out = sa_stats(g, "outbound", SPI_OUT)
            log(f"   outbound SA: {sa_out}")
            if "sas" in g:
                check(sa_out and sa_out.get("path_mtu") == self.router_mtu,
                      f"the outbound SA's path MTU is the router's {self.router_mtu}")
            bad = {k: g[k] for k in MUST_BE_ZERO if g.get(k)}
            check(not bad, f"no unexpected drops (non-zero: {bad or 'none'})")

    @staticmethod
    def inner_fragments(pcap, src, dst):
        """Per IP id of the packets src -> dst: fragment count, payload sum, largest."""
        out = {}
        for ip in read_ipv4(pcap):
            if ip_text(ip[12:16]) != src or ip_text(ip[16:20]) != dst:
                continue
            total = int.from_bytes(ip[2:4], "big")
            v = out.setdefault(int.from_bytes(ip[4:6], "big"),
                               {"count": 0, "total": 0, "largest": 0})
            v["count"] += 1
            v["total"] += total - (ip[0] & 0x0F) * 4
            v["largest"] = max(v["largest"], total)
        return out


SCENARIOS = {
    "gcm": (GCM128, None, "traffic"),
    "cbc": (CBC128, None, "traffic"),
    "pmtu": (GCM128, 1400, "pmtu"),
}


# ---------------------------------------------------------------------------


def find_binary(args, attr, build_rel):
    path = getattr(args, attr)
    if not path and args.build_dir:
        path = os.path.join(args.build_dir, build_rel)
    return path


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_tcp_server":
        a = sys.argv[2:]
        return tcp_server(a[0], int(a[1]), int(a[2]), float(a[3]))
    if len(sys.argv) > 1 and sys.argv[1] == "_tcp_client":
        a = sys.argv[2:]
        return tcp_client(a[0], int(a[1]), a[2], int(a[3]), int(a[4]), float(a[5]))

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", help="meson build dir (finds the binaries)")
    ap.add_argument("--dataplane", help="traverse-dataplane binary")
    ap.add_argument("--esp-tun-peer", help="esp-tun-peer binary")
    ap.add_argument("--lab-sh", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "lab.sh"))
    ap.add_argument("--peer-gateway", action="store_true",
                    help="an esp-tun-peer plays the gateway (no DPDK)")
    ap.add_argument("--scenarios", default="gcm,cbc,pmtu")
    ap.add_argument("--keep", action="store_true", help="keep logs and captures")
    args = ap.parse_args()
    args.esp_tun_peer = find_binary(args, "esp_tun_peer", "tests/lab/esp-tun-peer")
    args.dataplane = find_binary(args, "dataplane", "dataplane/engine/traverse-dataplane")
    needed = [("esp-tun-peer", args.esp_tun_peer)]
    if not args.peer_gateway:
        needed.append(("traverse-dataplane", args.dataplane))
    for what, path in needed:
        if not path or not os.access(path, os.X_OK):
            log(f"FAIL: {what} not found ({path}); pass --build-dir or --{what.split('-')[-1]}")
            return 2
    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces, TUN)")
        return 77
    for tool in ("ip", "nft", "tcpdump", "tshark", "ping", "timeout"):
        if not shutil.which(tool):
            log(f"FAIL: {tool} is not installed")
            return 2

    def on_signal(signum, _frame):
        raise Failure(f"interrupted by signal {signum}")

    def on_deadline(_signum, _frame):
        raise Failure(f"deadline of {DEADLINE_S}s passed")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(DEADLINE_S)

    mode = "esp-tun-peer as gateway" if args.peer_gateway else f"dataplane {args.dataplane}"
    results = {}
    start = time.monotonic()
    for name in args.scenarios.split(","):
        tr, router_mtu, kind = SCENARIOS[name]
        log(f"\n== scenario {name}: {tr.name}, {mode}"
            + (f", router MTU {router_mtu}" if router_mtu else ""))
        scenario = None
        failed = True
        stop = False
        t0 = time.monotonic()
        FAILED_CHECKS.clear()
        try:
            scenario = Run(args, name, tr, router_mtu)
            scenario.setup()
            getattr(scenario, kind)()
            if FAILED_CHECKS:
                raise Failure(f"{len(FAILED_CHECKS)} check(s) failed: {FAILED_CHECKS}")
            failed = False
            results[name] = "PASS"
        except Exception as e:  # noqa: BLE001 - any error fails the scenario, then cleanup
            results[name] = "FAIL"
            stop = "interrupted" in str(e) or "deadline" in str(e)
            if isinstance(e, Failure):
                log(f"FAIL [{name}]: {e}")
            else:
                log(f"FAIL [{name}]: {traceback.format_exc()}")
            if scenario and scenario.gw is not None:
                log(f"   gateway stderr (tail):\n{text_of(scenario.gw.err, 15)}")
            if scenario and scenario.client is not None:
                log(f"   client stderr (tail):\n{text_of(scenario.client.err, 15)}")
        finally:
            # The cleanup is not cut short by the deadline or a second signal.
            signal.alarm(0)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if scenario:
                scenario.close(failed)
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        log(f"== scenario {name}: {results[name]} in {time.monotonic() - t0:.1f}s")
        remaining = DEADLINE_S - int(time.monotonic() - start)
        if stop or remaining <= 0:
            break
        signal.alarm(remaining)
    signal.alarm(0)
    log(f"\nresults: {results} ({time.monotonic() - start:.1f}s)")
    return 0 if results and all(v == "PASS" for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
