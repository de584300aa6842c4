"""A network namespace for one dataplane test, made and always removed here.

Inside: two veth pairs, dp-out/peer-out and dp-in/peer-in. The dataplane's
af_packet vdevs sit on the dp-* ends; the test sends and captures on the
peer-* ends, whose MAC addresses it chooses. Processes started through
spawn() are killed, and the namespace deleted, when the `with` block ends,
whatever happened inside it.
"""
import os
import subprocess

from scapy.all import IP, Raw
from scapy.layers.ipsec import ESP, SecurityAssociation


class VethNamespace:
    def __init__(self, tag, peer_out_mac, peer_in_mac):
        self.name = f"trv-{tag}-{os.getpid()}"
        self.peer_out_mac = peer_out_mac
        self.peer_in_mac = peer_in_mac
        self.procs = []

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            for a, b in (("dp-out", "peer-out"), ("dp-in", "peer-in")):
                self.sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
                self.sh("ip", "link", "set", a, "up")
                self.sh("ip", "link", "set", b, "up")
            self.sh("ip", "link", "set", "peer-out", "address", self.peer_out_mac)
            self.sh("ip", "link", "set", "peer-in", "address", self.peer_in_mac)
            self.sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        subprocess.run(["ip", "netns", "del", self.name], check=False)
        return False

    def sh(self, *cmd, check=True):
        """Runs a command in the namespace and returns its CompletedProcess."""
        return subprocess.run(["ip", "netns", "exec", self.name, *cmd], check=check,
                              capture_output=True, text=True)

    def spawn(self, *cmd, **popen_args):
        """Starts a process in the namespace; it is killed at the end."""
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], **popen_args)
        self.procs.append(p)
        return p

    def capture(self, iface, path, bpf):
        """tcpdump on `iface` into `path` (packet-buffered, so stop() loses nothing)."""
        return self.spawn("tcpdump", "-q", "-i", iface, "-w", path, "-U", bpf,
                          stderr=subprocess.DEVNULL)


def stop_capture(capture):
    capture.terminate()
    capture.wait(timeout=10)


def open_esp(esp, key, salt, src, dst):
    """Decrypts one ESP packet (the bytes after its UDP header) of an
    AES-GCM SA with scapy; returns the inner packet or raises."""
    spi = int.from_bytes(esp[:4], "big")
    sa = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key + salt,
                             tunnel_header=IP(src=src, dst=dst))
    return sa.decrypt(IP(bytes(IP(src=src, dst=dst, proto=50) / Raw(esp))))
