// One poll-mode worker lcore: polls its RX queue of both ports and their
// exception TAPs, runs the inbound (decrypt) and outbound (encrypt) paths for
// the SAs it owns, hands packets for other workers' SAs to them, and reports
// a quiescent state to RCU once per loop. Per packet: no allocation except
// mbufs from the pool, no locks, no logging, no exceptions, no virtual calls.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/engine/engine_context.hh"
#include "dataplane/engine/ops/rate_limiter.hh"
#include "drivers/crypto/thread_context.hh"

struct rte_ip_frag_tbl;

namespace traverse::engine {

inline constexpr uint16_t kBurst = 32;
// classify_inside's hint when the burst did no lookup for the packet.
inline constexpr int32_t kNotLookedUp = -3;

// A decrypted packet parked until its next hop's MAC is known, as a kernel
// queues a few packets per unresolved neighbour instead of dropping the
// first packets of every new flow.
struct HeldPacket {
  rte_mbuf* m;
  uint64_t deadline;  // TSC; dropped as neighbor_unresolved after it
  uint8_t port;
  uint8_t version;
  uint8_t dst[16];
};
inline constexpr uint32_t kHoldCapacity = 64;

// Packets waiting to be sent on one queue; flushed once per loop.
struct TxBuffer {
  uint16_t count = 0;
  rte_mbuf* pkts[kBurst * 4];
};

class Worker {
 public:
  Worker(Engine& engine, uint16_t index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The lcore entry point; returns when engine.stop is set.
  void run();
  // One iteration of the loop (tests drive it step by step).
  void poll_once();

 private:
  // exception_path.cc
  void poll_tap(PortIndex port);
  void to_tap(PortIndex port, rte_mbuf* m);
  void snoop_neighbor(PortIndex port, const rte_mbuf* m);
  bool set_ethernet(PortIndex port, rte_mbuf* m, uint8_t version, const uint8_t* dst);
  // The next hop's MAC toward `dst`; on a miss asks the control thread to
  // resolve it and returns false.
  bool resolve(PortIndex port, uint8_t version, const uint8_t* dst, rte_ether_addr* mac);
  bool write_ethernet(PortIndex port, rte_mbuf* m, uint8_t version, const rte_ether_addr& mac);
  void post(const WorkerEvent& event);
  // neighbor_hold.cc: park a packet whose next hop is being resolved; retry
  // parked packets (each loop while any are parked, lookups only).
  void hold_for_neighbor(PortIndex port, rte_mbuf* m, uint8_t version, const uint8_t* dst);
  void retry_held();
  void post_sa_event(api::EventType type, api::Direction direction, uint32_t spi, uint64_t cookie,
                     uint32_t value);

  // inbound_path.cc: outside port -> decrypt -> inside port
  void receive_outside(rte_mbuf** pkts, uint16_t n);
  void classify_outside(rte_mbuf* m);
  // `outer` is the classifier's parse when it has one; handed-over packets
  // (another worker classified them) are parsed again here.
  void decrypt(rte_mbuf* m, InboundEntry* entry, const esp::OuterView* outer = nullptr);
  void handle_icmp_error(rte_mbuf* m, uint32_t l3_offset);
  rte_mbuf* reassemble(rte_mbuf* m, uint8_t version);

  // outbound_path.cc: inside port -> policy -> encrypt -> outside port
  void receive_inside(rte_mbuf** pkts, uint16_t n);
  // `hint`: the burst's exact policy lookup (a slot or kExactMiss), or
  // kNotLookedUp.
  void classify_inside(rte_mbuf* m, int32_t hint = kNotLookedUp);
  void encrypt(rte_mbuf* m, OutboundEntry* entry);
  void encrypt_one(rte_mbuf* m, OutboundEntry* entry);
  void send_too_big(rte_mbuf* m, OutboundEntry* entry, uint32_t mtu);
  void fragment_and_encrypt(rte_mbuf* m, OutboundEntry* entry, uint32_t max_inner);
  void account(OutboundEntry* entry, uint32_t bytes);

  // worker.cc
  void handoff(uint16_t owner, rte_mbuf* m, HandoffKind kind, uint32_t value);
  void drain_handoff();
  void apply_commands();
  void send(PortIndex port, rte_mbuf* m);
  void flush();
  void drop(rte_mbuf* m, WorkerCounter reason);
  void drop(rte_mbuf* m, esp::Status reason);
  bool decrement_ttl(uint8_t* l3, uint8_t version);

  Engine& engine_;
  const uint16_t index_;
  WorkerCounters& counters_;
  crypto::ThreadContext crypto_;
  TxBuffer tx_[kPortCount];
  TxBuffer tap_tx_[kPortCount];
  rte_ip_frag_tbl* frag_table_ = nullptr;
  void* death_row_ = nullptr;      // rte_ip_frag_death_row, kept opaque here
  uint64_t now_ = 0;               // TSC at the start of this loop iteration
  ops::RateLimiter icmp_limiter_;  // ICMP "too big" per SA (keyed by SPI)
  HeldPacket held_[kHoldCapacity];
  // resolve()'s answer for the last next hop of each port, valid for the
  // loop iteration that looked it up (`loop` is that iteration's now_).
  struct LastHop {
    uint64_t loop = 0;
    esp::IpAddress hop;
    rte_ether_addr mac{};
  };
  LastHop last_hop_[kPortCount];
  uint32_t held_count_ = 0;
};

}  // namespace traverse::engine
