"""IKEv2 interop in the namespace lab: a strongSwan road warrior against the
gateway (strongSwan by default, Traverse with --gateway traverse).

Scenarios (--scenarios, comma-separated; all by default):
  psk     client behind the NAT, PSK: virtual IP from the pool, DNS and split
          DNS/split subnet received, NAT detected (UDP 4500 encapsulation),
          ping and TCP both ways through the tunnel, child and IKE rekey
          from the client under a 10 Hz background ping, delete from the client
  cert    certificates (ECDSA P-256, a big chain of 5 CAs with large
          extensions): IKE_AUTH over 1500 bytes, so IKE fragmentation (RFC 7383)
  crl     RSA certificates and a CRL: a revoked client refused, a valid one in
  nonat   the client directly on the internet: no NAT detected
  site    site-to-site: the gateway initiates to a strongSwan `peer`

Every check asserts what happened (SA state, counters, bytes, log lines);
on failure the charon logs' tails are printed and the work directory kept.
Needs root. Exit 0 all passed, 1 a check failed, 77 skipped (not root).
"""

import argparse
import ipaddress
import os
import re
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ikelab  # noqa: E402
from ikelab import LabError, log  # noqa: E402

DEADLINE_S = 280
MAX_REKEY_LOSS = 3


class Checks:
    def __init__(self):
        self.failed = []
        self.count = 0

    def __call__(self, cond, what):
        self.count += 1
        log(f"   {'ok  ' if cond else 'FAIL'} {what}")
        if not cond:
            self.failed.append(what)
        return cond

    def require(self, cond, what):
        if not self(cond, what):
            raise LabError(f"required check failed: {what}")


check = Checks()


class Scenario:
    """One lab with a gateway (strongSwan or Traverse) and a client charon."""

    def __init__(self, args, nat=True, site=False):
        self.args = args
        self.lab = ikelab.Lab(gateway=args.gateway, nat=nat, site=site, keep=args.keep,
                              build_dir=args.build_dir)
        self.gw = None       # the gateway's charon (strongswan mode)
        self.traverse = None  # TraverseGateway (traverse mode)

    def up(self):
        self.lab.up()
        if self.args.gateway == "strongswan":
            # Only tunnelled traffic may reach the inside: what arrives in the
            # clear on out0 is not forwarded, so a broken tunnel cannot pass
            # the traffic checks by plain routing.
            ikelab.run(["nft", "-f", "-"], ns=self.lab.ns("gw"), input_text=(
                "table ip ikelab_fw {\n chain forward_out0 {\n  type filter hook forward priority 0;\n"
                "  iifname \"out0\" drop\n }\n}\n"))
        return self

    def start_gateway(self, swanctl_tree=None, traverse_config=None, fragment_size=1280):
        if self.args.gateway == "strongswan":
            self.gw = self.lab.charon("gw", "gw", fragment_size=fragment_size).start()
            self.gw.load(swanctl_tree)
        else:
            self.traverse = ikelab.TraverseGateway(self.lab, dataplane=self.args.dataplane,
                                                   control=self.args.control)
            identity, pools, conns = traverse_config
            self.traverse.start(identity, pools, conns)

    def gateway_log(self):
        return self.gw.log_text() if self.gw else self.traverse.log_text()

    def gateway_sa(self):
        return self.gw.ike_sa() if self.gw else None

    def close(self, failed):
        self.lab.close(failed)


def addr_in(addr, net):
    try:
        return ipaddress.ip_address(addr) in ipaddress.ip_network(net)
    except ValueError:
        return False


def child_of(charon, conn):
    kids = charon.installed_children(conn)
    return kids[0] if len(kids) == 1 else None


def wait_sa_gone(charon, conn=None, timeout=10):
    try:
        ikelab.wait_for("IKE SA removal", lambda: not charon.list_sas(conn), timeout)
        return True
    except LabError:
        return False


