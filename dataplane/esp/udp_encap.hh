// RFC 3948 UDP encapsulation: what a datagram on the NAT-T port carries. The
// first four bytes tell ESP (a non-zero SPI) from IKE (the four-zero-byte
// non-ESP marker); a single 0xFF byte is a NAT keepalive.
#pragma once

#include <cstdint>

namespace traverse::esp {

enum class UdpPayloadKind : uint8_t {
  esp,        // ESP header follows directly
  ike,        // non-ESP marker, then an IKE message: hand to the control plane
  keepalive,  // NAT keepalive: refresh liveness, drop
  invalid,    // too short to be any of them
};

inline constexpr uint8_t kNatKeepaliveByte = 0xff;
inline constexpr uint32_t kNonEspMarkerLen = 4;
inline constexpr uint32_t kUdpHeaderLen = 8;

inline UdpPayloadKind classify_udp_payload(const uint8_t* payload, uint32_t len) {
  if (len == 1 && payload[0] == kNatKeepaliveByte) {
    return UdpPayloadKind::keepalive;
  }
  if (len < kNonEspMarkerLen) {
    return UdpPayloadKind::invalid;
  }
  if ((payload[0] | payload[1] | payload[2] | payload[3]) == 0) {
    return UdpPayloadKind::ike;
  }
  // An ESP header is 8 bytes (SPI and sequence number).
  return len >= 8 ? UdpPayloadKind::esp : UdpPayloadKind::invalid;
}

}  // namespace traverse::esp
