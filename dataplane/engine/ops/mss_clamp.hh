// Lowers the MSS option of TCP SYN and SYN-ACK segments crossing the tunnel so
// the peers never send segments the tunnel must fragment; the TCP checksum is
// updated incrementally (RFC 1624). Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace traverse::engine::ops {

#define TRAVERSE_MSS_CLAMP_LIST(X)                              \
  X(clamped, "MSS option lowered")                              \
  X(within_limit, "MSS option already at or below the limit")   \
  X(no_mss_option, "SYN without an MSS option (left alone)")    \
  X(not_tcp, "not a TCP packet")                                \
  X(not_syn, "TCP segment without SYN")                         \
  X(fragment, "IP fragment: TCP header not reliably present")   \
  X(malformed_ip, "IP header malformed or lengths disagree")    \
  X(malformed_tcp, "TCP header truncated or data offset wrong") \
  X(malformed_options, "TCP option runs past the header or has a bad length")

enum class MssClamp : uint8_t {
#define TRAVERSE_MSS_CLAMP_ENUM(name, text) name,
  TRAVERSE_MSS_CLAMP_LIST(TRAVERSE_MSS_CLAMP_ENUM)
#undef TRAVERSE_MSS_CLAMP_ENUM
};

std::string_view mss_clamp_name(MssClamp result);

// The largest MSS whose segment fits an inner MTU: the MTU less the IP header
// (20 for IPv4, 40 for IPv6, no options assumed) and 20 for TCP. 0 when the
// MTU cannot hold the headers; at most 65535.
uint16_t max_mss_for_mtu(uint32_t inner_mtu, uint8_t ip_version);

// Clamps every MSS option of an IPv4 or IPv6 (extension headers walked) TCP
// segment with SYN set to `max_mss`. Only `clamped` changed the packet. The
// TCP checksum must be complete (not an offload pseudo-header sum).
//
// An absent MSS option is not added: the peer then assumes 536 (IPv4) or 1220
// (IPv6) bytes (RFC 9293 3.7.1), which fits every tunnel whose inner MTU
// meets the IP minimum; adding one would mean growing the header, moving the
// payload and rewriting IP lengths, and fails on a SYN whose 40 option bytes
// are full.
MssClamp clamp_tcp_mss(uint8_t* pkt, uint32_t len, uint16_t max_mss);

}  // namespace traverse::engine::ops
