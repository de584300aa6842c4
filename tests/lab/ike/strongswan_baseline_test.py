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
Traverse only (--gateway traverse), driven through traversectl:
  gwrekey   the gateway rekeys the CHILD_SA, then the IKE SA, under a 10 Hz flow
  dpd       liveness checks every 2 s keep an idle SA; then the gateway
            deletes the IKE SA and the client sees it gone
  dprestart traverse-dataplane killed and restarted: traverse-control
            re-installs the child SAs (same SPIs, no renegotiation)
  ctlrestart traverse-control killed and restarted: it removes the orphaned
            SAs from the dataplane; the client is re-initiated
  dualstack IPv6 Office Mode over the IPv4 outer network: the client asks for
            both families (vips = 0.0.0.0, ::) and gets one address from
            each pool, IPv6 DNS and split subnet; the IPv6 selectors are
            narrowed to the leased /128; ping6 both ways and TCP over IPv6
            go through ESP (SA and dataplane counters)
In traverse mode every scenario also checks the gateway's side through the
control socket (list-sas, leases, counters).

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

DEADLINE_S = 420
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

    def __init__(self, args, nat=True, site=False, ipv6=False):
        self.args = args
        self.lab = ikelab.Lab(gateway=args.gateway, nat=nat, site=site, keep=args.keep,
                              build_dir=args.build_dir, ipv6=ipv6)
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

    def start_gateway(self, swanctl_tree=None, traverse_config=None, fragment_size=1280,
                      control=None, separate=False):
        if self.args.gateway == "strongswan":
            self.gw = self.lab.charon("gw", "gw", fragment_size=fragment_size).start()
            self.gw.load(swanctl_tree)
        else:
            self.traverse = ikelab.TraverseGateway(self.lab, dataplane=self.args.dataplane,
                                                   control=self.args.control,
                                                   traversectl=self.args.traversectl)
            identity, pools, conns = traverse_config
            t0 = time.monotonic()
            self.traverse.start(identity, pools, conns, control=control, separate=separate)
            log(f"   Traverse gateway up in {time.monotonic() - t0:.1f}s "
                f"({'separate processes' if separate else 'scripts/traverse-gateway'})")

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


def gw_child(sa):
    """The single child SA of a Traverse IKE SA (list-sas), or None."""
    kids = [c for c in (sa or {}).get("children", []) if c.get("state", "").lower() == "installed"]
    if not kids:
        kids = (sa or {}).get("children", [])
    return kids[0] if len(kids) == 1 else None


def client_vips(client, conn="home"):
    sa = client.ike_sa(conn)
    return sa.get("local-vips", []) if sa else []


def check_traverse_sa(s, client, nat=True, pools=("office",)):
    """The gateway's view through the control socket: one IKE SA with the
    client's identity, NAT and encapsulation as the client sees them, one
    virtual IP from each of pools leased and online. Returns the SA
    (list-sas) or None."""
    tv = s.traverse
    sas = tv.ike_sas()
    sa = sas[0] if len(sas) == 1 else None
    check(sa is not None, f"gateway (list-sas): one ESTABLISHED IKE SA ({len(sas)})")
    if sa is None:
        return None
    check(sa["remote_id"] == ikelab.CLIENT_ID and sa["local_id"] == ikelab.GW_ID,
          f"gateway IKE SA #{sa['id']} {sa['local_id']} <-> {sa['remote_id']}")
    want_remote = ikelab.NAT_WAN_ADDR if nat else ikelab.CLIENT_PUBLIC_NO_NAT
    check(sa["remote"].split(":")[0] == want_remote and sa["remote"].endswith(":4500"),
          f"gateway sees the client at {sa['remote']} (expected {want_remote}:4500)")
    check(sa["nat_remote"] is nat and sa["nat_local"] is False,
          f"gateway NAT state: remote behind NAT {sa['nat_remote']}, local {sa['nat_local']}")
    kid = gw_child(sa)
    check(kid is not None and kid["encap"] is True and sa["encap"] is True,
          f"gateway child SA UDP-encapsulated ({kid and kid['encap']}; IKE SA {sa['encap']})")
    vips = client_vips(client)
    check(sorted(sa["virtual_ips"]) == sorted(vips) and len(vips) == len(pools),
          f"gateway assigned {sa['virtual_ips']}, client has {vips}")
    leases = tv.leases_of(ikelab.CLIENT_ID)
    check(sorted(leases) == sorted(pools) and sorted(
        lease["address"] for lease in leases.values()) == sorted(vips) and all(
            lease["online"] is True for lease in leases.values()),
          f"lease(s) of {ikelab.CLIENT_ID}: " + ", ".join(
              f"{name} {lease['address']} online {lease['online']}"
              for name, lease in sorted(leases.items())))
    if kid is not None:
        ckid = child_of(client, "home")
        check(ckid is not None and ckid["spi-in"] == kid["spi_out"]
              and ckid["spi-out"] == kid["spi_in"],
              f"child SPIs match: gateway {kid['spi_in']}_i/{kid['spi_out']}_o, client "
              f"{ckid and ckid['spi-in']}_i/{ckid and ckid['spi-out']}_o")
    return sa


