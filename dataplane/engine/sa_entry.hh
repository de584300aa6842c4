// The dataplane's runtime SA entries. The control thread builds an entry,
// publishes its pointer in a table with release semantics and retires it with
// RCU; the entry's owning worker is the only writer of its sequence number,
// replay window and statistics (VPP's single-writer rule), so the packet path
// takes no lock. Hot fields first; the entry is cache-line aligned.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/ip_address.hh"
#include "dataplane/esp/outbound_sa.hh"

namespace traverse::engine {

struct SaLimits {
  uint64_t soft_bytes = 0;  // 0 = unlimited
  uint64_t hard_bytes = 0;
  uint64_t soft_packets = 0;
  uint64_t hard_packets = 0;
};

// Per-SA statistics, single writer (the owner), read by the control thread.
struct SaStats {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> drops{0};
  std::atomic<uint64_t> replay_drops{0};
  std::atomic<uint64_t> auth_drops{0};
  std::atomic<uint64_t> last_packet_tsc{0};

  static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

// What the owner's packet path reads of an SA besides its entry (the ESP
// state, the cipher session, its key schedule), recorded when the entry is
// built: the worker prefetches it a few packets ahead without chasing the
// pointers between them.
struct HotMemory {
  crypto::MemoryRegion regions[crypto::kMaxHotRegions];
  uint32_t count = 0;

  template <typename Sa>
  void record(const Sa& sa) {
    count = sa.hot_regions(regions);
  }
};

// Lifetime state the owner advances; events go up exactly once per limit.
enum SaFlags : uint8_t {
  kSoftRaised = 1u << 0,
  kHardReached = 1u << 1,  // the SA stops carrying traffic
  kSeqWarned = 1u << 2,
};

struct alignas(64) InboundEntry {
  uint32_t spi = 0;
  uint16_t owner = 0;  // worker index
  uint8_t flags = 0;
  bool udp_encap = false;
  std::unique_ptr<esp::InboundSa> sa;
  HotMemory hot;
  uint16_t path_mtu = 1500;
  uint16_t max_inner = 1400;  // largest inner packet the tunnel carries: MSS clamping
  uint16_t peer_port = 0;     // where authenticated ESP last came from (NAT-T)
  esp::IpAddress peer;
  uint64_t cookie = 0;
  SaLimits limits;
  SaStats stats;
};

struct alignas(64) OutboundEntry {
  uint32_t spi = 0;
  uint16_t owner = 0;
  uint8_t flags = 0;
  std::unique_ptr<esp::OutboundSa> sa;
  HotMemory hot;
  // Lowered by any worker that validates an ICMP error (atomic min), raised
  // only by the control plane.
  std::atomic<uint16_t> path_mtu{1500};
  esp::IpAddress local;
  esp::IpAddress remote;
  uint16_t remote_port = 0;
  uint64_t cookie = 0;
  SaLimits limits;
  SaStats stats;
};

}  // namespace traverse::engine
