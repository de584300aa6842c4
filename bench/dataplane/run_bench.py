#!/usr/bin/python3
"""Dataplane benchmark driver (scripts/bench-dataplane.sh runs it).

Runs traverse-dataplane on net_pcap vdevs that replay a prepared capture
forever (infinite_rx) and drop on transmit, for each case of

    direction outbound/inbound x size 64/512/1420/IMIX x encap ESP/UDP
    x SAs 1/100000 x workers 1/2, AES-128-GCM,

and, in the same run, the harness ceiling of each input (I/O alone:
dpdk-testpmd --forward-mode=io on the same vdev and capture; cipher alone:
raw ipsec-mb AES-128-GCM for the same ESP payload lengths, bench/dataplane/
gcm_cost.cc) and DPDK's ipsec-secgw (outbound, plain ESP, one lcore) on the
same outbound captures.

Sizes are Ethernet frame lengths of the inner packet (no FCS): what the
inside port carries. IMIX is the simple IMIX 7:4:1 of 64/594/1420-byte frames
(the classic 64/594/1518 with the large packet capped at 1420 so that its ESP
packet fits the 1500-byte outside MTU, like the 1420 case). Gbps counts inner
IP bytes (frame - 14).

Every rate is also divided by the CPU time the measuring thread(s) actually
got (/proc/PID/task/TID/schedstat) over the same window: on a loaded machine
this per-core rate is the better estimate of what a dedicated core does, and
the targets are judged on it. On a quiet machine both are the same.

usage: run_bench.py --build BUILD [--quick] [--out DIR] [--seconds N]
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SIZES = {
    "64": [(64, 1)],
    "512": [(512, 1)],
    "1420": [(1420, 1)],
    "imix": [(64, 7), (594, 4), (1420, 1)],
}
ETH = 14
SPI_BASE = 0x1000
GW_OUT, ROUTER_MAC, SERVER_MAC = "192.0.2.1", "02:00:00:00:0f:fe", "02:00:00:00:0a:0a"

# Counters of the dataplane's "measured" object that are not drops.
NOT_DROPS = {"seconds", "rx_outside", "rx_inside", "tx_outside", "tx_inside", "encrypted",
             "decrypted", "handoff_sent", "esp_ok", "outside_ipackets", "outside_opackets",
             "inside_ipackets", "inside_opackets", "inbound_sas", "outbound_sas", "from_tap",
             "neighbor_learned", "reassembled", "reassembly_pending", "mss_clamped",
             "pmtu_lowered"}


def log(msg):
    print(msg, flush=True)


def sizes_arg(size):
    return ",".join(f"{f}:{w}" for f, w in SIZES[size])


def esp_payload(frame):
    """Bytes the cipher covers for an inner frame: inner IP + pad + trailer (GCM: 4-byte blocks)."""
    ip = frame - ETH
    return ip + ((-(ip + 2)) & 3) + 2


def mean_inner_bytes(size):
    total = sum(w for _, w in SIZES[size])
    return sum((f - ETH) * w for f, w in SIZES[size]) / total


def median_by(items, key):
    """The middle item by `key` (the lower middle of an even count)."""
    ordered = sorted(items, key=key)
    return ordered[(len(ordered) - 1) // 2]


def loadavg():
    return round(os.getloadavg()[0], 2)


class CpuSampler(threading.Thread):
    """Samples the on-CPU time of a process's threads whose name starts with
    `prefix` (None: every thread) every 50 ms: [(wall, {thread: cpu_ns})]."""

    def __init__(self, pid, prefix):
        super().__init__(daemon=True)
        self.pid, self.prefix = pid, prefix
        self.samples = []
        self.stop = threading.Event()

    def read(self):
        per_thread = {}
        try:
            tids = os.listdir(f"/proc/{self.pid}/task")
        except OSError:
            return None
        for tid in tids:
            base = f"/proc/{self.pid}/task/{tid}"
            try:
                with open(base + "/comm") as f:
                    name = f.read().strip()
                if self.prefix is not None and not name.startswith(self.prefix):
                    continue
                with open(base + "/schedstat") as f:
                    per_thread[f"{name}/{tid}"] = int(f.read().split()[0])
            except OSError:
                continue
        return per_thread

    def run(self):
        while not self.stop.is_set():
            cpu = self.read()
            if cpu is None:
                break
            self.samples.append((time.monotonic(), cpu))
            time.sleep(0.05)

    def start_time(self):
        """When the sampled threads started working (first CPU increase)."""
        for (t0, c0), (_, c1) in zip(self.samples, self.samples[1:]):
            if sum(c1.values()) - sum(c0.values()) > 5e6:  # 5 ms within 50 ms: polling
                return t0
        return None

    def shares(self, t_from, t_to):
        """CPU seconds per wall second of each thread over [t_from, t_to]."""
        pts = [(t, c) for t, c in self.samples if t_from <= t <= t_to]
        if len(pts) < 3 or pts[-1][0] <= pts[0][0]:
            return None
        (ta, ca), (tb, cb) = pts[0], pts[-1]
        return {k.split("/")[0]: round((cb[k] - ca.get(k, 0)) / 1e9 / (tb - ta), 3) for k in cb}

    def share(self, t_from, t_to):
        """CPU seconds per wall second over [t_from, t_to], all threads (cores-worth)."""
        per = self.shares(t_from, t_to)
        return sum(per.values()) if per else None


def run_with_stats(cmd, pattern, prefix, seconds, measure_from):
    """Runs a DPDK app that prints a cumulative packet counter every second
    (`pattern`, one group), timestamps each line as it arrives and stops the
    app with SIGINT once the counter has been seen over `seconds` -
    `measure_from` seconds after the warm-up. Returns (samples [(t, count)]
    in the window, CpuSampler, all output)."""
    proc = subprocess.Popen(["stdbuf", "-oL"] + cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sampler = CpuSampler(proc.pid, prefix)
    sampler.start()
    samples, lines = [], []

    def reader():
        for line in proc.stdout:
            lines.append(line)
            m = re.search(pattern, line)
            if m:
                samples.append((time.monotonic(), int(m.group(1))))
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    # The first line comes about a second after forwarding starts.
    skip = max(measure_from - 1, 0)
    deadline = time.monotonic() + seconds + 90
    while time.monotonic() < deadline and proc.poll() is None and (
            len(samples) <= skip or samples[-1][0] - samples[skip][0] < seconds - measure_from):
        time.sleep(0.05)
    window = list(samples[skip:])
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    t.join(timeout=5)
    sampler.stop.set()
    sampler.join()
    return window, sampler, "".join(lines)


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.gen = os.path.join(self.build, "bench/dataplane/dataplane-pcap-gen")
        self.gcm = os.path.join(self.build, "bench/dataplane/dataplane-gcm-cost")
        self.dataplane = os.path.join(self.build, "dataplane/engine/traverse-dataplane")
        self.testpmd = shutil.which("dpdk-testpmd")
        self.out = os.path.abspath(args.out or os.path.join(self.build, "bench"))
        os.makedirs(self.out, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="traverse-dpbench-")
        self.prefix = f"tdpb{os.getpid()}"
        self.runs = 0
        self.cipher = {}
        self.io = {}
        self.results = []
        self.issues = []
        self.verify = {}

    # ---- helpers
    def eal_prefix(self):
        self.runs += 1
        return f"{self.prefix}_{self.runs}"

    def packets_for(self, sas, size):
        n = 4096 if sas == 1 else 131072
        block = sum(w for _, w in SIZES[size])
        return (n + block - 1) // block * block

    def gen_input(self, direction, size, sas, encap):
        name = f"{direction}_{size}_{sas}_{encap}"
        pcap = os.path.join(self.work, name + ".pcap")
        # With many SAs, also one capture per queue (flows split by hash): the
        # RSS stand-in that lets each of 2 workers poll its own queue.
        queues = ["--queues", "2"] if sas > 1 else []
        subprocess.run([self.gen, "--direction", direction, "--sizes", sizes_arg(size),
                        "--encap", encap, "--sas", str(sas),
                        "--packets", str(self.packets_for(sas, size)), "--pcap", pcap, *queues],
                       check=True)
        return pcap

    def gen_config(self, direction, size, sas, encap, workers, pcap, **extra):
        cfg = os.path.join(self.work, f"{direction}_{size}_{sas}_{encap}_w{workers}.toml")
        cmd = [self.gen, "--config-only", "--direction", direction, "--sizes", sizes_arg(size),
               "--encap", encap, "--sas", str(sas), "--workers", str(workers),
               "--packets", str(self.packets_for(sas, size)), "--pcap", pcap,
               "--empty-pcap", os.path.join(self.work, "empty.pcap"), "--config", cfg,
               "--file-prefix", self.eal_prefix(),
               "--api-socket", os.path.join(self.work, f"api{self.runs}", "dp.sock")]
        if workers == 2:
            # Three lcores on two cores: main (mostly asleep in ppoll) shares
            # core 0 with the second worker. Many SAs: each worker polls its
            # own queue (flows split by hash, as RSS would); one SA is one
            # flow, so one queue gets everything, as with RSS.
            cmd += ["--lcores", "0@0,1@1,2@0"]
            if sas > 1:
                cmd += ["--queues", "2"]
        if extra.get("tx_pcap"):
            cmd += ["--tx-pcap", extra["tx_pcap"], "--once"]
        subprocess.run(cmd, check=True)
        return cfg

    # ---- ceiling: cipher alone
    def measure_cipher(self):
        lengths = sorted({esp_payload(f) for s in self.sizes for f, _ in SIZES[s]})
        cmd = [self.gcm, "--seconds", "0.3"] + [str(n) for n in lengths]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "1"] + cmd
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        data = json.loads(out)
        self.cipher_info = {"library": data["library"], "arch": data["arch"]}
        for n, c in data["lengths"].items():
            self.cipher[int(n)] = c
        log(f"== cipher alone ({data['library']}, {data['arch']}, one core): " +
            ", ".join(f"{n} B enc {c['enc_ns']:.1f} / dec {c['dec_ns']:.1f} ns"
                      for n, c in sorted(self.cipher.items())))

    def cipher_ns(self, direction, size):
        key = "enc_ns" if direction == "outbound" else "dec_ns"
        total = sum(w for _, w in SIZES[size])
        return sum(self.cipher[esp_payload(f)][key] * w for f, w in SIZES[size]) / total

    # ---- ceiling: I/O alone
    def measure_io(self, pcap, packets):
        runs = [r for r in (self.measure_io_once(pcap, packets) for _ in range(self.args.repeat))
                if r is not None]
        return median_by(runs, lambda r: r["mpps"]) if runs else None

    def measure_io_once(self, pcap, packets):
        cmd = [self.testpmd, "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
               "--file-prefix", self.eal_prefix(), "-l", "0-1", "--log-level", "error",
               "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1", "--",
               "--port-topology=loop", "--forward-mode=io", "--nb-cores=1",
               f"--total-num-mbufs={packets + 16384}", "--stats-period", "1"]
        window, sampler, out = run_with_stats(cmd, r"^\s*RX-packets:\s+(\d+)\s+RX-missed",
                                              "rte-worker", self.args.seconds,
                                              self.args.measure_from)
        if len(window) < 2:
            self.issues.append(f"testpmd gave no rate for {os.path.basename(pcap)}: "
                               f"{out[-300:].strip()}")
            return None
        (ta, na), (tb, nb) = window[0], window[-1]
        mpps = (nb - na) / (tb - ta) / 1e6
        cpu = sampler.share(ta, tb)
        return {"mpps": mpps, "cpu": cpu, "mpps_per_core": mpps / cpu if cpu else mpps,
                "seconds": round(tb - ta, 3)}

    # ---- Traverse
    def run_dataplane(self, cfg, timeout):
        stats = cfg.replace(".toml", ".json")
        seconds, measure_from = self.args.seconds, self.args.measure_from
        cmd = [self.dataplane, "--config", cfg, "--run-seconds", str(seconds),
               "--measure-from", str(measure_from), "--stats-json", stats]
        load = loadavg()
        with open(cfg + ".log", "w") as logf:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf)
            sampler = CpuSampler(proc.pid, "rte-worker")
            sampler.start()
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = "timeout"
            sampler.stop.set()
            sampler.join()
        if rc != 0:
            with open(cfg + ".log") as f:
                tail = f.read()[-600:]
            return {"error": f"traverse-dataplane exit {rc}: {tail.strip()}"}
        with open(stats) as f:
            data = json.load(f)
        m = data.get("measured")
        if not m:
            return {"error": "no measured window in the stats JSON"}
        start = sampler.start_time()
        cpu, per_thread = None, None
        if start is not None:
            # The workers poll from their launch until --run-seconds is over.
            per_thread = sampler.shares(start + measure_from, start + seconds - 0.1)
            cpu = sum(per_thread.values()) if per_thread else None
        return {"measured": m, "cpu": cpu, "cpu_threads": per_thread, "load": load}

    @staticmethod
    def rate_of(direction, run):
        m = run["measured"]
        return (m["encrypted"] if direction == "outbound" else m["decrypted"]) / m["seconds"]

    def traverse_case(self, direction, size, sas, encap, workers, pcap, io):
        cfg = self.gen_config(direction, size, sas, encap, workers, pcap)
        timeout = self.args.seconds + (30 if sas == 1 else 240)
        runs = [self.run_dataplane(cfg, timeout) for _ in range(self.args.repeat)]
        good = [r for r in runs if "error" not in r]
        run = runs[0] if not good else median_by(good, lambda r: self.rate_of(direction, r))
        if not self.args.keep and sas > 1:
            os.remove(cfg)  # 100k SAs: tens of MB each
        case = {"implementation": "traverse", "direction": direction, "size": size,
                "encap": encap, "sas": sas, "workers": workers}
        if "error" in run:
            case["error"] = run["error"]
            self.issues.append(f"{self.label(case)}: {run['error']}")
            self.results.append(case)
            return case
        m = run["measured"]
        done = m["encrypted"] if direction == "outbound" else m["decrypted"]
        received = m["rx_inside"] if direction == "outbound" else m["rx_outside"]
        mpps = done / m["seconds"] / 1e6
        cpu = run["cpu"]
        drops = {k: v for k, v in m.items() if k not in NOT_DROPS and v}
        case.update({
            "mpps": round(mpps, 4),
            "gbps": round(mpps * mean_inner_bytes(size) * 8 / 1000, 3),
            "cpu": round(cpu, 3) if cpu else None,
            "cpu_threads": run["cpu_threads"],
            "mpps_per_core": round(mpps / cpu, 4) if cpu else None,
            "seconds": round(m["seconds"], 3),
            "received": received, "processed": done, "drops": drops,
            "load": run["load"],
        })
        if drops and sum(drops.values()) > 0.001 * max(received, 1):
            self.issues.append(f"{self.label(case)}: drops {drops}")
        self.add_ceiling(case, io)
        self.results.append(case)
        log(self.row(case))
        return case

    def add_ceiling(self, case, io):
        cipher = self.cipher_ns(case["direction"], case["size"])
        case["cipher_ns"] = round(cipher, 2)
        if io is None:
            return
        io_ns = 1000 / io["mpps"]
        io_ns_core = 1000 / io["mpps_per_core"]
        case["io_mpps"] = round(io["mpps"], 3)
        case["io_ns"] = round(io_ns, 2)
        case["io_ns_per_core"] = round(io_ns_core, 2)
        case["ceiling_mpps"] = round(1000 / (io_ns + cipher), 4)
        case["ceiling_mpps_per_core"] = round(1000 / (io_ns_core + cipher), 4)
        if "mpps" in case:
            case["fraction_of_ceiling"] = round(case["mpps"] / case["ceiling_mpps"], 3)
            if case.get("mpps_per_core"):
                case["fraction_of_ceiling_per_core"] = round(
                    case["mpps_per_core"] / case["ceiling_mpps_per_core"], 3)

    # ---- ipsec-secgw
    def build_secgw(self):
        cache = os.path.join(self.build, "bench", "secgw")
        binary = os.path.join(cache, "ipsec-secgw")
        if os.path.exists(binary) and not self.args.rebuild_secgw:
            return binary
        src = "/usr/share/dpdk/examples"
        tmp = tempfile.mkdtemp(prefix="secgw-src-", dir=self.work)
        shutil.copytree(os.path.join(src, "ipsec-secgw"), os.path.join(tmp, "ipsec-secgw"))
        if os.path.isdir(os.path.join(src, "common")):
            shutil.copytree(os.path.join(src, "common"), os.path.join(tmp, "common"))
        # Its port setup demands RX checksum offload, which net_pcap lacks (it
        # exits: "required RX offloads: 0xe, available: 0x0"). Drop that one
        # request; the packet path is unchanged (no offload flags either way).
        main_c = os.path.join(tmp, "ipsec-secgw", "ipsec-secgw.c")
        with open(main_c) as f:
            text = f.read()
        needle = ".offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,"
        if needle not in text:
            raise RuntimeError("ipsec-secgw.c changed: cannot apply the net_pcap offload fix")
        with open(main_c, "w") as f:
            f.write(text.replace(needle, ".offloads = 0,", 1))
        log("== building ipsec-secgw (make, in a temp copy)")
        subprocess.run(["make", "-j2", "-C", os.path.join(tmp, "ipsec-secgw")], check=True,
                       stdout=subprocess.DEVNULL)
        os.makedirs(cache, exist_ok=True)
        shutil.copy(os.path.join(tmp, "ipsec-secgw", "build", "ipsec-secgw-shared"), binary)
        return binary

    def secgw_config(self, cfg_toml):
        text = open(cfg_toml).read()
        m = re.search(r'spi = (\d+)\nkey = "(\w+)"\nsalt = "(\w+)"\nlocal = "([\d.]+)"\n'
                      r'remote = "([\d.]+)"', text)
        spi, key, salt, local, remote = m.groups()
        colon = ":".join((key + salt)[i:i + 2] for i in range(0, 40, 2))
        path = cfg_toml.replace(".toml", ".secgw.cfg")
        with open(path, "w") as f:
            # Port 0 = protected (inside, plaintext in), port 1 = unprotected
            # (outside, ESP out). An inbound SA and SP are required by the app.
            f.write(f"sp ipv4 out esp protect {spi} pri 1 dst 10.128.0.0/32 sport 0:65535 "
                    f"dport 0:65535\n"
                    f"sp ipv4 in esp protect 8192 pri 1 dst 10.1.0.0/24 sport 0:65535 "
                    f"dport 0:65535\n"
                    f"sa out {spi} aead_algo aes-128-gcm aead_key {colon} mode ipv4-tunnel "
                    f"src {local} dst {remote}\n"
                    f"sa in 8192 aead_algo aes-128-gcm aead_key {colon} mode ipv4-tunnel "
                    f"src {remote} dst {local}\n"
                    f"rt ipv4 dst 198.18.0.0/15 port 1\nrt ipv4 dst 10.1.0.0/24 port 0\n"
                    f"neigh port 1 {ROUTER_MAC}\nneigh port 0 {SERVER_MAC}\n")
        return path, int(spi), bytes.fromhex(key + salt), local, remote

    def secgw_cmd(self, binary, pcap, cfg, packets, tx_pcap=None):
        rx = f"net_pcap0,rx_pcap={pcap}" + ("" if tx_pcap else ",infinite_rx=1")
        tx = f"net_pcap1,rx_pcap={os.path.join(self.work, 'empty.pcap')}"
        if tx_pcap:
            tx += f",tx_pcap={tx_pcap}"
        # One lcore (core 1) polls both ports: the main lcore is the worker.
        return [binary, "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
                "--file-prefix", self.eal_prefix(), "-l", "1", "--log-level", "lib.*:error",
                "--vdev", rx, "--vdev", tx, "--vdev", "crypto_aesni_mb", "--",
                "-p", "0x3", "-P", "-u", "0x2", "--config", "(0,0,1),(1,0,1)", "-f", cfg,
                "-s", str(packets + 16384)] + ([] if tx_pcap else ["-t", "1"])

    def verify_secgw(self, binary, pcap, cfg, spi, key, local, remote, packets):
        from scapy.all import IP, rdpcap  # noqa: PLC0415 - only needed here
        from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: PLC0415
        out = os.path.join(self.work, "secgw_verify.pcap")
        proc = subprocess.Popen(self.secgw_cmd(binary, pcap, cfg, packets, tx_pcap=out),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(4)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        pkts = rdpcap(out)
        sa = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                                 tunnel_header=IP(src=local, dst=remote))
        good = 0
        for p in pkts:
            try:
                if ESP in p and sa.decrypt(IP(bytes(p[IP]))).dst.startswith("10.128."):
                    good += 1
            except Exception:  # noqa: BLE001 - counted as not decrypted
                pass
        ok = len(pkts) == packets and good == packets
        self.verify["ipsec-secgw outbound esp"] = f"{good}/{packets} ESP packets decrypted by scapy"
        if not ok:
            self.issues.append(f"ipsec-secgw verification: {good} of {len(pkts)} output packets "
                               f"decrypt (expected {packets})")
        log(f"   verify ipsec-secgw: {good}/{packets} output packets are ESP that scapy decrypts")
        return ok

    def secgw_case(self, binary, size, pcap, cfg_toml, io, packets):
        cfg, spi, key, local, remote = self.secgw_config(cfg_toml)
        if not self.verify.get("ipsec-secgw outbound esp"):
            self.verify_secgw(binary, pcap, cfg, spi, key, local, remote, packets)
        load = loadavg()
        runs = []
        for _ in range(self.args.repeat):
            window, sampler, _ = run_with_stats(self.secgw_cmd(binary, pcap, cfg, packets),
                                                r"Total packets sent:\s+(\d+)", None,
                                                self.args.seconds, self.args.measure_from)
            if len(window) >= 2:
                (ta, na), (tb, nb) = window[0], window[-1]
                runs.append(((nb - na) / (tb - ta) / 1e6, sampler.share(ta, tb), tb - ta))
        case = {"implementation": "ipsec-secgw", "direction": "outbound", "size": size,
                "encap": "esp", "sas": 1, "workers": 1, "load": load}
        if not runs:
            case["error"] = "ipsec-secgw printed no statistics"
            self.issues.append(case["error"])
            self.results.append(case)
            return case
        mpps, cpu, seconds = median_by(runs, lambda r: r[0])
        case.update({"mpps": round(mpps, 4),
                     "gbps": round(mpps * mean_inner_bytes(size) * 8 / 1000, 3),
                     "cpu": round(cpu, 3) if cpu else None,
                     "mpps_per_core": round(mpps / cpu, 4) if cpu else None,
                     "seconds": round(seconds, 3)})
        self.add_ceiling(case, io)
        self.results.append(case)
        log(self.row(case))
        return case

    # ---- correctness of Traverse's output, once per kind
    def verify_traverse(self, direction, encap):
        from scapy.all import IP, UDP, rdpcap  # noqa: PLC0415
        from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: PLC0415
        n = 512
        pcap = os.path.join(self.work, f"verify_{direction}_{encap}.pcap")
        subprocess.run([self.gen, "--direction", direction, "--sizes", sizes_arg("imix"),
                        "--encap", encap, "--sas", "4", "--packets", str(n), "--pcap", pcap],
                       check=True)
        out = os.path.join(self.work, f"verify_{direction}_{encap}_out.pcap")
        cfg = self.gen_config(direction, "imix", 4, encap, 1, pcap, tx_pcap=out)
        cfg_v = cfg.replace(".toml", ".verify.toml")
        os.replace(cfg, cfg_v)
        run = subprocess.run([self.dataplane, "--config", cfg_v, "--run-seconds", "2"],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            self.issues.append(f"verify {direction} {encap}: exit {run.returncode}")
            return
        pkts = rdpcap(out)
        good = 0
        if direction == "outbound":
            text = open(cfg_v).read()
            sas = {}
            for m in re.finditer(r'spi = (\d+)\nkey = "(\w+)"\nsalt = "(\w+)"\n'
                                 r'local = "([\d.]+)"\nremote = "([\d.]+)"', text):
                spi, key, salt, local, remote = m.groups()
                nat = UDP(sport=4500, dport=4500) if encap == "udp" else None
                sas[int(spi)] = SecurityAssociation(
                    ESP, spi=int(spi), crypt_algo="AES-GCM", crypt_key=bytes.fromhex(key + salt),
                    tunnel_header=IP(src=local, dst=remote), nat_t_header=nat)
            for p in pkts:
                try:
                    e = IP(bytes(p[IP]))
                    if encap == "udp":
                        e[UDP].chksum = None
                        spi = int.from_bytes(bytes(e[UDP].payload)[:4], "big")
                    else:
                        spi = e[ESP].spi
                    inner = sas[spi].decrypt(e)
                    if inner.dst == f"10.128.0.{spi - SPI_BASE}" and inner.ttl == 63:
                        good += 1
                except Exception:  # noqa: BLE001 - counted as bad
                    pass
        else:
            for p in pkts:
                if IP in p and p[IP].dst == "10.1.0.10" and p[IP].src.startswith("10.128.0.") \
                        and p[IP].ttl == 63 and UDP in p:
                    good += 1
        what = "scapy decrypts" if direction == "outbound" else "plain inner packets"
        self.verify[f"traverse {direction} {encap}"] = f"{good}/{n} ({what})"
        log(f"   verify traverse {direction} {encap}: {good}/{n} output packets OK ({what})")
        if good != n:
            self.issues.append(f"verify traverse {direction} {encap}: {good}/{n} output packets OK")

    # ---- reporting
    @staticmethod
    def label(c):
        return f"{c['implementation']} {c['direction']} {c['size']} {c['encap']} " \
               f"{c['sas']} SA {c['workers']}w"

    @staticmethod
    def header():
        return (f"{'impl':<11} {'dir':<8} {'size':>5} {'encap':<5} {'SAs':>6} {'W':>1} "
                f"{'Mpps':>6} {'Gbps':>6} {'cpu':>7} {'Mpps/c':>6} {'ceil/c':>6} "
                f"{'frac':>5} {'frac/c':>6} {'load':>5}")

    @staticmethod
    def row(c):
        def f(key, fmt):
            v = c.get(key)
            return format(v, fmt) if isinstance(v, (int, float)) else "-"
        if "error" in c:
            return f"{c['implementation']:<11} {c['direction']:<8} {c['size']:>5} " \
                   f"{c['encap']:<5} {c['sas']:>6} {c['workers']:>1} ERROR {c['error'][:60]}"
        cpu = f('cpu', '.2f')
        workers = [v for k, v in sorted((c.get("cpu_threads") or {}).items())
                   if k.startswith("rte-worker")]
        if len(workers) > 1:
            cpu = "+".join(f"{v:.1f}" for v in workers)
        return (f"{c['implementation']:<11} {c['direction']:<8} {c['size']:>5} {c['encap']:<5} "
                f"{c['sas']:>6} {c['workers']:>1} {f('mpps', '6.3f')} {f('gbps', '6.2f')} "
                f"{cpu:>7} {f('mpps_per_core', '6.3f')} "
                f"{f('ceiling_mpps_per_core', '6.3f')} {f('fraction_of_ceiling', '5.2f')} "
                f"{f('fraction_of_ceiling_per_core', '6.2f')} {f('load', '5.1f')}")

    def find(self, impl="traverse", **kw):
        for c in self.results:
            if c["implementation"] == impl and all(c.get(k) == v for k, v in kw.items()) \
                    and "mpps" in c:
                return c
        return None

    def targets(self):
        """PASS/MISS on the per-core rates (equal to the raw ones on a quiet machine)."""
        out = []

        def rate(c):
            return c.get("mpps_per_core") or c["mpps"]

        for c in self.results:
            if c["implementation"] != "traverse" or c.get("workers") != 1 or "mpps" not in c:
                continue
            frac = c.get("fraction_of_ceiling_per_core")
            if frac is not None:
                out.append(("one worker >= 90% of the harness ceiling", self.label(c), frac >= 0.9,
                            f"{frac:.2f}"))
        for c in self.results:
            if c["implementation"] != "traverse" or c["encap"] != "udp" or "mpps" not in c:
                continue
            base = self.find(direction=c["direction"], size=c["size"], encap="esp", sas=c["sas"],
                             workers=c["workers"])
            if base:
                r = rate(c) / rate(base)
                out.append(("UDP encap within 5% of plain ESP", self.label(c), r >= 0.95,
                            f"{r:.3f}"))
        for c in self.results:
            if c["implementation"] != "traverse" or c["sas"] == 1 or "mpps" not in c:
                continue
            base = self.find(direction=c["direction"], size=c["size"], encap=c["encap"], sas=1,
                             workers=c["workers"])
            if base:
                r = rate(c) / rate(base)
                out.append(("100k SAs within 10% of 1 SA", self.label(c), r >= 0.9, f"{r:.3f}"))
        for s in self.results:
            if s["implementation"] != "ipsec-secgw" or "mpps" not in s:
                continue
            t = self.find(direction="outbound", size=s["size"], encap="esp", sas=1, workers=1)
            if t:
                r = rate(t) / rate(s)
                out.append(("beat ipsec-secgw", f"outbound {s['size']} esp 1 SA 1w", r > 1.0,
                            f"{r:.3f}x"))
        return out

    def plot(self, path, title):
        import matplotlib  # noqa: PLC0415
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
        fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
        series = [
            ("ESP 1 SA 1w", dict(encap="esp", sas=1, workers=1), "traverse"),
            ("UDP 1 SA 1w", dict(encap="udp", sas=1, workers=1), "traverse"),
            ("ESP 100k SA 1w", dict(encap="esp", sas=100000, workers=1), "traverse"),
            ("ESP 1 SA 2w", dict(encap="esp", sas=1, workers=2), "traverse"),
            ("ESP 100k SA 2w", dict(encap="esp", sas=100000, workers=2), "traverse"),
            ("ipsec-secgw 1 lcore", dict(encap="esp", sas=1, workers=1), "ipsec-secgw"),
        ]
        for ax, direction in zip(axes, ("outbound", "inbound")):
            sizes = [s for s in self.sizes if self.find(direction=direction, size=s)]
            width = 0.8 / (len(series) + 1)
            drawn = 0
            for label, kw, impl in series:
                vals = []
                for s in sizes:
                    c = self.find(impl, direction=direction, size=s, **kw)
                    vals.append(c.get("mpps_per_core") or c["mpps"] if c else 0)
                if not any(vals):
                    continue
                xs = [i + drawn * width for i in range(len(sizes))]
                ax.bar(xs, vals, width, label=label)
                drawn += 1
            ceil = []
            for s in sizes:
                c = self.find(direction=direction, size=s, encap="esp", sas=1, workers=1)
                ceil.append(c.get("ceiling_mpps_per_core", 0) if c else 0)
            xs = [i + drawn * width for i in range(len(sizes))]
            ax.bar(xs, ceil, width, label="harness ceiling (1 core)", color="lightgray",
                   edgecolor="black")
            ax.set_xticks([i + drawn * width / 2 for i in range(len(sizes))])
            ax.set_xticklabels(sizes)
            ax.set_xlabel("inner frame size (bytes)")
            ax.set_ylabel("Mpps per busy core")
            ax.set_title(f"{direction} AES-128-GCM")
            ax.legend(fontsize=7)
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=110)

    # ---- the whole run
    def run(self):
        a = self.args
        self.sizes = ["64", "512", "1420"] if a.quick else ["64", "512", "1420", "imix"]
        sa_counts = [1] if a.quick else [1, 100000]
        workers_list = [1] if a.quick else [1, 2]
        encaps = ["esp", "udp"]
        secgw_sizes = [] if a.no_secgw else (["64", "1420"] if a.quick else ["64", "512", "1420"])
        for tool in (self.gen, self.gcm, self.dataplane):
            if not os.access(tool, os.X_OK):
                sys.exit(f"missing {tool}: build it first (scripts/bench-dataplane.sh does)")
        if not self.testpmd:
            sys.exit("dpdk-testpmd not found (package dpdk)")
        started = time.monotonic()
        meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                "host_cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
                "quick": a.quick, "seconds": a.seconds, "measure_from": a.measure_from,
                "repeat": a.repeat,
                "imix": "7:4:1 of 64/594/1420-byte inner frames", "size_is": "inner Ethernet "
                "frame (no FCS); Gbps on inner IP bytes"}
        try:
            meta["cpu_model"] = re.search(r"model name\s*:\s*(.*)",
                                          open("/proc/cpuinfo").read()).group(1)
        except (OSError, AttributeError):
            pass
        try:
            meta["git"] = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                                         capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
        log(f"== dataplane benchmark ({'quick' if a.quick else 'full'}), work dir {self.work}, "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        subprocess.run([self.gen, "--direction", "outbound", "--pcap",
                        os.path.join(self.work, "scratch.pcap"), "--packets", "1",
                        "--config", os.path.join(self.work, "scratch.toml"),
                        "--empty-pcap", os.path.join(self.work, "empty.pcap")], check=True)
        self.measure_cipher()
        if not a.no_verify:
            for direction in ("outbound", "inbound"):
                for encap in encaps:
                    self.verify_traverse(direction, encap)
        secgw = None
        if secgw_sizes:
            try:
                secgw = self.build_secgw()
            except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
                self.issues.append(f"ipsec-secgw build failed: {e}")
        log(self.header())
        for direction in ("outbound", "inbound"):
            for sas in sa_counts:
                for size in self.sizes:
                    # Outbound inputs are clear packets: one capture serves both encaps.
                    inputs = [None] if direction == "outbound" else encaps
                    for in_encap in inputs:
                        pcap = self.gen_input(direction, size, sas, in_encap or "esp")
                        packets = self.packets_for(sas, size)
                        io = self.measure_io(pcap, packets)
                        self.io[os.path.basename(pcap)] = io
                        for encap in ([in_encap] if in_encap else encaps):
                            for workers in workers_list:
                                self.traverse_case(direction, size, sas, encap, workers, pcap, io)
                        if secgw and direction == "outbound" and sas == 1 and size in secgw_sizes:
                            cfg = self.gen_config(direction, size, sas, "esp", 1, pcap)
                            self.secgw_case(secgw, size, pcap, cfg, io, packets)
                        os.remove(pcap)
        meta["loadavg_end"] = os.getloadavg()
        meta["minutes"] = round((time.monotonic() - started) / 60, 2)
        meta["cipher"] = {"info": getattr(self, "cipher_info", {}), "ns": self.cipher}
        self.report(meta)

    def report(self, meta):
        log("")
        log(f"== results (load average {meta['loadavg_start'][0]:.1f} -> "
            f"{meta['loadavg_end'][0]:.1f} on {meta['host_cpus']} CPUs; {meta['minutes']} min)")
        log("   Mpps: packets encrypted/decrypted per second in the measured window; cpu: cores-")
        log("   worth of CPU the packet thread(s) got (2 workers: worker 0 (all RX) + worker 1);")
        log("   /c: per busy core (Mpps / cpu); ceil/c: 1 / (io_ns + cipher_ns) per core;")
        log("   frac: Mpps / raw ceiling; frac/c: per-core rate / per-core ceiling")
        log(self.header())
        order = {"64": 0, "512": 1, "1420": 2, "imix": 3}
        for c in sorted(self.results, key=lambda c: (c["direction"] != "outbound",
                                                     c["implementation"] != "traverse",
                                                     c["sas"], order[c["size"]], c["encap"],
                                                     c["workers"])):
            log(self.row(c))
        targets = self.targets()
        log("")
        log("== targets (judged on per-core rates)")
        summary = {}
        for name, case, ok, value in targets:
            summary.setdefault(name, [0, 0])
            summary[name][0 if ok else 1] += 1
            log(f"   {'PASS' if ok else 'MISS'}  {name:<42} {case:<42} {value}")
        for name, (p, m) in summary.items():
            log(f"   {name}: {p} PASS, {m} MISS")
        if self.issues:
            log("")
            log("== issues")
            for i in self.issues:
                log(f"   {i}")
        path = os.path.join(self.out, "dataplane_results.json")
        with open(path, "w") as f:
            json.dump(self.results, f, indent=1)
        with open(os.path.join(self.out, "dataplane_summary.json"), "w") as f:
            json.dump({"meta": meta, "verification": self.verify,
                       "targets": [{"target": n, "case": c, "pass": ok, "value": v}
                                   for n, c, ok, v in targets],
                       "issues": self.issues, "io": self.io}, f, indent=1)
        png = os.path.join(self.out, "dataplane_results.png")
        try:
            self.plot(png, f"Traverse dataplane on net_pcap (infinite_rx, tx drop), "
                           f"{meta['date']}, load {meta['loadavg_start'][0]:.1f} on "
                           f"{meta['host_cpus']} CPUs")
        except ImportError as e:
            log(f"   no plot: {e}")
            png = None
        log(f"\n   wrote {path}, dataplane_summary.json" + (f", {png}" if png else ""))
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", required=True, help="meson build directory")
    p.add_argument("--out", help="output directory (default BUILD/bench)")
    p.add_argument("--quick", action="store_true",
                   help="1 SA, 1 worker, sizes 64/512/1420, both directions and encaps, "
                        "ipsec-secgw 64/1420")
    p.add_argument("--seconds", type=int, default=5, help="run length of each case")
    p.add_argument("--measure-from", type=int, default=2, help="warm-up seconds excluded")
    p.add_argument("--repeat", type=int, default=1,
                   help="run every measurement N times and keep the median (noisy machines)")
    p.add_argument("--no-secgw", action="store_true", help="skip DPDK's ipsec-secgw")
    p.add_argument("--rebuild-secgw", action="store_true", help="rebuild the cached ipsec-secgw")
    p.add_argument("--no-verify", action="store_true", help="skip the scapy output checks")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    Bench(p.parse_args()).run()


if __name__ == "__main__":
    main()
