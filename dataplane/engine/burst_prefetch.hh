// Prefetching for a burst. With many SAs every packet's SA entry, ESP state
// and key schedule are cache misses (and, without hugepages, TLB misses); one
// after another they cost microseconds a packet. Issued for several packets
// before the first is processed, the misses overlap instead (the
// "prefetch a few packets ahead" structure of VPP's and DPDK's graph nodes).
#pragma once

#include <rte_prefetch.h>

#include <cstdint>

#include "dataplane/engine/sa_entry.hh"
#include "dataplane/esp/byte_order.hh"

namespace traverse::engine {

// How many packets ahead the SA state is prefetched: enough to cover a
// memory (and page-walk) latency with the work of the packets in between.
inline constexpr uint16_t kPrefetchAhead = 10;

inline void prefetch_lines(const void* address, uint32_t length) {
  constexpr uintptr_t kLine = 64;
  const auto begin = reinterpret_cast<uintptr_t>(address) & ~(kLine - 1);
  const auto end = reinterpret_cast<uintptr_t>(address) + length;
  for (uintptr_t line = begin; line < end; line += kLine) {
    rte_prefetch0(reinterpret_cast<const void*>(line));
  }
}

inline void prefetch_hot(const HotMemory& hot) {
  for (uint32_t i = 0; i < hot.count; ++i) {
    prefetch_lines(hot.regions[i].address, hot.regions[i].length);
  }
}

// The SPI of an ESP (or ESP-in-UDP on `nat_port`) packet in an Ethernet
// frame, or 0. A guess for prefetching only: the classifier still parses
// and checks everything; this only has to stay inside the frame.
inline uint32_t peek_esp_spi(const uint8_t* frame, uint32_t length, uint16_t nat_port) {
  constexpr uint32_t kEth = 14;
  if (length < kEth + 20) {
    return 0;
  }
  const uint16_t type = esp::load_be16(frame + 12);
  const uint8_t* l3 = frame + kEth;
  uint32_t l4_offset = 0;
  uint8_t protocol = 0;
  if (type == 0x0800 && (l3[0] >> 4) == 4) {
    l4_offset = kEth + (l3[0] & 0x0fu) * 4u;
    protocol = l3[9];
  } else if (type == 0x86dd && length >= kEth + 40 && (l3[0] >> 4) == 6) {
    l4_offset = kEth + 40;
    protocol = l3[6];
  } else {
    return 0;
  }
  if (protocol == 50 && length >= l4_offset + 8) {
    return esp::load_be32(frame + l4_offset);
  }
  if (protocol == 17 && length >= l4_offset + 16 &&
      esp::load_be16(frame + l4_offset + 2) == nat_port) {
    return esp::load_be32(frame + l4_offset + 8);  // 0: the non-ESP marker (IKE)
  }
  return 0;
}

}  // namespace traverse::engine
