// ARP and ND parsing on crafted frames (valid, malformed, truncated at every
// length, VLAN-tagged) and the solicitation builders read back by the parser.
#include "dataplane/engine/neighbor/arp_nd.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace traverse::engine {
namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kMacA[6] = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
const uint8_t kMacB[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
const uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

esp::IpAddress ip(const char* text) {
  return *esp::IpAddress::parse(text);
}

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put(Bytes& b, const uint8_t* p, size_t n) {
  b.insert(b.end(), p, p + n);
}

Bytes ethernet(const uint8_t* dst, const uint8_t* src, uint16_t type, uint16_t vlan_tci = 0) {
  Bytes b;
  put(b, dst, 6);
  put(b, src, 6);
  if (vlan_tci != 0) {
    put16(b, 0x8100);
    put16(b, vlan_tci);
  }
  put16(b, type);
  return b;
}

Bytes arp_frame(uint16_t op, const uint8_t* sender_mac, const char* sender_ip,
                const char* target_ip, uint16_t vlan_tci = 0) {
  Bytes b = ethernet(kBroadcast, sender_mac, 0x0806, vlan_tci);
  put16(b, 1);
  put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  put16(b, op);
  put(b, sender_mac, 6);
  put(b, ip(sender_ip).bytes.data(), 4);
  b.insert(b.end(), 6, 0);
  put(b, ip(target_ip).bytes.data(), 4);
  b.resize(std::max<size_t>(b.size(), 60), 0);
  return b;
}

// An independent ICMPv6 checksum: 16-bit big-endian words, folded.
uint16_t icmpv6_checksum(const uint8_t* src, const uint8_t* dst, const Bytes& icmp) {
  uint64_t sum = 0;
  auto add = [&](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i += 2) {
      sum += uint32_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0);
    }
  };
  add(src, 16);
  add(dst, 16);
  sum += icmp.size();
  sum += 58;
  add(icmp.data(), icmp.size());
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

struct Ipv6Spec {
  const char* src = "fe80::1";
  const char* dst = "ff02::1";
  uint8_t hop_limit = 255;
  uint8_t next_header = 58;
  uint16_t vlan_tci = 0;
  bool fix_checksum = true;
  int payload_len_delta = 0;  // lie about the payload length
};

// Ethernet + IPv6 + `icmp` (whose checksum field is filled in).
Bytes ipv6_frame(Bytes icmp, const Ipv6Spec& s = {}) {
  const esp::IpAddress src = ip(s.src);
  const esp::IpAddress dst = ip(s.dst);
  if (s.fix_checksum && icmp.size() >= 4) {
    icmp[2] = icmp[3] = 0;
    const uint16_t c = icmpv6_checksum(src.bytes.data(), dst.bytes.data(), icmp);
    icmp[2] = static_cast<uint8_t>(c >> 8);
    icmp[3] = static_cast<uint8_t>(c);
  }
  const uint8_t dst_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
  Bytes b = ethernet(dst_mac, kMacA, 0x86dd, s.vlan_tci);
  b.push_back(0x60);
  b.insert(b.end(), 3, 0);
  put16(b, static_cast<uint16_t>(static_cast<int>(icmp.size()) + s.payload_len_delta));
  b.push_back(s.next_header);
  b.push_back(s.hop_limit);
  put(b, src.bytes.data(), 16);
  put(b, dst.bytes.data(), 16);
  b.insert(b.end(), icmp.begin(), icmp.end());
  return b;
}

Bytes option(uint8_t type, const uint8_t* mac) {
  Bytes o = {type, 1};
  put(o, mac, 6);
  return o;
}

// NS/NA body: type, code, checksum, flags + reserved, target, options.
Bytes ns_na(uint8_t type, uint8_t flags, const char* target, const Bytes& options,
            uint8_t code = 0) {
  Bytes b = {type, code, 0, 0, flags, 0, 0, 0};
  put(b, ip(target).bytes.data(), 16);
  b.insert(b.end(), options.begin(), options.end());
  return b;
}

