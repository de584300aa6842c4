// Passive path MTU discovery on the outside port: parses an ICMP
// "fragmentation needed" or ICMPv6 "packet too big" whose quote is one of our
// ESP or ESP-in-UDP packets and reports who it names and the MTU. Matching
// the SPI to a live outbound SA is the engine's step. Stateless, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "dataplane/esp/ip_address.hh"

namespace traverse::engine::ops {

#define TRAVERSE_PMTU_ICMP_LIST(X)                                                \
  X(ok, "ICMP error quoting an ESP packet parsed")                                \
  X(bad_ip_header, "outer IP header malformed or lengths disagree")               \
  X(bad_ip_checksum, "outer IPv4 header checksum wrong")                          \
  X(ip_fragment, "ICMP message is fragmented: reassemble first")                  \
  X(not_icmp, "not ICMP / ICMPv6")                                                \
  X(too_short, "ICMP message shorter than its header and a quoted IP header")     \
  X(bad_checksum, "ICMP checksum wrong")                                          \
  X(wrong_type, "not fragmentation needed (3/4) or packet too big (2)")           \
  X(mtu_not_reported, "IPv4 next-hop MTU is zero (pre-RFC 1191 router)")          \
  X(mtu_too_small, "reported MTU below the IP minimum (68 / 1280)")               \
  X(mtu_not_smaller, "reported MTU not below the quoted packet's length")         \
  X(quote_malformed, "quoted IP header malformed or of the other IP version")     \
  X(quote_fragment, "quoted packet is a non-first fragment: no ESP header in it") \
  X(quote_truncated, "quote ends before the ESP SPI or the UDP ports")            \
  X(not_esp, "quoted packet is neither ESP nor UDP")                              \
  X(zero_spi, "quoted SPI is zero (ESP) or the non-ESP marker (UDP: IKE)")

enum class PmtuIcmpStatus : uint8_t {
#define TRAVERSE_PMTU_ICMP_ENUM(name, text) name,
  TRAVERSE_PMTU_ICMP_LIST(TRAVERSE_PMTU_ICMP_ENUM)
#undef TRAVERSE_PMTU_ICMP_ENUM
};

std::string_view pmtu_icmp_status_name(PmtuIcmpStatus status);

struct PmtuReport {
  esp::IpAddress reporter;    // the router that sent the error (outer source)
  esp::IpAddress quoted_src;  // our end of the SA, as quoted
  esp::IpAddress quoted_dst;  // the peer's end
  bool udp = false;           // ESP in UDP (RFC 3948)
  uint16_t src_port = 0;      // UDP only
  uint16_t dst_port = 0;
  // An IPv4 router need quote only 8 bytes past the IP header (RFC 792): for
  // ESP in UDP that is the UDP header alone, and the SPI is not known. The
  // engine then can match only addresses and ports.
  bool spi_present = false;
  uint32_t spi = 0;
  uint32_t mtu = 0;         // the reported path MTU, bytes, for the quoted (outer) packet
  uint32_t quoted_len = 0;  // the quoted packet's IP length field
};
static_assert(std::is_trivially_copyable_v<PmtuReport>);

// `pkt` is the whole IP packet as received: IPv4 + ICMP or IPv6 (extension
// headers walked) + ICMPv6; bytes past the IP length are ignored. Fills
// `report` only on ok. Which UDP port is ours is not checked here.
PmtuIcmpStatus parse_icmp_too_big(const uint8_t* pkt, uint32_t len, PmtuReport* report);

}  // namespace traverse::engine::ops