def check_traverse_gone(s, what="the client's delete"):
    tv = s.traverse
    try:
        ikelab.wait_for("gateway IKE SA removal", lambda: not tv.list_sas(), 10)
        gone = True
    except LabError:
        gone = False
    check(gone, f"gateway has no IKE SA left after {what} ({len(tv.list_sas())} listed)")
    lease = tv.lease(ikelab.CLIENT_ID)
    check(lease is not None and lease["online"] is False,
          f"lease of {ikelab.CLIENT_ID} offline: {lease}")
    c = tv.counters()
    check(c.get("dataplane_inbound_sas", -1) == 0 and c.get("dataplane_outbound_sas", -1) == 0,
          f"dataplane holds no SA ({c.get('dataplane_inbound_sas')} in, "
          f"{c.get('dataplane_outbound_sas')} out)")


def dataplane_diagnosis(s):
    """The dataplane counters that explain lost tunnel packets (held for
    ARP, unresolved neighbours, drops), for a failed traffic check."""
    if not s.traverse:
        return
    try:
        c = s.traverse.counters()
    except LabError as e:
        log(f"   (counters unavailable: {e})")
        return
    keys = [k for k, v in sorted(c.items()) if v and k.startswith("dataplane_") and any(
        w in k for w in ("neighbor", "drop", "unresolved", "held", "no_", "crypted", "replay"))]
    log("   dataplane: " + ", ".join(f"{k[10:]}={c[k]}" for k in keys))


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
    gw_before = gw_child(s.traverse.ike_sa()) if s.traverse else None
    r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=10, interval=0.1)
    if not check(r["received"] == 10,
                 f"ping client -> server through the tunnel: {r['received']}/10"):
        dataplane_diagnosis(s)
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
    if s.traverse:
        gw_after = gw_child(s.traverse.ike_sa())
        if check(gw_before is not None and gw_after is not None,
                 "gateway: one child SA around traffic"):
            din = gw_after["bytes_in"] - gw_before["bytes_in"]
            dout = gw_after["bytes_out"] - gw_before["bytes_out"]
            check(din >= mib * 1048576 and dout >= mib * 1048576
                  and gw_after["packets_in"] > gw_before["packets_in"],
                  f"gateway child SA counted the traffic: {din} bytes in, {dout} bytes out, "
                  f"packets {gw_after['packets_in']}/{gw_after['packets_out']}")


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
        if s.traverse:
            check_traverse_sa(s, client, nat=True)

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
        if s.traverse:
            check_traverse_gone(s)
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
        if s.gw:
            m = re.search(r"received fragment #\d+ of (\d+), reassembled fragmented IKE "
                          r"message \((\d+) bytes\)", glog)
            check(m is not None and int(m.group(2)) > 1500,
                  f"gateway reassembled the fragments: {m and m.group(0)}")
        else:
            c = s.traverse.counters()
            frags_in, frags_out = c.get("ike_fragments_received", 0), c.get(
                "ike_fragments_sent", 0)
            n_client = int(re.search(r"into (\d+) fragments", clog).group(1)) if re.search(
                r"into (\d+) fragments", clog) else -1
            check(frags_in >= n_client > 1, f"gateway received the client's IKE_AUTH "
                  f"fragments (ike_fragments_received {frags_in}, client sent {n_client})")
            check(frags_out > 1, f"gateway fragmented its IKE_AUTH (ike_fragments_sent "
                  f"{frags_out})")
            sa = s.traverse.ike_sa(ikelab.CLIENT_ID)
            check(sa is not None, "gateway (list-sas): IKE SA with the certificate identity "
                  f"{ikelab.CLIENT_ID}")
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


