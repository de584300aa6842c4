// Builds the ICMP "fragmentation needed" (RFC 1191) or ICMPv6 "packet too big"
// (RFC 4443) that tells an inner sender the MTU that fits the tunnel, or says
// why RFC 1812 / RFC 4443 forbid sending one. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/esp/ip_address.hh"

namespace traverse::engine::ops {

// The error packets' size limits: RFC 1812 4.3.2.3 (576 bytes) and RFC 4443
// 2.4(c) (the IPv6 minimum MTU).
inline constexpr uint32_t kIcmpv4ErrorMax = 576;
inline constexpr uint32_t kIcmpv6ErrorMax = 1280;
inline constexpr uint8_t kIcmpErrorTtl = 64;

#define TRAVERSE_TOO_BIG_REASON_LIST(X)                                          \
  X(built, "ICMP error built")                                                   \
  X(malformed, "offending packet's IP header is malformed")                      \
  X(family_mismatch, "gateway address family differs from the offending packet") \
  X(bad_mtu, "MTU below the IP minimum (68 / 1280) or above 65535 for IPv4")     \
  X(icmp_error, "offending packet is itself an ICMP error (or unreadable ICMP)") \
  X(bad_source, "source is unspecified, loopback, multicast or broadcast")       \
  X(bad_destination, "IPv4 destination is multicast or broadcast")               \
  X(non_first_fragment, "offending packet is a non-first fragment")              \
  X(buffer_too_small, "output buffer cannot hold the minimum ICMP error")

enum class TooBigReason : uint8_t {
#define TRAVERSE_TOO_BIG_ENUM(name, text) name,
  TRAVERSE_TOO_BIG_REASON_LIST(TRAVERSE_TOO_BIG_ENUM)
#undef TRAVERSE_TOO_BIG_ENUM
};

std::string_view too_big_reason_name(TooBigReason reason);

struct TooBigResult {
  uint32_t length = 0;  // bytes written to `out`; 0 unless reason == built
  TooBigReason reason = TooBigReason::malformed;
};

// Writes a complete IP packet into `out`: from `gateway` to the offending
// packet's source, TTL / hop limit 64, quoting the offending packet from its IP
// header on (IPv4: as much as keeps the error within 576 bytes and at least
// the header plus 8 bytes; IPv6: as much as fits in 1280 bytes; both also
// bounded by `out_cap`). `mtu` is the largest inner packet the tunnel carries.
// `offending` is one whole packet (trailing link padding is ignored).
TooBigResult build_icmp_too_big(const uint8_t* offending, uint32_t offending_len,
                                const esp::IpAddress& gateway, uint32_t mtu, uint8_t* out,
                                uint32_t out_cap);

}  // namespace traverse::engine::ops