def traffic(s, client, conn):
    """Ping and TCP both ways; asserts the child SA counters moved with it."""
    before = child_of(client, conn)
    r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=10, interval=0.1)
    check(r["received"] == 10, f"ping client -> server through the tunnel: {r['received']}/10")
    mib = s.args.mib
    up = ikelab.tcp_transfer(s.lab, "up", mib=mib)
    check(up["hash_ok"] and up["bytes"] == mib * 1048576,
          f"TCP client -> server: {up['bytes']} bytes, hash ok {up['hash_ok']}, "
          f"{up['mbit_s']:.1f} Mbit/s")
    down = ikelab.tcp_transfer(s.lab, "down", mib=mib)
    check(down["hash_ok"] and down["bytes"] == mib * 1048576,
          f"TCP server -> client: {down['bytes']} bytes, hash ok {down['hash_ok']}, "
          f"{down['mbit_s']:.1f} Mbit/s")
    after = child_of(client, conn)
    if check(before is not None and after is not None, "one installed CHILD_SA around traffic"):
        sent = after["bytes-out"] - before["bytes-out"]
        received = after["bytes-in"] - before["bytes-in"]
        check(sent >= mib * 1048576 and received >= mib * 1048576,
              f"client CHILD_SA counted the traffic: {sent} bytes out, {received} bytes in "
              f"(>= {mib} MiB each), packets {after['packets-out']}/{after['packets-in']}")


def check_client_sa(s, client, conn, nat):
    sa = client.ike_sa(conn)
    check.require(sa is not None, f"client IKE SA {conn} ESTABLISHED")
    check(sa["remote-host"] == ikelab.GW_OUTSIDE, f"remote host {sa['remote-host']}")
    check(sa["remote-port"] == "4500" and sa["local-port"] == "4500",
          f"IKE moved to port 4500 (local {sa['local-port']}, remote {sa['remote-port']})")
    # strongSwan with kernel-libipsec can only UDP-encapsulate, so it fakes
    # being behind a NAT (nat-fake: a bogus NAT_DETECTION_SOURCE_IP): the
    # client's own nat-local says nothing then, and a strongSwan gateway
    # looks NATed to the client. Traverse fakes nothing unless force_encap.
    log(f"   NAT flags: nat-local {sa.get('nat-local')}, nat-remote {sa.get('nat-remote')}, "
        f"nat-fake {sa.get('nat-fake')}, nat-any {sa.get('nat-any')}")
    if nat:
        check(sa.get("nat-local") == "yes", "client detected the NAT in front of itself "
              "(NAT_DETECTION_SOURCE_IP mismatch, nat-local yes)")
    if s.args.gateway == "traverse":
        check(sa.get("nat-remote") != "yes", "the gateway is not seen behind a NAT")
    return sa


