"""The IKE interop lab: strongSwan road warriors against a gateway in namespaces.

    client --- nat --+                          +--- gw --- server
                     |  inet (bridge br0)       |  out0 198.51.100.1
                     +-- 198.51.100.0/24 -------+  in0  10.1.0.1/24
                     |                              server 10.1.0.10
                     +--- peer --- host   (site-to-site: 198.51.100.20, 10.2.0.0/24)

With ipv6=True (dual stack inside, the outer network stays IPv4) the gateway
also has fd00:1::1/64 on its inside port and the server fd00:1::10 (default
route via the gateway); client, gw and server then run with IPv6 enabled
(no DAD), the gateway's dataplane ports out0/in0 without.

The client (192.168.77.2) sits behind a masquerading nat (wan 198.51.100.2),
or, with nat=False, directly on the "internet" at 198.51.100.10. The gateway
is either strongSwan's charon (kernel-libipsec, kernel addresses on out0/in0)
or Traverse (traverse-dataplane owning out0/in0 through af_packet, plus
traverse-control, both started from one generated gateway.toml by
scripts/traverse-gateway, or as separate processes for restart tests;
TraverseGateway.ctl() and friends query it through traversectl).

Everything one run creates is named with its run id (namespaces ikl-RUNID-*,
a work directory /tmp/ikelab-RUNID) and removed by Lab.close(), which also
runs from atexit and the SIGTERM/SIGINT handlers that install_signal_handlers()
sets. keep=True leaves the lab up for inspection.

Standard library only; needs root, iproute2, nftables, strongSwan (charon with
kernel-libipsec, swanctl) and openssl. Also a script: `ikelab.py _tcp_server`
and `_tcp_client` are the traffic endpoints run inside the namespaces.
"""

import atexit
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

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"
PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))

# The address plan (fixed: every run has its own namespaces).
CLIENT_LAN = "192.168.77.0/24"
CLIENT_ADDR = "192.168.77.2"
NAT_LAN_ADDR = "192.168.77.1"
NAT_WAN_ADDR = "198.51.100.2"
CLIENT_PUBLIC_NO_NAT = "198.51.100.10"
INTERNET = "198.51.100.0/24"
GW_OUTSIDE = "198.51.100.1"
GW_INSIDE = "10.1.0.1"
INSIDE_NET = "10.1.0.0/24"
SERVER_ADDR = "10.1.0.10"
POOL = "10.99.0.0/24"
POOL_DNS = "10.1.0.53"
SPLIT_DNS_DOMAIN = "corp.traverse.lab"
# Dual stack inside (Lab(ipv6=True)); an IPv6 Office Mode pool beside POOL.
INSIDE_NET6 = "fd00:1::/64"
GW_INSIDE6 = "fd00:1::1"
SERVER_ADDR6 = "fd00:1::10"
POOL6 = "fd00:99::/64"
POOL6_DNS = "fd00:1::53"
PEER_ADDR = "198.51.100.20"
PEER_NET = "10.2.0.0/24"
PEER_LAN_ADDR = "10.2.0.1"
PEER_HOST_ADDR = "10.2.0.10"
GW_ID = "gw.traverse.lab"
CLIENT_ID = "client@traverse.lab"
PEER_ID = "peer.traverse.lab"

# Proposals both strongSwan (gmp/openssl/gcm plugins) and the dataplane do.
IKE_PROPOSALS = ["aes256gcm16-prfsha384-ecp384", "aes128gcm16-prfsha256-x25519",
                 "aes256-sha256-modp2048"]
ESP_PROPOSALS = ["aes128gcm16", "aes256gcm16", "aes128-sha256"]


class LabError(Exception):
    """A lab step failed; the message says which and why."""


def log(msg=""):
    print(msg, flush=True)


def text_of(path, tail=None):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    if tail:
        lines = lines[-tail:]
    return "\n".join(lines)


def wait_for(what, predicate, timeout, proc=None, interval=0.1):
    """Polls predicate until it returns a true value (returned) or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise LabError(f"waiting for {what}: {proc.name} exited ({proc.returncode})")
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def run(argv, timeout=30, check=True, ns=None, env=None, input_text=None):
    """Runs argv (in namespace ns), returns the CompletedProcess."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                           input=input_text)
    except subprocess.TimeoutExpired as e:
        raise LabError(f"{' '.join(argv)}: timed out after {timeout}s") from e
    if check and r.returncode != 0:
        raise LabError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")
    return r


class Proc:
    """A background process with its output in files."""

    def __init__(self, name, argv, work, env=None, ns=None):
        self.name = name
        self.out = os.path.join(work, f"{name}.out")
        self.err = os.path.join(work, f"{name}.err")
        if ns:
            argv = ["ip", "netns", "exec", ns] + list(argv)
        self.argv = argv
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=err, env=env,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.popen.pid

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def send(self, sig):
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """SIGTERM (or sig), then SIGKILL after timeout; returns the exit code."""
        if self.popen.poll() is None:
            self.send(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"   {self.name} (pid {self.pid}) ignored {signal.Signals(sig).name} "
                    f"for {timeout}s: SIGKILL")
                self.send(signal.SIGKILL)
                self.popen.wait(5)
        return self.popen.returncode


# ---------------------------------------------------------------------------
# swanctl.conf


