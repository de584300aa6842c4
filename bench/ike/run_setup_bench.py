#!/usr/bin/python3
"""IKE setup-rate benchmark: traverse-ike-load against Traverse and strongSwan.

    load ns (198.51.100.10, many source ports) --- bridge --- responder ns (198.51.100.1)

The same generator (bench/ike/traverse-ike-load, Traverse's own initiator)
drives each responder in turn, with no NAT in between:
  traverse   traverse-dataplane (af_packet vdev on the responder's veth) and
             traverse-control, pool 10.200.0.0/16
  strongswan charon with kernel-libipsec, the same pool
for PSK + Curve25519 and ECDSA P-256 certificates (one certificate per
client, minted by the generator from the lab CA), at each held-tunnel count.
For every case: the fill rate (0 -> held), the rate of new setups while the
tunnels are held (each new tunnel deleted once up), latency percentiles, and
the responder's memory per tunnel (RSS after filling minus RSS before, over
the tunnels held) for the control plane (traverse-control or charon) and the
dataplane (traverse-dataplane). Prints a side-by-side table and writes JSON.

Namespaces, charon and the Traverse launcher come from tests/lab/ike/ikelab.py.
Needs root. Standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab", "ike"))
import ikelab  # noqa: E402

POOL = "10.200.0.0/16"
LOAD_DOMAIN = "load.lab"
PSK = "load-psk-0123456789abcdef"
IKE_PROPOSAL = "aes128gcm16-prfsha256-x25519"
ESP_PROPOSAL = "aes128gcm16"


def log(msg=""):
    print(msg, flush=True)


def proc_status(pid):
    """(RSS KiB, CPU seconds user+system) of pid and all its threads."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return rss, cpu


def pin(pid, cpus):
    """Every thread of pid onto cpus (taskset -a)."""
    if cpus:
        ikelab.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=False)


class BenchCharon(ikelab.Charon):
    """The lab's charon tuned as an operator would for thousands of
    tunnels: IKE SA hash table sized for them, DoS thresholds (per-IP
    blocking, cookies) off since one address is every client, and quiet
    logging (Traverse runs at log level warning)."""

    verbose = False

    def _write_strongswan_conf(self):
        super()._write_strongswan_conf()
        with open(self.conf) as f:
            text = f.read()
        tuning = ("    ikesa_table_size = 32768\n    ikesa_table_segments = 16\n"
                  "    dos_protection = no\n    cookie_threshold = 1000000\n"
                  "    block_threshold = 1000000\n    init_limit_half_open = 0\n"
                  "    half_open_timeout = 60\n")
        text = text.replace("charon {\n", "charon {\n" + tuning, 1)
        if not BenchCharon.verbose:
            for key in ("default", "ike", "cfg", "knl", "net", "enc"):
                text = text.replace(f"            {key} = ", f"            {key} = -1 #", 1)
        with open(self.conf, "w") as f:
            f.write(text)


class Case:
    def __init__(self, responder, auth, hold, args):
        self.responder, self.auth, self.hold, self.args = responder, auth, hold, args
        self.name = f"{responder}-{auth}-{hold}"


