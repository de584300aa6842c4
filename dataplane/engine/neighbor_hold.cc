// The neighbour hold queue: a decrypted packet whose next hop is not resolved
// yet waits (bounded in count and time) instead of being dropped, so the
// first packets of a new flow through the tunnel arrive. Per worker, no locks.
#include <cstring>

#include "dataplane/engine/neighbor/neighbor_cache.hh"
#include "dataplane/engine/worker.hh"

namespace traverse::engine {

void Worker::hold_for_neighbor(PortIndex port, rte_mbuf* m, uint8_t version, const uint8_t* dst) {
  if (held_count_ == kHoldCapacity) {
    drop(m, WorkerCounter::neighbor_hold_full);
    return;
  }
  HeldPacket& h = held_[held_count_++];
  h.m = m;
  // ARP/ND normally answers in well under a second; the kernel's default
  // unresolved-queue lifetime is of the same order.
  h.deadline = now_ + engine_.tsc_hz;
  h.port = static_cast<uint8_t>(port);
  h.version = version;
  std::memcpy(h.dst, dst, version == 4 ? 4 : 16);
  counters_.add(WorkerCounter::neighbor_held);
}

void Worker::retry_held() {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < held_count_; ++i) {
    HeldPacket& h = held_[i];
    const auto port = static_cast<PortIndex>(h.port);
    const PortRuntime& p = engine_.ports[port];
    esp::IpAddress hop;
    rte_ether_addr mac;
    // Lookups only: the first miss already asked the control thread to solicit.
    if (p.route.next_hop(h.version, h.dst, &hop) &&
        p.neighbors->lookup(hop.version, hop.bytes.data(), mac.addr_bytes)) {
      if (write_ethernet(port, h.m, h.version, mac)) {
        send(port, h.m);
      } else {
        drop(h.m, WorkerCounter::neighbor_unresolved);
      }
      continue;
    }
    if (now_ >= h.deadline) {
      drop(h.m, WorkerCounter::neighbor_unresolved);
      continue;
    }
    held_[kept++] = h;
  }
  held_count_ = kept;
}

}  // namespace traverse::engine
