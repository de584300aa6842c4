#include "dataplane/engine/ops/icmp_error_parse.hh"

#include <gtest/gtest.h>

#include "dataplane/engine/ops/ops_test_packets.hh"

namespace traverse::engine::ops {
namespace {

using testing::Bytes;

constexpr uint32_t kSpi = 0xc0ffee01;

PmtuIcmpStatus parse(const Bytes& pkt, PmtuReport* report) {
  return parse_icmp_too_big(pkt.data(), static_cast<uint32_t>(pkt.size()), report);
}

PmtuIcmpStatus parse(const Bytes& pkt) {
  PmtuReport report;
  return parse(pkt, &report);
}

TEST(IcmpErrorParse, Ipv4EspFullQuote) {
  const Bytes esp = testing::esp_v4(1400, kSpi, false);
  PmtuReport r;
  ASSERT_EQ(parse(testing::icmp4_error(3, 4, 1300, esp, 548), &r), PmtuIcmpStatus::ok);
  EXPECT_EQ(r.reporter, esp::IpAddress::from_v4(testing::kRouter4.data()));
  EXPECT_EQ(r.quoted_src, esp::IpAddress::from_v4(testing::kGateway4.data()));
  EXPECT_EQ(r.quoted_dst, esp::IpAddress::from_v4(testing::kPeer4.data()));
  EXPECT_FALSE(r.udp);
  EXPECT_TRUE(r.spi_present);
  EXPECT_EQ(r.spi, kSpi);
  EXPECT_EQ(r.mtu, 1300u);
  EXPECT_EQ(r.quoted_len, 1400u);
}

TEST(IcmpErrorParse, Ipv4EspEightByteQuoteHasTheSpi) {
  const Bytes esp = testing::esp_v4(1400, kSpi, false);
  PmtuReport r;
  ASSERT_EQ(parse(testing::icmp4_error(3, 4, 1300, esp, 28), &r), PmtuIcmpStatus::ok);
  EXPECT_TRUE(r.spi_present);
  EXPECT_EQ(r.spi, kSpi);
  ASSERT_EQ(parse(testing::icmp4_error(3, 4, 1300, esp, 24), &r), PmtuIcmpStatus::ok);
  EXPECT_EQ(r.spi, kSpi);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, esp, 23)), PmtuIcmpStatus::quote_truncated);
}

TEST(IcmpErrorParse, Ipv4UdpEightByteQuoteLacksTheSpi) {
  const Bytes esp = testing::esp_v4(1400, kSpi, true, 31000);
  PmtuReport r;
  ASSERT_EQ(parse(testing::icmp4_error(3, 4, 1280, esp, 28), &r), PmtuIcmpStatus::ok);
  EXPECT_TRUE(r.udp);
  EXPECT_EQ(r.src_port, 4500);
  EXPECT_EQ(r.dst_port, 31000);
  EXPECT_FALSE(r.spi_present);
  EXPECT_EQ(r.mtu, 1280u);

  ASSERT_EQ(parse(testing::icmp4_error(3, 4, 1280, esp, 32), &r), PmtuIcmpStatus::ok);
  EXPECT_TRUE(r.spi_present);
  EXPECT_EQ(r.spi, kSpi);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1280, esp, 27)), PmtuIcmpStatus::quote_truncated);
}

TEST(IcmpErrorParse, Ipv6EspAndUdp) {
  PmtuReport r;
  const Bytes esp = testing::esp_v6(1500, kSpi, false);
  ASSERT_EQ(parse(testing::icmp6_error(2, 0, 1400, esp, 1232), &r), PmtuIcmpStatus::ok);
  EXPECT_EQ(r.reporter, esp::IpAddress::from_v6(testing::kRouter6.data()));
  EXPECT_EQ(r.quoted_src, esp::IpAddress::from_v6(testing::kGateway6.data()));
  EXPECT_EQ(r.quoted_dst, esp::IpAddress::from_v6(testing::kPeer6.data()));
  EXPECT_EQ(r.spi, kSpi);
  EXPECT_EQ(r.mtu, 1400u);
  EXPECT_EQ(r.quoted_len, 1500u);

  const Bytes udp = testing::esp_v6(1500, kSpi, true);
  ASSERT_EQ(parse(testing::icmp6_error(2, 0, 1280, udp, 1232), &r), PmtuIcmpStatus::ok);
  EXPECT_TRUE(r.udp);
  EXPECT_TRUE(r.spi_present);
  EXPECT_EQ(r.spi, kSpi);
  // RFC 4443: the code of a packet too big is ignored on receipt.
  EXPECT_EQ(parse(testing::icmp6_error(2, 9, 1280, udp, 1232)), PmtuIcmpStatus::ok);
}

TEST(IcmpErrorParse, RejectsWrongMessages) {
  const Bytes esp4 = testing::esp_v4(1400, kSpi, false);
  const Bytes esp6 = testing::esp_v6(1500, kSpi, false);
  EXPECT_EQ(parse(testing::icmp4_error(3, 1, 1300, esp4, 548)), PmtuIcmpStatus::wrong_type);
  EXPECT_EQ(parse(testing::icmp4_error(11, 0, 1300, esp4, 548)), PmtuIcmpStatus::wrong_type);
  EXPECT_EQ(parse(testing::icmp6_error(1, 4, 1300, esp6, 1000)), PmtuIcmpStatus::wrong_type);
  EXPECT_EQ(parse(testing::icmp6_error(3, 0, 1300, esp6, 1000)), PmtuIcmpStatus::wrong_type);
  EXPECT_EQ(parse(testing::udp_v4(100)), PmtuIcmpStatus::not_icmp);
  EXPECT_EQ(parse(testing::udp_v6(100)), PmtuIcmpStatus::not_icmp);
}

