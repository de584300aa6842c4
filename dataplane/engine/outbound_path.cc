// The outbound path: packets from the inside port. The destination selects a
// policy and its outbound SA; the SA's owner enforces the path MTU (ICMP "too
// big" for DF/IPv6, pre-fragmentation otherwise), clamps TCP MSS, encrypts
// and sends to the peer's current address through the outside port.
#include <rte_ethdev.h>

#include "dataplane/engine/burst_prefetch.hh"
#include "dataplane/engine/ops/icmp_too_big.hh"
#include "dataplane/engine/ops/mss_clamp.hh"
#include "dataplane/engine/ops/prefragment.hh"
#include "dataplane/engine/worker.hh"
#include "dataplane/esp/byte_order.hh"

namespace traverse::engine {
namespace {

constexpr uint32_t kEthernetLen = sizeof(rte_ether_hdr);

bool is_multicast_or_link_local_v6(const uint8_t* dst) {
  return dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80);
}

// The destination address a policy lookup would use, or nullptr when the
// classifier will not look one up (it decides; this only picks keys).
const uint8_t* policy_destination(const rte_mbuf* m, uint8_t* version) {
  if (m->nb_segs > 1 || rte_pktmbuf_data_len(m) < kEthernetLen + 28) {
    return nullptr;
  }
  const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint16_t type = esp::load_be16(frame + 12);
  const uint8_t* l3 = frame + kEthernetLen;
  if (type == RTE_ETHER_TYPE_IPV4 && (l3[0] >> 4) == 4) {
    *version = 4;
    return l3 + 16;
  }
  if (type == RTE_ETHER_TYPE_IPV6 && (l3[0] >> 4) == 6 &&
      rte_pktmbuf_data_len(m) >= kEthernetLen + 40) {
    *version = 6;
    return l3 + 24;
  }
  return nullptr;
}

}  // namespace

void Worker::receive_inside(rte_mbuf** pkts, uint16_t n) {
  counters_.add(WorkerCounter::rx_inside, n);
  for (uint16_t i = 0; i < n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  }
  // 1. The burst's exact policy lookups at once.
  PolicyKey keys[kBurst];
  const PolicyKey* key_refs[kBurst];
  uint16_t key_owner[kBurst];
  int32_t hints[kBurst];
  uint32_t keyed = 0;
  for (uint16_t i = 0; i < n; ++i) {
    hints[i] = kNotLookedUp;
    uint8_t version = 0;
    if (const uint8_t* dst = policy_destination(pkts[i], &version)) {
      keys[keyed] = PolicyKey::of(version, dst);
      key_refs[keyed] = &keys[keyed];
      key_owner[keyed++] = i;
    }
  }
  int32_t slots[kBurst];
  engine_.tables.lookup_exact_bulk(key_refs, keyed, slots);
  for (uint32_t k = 0; k < keyed; ++k) {
    hints[key_owner[k]] = slots[k];
  }
  // 2. The slots' cells, then the entries they point to.
  for (uint16_t i = 0; i < n; ++i) {
    if (hints[i] >= 0) {
      rte_prefetch0(engine_.tables.outbound_cell(static_cast<uint32_t>(hints[i])));
    }
  }
  OutboundEntry* entries[kBurst];
  for (uint16_t i = 0; i < n; ++i) {
    entries[i] =
        hints[i] >= 0 ? engine_.tables.outbound_at(static_cast<uint32_t>(hints[i])) : nullptr;
    if (entries[i] != nullptr && (i == 0 || entries[i] != entries[i - 1])) {
      prefetch_lines(entries[i], sizeof(OutboundEntry));
    }
  }
  // 3. Each packet, with the SA state of a packet a few ahead on its way.
  // A burst is often one flow: an SA's state is prefetched once per run.
  // Only for SAs this worker owns: another owner's packets are handed over
  // and their state pulled into this core's cache would only have to
  // travel again (drain_handoff prefetches on the owner's core).
  auto prefetch_sa = [&](uint16_t i) {
    if (entries[i] != nullptr && (i == 0 || entries[i] != entries[i - 1]) &&
        entries[i]->owner == index_) {
      prefetch_hot(entries[i]->hot);
    }
  };
  for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) {
    prefetch_sa(i);
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) {
      prefetch_sa(static_cast<uint16_t>(i + kPrefetchAhead));
    }
    classify_inside(pkts[i], hints[i]);
  }
}

