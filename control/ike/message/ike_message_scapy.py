#!/usr/bin/python3
"""Interop between our IKEv2 codec and scapy's (an implementation nobody here
wrote): scapy builds messages that ike_message_tool parses, and scapy parses
every sample datagram our builder makes. Usage: ike_message_scapy.py TOOL"""
import json
import subprocess
import sys

from scapy.contrib.ikev2 import (IKEv2, IKEv2_payload_AUTH, IKEv2_payload_CERTREQ,
                                 IKEv2_payload_CP, IKEv2_payload_Delete,
                                 IKEv2_payload_Encrypted,
                                 IKEv2_payload_Encrypted_Fragment, IKEv2_payload_IDi,
                                 IKEv2_payload_KE, IKEv2_payload_Nonce,
                                 IKEv2_payload_Notify, IKEv2_payload_Proposal,
                                 IKEv2_payload_SA, IKEv2_payload_Transform,
                                 IKEv2_payload_TSi, IKEv2_payload_TSr,
                                 IKEv2_payload_VendorID, ConfigurationAttribute,
                                 IPv4TrafficSelector, IPv6TrafficSelector)
from scapy.packet import Raw

TOOL = sys.argv[1]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def tool(*args, stdin=""):
    run = subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"{TOOL} {' '.join(args)} failed: {run.stdout} {run.stderr}")
    return json.loads(run.stdout)


def ipv6(text):
    import ipaddress
    return ipaddress.IPv6Address(text).packed.hex()


def ipv4(text):
    import ipaddress
    return ipaddress.IPv4Address(text).packed.hex()


# 1. scapy builds an IKE_SA_INIT request; we parse it. scapy 2.5 does not fill
# in the next-payload chain by itself, so each layer names its successor; its
# IDi and CP payloads cannot compute their own lengths, so those are given.
def scapy_ike_sa_init():
    transforms = (IKEv2_payload_Transform(next_payload=3, transform_type=1, transform_id=20,
                                          length=12, key_length=256)
                  / IKEv2_payload_Transform(next_payload=3, transform_type=2, transform_id=5)
                  / IKEv2_payload_Transform(next_payload=3, transform_type=4, transform_id=19)
                  / IKEv2_payload_Transform(next_payload=0, transform_type=4, transform_id=31))
    proposal = IKEv2_payload_Proposal(next_payload=0, proposal=1, proto=1, trans_nb=4,
                                      trans=transforms)
    return (IKEv2(init_SPI=bytes.fromhex("0011223344556677"), resp_SPI=b"\0" * 8,
                  exch_type=34, flags="Initiator", id=0)
            / IKEv2_payload_SA(next_payload=34, prop=proposal)
            / IKEv2_payload_KE(next_payload=40, group=19, load=bytes(range(64)))
            / IKEv2_payload_Nonce(next_payload=41, load=bytes(range(100, 132)))
            / IKEv2_payload_Notify(next_payload=41, type=16388, load=b"\x11" * 20)
            / IKEv2_payload_Notify(next_payload=41, type=16389, load=b"\x22" * 20)
            / IKEv2_payload_Notify(next_payload=43, type=16430)
            / IKEv2_payload_VendorID(next_payload=0, vendorID=b"scapy"))


init = bytes(scapy_ike_sa_init())
with open(sys.argv[2], "wb") if len(sys.argv) > 2 else open("/dev/null", "wb") as seed:
    seed.write(init)  # optional: the scapy seed of the fuzz corpus
m = tool("parse", stdin=init.hex())
check(m["spi_i"] == "0011223344556677" and m["spi_r"] == "0" * 16, "SPIs")
check(m["exchange"] == 34 and m["flags"] == 0x08 and m["message_id"] == 0, "header fields")
check(m["length"] == len(init), "header length")
check([p["type"] for p in m["payloads"]] == [33, 34, 40, 41, 41, 41, 43], "payload order")
sa = m["payloads"][0]["proposals"]
check(len(sa) == 1 and sa[0]["protocol"] == 1 and sa[0]["spi"] == "", "proposal")
check([(t["type"], t["id"], t["key_length"]) for t in sa[0]["transforms"]]
      == [(1, 20, 256), (2, 5, 0), (4, 19, 0), (4, 31, 0)], "transforms")
