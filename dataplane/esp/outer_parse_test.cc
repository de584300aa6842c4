// Classification of what arrives from peers: ESP, ESP in UDP, IKE after the
// non-ESP marker, NAT keepalives, other traffic, and malformed headers.
#include "dataplane/esp/outer_parse.hh"

#include <gtest/gtest.h>

#include <optional>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/test_packets.hh"
#include "dataplane/esp/udp_encap.hh"

namespace traverse::esp {
namespace {

using testing::TestPacket;

std::vector<uint8_t> ipv4_udp(uint16_t dport, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45;
  p[8] = 64;
  p[9] = 17;
  p[12] = 10;
  p[15] = 1;
  p[16] = 10;
  p[19] = 2;
  store_be16(&p[20], 4500);
  store_be16(&p[22], dport);
  p.insert(p.end(), payload.begin(), payload.end());
  testing::fix_outer_lengths(p);
  return p;
}

std::vector<uint8_t> ipv6_with(uint8_t next, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> p(40, 0);
  p[0] = 0x60;
  p[6] = next;
  p[7] = 64;
  p.insert(p.end(), payload.begin(), payload.end());
  testing::fix_outer_lengths(p);
  return p;
}

// The view points into the packet, so the packet outlives the call: it stays
// until the next parse().
Status parse(const std::vector<uint8_t>& bytes, OuterView* view) {
  static std::optional<TestPacket> packet;
  packet.emplace(bytes);
  return parse_outer(packet->view, 4500, view);
}

TEST(UdpEncap, ClassifiesPayloads) {
  const uint8_t keepalive[] = {0xff};
  const uint8_t marker[] = {0, 0, 0, 0, 0x11, 0x22};
  const uint8_t esp[] = {0, 0, 1, 0, 0, 0, 0, 1};
  const uint8_t short_esp[] = {0, 0, 1, 0, 0};
  const uint8_t junk[] = {0xfe};
  EXPECT_EQ(classify_udp_payload(keepalive, 1), UdpPayloadKind::keepalive);
  EXPECT_EQ(classify_udp_payload(marker, sizeof marker), UdpPayloadKind::ike);
  EXPECT_EQ(classify_udp_payload(esp, sizeof esp), UdpPayloadKind::esp);
  EXPECT_EQ(classify_udp_payload(short_esp, sizeof short_esp), UdpPayloadKind::invalid);
  EXPECT_EQ(classify_udp_payload(junk, 1), UdpPayloadKind::invalid);
  EXPECT_EQ(classify_udp_payload(junk, 0), UdpPayloadKind::invalid);
}

TEST(OuterParse, UdpEncapsulatedKinds) {
  OuterView view;
  EXPECT_EQ(parse(ipv4_udp(4500, {0xff}), &view), Status::nat_keepalive);
  EXPECT_EQ(parse(ipv4_udp(4500, {0, 0, 0, 0, 1, 2, 3, 4}), &view), Status::ike);
  EXPECT_EQ(view.esp_offset, 28u);
  ASSERT_EQ(parse(ipv4_udp(4500, {0, 0, 0x12, 0x34, 0, 0, 0, 9, 1, 2}), &view), Status::ok);
  EXPECT_TRUE(view.udp);
  EXPECT_EQ(view.spi, 0x1234u);
  EXPECT_EQ(view.src_port, 4500);
  EXPECT_EQ(view.esp_offset, 28u);
  EXPECT_EQ(view.src_addr[0], 10);
  EXPECT_EQ(parse(ipv4_udp(500, {0, 0, 0x12, 0x34, 0, 0, 0, 9}), &view), Status::not_esp);
}

TEST(OuterParse, Ipv6ExtensionHeadersAndFragments) {
  OuterView view;
  // Destination options (8 bytes) then ESP.
  std::vector<uint8_t> payload = {50, 0, 1, 4, 0, 0, 0, 0};
  const std::vector<uint8_t> esp = {0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 1};
  payload.insert(payload.end(), esp.begin(), esp.end());
  ASSERT_EQ(parse(ipv6_with(60, payload), &view), Status::ok);
  EXPECT_EQ(view.esp_offset, 48u);
  EXPECT_EQ(view.spi, 0xaabbccddu);
  EXPECT_EQ(view.version, 6);
  EXPECT_EQ(parse(ipv6_with(44, payload), &view), Status::outer_fragment);
  EXPECT_EQ(parse(ipv6_with(6, payload), &view), Status::not_esp);
  // An extension header claiming more than the packet holds.
  std::vector<uint8_t> lying = payload;
  lying[1] = 200;
  EXPECT_EQ(parse(ipv6_with(60, lying), &view), Status::bad_outer_header);
  // A chain of nothing but extension headers.
  std::vector<uint8_t> chain;
  for (int i = 0; i < 12; ++i) {
    chain.insert(chain.end(), {60, 0, 1, 4, 0, 0, 0, 0});
  }
  EXPECT_NE(parse(ipv6_with(60, chain), &view), Status::ok);
}

TEST(OuterParse, ZeroSpiAndGarbage) {
  OuterView view;
  std::vector<uint8_t> zero_spi(20, 0);
  zero_spi[0] = 0x45;
  zero_spi[8] = 64;
  zero_spi[9] = 50;
  zero_spi.insert(zero_spi.end(), 8, 0);
  testing::fix_outer_lengths(zero_spi);
  EXPECT_EQ(parse(zero_spi, &view), Status::bad_outer_header);
  EXPECT_EQ(parse({0x45}, &view), Status::too_short);
  EXPECT_EQ(parse(std::vector<uint8_t>(40, 0x00), &view), Status::bad_outer_header);
}

}  // namespace
}  // namespace traverse::esp
