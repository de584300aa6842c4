"""The Traverse demo: a remote-access VPN in network namespaces.

    client (strongSwan) -- nat (masquerade) -- inet -- gw (Traverse) -- server

Brings up the namespace lab of ikelab.py, starts the Traverse gateway
(traverse-dataplane + traverse-control through scripts/traverse-gateway) and
a strongSwan road warrior behind the NAT, connects it, shows `traversectl
status` and `traversectl list-sas`, pings the protected server through the
tunnel and measures a TCP transfer each way (Mbit/s). Then removes
everything it made, or with --keep leaves it up and prints how to explore it
and how to remove it.

    demo.py --build-dir BUILD [--keep] [--mib N]

Needs root. Exit 0 when every step worked.
"""

import argparse
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ikelab  # noqa: E402
from ikelab import LabError, log  # noqa: E402


def step(title):
    log(f"\n== {title}")


def show(tv, *args):
    """Prints traversectl's human-readable output, as an operator sees it."""
    cmd = [tv.traversectl_bin, "--socket", tv.control_socket] + list(args)
    log(f"$ traversectl {' '.join(args)}")
    r = ikelab.run(cmd, timeout=15, check=False)
    out = (r.stdout + r.stderr).rstrip()
    log("\n".join("  " + line for line in out.splitlines()))
    if r.returncode != 0:
        raise LabError(f"traversectl {' '.join(args)} failed ({r.returncode})")


def explore_help(lab, tv, client):
    ns = lab.ns
    down = shlex.quote(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ikelab.py"))
    ctl = f"{tv.traversectl_bin} --socket {tv.control_socket}"
    swan = f"STRONGSWAN_CONF={client.conf} SWANCTL_DIR={client.swanctl_dir} swanctl"
    log(f"""
== the lab is left up (--keep): run id {lab.runid}, files in {lab.work}
  namespaces: {', '.join(lab.namespaces)}
  a shell on the client:   ip netns exec {ns('client')} bash
      then e.g.            ping 10.1.0.10; ip addr show ipsec0
  the gateway:             {ctl} list-sas
                           {ctl} counters
                           (traversectl status | leases | rekey --child ID | terminate --ike ID)
  the client's charon:     {swan} --list-sas
  the protected server:    ip netns exec {ns('server')} bash
  gateway logs:            {tv.dir}/traverse-control.log, traverse-dataplane.log
  remove everything:       /usr/bin/python3 {down} down {lab.runid}""")


def run_demo(args):
    lab = ikelab.Lab(gateway="traverse", nat=True, keep=args.keep, build_dir=args.build_dir)
    failed = True
    try:
        step("namespace lab: client behind a masquerading NAT, gateway, protected server")
        lab.up()
        log(f"   namespaces {', '.join(lab.namespaces)}")

        step("Traverse gateway: scripts/traverse-gateway --config gateway.toml")
        tv = ikelab.TraverseGateway(lab)
        t0 = time.monotonic()
        tv.start(*ikelab.traverse_remote_access())
        log(f"   traverse-dataplane (af_packet on out0/in0) and traverse-control up in "
            f"{time.monotonic() - t0:.1f}s; config {tv.config}")

        step("strongSwan road warrior connects (PSK, virtual IP from the pool)")
        client = lab.charon("client", "client").start()
        client.load(ikelab.road_warrior_client())
        t0 = time.monotonic()
        if not client.initiate("home", "home"):
            raise LabError(f"the client could not connect:\n{client.last_output[-1500:]}")
        sa = client.ike_sa("home")
        log(f"   connected in {time.monotonic() - t0:.2f}s: virtual IP "
            f"{', '.join(sa.get('local-vips', []))}, DNS {', '.join(client.dns_servers())}")

        step("the gateway's view")
        show(tv, "status")
        show(tv, "list-sas")

        step(f"traffic through the tunnel to the protected server {ikelab.SERVER_ADDR}")
        r = ikelab.ping(lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.2)
        log(f"   ping client -> server: {r['received']}/{r['sent']} answered")
        if r["received"] == 0:
            raise LabError("no ping answered through the tunnel")
        results = []
        for direction in ("up", "down"):
            t = ikelab.tcp_transfer(lab, direction, mib=args.mib)
            results.append(t)
            arrow = "client -> server" if direction == "up" else "server -> client"
            log(f"   TCP {arrow}: {t['bytes'] / 1048576:.0f} MiB in {t['seconds']:.2f}s = "
                f"{t['mbit_s']:.1f} Mbit/s (SHA-256 {'matches' if t['hash_ok'] else 'WRONG'})")
        if not all(t["hash_ok"] for t in results):
            raise LabError("a TCP transfer arrived incomplete or corrupted")
        show(tv, "list-sas")
        failed = False
        if args.keep:
            explore_help(lab, tv, client)
        return 0
    except LabError as e:
        log(f"\nFAILED: {e}")
        return 1
    finally:
        if not args.keep:
            step("removing the lab")
        lab.close(failed=failed)
        if not args.keep:
            log("   done: namespaces deleted, processes stopped")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("TRAVERSE_BUILD", "build"),
                    help="meson build dir with traverse-dataplane, traverse-control, "
                         "traversectl")
    ap.add_argument("--keep", action="store_true", help="leave the lab up to explore")
    ap.add_argument("--mib", type=int, default=16, help="MiB per TCP transfer (default 16)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("demo.py needs root (network namespaces)")
        return 77
    ikelab.install_signal_handlers()
    return run_demo(args)


if __name__ == "__main__":
    sys.exit(main())