def start_traverse(lab, args, auth, pki):
    gw = ikelab.TraverseGateway(lab, build_dir=args.traverse_build)
    identity_extra = None
    if auth == "cert":
        identity_extra = {"certificate": pki["gw"]["cert"], "private_key": pki["gw"]["key"],
                          "ca": [pki["ca"]["cert"]]}
    identity, _pools, conns = ikelab.traverse_remote_access(
        psk=PSK, auth="pubkey" if auth == "cert" else "psk", identity_extra=identity_extra,
        ike_proposals=[IKE_PROPOSAL], esp_proposals=[ESP_PROPOSAL])
    pools = [{"name": "office", "addresses": POOL, "lease_time_s": 86400,
              "dns": [ikelab.POOL_DNS]}]
    conns[0]["remote_id"] = f"*@{LOAD_DOMAIN}"
    conns[0]["dpd_interval_s"] = 0
    # One address is every client here: per-source and cookie limits would
    # measure the DoS protection, not the setup path.
    control = {"log_level": "info" if args.verbose_responder else "warning", "half_open_limit": 100000, "cookie_threshold": 100000,
               "per_source_half_open": 100000, "dpd_interval_s": 0, "max_ike_sas": 200000,
               "retransmit_timeout_ms": 2000,
               # charon with kernel-libipsec always encapsulates (it fakes a NAT);
               # the same on both sides keeps the exchanges identical on the wire.
               "force_encap": True}
    # separate: the two processes started directly, so their pids are ours to sample.
    gw.start(identity, pools, conns, control=control, separate=True)
    pin(gw.control.pid, args.pin)
    return {"control": gw.control.pid, "dataplane": gw.dataplane.pid, "gw": gw}


def start_strongswan(lab, args, auth, pki):
    charon = BenchCharon(lab, "gw", lab.ns("gw"))
    lab.charons.append(charon)
    charon.start()
    pin(charon.proc.pid, args.pin)
    cert = None
    if auth == "cert":
        cert = charon.install_cert(pki["gw"]["cert"], pki["gw"]["key"], [pki["ca"]["cert"]])["cert"]
    tree = ikelab.road_warrior_gateway(
        psk=PSK, auth="pubkey" if auth == "cert" else "psk", cert=cert,
        remote_id=f"*@{LOAD_DOMAIN}", ike_proposals=[IKE_PROPOSAL], esp_proposals=[ESP_PROPOSAL],
        pool=POOL, split_dns=(), split_include=())
    charon.load(tree)
    return {"control": charon.proc.pid, "dataplane": None, "charon": charon}


def run_generator(lab, args, case, pki, pids, work):
    """Runs traverse-ike-load in the load namespace; samples the responder
    at HELD and DONE. Returns the result dict."""
    out_json = os.path.join(work, f"{case.name}.json")
    argv = ["ip", "netns", "exec", lab.ns("client")]
    if args.pin:
        argv += ["taskset", "-c", args.pin]
    argv += [args.load_bin, "--responder", ikelab.GW_OUTSIDE, "--local", lab.client_addr,
             "--ports", str(args.ports), "--hold", str(case.hold), "--window", str(args.window),
             "--setups", str(args.setups), "--duration", str(args.duration),
             "--ike-proposal", IKE_PROPOSAL, "--esp-proposal", ESP_PROPOSAL,
             "--remote-ts", ikelab.INSIDE_NET, "--remote-id", f"fqdn:{ikelab.GW_ID}",
             "--id-domain", LOAD_DOMAIN, "--json", out_json, "--sync", "--quiet"]
    if case.auth == "cert":
        argv += ["--auth", "cert", "--ca", pki["ca"]["cert"], "--ca-key", pki["ca"]["key"]]
    else:
        argv += ["--auth", "psk", "--psk", PSK]
    err_path = os.path.join(work, f"{case.name}.load.err")
    samples = {"before": sample(pids)}
    t0 = time.monotonic()
    with open(err_path, "w") as err:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                             text=True)
        table = []
        for line in p.stdout:
            line = line.rstrip("\n")
            word = line.split(" ", 1)[0]
            if word in ("HELD", "DONE"):
                time.sleep(1)  # let the responder finish what the last replies started
                samples[word.lower()] = sample(pids)
                samples[word.lower()]["held"] = int(line.split()[1])
                try:
                    p.stdin.write("\n")
                    p.stdin.flush()
                except BrokenPipeError:
                    break
            else:
                table.append(line)
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        rc = p.wait(timeout=60)
    log("\n".join("   " + t for t in table))
    if rc != 0 or not os.path.exists(out_json):
        log(ikelab.text_of(err_path, 20))
        raise ikelab.LabError(f"{case.name}: traverse-ike-load exit {rc} (stderr in {err_path})")
    with open(out_json) as f:
        result = json.load(f)
    result["wall_seconds"] = time.monotonic() - t0
    result["responder_samples"] = samples
    return result