TEST(IcmpErrorParse, RejectsBadMtus) {
  const Bytes esp4 = testing::esp_v4(1400, kSpi, false);
  const Bytes esp6 = testing::esp_v6(1500, kSpi, false);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 0, esp4, 548)), PmtuIcmpStatus::mtu_not_reported);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 67, esp4, 548)), PmtuIcmpStatus::mtu_too_small);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 68, esp4, 548)), PmtuIcmpStatus::ok);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1399, esp4, 548)), PmtuIcmpStatus::ok);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1400, esp4, 548)), PmtuIcmpStatus::mtu_not_smaller);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 9000, esp4, 548)), PmtuIcmpStatus::mtu_not_smaller);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1279, esp6, 1000)), PmtuIcmpStatus::mtu_too_small);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1280, esp6, 1000)), PmtuIcmpStatus::ok);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1500, esp6, 1000)), PmtuIcmpStatus::mtu_not_smaller);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 0x10000, esp6, 1000)),
            PmtuIcmpStatus::mtu_not_smaller);
}

TEST(IcmpErrorParse, RejectsBadChecksums) {
  Bytes v4 = testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, kSpi, false), 548);
  v4[100] ^= 1;
  EXPECT_EQ(parse(v4), PmtuIcmpStatus::bad_checksum);
  Bytes header = testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, kSpi, false), 548);
  header[8] ^= 1;  // TTL without the checksum following
  EXPECT_EQ(parse(header), PmtuIcmpStatus::bad_ip_checksum);
  Bytes v6 = testing::icmp6_error(2, 0, 1280, testing::esp_v6(1500, kSpi, false), 1232);
  v6[10] ^= 1;  // the source address: only the pseudo-header covers it
  EXPECT_EQ(parse(v6), PmtuIcmpStatus::bad_checksum);
}

TEST(IcmpErrorParse, RejectsQuotesThatAreNotOurEsp) {
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, 0, false), 548)),
            PmtuIcmpStatus::zero_spi);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, 0, true), 548)),
            PmtuIcmpStatus::zero_spi);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, testing::tcp_v4(0x10, {}, 1400), 548)),
            PmtuIcmpStatus::not_esp);
  // An ICMPv4 error quoting an IPv6 packet, and the other way round.
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, testing::esp_v6(1500, kSpi, false), 548)),
            PmtuIcmpStatus::quote_malformed);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1280, testing::esp_v4(1500, kSpi, false), 1000)),
            PmtuIcmpStatus::quote_malformed);
  Bytes later = testing::esp_v4(1400, kSpi, false);
  later[6] = 0x00;
  later[7] = 0xb9;  // offset 185: no ESP header in it
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, later, 548)), PmtuIcmpStatus::quote_fragment);
  Bytes bad_ihl = testing::esp_v4(1400, kSpi, false);
  bad_ihl[0] = 0x44;
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, bad_ihl, 548)), PmtuIcmpStatus::quote_malformed);
  EXPECT_EQ(parse(testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, kSpi, false), 19)),
            PmtuIcmpStatus::too_short);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1280, testing::esp_v6(1500, kSpi, false), 39)),
            PmtuIcmpStatus::too_short);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1280, testing::esp_v6(1500, kSpi, false), 43)),
            PmtuIcmpStatus::quote_truncated);
}

TEST(IcmpErrorParse, QuoteBehindIpv6ExtensionHeaders) {
  // Our ESP packet with a destination-options header (16 bytes) before ESP.
  Bytes esp = testing::esp_v6(1500, kSpi, false);
  esp[6] = 60;
  const Bytes dest_opts = {50, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  esp.insert(esp.begin() + 40, dest_opts.begin(), dest_opts.end());
  esp[4] = static_cast<uint8_t>((esp.size() - 40) >> 8);
  esp[5] = static_cast<uint8_t>(esp.size() - 40);
  PmtuReport r;
  ASSERT_EQ(parse(testing::icmp6_error(2, 0, 1400, esp, 1232), &r), PmtuIcmpStatus::ok);
  EXPECT_EQ(r.spi, kSpi);
  EXPECT_EQ(parse(testing::icmp6_error(2, 0, 1400, esp, 50)), PmtuIcmpStatus::quote_truncated);
}

TEST(IcmpErrorParse, RejectsFragmentedOrMalformedOuter) {
  Bytes frag = testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, kSpi, false), 548);
  frag[6] = 0x20;  // MF
  frag[10] = frag[11] = 0;
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += frag[i] << 8 | frag[i + 1];
  }
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  frag[10] = static_cast<uint8_t>(~sum >> 8);
  frag[11] = static_cast<uint8_t>(~sum);
  EXPECT_EQ(parse(frag), PmtuIcmpStatus::ip_fragment);
  Bytes lying = testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, kSpi, false), 548);
  lying.pop_back();
  EXPECT_EQ(parse(lying), PmtuIcmpStatus::bad_ip_header);
  EXPECT_EQ(parse_icmp_too_big(nullptr, 0, nullptr), PmtuIcmpStatus::bad_ip_header);
  // An IPv4 ICMP header cut short: only 4 bytes after the IP header.
  testing::V4Fields f;
  f.protocol = 1;
  EXPECT_EQ(parse(testing::make_ipv4(f, {3, 4, 0, 0})), PmtuIcmpStatus::too_short);
}

}  // namespace
}  // namespace traverse::engine::ops