Bytes router_advertisement(const Bytes& options) {
  Bytes b = {134, 0, 0, 0, 64, 0, 0x07, 0x08};  // hop limit, flags, router lifetime
  b.insert(b.end(), 8, 0);                      // reachable time, retrans timer
  b.insert(b.end(), options.begin(), options.end());
  return b;
}

// Parses from a heap copy of exactly `len` bytes, so AddressSanitizer catches
// any read past the end.
bool learn(const Bytes& frame, NeighborLearn* out, size_t len = SIZE_MAX) {
  len = std::min(len, frame.size());
  auto copy = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
  if (len != 0) {
    std::memcpy(copy.get(), frame.data(), len);
  }
  return learn_from_frame(len == 0 ? nullptr : copy.get(), static_cast<uint32_t>(len), out);
}

bool learns(const Bytes& frame) {
  NeighborLearn out;
  return learn(frame, &out);
}

void expect_mac(const NeighborLearn& l, const uint8_t* mac) {
  EXPECT_EQ(0, std::memcmp(l.mac.data(), mac, 6));
}

TEST(ArpParse, RequestLearnsSender) {
  NeighborLearn l;
  ASSERT_TRUE(learn(arp_frame(1, kMacA, "192.0.2.10", "192.0.2.1"), &l));
  EXPECT_EQ(l.ip, ip("192.0.2.10"));
  expect_mac(l, kMacA);
  EXPECT_EQ(l.source, NeighborSource::arp_request);
  EXPECT_EQ(l.vlan, 0);
  EXPECT_TRUE(l.may_override);
  EXPECT_FALSE(l.gratuitous);
}

TEST(ArpParse, ReplyLearnsSender) {
  NeighborLearn l;
  ASSERT_TRUE(learn(arp_frame(2, kMacB, "198.51.100.7", "198.51.100.1"), &l));
  EXPECT_EQ(l.ip, ip("198.51.100.7"));
  expect_mac(l, kMacB);
  EXPECT_EQ(l.source, NeighborSource::arp_reply);
}

TEST(ArpParse, GratuitousRequestAndReply) {
  for (uint16_t op : {1, 2}) {
    NeighborLearn l;
    ASSERT_TRUE(learn(arp_frame(op, kMacB, "192.0.2.20", "192.0.2.20"), &l));
    EXPECT_TRUE(l.gratuitous);
    EXPECT_EQ(l.ip, ip("192.0.2.20"));
    expect_mac(l, kMacB);
  }
}

TEST(ArpParse, ProbeFromZeroIsIgnored) {
  // RFC 5227 probes ask whether an address is taken; they announce nothing.
  EXPECT_FALSE(learns(arp_frame(1, kMacA, "0.0.0.0", "192.0.2.10")));
}

