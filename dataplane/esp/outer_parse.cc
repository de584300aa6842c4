#include "dataplane/esp/outer_parse.hh"

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/udp_encap.hh"

namespace traverse::esp {
namespace {

// IPv6 extension headers that may precede ESP or UDP and are skipped.
bool is_skippable_extension(uint8_t next) {
  return next == 0 /* hop-by-hop */ || next == 43 /* routing */ || next == 60 /* dest opts */;
}

Status parse_transport(PacketBuffer& pkt, uint8_t protocol, uint32_t l4_offset, uint16_t encap_port,
                       OuterView* view) {
  const uint32_t len = pkt.length();
  const uint8_t* p = pkt.data();
  if (protocol == kIpProtoEsp) {
    if (len - l4_offset < kEspHeaderLen) {
      return Status::too_short;
    }
    view->esp_offset = l4_offset;
    view->spi = load_be32(p + l4_offset);
    return view->spi == 0 ? Status::bad_outer_header : Status::ok;
  }
  if (protocol != kIpProtoUdp) {
    return Status::not_esp;
  }
  if (len - l4_offset < kUdpHeaderLen) {
    return Status::too_short;
  }
  const uint8_t* udp = p + l4_offset;
  const uint16_t udp_len = load_be16(udp + 4);
  if (udp_len < kUdpHeaderLen || udp_len > len - l4_offset) {
    return Status::bad_outer_header;
  }
  view->src_port = load_be16(udp);
  view->dst_port = load_be16(udp + 2);
  if (view->dst_port != encap_port) {
    return Status::not_esp;
  }
  // The UDP length may be shorter than the IP payload only by lying; trim to it.
  pkt.trim_back(len - l4_offset - udp_len);
  view->udp = true;
  view->esp_offset = l4_offset + kUdpHeaderLen;
  switch (classify_udp_payload(udp + kUdpHeaderLen, udp_len - kUdpHeaderLen)) {
    case UdpPayloadKind::esp:
      view->spi = load_be32(udp + kUdpHeaderLen);
      return Status::ok;
    case UdpPayloadKind::ike:
      return Status::ike;
    case UdpPayloadKind::keepalive:
      return Status::nat_keepalive;
    case UdpPayloadKind::invalid:
      break;
  }
  return Status::too_short;
}

Status parse_ipv4(PacketBuffer& pkt, uint16_t encap_port, OuterView* view) {
  const uint8_t* p = pkt.data();
  const uint32_t header_len = (p[0] & 0x0fu) * 4u;
  if (header_len < kIpv4HeaderLen || pkt.length() < header_len) {
    return Status::bad_outer_header;
  }
  const uint16_t total_len = load_be16(p + 2);
  if (total_len < header_len || total_len > pkt.length()) {
    return Status::bad_outer_header;
  }
  // The common header without options: a constant length lets the compiler
  // unroll the sum into three loads.
  const uint16_t sum =
      header_len == kIpv4HeaderLen ? checksum(p, kIpv4HeaderLen) : checksum(p, header_len);
  if (sum != 0) {
    return Status::bad_outer_header;
  }
  const uint16_t frag = load_be16(p + 6);
  if ((frag & 0x3fffu) != 0) {  // MF set or a non-zero offset
    return Status::outer_fragment;
  }
  pkt.trim_back(pkt.length() - total_len);
  view->version = 4;
  view->ecn = p[1] & 0x03u;
  view->src_addr = p + 12;
  view->dst_addr = p + 16;
  return parse_transport(pkt, p[9], header_len, encap_port, view);
}

Status parse_ipv6(PacketBuffer& pkt, uint16_t encap_port, OuterView* view) {
  const uint8_t* p = pkt.data();
  if (pkt.length() < kIpv6HeaderLen) {
    return Status::too_short;
  }
  const uint32_t payload_len = load_be16(p + 4);
  if (payload_len == 0 || kIpv6HeaderLen + payload_len > pkt.length()) {
    return Status::bad_outer_header;  // jumbograms are not ESP's business
  }
  pkt.trim_back(pkt.length() - kIpv6HeaderLen - payload_len);
  view->version = 6;
  view->ecn = static_cast<uint8_t>((load_be16(p) >> 4) & 0x03u);
  view->src_addr = p + 8;
  view->dst_addr = p + 24;
  uint8_t next = p[6];
  uint32_t offset = kIpv6HeaderLen;
  // At most a handful of extension headers: bound the walk against hostile chains.
  for (int hops = 0; hops < 8 && is_skippable_extension(next); ++hops) {
    if (pkt.length() - offset < 8) {
      return Status::too_short;
    }
    const uint32_t ext_len = (p[offset + 1] + 1u) * 8u;
    if (ext_len > pkt.length() - offset) {
      return Status::bad_outer_header;
    }
    next = p[offset];
    offset += ext_len;
  }
  if (next == 44) {
    return Status::outer_fragment;
  }
  if (is_skippable_extension(next)) {
    return Status::bad_outer_header;
  }
  return parse_transport(pkt, next, offset, encap_port, view);
}

}  // namespace

Status parse_outer(PacketBuffer& pkt, uint16_t encap_port, OuterView* view) {
  *view = OuterView{};
  if (pkt.length() < kIpv4HeaderLen) {
    return Status::too_short;
  }
  switch (pkt.data()[0] >> 4) {
    case 4:
      return parse_ipv4(pkt, encap_port, view);
    case 6:
      return parse_ipv6(pkt, encap_port, view);
    default:
      return Status::bad_outer_header;
  }
}

}  // namespace traverse::esp
