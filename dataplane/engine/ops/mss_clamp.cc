#include "dataplane/engine/ops/mss_clamp.hh"

#include "dataplane/engine/ops/ip_view.hh"
#include "dataplane/esp/byte_order.hh"

namespace traverse::engine::ops {
namespace {

constexpr std::string_view kNames[] = {
#define TRAVERSE_MSS_CLAMP_NAME(name, text) #name,
    TRAVERSE_MSS_CLAMP_LIST(TRAVERSE_MSS_CLAMP_NAME)
#undef TRAVERSE_MSS_CLAMP_NAME
};

constexpr uint32_t kTcpMinHeader = 20;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kOptEnd = 0;
constexpr uint8_t kOptNop = 1;
constexpr uint8_t kOptMss = 2;
constexpr uint8_t kOptMssLen = 4;

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), all one's-complement 16-bit.
uint16_t checksum_update(uint16_t hc, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = static_cast<uint16_t>(~hc) +
                 static_cast<uint32_t>(static_cast<uint16_t>(~old_word)) + new_word;
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

std::string_view mss_clamp_name(MssClamp result) {
  return kNames[static_cast<uint8_t>(result)];
}

uint16_t max_mss_for_mtu(uint32_t inner_mtu, uint8_t ip_version) {
  const uint32_t headers = (ip_version == 6 ? kIpv6Header : kIpv4MinHeader) + kTcpMinHeader;
  if (inner_mtu <= headers) {
    return 0;
  }
  const uint32_t mss = inner_mtu - headers;
  return static_cast<uint16_t>(mss > 0xffffu ? 0xffffu : mss);
}

MssClamp clamp_tcp_mss(uint8_t* pkt, uint32_t len, uint16_t max_mss) {
  IpView view;
  if (view_ip(pkt, len, IpViewMode::whole_packet, &view) != IpViewStatus::ok) {
    return MssClamp::malformed_ip;
  }
  if (view.is_fragment()) {
    return MssClamp::fragment;
  }
  if (view.protocol != kProtoTcp) {
    return MssClamp::not_tcp;
  }
  const uint32_t segment_len = view.total_len - view.l4_offset;
  if (segment_len < kTcpMinHeader) {
    return MssClamp::malformed_tcp;
  }
  uint8_t* tcp = pkt + view.l4_offset;
  const uint32_t header_len = (tcp[12] >> 4) * 4u;
  if (header_len < kTcpMinHeader || header_len > segment_len) {
    return MssClamp::malformed_tcp;
  }
  if ((tcp[13] & kTcpSyn) == 0) {
    return MssClamp::not_syn;
  }

  // First pass: find the MSS options and reject a malformed option list as a
  // whole, so a hostile packet is never half rewritten. At most 40 option
  // bytes, and every step advances at least one byte: the walk is bounded.
  uint32_t mss_at[20];
  uint32_t mss_count = 0;
  uint32_t i = kTcpMinHeader;
  while (i < header_len) {
    const uint8_t kind = tcp[i];
    if (kind == kOptEnd) {
      break;
    }
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (header_len - i < 2) {
      return MssClamp::malformed_options;
    }
    const uint8_t opt_len = tcp[i + 1];
    if (opt_len < 2 || opt_len > header_len - i) {
      return MssClamp::malformed_options;
    }
    if (kind == kOptMss) {
      if (opt_len != kOptMssLen) {
        return MssClamp::malformed_options;
      }
      mss_at[mss_count++] = i + 2;
    }
    i += opt_len;
  }
  if (mss_count == 0) {
    return MssClamp::no_mss_option;
  }

  // Receivers differ on which of several MSS options wins, so lower them all.
  bool changed = false;
  uint16_t sum = esp::load_be16(tcp + 16);
  for (uint32_t k = 0; k < mss_count; ++k) {
    const uint32_t at = mss_at[k];
    const uint16_t mss = esp::load_be16(tcp + at);
    if (mss <= max_mss) {
      continue;
    }
    esp::store_be16(tcp + at, max_mss);
    // The checksum sums 16-bit words aligned to the TCP header. After an odd
    // number of NOPs the field straddles two words; each of its bytes then
    // sits in the other half of its word, which adds the byte-swapped value.
    if (at % 2 == 0) {
      sum = checksum_update(sum, mss, max_mss);
    } else {
      sum = checksum_update(sum, __builtin_bswap16(mss), __builtin_bswap16(max_mss));
    }
    changed = true;
  }
  if (!changed) {
    return MssClamp::within_limit;
  }
  esp::store_be16(tcp + 16, sum);
  return MssClamp::clamped;
}

}  // namespace traverse::engine::ops