def check_launcher_stop(s, client):
    """SIGTERM to scripts/traverse-gateway: it stops traverse-control first
    (which deletes the IKE SA, so the client hears of it), then the
    dataplane, and exits 0."""
    launcher = s.traverse.launcher
    t0 = time.monotonic()
    launcher.send(signal.SIGTERM)
    try:
        launcher.popen.wait(30)
    except Exception:  # noqa: BLE001 - reported by the check below
        pass
    out = ikelab.text_of(launcher.err)
    order = [ln.split(": ")[1].split()[0] for ln in out.splitlines() if " stopped (" in ln]
    check(launcher.returncode == 0 and order == ["traverse-control", "traverse-dataplane"],
          f"traverse-gateway stopped on SIGTERM in {time.monotonic() - t0:.1f}s: exit "
          f"{launcher.returncode}, order {order}")
    check(wait_sa_gone(client, "home") and re.search(r"received DELETE for IKE_SA home",
                                                     client.log_text()) is not None,
          "client received the gateway's DELETE while it stopped")


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
        if s.traverse:
            # kernel-libipsec only does UDP encapsulation, so the client
            # fakes a NAT (nat-fake): the gateway must see the client's own
            # address but may see "remote behind NAT".
            sa = s.traverse.ike_sa(ikelab.CLIENT_ID)
            check(sa is not None and sa["remote"].split(":")[0] == ikelab.CLIENT_PUBLIC_NO_NAT
                  and sa["nat_local"] is False,
                  f"gateway: client at its own address {sa and sa['remote']}, gateway not "
                  f"behind a NAT (nat_local {sa and sa['nat_local']}, nat_remote "
                  f"{sa and sa['nat_remote']})")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.1)
        check(r["received"] == 5, f"ping through the tunnel {r['received']}/5")
        if s.traverse:
            check_launcher_stop(s, client)
        else:
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
        if not check(r["received"] == 5, f"ping server -> peer's host {r['received']}/5"):
            dataplane_diagnosis(s)
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


# ---------------------------------------------------------------------------
# Traverse-only scenarios: the gateway driven through traversectl.


def connect_psk_client(s, control=None, separate=False, debug_enc=False):
    """Starts the Traverse gateway (PSK road warriors) and a client charon,
    connects it and checks both views; returns (client, gateway IKE SA)."""
    s.start_gateway(traverse_config=ikelab.traverse_remote_access(), control=control,
                    separate=separate)
    client = s.lab.charon("client", "client", debug_enc=debug_enc).start()
    client.load(ikelab.road_warrior_client())
    t0 = time.monotonic()
    check.require(client.initiate("home", "home"),
                  f"client initiate home ({time.monotonic() - t0:.2f}s)")
    check_client_sa(s, client, "home", nat=True)
    sa = check_traverse_sa(s, client, nat=True)
    check.require(sa is not None and gw_child(sa) is not None,
                  "gateway IKE SA with one child SA")
    return client, sa