def swanctl_text(tree, indent=0):
    """Renders nested dicts as swanctl.conf: one `key = value` per line
    (values run to the end of the line), lists joined with commas."""
    pad = "    " * indent
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key} {{")
            lines.append(swanctl_text(value, indent + 1))
            lines.append(f"{pad}}}")
        else:
            if isinstance(value, (list, tuple)):
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            if "\n" in str(value):
                raise LabError(f"swanctl.conf value for {key} has a newline")
            lines.append(f"{pad}{key} = {value}")
    return "\n".join(lines)


def parse_pretty(text):
    """Parses swanctl's --pretty output (`name {`, `key = value`, `key = [`
    ... `]`, `}`) into nested dicts; returns the list of top-level events."""
    events = []
    stack = []
    list_key = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if list_key is not None:
            if line == "]":
                list_key = None
            else:
                stack[-1][list_key].append(line)
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            node = {}
            if stack:
                stack[-1][name] = node
            else:
                events.append((name, node))
            stack.append(node)
        elif line == "}":
            if stack:
                stack.pop()
        elif " = " in line or line.endswith(" ="):
            key, _, value = line.partition(" =")
            value = value.strip()
            if value == "[":
                stack[-1][key] = []
                list_key = key
            elif stack:
                stack[-1][key] = value
    return events


# ---------------------------------------------------------------------------
# charon


class Charon:
    """One charon (kernel-libipsec) in namespace ns, with a private /run, its
    own strongswan.conf, vici socket, swanctl directory and log file."""

    def __init__(self, lab, name, ns, fragment_size=1280, debug_enc=False):
        self.lab, self.name, self.ns = lab, name, ns
        self.dir = os.path.join(lab.work, name)
        self.swanctl_dir = os.path.join(self.dir, "swanctl")
        for sub in ("x509", "x509ca", "x509crl", "x509ocsp", "x509aa", "x509ac", "pubkey",
                    "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12", "conf.d"):
            os.makedirs(os.path.join(self.swanctl_dir, sub), exist_ok=True)
        self.conf = os.path.join(self.dir, "strongswan.conf")
        self.socket = os.path.join(self.dir, "charon.vici")
        self.logfile = os.path.join(self.dir, "charon.log")
        self.resolv = os.path.join(self.dir, "resolv.conf")
        self.fragment_size = fragment_size
        # enc level 3 dumps parsed payload fields, the only place strongSwan
        # 5.9.8 shows the values of configuration attributes it has no
        # handler for (INTERNAL_DNS_DOMAIN, INTERNAL_IP4_SUBNET).
        self.debug_enc = debug_enc
        self.proc = None
        self.tree = {}
        self._write_strongswan_conf()
        self.env = dict(os.environ, STRONGSWAN_CONF=self.conf, SWANCTL_DIR=self.swanctl_dir)

    def _write_strongswan_conf(self):
        plugins = ("random nonce aes sha1 sha2 hmac gcm pem pkcs1 pkcs8 x509 revocation "
                   "constraints pubkey gmp openssl kdf attr kernel-libipsec kernel-netlink "
                   "socket-default vici updown resolve")
        with open(self.conf, "w") as f:
            f.write(f"""# generated by ikelab.py for {self.name}
charon {{
    load = {plugins}
    install_routes = yes
    retransmit_timeout = 2
    retransmit_tries = 3
    fragment_size = {self.fragment_size}
    filelog {{
        lab {{
            path = {self.logfile}
            time_format = %H:%M:%S
            flush_line = yes
            ike_name = yes
            default = 1
            ike = 2
            cfg = 2
            knl = 2
            net = 2
            enc = {3 if self.debug_enc else 1}
        }}
    }}
    syslog {{
        daemon {{
            default = -1
        }}
    }}
    plugins {{
        vici {{
            socket = unix://{self.socket}
        }}
        kernel-libipsec {{
            load = yes
        }}
        bypass-lan {{
            load = no
        }}
        resolve {{
            file = {self.resolv}
        }}
    }}
}}
swanctl {{
    load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl gmp random
    socket = unix://{self.socket}
}}
""")

    # -- life cycle --------------------------------------------------------

    def start(self, timeout=15):
        if not os.access(CHARON, os.X_OK):
            raise LabError(f"{CHARON} missing: install strongswan-charon")
        script = f"mount -t tmpfs tmpfs /run && exec {CHARON}"
        self.proc = Proc(f"charon-{self.name}", ["unshare", "-m", "sh", "-c", script],
                         self.lab.work, env=self.env, ns=self.ns)
        self.lab.procs.append(self.proc)
        wait_for(f"charon {self.name} vici socket", lambda: os.path.exists(self.socket),
                 timeout, self.proc)
        wait_for(f"charon {self.name} to answer", lambda: self.swanctl(
            ["--stats"], check=False).returncode == 0, timeout, self.proc)
        missing = re.findall(r"plugin '([\w-]+)' failed to load", text_of(self.logfile)
                             + text_of(self.proc.err))
        if missing:
            raise LabError(f"charon {self.name}: plugins not loaded: {missing} (kernel-libipsec: "
                           "libcharon-extra-plugins; openssl, gcm: libstrongswan-standard-plugins)")
        return self

    def stop(self, timeout=10):
        if self.proc is None:
            return None
        rc = self.proc.stop(timeout=timeout)
        return rc

    def swanctl(self, args, timeout=30, check=True):
        return run([SWANCTL] + list(args), timeout=timeout, check=check, env=self.env)

    def log_tail(self, n=40):
        return text_of(self.logfile, n)

    def log_text(self):
        return text_of(self.logfile)

    # -- configuration -----------------------------------------------------

    def load(self, tree):
        """Writes tree as swanctl.conf and loads it (connections, secrets,
        pools, authorities, certificates)."""
        self.tree = tree
        path = os.path.join(self.swanctl_dir, "swanctl.conf")
        with open(path, "w") as f:
            f.write(swanctl_text(tree) + "\n")
        r = self.swanctl(["--load-all", "--noprompt", "--file", path], timeout=30, check=False)
        out = r.stdout + r.stderr
        if r.returncode != 0 or "failed" in out:
            raise LabError(f"swanctl --load-all for {self.name} failed:\n{out}")
        return out

    def install_cert(self, cert=None, key=None, cas=(), intermediates=(), crls=()):
        """Copies PEM files where swanctl --load-creds finds them: cas are
        trust anchors (x509ca); intermediates go to x509 as untrusted
        certificates, which charon then sends as the chain ("sending issuer
        cert") and the peer must verify up to its own anchor. Returns the
        file names to use in swanctl.conf."""
        names = {}
        for im in intermediates:
            shutil.copy(im, os.path.join(self.swanctl_dir, "x509", os.path.basename(im)))
        if cert:
            names["cert"] = os.path.basename(cert)
            shutil.copy(cert, os.path.join(self.swanctl_dir, "x509", names["cert"]))
        if key:
            shutil.copy(key, os.path.join(self.swanctl_dir, "private", os.path.basename(key)))
        for ca in cas:
            shutil.copy(ca, os.path.join(self.swanctl_dir, "x509ca", os.path.basename(ca)))
        for crl in crls:
            shutil.copy(crl, os.path.join(self.swanctl_dir, "x509crl", os.path.basename(crl)))
        return names

    # -- actions -----------------------------------------------------------

    def initiate(self, child, ike=None, timeout=30):
        """swanctl --initiate (blocks until the CHILD_SA is up or failed);
        returns True on success, the output is in self.last_output."""
        args = ["--initiate", "--child", child, "--timeout", str(timeout)]
        if ike:
            args += ["--ike", ike]
        r = self.swanctl(args, timeout=timeout + 10, check=False)
        self.last_output = r.stdout + r.stderr
        return r.returncode == 0 and "initiate completed successfully" in self.last_output

    def terminate(self, ike=None, child=None, timeout=20):
        args = ["--terminate", "--timeout", str(timeout)]
        args += ["--ike", ike] if ike else ["--child", child]
        r = self.swanctl(args, timeout=timeout + 10, check=False)
        self.last_output = r.stdout + r.stderr
        return r.returncode == 0

    def rekey(self, ike=None, child=None):
        """Starts a rekey (swanctl returns before it completes)."""
        args = ["--rekey"] + (["--ike", ike] if ike else ["--child", child])
        r = self.swanctl(args, check=False)
        self.last_output = r.stdout + r.stderr
        return r.returncode == 0

    def list_sas(self, ike=None):
        """The IKE SAs as dicts from `swanctl --list-sas --pretty`:
        {name, uniqueid, state, local-host, local-port, remote-host,
        remote-port, nat-local, nat-remote, nat-any, local-vips, remote-vips,
        child-sas: {name: {state, spi-in, spi-out, bytes-in, packets-in,
        bytes-out, packets-out, encap, local-ts, remote-ts, ...}}}."""
        args = ["--list-sas", "--pretty"] + (["--ike", ike] if ike else [])
        out = self.swanctl(args).stdout
        sas = []
        for event, body in parse_pretty(out):
            if event != "list-sa event":
                continue
            for name, sa in body.items():
                sa = dict(sa, name=name)
                children = sa.get("child-sas", {})
                for cname, child in children.items():
                    child["key"] = cname
                    child.setdefault("name", cname)
                    for k in ("bytes-in", "bytes-out", "packets-in", "packets-out"):
                        if k in child:
                            child[k] = int(child[k])
                sa["child-sas"] = children
                sas.append(sa)
        return sas

    def ike_sa(self, ike=None):
        """The single IKE SA (of connection ike), or None."""
        sas = [s for s in self.list_sas(ike) if s.get("state") == "ESTABLISHED"]
        return sas[0] if sas else None

    def installed_children(self, ike=None):
        sa = self.ike_sa(ike)
        if not sa:
            return []
        return [c for c in sa["child-sas"].values() if c.get("state") == "INSTALLED"]

    # -- what the client received -------------------------------------------

    def dns_servers(self):
        """DNS servers installed by the resolve plugin (from its file; the log
        as a fallback when resolvconf was used)."""
        servers = re.findall(r"^nameserver\s+(\S+)", text_of(self.resolv), re.M)
        if not servers:
            servers = re.findall(r"installing DNS server (\S+)", self.log_text())
        return servers

    def received_attributes(self):
        """The configuration attribute types charon processed (its log at
        ike level 2: `processing INTERNAL_IP4_DNS attribute`)."""
        return re.findall(r"processing (\w+) attribute", self.log_text())

    def attribute_values(self, type_name):
        """Values of a received attribute, decoded from the enc-level-3 payload
        dump (needs debug_enc=True): strings for INTERNAL_DNS_DOMAIN, CIDRs
        for INTERNAL_IP4_SUBNET."""
        if not self.debug_enc:
            raise LabError(f"charon {self.name}: attribute values need debug_enc=True "
                           "(enc log level 3)")
        return [decode_attribute(type_name, v) for v in attribute_dumps(self.log_text(),
                                                                        type_name)]

    def split_dns_domains(self):
        return self.attribute_values("INTERNAL_DNS_DOMAIN")

    def split_subnets(self):
        return self.attribute_values("INTERNAL_IP4_SUBNET")

    def split_subnets6(self):
        return self.attribute_values("INTERNAL_IP6_SUBNET")


ATTRIBUTE_TYPES = {"INTERNAL_IP4_ADDRESS": 1, "INTERNAL_IP4_NETMASK": 2, "INTERNAL_IP4_DNS": 3,
                   "INTERNAL_IP6_ADDRESS": 8, "INTERNAL_IP6_DNS": 10, "INTERNAL_IP4_SUBNET": 13,
                   "INTERNAL_IP6_SUBNET": 15, "INTERNAL_DNS_DOMAIN": 25}


def attribute_dumps(text, type_name):
    """The raw values of received configuration attributes of type_name,
    from a charon log at enc level 3."""
    return parse_attribute_dumps(text).get(type_name, [])


def parse_attribute_dumps(text):
    """strongSwan 5.9.8 logs each parsed CONFIGURATION_ATTRIBUTE payload
    (enc level 3) as `parsing CONFIGURATION_ATTRIBUTE payload`, `parsing rule
    1 ATTRIBUTE_TYPE` / `=> 25`, `parsing rule 3 ATTRIBUTE_VALUE` / `=> 17
    bytes @ 0x..` / hex dump lines `0: 63 6F ..` and `.. payload finished`.
    Only received (parsed) attributes are taken, not generated ones.
    Returns {type name or number: [bytes, ...]}."""
    by_type = {}
    names = {v: k for k, v in ATTRIBUTE_TYPES.items()}
    inside = False
    attr_type = None
    want = None
    data = None
    for line in text.splitlines():
        if "parsing CONFIGURATION_ATTRIBUTE payload" in line:
            inside = not line.rstrip().endswith("finished")
            if not inside and data is not None and attr_type is not None:
                by_type.setdefault(attr_type, []).append(bytes(data[:want]))
            if inside:
                attr_type, want, data, expect = None, None, None, None
            continue
        if not inside:
            continue
        m = re.search(r"parsing rule \d+ (\w+)\s*$", line)
        if m:
            expect = m.group(1)
            continue
        m = re.search(r"\] <[^>]*>\s+=> (\d+)( bytes @)?", line) or \
            re.search(r"\]\s+=> (\d+)( bytes @)?", line)
        if m:
            if expect == "ATTRIBUTE_TYPE":
                number = int(m.group(1)) & 0x7FFF
                attr_type = names.get(number, number)
            elif expect == "ATTRIBUTE_VALUE" and m.group(2):
                want, data = int(m.group(1)), bytearray()
            continue
        if data is not None:
            h = re.search(r"\s(\d+):((?: [0-9A-F]{2}){1,16})", line)
            if h:
                data += bytes.fromhex(h.group(2).replace(" ", ""))
    return by_type


def decode_attribute(type_name, value):
    if type_name == "INTERNAL_DNS_DOMAIN":
        return value.decode(errors="replace")
    if type_name == "INTERNAL_IP4_SUBNET" and len(value) == 8:
        addr = socket.inet_ntoa(value[:4])
        mask = bin(int.from_bytes(value[4:], "big")).count("1")
        return f"{addr}/{mask}"
    if type_name in ("INTERNAL_IP6_SUBNET", "INTERNAL_IP6_ADDRESS") and len(value) == 17:
        # RFC 7296 3.15.1: 16 bytes of address, one of prefix length.
        return f"{socket.inet_ntop(socket.AF_INET6, value[:16])}/{value[16]}"
    if len(value) == 16:
        return socket.inet_ntop(socket.AF_INET6, value)
    if len(value) == 4:
        return socket.inet_ntoa(value)
    return value.hex()


# ---------------------------------------------------------------------------
# the topology


def _disable_tx_csum(ns, dev):
    """A veth otherwise hands its peer packets with only the partial checksum
    (CHECKSUM_PARTIAL); an af_packet reader such as the dataplane would see
    and forward them as is. ethtool when installed, else the ioctl."""
    if shutil.which("ethtool"):
        run(["ethtool", "-K", dev, "tx", "off"], ns=ns, check=False)
        return
    code = ("import ctypes, fcntl, socket, struct, sys\n"
            "v = ctypes.create_string_buffer(struct.pack('II', 0x17, 0))\n"
            "r = struct.pack('16sP', sys.argv[1].encode(), ctypes.addressof(v)).ljust(40, b'\\0')\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "fcntl.ioctl(s, 0x8946, r)\n")
    run([PY, "-c", code, dev], ns=ns)


class Lab:
    """The namespaces of one run. gateway: "strongswan" or "traverse";
    nat: client behind the masquerading nat; site: also peer + host;
    ipv6: dual stack on the inside network (see the module docstring)."""

    _open = []

    def __init__(self, gateway="strongswan", nat=True, site=False, keep=False, runid=None,
                 build_dir=None, ipv6=False):
        if gateway not in ("strongswan", "traverse"):
            raise LabError(f"gateway must be strongswan or traverse, not {gateway!r}")
        self.gateway_mode, self.nat, self.site, self.keep = gateway, nat, site, keep
        self.ipv6 = ipv6
        self.build_dir = build_dir
        self.runid = runid or f"{os.getpid() % 100000}{random.randrange(16**3):03x}"
        self.work = tempfile.mkdtemp(prefix=f"ikelab-{self.runid}-")
        self.procs = []
        self.charons = []
        self.namespaces = []
        self.traverse = None
        self.client_public = NAT_WAN_ADDR if nat else CLIENT_PUBLIC_NO_NAT
        self.client_addr = CLIENT_ADDR if nat else CLIENT_PUBLIC_NO_NAT
        self.closed = False
        Lab._open.append(self)

    def ns(self, node):
        return f"ikl-{self.runid}-{node}"

    # -- building ----------------------------------------------------------

    def _new_ns(self, node):
        name = self.ns(node)
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        if self.ipv6 and node in ("client", "gw", "server"):
            # No duplicate address detection: addresses usable at once.
            v6 = ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        else:
            v6 = ("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        for key in v6 + ("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"):
            run(["sysctl", "-qw", key], ns=name)

    def _link(self, a, ifa, b, ifb):
        run(["ip", "-n", self.ns(a), "link", "add", ifa, "type", "veth", "peer", "name", ifb,
             "netns", self.ns(b)])
        run(["ip", "-n", self.ns(a), "link", "set", ifa, "up"])
        run(["ip", "-n", self.ns(b), "link", "set", ifb, "up"])

    def _addr(self, node, dev, cidr):
        run(["ip", "-n", self.ns(node), "addr", "add", cidr, "dev", dev])

    def _route(self, node, *args):
        run(["ip", "-n", self.ns(node), "route", "add"] + list(args))

    def _forwarding(self, node):
        run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns=self.ns(node))

    def _bridge_port(self, _node, dev):
        """Joins dev (an interface in inet) to the bridge br0."""
        run(["ip", "-n", self.ns("inet"), "link", "set", dev, "master", "br0"])

    def up(self):
        for tool in ("ip", "nft", "unshare", "openssl", SWANCTL):
            if not shutil.which(tool):
                raise LabError(f"{tool} not installed (iproute2, nftables, util-linux, openssl, "
                               "strongswan-swanctl)")
        nodes = ["inet", "client", "gw", "server"] + (["nat"] if self.nat else [])
        nodes += ["peer", "host"] if self.site else []
        for n in nodes:
            self._new_ns(n)
        inet = self.ns("inet")
        run(["ip", "-n", inet, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", inet, "link", "set", "br0", "up"])

        # client side
        if self.nat:
            self._link("client", "eth0", "nat", "lan0")
            self._addr("client", "eth0", f"{CLIENT_ADDR}/24")
            self._addr("nat", "lan0", f"{NAT_LAN_ADDR}/24")
            self._route("client", "default", "via", NAT_LAN_ADDR)
            self._link("inet", "p-nat", "nat", "wan0")
            self._bridge_port("inet", "p-nat")
            self._addr("nat", "wan0", f"{NAT_WAN_ADDR}/24")
            self._forwarding("nat")
            run(["nft", "-f", "-"], ns=self.ns("nat"), input_text=(
                "table ip nat {\n chain post {\n  type nat hook postrouting priority 100;\n"
                "  oifname \"wan0\" masquerade\n }\n}\n"))
            _disable_tx_csum(self.ns("nat"), "wan0")
        else:
            self._link("inet", "p-client", "client", "eth0")
            self._bridge_port("inet", "p-client")
            self._addr("client", "eth0", f"{CLIENT_PUBLIC_NO_NAT}/24")
            _disable_tx_csum(self.ns("client"), "eth0")

        # gateway and server
        self._link("inet", "p-gw", "gw", "out0")
        self._bridge_port("inet", "p-gw")
        self._link("gw", "in0", "server", "eth0")
        self._addr("server", "eth0", f"{SERVER_ADDR}/24")
        self._route("server", "default", "via", GW_INSIDE)
        _disable_tx_csum(self.ns("server"), "eth0")
        if self.ipv6:
            self._addr("server", "eth0", f"{SERVER_ADDR6}/64")
            run(["ip", "-n", self.ns("server"), "-6", "route", "add", "default", "via",
                 GW_INSIDE6])
        if self.gateway_mode == "strongswan":
            self._addr("gw", "out0", f"{GW_OUTSIDE}/24")
            self._addr("gw", "in0", f"{GW_INSIDE}/24")
            if self.ipv6:
                self._addr("gw", "in0", f"{GW_INSIDE6}/64")
                run(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"], ns=self.ns("gw"))
            self._forwarding("gw")
        else:
            if self.ipv6:
                # The dataplane owns these ports; the TAPs carry the kernel's IPv6.
                for dev in ("out0", "in0"):
                    run(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"],
                        ns=self.ns("gw"))
            self._isolate_port("out0")
            self._isolate_port("in0")

        if self.site:
            self._link("inet", "p-peer", "peer", "eth0")
            self._bridge_port("inet", "p-peer")
            self._addr("peer", "eth0", f"{PEER_ADDR}/24")
            self._link("peer", "lan0", "host", "eth0")
            self._addr("peer", "lan0", f"{PEER_LAN_ADDR}/24")
            self._addr("host", "eth0", f"{PEER_HOST_ADDR}/24")
            self._route("host", "default", "via", PEER_LAN_ADDR)
            self._forwarding("peer")
            _disable_tx_csum(self.ns("peer"), "eth0")
            _disable_tx_csum(self.ns("host"), "eth0")
        return self

    def _isolate_port(self, dev):
        """Keeps the gw kernel off a dataplane port: af_packet sees frames
        before the netdev ingress hook, the kernel's stack only after it."""
        gw = self.ns("gw")
        run(["ip", "-n", gw, "link", "set", dev, "arp", "off"])
        run(["nft", "-f", "-"], ns=gw, input_text=(
            f"table netdev ikelab_{dev} {{\n chain ingress {{\n  type filter hook ingress "
            f"device \"{dev}\" priority 0; policy drop;\n }}\n}}\n"))

    # -- nodes -------------------------------------------------------------

    def charon(self, name, node, **kw):
        c = Charon(self, name, self.ns(node), **kw)
        self.charons.append(c)
        return c

    def start(self, name, node, argv, env=None):
        p = Proc(name, argv, self.work, env=env, ns=self.ns(node) if node else None)
        self.procs.append(p)
        return p

    # -- teardown ----------------------------------------------------------

    def close(self, failed=False):
        if self.closed:
            return
        self.closed = True
        if failed:
            for c in self.charons:
                log(f"   --- charon {c.name} log (tail), full log in {c.logfile}:")
                log(c.log_tail(40))
            if self.traverse:
                self.traverse.print_logs()
        if self.keep:
            log(f"   --keep: lab {self.runid} left up (namespaces {self.ns('*')}, work "
                f"{self.work}); remove with: ikelab.py down {self.runid}")
            return
        for c in self.charons:
            c.stop(timeout=5)
        if self.traverse:
            self.traverse.stop()
        for p in reversed(self.procs):
            p.stop(timeout=5)
        down(self.runid, self.namespaces)
        if failed:
            log(f"   logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, _exc, _tb):
        self.close(failed=exc_type is not None)
        return False


def down(runid, namespaces=None):
    """Stops what runs in the lab's namespaces (TERM, then KILL) and deletes them."""
    if namespaces is None:
        listed = run(["ip", "netns", "list"]).stdout.split("\n")
        namespaces = [ln.split()[0] for ln in listed if ln.startswith(f"ikl-{runid}-")]
    for name in namespaces:
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(int(pid), sig)
                except (ProcessLookupError, ValueError):
                    pass
            for _ in range(20):
                pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
                if not pids:
                    break
                time.sleep(0.1)
            if not pids:
                break
        run(["ip", "netns", "delete", name], check=False)


def _close_all(failed=False):
    for lab in list(Lab._open):
        lab.close(failed)


def install_signal_handlers():
    """SIGTERM/SIGINT raise (so finally blocks clean up); atexit closes any
    lab still open."""
    def on_signal(signum, _frame):
        raise LabError(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not getattr(install_signal_handlers, "registered", False):
        atexit.register(_close_all)
        install_signal_handlers.registered = True


# ---------------------------------------------------------------------------
# swanctl configurations of the roles


def _auth(kind, ident, cert=None, cacerts=None):
    side = {"auth": kind, "id": ident}
    if kind == "pubkey" and cert:
        side["certs"] = cert
    if cacerts:
        side["cacerts"] = cacerts
    return side


def road_warrior_client(psk="lab-psk-0123456789", auth="psk", cert=None, client_id=CLIENT_ID,
                        gw_id=GW_ID, gw_addr=GW_OUTSIDE, ike_proposals=IKE_PROPOSALS,
                        esp_proposals=ESP_PROPOSALS, remote_ts=(INSIDE_NET,), vip=True,
                        cacerts=None, fragmentation=True, name="home", vips=("0.0.0.0",)):
    """The client's swanctl tree: connection and child `name`, asking for a
    virtual IP (vips = 0.0.0.0; the resolve plugin then asks for DNS; ("0.0.0.0",
    "::") for one of each family)."""
    conn = {
        "version": 2,
        "remote_addrs": gw_addr,
        "proposals": list(ike_proposals),
        "fragmentation": "yes" if fragmentation else "no",
        "rekey_time": "0",
        "local": _auth(auth, client_id, cert),
        "remote": _auth(auth, gw_id, cacerts=cacerts),
        "children": {name: {"remote_ts": list(remote_ts), "esp_proposals": list(esp_proposals),
                            "rekey_time": "0", "dpd_action": "clear"}},
    }
    if vip:
        conn["vips"] = list(vips)
    tree = {"connections": {name: conn}}
    if auth == "psk":
        tree["secrets"] = {"ike-lab": {"id-gw": gw_id, "id-client": client_id, "secret": psk}}
    elif cert:
        tree["secrets"] = {}
    return tree


def road_warrior_gateway(psk="lab-psk-0123456789", auth="psk", cert=None, gw_id=GW_ID,
                         remote_id="%any", ike_proposals=IKE_PROPOSALS,
                         esp_proposals=ESP_PROPOSALS, local_ts=(INSIDE_NET,), pool=POOL,
                         dns=(POOL_DNS,), split_dns=(SPLIT_DNS_DOMAIN,),
                         split_include=(INSIDE_NET,), cacerts=None, name="rw"):
    """strongSwan as the remote-access responder: pool with DNS, split DNS
    (INTERNAL_DNS_DOMAIN, numeric type 25) and INTERNAL_IP4_SUBNET."""
    pool_def = {"addrs": pool}
    if dns:
        pool_def["dns"] = list(dns)
    if split_include:
        pool_def["subnet"] = list(split_include)
    if split_dns:
        pool_def["25"] = list(split_dns)
    tree = {
        "connections": {name: {
            "version": 2,
            "local_addrs": GW_OUTSIDE,
            "pools": "office",
            "proposals": list(ike_proposals),
            "fragmentation": "yes",
            "rekey_time": "0",
            "local": _auth(auth, gw_id, cert),
            "remote": _auth(auth, remote_id, cacerts=cacerts),
            "children": {name: {"local_ts": list(local_ts), "esp_proposals": list(esp_proposals),
                                "rekey_time": "0"}},
        }},
        "pools": {"office": pool_def},
    }
    if auth == "psk":
        tree["secrets"] = {"ike-lab": {"secret": psk}}
    return tree


def site_peer(psk="lab-site-psk-0123456789", gw_id=GW_ID, peer_id=PEER_ID,
              ike_proposals=IKE_PROPOSALS, esp_proposals=ESP_PROPOSALS, name="site"):
    """The site-to-site responder in `peer` (10.2.0.0/24 <-> 10.1.0.0/24)."""
    return {
        "connections": {name: {
            "version": 2,
            "local_addrs": PEER_ADDR,
            "remote_addrs": GW_OUTSIDE,
            "proposals": list(ike_proposals),
            "rekey_time": "0",
            "local": _auth("psk", peer_id),
            "remote": _auth("psk", gw_id),
            "children": {name: {"local_ts": PEER_NET, "remote_ts": INSIDE_NET,
                                "esp_proposals": list(esp_proposals), "rekey_time": "0"}},
        }},
        "secrets": {"ike-site": {"id-gw": gw_id, "id-peer": peer_id, "secret": psk}},
    }


def site_initiator(psk="lab-site-psk-0123456789", gw_id=GW_ID, peer_id=PEER_ID,
                   ike_proposals=IKE_PROPOSALS, esp_proposals=ESP_PROPOSALS, name="site"):
    """The strongSwan gateway's side of the site-to-site connection."""
    return {
        "connections": {name: {
            "version": 2,
            "local_addrs": GW_OUTSIDE,
            "remote_addrs": PEER_ADDR,
            "proposals": list(ike_proposals),
            "rekey_time": "0",
            "local": _auth("psk", gw_id),
            "remote": _auth("psk", peer_id),
            "children": {name: {"local_ts": INSIDE_NET, "remote_ts": PEER_NET,
                                "esp_proposals": list(esp_proposals), "rekey_time": "0"}},
        }},
        "secrets": {"ike-site": {"id-gw": gw_id, "id-peer": peer_id, "secret": psk}},
    }


def merge(*trees):
    """Merges swanctl trees (sections combined, later values win)."""
    out = {}
    for tree in trees:
        for key, value in tree.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
    return out


# ---------------------------------------------------------------------------
# traffic


def parse_ping(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    if not m:
        return {"sent": 0, "received": 0, "loss": 1.0}
    sent, received = int(m.group(1)), int(m.group(2))
    return {"sent": sent, "received": received,
            "loss": (sent - received) / sent if sent else 1.0}


def ping(lab, node, dst, count=5, interval=0.2, timeout=30, src=None):
    """Pings dst from node; returns {sent, received, loss}."""
    argv = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "2"]
    if src:
        argv += ["-I", src]
    r = run(argv + [dst], ns=lab.ns(node), timeout=timeout, check=False)
    return parse_ping(r.stdout)


class BackgroundPing:
    """ping at 10 Hz in the background; loss() can be read at any time
    (sequence numbers answered vs sent so far), stop() returns the total."""

    def __init__(self, lab, node, dst, interval=0.1, name="bgping"):
        self.lab = lab
        self.proc = lab.start(name, node, ["ping", "-n", "-O", "-i", str(interval), "-W", "1",
                                           dst])

    def replies(self):
        out = text_of(self.proc.out)
        answered = {int(s) for s in re.findall(r"icmp_seq=(\d+) ttl=", out)}
        seqs = [int(s) for s in re.findall(r"icmp_seq=(\d+)", out)]
        return answered, (max(seqs) if seqs else 0)

    def mark(self):
        """The highest sequence number seen: pass to lost_since()."""
        return self.replies()[1]

    def lost_since(self, seq):
        """Sequence numbers after seq (up to the last answered one) without a reply."""
        answered, _ = self.replies()
        if not answered:
            return []
        last = max(answered)
        return [s for s in range(seq + 1, last + 1) if s not in answered]

    def stop(self):
        self.proc.stop(sig=signal.SIGINT, timeout=5)
        return parse_ping(text_of(self.proc.out))


def _payload(n, seed):
    """Deterministic pseudo-random bytes (both ends can produce them)."""
    rng = random.Random(seed)
    return rng.randbytes(n)


def tcp_server_main(addr, port, timeout):
    """In the server namespace: per connection, a line `UP n seed` (receive
    n bytes, answer `n sha256hex`) or `DOWN n seed` (send n bytes)."""
    srv = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    srv.settimeout(timeout)
    print("listening", flush=True)
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            return 0
        with conn:
            conn.settimeout(timeout)
            f = conn.makefile("rb")
            cmd, n, seed = f.readline().decode().split()
            n, seed = int(n), int(seed)
            if cmd == "UP":
                h, got = hashlib.sha256(), 0
                while got < n:
                    chunk = f.read1(min(65536, n - got)) if hasattr(f, "read1") else f.read(
                        min(65536, n - got))
                    if not chunk:
                        break
                    h.update(chunk)
                    got += len(chunk)
                conn.sendall(f"{got} {h.hexdigest()}\n".encode())
            elif cmd == "DOWN":
                conn.sendall(_payload(n, seed))
                conn.shutdown(socket.SHUT_WR)
                f.read()


def tcp_client_main(addr, port, direction, n, seed, timeout):
    """In the client namespace: one transfer; prints a JSON result."""
    data = _payload(n, seed)
    expected = hashlib.sha256(data).hexdigest()
    t0 = time.monotonic()
    with socket.create_connection((addr, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(f"{direction} {n} {seed}\n".encode())
        if direction == "UP":
            s.sendall(data)
            reply = s.makefile("rb").readline().decode().split()
            got, digest = int(reply[0]), reply[1]
        else:
            h, got = hashlib.sha256(), 0
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                h.update(chunk)
                got += len(chunk)
            digest = h.hexdigest()
    seconds = time.monotonic() - t0
    print(json.dumps({"direction": direction, "bytes": got, "expected_bytes": n,
                      "hash_ok": digest == expected and got == n, "seconds": seconds,
                      "mbit_s": got * 8 / seconds / 1e6 if seconds else 0}))
    return 0


def tcp_transfer(lab, direction, mib=4, client_node="client", server_node="server",
                 server_addr=SERVER_ADDR, port=5201, timeout=60):
    """A TCP transfer of mib MiB between client_node and server_node:
    direction "up" (client -> server) or "down". Returns {direction, bytes,
    expected_bytes, hash_ok, seconds, mbit_s}."""
    direction = direction.upper()
    n = int(mib * 1024 * 1024)
    seed = random.randrange(1 << 30)
    me = os.path.abspath(__file__)
    srv = lab.start(f"tcp-server-{direction.lower()}-{port}", server_node,
                    [PY, me, "_tcp_server", server_addr, str(port), str(timeout)])
    try:
        wait_for("tcp server", lambda: "listening" in text_of(srv.out), 10, srv)
        r = run([PY, me, "_tcp_client", server_addr, str(port), direction, str(n), str(seed),
                 str(timeout)], ns=lab.ns(client_node), timeout=timeout + 10, check=False)
        if r.returncode != 0:
            raise LabError(f"tcp {direction} transfer failed: {r.stderr.strip()[-500:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        srv.stop(timeout=3)


# ---------------------------------------------------------------------------
# PKI with the openssl CLI


class Pki:
    """A root CA with two chains of `intermediates` intermediate CAs below
    it, one issuing the gateway's certificate and one the clients'. Each side
    then holds only its own intermediates, so it must send them in IKE_AUTH
    (strongSwan sends a chain only up to a CA the peer asked for in CERTREQ,
    and treats every CA it has loaded as trusted). kind: "ecdsa" (P-256) or
    "rsa" (2048). big=True adds 3 more intermediates per chain and large
    extensions so an IKE_AUTH message with a chain is far beyond 1500 bytes
    (IKE fragmentation needed)."""

    def __init__(self, directory, kind="ecdsa", intermediates=1, big=False):
        if kind not in ("ecdsa", "rsa"):
            raise LabError(f"PKI kind must be ecdsa or rsa, not {kind!r}")
        self.dir, self.kind, self.big = directory, kind, big
        os.makedirs(directory, exist_ok=True)
        self.serial = 1
        if big:
            intermediates += 3
        self.root = self._ca("root", None, "Traverse Lab Root CA")
        self.gw_chain = self._chain("gwint", intermediates, "Gateway")
        self.client_chain = self._chain("clint", intermediates, "Client")

    def _chain(self, prefix, count, what):
        """count intermediates below the root, root side first."""
        chain, issuer = [], self.root
        for i in range(count):
            issuer = self._ca(f"{prefix}{i + 1}", issuer, f"Traverse Lab {what} CA {i + 1}")
            chain.append(issuer)
        return chain

    def _path(self, name, ext):
        return os.path.join(self.dir, f"{name}.{ext}")

    def _openssl(self, args):
        return run(["openssl"] + args, timeout=60)

    def _key(self, name):
        key = self._path(name, "key")
        if self.kind == "ecdsa":
            self._openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-out", key])
        else:
            self._openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                           "-out", key])
        return key

    def _filler(self):
        # A long nsComment: large extensions, as real enterprise chains have.
        return "nsComment = \"" + ("Traverse lab padding " * 30).strip() + "\"\n"

    def _sign(self, name, subject, issuer, extensions, days=30):
        """Creates name.key/.pem: self-signed when issuer is None."""
        key = self._key(name)
        cert = self._path(name, "pem")
        ext_file = self._path(name, "ext")
        with open(ext_file, "w") as f:
            f.write("[ext]\n" + extensions + (self._filler() if self.big else ""))
        self.serial += 1
        if issuer is None:
            self._openssl(["req", "-new", "-x509", "-key", key, "-subj", subject, "-days",
                           str(days), "-sha256", "-set_serial", str(self.serial), "-out", cert,
                           "-config", ext_file, "-extensions", "ext"])
        else:
            csr = self._path(name, "csr")
            self._openssl(["req", "-new", "-key", key, "-subj", subject, "-out", csr,
                           "-config", ext_file])
            self._openssl(["x509", "-req", "-in", csr, "-CA", issuer["cert"], "-CAkey",
                           issuer["key"], "-set_serial", str(self.serial), "-days", str(days),
                           "-sha256", "-extfile", ext_file, "-extensions", "ext", "-out", cert])
        return {"name": name, "key": key, "cert": cert, "subject": subject,
                "serial": self.serial}

    def _ca(self, name, issuer, cn):
        ext = ("basicConstraints = critical, CA:true\n"
               "keyUsage = critical, keyCertSign, cRLSign\n"
               "subjectKeyIdentifier = hash\n")
        if issuer is not None:
            ext += "authorityKeyIdentifier = keyid\n"
        return self._sign(name, f"/C=CH/O=Traverse Lab/CN={cn}", issuer, ext, days=60)

    def leaf(self, name, dns=None, email=None, cn=None, chain=None):
        """A leaf certificate with SAN DNS:dns and/or email:email, issued by
        the last CA of chain (default: the client chain)."""
        chain = self.client_chain if chain is None else chain
        issuer = chain[-1] if chain else self.root
        sans = ([f"DNS:{dns}"] if dns else []) + ([f"email:{email}"] if email else [])
        ext = ("basicConstraints = CA:false\n"
               "keyUsage = critical, digitalSignature\n"
               "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
        if sans:
            ext += "subjectAltName = " + ", ".join(sans) + "\n"
        if self.big:
            # Many SANs: a large leaf as well.
            ext = ext.replace("subjectAltName = ", "subjectAltName = " + ", ".join(
                f"DNS:alt{i}.traverse.lab" for i in range(40)) + ", ") if sans else ext
        cn = cn or dns or email or name
        cert = self._sign(name, f"/C=CH/O=Traverse Lab/CN={cn}", issuer, ext)
        cert["chain"] = list(chain)
        return cert

    def gateway(self):
        return self.leaf("gw", dns=GW_ID, chain=self.gw_chain)

    def client(self, email=CLIENT_ID):
        return self.leaf("client", email=email)

    def chain_pem(self, leaf):
        """A file with the leaf followed by the intermediates (leaf side first)."""
        path = self._path(f"{leaf['name']}-chain", "pem")
        with open(path, "w") as out:
            for c in [leaf] + list(reversed(leaf["chain"])):
                out.write(text_of(c["cert"]) + "\n")
        return path

    def crl(self, revoked=(), issuer=None, name="crl"):
        """A CRL by issuer (default: the client chain's last CA) revoking the
        given certificates (dicts from leaf()); PEM and DER paths."""
        issuer = issuer or (self.client_chain[-1] if self.client_chain else self.root)
        db = os.path.join(self.dir, f"{name}-db")
        os.makedirs(db, exist_ok=True)
        index = os.path.join(db, "index.txt")
        with open(index, "w") as f:
            for c in revoked:
                # Enddate, revocation date, serial (hex), unknown file, subject.
                f.write(f"R\t491231235959Z\t250101000000Z\t{c['serial']:02X}\tunknown\t"
                        f"{c['subject']}\n")
        with open(index + ".attr", "w") as f:
            f.write("unique_subject = no\n")
        cnf = os.path.join(db, "ca.cnf")
        with open(cnf, "w") as f:
            f.write(f"[ca]\ndefault_ca = lab\n[lab]\ndatabase = {index}\n"
                    f"crlnumber = {db}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n"
                    f"crl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid\n")
        with open(os.path.join(db, "crlnumber"), "w") as f:
            f.write("01\n")
        pem = self._path(name, "pem")
        der = self._path(name, "der")
        self._openssl(["ca", "-gencrl", "-config", cnf, "-keyfile", issuer["key"], "-cert",
                       issuer["cert"], "-out", pem])
        self._openssl(["crl", "-in", pem, "-outform", "DER", "-out", der])
        return pem, der


# ---------------------------------------------------------------------------
# Traverse as the gateway


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def toml_table(header, table):
    lines = [header]
    lines += [f"{k} = {toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines)


class TraverseGateway:
    """traverse-dataplane + traverse-control in the gw namespace from one
    gateway.toml. The dataplane owns out0/in0 (af_packet) and carries the
    gateway's addresses on its TAPs tv-outside/tv-inside.

    start() runs both through scripts/traverse-gateway (what an operator
    runs); start(separate=True) runs the two processes directly so a test can
    kill and restart each one (restart_dataplane(), restart_control()).
    ctl() and the helpers below talk to traverse-control through traversectl.

    control: extra [control] keys; identity: the [identity] table; pools and
    connections: lists of dicts ([[pool]], [[connection]])."""

    def __init__(self, lab, build_dir=None, dataplane=None, control=None, traversectl=None,
                 launcher=None):
        self.lab = lab
        build_dir = build_dir or lab.build_dir or ""
        self.dataplane_bin = dataplane or os.path.join(
            build_dir, "dataplane/engine/traverse-dataplane")
        self.control_bin = control or os.path.join(build_dir, "control/traverse-control")
        self.traversectl_bin = traversectl or os.path.join(build_dir, "control/ctl/traversectl")
        self.launcher_bin = launcher or os.path.join(HERE, "..", "..", "..", "scripts",
                                                     "traverse-gateway")
        self.dir = os.path.join(lab.work, "traverse")
        os.makedirs(self.dir, exist_ok=True)
        self.api_socket = os.path.join(self.dir, "dataplane.sock")
        self.control_socket = os.path.join(self.dir, "control.sock")
        self.config = os.path.join(self.dir, "gateway.toml")
        self.dataplane = self.control = self.launcher = None
        self.generation = 0  # process restarts, for distinct log file names
        lab.traverse = self

    def check_binaries(self):
        for what, path in (("traverse-dataplane", self.dataplane_bin),
                           ("traverse-control", self.control_bin),
                           ("traversectl", self.traversectl_bin)):
            if not os.access(path, os.X_OK):
                raise LabError(f"{what} not found at {path}: build it (ninja -C BUILD "
                               f"{os.path.relpath(path, self.lab.build_dir or '.')}) or pass "
                               f"--build-dir / --{what.split('-')[-1]}")

    def gateway_toml(self, identity, pools, connections, control=None):
        eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix",
               f"ikelab-{self.lab.runid}", "-l", "0-1"]
        control_table = {"control_socket": self.control_socket, "log_level": "debug",
                         "listen": [GW_OUTSIDE], "fragment_size": 1280,
                         "retransmit_timeout_ms": 1000, "retransmit_tries": 4}
        control_table.update(control or {})
        parts = [f"# generated by ikelab.py for lab {self.lab.runid}",
                 toml_table("[dataplane]", {"workers": 1, "mbufs": 8192, "eal": eal,
                                            "api_socket": self.api_socket}),
                 toml_table("[dataplane.outside]", {
                     "device": "net_af_packet0,iface=out0", "address": f"{GW_OUTSIDE}/24",
                     "gateway": self.lab.client_public, "tap": "tv-outside"}),
                 toml_table("[dataplane.inside]", {
                     "device": "net_af_packet1,iface=in0", "address": [f"{GW_INSIDE}/24"] + (
                         [f"{GW_INSIDE6}/64"] if self.lab.ipv6 else []),
                     "tap": "tv-inside"}),
                 toml_table("[control]", control_table),
                 toml_table("[identity]", identity)]
        parts += [toml_table("[[pool]]", p) for p in pools]
        parts += [toml_table("[[connection]]", c) for c in connections]
        return "\n\n".join(parts) + "\n"

    def start(self, identity, pools, connections, control=None, timeout=60, separate=False):
        self.check_binaries()
        with open(self.config, "w") as f:
            f.write(self.gateway_toml(identity, pools, connections, control))
        if separate:
            self.start_dataplane(timeout)
            self.start_control(timeout)
            return self
        if not os.access(self.launcher_bin, os.X_OK):
            raise LabError(f"{self.launcher_bin} missing or not executable")
        self.launcher = self.lab.start("traverse-gateway", "gw", [
            PY, self.launcher_bin, "--config", self.config, "--dataplane", self.dataplane_bin,
            "--control", self.control_bin, "--log-dir", self.dir, "--timeout", str(timeout)])
        wait_for("traverse-gateway up", lambda: "traverse-gateway: up:" in text_of(
            self.launcher.err), timeout + 5, self.launcher)
        self._wait_taps()
        return self

    def _wait_taps(self, proc=None):
        taps = [("tv-outside", GW_OUTSIDE), ("tv-inside", GW_INSIDE)]
        if self.lab.ipv6:
            taps.append(("tv-inside", GW_INSIDE6))
        for tap, addr in taps:
            wait_for(f"TAP {tap} with {addr}", lambda: addr in run(
                ["ip", "-br", "addr", "show", tap], ns=self.lab.ns("gw"), check=False).stdout,
                15, proc)

    def start_dataplane(self, timeout=60):
        if os.path.exists(self.api_socket) and not _accepts(self.api_socket):
            os.unlink(self.api_socket)  # left by a killed dataplane
        self.dataplane = self.lab.start(self._name("traverse-dataplane"), "gw", [
            self.dataplane_bin, "--config", self.config])
        wait_for("traverse-dataplane API socket", lambda: _accepts(self.api_socket),
                 timeout, self.dataplane)
        self._wait_taps(self.dataplane)
        return self.dataplane

    def start_control(self, timeout=60):
        if os.path.exists(self.control_socket) and not _accepts(self.control_socket):
            os.unlink(self.control_socket)
        self.control = self.lab.start(self._name("traverse-control"), "gw", [
            self.control_bin, "--config", self.config])
        wait_for("traverse-control socket with the dataplane connected", lambda: (
            self.status() or {}).get("dataplane", {}).get("connected"), timeout, self.control)
        return self.control

    def _name(self, base):
        self.generation += 1
        return base if self.generation <= 2 else f"{base}-{self.generation}"

    def restart_dataplane(self, sig=signal.SIGKILL, timeout=60):
        """Kills the dataplane (separate mode) and starts it again with the same config."""
        if self.dataplane is None:
            raise LabError("restart_dataplane needs start(separate=True)")
        self.dataplane.stop(sig=sig, timeout=10)
        return self.start_dataplane(timeout)

    def restart_control(self, sig=signal.SIGKILL, timeout=60):
        if self.control is None:
            raise LabError("restart_control needs start(separate=True)")
        self.control.stop(sig=sig, timeout=10)
        return self.start_control(timeout)

    # -- the control socket --------------------------------------------------

    def ctl(self, *args, timeout=15, check=True):
        """traversectl --json ARGS; returns the parsed result (None when the
        command failed and check is False)."""
        r = run([self.traversectl_bin, "--socket", self.control_socket, "--json",
                 "--timeout", str(max(1, int(timeout) - 2))] + [str(a) for a in args],
                timeout=timeout, check=False)
        if r.returncode != 0:
            if check:
                raise LabError(f"traversectl {' '.join(map(str, args))}: exit {r.returncode}: "
                               f"{r.stderr.strip() or r.stdout.strip()}")
            return None
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise LabError(f"traversectl {' '.join(map(str, args))}: not JSON: "
                           f"{r.stdout[:200]!r}") from e

    def request(self, obj, timeout=10):
        """One raw JSON-lines request on the control socket; returns the reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.control_socket)
            s.sendall((json.dumps(obj) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data.decode() or "null")

    def status(self):
        try:
            reply = self.request({"id": 1, "cmd": "status", "args": {}}, timeout=3)
        except (OSError, ValueError):
            return None
        return reply.get("result") if isinstance(reply, dict) and reply.get("ok") else None

    def list_sas(self):
        return self.ctl("list-sas")["ike_sas"]

    def ike_sas(self, state="established"):
        """IKE SAs in state (list-sas spells states in lower case; None: all)."""
        return [sa for sa in self.list_sas()
                if state is None or sa["state"].lower() == state.lower()]

    def ike_sa(self, remote_id=None):
        """The single established IKE SA (of remote_id), or None."""
        sas = [sa for sa in self.ike_sas() if remote_id is None or sa["remote_id"] == remote_id]
        return sas[0] if len(sas) == 1 else None

    def counters(self):
        return self.ctl("counters")["counters"]

    def leases(self):
        return self.ctl("leases")["leases"]

    def lease(self, identity):
        found = [lease for lease in self.leases() if lease["identity"] == identity]
        return found[0] if found else None

    def leases_of(self, identity):
        """{pool name: lease} of identity (one lease per pool it holds)."""
        return {lease["pool"]: lease for lease in self.leases() if lease["identity"] == identity}

    # -- logs and teardown ---------------------------------------------------

    def _log_files(self):
        files = [os.path.join(self.dir, f"traverse-{n}.log") for n in ("control", "dataplane")]
        for p in self.lab.procs:
            if p.name.startswith(("traverse-control", "traverse-dataplane", "traverse-gateway")):
                files.append(p.err)
        return [f for f in files if os.path.exists(f)]

    def log_text(self):
        return "\n".join(text_of(f) for f in self._log_files())

    def print_logs(self, n=40):
        for f in self._log_files():
            log(f"   --- {os.path.basename(f)} (tail), full in {f}:")
            log(text_of(f, n))

    def stop(self, timeout=10):
        """SIGTERM the launcher (it stops control, then the dataplane), or in
        separate mode control then the dataplane; SIGKILL after timeout."""
        rcs = {}
        if self.launcher:
            rcs[self.launcher.name] = self.launcher.stop(timeout=2 * timeout + 5)
        for p in (self.control, self.dataplane):
            if p:
                rcs[p.name] = p.stop(timeout=timeout)
        return rcs


def _accepts(path):
    """True when a unix stream socket at path accepts a connection."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(path)
        return True
    except OSError:
        return False


def traverse_remote_access(psk="lab-psk-0123456789", auth="psk", identity_extra=None,
                           ike_proposals=IKE_PROPOSALS, esp_proposals=ESP_PROPOSALS,
                           dualstack=False):
    """The Traverse equivalent of road_warrior_gateway(): (identity, pools,
    connections) for TraverseGateway.start(). dualstack: also the IPv6 pool
    office6 (POOL6, IPv6 DNS, INSIDE_NET6 split) and INSIDE_NET6 protected."""
    identity = {"id": GW_ID}
    identity.update(identity_extra or {})
    pools = [{"name": "office", "addresses": POOL, "lease_time_s": 86400, "dns": [POOL_DNS],
              "split_dns": [SPLIT_DNS_DOMAIN], "split_include": [INSIDE_NET]}]
    if dualstack:
        pools.append({"name": "office6", "addresses": POOL6, "lease_time_s": 86400,
                      "dns": [POOL6_DNS], "split_dns": [SPLIT_DNS_DOMAIN],
                      "split_include": [INSIDE_NET6]})
    conn = {"name": "roadwarriors", "remote_addresses": ["%any"], "remote_id": "%any",
            "auth": auth, "remote_auth": auth, "ike_proposals": list(ike_proposals),
            "esp_proposals": list(esp_proposals),
            "local_ts": [INSIDE_NET] + ([INSIDE_NET6] if dualstack else []),
            "remote_ts": ["dynamic"], "pool": ["office", "office6"] if dualstack else "office",
            "fragmentation": True}
    if auth == "psk":
        conn["psk"] = psk
    return identity, pools, [conn]


def traverse_site_initiator(psk="lab-site-psk-0123456789"):
    """A [[connection]] where Traverse initiates to the strongSwan `peer`."""
    return {"name": "site", "remote_addresses": [PEER_ADDR], "remote_port": 500,
            "remote_id": PEER_ID, "auth": "psk", "remote_auth": "psk", "psk": psk,
            "ike_proposals": list(IKE_PROPOSALS), "esp_proposals": list(ESP_PROPOSALS),
            "local_ts": [INSIDE_NET], "remote_ts": [PEER_NET], "initiate": True}


# ---------------------------------------------------------------------------


def main(argv):
    if len(argv) > 1 and argv[1] == "_tcp_server":
        return tcp_server_main(argv[2], int(argv[3]), float(argv[4]))
    if len(argv) > 1 and argv[1] == "_tcp_client":
        a = argv[2:]
        return tcp_client_main(a[0], int(a[1]), a[2], int(a[3]), int(a[4]), float(a[5]))
    if len(argv) == 3 and argv[1] == "down":
        down(argv[2])
        shutil.rmtree(next(iter(
            [os.path.join(tempfile.gettempdir(), d) for d in os.listdir(tempfile.gettempdir())
             if d.startswith(f"ikelab-{argv[2]}-")]), "/nonexistent"), ignore_errors=True)
        return 0
    print("usage: ikelab.py down RUNID | _tcp_server ... | _tcp_client ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