def scenario_psk(args):
    s = Scenario(args).up()
    try:
        s.start_gateway(ikelab.road_warrior_gateway(), ikelab.traverse_remote_access())
        client = s.lab.charon("client", "client", debug_enc=True).start()
        client.load(ikelab.road_warrior_client())
        t0 = time.monotonic()
        ok = client.initiate("home", "home")
        check.require(ok, f"client initiate home ({time.monotonic() - t0:.2f}s)")
        sa = check_client_sa(s, client, "home", nat=True)
        vips = sa.get("local-vips", [])
        check(len(vips) == 1 and addr_in(vips[0], ikelab.POOL),
              f"virtual IP {vips} from the pool {ikelab.POOL}")
        kid = child_of(client, "home")
        check.require(kid is not None, "one CHILD_SA INSTALLED")
        check(kid.get("encap") == "yes", f"ESP UDP-encapsulated (encap {kid.get('encap')})")
        check(kid.get("remote-ts") == [ikelab.INSIDE_NET], f"remote TS {kid.get('remote-ts')}")
        check(kid.get("local-ts") == [f"{vips[0]}/32"] if vips else False,
              f"local TS {kid.get('local-ts')}")
        check(client.dns_servers() == [ikelab.POOL_DNS],
              f"DNS servers received: {client.dns_servers()}")
        check(client.split_dns_domains() == [ikelab.SPLIT_DNS_DOMAIN],
              f"split DNS (INTERNAL_DNS_DOMAIN) received: {client.split_dns_domains()}")
        check(client.split_subnets() == [ikelab.INSIDE_NET],
              f"split subnet (INTERNAL_IP4_SUBNET) received: {client.split_subnets()}")
        if s.gw:
            gsa = s.gateway_sa()
            check(gsa is not None and gsa["remote-host"] == ikelab.NAT_WAN_ADDR
                  and gsa.get("nat-remote") == "yes",
                  f"gateway sees the client at the NAT address {gsa and gsa['remote-host']}"
                  f":{gsa and gsa['remote-port']} (nat-remote {gsa and gsa.get('nat-remote')})")
            check(gsa is not None and gsa.get("remote-vips") == vips,
                  f"gateway assigned {gsa and gsa.get('remote-vips')}")

        traffic(s, client, "home")

        # Rekeys from the client under a 10 Hz flow.
        bg = ikelab.BackgroundPing(s.lab, "client", ikelab.SERVER_ADDR)
        ikelab.wait_for("background ping replies", lambda: len(bg.replies()[0]) >= 5, 10)
        old = child_of(client, "home")
        mark = bg.mark()
        check.require(client.rekey(child="home"), "child rekey requested")
        try:
            new = ikelab.wait_for("new CHILD_SA", lambda: (lambda c: c if c and c["spi-in"]
                                  != old["spi-in"] else None)(child_of(client, "home")), 15)
        except LabError:
            new = None
        check(new is not None and new["spi-out"] != old["spi-out"],
              f"CHILD_SA rekeyed: SPIs {old['spi-in']}/{old['spi-out']} -> "
              f"{new and new['spi-in']}/{new and new['spi-out']}, one INSTALLED")
        time.sleep(1.5)
        lost = bg.lost_since(mark)
        check(len(lost) <= MAX_REKEY_LOSS, f"background flow lost {len(lost)} packets during "
              f"the child rekey {lost}")
        check(new is not None and (child_of(client, "home") or {}).get("packets-in", 0) > 0,
              "new CHILD_SA carries the flow (packets-in > 0)")

        old_sa = client.ike_sa("home")
        mark = bg.mark()
        check.require(client.rekey(ike="home"), "IKE rekey requested")
        try:
            new_sa = ikelab.wait_for("new IKE SA", lambda: (lambda a: a if a and
                                     a["initiator-spi"] != old_sa["initiator-spi"] else None)(
                                     client.ike_sa("home")), 15)
        except LabError:
            new_sa = None
        check(new_sa is not None and new_sa["responder-spi"] != old_sa["responder-spi"]
              and len(client.list_sas("home")) == 1,
              f"IKE SA rekeyed: {old_sa['initiator-spi']}_i -> "
              f"{new_sa and new_sa['initiator-spi']}_i, one IKE SA left")
        check(child_of(client, "home") is not None, "CHILD_SA survived the IKE rekey")
        time.sleep(1.5)
        lost = bg.lost_since(mark)
        check(len(lost) <= MAX_REKEY_LOSS, f"background flow lost {len(lost)} packets during "
              f"the IKE rekey {lost}")
        total = bg.stop()
        log(f"   background flow: {total['received']}/{total['sent']} answered")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=3, interval=0.1)
        check(r["received"] == 3, f"ping after both rekeys {r['received']}/3")

        # Delete from the client.
        check(client.terminate(ike="home"), "client terminates the IKE SA")
        check(not client.list_sas("home"), "client has no IKE SA left")
        if s.gw:
            check(wait_sa_gone(s.gw), "gateway deleted its IKE SA")
            check(re.search(r"received DELETE for IKE_SA", s.gw.log_text()) is not None,
                  "gateway log: received DELETE for IKE_SA")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=2, interval=0.2)
        check(r["received"] == 0, f"no traffic without the tunnel ({r['received']}/2 answered)")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_cert(args):
    s = Scenario(args).up()
    try:
        pki = ikelab.Pki(os.path.join(s.lab.work, "pki"), kind=args.pki_kind, big=True)
        gw_cert, client_cert = pki.gateway(), pki.client()
        n_ims = len(pki.gw_chain)
        chain_bytes = sum(os.path.getsize(c["cert"]) for c in pki.gw_chain)
        log(f"   PKI {args.pki_kind}: root + {n_ims} intermediates per chain "
            f"({chain_bytes} bytes PEM) + leaves")
        # Each side trusts only the root: the intermediates must come in
        # the IKE_AUTH messages (CERT payloads), which makes them big.
        cas = [pki.root["cert"]]
        if args.gateway == "strongswan":
            gw_tree = ikelab.road_warrior_gateway(auth="pubkey", cert="gw.pem",
                                                  remote_id="*@traverse.lab")
            s.gw = s.lab.charon("gw", "gw").start()
            s.gw.install_cert(gw_cert["cert"], gw_cert["key"], cas,
                             [c["cert"] for c in pki.gw_chain])
            s.gw.load(gw_tree)
        else:
            identity = {"id": ikelab.GW_ID, "certificate": pki.chain_pem(gw_cert),
                        "private_key": gw_cert["key"], "ca": [pki.root["cert"]]}
            s.start_gateway(traverse_config=ikelab.traverse_remote_access(
                auth="pubkey", identity_extra=identity))
        client = s.lab.charon("client", "client").start()
        client.install_cert(client_cert["cert"], client_cert["key"], cas,
                            [c["cert"] for c in pki.client_chain])
        client.load(ikelab.road_warrior_client(auth="pubkey", cert="client.pem"))
        ok = client.initiate("home", "home")
        check.require(ok, "client initiate home with certificates")
        check_client_sa(s, client, "home", nat=True)
        clog, glog = client.log_text(), s.gateway_log()
        m = re.search(r"splitting IKE message \((\d+) bytes\) into (\d+) fragments", clog)
        check(m is not None and int(m.group(1)) > 1500,
              f"client split IKE_AUTH: {m and m.group(0)}")
        m = re.search(r"received fragment #\d+ of (\d+), reassembled fragmented IKE message "
                      r"\((\d+) bytes\)", glog)
        check(m is not None and int(m.group(2)) > 1500,
              f"gateway reassembled the fragments: {m and m.group(0)}")
        m = re.search(r"received fragment #\d+ of (\d+), reassembled fragmented IKE message "
                      r"\((\d+) bytes\)", clog)
        check(m is not None and int(m.group(2)) > 1500,
              f"client reassembled the gateway's fragmented IKE_AUTH: {m and m.group(0)}")
        check(len(re.findall(r'received issuer cert "', clog)) >= n_ims,
              f"client received the {n_ims} intermediate certificates")
        check(re.search(r'authentication of .gw\.traverse\.lab. with (ECDSA|RSA)\S* '
                        r'successful', clog) is not None,
              "client authenticated the gateway by its signature")
        if s.gw:
            check(re.search(r"authentication of .client@traverse\.lab. with \S+ successful",
                            glog) is not None, "gateway authenticated the client certificate")
            check(len(re.findall(r'received issuer cert "', glog)) >= n_ims,
                  f"gateway received the client's {n_ims} intermediate certificates")
            check(len(re.findall(r'sending issuer cert "', glog)) >= n_ims,
                  f"gateway sent its {n_ims} intermediate certificates")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.1)
        check(r["received"] == 5, f"ping through the tunnel {r['received']}/5")
        check(client.terminate(ike="home"), "client terminates")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_nonat(args):
    s = Scenario(args, nat=False).up()
    try:
        s.start_gateway(ikelab.road_warrior_gateway(), ikelab.traverse_remote_access())
        client = s.lab.charon("client", "client").start()
        client.load(ikelab.road_warrior_client())
        check.require(client.initiate("home", "home"), "client initiate without NAT")
        check_client_sa(s, client, "home", nat=False)
        if s.gw:
            gsa = s.gateway_sa()
            check(gsa is not None and gsa["remote-host"] == ikelab.CLIENT_PUBLIC_NO_NAT,
                  f"gateway sees the client's own address {gsa and gsa['remote-host']}")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.1)
        check(r["received"] == 5, f"ping through the tunnel {r['received']}/5")
        check(client.terminate(ike="home"), "client terminates")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_site(args):
    s = Scenario(args, site=True).up()
    try:
        peer = s.lab.charon("peer", "peer").start()
        peer.load(ikelab.site_peer())
        if args.gateway == "strongswan":
            s.gw = s.lab.charon("gw", "gw").start()
            s.gw.load(ikelab.site_initiator())
            check.require(s.gw.initiate("site", "site"), "gateway initiates to the peer")
        else:
            identity, pools, _ = ikelab.traverse_remote_access()
            s.start_gateway(traverse_config=(identity, pools, [ikelab.traverse_site_initiator()]))
        ikelab.wait_for("peer's CHILD_SA", lambda: child_of(peer, "site"), 20)
        sa = peer.ike_sa("site")
        check(sa is not None and sa["remote-host"] == ikelab.GW_OUTSIDE
              and sa.get("initiator") != "yes", f"peer is responder to {sa and sa['remote-host']}")
        kid = child_of(peer, "site")
        check(kid is not None and kid.get("local-ts") == [ikelab.PEER_NET]
              and kid.get("remote-ts") == [ikelab.INSIDE_NET],
              f"peer CHILD_SA {kid and kid.get('local-ts')} === {kid and kid.get('remote-ts')}")
        r = ikelab.ping(s.lab, "server", ikelab.PEER_HOST_ADDR, count=5, interval=0.1)
        check(r["received"] == 5, f"ping server -> peer's host {r['received']}/5")
        r = ikelab.ping(s.lab, "host", ikelab.SERVER_ADDR, count=5, interval=0.1)
        check(r["received"] == 5, f"ping peer's host -> server {r['received']}/5")
        after = child_of(peer, "site")
        check(after is not None and after["packets-in"] >= 10 and after["packets-out"] >= 10,
              f"peer CHILD_SA counted {after and after['packets-in']} in / "
              f"{after and after['packets-out']} out")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_crl(args):
    """RSA certificates, a CRL on the gateway: the revoked client is refused,
    a valid one from the same CA gets in."""
    s = Scenario(args).up()
    try:
        pki = ikelab.Pki(os.path.join(s.lab.work, "pki"), kind="rsa")
        gw_cert = pki.gateway()
        good = pki.leaf("client", email=ikelab.CLIENT_ID)
        bad = pki.leaf("revoked", email="revoked@traverse.lab")
        crl_pem, crl_der = pki.crl([bad])
        ims = [c["cert"] for c in pki.client_chain]
        if args.gateway == "strongswan":
            s.gw = s.lab.charon("gw", "gw").start()
            s.gw.install_cert(gw_cert["cert"], gw_cert["key"], [pki.root["cert"]],
                              [c["cert"] for c in pki.gw_chain], crls=[crl_der])
            out = s.gw.load(ikelab.road_warrior_gateway(auth="pubkey", cert="gw.pem",
                                                        remote_id="*@traverse.lab"))
            log("   " + " | ".join(ln for ln in out.splitlines() if "crl" in ln.lower()))
            check(re.search(r"loaded .*crl", out, re.I) is not None,
                  "gateway loaded the CRL")
        else:
            identity = {"id": ikelab.GW_ID, "certificate": pki.chain_pem(gw_cert),
                        "private_key": gw_cert["key"], "ca": [pki.root["cert"]],
                        "crl": [crl_der]}
            s.start_gateway(traverse_config=ikelab.traverse_remote_access(
                auth="pubkey", identity_extra=identity))
        revoked = s.lab.charon("revoked", "client").start()
        revoked.install_cert(bad["cert"], bad["key"], [pki.root["cert"]], ims)
        revoked.load(ikelab.road_warrior_client(auth="pubkey", cert="revoked.pem",
                                                client_id="revoked@traverse.lab"))
        check(not revoked.initiate("home", "home", timeout=15),
              "the revoked client's IKE_AUTH is refused")
        check(re.search(r"AUTHENTICATION_FAILED", revoked.log_text()) is not None,
              "revoked client log: AUTHENTICATION_FAILED")
        if s.gw:
            check(re.search(r"certificate was revoked", s.gw.log_text()) is not None,
                  "gateway log: certificate was revoked")
        revoked.stop()
        client = s.lab.charon("client", "client").start()
        client.install_cert(good["cert"], good["key"], [pki.root["cert"]], ims)
        client.load(ikelab.road_warrior_client(auth="pubkey", cert="client.pem"))
        check.require(client.initiate("home", "home"), "the valid client gets in")
        check(re.search(r"authentication of .gw\.traverse\.lab. with RSA\S* successful",
                        client.log_text()) is not None, "gateway authenticated by RSA signature")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=3, interval=0.1)
        check(r["received"] == 3, f"ping through the tunnel {r['received']}/3")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