TEST(ArpParse, RejectsBogusSenders) {
  const uint8_t multicast_mac[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
  const uint8_t zero_mac[6] = {};
  EXPECT_FALSE(learns(arp_frame(2, multicast_mac, "192.0.2.10", "192.0.2.1")));
  EXPECT_FALSE(learns(arp_frame(2, kBroadcast, "192.0.2.10", "192.0.2.1")));
  EXPECT_FALSE(learns(arp_frame(2, zero_mac, "192.0.2.10", "192.0.2.1")));
  EXPECT_FALSE(learns(arp_frame(2, kMacA, "224.0.0.1", "192.0.2.1")));
  EXPECT_FALSE(learns(arp_frame(2, kMacA, "255.255.255.255", "192.0.2.1")));
  EXPECT_FALSE(learns(arp_frame(2, kMacA, "127.0.0.1", "192.0.2.1")));
}

TEST(ArpParse, RejectsOtherHardwareProtocolLengthsAndOps) {
  const Bytes good = arp_frame(1, kMacA, "192.0.2.10", "192.0.2.1");
  ASSERT_TRUE(learns(good));
  struct Patch {
    size_t at;
    uint8_t value;
  };
  for (Patch p : {Patch{15, 6}, Patch{16, 0x86}, Patch{18, 8}, Patch{19, 16}, Patch{21, 3},
                  Patch{21, 0}, Patch{20, 1}}) {
    Bytes bad = good;
    bad[p.at] = p.value;
    EXPECT_FALSE(learns(bad)) << "byte " << p.at;
  }
}

TEST(ArpParse, VlanTagged) {
  NeighborLearn l;
  // Priority 5 and the DEI bit set: only the 12-bit VLAN id is reported.
  ASSERT_TRUE(learn(arp_frame(2, kMacA, "192.0.2.10", "192.0.2.1", 0xb000 | 100), &l));
  EXPECT_EQ(l.vlan, 100);
  EXPECT_EQ(l.ip, ip("192.0.2.10"));
}

TEST(ArpParse, OnlyOneTagAndOnlyArpOrIpv6) {
  // QinQ: after one 802.1Q tag comes another tag, not ARP.
  Bytes qinq = ethernet(kBroadcast, kMacA, 0x8100, 10);
  const Bytes inner = arp_frame(2, kMacA, "192.0.2.10", "192.0.2.1", 20);
  qinq.insert(qinq.end(), inner.begin() + 12, inner.end());
  EXPECT_FALSE(learns(qinq));
  Bytes ipv4 = arp_frame(2, kMacA, "192.0.2.10", "192.0.2.1");
  ipv4[12] = 0x08;
  ipv4[13] = 0x00;
  EXPECT_FALSE(learns(ipv4));
}

TEST(NdParse, NeighborSolicitationLearnsSource) {
  NeighborLearn l;
  const Bytes f = ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA)),
                             {.src = "2001:db8::99", .dst = "ff02::1:ff00:1"});
  ASSERT_TRUE(learn(f, &l));
  EXPECT_EQ(l.ip, ip("2001:db8::99"));
  expect_mac(l, kMacA);
  EXPECT_EQ(l.source, NeighborSource::neighbor_solicitation);
}

