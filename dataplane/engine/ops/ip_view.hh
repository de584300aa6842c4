// Finds the transport header of an IPv4 or IPv6 packet (walking IPv6
// extension headers, bounded) and its fragment state, checking every length.
// The shared first step of the path-MTU operations. Stateless, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace traverse::engine::ops {

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoEsp = 50;
inline constexpr uint8_t kProtoAh = 51;
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoIpv6Fragment = 44;
inline constexpr uint32_t kIpv4MinHeader = 20;
inline constexpr uint32_t kIpv6Header = 40;
inline constexpr uint32_t kIpv4MinMtu = 68;    // RFC 791
inline constexpr uint32_t kIpv6MinMtu = 1280;  // RFC 8200
// Longer chains are not seen in honest traffic and cost a hostile packet a
// loop iteration each: stop after this many extension headers.
inline constexpr int kMaxExtensionHeaders = 8;

#define TRAVERSE_IP_VIEW_STATUS_LIST(X)                                   \
  X(ok, "ok")                                                             \
  X(too_short, "shorter than the IP header")                              \
  X(bad_version, "IP version is neither 4 nor 6")                         \
  X(bad_header_length, "IPv4 header length below 20 or past the data")    \
  X(bad_total_length, "IP length field disagrees with the bytes present") \
  X(bad_extension_header, "IPv6 extension header runs past the packet")   \
  X(too_many_extension_headers, "IPv6 extension header chain too long")

enum class IpViewStatus : uint8_t {
#define TRAVERSE_IP_VIEW_ENUM(name, text) name,
  TRAVERSE_IP_VIEW_STATUS_LIST(TRAVERSE_IP_VIEW_ENUM)
#undef TRAVERSE_IP_VIEW_ENUM
};

std::string_view ip_view_status_name(IpViewStatus status);

// Whole packets must hold every byte their length field claims; a quote inside
// an ICMP error may stop early (the length field then describes the original).
enum class IpViewMode : uint8_t { whole_packet, quote };

struct IpView {
  uint8_t version = 0;           // 4 or 6
  uint8_t protocol = 0;          // the upper layer (after IPv6 extension headers)
  bool more_fragments = false;   // IPv4 MF or the IPv6 fragment header's M flag
  bool fragment_header = false;  // IPv6: a fragment header is present
  uint16_t fragment_offset = 0;  // in bytes
  uint32_t header_len = 0;       // IPv4 IHL * 4, IPv6 40
  uint32_t l4_offset = 0;        // the upper-layer header, from the packet start
  uint32_t total_len = 0;        // from the length field; the packet without link padding
  const uint8_t* src = nullptr;  // into the packet: 4 or 16 bytes
  const uint8_t* dst = nullptr;

  bool is_fragment() const { return more_fragments || fragment_offset != 0; }
  uint32_t address_len() const { return version == 4 ? 4 : 16; }
};

// In quote mode `len` may be shorter than total_len, but the IP header and
// any extension headers walked must be present. The walk stops at the first
// header that is not a hop-by-hop, routing, destination-options or
// fragment header (AH stops it too: what follows AH is integrity-protected
// and must not be touched), and after a fragment header whose offset is not
// zero (no upper-layer header follows there).
IpViewStatus view_ip(const uint8_t* pkt, uint32_t len, IpViewMode mode, IpView* view);

}  // namespace traverse::engine::ops
