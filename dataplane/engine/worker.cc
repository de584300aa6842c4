#include "dataplane/engine/worker.hh"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/engine/burst_prefetch.hh"
#include "dataplane/esp/byte_order.hh"

namespace traverse::engine {

Worker::Worker(Engine& engine, uint16_t index)
    : engine_(engine),
      index_(index),
      counters_(engine.counters[index]),
      icmp_limiter_(4096, engine.tsc_hz, engine.config->icmp_rate_per_second,
                    std::max<uint32_t>(engine.config->icmp_rate_per_second / 10, 1)) {
  const DataplaneConfig& c = *engine.config;
  const uint64_t max_cycles = engine.tsc_hz * c.reassembly_timeout_ms / 1000;
  // Buckets of 8 entries; the table never holds more than reassembly_entries.
  const uint32_t buckets = std::max<uint32_t>(c.reassembly_entries / 8, 2);
  frag_table_ =
      rte_ip_frag_table_create(buckets, 8, c.reassembly_entries, max_cycles, rte_socket_id());
  death_row_ = new rte_ip_frag_death_row{};
}

Worker::~Worker() {
  for (uint32_t i = 0; i < held_count_; ++i) {
    rte_pktmbuf_free(held_[i].m);
  }
  auto* row = static_cast<rte_ip_frag_death_row*>(death_row_);
  rte_ip_frag_free_death_row(row, 0);
  delete row;
  rte_ip_frag_table_destroy(frag_table_);
}

void Worker::run() {
  rte_rcu_qsbr_thread_register(engine_.rcu, index_);
  rte_rcu_qsbr_thread_online(engine_.rcu, index_);
  while (!engine_.stop.load(std::memory_order_relaxed)) {
    poll_once();
    rte_rcu_qsbr_quiescent(engine_.rcu, index_);
  }
  flush();
  rte_rcu_qsbr_thread_offline(engine_.rcu, index_);
  rte_rcu_qsbr_thread_unregister(engine_.rcu, index_);
}

void Worker::poll_once() {
  now_ = rte_rdtsc();
  if (held_count_ != 0) {
    retry_held();
  }
  rte_mbuf* pkts[kBurst];
  const PortRuntime& outside = engine_.ports[kOutside];
  const PortRuntime& inside = engine_.ports[kInside];
  if (index_ < outside.rx_queues) {
    const uint16_t n = rte_eth_rx_burst(outside.port_id, index_, pkts, kBurst);
    if (n != 0) {
      receive_outside(pkts, n);
    }
  }
  if (index_ < inside.rx_queues) {
    const uint16_t n = rte_eth_rx_burst(inside.port_id, index_, pkts, kBurst);
    if (n != 0) {
      receive_inside(pkts, n);
    }
  }
  drain_handoff();
  poll_tap(kOutside);
  poll_tap(kInside);
  apply_commands();
  flush();
  rte_ip_frag_free_death_row(static_cast<rte_ip_frag_death_row*>(death_row_), 3);
}

void Worker::handoff(uint16_t owner, rte_mbuf* m, HandoffKind kind, uint32_t value) {
  m->hash.fdir.lo = static_cast<uint32_t>(kind);
  m->hash.fdir.hi = value;
  if (rte_ring_enqueue(engine_.handoff[owner], m) != 0) {
    drop(m, WorkerCounter::handoff_dropped);
    return;
  }
  counters_.add(WorkerCounter::handoff_sent);
}

void Worker::drain_handoff() {
  void* items[kBurst];
  const unsigned n = rte_ring_dequeue_burst(engine_.handoff[index_], items, kBurst, nullptr);
  // Handed-over packets arrive cold: their headers and SA state were last
  // touched on the classifying core. Fetch the burst's SA entries at once
  // and their ESP state a few packets ahead, as the receive paths do.
  // Cells first, then the entries they point to (each step one overlapped
  // miss per packet, not a chain of them).
  for (unsigned i = 0; i < n; ++i) {
    auto* m = static_cast<rte_mbuf*>(items[i]);
    rte_prefetch0(rte_pktmbuf_mtod(m, void*));
    const uint32_t value = m->hash.fdir.hi;
    switch (static_cast<HandoffKind>(m->hash.fdir.lo)) {
      case HandoffKind::decrypt:
        rte_prefetch0(engine_.tables.inbound_cell(value));
        break;
      case HandoffKind::encrypt:
        if (const auto* cell = engine_.tables.outbound_cell(value)) {
          rte_prefetch0(cell);
        }
        break;
      default:
        break;
    }
  }
  InboundEntry* inbound[kBurst];
  OutboundEntry* outbound[kBurst];
  for (unsigned i = 0; i < n; ++i) {
    auto* m = static_cast<rte_mbuf*>(items[i]);
    const uint32_t value = m->hash.fdir.hi;
    const auto kind = static_cast<HandoffKind>(m->hash.fdir.lo);
    // The inbound cell's entry may hold another SPI: checked before use.
    inbound[i] = kind == HandoffKind::decrypt
                     ? engine_.tables.inbound_cell(value)->load(std::memory_order_acquire)
                     : nullptr;
    outbound[i] = kind == HandoffKind::encrypt ? engine_.tables.outbound_at(value) : nullptr;
    if (inbound[i] != nullptr) {
      prefetch_lines(inbound[i], sizeof(InboundEntry));
    } else if (outbound[i] != nullptr) {
      prefetch_lines(outbound[i], sizeof(OutboundEntry));
    }
  }
  auto prefetch_sa = [&](unsigned i) {
    if (inbound[i] != nullptr && (i == 0 || inbound[i] != inbound[i - 1]) &&
        inbound[i]->spi == static_cast<rte_mbuf*>(items[i])->hash.fdir.hi) {
      prefetch_hot(inbound[i]->hot);
    } else if (outbound[i] != nullptr && (i == 0 || outbound[i] != outbound[i - 1])) {
      prefetch_hot(outbound[i]->hot);
    }
  };
  for (unsigned i = 0; i < n && i < kPrefetchAhead; ++i) {
    prefetch_sa(i);
  }
  for (unsigned i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) {
      prefetch_sa(i + kPrefetchAhead);
    }
    auto* m = static_cast<rte_mbuf*>(items[i]);
    switch (static_cast<HandoffKind>(m->hash.fdir.lo)) {
      case HandoffKind::decrypt: {
        InboundEntry* entry = inbound[i];
        if (entry == nullptr || entry->spi != m->hash.fdir.hi) {
          drop(m, WorkerCounter::no_inbound_sa);
        } else {
          decrypt(m, entry);
        }
        break;
      }
      case HandoffKind::encrypt: {
        OutboundEntry* entry = outbound[i];
        if (entry == nullptr) {
          drop(m, WorkerCounter::no_outbound_sa);
        } else {
          encrypt(m, entry);
        }
        break;
      }
      case HandoffKind::transmit_outside:
        send(kOutside, m);
        break;
      case HandoffKind::transmit_inside:
        send(kInside, m);
        break;
      default:
        drop(m, WorkerCounter::handoff_dropped);
        break;
    }
  }
}

