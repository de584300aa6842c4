#include "dataplane/engine/ops/ip_view.hh"

#include "dataplane/esp/byte_order.hh"

namespace traverse::engine::ops {
namespace {

constexpr std::string_view kNames[] = {
#define TRAVERSE_IP_VIEW_NAME(name, text) #name,
    TRAVERSE_IP_VIEW_STATUS_LIST(TRAVERSE_IP_VIEW_NAME)
#undef TRAVERSE_IP_VIEW_NAME
};

// Extension headers whose length is (byte 1 + 1) * 8 and that may precede the
// upper layer: hop-by-hop, routing, destination options, mobility, HIP, shim6.
bool is_generic_extension(uint8_t next) {
  return next == 0 || next == 43 || next == 60 || next == 135 || next == 139 || next == 140;
}

IpViewStatus view_ipv4(const uint8_t* p, uint32_t len, IpViewMode mode, IpView* view) {
  const uint32_t header_len = (p[0] & 0x0fu) * 4u;
  if (header_len < kIpv4MinHeader || header_len > len) {
    return IpViewStatus::bad_header_length;
  }
  const uint32_t total_len = esp::load_be16(p + 2);
  if (total_len < header_len || (mode == IpViewMode::whole_packet && total_len > len)) {
    return IpViewStatus::bad_total_length;
  }
  const uint16_t frag = esp::load_be16(p + 6);
  view->version = 4;
  view->protocol = p[9];
  view->more_fragments = (frag & 0x2000u) != 0;
  view->fragment_offset = static_cast<uint16_t>((frag & 0x1fffu) * 8u);
  view->header_len = header_len;
  view->l4_offset = header_len;
  view->total_len = total_len;
  view->src = p + 12;
  view->dst = p + 16;
  return IpViewStatus::ok;
}

IpViewStatus view_ipv6(const uint8_t* p, uint32_t len, IpViewMode mode, IpView* view) {
  if (len < kIpv6Header) {
    return IpViewStatus::too_short;
  }
  const uint32_t payload_len = esp::load_be16(p + 4);
  const uint32_t total_len = kIpv6Header + payload_len;
  // Payload length zero means a jumbogram (RFC 2675): never a tunnel's business.
  if (payload_len == 0 || (mode == IpViewMode::whole_packet && total_len > len)) {
    return IpViewStatus::bad_total_length;
  }
  const uint32_t end = total_len < len ? total_len : len;
  view->version = 6;
  view->header_len = kIpv6Header;
  view->total_len = total_len;
  view->src = p + 8;
  view->dst = p + 24;
  uint8_t next = p[6];
  uint32_t offset = kIpv6Header;
  for (int hops = 0;; ++hops) {
    const bool fragment = next == kProtoIpv6Fragment;
    if (!fragment && !is_generic_extension(next)) {
      break;
    }
    if (hops == kMaxExtensionHeaders) {
      return IpViewStatus::too_many_extension_headers;
    }
    if (end - offset < 8) {  // every extension header is at least 8 bytes
      return IpViewStatus::bad_extension_header;
    }
    const uint8_t* ext = p + offset;
    if (fragment) {
      const uint16_t frag = esp::load_be16(ext + 2);
      view->fragment_header = true;
      view->more_fragments = (frag & 0x0001u) != 0;
      view->fragment_offset = static_cast<uint16_t>(frag & 0xfff8u);
      next = ext[0];
      offset += 8;
      if (view->fragment_offset != 0) {
        break;  // a later fragment: the bytes after this header are mid-payload
      }
      continue;
    }
    const uint32_t ext_len = (ext[1] + 1u) * 8u;
    if (ext_len > end - offset) {
      return IpViewStatus::bad_extension_header;
    }
    next = ext[0];
    offset += ext_len;
  }
  view->protocol = next;
  view->l4_offset = offset;
  return IpViewStatus::ok;
}

}  // namespace

std::string_view ip_view_status_name(IpViewStatus status) {
  return kNames[static_cast<uint8_t>(status)];
}

IpViewStatus view_ip(const uint8_t* pkt, uint32_t len, IpViewMode mode, IpView* view) {
  *view = IpView{};
  if (pkt == nullptr || len < kIpv4MinHeader) {
    return IpViewStatus::too_short;
  }
  switch (pkt[0] >> 4) {
    case 4:
      return view_ipv4(pkt, len, mode, view);
    case 6:
      return view_ipv6(pkt, len, mode, view);
    default:
      return IpViewStatus::bad_version;
  }
}

}  // namespace traverse::engine::ops