void Worker::classify_inside(rte_mbuf* m, int32_t hint) {
  if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
    drop(m, WorkerCounter::malformed_l3);
    return;
  }
  if (rte_pktmbuf_data_len(m) < kEthernetLen + 28) {
    drop(m, WorkerCounter::malformed_l3);
    return;
  }
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  const uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  const uint8_t* l3 = rte_pktmbuf_mtod_offset(m, const uint8_t*, kEthernetLen);
  const PortRoute& route = engine_.ports[kInside].route;
  int32_t slot = kNoPolicy;
  if (type == RTE_ETHER_TYPE_ARP) {
    snoop_neighbor(kInside, m);
    to_tap(kInside, m);
    return;
  }
  if (type == RTE_ETHER_TYPE_IPV4 && (l3[0] >> 4) == 4) {
    if (route.is_local(4, l3 + 16) || l3[16] >= 224) {
      to_tap(kInside, m);
      return;
    }
    slot = hint >= 0            ? hint
           : hint == kExactMiss ? engine_.tables.lookup_prefix_v4(l3 + 16)
                                : engine_.tables.lookup_v4(l3 + 16);
  } else if (type == RTE_ETHER_TYPE_IPV6 && (l3[0] >> 4) == 6 &&
             rte_pktmbuf_data_len(m) >= kEthernetLen + 40) {
    if (route.is_local(6, l3 + 24) || is_multicast_or_link_local_v6(l3 + 24)) {
      snoop_neighbor(kInside, m);
      to_tap(kInside, m);
      return;
    }
    slot = hint >= 0            ? hint
           : hint == kExactMiss ? engine_.tables.lookup_prefix_v6(l3 + 24)
                                : engine_.tables.lookup_v6(l3 + 24);
  } else {
    drop(m, WorkerCounter::unsupported_ethertype);
    return;
  }
  if (slot == kNoPolicy) {
    drop(m, WorkerCounter::no_policy);
    return;
  }
  OutboundEntry* entry = engine_.tables.outbound_at(static_cast<uint32_t>(slot));
  if (entry == nullptr) {
    drop(m, WorkerCounter::no_outbound_sa);
    return;
  }
  if (entry->owner != index_) {
    handoff(entry->owner, m, HandoffKind::encrypt, static_cast<uint32_t>(slot));
    return;
  }
  encrypt(m, entry);
}

void Worker::encrypt(rte_mbuf* m, OutboundEntry* entry) {
  if ((entry->flags & kHardReached) != 0) {
    SaStats::bump(entry->stats.drops);
    drop(m, WorkerCounter::sa_hard_expired);
    return;
  }
  rte_pktmbuf_adj(m, kEthernetLen);
  uint8_t* inner = rte_pktmbuf_mtod(m, uint8_t*);
  const uint8_t version = inner[0] >> 4;
  const uint32_t length = rte_pktmbuf_data_len(m);
  const uint32_t ip_length =
      version == 4 ? esp::load_be16(inner + 2) : 40u + esp::load_be16(inner + 4);
  if (ip_length > length || ip_length < (version == 4 ? 20u : 40u)) {
    drop(m, WorkerCounter::malformed_l3);
    return;
  }
  // Link padding of short frames is not part of the packet.
  rte_pktmbuf_trim(m, static_cast<uint16_t>(length - ip_length));
  if (!decrement_ttl(inner, version)) {
    drop(m, WorkerCounter::ttl_expired);
    return;
  }
  const uint32_t mtu = entry->path_mtu.load(std::memory_order_relaxed);
  const uint32_t max_inner = entry->sa->max_inner_length(mtu);
  if (ops::clamp_tcp_mss(inner, ip_length, ops::max_mss_for_mtu(max_inner, version)) ==
      ops::MssClamp::clamped) {
    counters_.add(WorkerCounter::mss_clamped);
  }
  if (ip_length > max_inner) {
    const bool df = version == 6 || (inner[6] & 0x40) != 0;
    if (df) {
      send_too_big(m, entry, max_inner);
    } else {
      fragment_and_encrypt(m, entry, max_inner);
    }
    return;
  }
  encrypt_one(m, entry);
}

void Worker::encrypt_one(rte_mbuf* m, OutboundEntry* entry) {
  // An unresolved peer (first packet after a move, or an expired entry):
  // encrypt anyway and park the ESP packet until ARP/ND answers. The SA entry
  // may be retired while a packet waits, so only finished packets are held.
  rte_ether_addr next_hop;
  const bool resolved =
      resolve(kOutside, entry->remote.version, entry->remote.bytes.data(), &next_hop);
  esp::PacketBuffer view(static_cast<uint8_t*>(m->buf_addr), m->buf_len, m->data_off,
                         rte_pktmbuf_data_len(m));
  const uint32_t inner_length = view.length();
  const esp::Status status = entry->sa->encrypt(crypto_, view);
  if (status != esp::Status::ok) {
    SaStats::bump(entry->stats.drops);
    if (status == esp::Status::sequence_exhausted && (entry->flags & kHardReached) == 0) {
      entry->flags |= kHardReached;
      post_sa_event(api::EventType::lifetime_hard, api::Direction::outbound, entry->spi,
                    entry->cookie, 0);
    }
    drop(m, status);
    return;
  }
  m->data_off = static_cast<uint16_t>(view.headroom());
  m->data_len = static_cast<uint16_t>(view.length());
  m->pkt_len = view.length();
  counters_.add(WorkerCounter::encrypted);
  account(entry, inner_length);
  if (!resolved) {
    hold_for_neighbor(kOutside, m, entry->remote.version, entry->remote.bytes.data());
    return;
  }
  if (!write_ethernet(kOutside, m, entry->remote.version, next_hop)) {
    drop(m, esp::Status::no_headroom);
    return;
  }
  send(kOutside, m);
}