check(m["payloads"][1]["group"] == 19 and m["payloads"][1]["data"] == bytes(range(64)).hex(),
      "KE")
check(m["payloads"][2]["data"] == bytes(range(100, 132)).hex(), "nonce")
check([p["notify_type"] for p in m["payloads"][3:6]] == [16388, 16389, 16430], "notify types")
check(m["payloads"][3]["data"] == "11" * 20, "NAT-D data")
check(m["payloads"][6]["data"] == b"scapy".hex(), "vendor ID")

# 2. scapy builds an IKE_AUTH-like plain chain ending in SK; we parse it.
auth = bytes(
    IKEv2(init_SPI=b"\1" * 8, resp_SPI=b"\2" * 8, exch_type=35, flags="Response", id=1)
    / IKEv2_payload_IDi(next_payload=39, IDtype=2, ID=b"gw.example.net", length=8 + 14)
    / IKEv2_payload_AUTH(next_payload=38, auth_type=2, load=b"\x33" * 32)
    / IKEv2_payload_CERTREQ(next_payload=47, cert_type=4, cert_data=b"\x44" * 20)
    / IKEv2_payload_CP(next_payload=44, CFGType=2, length=8 + 8 + 16, attributes=[
        ConfigurationAttribute(type=1, length=4, value="10.9.0.7"),
        ConfigurationAttribute(type=25, value=b"corp.example")])
    / IKEv2_payload_TSi(next_payload=45, number_of_TSs=1, traffic_selector=[
        IPv4TrafficSelector(IP_protocol_ID=6, start_port=80, end_port=443,
                            starting_address_v4="10.0.0.0",
                            ending_address_v4="10.0.255.255")])
    / IKEv2_payload_TSr(next_payload=42, number_of_TSs=1, traffic_selector=[
        IPv6TrafficSelector(IP_protocol_ID=0, length=40, starting_address_v6="2001:db8::",
                            ending_address_v6="2001:db8::ffff")])
    / IKEv2_payload_Delete(next_payload=46, vendorID=bytes([3, 4, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd]))
    / IKEv2_payload_Encrypted(next_payload=35, load=b"\x55" * 48))
m = tool("parse", stdin=auth.hex())
check(m["exchange"] == 35 and m["flags"] == 0x20 and m["message_id"] == 1, "auth header")
types = [p["type"] for p in m["payloads"]]
check(types == [35, 39, 38, 47, 44, 45, 42, 46], f"auth payload order {types}")
p = m["payloads"]
check(p[0]["id_type"] == 2 and p[0]["data"] == b"gw.example.net".hex(), "IDi")
check(p[1]["method"] == 2 and p[1]["data"] == "33" * 32, "AUTH")
check(p[2]["encoding"] == 4 and p[2]["data"] == "44" * 20, "CERTREQ")
check(p[3]["config_type"] == 2 and p[3]["attributes"] == [
    {"type": 1, "value": ipv4("10.9.0.7")}, {"type": 25, "value": b"corp.example".hex()}], "CP")
check(p[4]["selectors"] == [{"ts_type": 7, "ip_protocol": 6, "start_port": 80, "end_port": 443,
                             "start_address": ipv4("10.0.0.0"),
                             "end_address": ipv4("10.0.255.255")}], "TSi")
check(p[5]["selectors"][0]["start_address"] == ipv6("2001:db8::")
      and p[5]["selectors"][0]["end_address"] == ipv6("2001:db8::ffff"), "TSr")
check(p[6]["protocol"] == 3 and p[6]["spis"] == ["aabbccdd"], "Delete")
check(p[7]["first_inner"] == 35 and p[7]["body"] == "55" * 48, "SK")


# 3. scapy parses every datagram our builder makes.
def layers(pkt):
    layer = pkt.payload
    while layer is not None and not isinstance(layer, Raw) and layer.name != "NoPayload":
        yield layer
        if isinstance(layer, (IKEv2_payload_Encrypted, IKEv2_payload_Encrypted_Fragment)):
            return  # the next-payload field names the inner chain
        layer = layer.payload


