#include "dataplane/engine/ops/icmp_too_big.hh"

#include <cstring>

#include "dataplane/engine/ops/ip_view.hh"
#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"

namespace traverse::engine::ops {
namespace {

constexpr std::string_view kNames[] = {
#define TRAVERSE_TOO_BIG_NAME(name, text) #name,
    TRAVERSE_TOO_BIG_REASON_LIST(TRAVERSE_TOO_BIG_NAME)
#undef TRAVERSE_TOO_BIG_NAME
};

constexpr uint32_t kIcmpHeader = 8;
// RFC 1812 4.3.2.5: ICMP errors should carry precedence 6 (internetwork control).
constexpr uint8_t kIpv4ErrorTos = 0xc0;

// RFC 1812 4.3.2.7: no error about a packet whose source does not name one
// host: 0.0.0.0/8 ("this network"), 127/8, multicast (224/4) and 240/4, which
// holds the limited broadcast. A directed broadcast cannot be told here
// without the inside prefixes; the engine never forwards those to the tunnel.
bool is_bad_source_v4(const uint8_t* a) {
  return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

// Nor about one sent to a multicast or broadcast address.
bool is_bad_destination_v4(const uint8_t* a) {
  const bool broadcast = a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
  return (a[0] & 0xf0u) == 0xe0u || broadcast;
}

// RFC 4443 2.4(e): the unspecified address, loopback and multicast sources.
// (2.4(e.3) allows Packet Too Big to multicast destinations: not checked.)
bool is_bad_source_v6(const uint8_t* a) {
  if (a[0] == 0xff) {
    return true;
  }
  for (int i = 0; i < 15; ++i) {
    if (a[i] != 0) {
      return false;
    }
  }
  return a[15] == 0 || a[15] == 1;
}

// ICMPv4 types that are errors (RFC 1812 4.3.2.7 forbids errors about them):
// destination unreachable, source quench, redirect, time exceeded, parameter
// problem. ICMPv6 errors are the types below 128 (RFC 4443 2.1).
bool is_icmp_error(uint8_t version, uint8_t type) {
  if (version == 6) {
    return type < 128;
  }
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

uint32_t write_ipv4(const IpView& view, const uint8_t* offending, uint32_t quote,
                    const esp::IpAddress& gateway, uint32_t mtu, uint8_t* out) {
  const uint32_t total = kIpv4MinHeader + kIcmpHeader + quote;
  uint8_t* ip = out;
  ip[0] = 0x45;
  ip[1] = kIpv4ErrorTos;
  esp::store_be16(ip + 2, static_cast<uint16_t>(total));
  esp::store_be16(ip + 4, 0);       // the ID of an atomic datagram is unused (RFC 6864)
  esp::store_be16(ip + 6, 0x4000);  // DF: 576 bytes pass every IPv4 link
  ip[8] = kIcmpErrorTtl;
  ip[9] = kProtoIcmp;
  esp::store_be16(ip + 10, 0);
  std::memcpy(ip + 12, gateway.bytes.data(), 4);
  std::memcpy(ip + 16, view.src, 4);
  const uint16_t ip_sum = esp::checksum(ip, kIpv4MinHeader);
  std::memcpy(ip + 10, &ip_sum, 2);

  uint8_t* icmp = ip + kIpv4MinHeader;
  icmp[0] = 3;  // destination unreachable
  icmp[1] = 4;  // fragmentation needed and DF set
  esp::store_be16(icmp + 2, 0);
  esp::store_be16(icmp + 4, 0);
  esp::store_be16(icmp + 6, static_cast<uint16_t>(mtu));  // RFC 1191 next-hop MTU
  std::memcpy(icmp + kIcmpHeader, offending, quote);
  const uint16_t icmp_sum = esp::checksum(icmp, kIcmpHeader + quote);
  std::memcpy(icmp + 2, &icmp_sum, 2);
  return total;
}

uint32_t write_ipv6(const IpView& view, const uint8_t* offending, uint32_t quote,
                    const esp::IpAddress& gateway, uint32_t mtu, uint8_t* out) {
  const uint32_t icmp_len = kIcmpHeader + quote;
  uint8_t* ip = out;
  esp::store_be32(ip, 0x60000000u);  // traffic class and flow label zero
  esp::store_be16(ip + 4, static_cast<uint16_t>(icmp_len));
  ip[6] = kProtoIcmpv6;
  ip[7] = kIcmpErrorTtl;
  std::memcpy(ip + 8, gateway.bytes.data(), 16);
  std::memcpy(ip + 24, view.src, 16);

  uint8_t* icmp = ip + kIpv6Header;
  icmp[0] = 2;  // packet too big
  icmp[1] = 0;
  esp::store_be16(icmp + 2, 0);
  esp::store_be32(icmp + 4, mtu);
  std::memcpy(icmp + kIcmpHeader, offending, quote);
  // RFC 4443 2.3: the checksum covers the RFC 8200 8.1 pseudo-header.
  uint8_t pseudo[8];
  esp::store_be32(pseudo, icmp_len);
  esp::store_be32(pseudo + 4, kProtoIcmpv6);
  uint32_t sum = esp::checksum_partial(ip + 8, 32);
  sum = esp::checksum_partial(pseudo, sizeof pseudo, sum);
  sum = esp::checksum_partial(icmp, icmp_len, sum);
  const uint16_t icmp_sum = esp::checksum_finish(sum);
  std::memcpy(icmp + 2, &icmp_sum, 2);
  return kIpv6Header + icmp_len;
}

}  // namespace

std::string_view too_big_reason_name(TooBigReason reason) {
  return kNames[static_cast<uint8_t>(reason)];
}

TooBigResult build_icmp_too_big(const uint8_t* offending, uint32_t offending_len,
                                const esp::IpAddress& gateway, uint32_t mtu, uint8_t* out,
                                uint32_t out_cap) {
  IpView view;
  if (view_ip(offending, offending_len, IpViewMode::whole_packet, &view) != IpViewStatus::ok) {
    return {0, TooBigReason::malformed};
  }
  if (gateway.version != view.version) {
    return {0, TooBigReason::family_mismatch};
  }
  const bool v4 = view.version == 4;
  if (v4 ? (mtu < kIpv4MinMtu || mtu > 0xffffu) : mtu < kIpv6MinMtu) {
    return {0, TooBigReason::bad_mtu};
  }
  // RFC 1812 4.3.2.7 (and 2.4(e) in spirit): only the first fragment names
  // the flow and can be told apart from an ICMP error.
  if (view.fragment_offset != 0) {
    return {0, TooBigReason::non_first_fragment};
  }
  if (view.protocol == (v4 ? kProtoIcmp : kProtoIcmpv6)) {
    // No type byte to read means we cannot rule out an error: stay silent.
    if (view.l4_offset >= view.total_len ||
        is_icmp_error(view.version, offending[view.l4_offset])) {
      return {0, TooBigReason::icmp_error};
    }
  }
  if (v4 ? is_bad_source_v4(view.src) : is_bad_source_v6(view.src)) {
    return {0, TooBigReason::bad_source};
  }
  if (v4 && is_bad_destination_v4(view.dst)) {
    return {0, TooBigReason::bad_destination};
  }

  const uint32_t headers = (v4 ? kIpv4MinHeader : kIpv6Header) + kIcmpHeader;
  const uint32_t limit_max = v4 ? kIcmpv4ErrorMax : kIcmpv6ErrorMax;
  const uint32_t limit = out_cap < limit_max ? out_cap : limit_max;
  // IPv4: at least the header and 8 bytes of transport, the ports the sender
  // needs to find its socket (RFC 792, RFC 1812 4.3.2.3). IPv6 asks only "as
  // much as fits" (RFC 4443 2.4(c)); a long extension chain may push the
  // ports past 1280 bytes, so require only the fixed header and 8 bytes.
  const uint32_t wanted_min = (v4 ? view.l4_offset : kIpv6Header) + 8;
  const uint32_t quote_min = view.total_len < wanted_min ? view.total_len : wanted_min;
  if (out == nullptr || limit < headers + quote_min) {
    return {0, TooBigReason::buffer_too_small};
  }
  const uint32_t room = limit - headers;
  const uint32_t quote = view.total_len < room ? view.total_len : room;
  const uint32_t length = v4 ? write_ipv4(view, offending, quote, gateway, mtu, out)
                             : write_ipv6(view, offending, quote, gateway, mtu, out);
  return {length, TooBigReason::built};
}

}  // namespace traverse::engine::ops
