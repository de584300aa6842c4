// What the workers and the control thread share: ports, SA/policy tables,
// neighbor tables, the RCU variable and the rings between threads. Built by
// main() before the workers start; afterwards only the documented single
// writers change anything.
#pragma once

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/api/messages.hh"
#include "dataplane/engine/dataplane_config.hh"
#include "dataplane/engine/neighbor/arp_nd.hh"
#include "dataplane/engine/port_route.hh"
#include "dataplane/engine/sa_tables.hh"
#include "dataplane/engine/worker_counters.hh"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

namespace traverse::engine {

class NeighborCache;

enum PortIndex : uint8_t { kOutside = 0, kInside = 1, kPortCount = 2 };

struct PortRuntime {
  uint16_t port_id = 0;
  uint16_t tap_id = 0;
  bool has_tap = false;
  uint16_t rx_queues = 1;
  uint16_t mtu = 1500;
  rte_ether_addr mac{};
  PortRoute route;
  NeighborCache* neighbors = nullptr;
};

// Worker -> control thread, one SPSC ring per worker.
struct WorkerEvent {
  enum class Kind : uint8_t { api_event, neighbor_learned, neighbor_miss, pmtu_report };
  Kind kind = Kind::api_event;
  uint8_t port = kOutside;
  bool flag = false;  // pmtu_report: the quote carried the SPI
  api::Event event{};
  esp::IpAddress address;  // neighbor_miss: the next hop; pmtu_report: quoted source
  NeighborLearn learned;   // neighbor_learned
};

// Control thread -> the worker that owns an SA, one SPSC ring per worker:
// changes to an SA that only its owner may make (the owner is the single
// writer of the outer header and sequence number).
struct WorkerCommand {
  enum class Kind : uint8_t { move_peer, set_path_mtu };
  Kind kind = Kind::move_peer;
  api::Direction direction = api::Direction::outbound;
  uint16_t port = 0;
  uint32_t spi = 0;
  uint32_t slot = 0;  // outbound: the table slot (workers cannot search by SPI)
  uint32_t value = 0;
  esp::IpAddress address;
};

// Tag written into mbuf->hash.fdir when a packet is handed to its SA's owner.
enum class HandoffKind : uint32_t {
  decrypt = 1,
  encrypt = 2,
  transmit_outside = 3,
  transmit_inside = 4
};

struct Engine {
  const DataplaneConfig* config = nullptr;
  PortRuntime ports[kPortCount];
  SaTables tables;
  rte_rcu_qsbr* rcu = nullptr;
  rte_mempool* pool = nullptr;
  uint16_t workers = 1;
  uint64_t tsc_hz = 1;
  std::vector<rte_ring*> handoff;              // per worker: packets for SAs it owns (MP/SC)
  std::vector<rte_ring*> to_control;           // per worker: WorkerEvent (SP/SC)
  std::vector<rte_ring*> commands;             // per worker: WorkerCommand (SP/SC)
  std::unique_ptr<WorkerCounters[]> counters;  // per worker
  std::atomic<bool> stop{false};

  // Which worker owns an SA: spreads SAs over workers deterministically.
  uint16_t owner_of(uint32_t spi) const { return static_cast<uint16_t>(spi % workers); }
};

}  // namespace traverse::engine