def wait_ping_works(s, timeout=15):
    """Single pings client -> server until one is answered; seconds taken or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=1, interval=0.2)[
                "received"] == 1:
            return time.monotonic() - t0
    return None


def scenario_gwrekey(args):
    """Rekeys started by the gateway (traversectl rekey) under a 10 Hz flow."""
    s = Scenario(args).up()
    try:
        client, sa = connect_psk_client(s)
        tv = s.traverse
        bg = ikelab.BackgroundPing(s.lab, "client", ikelab.SERVER_ADDR)
        ikelab.wait_for("background ping replies", lambda: len(bg.replies()[0]) >= 5, 10)

        old, gold = child_of(client, "home"), gw_child(sa)
        mark = bg.mark()
        out = tv.ctl("rekey", "--child", gold["id"])
        log(f"   traversectl rekey --child {gold['id']}: {out.get('message')}")
        try:
            new = ikelab.wait_for("client's new CHILD_SA", lambda: (lambda c: c if c and c[
                "spi-in"] != old["spi-in"] else None)(child_of(client, "home")), 15)
        except LabError:
            new = None
        check(new is not None and new["spi-out"] != old["spi-out"],
              f"client sees the gateway's child rekey: {old['spi-in']}/{old['spi-out']} -> "
              f"{new and new['spi-in']}/{new and new['spi-out']}, one INSTALLED")
        gsa = tv.ike_sa()
        gnew = gw_child(gsa)
        check(gnew is not None and len(gsa["children"]) == 1 and gnew["spi_in"] != gold["spi_in"]
              and new is not None and gnew["spi_in"] == new["spi-out"],
              f"gateway: one child SA {gnew and gnew['spi_in']}_i/{gnew and gnew['spi_out']}_o "
              f"(was {gold['spi_in']}_i)")
        time.sleep(1.5)
        lost = bg.lost_since(mark)
        check(len(lost) <= MAX_REKEY_LOSS, f"background flow lost {len(lost)} packets during "
              f"the gateway's child rekey {lost}")
        check((child_of(client, "home") or {}).get("packets-in", 0) > 0,
              "new CHILD_SA carries the flow (client packets-in > 0)")

        old_sa = client.ike_sa("home")
        old_spis = (old_sa["initiator-spi"], old_sa["responder-spi"])
        mark = bg.mark()
        out = tv.ctl("rekey", "--ike", gsa["id"])
        log(f"   traversectl rekey --ike {gsa['id']}: {out.get('message')}")
        try:
            new_sa = ikelab.wait_for("client's new IKE SA", lambda: (lambda a: a if a and (
                a["initiator-spi"], a["responder-spi"]) != old_spis else None)(
                client.ike_sa("home")), 15)
        except LabError:
            new_sa = None
        check(new_sa is not None and len(client.list_sas("home")) == 1,
              f"client sees the gateway's IKE rekey: {old_spis[0]}_i {old_spis[1]}_r -> "
              f"{new_sa and new_sa['initiator-spi']}_i {new_sa and new_sa['responder-spi']}_r, "
              f"one IKE SA left")
        check(child_of(client, "home") is not None, "client CHILD_SA survived the IKE rekey")
        try:
            ikelab.wait_for("one gateway IKE SA", lambda: len(tv.list_sas()) == 1, 10)
        except LabError:
            pass
        gsas = tv.list_sas()
        g2 = gsas[0] if len(gsas) == 1 else None
        check(g2 is not None and g2["state"].lower() == "established" and g2["spi_i"] != gsa["spi_i"]
              and g2["initiator"] is True and gw_child(g2) is not None
              and g2["remote_id"] == ikelab.CLIENT_ID and g2["virtual_ips"] == gsa["virtual_ips"],
              f"gateway: one IKE SA #{g2 and g2['id']} ({g2 and g2['spi_i']}_i, initiator "
              f"{g2 and g2['initiator']}) with its child and virtual IP, was #{gsa['id']} "
              f"({gsa['spi_i']}_i)")
        time.sleep(1.5)
        lost = bg.lost_since(mark)
        check(len(lost) <= MAX_REKEY_LOSS, f"background flow lost {len(lost)} packets during "
              f"the gateway's IKE rekey {lost}")
        total = bg.stop()
        log(f"   background flow: {total['received']}/{total['sent']} answered")
        lease = tv.lease(ikelab.CLIENT_ID)
        check(lease is not None and lease["online"] is True, f"lease still online: {lease}")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=3, interval=0.1)
        check(r["received"] == 3, f"ping after both gateway rekeys {r['received']}/3")
        check(client.terminate(ike="home"), "client terminates")
        check_traverse_gone(s)
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_dpd(args):
    """Liveness checks on an idle SA (dpd_interval_s = 2), then a delete
    from the gateway (traversectl terminate --ike)."""
    s = Scenario(args).up()
    try:
        client, sa = connect_psk_client(s, control={"dpd_interval_s": 2})
        tv = s.traverse
        before = tv.counters().get("ike_liveness_sent", 0)
        informational = len(re.findall(r"parsed INFORMATIONAL request \d+ \[ \]",
                                       client.log_text()))
        time.sleep(6.5)
        after = tv.counters().get("ike_liveness_sent", 0)
        answered = len(re.findall(r"parsed INFORMATIONAL request \d+ \[ \]",
                                  client.log_text())) - informational
        check(after - before >= 2, f"gateway sent liveness checks on the idle SA: "
              f"ike_liveness_sent {before} -> {after} in 6.5 s")
        check(answered >= 2, f"client received {answered} empty INFORMATIONAL requests")
        same = tv.ike_sa()
        check(same is not None and same["id"] == sa["id"] and same["spi_i"] == sa["spi_i"],
              f"IKE SA #{sa['id']} survived the liveness checks")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=3, interval=0.1)
        check(r["received"] == 3, f"ping after the liveness checks {r['received']}/3")

        out = tv.ctl("terminate", "--ike", sa["id"])
        log(f"   traversectl terminate --ike {sa['id']}: {out.get('message')}")
        check(wait_sa_gone(client, "home"), "client's IKE SA is gone after the gateway's delete")
        check(re.search(r"received DELETE for IKE_SA home", client.log_text()) is not None,
              "client log: received DELETE for IKE_SA")
        check_traverse_gone(s, "the gateway's delete")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=2, interval=0.2)
        check(r["received"] == 0, f"no traffic without the tunnel ({r['received']}/2 answered)")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_dprestart(args):
    """traverse-dataplane killed and started again: traverse-control
    re-installs the child SAs it holds, with the same SPIs and keys."""
    s = Scenario(args).up()
    try:
        client, sa = connect_psk_client(s, separate=True)
        tv = s.traverse
        kid, ckid = gw_child(sa), child_of(client, "home")
        client_spis = (lambda a: (a["initiator-spi"], a["responder-spi"]))(client.ike_sa("home"))
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=20, interval=0.05)
        check(r["received"] == 20, f"ping before the restart {r['received']}/20")
        restarts = tv.status()["dataplane"]["restarts"]
        old_pid = tv.dataplane.pid
        t0 = time.monotonic()
        tv.restart_dataplane()
        log(f"   traverse-dataplane killed (pid {old_pid}) and started again "
            f"(pid {tv.dataplane.pid}) in {time.monotonic() - t0:.1f}s")
        try:
            ikelab.wait_for("traverse-control to re-install", lambda: (lambda st, c: st and st[
                "dataplane"]["connected"] and st["dataplane"]["restarts"] > restarts and c.get(
                    "dataplane_inbound_sas", 0) >= 1)(tv.status(), tv.counters()), 20)
            reinstalled = True
        except LabError:
            reinstalled = False
        st = tv.status()
        c = tv.counters()
        check(reinstalled, f"traverse-control saw the restart (restarts {restarts} -> "
              f"{st['dataplane']['restarts']}) and re-installed: dataplane holds "
              f"{c.get('dataplane_inbound_sas')} inbound / {c.get('dataplane_outbound_sas')} "
              f"outbound SA(s) ({time.monotonic() - t0:.1f}s after the kill)")
        took = wait_ping_works(s)
        check(took is not None, f"ping works again {took and round(took, 1)}s after the "
              "re-install")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=10, interval=0.1)
        if not check(r["received"] == 10, f"ping after the dataplane restart "
                     f"{r['received']}/10"):
            dataplane_diagnosis(s)
        gsa = tv.ike_sa()
        gkid = gw_child(gsa)
        check(gsa is not None and gsa["id"] == sa["id"] and gsa["spi_i"] == sa["spi_i"]
              and gkid is not None and (gkid["spi_in"], gkid["spi_out"]) == (
                  kid["spi_in"], kid["spi_out"]),
              f"gateway: same IKE SA #{sa['id']} and child SPIs {kid['spi_in']}_i/"
              f"{kid['spi_out']}_o after the restart ({gkid and gkid['spi_in']}_i/"
              f"{gkid and gkid['spi_out']}_o)")
        now = child_of(client, "home")
        csa = client.ike_sa("home")
        check(now is not None and (now["spi-in"], now["spi-out"]) == (
            ckid["spi-in"], ckid["spi-out"]) and csa is not None and (
                csa["initiator-spi"], csa["responder-spi"]) == client_spis,
              "client: same IKE SA and CHILD_SA SPIs "
              f"{ckid['spi-in']}/{ckid['spi-out']}: nothing renegotiated")
        check(c.get("ike_established", 0) == 1 and c.get("child_installed", 0) == 1,
              f"gateway counters: ike_established {c.get('ike_established')}, child_installed "
              f"{c.get('child_installed')} (no new negotiation)")
        check(client.terminate(ike="home"), "client terminates")
        check_traverse_gone(s)
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_ctlrestart(args):
    """traverse-control killed and started again: it finds the orphaned
    SAs in the dataplane and removes them; the client is re-initiated."""
    s = Scenario(args).up()
    try:
        client, sa = connect_psk_client(s, separate=True)
        tv = s.traverse
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.1)
        check(r["received"] == 5, f"ping before the restart {r['received']}/5")
        c = tv.counters()
        held = (c.get("dataplane_inbound_sas", 0), c.get("dataplane_outbound_sas", 0))
        check(held == (1, 1), f"dataplane holds {held[0]} inbound / {held[1]} outbound SA")
        old_pid = tv.control.pid
        t0 = time.monotonic()
        tv.restart_control()
        log(f"   traverse-control killed (pid {old_pid}) and started again "
            f"(pid {tv.control.pid}) in {time.monotonic() - t0:.1f}s")
        m = re.search(r"removed (\d+) orphaned SA", ikelab.text_of(tv.control.err))
        check(m is not None and int(m.group(1)) == sum(held),
              f"new traverse-control: {m and m.group(0)} (expected {sum(held)})")
        c = tv.counters()
        check(c.get("dataplane_inbound_sas", -1) == 0 and c.get("dataplane_outbound_sas", -1)
              == 0, f"dataplane holds no SA ({c.get('dataplane_inbound_sas')} in, "
              f"{c.get('dataplane_outbound_sas')} out)")
        check(not tv.list_sas(), "new traverse-control lists no IKE SA")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=2, interval=0.2)
        check(r["received"] == 0, f"the orphaned tunnel carries nothing ({r['received']}/2)")
        # The client still believes in its SA; drop it locally and connect again.
        client.swanctl(["--terminate", "--ike", "home", "--force"], check=False)
        wait_sa_gone(client, "home")
        t0 = time.monotonic()
        check.require(client.initiate("home", "home"),
                      f"client re-initiates ({time.monotonic() - t0:.2f}s)")
        check_traverse_sa(s, client, nat=True)
        took = wait_ping_works(s)
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.1)
        check(took is not None and r["received"] == 5,
              f"ping through the new tunnel {r['received']}/5")
        check(client.terminate(ike="home"), "client terminates")
        check_traverse_gone(s)
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


def scenario_dualstack(args):
    """IPv6 Office Mode: a dual-stack client over an IPv4 outer network
    gets an IPv4 and an IPv6 virtual IP from the two pools of its connection,
    and IPv6 traffic to and from the inside network goes through ESP."""
    s = Scenario(args, ipv6=True).up()
    try:
        s.start_gateway(traverse_config=ikelab.traverse_remote_access(dualstack=True))
        tv = s.traverse
        client = s.lab.charon("client", "client", debug_enc=True).start()
        client.load(ikelab.road_warrior_client(
            vips=("0.0.0.0", "::"), remote_ts=(ikelab.INSIDE_NET, ikelab.INSIDE_NET6)))
        t0 = time.monotonic()
        check.require(client.initiate("home", "home"),
                      f"client initiate home asking for both families "
                      f"({time.monotonic() - t0:.2f}s)")
        sa = check_client_sa(s, client, "home", nat=True)
        vips = sa.get("local-vips", [])
        v4 = [a for a in vips if addr_in(a, ikelab.POOL)]
        v6 = [a for a in vips if addr_in(a, ikelab.POOL6)]
        check.require(len(vips) == 2 and len(v4) == 1 and len(v6) == 1,
                      f"virtual IPs {vips}: one from {ikelab.POOL}, one from {ikelab.POOL6}")
        v4, v6 = v4[0], v6[0]
        clog = client.log_text()
        check(f"installing new virtual IP {v6}" in clog and
              "processing INTERNAL_IP6_ADDRESS attribute" in clog,
              f"client log: INTERNAL_IP6_ADDRESS processed, virtual IP {v6} installed")
        check(client.attribute_values("INTERNAL_IP6_ADDRESS") == [f"{v6}/128"],
              f"INTERNAL_IP6_ADDRESS received: {client.attribute_values('INTERNAL_IP6_ADDRESS')}")
        check(sorted(client.dns_servers()) == sorted([ikelab.POOL_DNS, ikelab.POOL6_DNS]),
              f"DNS servers received (IPv4 and IPv6): {client.dns_servers()}")
        check(client.attribute_values("INTERNAL_IP6_DNS") == [ikelab.POOL6_DNS],
              f"INTERNAL_IP6_DNS received: {client.attribute_values('INTERNAL_IP6_DNS')}")
        check(client.split_dns_domains() == [ikelab.SPLIT_DNS_DOMAIN],
              f"split DNS (INTERNAL_DNS_DOMAIN, once for both pools): "
              f"{client.split_dns_domains()}")
        check(client.split_subnets() == [ikelab.INSIDE_NET]
              and client.split_subnets6() == [ikelab.INSIDE_NET6],
              f"split subnets: INTERNAL_IP4_SUBNET {client.split_subnets()}, "
              f"INTERNAL_IP6_SUBNET {client.split_subnets6()}")
        kid = child_of(client, "home")
        check.require(kid is not None, "one CHILD_SA INSTALLED")
        want_local = sorted([f"{v4}/32", f"{v6}/128"])
        want_remote = sorted([ikelab.INSIDE_NET, ikelab.INSIDE_NET6])
        check(sorted(kid.get("local-ts", [])) == want_local,
              f"client local TS narrowed to the leased hosts: {kid.get('local-ts')}")
        check(sorted(kid.get("remote-ts", [])) == want_remote,
              f"client remote TS {kid.get('remote-ts')}")
        gsa = check_traverse_sa(s, client, nat=True, pools=("office", "office6"))
        gkid = gw_child(gsa)
        check.require(gkid is not None, "gateway IKE SA with one child SA")
        check(sorted(gkid["remote_ts"]) == want_local and sorted(gkid["local_ts"]) == want_remote,
              f"gateway child TS {gkid['local_ts']} === {gkid['remote_ts']}")

        # Traffic: IPv6 both ways and TCP over IPv6, IPv4 beside it.
        c0, dp0 = child_of(client, "home"), tv.counters()
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR6, count=10, interval=0.05)
        if not check(r["received"] == 10, f"ping6 client {v6} -> server "
                     f"{ikelab.SERVER_ADDR6} through the tunnel: {r['received']}/10"):
            dataplane_diagnosis(s)
        r = ikelab.ping(s.lab, "server", v6, count=10, interval=0.05)
        if not check(r["received"] == 10, f"ping6 server -> client {v6} through the tunnel: "
                     f"{r['received']}/10"):
            dataplane_diagnosis(s)
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=5, interval=0.05)
        check(r["received"] == 5, f"ping client {v4} -> server {ikelab.SERVER_ADDR} in the "
              f"same CHILD_SA: {r['received']}/5")
        mib = 1
        for direction in ("up", "down"):
            t = ikelab.tcp_transfer(s.lab, direction, mib=mib, server_addr=ikelab.SERVER_ADDR6,
                                    port=5206)
            check(t["hash_ok"] and t["bytes"] == mib * 1048576,
                  f"TCP over IPv6 {'client -> server' if direction == 'up' else 'server -> client'}"
                  f": {t['bytes']} bytes, hash ok {t['hash_ok']}, {t['mbit_s']:.1f} Mbit/s")
        c1, dp1 = child_of(client, "home"), tv.counters()
        g1 = gw_child(tv.ike_sa())
        if check(c1 is not None and g1 is not None and g1["id"] == gkid["id"],
                 "the same child SA on both ends after the traffic"):
            sent, received = (c1["bytes-out"] - c0["bytes-out"], c1["bytes-in"] - c0["bytes-in"])
            check(sent >= mib * 1048576 and received >= mib * 1048576,
                  f"client CHILD_SA counted the traffic: {sent} bytes out, {received} bytes in")
            din, dout = g1["bytes_in"] - gkid["bytes_in"], g1["bytes_out"] - gkid["bytes_out"]
            pin = g1["packets_in"] - gkid["packets_in"]
            pout = g1["packets_out"] - gkid["packets_out"]
            check(din >= mib * 1048576 and dout >= mib * 1048576 and pin >= 25 and pout >= 25,
                  f"gateway child SA counted the traffic: {din} bytes / {pin} packets in, "
                  f"{dout} bytes / {pout} packets out")
            dec = dp1.get("dataplane_decrypted", 0) - dp0.get("dataplane_decrypted", 0)
            enc = dp1.get("dataplane_encrypted", 0) - dp0.get("dataplane_encrypted", 0)
            check(dec >= pin and enc >= pout,
                  f"dataplane ESP counters: decrypted +{dec} (>= {pin}), encrypted +{enc} "
                  f"(>= {pout})")

        # A rekey from the gateway keeps both families' selectors and policies.
        old = child_of(client, "home")
        out = tv.ctl("rekey", "--child", gkid["id"])
        log(f"   traversectl rekey --child {gkid['id']}: {out.get('message')}")
        try:
            new = ikelab.wait_for("client's new CHILD_SA", lambda: (lambda c: c if c and c[
                "spi-in"] != old["spi-in"] else None)(child_of(client, "home")), 15)
        except LabError:
            new = None
        check(new is not None and sorted(new.get("local-ts", [])) == want_local
              and sorted(new.get("remote-ts", [])) == want_remote,
              f"gateway's child rekey: new CHILD_SA {new and new['spi-in']} with "
              f"{new and new.get('local-ts')} === {new and new.get('remote-ts')}")
        r6 = ikelab.ping(s.lab, "server", v6, count=3, interval=0.05)
        r4 = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR, count=3, interval=0.05)
        after = child_of(client, "home")
        check(r6["received"] == 3 and r4["received"] == 3 and after is not None
              and after["spi-in"] == (new or {}).get("spi-in") and after["packets-in"] >= 6,
              f"after the rekey: ping6 server -> client {r6['received']}/3, ping client -> "
              f"server {r4['received']}/3, new CHILD_SA packets in "
              f"{after and after['packets-in']}")

        check(client.terminate(ike="home"), "client terminates")
        check_traverse_gone(s)
        leases = tv.leases_of(ikelab.CLIENT_ID)
        check(sorted(leases) == ["office", "office6"] and not any(
            lease["online"] for lease in leases.values()),
              f"both leases offline: {sorted((n, lease['online']) for n, lease in leases.items())}")
        r = ikelab.ping(s.lab, "client", ikelab.SERVER_ADDR6, count=2, interval=0.2)
        check(r["received"] == 0, f"no IPv6 traffic without the tunnel ({r['received']}/2)")
        return s, None
    except Exception as e:  # noqa: BLE001
        return s, e


SCENARIOS = {"psk": scenario_psk, "cert": scenario_cert, "crl": scenario_crl,
             "nonat": scenario_nonat, "site": scenario_site}
TRAVERSE_SCENARIOS = {"gwrekey": scenario_gwrekey, "dpd": scenario_dpd,
                      "dprestart": scenario_dprestart, "ctlrestart": scenario_ctlrestart,
                      "dualstack": scenario_dualstack}


def main():
    if len(sys.argv) > 1 and sys.argv[1].startswith("_tcp_"):
        return ikelab.main(sys.argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gateway", choices=("strongswan", "traverse"), default="strongswan")
    ap.add_argument("--build-dir", help="meson build dir (finds traverse-dataplane/-control)")
    ap.add_argument("--dataplane", help="traverse-dataplane binary")
    ap.add_argument("--control", help="traverse-control binary")
    ap.add_argument("--traversectl", help="traversectl binary")
    ap.add_argument("--scenarios", help="comma-separated (default: all for the gateway: "
                    f"{','.join(SCENARIOS)}, and with traverse also "
                    f"{','.join(TRAVERSE_SCENARIOS)})")
    ap.add_argument("--pki-kind", choices=("ecdsa", "rsa"), default="ecdsa")
    ap.add_argument("--mib", type=int, default=4, help="MiB per TCP transfer")
    ap.add_argument("--keep", action="store_true", help="leave the labs up")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces)")
        return 77
    known = dict(SCENARIOS)
    if args.gateway == "traverse":
        known.update(TRAVERSE_SCENARIOS)
    if not args.scenarios:
        args.scenarios = ",".join(known)
    for name in args.scenarios.split(","):
        if name not in known:
            log(f"unknown scenario {name!r} for gateway {args.gateway}; known: "
                f"{', '.join(known)}")
            return 2
    if args.gateway == "traverse":
        probe = ikelab.TraverseGateway.__new__(ikelab.TraverseGateway)
        probe.lab = type("NoLab", (), {"build_dir": args.build_dir})()
        bd = args.build_dir or ""
        probe.dataplane_bin = args.dataplane or os.path.join(
            bd, "dataplane/engine/traverse-dataplane")
        probe.control_bin = args.control or os.path.join(bd, "control/traverse-control")
        probe.traversectl_bin = args.traversectl or os.path.join(bd, "control/ctl/traversectl")
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
            s, err = known[name](args)
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