TEST(NdParse, NeighborSolicitationWithoutUsableSource) {
  // DAD from :: (and if someone adds the option anyway, still nothing).
  EXPECT_FALSE(learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA)),
                                 {.src = "::", .dst = "ff02::1:ff00:1"})));
  EXPECT_FALSE(learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", {}), {.src = "2001:db8::99"})));
  // A target link-layer option is not a source link-layer option.
  EXPECT_FALSE(
      learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", option(2, kMacA)), {.src = "2001:db8::99"})));
  EXPECT_FALSE(
      learns(ipv6_frame(ns_na(135, 0, "ff02::1", option(1, kMacA)), {.src = "2001:db8::99"})));
}

TEST(NdParse, NeighborAdvertisementLearnsTarget) {
  NeighborLearn l;
  const Bytes f = ipv6_frame(ns_na(136, 0x60, "2001:db8::7", option(2, kMacB)),
                             {.src = "2001:db8::7", .dst = "2001:db8::1"});
  ASSERT_TRUE(learn(f, &l));
  EXPECT_EQ(l.ip, ip("2001:db8::7"));
  expect_mac(l, kMacB);
  EXPECT_EQ(l.source, NeighborSource::neighbor_advertisement);
  EXPECT_TRUE(l.may_override);
}

TEST(NdParse, AdvertisementWithoutOverrideFlag) {
  NeighborLearn l;
  ASSERT_TRUE(learn(ipv6_frame(ns_na(136, 0x40, "2001:db8::7", option(2, kMacB)),
                               {.src = "fe80::7", .dst = "2001:db8::1"}),
                    &l));
  EXPECT_FALSE(l.may_override);
}

TEST(NdParse, UnsolicitedAdvertisementToAllNodes) {
  NeighborLearn l;
  EXPECT_TRUE(learn(ipv6_frame(ns_na(136, 0x20, "2001:db8::7", option(2, kMacB)),
                               {.src = "fe80::7", .dst = "ff02::1"}),
                    &l));
  // "Solicited" to a multicast address is invalid (RFC 4861 7.1.2).
  EXPECT_FALSE(learns(ipv6_frame(ns_na(136, 0x60, "2001:db8::7", option(2, kMacB)),
                                 {.src = "fe80::7", .dst = "ff02::1"})));
  EXPECT_FALSE(learns(
      ipv6_frame(ns_na(136, 0x20, "2001:db8::7", {}), {.src = "fe80::7", .dst = "ff02::1"})));
  EXPECT_FALSE(learns(ipv6_frame(ns_na(136, 0x20, "ff02::2", option(2, kMacB)), {})));
}

TEST(NdParse, RouterAdvertisementFromLinkLocal) {
  NeighborLearn l;
  ASSERT_TRUE(learn(ipv6_frame(router_advertisement(option(1, kMacB)), {.src = "fe80::1"}), &l));
  EXPECT_EQ(l.ip, ip("fe80::1"));
  EXPECT_EQ(l.source, NeighborSource::router_advertisement);
  expect_mac(l, kMacB);
  EXPECT_FALSE(learns(ipv6_frame(router_advertisement(option(1, kMacB)), {.src = "2001:db8::1"})));
}

TEST(NdParse, HopLimitMustBe255) {
  const Bytes body = ns_na(135, 0, "2001:db8::1", option(1, kMacA));
  EXPECT_TRUE(learns(ipv6_frame(body, {.src = "2001:db8::99"})));
  for (uint8_t hops : {0, 1, 64, 254}) {
    EXPECT_FALSE(learns(ipv6_frame(body, {.src = "2001:db8::99", .hop_limit = hops})));
    EXPECT_FALSE(
        learns(ipv6_frame(ns_na(136, 0x20, "2001:db8::7", option(2, kMacB)), {.hop_limit = hops})));
  }
}

TEST(NdParse, ChecksumCodeAndTypeAreChecked) {
  Bytes f = ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA)), {.src = "2001:db8::99"});
  ASSERT_TRUE(learns(f));
  Bytes bad_checksum = f;
  bad_checksum[14 + 40 + 3] ^= 1;
  EXPECT_FALSE(learns(bad_checksum));
  Bytes bad_mac = f;  // the checksum covers the option too
  bad_mac[f.size() - 1] ^= 1;
  EXPECT_FALSE(learns(bad_mac));
  EXPECT_FALSE(learns(
      ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA), 1), {.src = "2001:db8::99"})));
  EXPECT_FALSE(
      learns(ipv6_frame(ns_na(128, 0, "2001:db8::1", option(1, kMacA)), {.src = "2001:db8::99"})));
  // ND behind an extension header is not taken (next header 0).
  EXPECT_FALSE(learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA)),
                                 {.src = "2001:db8::99", .next_header = 0})));
}

