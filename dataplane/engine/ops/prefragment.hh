// RFC 4459 pre-fragmentation: splits an inner IPv4 packet without DF into
// fragments that each fit the tunnel's inner MTU, before encryption, so the
// ESP packet itself is never fragmented. Plan once, then write each fragment
// into a buffer of the caller's. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace traverse::engine::ops {

#define TRAVERSE_FRAGMENT_STATUS_LIST(X)                                 \
  X(ok, "fragments planned")                                             \
  X(fits, "packet fits the MTU: send it unchanged")                      \
  X(mtu_too_small, "MTU below 68, the IPv4 minimum")                     \
  X(not_ipv4, "not an IPv4 packet")                                      \
  X(bad_header_length, "IPv4 header length below 20 or past the data")   \
  X(bad_total_length, "total length below the header or past the data")  \
  X(bad_options, "IPv4 option runs past the header or has a bad length") \
  X(dont_fragment, "DF set: send ICMP fragmentation needed instead")     \
  X(offset_overflow, "fragment offsets would pass the 13-bit field")

enum class FragmentStatus : uint8_t {
#define TRAVERSE_FRAGMENT_ENUM(name, text) name,
  TRAVERSE_FRAGMENT_STATUS_LIST(TRAVERSE_FRAGMENT_ENUM)
#undef TRAVERSE_FRAGMENT_ENUM
};

std::string_view fragment_status_name(FragmentStatus status);

// Everything the writer needs besides the packet: plain data, copyable.
struct FragmentPlan {
  FragmentStatus status = FragmentStatus::not_ipv4;
  uint16_t count = 0;            // fragments to write (>= 2 when ok)
  uint16_t total_len = 0;        // the input packet's IP total length
  uint8_t first_header_len = 0;  // the input header, all options kept
  uint8_t later_header_len = 0;  // 20 + copied options, padded to 4 bytes
  uint16_t first_payload = 0;    // payload bytes in the first fragment (multiple of 8)
  uint16_t later_payload = 0;    // payload bytes in each later but last (multiple of 8)
  uint8_t copied_options_len = 0;
  uint8_t copied_options[40] = {};  // options with the copy flag, then EOL padding
};
static_assert(std::is_trivially_copyable_v<FragmentPlan>);

// Checks the packet and the MTU and computes the fragment sizes. `len` may
// exceed the IP total length (link padding is not copied). Fragments of an
// already fragmented packet keep its ID and continue its offsets; the last
// keeps its MF flag.
FragmentPlan plan_ipv4_fragments(const uint8_t* pkt, uint32_t len, uint32_t mtu);

// Bytes fragment `index` of `plan` takes; 0 when the plan is not ok or the
// index is past the end.
uint32_t ipv4_fragment_length(const FragmentPlan& plan, uint32_t index);

// Writes fragment `index` (header with a fresh checksum, then its slice of
// the payload) into `out`; returns its length, or 0 when the plan is not ok,
// the index is out of range, `len` is shorter than the planned packet or
// `out_cap` is too small. `out` must not overlap `pkt`.
uint32_t write_ipv4_fragment(const uint8_t* pkt, uint32_t len, const FragmentPlan& plan,
                             uint32_t index, uint8_t* out, uint32_t out_cap);

}  // namespace traverse::engine::ops
