// Parses the outer IPv4/IPv6 (+ UDP) header of a packet arriving from a peer
// and says what it carries: ESP (with its SPI, for the SA lookup), IKE after
// the non-ESP marker, a NAT keepalive, something else, or garbage. Bytes past
// the IP length (link padding) are trimmed. Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/status.hh"

namespace traverse::esp {

inline constexpr uint8_t kIpProtoEsp = 50;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIpv4 = 4;
inline constexpr uint8_t kIpProtoIpv6 = 41;
inline constexpr uint8_t kIpProtoNoNext = 59;  // RFC 4303 dummy packets
inline constexpr uint32_t kIpv4HeaderLen = 20;
inline constexpr uint32_t kIpv6HeaderLen = 40;
inline constexpr uint32_t kEspHeaderLen = 8;

struct OuterView {
  uint8_t version = 0;  // 4 or 6
  uint8_t ecn = 0;      // the outer ECN field (RFC 6040 decapsulation)
  bool udp = false;     // ESP in UDP (RFC 3948)
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t esp_offset = 0;  // the ESP header (or UDP payload), from data()
  uint32_t spi = 0;
  const uint8_t* src_addr = nullptr;  // into the packet: 4 or 16 bytes
  const uint8_t* dst_addr = nullptr;
};

// ok for ESP (view filled); ike and nat_keepalive for RFC 3948 traffic on
// `encap_port` (esp_offset then points at the UDP payload); not_esp,
// outer_fragment, too_short or bad_outer_header otherwise.
Status parse_outer(PacketBuffer& pkt, uint16_t encap_port, OuterView* view);

}  // namespace traverse::esp