TEST(NdParse, OptionsAreWalkedSafely) {
  const Bytes nonce = {14, 1, 1, 2, 3, 4, 5, 6};
  Bytes options = nonce;
  Bytes sll = option(1, kMacA);
  options.insert(options.end(), sll.begin(), sll.end());
  NeighborLearn l;
  ASSERT_TRUE(
      learn(ipv6_frame(ns_na(135, 0, "2001:db8::1", options), {.src = "2001:db8::99"}), &l));
  expect_mac(l, kMacA);
  // A zero-length option invalidates the message (and must not loop).
  Bytes zero = {14, 0, 0, 0, 0, 0, 0, 0};
  zero.insert(zero.end(), sll.begin(), sll.end());
  EXPECT_FALSE(learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", zero), {.src = "2001:db8::99"})));
  // An option claiming more than the message holds.
  Bytes overrun = option(1, kMacA);
  overrun[1] = 2;
  EXPECT_FALSE(learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", overrun), {.src = "2001:db8::99"})));
  // A dangling single byte after the options.
  Bytes dangling = option(1, kMacA);
  dangling.push_back(1);
  EXPECT_FALSE(learns(ipv6_frame(ns_na(135, 0, "2001:db8::1", dangling), {.src = "2001:db8::99"})));
}

TEST(NdParse, PayloadLengthAgainstFrame) {
  const Bytes body = ns_na(135, 0, "2001:db8::1", option(1, kMacA));
  // Claims more than the frame holds.
  EXPECT_FALSE(learns(ipv6_frame(body, {.src = "2001:db8::99", .payload_len_delta = 1})));
  // Link padding after the IPv6 payload is fine.
  Bytes padded = ipv6_frame(body, {.src = "2001:db8::99"});
  padded.insert(padded.end(), 8, 0);
  EXPECT_TRUE(learns(padded));
}

TEST(NdParse, VlanTagged) {
  NeighborLearn l;
  ASSERT_TRUE(learn(
      ipv6_frame(ns_na(136, 0x20, "2001:db8::7", option(2, kMacB)), {.vlan_tci = 0x2000 | 4094}),
      &l));
  EXPECT_EQ(l.vlan, 4094);
  EXPECT_EQ(l.ip, ip("2001:db8::7"));
}

// Every valid frame cut short: false below the bytes the parser needs, and
// never a read past `len` (AddressSanitizer watches the exact-size copy).
TEST(Truncation, EveryLength) {
  struct Case {
    Bytes frame;
    size_t needed;
  };
  const std::vector<Case> cases = {
      {arp_frame(1, kMacA, "192.0.2.10", "192.0.2.1"), 14 + 28},
      {arp_frame(2, kMacA, "192.0.2.10", "192.0.2.10", 7), 18 + 28},
      {ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA)), {.src = "2001:db8::99"}), 86},
      {ipv6_frame(ns_na(136, 0x20, "2001:db8::7", option(2, kMacB)), {.vlan_tci = 3}), 90},
      {ipv6_frame(router_advertisement(option(1, kMacB))), 14 + 40 + 16 + 8},
  };
  for (const Case& c : cases) {
    for (size_t len = 0; len <= c.frame.size(); ++len) {
      NeighborLearn l;
      EXPECT_EQ(learn(c.frame, &l, len), len >= c.needed) << "length " << len;
    }
  }
  NeighborLearn l;
  EXPECT_FALSE(learn_from_frame(nullptr, 100, &l));
}

// Random corruption of valid frames: anything may be rejected, nothing may
// crash or read out of bounds.
TEST(Truncation, RandomCorruption) {
  const std::vector<Bytes> seeds = {
      arp_frame(1, kMacA, "192.0.2.10", "192.0.2.1"),
      ipv6_frame(ns_na(135, 0, "2001:db8::1", option(1, kMacA)), {.src = "2001:db8::99"}),
      ipv6_frame(ns_na(136, 0x20, "2001:db8::7", option(2, kMacB)), {.vlan_tci = 3}),
      ipv6_frame(router_advertisement(option(1, kMacB))),
  };
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[i % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      f[rng() % f.size()] = static_cast<uint8_t>(rng());
    }
    NeighborLearn l;
    if (learn(f, &l, rng() % (f.size() + 1))) {
      EXPECT_TRUE(is_neighbor_address(l.ip));
      EXPECT_EQ(l.mac[0] & 1, 0);
    }
  }
}

TEST(Build, ArpRequestBroadcast) {
  uint8_t out[128];
  const uint32_t n = build_arp_request(out, sizeof out, kMacA, ip("192.0.2.1"), ip("192.0.2.77"));
  ASSERT_EQ(n, 60u);
  EXPECT_EQ(0, std::memcmp(out, kBroadcast, 6));
  EXPECT_EQ(0, std::memcmp(out + 6, kMacA, 6));
  EXPECT_EQ(out[12], 0x08);
  EXPECT_EQ(out[13], 0x06);
  EXPECT_EQ(out[21], 1);  // request
  const Bytes tha(out + 32, out + 38);
  EXPECT_EQ(tha, Bytes(6, 0));
  EXPECT_EQ(0, std::memcmp(out + 38, ip("192.0.2.77").bytes.data(), 4));
  EXPECT_EQ(Bytes(out + 42, out + 60), Bytes(18, 0));  // padding
  NeighborLearn l;
  ASSERT_TRUE(learn(Bytes(out, out + n), &l));
  EXPECT_EQ(l.ip, ip("192.0.2.1"));
  expect_mac(l, kMacA);
  EXPECT_EQ(l.source, NeighborSource::arp_request);
}