SCENARIOS = {"psk": scenario_psk, "cert": scenario_cert, "crl": scenario_crl,
             "nonat": scenario_nonat, "site": scenario_site}


def main():
    if len(sys.argv) > 1 and sys.argv[1].startswith("_tcp_"):
        return ikelab.main(sys.argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gateway", choices=("strongswan", "traverse"), default="strongswan")
    ap.add_argument("--build-dir", help="meson build dir (finds traverse-dataplane/-control)")
    ap.add_argument("--dataplane", help="traverse-dataplane binary")
    ap.add_argument("--control", help="traverse-control binary")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--pki-kind", choices=("ecdsa", "rsa"), default="ecdsa")
    ap.add_argument("--mib", type=int, default=4, help="MiB per TCP transfer")
    ap.add_argument("--keep", action="store_true", help="leave the labs up")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces)")
        return 77
    for name in args.scenarios.split(","):
        if name not in SCENARIOS:
            log(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
            return 2
    if args.gateway == "traverse":
        probe = ikelab.TraverseGateway.__new__(ikelab.TraverseGateway)
        probe.lab = type("NoLab", (), {"build_dir": args.build_dir})()
        bd = args.build_dir or ""
        probe.dataplane_bin = args.dataplane or os.path.join(
            bd, "dataplane/engine/traverse-dataplane")
        probe.control_bin = args.control or os.path.join(bd, "control/traverse-control")
        try:
            probe.check_binaries()
        except LabError as e:
            log(f"FAIL: {e}")
            return 1
    ikelab.install_signal_handlers()

    def on_deadline(_signum, _frame):
        raise LabError(f"deadline of {DEADLINE_S}s passed")

    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(DEADLINE_S)
    results = {}
    start = time.monotonic()
    for name in args.scenarios.split(","):
        log(f"\n== scenario {name} (gateway: {args.gateway})")
        t0 = time.monotonic()
        failed_before = len(check.failed)
        s, err = None, None
        try:
            s, err = SCENARIOS[name](args)
        except Exception as e:  # noqa: BLE001 - lab setup failed
            err = e
        if err is not None:
            log(f"FAIL [{name}]: {err}" if isinstance(err, LabError) else
                f"FAIL [{name}]: {''.join(traceback.format_exception(err))}")
        failed = err is not None or len(check.failed) > failed_before
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if s:
            s.close(failed)
        ikelab.install_signal_handlers()
        results[name] = "FAIL" if failed else "PASS"
        log(f"== scenario {name}: {results[name]} in {time.monotonic() - t0:.1f}s")
        if err is not None and ("deadline" in str(err) or "interrupted" in str(err)):
            break
    signal.alarm(0)
    passed = sum(1 for v in results.values() if v == "PASS")
    log(f"\nresults: {results}, {check.count} checks, {len(check.failed)} failed "
        f"({time.monotonic() - start:.1f}s)")
    log(f"{passed} passed, {len(results) - passed} failed")
    return 0 if results and passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
