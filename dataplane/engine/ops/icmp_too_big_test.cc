#include "dataplane/engine/ops/icmp_too_big.hh"

#include <gtest/gtest.h>

#include <algorithm>

#include "dataplane/engine/ops/ops_test_packets.hh"

namespace traverse::engine::ops {
namespace {

using testing::Bytes;

esp::IpAddress gateway4() {
  return esp::IpAddress::from_v4(testing::kGateway4.data());
}
esp::IpAddress gateway6() {
  return esp::IpAddress::from_v6(testing::kGateway6.data());
}

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(be16(p)) << 16 | be16(p + 2);
}

TooBigResult build(const Bytes& offending, const esp::IpAddress& gw, uint32_t mtu, Bytes* out,
                   size_t cap = 2048) {
  out->assign(cap, 0xee);
  const TooBigResult r =
      build_icmp_too_big(offending.data(), static_cast<uint32_t>(offending.size()), gw, mtu,
                         out->data(), static_cast<uint32_t>(cap));
  out->resize(r.length);
  return r;
}

// Re-parses an ICMPv4 "fragmentation needed" byte by byte and checks every field.
void expect_icmp4(const Bytes& out, const Bytes& offending, uint16_t mtu, size_t quote_len) {
  ASSERT_EQ(out.size(), 28 + quote_len);
  EXPECT_EQ(out[0], 0x45);
  EXPECT_EQ(be16(&out[2]), out.size());
  EXPECT_EQ(out[8], 64);  // TTL
  EXPECT_EQ(out[9], 1);   // ICMP
  EXPECT_TRUE(testing::ref_sum_ok(out.data(), 20)) << "IPv4 header checksum";
  EXPECT_TRUE(std::equal(out.begin() + 12, out.begin() + 16, testing::kGateway4.begin()));
  EXPECT_TRUE(std::equal(out.begin() + 16, out.begin() + 20, offending.begin() + 12));
  EXPECT_EQ(out[20], 3);
  EXPECT_EQ(out[21], 4);
  EXPECT_EQ(be16(&out[24]), 0);  // unused
  EXPECT_EQ(be16(&out[26]), mtu);
  EXPECT_TRUE(testing::ref_sum_ok(out.data() + 20, out.size() - 20)) << "ICMP checksum";
  EXPECT_TRUE(std::equal(out.begin() + 28, out.end(), offending.begin()));
}

void expect_icmp6(const Bytes& out, const Bytes& offending, uint32_t mtu, size_t quote_len) {
  ASSERT_EQ(out.size(), 48 + quote_len);
  EXPECT_EQ(out[0] >> 4, 6);
  EXPECT_EQ(be16(&out[4]), out.size() - 40);
  EXPECT_EQ(out[6], 58);
  EXPECT_EQ(out[7], 64);  // hop limit
  EXPECT_TRUE(std::equal(out.begin() + 8, out.begin() + 24, testing::kGateway6.begin()));
  EXPECT_TRUE(std::equal(out.begin() + 24, out.begin() + 40, offending.begin() + 8));
  EXPECT_EQ(out[40], 2);
  EXPECT_EQ(out[41], 0);
  EXPECT_EQ(be32(&out[44]), mtu);
  const uint32_t pseudo = testing::ref_pseudo_sum(out, 58, static_cast<uint32_t>(out.size() - 40));
  EXPECT_TRUE(testing::ref_sum_ok(out.data() + 40, out.size() - 40, pseudo)) << "ICMPv6 checksum";
  EXPECT_TRUE(std::equal(out.begin() + 48, out.end(), offending.begin()));
}

TEST(IcmpTooBig, Ipv4QuotesUpTo576Bytes) {
  const Bytes pkt = testing::udp_v4(1500);
  Bytes out;
  const TooBigResult r = build(pkt, gateway4(), 1400, &out);
  ASSERT_EQ(r.reason, TooBigReason::built);
  EXPECT_EQ(r.length, 576u);
  expect_icmp4(out, pkt, 1400, 548);
}

TEST(IcmpTooBig, Ipv4SmallPacketQuotedWhole) {
  Bytes pkt = testing::udp_v4(100);
  pkt.resize(pkt.size() + 14, 0);  // link padding is not quoted
  Bytes out;
  ASSERT_EQ(build(pkt, gateway4(), 68, &out).reason, TooBigReason::built);
  expect_icmp4(out, pkt, 68, 100);
}

TEST(IcmpTooBig, Ipv4HeaderAndEightBytesIsTheMinimumBuffer) {
  const Bytes options = {0x94, 0x04, 0, 0, 1, 1, 1, 0};  // router alert, NOPs, EOL
  const Bytes pkt = testing::udp_v4(1000, 0, options);
  Bytes out;
  const size_t minimum = 20 + 8 + 28 + 8;
  ASSERT_EQ(build(pkt, gateway4(), 1300, &out, minimum).reason, TooBigReason::built);
  expect_icmp4(out, pkt, 1300, 36);
  EXPECT_EQ(build(pkt, gateway4(), 1300, &out, minimum - 1).reason, TooBigReason::buffer_too_small);
  EXPECT_EQ(build(pkt, gateway4(), 1300, &out, 300).reason, TooBigReason::built);
  expect_icmp4(out, pkt, 1300, 272);
}

TEST(IcmpTooBig, Ipv6QuotesUpTo1280Bytes) {
  const Bytes pkt = testing::udp_v6(2000);
  Bytes out;
  const TooBigResult r = build(pkt, gateway6(), 1280, &out);
  ASSERT_EQ(r.reason, TooBigReason::built);
  EXPECT_EQ(r.length, 1280u);
  expect_icmp6(out, pkt, 1280, 1232);
}

TEST(IcmpTooBig, Ipv6SmallBufferQuotesLess) {
  const Bytes pkt = testing::udp_v6(1500);
  Bytes out;
  ASSERT_EQ(build(pkt, gateway6(), 1400, &out, 600).reason, TooBigReason::built);
  expect_icmp6(out, pkt, 1400, 552);
  EXPECT_EQ(build(pkt, gateway6(), 1400, &out, 95).reason, TooBigReason::buffer_too_small);
}

TEST(IcmpTooBig, Ipv6MulticastDestinationAllowed) {
  // RFC 4443 2.4(e.3): packet too big is the exception for multicast.
  Bytes pkt = testing::udp_v6(1500);
  pkt[24] = 0xff;
  pkt[25] = 0x0e;
  Bytes out;
  EXPECT_EQ(build(pkt, gateway6(), 1400, &out).reason, TooBigReason::built);
}

TEST(IcmpTooBig, NoErrorAboutAnIcmpError) {
  for (uint8_t type : {3, 4, 5, 11, 12}) {
    testing::V4Fields f;
    f.protocol = 1;
    Bytes icmp(1400, 0);
    icmp[0] = type;
    Bytes out;
    EXPECT_EQ(build(testing::make_ipv4(f, icmp), gateway4(), 1300, &out).reason,
              TooBigReason::icmp_error)
        << int(type);
  }
  testing::V4Fields f;
  f.protocol = 1;
  Bytes echo(1400, 0);
  echo[0] = 8;
  Bytes out;
  EXPECT_EQ(build(testing::make_ipv4(f, echo), gateway4(), 1300, &out).reason, TooBigReason::built);
  // ICMP with no type byte at all: cannot be ruled out, so stay silent.
  EXPECT_EQ(build(testing::make_ipv4(f, {}), gateway4(), 1300, &out).reason,
            TooBigReason::icmp_error);
}

TEST(IcmpTooBig, NoErrorAboutAnIcmpv6Error) {
  for (uint8_t type : {1, 2, 3, 4, 127}) {
    Bytes icmp(1400, 0);
    icmp[0] = type;
    Bytes out;
    EXPECT_EQ(build(testing::make_ipv6(58, testing::kHostA6, testing::kHostB6, icmp), gateway6(),
                    1280, &out)
                  .reason,
              TooBigReason::icmp_error)
        << int(type);
  }
  Bytes echo(1400, 0);
  echo[0] = 128;
  Bytes out;
  EXPECT_EQ(build(testing::make_ipv6(58, testing::kHostA6, testing::kHostB6, echo), gateway6(),
                  1280, &out)
                .reason,
            TooBigReason::built);
}

TEST(IcmpTooBig, Ipv4SourcesThatNameNoHost) {
  for (const testing::V4Addr& src :
       {testing::V4Addr{0, 0, 0, 0}, testing::V4Addr{0, 1, 2, 3}, testing::V4Addr{127, 0, 0, 1},
        testing::V4Addr{224, 0, 0, 5}, testing::V4Addr{239, 1, 1, 1}, testing::V4Addr{240, 0, 0, 1},
        testing::V4Addr{255, 255, 255, 255}}) {
    testing::V4Fields f;
    f.src = src;
    Bytes out;
    EXPECT_EQ(build(testing::make_ipv4(f, Bytes(1400, 0)), gateway4(), 1300, &out).reason,
              TooBigReason::bad_source)
        << int(src[0]);
  }
  for (const testing::V4Addr& dst :
       {testing::V4Addr{224, 0, 0, 1}, testing::V4Addr{255, 255, 255, 255}}) {
    testing::V4Fields f;
    f.dst = dst;
    Bytes out;
    EXPECT_EQ(build(testing::make_ipv4(f, Bytes(1400, 0)), gateway4(), 1300, &out).reason,
              TooBigReason::bad_destination);
  }
}

TEST(IcmpTooBig, Ipv6SourcesThatNameNoHost) {
  testing::V6Addr unspecified{};
  testing::V6Addr loopback{};
  loopback[15] = 1;
  testing::V6Addr multicast = testing::kHostA6;
  multicast[0] = 0xff;
  for (const testing::V6Addr& src : {unspecified, loopback, multicast}) {
    Bytes out;
    EXPECT_EQ(
        build(testing::make_ipv6(17, src, testing::kHostB6, Bytes(1400, 0)), gateway6(), 1280, &out)
            .reason,
        TooBigReason::bad_source);
  }
}

TEST(IcmpTooBig, OnlyTheFirstFragment) {
  Bytes out;
  EXPECT_EQ(build(testing::udp_v4(1400, 185), gateway4(), 1300, &out).reason,
            TooBigReason::non_first_fragment);
  EXPECT_EQ(build(testing::udp_v4(1400, 0x2000), gateway4(), 1300, &out).reason,
            TooBigReason::built);
  Bytes frag = {17, 0, 0x05, 0x01, 0, 0, 0, 1};  // offset 160, M set
  frag.resize(1400, 0);
  EXPECT_EQ(build(testing::make_ipv6(44, testing::kHostA6, testing::kHostB6, frag), gateway6(),
                  1280, &out)
                .reason,
            TooBigReason::non_first_fragment);
}

TEST(IcmpTooBig, RefusesBadArguments) {
  Bytes out;
  EXPECT_EQ(build(testing::udp_v4(1400), gateway6(), 1300, &out).reason,
            TooBigReason::family_mismatch);
  EXPECT_EQ(build(testing::udp_v4(1400), esp::IpAddress{}, 1300, &out).reason,
            TooBigReason::family_mismatch);
  EXPECT_EQ(build(testing::udp_v4(1400), gateway4(), 67, &out).reason, TooBigReason::bad_mtu);
  EXPECT_EQ(build(testing::udp_v4(1400), gateway4(), 65536, &out).reason, TooBigReason::bad_mtu);
  EXPECT_EQ(build(testing::udp_v6(1400), gateway6(), 1279, &out).reason, TooBigReason::bad_mtu);
  Bytes lying = testing::udp_v4(1400);
  lying[2] = 0x10;  // claims 4000+ bytes
  EXPECT_EQ(build(lying, gateway4(), 1300, &out).reason, TooBigReason::malformed);
  EXPECT_EQ(build_icmp_too_big(nullptr, 0, gateway4(), 1300, nullptr, 0).reason,
            TooBigReason::malformed);
  const Bytes pkt = testing::udp_v4(1400);
  EXPECT_EQ(build_icmp_too_big(pkt.data(), 1400, gateway4(), 1300, nullptr, 576).reason,
            TooBigReason::buffer_too_small);
}

TEST(IcmpTooBig, ReasonNames) {
  EXPECT_EQ(too_big_reason_name(TooBigReason::built), "built");
  EXPECT_EQ(too_big_reason_name(TooBigReason::buffer_too_small), "buffer_too_small");
}

}  // namespace
}  // namespace traverse::engine::ops