TEST(Build, ArpRequestUnicastAndTagged) {
  uint8_t out[128];
  uint32_t n = build_arp_request(out, sizeof out, kMacA, ip("192.0.2.1"), ip("192.0.2.77"), kMacB);
  ASSERT_EQ(n, 60u);
  EXPECT_EQ(0, std::memcmp(out, kMacB, 6));
  n = build_arp_request(out, sizeof out, kMacA, ip("192.0.2.1"), ip("192.0.2.77"), nullptr, 42);
  ASSERT_EQ(n, 64u);
  EXPECT_EQ(out[12], 0x81);
  EXPECT_EQ(out[15], 42);
  NeighborLearn l;
  ASSERT_TRUE(learn(Bytes(out, out + n), &l));
  EXPECT_EQ(l.vlan, 42);
  EXPECT_EQ(l.ip, ip("192.0.2.1"));
}

TEST(Build, ArpRequestRejectsBadArguments) {
  uint8_t out[128];
  const uint8_t multicast_mac[6] = {0x01, 0, 0x5e, 0, 0, 1};
  EXPECT_EQ(0u, build_arp_request(out, 59, kMacA, ip("192.0.2.1"), ip("192.0.2.77")));
  EXPECT_EQ(0u, build_arp_request(out, 63, kMacA, ip("192.0.2.1"), ip("192.0.2.77"), nullptr, 5));
  EXPECT_EQ(0u, build_arp_request(nullptr, 128, kMacA, ip("192.0.2.1"), ip("192.0.2.77")));
  EXPECT_EQ(0u, build_arp_request(out, 128, kMacA, ip("192.0.2.1"), ip("2001:db8::1")));
  EXPECT_EQ(0u, build_arp_request(out, 128, kMacA, ip("0.0.0.0"), ip("192.0.2.77")));
  EXPECT_EQ(0u, build_arp_request(out, 128, kMacA, ip("192.0.2.1"), ip("224.0.0.5")));
  EXPECT_EQ(0u, build_arp_request(out, 128, multicast_mac, ip("192.0.2.1"), ip("192.0.2.77")));
  EXPECT_EQ(0u,
            build_arp_request(out, 128, kMacA, ip("192.0.2.1"), ip("192.0.2.77"), multicast_mac));
  EXPECT_EQ(0u,
            build_arp_request(out, 128, kMacA, ip("192.0.2.1"), ip("192.0.2.77"), nullptr, 4095));
}

TEST(Build, NeighborSolicitationMulticast) {
  uint8_t out[128];
  const esp::IpAddress src = ip("2001:db8::1");
  const esp::IpAddress target = ip("2001:db8::12:3456");
  const uint32_t n = build_neighbor_solicitation(out, sizeof out, kMacA, src, target);
  ASSERT_EQ(n, 86u);
  const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0x12, 0x34, 0x56};
  EXPECT_EQ(0, std::memcmp(out, want_mac, 6));
  EXPECT_EQ(0, std::memcmp(out + 6, kMacA, 6));
  const uint8_t* ip6 = out + 14;
  EXPECT_EQ(ip6[0], 0x60);
  EXPECT_EQ(ip6[4] << 8 | ip6[5], 32);
  EXPECT_EQ(ip6[6], 58);
  EXPECT_EQ(ip6[7], 255);
  EXPECT_EQ(0, std::memcmp(ip6 + 24, ip("ff02::1:ff12:3456").bytes.data(), 16));
  const Bytes icmp(ip6 + 40, ip6 + 72);
  EXPECT_EQ(icmp[0], 135);
  EXPECT_EQ(icmp[1], 0);
  EXPECT_EQ(0, std::memcmp(&icmp[8], target.bytes.data(), 16));
  EXPECT_EQ(icmp[24], 1);
  EXPECT_EQ(icmp[25], 1);
  EXPECT_EQ(0, std::memcmp(&icmp[26], kMacA, 6));
  Bytes zeroed = icmp;
  zeroed[2] = zeroed[3] = 0;
  EXPECT_EQ(icmpv6_checksum(ip6 + 8, ip6 + 24, zeroed), icmp[2] << 8 | icmp[3]);
  NeighborLearn l;
  ASSERT_TRUE(learn(Bytes(out, out + n), &l));
  EXPECT_EQ(l.ip, src);
  expect_mac(l, kMacA);
  EXPECT_EQ(l.source, NeighborSource::neighbor_solicitation);
}