void Worker::account(OutboundEntry* entry, uint32_t bytes) {
  SaStats::bump(entry->stats.packets);
  SaStats::bump(entry->stats.bytes, bytes);
  entry->stats.last_packet_tsc.store(now_, std::memory_order_relaxed);
  const uint64_t packets = entry->stats.packets.load(std::memory_order_relaxed);
  const uint64_t total = entry->stats.bytes.load(std::memory_order_relaxed);
  const SaLimits& limits = entry->limits;
  if ((entry->flags & kSoftRaised) == 0 &&
      ((limits.soft_bytes != 0 && total >= limits.soft_bytes) ||
       (limits.soft_packets != 0 && packets >= limits.soft_packets))) {
    entry->flags |= kSoftRaised;
    post_sa_event(api::EventType::lifetime_soft, api::Direction::outbound, entry->spi,
                  entry->cookie, 0);
  }
  if ((limits.hard_bytes != 0 && total >= limits.hard_bytes) ||
      (limits.hard_packets != 0 && packets >= limits.hard_packets)) {
    entry->flags |= kHardReached;
    post_sa_event(api::EventType::lifetime_hard, api::Direction::outbound, entry->spi,
                  entry->cookie, 0);
  }
  // Warn once when a quarter of a million sequence numbers remain: time to rekey.
  if ((entry->flags & kSeqWarned) == 0 && entry->sa->sequence_remaining() < (1u << 18)) {
    entry->flags |= kSeqWarned;
    post_sa_event(api::EventType::sequence_near_exhaustion, api::Direction::outbound, entry->spi,
                  entry->cookie, static_cast<uint32_t>(entry->sa->sequence_remaining()));
  }
}

void Worker::send_too_big(rte_mbuf* m, OutboundEntry* entry, uint32_t max_inner) {
  // One token bucket per SA: a flood of oversized packets costs the sender
  // a few ICMP errors per second, not one per packet.
  if (!icmp_limiter_.allow(entry->spi, now_)) {
    drop(m, WorkerCounter::icmp_rate_limited);
    return;
  }
  const uint8_t* inner = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t version = inner[0] >> 4;
  const esp::IpAddress* source = engine_.ports[kInside].route.address(version);
  rte_mbuf* reply = rte_pktmbuf_alloc(engine_.pool);
  if (source == nullptr || reply == nullptr) {
    rte_pktmbuf_free(reply);
    drop(m, WorkerCounter::icmp_not_sent);
    return;
  }
  uint8_t* out = rte_pktmbuf_mtod(reply, uint8_t*);
  const ops::TooBigResult built = ops::build_icmp_too_big(
      inner, rte_pktmbuf_data_len(m), *source, max_inner, out, rte_pktmbuf_tailroom(reply));
  rte_pktmbuf_free(m);
  if (built.reason != ops::TooBigReason::built) {
    rte_pktmbuf_free(reply);
    counters_.add(WorkerCounter::icmp_not_sent);
    return;
  }
  rte_pktmbuf_append(reply, static_cast<uint16_t>(built.length));
  const uint8_t* dst = out + (version == 4 ? 16 : 24);
  if (!set_ethernet(kInside, reply, version, dst)) {
    drop(reply, WorkerCounter::neighbor_unresolved);
    return;
  }
  counters_.add(WorkerCounter::icmp_too_big_sent);
  send(kInside, reply);
}

void Worker::fragment_and_encrypt(rte_mbuf* m, OutboundEntry* entry, uint32_t max_inner) {
  const uint8_t* inner = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t length = rte_pktmbuf_data_len(m);
  const ops::FragmentPlan plan = ops::plan_ipv4_fragments(inner, length, max_inner);
  if (plan.status != ops::FragmentStatus::ok) {
    drop(m, WorkerCounter::prefragment_failed);
    return;
  }
  for (uint32_t i = 0; i < plan.count; ++i) {
    rte_mbuf* piece = rte_pktmbuf_alloc(engine_.pool);
    if (piece == nullptr) {
      counters_.add(WorkerCounter::mbuf_exhausted);
      break;
    }
    const uint32_t written = ops::write_ipv4_fragment(
        inner, length, plan, i, rte_pktmbuf_mtod(piece, uint8_t*), rte_pktmbuf_tailroom(piece));
    if (written == 0) {
      drop(piece, WorkerCounter::prefragment_failed);
      break;
    }
    rte_pktmbuf_append(piece, static_cast<uint16_t>(written));
    counters_.add(WorkerCounter::prefragmented);
    encrypt_one(piece, entry);
  }
  rte_pktmbuf_free(m);
}

}  // namespace traverse::engine