void Worker::apply_commands() {
  WorkerCommand command;
  while (rte_ring_dequeue_elem(engine_.commands[index_], &command, sizeof command) == 0) {
    if (command.direction == api::Direction::outbound) {
      OutboundEntry* entry = engine_.tables.outbound_at(command.slot);
      if (entry == nullptr || entry->spi != command.spi) {
        continue;
      }
      if (command.kind == WorkerCommand::Kind::move_peer) {
        entry->sa->set_remote(command.address, command.port);
        entry->remote = command.address;
        entry->remote_port = command.port;
      } else {
        entry->path_mtu.store(static_cast<uint16_t>(command.value), std::memory_order_relaxed);
      }
    } else if (InboundEntry* entry = engine_.tables.inbound(command.spi)) {
      if (command.kind == WorkerCommand::Kind::set_path_mtu) {
        entry->path_mtu = static_cast<uint16_t>(command.value);
      }
    }
  }
}

void Worker::send(PortIndex port, rte_mbuf* m) {
  TxBuffer& buffer = tx_[port];
  if (buffer.count == std::size(buffer.pkts)) {
    flush();
  }
  buffer.pkts[buffer.count++] = m;
}

void Worker::flush() {
  for (int p = 0; p < kPortCount; ++p) {
    const PortRuntime& port = engine_.ports[p];
    for (TxBuffer* buffer : {&tx_[p], &tap_tx_[p]}) {
      if (buffer->count == 0) {
        continue;
      }
      const bool to_tap = buffer == &tap_tx_[p];
      const uint16_t id = to_tap ? port.tap_id : port.port_id;
      uint16_t sent = 0;
      // A few retries absorb a momentarily full descriptor ring.
      for (int attempt = 0; attempt < 4 && sent < buffer->count; ++attempt) {
        sent += rte_eth_tx_burst(id, index_, buffer->pkts + sent,
                                 static_cast<uint16_t>(buffer->count - sent));
      }
      if (to_tap) {
        counters_.add(WorkerCounter::to_tap, sent);
      } else {
        counters_.add(p == kOutside ? WorkerCounter::tx_outside : WorkerCounter::tx_inside, sent);
      }
      if (sent < buffer->count) {
        counters_.add(to_tap ? WorkerCounter::tap_dropped : WorkerCounter::tx_dropped,
                      buffer->count - sent);
        rte_pktmbuf_free_bulk(buffer->pkts + sent, buffer->count - sent);
      }
      buffer->count = 0;
    }
  }
}

void Worker::drop(rte_mbuf* m, WorkerCounter reason) {
  counters_.add(reason);
  rte_pktmbuf_free(m);
}

void Worker::drop(rte_mbuf* m, esp::Status reason) {
  counters_.add(reason);
  rte_pktmbuf_free(m);
}

bool Worker::decrement_ttl(uint8_t* l3, uint8_t version) {
  if (version == 4) {
    if (l3[8] <= 1) {
      return false;
    }
    // RFC 1624: the checksum changes by the TTL's weight in its 16-bit word.
    --l3[8];
    uint32_t sum = esp::load_be16(l3 + 10) + 0x0100u;
    sum = (sum & 0xffffu) + (sum >> 16);
    esp::store_be16(l3 + 10, static_cast<uint16_t>(sum));
    return true;
  }
  if (l3[7] <= 1) {
    return false;
  }
  --l3[7];
  return true;
}

}  // namespace traverse::engine