TEST(Build, NeighborSolicitationUnicastAndTagged) {
  uint8_t out[128];
  const esp::IpAddress target = ip("fe80::abcd");
  uint32_t n = build_neighbor_solicitation(out, sizeof out, kMacA, ip("fe80::1"), target, kMacB);
  ASSERT_EQ(n, 86u);
  EXPECT_EQ(0, std::memcmp(out, kMacB, 6));
  EXPECT_EQ(0, std::memcmp(out + 14 + 24, target.bytes.data(), 16));
  EXPECT_TRUE(learns(Bytes(out, out + n)));
  n = build_neighbor_solicitation(out, sizeof out, kMacA, ip("fe80::1"), target, nullptr, 300);
  ASSERT_EQ(n, 90u);
  NeighborLearn l;
  ASSERT_TRUE(learn(Bytes(out, out + n), &l));
  EXPECT_EQ(l.vlan, 300);
  EXPECT_EQ(l.ip, ip("fe80::1"));
}

TEST(Build, NeighborSolicitationRejectsBadArguments) {
  uint8_t out[128];
  EXPECT_EQ(0u, build_neighbor_solicitation(out, 85, kMacA, ip("fe80::1"), ip("fe80::2")));
  EXPECT_EQ(0u, build_neighbor_solicitation(out, 128, kMacA, ip("::"), ip("fe80::2")));
  EXPECT_EQ(0u, build_neighbor_solicitation(out, 128, kMacA, ip("fe80::1"), ip("ff02::1")));
  EXPECT_EQ(0u, build_neighbor_solicitation(out, 128, kMacA, ip("fe80::1"), ip("192.0.2.1")));
  EXPECT_EQ(0u, build_neighbor_solicitation(out, 128, kMacA, ip("192.0.2.1"), ip("fe80::2")));
  EXPECT_EQ(0u, build_neighbor_solicitation(out, 128, kMacA, ip("fe80::1"), ip("::ffff:1.2.3.4")));
}

TEST(Build, SolicitationDispatchesOnVersion) {
  uint8_t out[128];
  EXPECT_EQ(60u, build_solicitation(out, sizeof out, kMacA, ip("192.0.2.1"), ip("192.0.2.9")));
  EXPECT_EQ(86u, build_solicitation(out, sizeof out, kMacA, ip("fe80::1"), ip("fe80::9")));
  EXPECT_EQ(0u, build_solicitation(out, sizeof out, kMacA, ip("fe80::1"), esp::IpAddress{}));
}

TEST(Addresses, WhatCanBeANeighbor) {
  for (const char* good : {"192.0.2.1", "10.0.0.1", "169.254.1.1", "223.255.255.254", "2001:db8::1",
                           "fe80::1", "::2"}) {
    EXPECT_TRUE(is_neighbor_address(ip(good))) << good;
  }
  for (const char* bad : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "240.0.0.1",
                          "255.255.255.255", "::", "::1", "ff02::1", "::ffff:192.0.2.1"}) {
    EXPECT_FALSE(is_neighbor_address(ip(bad))) << bad;
  }
  EXPECT_FALSE(is_neighbor_address(esp::IpAddress{}));
}

}  // namespace
}  // namespace traverse::engine
