// The exception path: what is addressed to the gateway and is not ESP goes to
// the port's kernel TAP; what the kernel sends on the TAP goes out the port.
// ARP and neighbor discovery are snooped on the way to learn next hops.
#include <rte_ethdev.h>
#include <rte_ring_elem.h>

#include "dataplane/engine/neighbor/neighbor_cache.hh"
#include "dataplane/engine/worker.hh"
#include "dataplane/esp/byte_order.hh"

namespace traverse::engine {

void Worker::poll_tap(PortIndex port) {
  const PortRuntime& p = engine_.ports[port];
  if (!p.has_tap) {
    return;
  }
  rte_mbuf* pkts[kBurst];
  const uint16_t n = rte_eth_rx_burst(p.tap_id, index_, pkts, kBurst);
  counters_.add(WorkerCounter::from_tap, n);
  for (uint16_t i = 0; i < n; ++i) {
    send(port, pkts[i]);
  }
}

void Worker::to_tap(PortIndex port, rte_mbuf* m) {
  if (!engine_.ports[port].has_tap) {
    drop(m, WorkerCounter::tap_dropped);
    return;
  }
  TxBuffer& buffer = tap_tx_[port];
  if (buffer.count == std::size(buffer.pkts)) {
    flush();
  }
  buffer.pkts[buffer.count++] = m;
}

void Worker::snoop_neighbor(PortIndex port, const rte_mbuf* m) {
  NeighborLearn learned;
  if (!learn_from_frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), &learned)) {
    return;
  }
  WorkerEvent event;
  event.kind = WorkerEvent::Kind::neighbor_learned;
  event.port = port;
  event.learned = learned;
  post(event);
}

bool Worker::resolve(PortIndex port, uint8_t version, const uint8_t* dst, rte_ether_addr* mac) {
  const PortRuntime& p = engine_.ports[port];
  esp::IpAddress hop;
  if (!p.route.next_hop(version, dst, &hop)) {
    return false;
  }
  // Most of a burst goes to one next hop (the outside router): one table
  // lookup per hop per loop iteration, as if the table were read at its start.
  LastHop& last = last_hop_[port];
  if (last.loop == now_ && last.hop == hop) {
    *mac = last.mac;
    return true;
  }
  if (p.neighbors->lookup(hop.version, hop.bytes.data(), mac->addr_bytes)) {
    last.loop = now_;
    last.hop = hop;
    last.mac = *mac;
    return true;
  }
  WorkerEvent event;
  event.kind = WorkerEvent::Kind::neighbor_miss;
  event.port = port;
  event.address = hop;
  post(event);
  return false;
}

bool Worker::write_ethernet(PortIndex port, rte_mbuf* m, uint8_t version,
                            const rte_ether_addr& mac) {
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ether_hdr)));
  if (eth == nullptr) {
    return false;
  }
  eth->dst_addr = mac;
  eth->src_addr = engine_.ports[port].mac;
  eth->ether_type = rte_cpu_to_be_16(version == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  return true;
}

bool Worker::set_ethernet(PortIndex port, rte_mbuf* m, uint8_t version, const uint8_t* dst) {
  rte_ether_addr mac;
  return resolve(port, version, dst, &mac) && write_ethernet(port, m, version, mac);
}

void Worker::post(const WorkerEvent& event) {
  WorkerEvent copy = event;  // the ring API takes a non-const pointer
  if (rte_ring_enqueue_elem(engine_.to_control[index_], &copy, sizeof copy) != 0) {
    counters_.add(WorkerCounter::event_dropped);
  }
}

void Worker::post_sa_event(api::EventType type, api::Direction direction, uint32_t spi,
                           uint64_t cookie, uint32_t value) {
  WorkerEvent event;
  event.kind = WorkerEvent::Kind::api_event;
  event.event.type = type;
  event.event.direction = direction;
  event.event.spi = spi;
  event.event.cookie = cookie;
  event.event.value = value;
  post(event);
}

}  // namespace traverse::engine
