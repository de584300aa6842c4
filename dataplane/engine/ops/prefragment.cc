#include "dataplane/engine/ops/prefragment.hh"

#include <cstring>

#include "dataplane/engine/ops/ip_view.hh"
#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"

namespace traverse::engine::ops {
namespace {

constexpr std::string_view kNames[] = {
#define TRAVERSE_FRAGMENT_NAME(name, text) #name,
    TRAVERSE_FRAGMENT_STATUS_LIST(TRAVERSE_FRAGMENT_NAME)
#undef TRAVERSE_FRAGMENT_NAME
};

constexpr uint16_t kFlagReserved = 0x8000;
constexpr uint16_t kFlagDf = 0x4000;
constexpr uint16_t kFlagMf = 0x2000;
constexpr uint16_t kOffsetMask = 0x1fff;
constexpr uint8_t kOptEnd = 0;
constexpr uint8_t kOptNop = 1;
constexpr uint8_t kOptCopied = 0x80;  // RFC 791: copy this option into every fragment

FragmentPlan fail(FragmentStatus status) {
  FragmentPlan plan;
  plan.status = status;
  return plan;
}

// Collects the options with the copy flag set; false when one is malformed.
bool collect_copied_options(const uint8_t* options, uint32_t len, FragmentPlan* plan) {
  uint32_t i = 0;
  uint32_t copied = 0;
  while (i < len) {
    const uint8_t kind = options[i];
    if (kind == kOptEnd) {
      break;
    }
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (len - i < 2) {
      return false;
    }
    const uint8_t opt_len = options[i + 1];
    if (opt_len < 2 || opt_len > len - i) {
      return false;
    }
    if ((kind & kOptCopied) != 0) {
      std::memcpy(plan->copied_options + copied, options + i, opt_len);
      copied += opt_len;
    }
    i += opt_len;
  }
  // Pad with end-of-options to the 32-bit header length unit (the array is
  // zero-initialised, and EOL is zero).
  plan->copied_options_len = static_cast<uint8_t>((copied + 3u) & ~3u);
  return true;
}

// Payload bytes before fragment `index` and in it.
void slice(const FragmentPlan& plan, uint32_t index, uint32_t* start, uint32_t* size) {
  const uint32_t payload = plan.total_len - plan.first_header_len;
  if (index == 0) {
    *start = 0;
    *size = plan.first_payload;
    return;
  }
  *start = plan.first_payload + (index - 1) * plan.later_payload;
  const uint32_t rest = payload - *start;
  *size = rest < plan.later_payload ? rest : plan.later_payload;
}

// A plan that passed plan_ipv4_fragments() satisfies these; a hand-made or
// stale one is refused instead of read past the packet.
bool plan_consistent(const FragmentPlan& plan, uint32_t index) {
  if (plan.status != FragmentStatus::ok || index >= plan.count) {
    return false;
  }
  if (plan.first_header_len < kIpv4MinHeader || plan.first_header_len > 60 ||
      plan.later_header_len != kIpv4MinHeader + plan.copied_options_len ||
      plan.later_header_len > 60 || plan.total_len <= plan.first_header_len ||
      plan.first_payload == 0 || plan.later_payload == 0) {
    return false;
  }
  const uint32_t payload = plan.total_len - plan.first_header_len;
  const uint64_t before_last =
      plan.first_payload + static_cast<uint64_t>(plan.count - 2u) * plan.later_payload;
  // Exactly `count` fragments, the last one non-empty.
  return plan.count >= 2 && before_last < payload && payload - before_last <= plan.later_payload;
}

}  // namespace

std::string_view fragment_status_name(FragmentStatus status) {
  return kNames[static_cast<uint8_t>(status)];
}

FragmentPlan plan_ipv4_fragments(const uint8_t* pkt, uint32_t len, uint32_t mtu) {
  if (mtu < kIpv4MinMtu) {
    return fail(FragmentStatus::mtu_too_small);
  }
  if (pkt == nullptr || len == 0 || (pkt[0] >> 4) != 4) {
    return fail(FragmentStatus::not_ipv4);
  }
  if (len < kIpv4MinHeader) {
    return fail(FragmentStatus::bad_header_length);
  }
  const uint32_t header_len = (pkt[0] & 0x0fu) * 4u;
  if (header_len < kIpv4MinHeader || header_len > len) {
    return fail(FragmentStatus::bad_header_length);
  }
  const uint32_t total_len = esp::load_be16(pkt + 2);
  if (total_len < header_len || total_len > len) {
    return fail(FragmentStatus::bad_total_length);
  }
  if (total_len <= mtu) {
    return fail(FragmentStatus::fits);
  }
  const uint16_t flags = esp::load_be16(pkt + 6);
  if ((flags & kFlagDf) != 0) {
    return fail(FragmentStatus::dont_fragment);
  }
  FragmentPlan plan;
  if (!collect_copied_options(pkt + kIpv4MinHeader, header_len - kIpv4MinHeader, &plan)) {
    return fail(FragmentStatus::bad_options);
  }
  const uint32_t payload = total_len - header_len;
  // The reassembled datagram's payload must stay addressable by the 13-bit
  // offset; an input fragment near the end of that range cannot be split.
  if ((flags & kOffsetMask) * 8u + payload > 0xffffu) {
    return fail(FragmentStatus::offset_overflow);
  }
  plan.later_header_len = static_cast<uint8_t>(kIpv4MinHeader + plan.copied_options_len);
  plan.first_header_len = static_cast<uint8_t>(header_len);
  plan.total_len = static_cast<uint16_t>(total_len);
  // mtu < total_len <= 65535 keeps these in 16 bits, and
  // mtu >= 68 with headers <= 60 leaves at least one 8-byte block per fragment.
  plan.first_payload = static_cast<uint16_t>((mtu - header_len) & ~7u);
  plan.later_payload = static_cast<uint16_t>((mtu - plan.later_header_len) & ~7u);
  // total_len > mtu, so the first fragment never holds the whole payload.
  const uint32_t rest = payload - plan.first_payload;
  plan.count = static_cast<uint16_t>(1u + (rest + plan.later_payload - 1u) / plan.later_payload);
  plan.status = FragmentStatus::ok;
  return plan;
}

uint32_t ipv4_fragment_length(const FragmentPlan& plan, uint32_t index) {
  if (!plan_consistent(plan, index)) {
    return 0;
  }
  uint32_t start = 0;
  uint32_t size = 0;
  slice(plan, index, &start, &size);
  return (index == 0 ? plan.first_header_len : plan.later_header_len) + size;
}

uint32_t write_ipv4_fragment(const uint8_t* pkt, uint32_t len, const FragmentPlan& plan,
                             uint32_t index, uint8_t* out, uint32_t out_cap) {
  if (pkt == nullptr || out == nullptr || !plan_consistent(plan, index) || len < plan.total_len ||
      (pkt[0] & 0x0fu) * 4u != plan.first_header_len || esp::load_be16(pkt + 2) != plan.total_len) {
    return 0;
  }
  uint32_t start = 0;
  uint32_t size = 0;
  slice(plan, index, &start, &size);
  const uint32_t header_len = index == 0 ? plan.first_header_len : plan.later_header_len;
  const uint32_t frag_len = header_len + size;
  if (out_cap < frag_len) {
    return 0;
  }
  const uint16_t flags = esp::load_be16(pkt + 6);
  const bool last = index + 1u == plan.count;
  // Only the last piece of the input inherits its MF: an input that was itself
  // a non-final fragment still has data after it.
  const bool more = !last || (flags & kFlagMf) != 0;
  const uint32_t offset_units = (flags & kOffsetMask) + start / 8u;
  if (offset_units > kOffsetMask) {
    return 0;  // the packet is not the one planned (the plan checked this)
  }
  // The first fragment carries every option; later ones the copied ones.
  if (index == 0) {
    std::memcpy(out, pkt, header_len);
  } else {
    std::memcpy(out, pkt, kIpv4MinHeader);
    std::memcpy(out + kIpv4MinHeader, plan.copied_options, plan.copied_options_len);
  }
  out[0] = static_cast<uint8_t>(0x40u | (header_len / 4u));
  esp::store_be16(out + 2, static_cast<uint16_t>(frag_len));
  esp::store_be16(out + 6, static_cast<uint16_t>((flags & kFlagReserved) | (more ? kFlagMf : 0u) |
                                                 offset_units));
  esp::store_be16(out + 10, 0);
  const uint16_t sum = esp::checksum(out, header_len);
  std::memcpy(out + 10, &sum, 2);
  std::memcpy(out + header_len, pkt + plan.first_header_len + start, size);
  return frag_len;
}

}  // namespace traverse::engine::ops
