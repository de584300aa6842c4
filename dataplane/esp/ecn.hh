// ECN at tunnel egress (RFC 6040 section 4.2): congestion marked on the outer
// header must survive decapsulation, or the sender never slows down.
#pragma once

#include <cstdint>

#include "dataplane/esp/byte_order.hh"

namespace traverse::esp {

inline constexpr uint8_t kEcnNotEct = 0;
inline constexpr uint8_t kEcnCe = 3;

// Copies CE from the outer header into an ECN-capable inner header. Returns
// false when the packet must be dropped: CE outside, Not-ECT inside (the
// inner sender cannot hear of the congestion, RFC 6040 section 4.2).
inline bool ecn_decapsulate(uint8_t outer_ecn, uint8_t* inner, uint8_t inner_version) {
  if (outer_ecn != kEcnCe) {
    return true;
  }
  if (inner_version == 4) {
    const uint8_t ecn = inner[1] & 0x03u;
    if (ecn == kEcnNotEct) {
      return false;
    }
    if (ecn == kEcnCe) {
      return true;
    }
    // RFC 1624 incremental update of the header checksum for the changed byte.
    const uint16_t old_word = load_be16(inner);
    inner[1] |= kEcnCe;
    const uint16_t new_word = load_be16(inner);
    uint32_t sum = static_cast<uint16_t>(~load_be16(inner + 10));
    sum += static_cast<uint16_t>(~old_word);
    sum += new_word;
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    store_be16(inner + 10, static_cast<uint16_t>(~sum));
    return true;
  }
  const uint8_t ecn = (inner[1] >> 4) & 0x03u;
  if (ecn == kEcnNotEct) {
    return false;
  }
  inner[1] |= static_cast<uint8_t>(kEcnCe << 4);
  return true;
}

}  // namespace traverse::esp