def transforms_of(proposal):
    out = []
    t = proposal.trans
    while isinstance(t, IKEv2_payload_Transform):
        out.append((t.transform_type, t.transform_id, t.key_length if t.length > 8 else 0))
        t = t.payload
    return out


def compare(name, hexdata, want):
    pkt = IKEv2(bytes.fromhex(hexdata))
    check(pkt.init_SPI.hex() == want["spi_i"] and pkt.resp_SPI.hex() == want["spi_r"],
          f"{name}: SPIs")
    check(pkt.exch_type == want["exchange"] and int(pkt.flags) == want["flags"]
          and pkt.id == want["message_id"] and pkt.length == len(hexdata) // 2,
          f"{name}: header")
    got = list(layers(pkt))
    check(len(got) == len(want["payloads"]), f"{name}: {len(got)} payloads")
    for layer, w in zip(got, want["payloads"]):
        where = f"{name}: payload type {w['type']}"
        if w["type"] == 33:
            prop = layer.prop
            for wp in w["proposals"]:
                check(prop.proposal == wp["number"] and prop.proto == wp["protocol"]
                      and prop.SPI.hex() == wp["spi"], where + " proposal")
                plain = []
                for t in wp["transforms"]:
                    if t["other_attributes"]:
                        break  # scapy knows only the Key Length attribute
                    plain.append((t["type"], t["id"], t["key_length"]))
                check(transforms_of(prop)[:len(plain)] == plain, where + " transforms")
                prop = prop.payload
        elif w["type"] == 34:
            check(layer.group == w["group"] and layer.load.hex() == w["data"], where)
        elif w["type"] in (35, 36):
            check(layer.IDtype == w["id_type"], where)
        elif w["type"] == 39:
            check(layer.auth_type == w["method"] and layer.load.hex() == w["data"], where)
        elif w["type"] == 40:
            check(layer.load.hex() == w["data"], where)
        elif w["type"] == 41:
            check(layer.type == w["notify_type"] and layer.SPI.hex() == w["spi"], where)
            # scapy 2.5 takes length - 8 bytes of data even after an SPI (RFC 7296
            # 3.10 subtracts the SPI size too), so its data is only right without one.
            check(w["spi"] != "" or layer.load.hex() == w["data"], where + " data")
        elif w["type"] == 43:
            check(layer.vendorID.hex() == w["data"], where)
        elif w["type"] in (44, 45):
            sels = layer.traffic_selector
            check(len(sels) == len(w["selectors"]), where + " count")
            for s, ws in zip(sels, w["selectors"]):
                check(s.TS_type == ws["ts_type"] and s.start_port == ws["start_port"]
                      and s.end_port == ws["end_port"], where + " selector")
        elif w["type"] == 47:
            check(layer.CFGType == w["config_type"]
                  and [a.type for a in layer.attributes] == [a["type"] for a in w["attributes"]],
                  where)
        elif w["type"] == 46:
            check(layer.next_payload == w["first_inner"] and layer.load.hex() == w["body"], where)
        elif w["type"] == 53:
            check(layer.frag_number == w["number"] and layer.frag_total == w["total"]
                  and layer.load.hex() == w["body"], where)


samples = tool("samples")
check(len(samples) >= 5, "samples listed")
for sample_name, sample in samples.items():
    compare(sample_name, sample["hex"], sample["message"])

# 4. Our IANA numbers agree with scapy's tables wherever scapy names a value.
from scapy.contrib.ikev2 import IKEv2NotifyMessageTypes, IKEv2ConfigurationAttributeTypes

constants = tool("constants")
for table, theirs in (("notify", IKEv2NotifyMessageTypes),
                      ("config_attribute", IKEv2ConfigurationAttributeTypes)):
    compared = 0
    for value, name in constants[table].items():
        if int(value) in theirs:
            check(theirs[int(value)] == name, f"{table} {value}: ours {name}, scapy "
                  f"{theirs[int(value)]}")
            compared += 1
    check(compared >= len(constants[table]) - 2, f"{table}: only {compared} compared")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print(f"scapy interop: 2 scapy-built messages parsed, {len(samples)} of ours parsed by scapy")
