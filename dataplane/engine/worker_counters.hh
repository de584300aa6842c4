// Per-worker counters, one plain struct per lcore so each has a single writer
// and no atomics on the packet path; the control thread sums them on request.
// Names are data: every counter has the name traversectl shows.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "dataplane/esp/status.hh"

namespace traverse::engine {

#define TRAVERSE_WORKER_COUNTER_LIST(X) \
  X(rx_outside)                         \
  X(rx_inside)                          \
  X(tx_outside)                         \
  X(tx_inside)                          \
  X(tx_dropped)                         \
  X(to_tap)                             \
  X(from_tap)                           \
  X(tap_dropped)                        \
  X(decrypted)                          \
  X(encrypted)                          \
  X(nat_keepalive)                      \
  X(ike_to_tap)                         \
  X(handoff_sent)                       \
  X(handoff_dropped)                    \
  X(no_inbound_sa)                      \
  X(no_policy)                          \
  X(no_outbound_sa)                     \
  X(not_for_us)                         \
  X(unsupported_ethertype)              \
  X(malformed_l3)                       \
  X(neighbor_unresolved)                \
  X(neighbor_held)                      \
  X(neighbor_hold_full)                 \
  X(ttl_expired)                        \
  X(reassembled)                        \
  X(reassembly_pending)                 \
  X(reassembly_failed)                  \
  X(mbuf_exhausted)                     \
  X(icmp_too_big_sent)                  \
  X(icmp_rate_limited)                  \
  X(icmp_not_sent)                      \
  X(prefragmented)                      \
  X(prefragment_failed)                 \
  X(mss_clamped)                        \
  X(pmtu_lowered)                       \
  X(pmtu_icmp_rejected)                 \
  X(sa_hard_expired)                    \
  X(neighbor_learned)                   \
  X(event_dropped)

enum class WorkerCounter : uint16_t {
#define TRAVERSE_WORKER_COUNTER_ENUM(name) name,
  TRAVERSE_WORKER_COUNTER_LIST(TRAVERSE_WORKER_COUNTER_ENUM)
#undef TRAVERSE_WORKER_COUNTER_ENUM
      count
};

inline constexpr std::string_view kWorkerCounterNames[] = {
#define TRAVERSE_WORKER_COUNTER_NAME(name) #name,
    TRAVERSE_WORKER_COUNTER_LIST(TRAVERSE_WORKER_COUNTER_NAME)
#undef TRAVERSE_WORKER_COUNTER_NAME
};

inline constexpr std::size_t kWorkerCounterCount = static_cast<std::size_t>(WorkerCounter::count);
static_assert(std::size(kWorkerCounterNames) == kWorkerCounterCount);

struct alignas(64) WorkerCounters {
  // Written by the owning worker only (relaxed store of load + n: no RMW),
  // read by the control thread.
  std::array<std::atomic<uint64_t>, kWorkerCounterCount> engine{};
  std::array<std::atomic<uint64_t>, esp::kStatusCount> esp{};  // outcome of ESP processing

  void add(WorkerCounter c, uint64_t n = 1) {
    auto& slot = engine[static_cast<std::size_t>(c)];
    slot.store(slot.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void add(esp::Status s, uint64_t n = 1) {
    auto& slot = esp[static_cast<std::size_t>(s)];
    slot.store(slot.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

}  // namespace traverse::engine
