#include "dataplane/engine/neighbor/arp_nd.hh"

#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"

namespace traverse::engine {
namespace {

constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;

constexpr uint32_t kArpLen = 28;
constexpr uint16_t kArpHardwareEthernet = 1;
constexpr uint16_t kArpOpRequest = 1;
constexpr uint16_t kArpOpReply = 2;

constexpr uint32_t kIpv6HeaderLen = 40;
constexpr uint8_t kIpProtoIcmpv6 = 58;
constexpr uint8_t kNdHopLimit = 255;
constexpr uint8_t kIcmpRouterAdvertisement = 134;
constexpr uint8_t kIcmpNeighborSolicitation = 135;
constexpr uint8_t kIcmpNeighborAdvertisement = 136;
constexpr uint32_t kNsNaLen = 24;  // type, code, checksum, flags/reserved, target
constexpr uint32_t kRaLen = 16;
constexpr uint8_t kOptionSourceLinkLayer = 1;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr uint8_t kNaFlagSolicited = 0x40;
constexpr uint8_t kNaFlagOverride = 0x20;

bool is_unicast_mac(const uint8_t* mac) {
  static constexpr uint8_t kZero[6] = {};
  // The group bit: multicast and broadcast MACs never belong to one neighbor
  // (RFC 1812 3.3.2: do not believe ARP that maps to a multicast MAC).
  return (mac[0] & 0x01) == 0 && std::memcmp(mac, kZero, 6) != 0;
}

bool is_ipv6_multicast(const uint8_t* a) {
  return a[0] == 0xff;
}

bool is_ipv6_unspecified(const uint8_t* a) {
  static constexpr uint8_t kZero[16] = {};
  return std::memcmp(a, kZero, 16) == 0;
}

bool is_ipv6_link_local(const uint8_t* a) {
  return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

// Where the Ethernet payload starts and its ethertype; false when the frame
// cannot even hold the headers.
bool ethernet_payload(const uint8_t* frame, uint32_t len, uint32_t* offset, uint16_t* type,
                      uint16_t* vlan) {
  if (len < kEthernetHeaderLen) {
    return false;
  }
  *type = esp::load_be16(frame + 12);
  *offset = kEthernetHeaderLen;
  *vlan = 0;
  if (*type == kEtherTypeVlan) {
    if (len < kEthernetHeaderLen + kVlanTagLen) {
      return false;
    }
    *vlan = esp::load_be16(frame + 14) & 0x0fff;
    *type = esp::load_be16(frame + 16);
    *offset += kVlanTagLen;
  }
  return true;
}

bool learn_arp(const uint8_t* arp, uint32_t len, NeighborLearn* out) {
  if (len < kArpLen) {
    return false;
  }
  const uint16_t op = esp::load_be16(arp + 6);
  if (esp::load_be16(arp) != kArpHardwareEthernet || esp::load_be16(arp + 2) != kEtherTypeIpv4 ||
      arp[4] != 6 || arp[5] != 4 || (op != kArpOpRequest && op != kArpOpReply)) {
    return false;
  }
  const uint8_t* sender_mac = arp + 8;
  const uint8_t* sender_ip = arp + 14;
  const uint8_t* target_ip = arp + 24;
  out->ip = esp::IpAddress::from_v4(sender_ip);
  // An ARP probe (RFC 5227) comes from 0.0.0.0: it announces nothing.
  if (!is_unicast_mac(sender_mac) || !is_neighbor_address(out->ip)) {
    return false;
  }
  std::memcpy(out->mac.data(), sender_mac, 6);
  out->source = op == kArpOpRequest ? NeighborSource::arp_request : NeighborSource::arp_reply;
  out->may_override = true;
  out->gratuitous = std::memcmp(sender_ip, target_ip, 4) == 0;
  return true;
}

// The first link-layer address option of `wanted` type among the options in
// [p, p + len); false when an option is malformed (RFC 4861 says to discard
// the whole message then) or the option is absent.
bool find_link_layer_option(const uint8_t* p, uint32_t len, uint8_t wanted, const uint8_t** mac) {
  *mac = nullptr;
  while (len > 0) {
    if (len < 2) {
      return false;
    }
    const uint32_t option_len = uint32_t{p[1]} * 8;
    if (option_len == 0 || option_len > len) {
      return false;
    }
    // An Ethernet address option is 8 bytes: type, length, six bytes of MAC.
    if (p[0] == wanted && *mac == nullptr) {
      *mac = p + 2;
    }
    p += option_len;
    len -= option_len;
  }
  return *mac != nullptr;
}

bool learn_nd(const uint8_t* ip6, uint32_t len, NeighborLearn* out) {
  if (len < kIpv6HeaderLen || (ip6[0] >> 4) != 6) {
    return false;
  }
  const uint32_t payload_len = esp::load_be16(ip6 + 4);
  // ND never carries extension headers in practice; anything else is not ND.
  if (ip6[6] != kIpProtoIcmpv6 || payload_len > len - kIpv6HeaderLen) {
    return false;
  }
  // Hop limit 255 proves the sender is on-link: a router would have
  // decremented it (RFC 4861 6.1, 7.1).
  if (ip6[7] != kNdHopLimit || payload_len < 4) {
    return false;
  }
  const uint8_t* src = ip6 + 8;
  const uint8_t* dst = ip6 + 24;
  const uint8_t* icmp = ip6 + kIpv6HeaderLen;
  const uint8_t type = icmp[0];
  if (icmp[1] != 0) {
    return false;
  }
  uint32_t fixed = 0;
  switch (type) {
    case kIcmpNeighborSolicitation:
    case kIcmpNeighborAdvertisement:
      fixed = kNsNaLen;
      break;
    case kIcmpRouterAdvertisement:
      fixed = kRaLen;
      break;
    default:
      return false;
  }
  if (payload_len < fixed) {
    return false;
  }
  // The checksum covers the pseudo-header (addresses, length, next header)
  // and the whole message; a valid one sums to 0xffff.
  uint8_t pseudo[8] = {};
  esp::store_be32(pseudo, payload_len);
  pseudo[7] = kIpProtoIcmpv6;
  uint32_t sum = esp::checksum_partial(ip6 + 8, 32);
  sum = esp::checksum_partial(pseudo, sizeof pseudo, sum);
  sum = esp::checksum_partial(icmp, payload_len, sum);
  if (esp::checksum_finish(sum) != 0) {
    return false;
  }
  const uint8_t* mac = nullptr;
  const uint8_t* options = icmp + fixed;
  const uint32_t options_len = payload_len - fixed;
  if (type == kIcmpNeighborSolicitation) {
    const uint8_t* target = icmp + 8;
    // DAD probes come from :: and carry no source link-layer option.
    if (is_ipv6_multicast(target) || is_ipv6_unspecified(src) ||
        !find_link_layer_option(options, options_len, kOptionSourceLinkLayer, &mac)) {
      return false;
    }
    out->ip = esp::IpAddress::from_v6(src);
    out->source = NeighborSource::neighbor_solicitation;
    out->may_override = true;
  } else if (type == kIcmpNeighborAdvertisement) {
    const uint8_t flags = icmp[4];
    const uint8_t* target = icmp + 8;
    if (is_ipv6_multicast(target) || (is_ipv6_multicast(dst) && (flags & kNaFlagSolicited) != 0) ||
        !find_link_layer_option(options, options_len, kOptionTargetLinkLayer, &mac)) {
      return false;
    }
    out->ip = esp::IpAddress::from_v6(target);
    out->source = NeighborSource::neighbor_advertisement;
    out->may_override = (flags & kNaFlagOverride) != 0;
  } else {
    // Routers advertise from their link-local address (RFC 4861 6.1.2).
    if (!is_ipv6_link_local(src) ||
        !find_link_layer_option(options, options_len, kOptionSourceLinkLayer, &mac)) {
      return false;
    }
    out->ip = esp::IpAddress::from_v6(src);
    out->source = NeighborSource::router_advertisement;
    out->may_override = true;
  }
  if (!is_unicast_mac(mac) || !is_neighbor_address(out->ip)) {
    return false;
  }
  std::memcpy(out->mac.data(), mac, 6);
  out->gratuitous = false;
  return true;
}

// Both addresses must be usable neighbors of `version`: a source of 0.0.0.0
// would be an ARP probe and one of :: duplicate address detection, neither
// of which may announce our MAC. VLAN 4095 is reserved (802.1Q).
bool valid_build_arguments(const uint8_t* out, uint32_t cap, uint32_t len, const uint8_t* src_mac,
                           const esp::IpAddress& src_ip, const esp::IpAddress& target,
                           const uint8_t* unicast_mac, uint16_t vlan, uint8_t version) {
  return out != nullptr && cap >= len && src_mac != nullptr && is_unicast_mac(src_mac) &&
         src_ip.version == version && target.version == version && is_neighbor_address(src_ip) &&
         is_neighbor_address(target) && (unicast_mac == nullptr || is_unicast_mac(unicast_mac)) &&
         vlan < 4095;
}

// Writes the Ethernet header (and tag); returns its length.
uint32_t write_ethernet(uint8_t* out, const uint8_t* dst_mac, const uint8_t* src_mac, uint16_t type,
                        uint16_t vlan) {
  std::memcpy(out, dst_mac, 6);
  std::memcpy(out + 6, src_mac, 6);
  if (vlan == 0) {
    esp::store_be16(out + 12, type);
    return kEthernetHeaderLen;
  }
  esp::store_be16(out + 12, kEtherTypeVlan);
  esp::store_be16(out + 14, vlan & 0x0fff);
  esp::store_be16(out + 16, type);
  return kEthernetHeaderLen + kVlanTagLen;
}

}  // namespace

bool is_neighbor_address(const esp::IpAddress& ip) {
  const uint8_t* a = ip.bytes.data();
  if (ip.version == 4) {
    // 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved
    // (and the limited broadcast).
    return a[0] != 0 && a[0] != 127 && a[0] < 224;
  }
  if (ip.version == 6) {
    static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return !is_ipv6_multicast(a) && !is_ipv6_unspecified(a) && std::memcmp(a, kLoopback, 16) != 0 &&
           std::memcmp(a, kMappedPrefix, 12) != 0;
  }
  return false;
}

bool learn_from_frame(const uint8_t* frame, uint32_t len, NeighborLearn* out) {
  if (frame == nullptr || out == nullptr) {
    return false;
  }
  uint32_t offset = 0;
  uint16_t type = 0;
  uint16_t vlan = 0;
  if (!ethernet_payload(frame, len, &offset, &type, &vlan)) {
    return false;
  }
  out->vlan = vlan;
  if (type == kEtherTypeArp) {
    return learn_arp(frame + offset, len - offset, out);
  }
  if (type == kEtherTypeIpv6) {
    return learn_nd(frame + offset, len - offset, out);
  }
  return false;
}

uint32_t build_arp_request(uint8_t* out, uint32_t cap, const uint8_t src_mac[6],
                           const esp::IpAddress& src_ip, const esp::IpAddress& target,
                           const uint8_t* unicast_mac, uint16_t vlan) {
  const uint32_t len = vlan == 0 ? kArpFrameLen : kArpFrameLen + kVlanTagLen;
  if (!valid_build_arguments(out, cap, len, src_mac, src_ip, target, unicast_mac, vlan, 4)) {
    return 0;
  }
  static constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::memset(out, 0, len);  // the padding, and the unknown target MAC
  const uint32_t l2 = write_ethernet(out, unicast_mac != nullptr ? unicast_mac : kBroadcast,
                                     src_mac, kEtherTypeArp, vlan);
  uint8_t* arp = out + l2;
  esp::store_be16(arp, kArpHardwareEthernet);
  esp::store_be16(arp + 2, kEtherTypeIpv4);
  arp[4] = 6;
  arp[5] = 4;
  esp::store_be16(arp + 6, kArpOpRequest);
  std::memcpy(arp + 8, src_mac, 6);
  std::memcpy(arp + 14, src_ip.bytes.data(), 4);
  std::memcpy(arp + 24, target.bytes.data(), 4);
  return len;
}

uint32_t build_neighbor_solicitation(uint8_t* out, uint32_t cap, const uint8_t src_mac[6],
                                     const esp::IpAddress& src_ip, const esp::IpAddress& target,
                                     const uint8_t* unicast_mac, uint16_t vlan) {
  const uint32_t len =
      vlan == 0 ? kNeighborSolicitationFrameLen : kNeighborSolicitationFrameLen + kVlanTagLen;
  if (!valid_build_arguments(out, cap, len, src_mac, src_ip, target, unicast_mac, vlan, 6)) {
    return 0;
  }
  const uint8_t* t = target.bytes.data();
  // Solicited-node multicast (RFC 4291 2.7.1) and its MAC (RFC 2464 7).
  const uint8_t solicited_node[16] = {0xff, 0x02, 0, 0,    0,    0,     0,     0,
                                      0,    0,    0, 0x01, 0xff, t[13], t[14], t[15]};
  const uint8_t multicast_mac[6] = {0x33, 0x33, 0xff, t[13], t[14], t[15]};
  const uint8_t* dst_ip = unicast_mac != nullptr ? t : solicited_node;

  std::memset(out, 0, len);
  const uint32_t l2 = write_ethernet(out, unicast_mac != nullptr ? unicast_mac : multicast_mac,
                                     src_mac, kEtherTypeIpv6, vlan);
  uint8_t* ip6 = out + l2;
  constexpr uint16_t kIcmpLen = kNsNaLen + 8;
  ip6[0] = 0x60;
  esp::store_be16(ip6 + 4, kIcmpLen);
  ip6[6] = kIpProtoIcmpv6;
  ip6[7] = kNdHopLimit;
  std::memcpy(ip6 + 8, src_ip.bytes.data(), 16);
  std::memcpy(ip6 + 24, dst_ip, 16);
  uint8_t* icmp = ip6 + kIpv6HeaderLen;
  icmp[0] = kIcmpNeighborSolicitation;
  std::memcpy(icmp + 8, t, 16);
  icmp[24] = kOptionSourceLinkLayer;
  icmp[25] = 1;  // in units of 8 bytes
  std::memcpy(icmp + 26, src_mac, 6);
  uint8_t pseudo[8] = {};
  esp::store_be32(pseudo, kIcmpLen);
  pseudo[7] = kIpProtoIcmpv6;
  uint32_t sum = esp::checksum_partial(ip6 + 8, 32);
  sum = esp::checksum_partial(pseudo, sizeof pseudo, sum);
  sum = esp::checksum_partial(icmp, kIcmpLen, sum);
  // checksum_finish is already in memory order: store it without swapping.
  const uint16_t checksum = esp::checksum_finish(sum);
  std::memcpy(icmp + 2, &checksum, 2);
  return len;
}

uint32_t build_solicitation(uint8_t* out, uint32_t cap, const uint8_t src_mac[6],
                            const esp::IpAddress& src_ip, const esp::IpAddress& target,
                            const uint8_t* unicast_mac, uint16_t vlan) {
  if (target.version == 4) {
    return build_arp_request(out, cap, src_mac, src_ip, target, unicast_mac, vlan);
  }
  if (target.version == 6) {
    return build_neighbor_solicitation(out, cap, src_mac, src_ip, target, unicast_mac, vlan);
  }
  return 0;
}

}  // namespace traverse::engine