def sample(pids):
    out = {"time": time.monotonic()}
    for role, pid in (("control", pids["control"]), ("dataplane", pids["dataplane"])):
        if pid:
            rss, cpu = proc_status(pid)
            out[role] = {"rss_kib": rss, "cpu_s": cpu}
    return out


def summarize(case, result):
    phases = {p["name"]: p for p in result["phases"]}
    fill, meas = phases.get("fill", {}), phases.get("measure", {})
    s = result["responder_samples"]
    held = s.get("held", {}).get("held", 0)
    row = {"case": case.name, "responder": case.responder, "auth": case.auth, "hold": case.hold,
           "held": held, "fill_rate": fill.get("setups_per_second", 0),
           "fill_failed": fill.get("failed", 0), "rate": meas.get("setups_per_second", 0),
           "measured": meas.get("completed", 0), "failed": meas.get("failed", 0),
           "p50_ms": meas.get("latency_ms", {}).get("p50", 0),
           "p99_ms": meas.get("latency_ms", {}).get("p99", 0),
           "retransmits": fill.get("retransmits", 0) + meas.get("retransmits", 0)}
    for role in ("control", "dataplane"):
        if role in s["before"] and "held" in s and held:
            delta = s["held"][role]["rss_kib"] - s["before"][role]["rss_kib"]
            row[f"{role}_rss_before_kib"] = s["before"][role]["rss_kib"]
            row[f"{role}_rss_held_kib"] = s["held"][role]["rss_kib"]
            row[f"{role}_bytes_per_tunnel"] = delta * 1024 / held
    if "done" in s and meas.get("completed"):
        cpu = s["done"]["control"]["cpu_s"] - s["held"]["control"]["cpu_s"]
        row["control_cpu_ms_per_setup"] = cpu * 1000 / meas["completed"]
    return row


def print_table(rows):
    head = (f"{'case':<26} {'held':>6} {'fill/s':>7} {'rate/s':>7} {'p50ms':>7} {'p99ms':>7} "
            f"{'fail':>5} {'retx':>5} {'cpu ms/setup':>12} {'ctl B/tun':>10} {'dp B/tun':>9}")
    log(head)
    for r in rows:
        dp = r.get("dataplane_bytes_per_tunnel")
        log(f"{r['case']:<26} {r['held']:>6} {r['fill_rate']:>7.1f} {r['rate']:>7.1f} "
            f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['failed'] + r['fill_failed']:>5} "
            f"{r['retransmits']:>5} {r.get('control_cpu_ms_per_setup', 0):>12.2f} "
            f"{r.get('control_bytes_per_tunnel', 0):>10.0f} "
            f"{'-' if dp is None else f'{dp:.0f}':>9}")


def make_pki(work):
    """A root CA that signs the responder's certificate and (in the
    generator) every client's; ECDSA P-256."""
    pki = ikelab.Pki(os.path.join(work, "pki"), kind="ecdsa", intermediates=0)
    gw = pki.leaf("gw", dns=ikelab.GW_ID, chain=[])
    return {"ca": pki.root, "gw": gw}


