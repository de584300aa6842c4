#include "dataplane/engine/ops/icmp_error_parse.hh"

#include "dataplane/engine/ops/ip_view.hh"
#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"

namespace traverse::engine::ops {
namespace {

constexpr std::string_view kNames[] = {
#define TRAVERSE_PMTU_ICMP_NAME(name, text) #name,
    TRAVERSE_PMTU_ICMP_LIST(TRAVERSE_PMTU_ICMP_NAME)
#undef TRAVERSE_PMTU_ICMP_NAME
};

constexpr uint32_t kIcmpHeader = 8;
constexpr uint32_t kUdpHeader = 8;
constexpr uint32_t kSpiLen = 4;

esp::IpAddress address_of(const IpView& view, const uint8_t* bytes) {
  return view.version == 4 ? esp::IpAddress::from_v4(bytes) : esp::IpAddress::from_v6(bytes);
}

bool icmp_checksum_ok(const IpView& outer, const uint8_t* icmp, uint32_t icmp_len) {
  uint32_t sum = 0;
  if (outer.version == 6) {
    // RFC 4443 2.3: ICMPv6 covers the RFC 8200 8.1 pseudo-header.
    uint8_t pseudo[8];
    esp::store_be32(pseudo, icmp_len);
    esp::store_be32(pseudo + 4, kProtoIcmpv6);
    sum = esp::checksum_partial(outer.src, 16);
    sum = esp::checksum_partial(outer.dst, 16, sum);
    sum = esp::checksum_partial(pseudo, sizeof pseudo, sum);
  }
  return esp::checksum_finish(esp::checksum_partial(icmp, icmp_len, sum)) == 0;
}

PmtuIcmpStatus quote_status(IpViewStatus status) {
  switch (status) {
    case IpViewStatus::too_short:
      return PmtuIcmpStatus::too_short;
    case IpViewStatus::bad_extension_header:
      return PmtuIcmpStatus::quote_truncated;
    default:
      return PmtuIcmpStatus::quote_malformed;
  }
}

}  // namespace

std::string_view pmtu_icmp_status_name(PmtuIcmpStatus status) {
  return kNames[static_cast<uint8_t>(status)];
}

PmtuIcmpStatus parse_icmp_too_big(const uint8_t* pkt, uint32_t len, PmtuReport* report) {
  IpView outer;
  if (view_ip(pkt, len, IpViewMode::whole_packet, &outer) != IpViewStatus::ok) {
    return PmtuIcmpStatus::bad_ip_header;
  }
  const bool v4 = outer.version == 4;
  if (v4 && esp::checksum(pkt, outer.header_len) != 0) {
    return PmtuIcmpStatus::bad_ip_checksum;
  }
  if (outer.is_fragment()) {
    return PmtuIcmpStatus::ip_fragment;
  }
  if (outer.protocol != (v4 ? kProtoIcmp : kProtoIcmpv6)) {
    return PmtuIcmpStatus::not_icmp;
  }
  const uint8_t* icmp = pkt + outer.l4_offset;
  const uint32_t icmp_len = outer.total_len - outer.l4_offset;
  if (icmp_len < kIcmpHeader) {
    return PmtuIcmpStatus::too_short;
  }
  if (!icmp_checksum_ok(outer, icmp, icmp_len)) {
    return PmtuIcmpStatus::bad_checksum;
  }
  // RFC 4443 3.2: the receiver ignores the code of a packet too big.
  if (v4 ? (icmp[0] != 3 || icmp[1] != 4) : icmp[0] != 2) {
    return PmtuIcmpStatus::wrong_type;
  }
  const uint32_t mtu = v4 ? esp::load_be16(icmp + 6) : esp::load_be32(icmp + 4);
  if (v4 && mtu == 0) {
    return PmtuIcmpStatus::mtu_not_reported;
  }
  // RFC 1191 and RFC 8201: never go below the protocol minimum, whatever a
  // (possibly forged) error says.
  if (mtu < (v4 ? kIpv4MinMtu : kIpv6MinMtu)) {
    return PmtuIcmpStatus::mtu_too_small;
  }

  const uint8_t* quote = icmp + kIcmpHeader;
  const uint32_t quote_len = icmp_len - kIcmpHeader;
  IpView inner;
  const IpViewStatus quoted = view_ip(quote, quote_len, IpViewMode::quote, &inner);
  if (quoted != IpViewStatus::ok) {
    return quote_status(quoted);
  }
  if (inner.version != outer.version) {
    return PmtuIcmpStatus::quote_malformed;
  }
  if (inner.fragment_offset != 0) {
    return PmtuIcmpStatus::quote_fragment;
  }
  // The quoted packet was dropped for being longer than the MTU: an MTU at
  // or above its length is wrong (or forged to raise ours).
  if (mtu >= inner.total_len) {
    return PmtuIcmpStatus::mtu_not_smaller;
  }

  PmtuReport r;
  const uint8_t* l4 = quote + inner.l4_offset;
  const uint32_t l4_len = quote_len - inner.l4_offset;
  if (inner.protocol == kProtoEsp) {
    if (l4_len < kSpiLen) {
      return PmtuIcmpStatus::quote_truncated;
    }
    r.spi = esp::load_be32(l4);
    r.spi_present = true;
  } else if (inner.protocol == kProtoUdp) {
    if (l4_len < kUdpHeader) {
      return PmtuIcmpStatus::quote_truncated;
    }
    r.udp = true;
    r.src_port = esp::load_be16(l4);
    r.dst_port = esp::load_be16(l4 + 2);
    if (l4_len >= kUdpHeader + kSpiLen) {
      r.spi = esp::load_be32(l4 + kUdpHeader);
      r.spi_present = true;
    }
  } else {
    return PmtuIcmpStatus::not_esp;
  }
  // SPI zero is reserved for ESP and is the non-ESP marker in UDP (IKE).
  if (r.spi_present && r.spi == 0) {
    return PmtuIcmpStatus::zero_spi;
  }
  r.reporter = address_of(outer, outer.src);
  r.quoted_src = address_of(inner, inner.src);
  r.quoted_dst = address_of(inner, inner.dst);
  r.mtu = mtu;
  r.quoted_len = inner.total_len;
  *report = r;
  return PmtuIcmpStatus::ok;
}

}  // namespace traverse::engine::ops