def run_case(args, case, work):
    log(f"== {case.name}: {case.responder} responder, {case.auth}, hold {case.hold}, "
        f"window {args.window}, {args.setups} setups while holding")
    lab = ikelab.Lab(gateway="traverse" if case.responder == "traverse" else "strongswan",
                     nat=False, build_dir=args.traverse_build, runid=None)
    failed = True
    try:
        lab.up()
        pki = make_pki(lab.work)
        if case.responder == "traverse":
            pids = start_traverse(lab, args, case.auth, pki)
        else:
            pids = start_strongswan(lab, args, case.auth, pki)
        time.sleep(1)
        result = run_generator(lab, args, case, pki, pids, work)
        if case.responder == "traverse":
            try:
                result["responder_counters"] = pids["gw"].request({"id": 1, "cmd": "counters"})
            except (OSError, ValueError) as e:
                result["responder_counters"] = {"error": str(e)}
            # Keep the daemons' logs (the lab's directory goes away).
            for proc in (pids["gw"].control, pids["gw"].dataplane):
                if proc is not None:
                    shutil.copy(proc.err, os.path.join(work, f"{case.name}.{proc.name}.err"))
        result["loadavg"] = os.getloadavg()
        failed = False
        return result
    finally:
        lab.close(failed=failed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                    help="Meson build dir holding bench/ike/traverse-ike-load")
    ap.add_argument("--traverse-build", help="build dir of traverse-control/-dataplane "
                    "(default: --build-dir)")
    ap.add_argument("--load-bin", help="traverse-ike-load (default: in --build-dir)")
    ap.add_argument("--quick", action="store_true", help="hold 200 and 1000 instead of 1000, 10000")
    ap.add_argument("--holds", help="comma-separated held-tunnel counts (overrides --quick)")
    ap.add_argument("--responders", default="traverse,strongswan")
    ap.add_argument("--auths", default="psk,cert")
    ap.add_argument("--window", type=int, default=16, help="setups in flight")
    ap.add_argument("--setups", type=int, default=1000, help="setups timed while holding")
    ap.add_argument("--duration", type=float, default=60, help="measure phase limit (s)")
    ap.add_argument("--ports", type=int, default=256, help="generator source ports")
    ap.add_argument("--pin", default="0", help="CPUs for the generator and the responder's "
                    "control plane ('' = no pinning); traverse-dataplane's worker polls CPU 1")
    ap.add_argument("--json", help="output (default: BUILD/bench/ike_setup.json)")
    ap.add_argument("--verbose-responder", action="store_true",
                    help="charon logs at the lab's levels, traverse-control at info")
    args = ap.parse_args()
    BenchCharon.verbose = args.verbose_responder
    if os.geteuid() != 0:
        sys.exit("run_setup_bench.py: needs root (network namespaces)")
    args.traverse_build = os.path.abspath(args.traverse_build or args.build_dir)
    args.load_bin = args.load_bin or os.path.join(args.build_dir, "bench/ike/traverse-ike-load")
    if not os.access(args.load_bin, os.X_OK):
        sys.exit(f"{args.load_bin} missing: ninja -C {args.build_dir} bench/ike/traverse-ike-load")
    holds = [int(h) for h in (args.holds or ("200,1000" if args.quick else "1000,10000"))
             .split(",")]
    out_path = args.json or os.path.join(args.build_dir, "bench", "ike_setup.json")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    work = os.path.join(os.path.dirname(out_path), "ike_setup")
    os.makedirs(work, exist_ok=True)
    ikelab.install_signal_handlers()

    rows, results = [], {}
    for auth in args.auths.split(","):
        for hold in holds:
            for responder in args.responders.split(","):
                case = Case(responder, auth, hold, args)
                try:
                    result = run_case(args, case, work)
                except ikelab.LabError as e:
                    log(f"   {case.name} FAILED: {e}")
                    results[case.name] = {"error": str(e)}
                    continue
                results[case.name] = result
                rows.append(summarize(case, result))
                print_table(rows[-1:])
    log("")
    log("IKE setup rate (IKE SA + first child with a virtual IP; rate/s = new setups while "
        "holding `held` tunnels)")
    print_table(rows)
    with open(out_path, "w") as f:
        json.dump({"command": " ".join([sys.executable] + sys.argv), "rows": rows,
                   "cases": results, "nproc": os.cpu_count()}, f, indent=2)
    log(f"\nwritten: {out_path}")
    return 0 if len(rows) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
