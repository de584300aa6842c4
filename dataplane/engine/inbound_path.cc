// The inbound path: packets from the outside port. ESP (raw or in UDP 4500)
// for one of our SAs is decrypted by the SA's owner and forwarded to the
// inside port; IKE, TCP and anything else for the gateway goes to the kernel
// TAP; NAT keepalives are counted and dropped; outer fragments are
// reassembled first; ICMP errors about our ESP packets lower an SA's path MTU.
#include <rte_ethdev.h>
#include <rte_ip_frag.h>

#include "dataplane/engine/burst_prefetch.hh"
#include "dataplane/engine/ops/icmp_error_parse.hh"
#include "dataplane/engine/ops/mss_clamp.hh"
#include "dataplane/engine/worker.hh"
#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/outer_parse.hh"

namespace traverse::engine {
namespace {

constexpr uint32_t kEthernetLen = sizeof(rte_ether_hdr);

esp::PacketBuffer l3_view(rte_mbuf* m) {
  return esp::PacketBuffer(static_cast<uint8_t*>(m->buf_addr), m->buf_len,
                           static_cast<uint32_t>(m->data_off + kEthernetLen),
                           rte_pktmbuf_data_len(m) - kEthernetLen);
}

// The mbuf now holds what the view holds (no Ethernet header).
void commit_view(rte_mbuf* m, const esp::PacketBuffer& view) {
  m->data_off = static_cast<uint16_t>(view.headroom());
  m->data_len = static_cast<uint16_t>(view.length());
  m->pkt_len = view.length();
}

bool is_multicast_or_link_local_v6(const uint8_t* dst) {
  return dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80);
}

}  // namespace

void Worker::receive_outside(rte_mbuf** pkts, uint16_t n) {
  counters_.add(WorkerCounter::rx_outside, n);
  for (uint16_t i = 0; i < n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  }
  // The SA entries the classifier is about to look up, for the whole burst,
  // then their ESP state a few packets ahead (burst_prefetch.hh).
  uint32_t spis[kBurst];
  for (uint16_t i = 0; i < n; ++i) {
    spis[i] = peek_esp_spi(rte_pktmbuf_mtod(pkts[i], const uint8_t*), rte_pktmbuf_data_len(pkts[i]),
                           esp::kNatTraversalPort);
    if (spis[i] != 0) {
      rte_prefetch0(engine_.tables.inbound_cell(spis[i]));
    }
  }
  const InboundEntry* entries[kBurst];
  for (uint16_t i = 0; i < n; ++i) {
    entries[i] = spis[i] != 0
                     ? engine_.tables.inbound_cell(spis[i])->load(std::memory_order_acquire)
                     : nullptr;
    if (entries[i] != nullptr && (i == 0 || entries[i] != entries[i - 1])) {
      prefetch_lines(entries[i], sizeof(InboundEntry));
    }
  }
  auto prefetch_sa = [&](uint16_t i) {
    // A burst is often one flow: an SA's state is prefetched once per run,
    // and only by its owner (others hand the packet over).
    if (entries[i] != nullptr && (i == 0 || entries[i] != entries[i - 1]) &&
        entries[i]->spi == spis[i] && entries[i]->owner == index_) {
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
    classify_outside(pkts[i]);
  }
}

void Worker::classify_outside(rte_mbuf* m) {
  if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
    drop(m, WorkerCounter::malformed_l3);
    return;
  }
  if (rte_pktmbuf_data_len(m) < kEthernetLen + 20) {
    // Too short for IP: ARP is 28 bytes after Ethernet, still goes to the TAP.
    if (rte_pktmbuf_data_len(m) >= kEthernetLen + 28 &&
        rte_pktmbuf_mtod(m, rte_ether_hdr*)->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
      snoop_neighbor(kOutside, m);
      to_tap(kOutside, m);
      return;
    }
    drop(m, WorkerCounter::malformed_l3);
    return;
  }
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  const uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  uint8_t* l3 = rte_pktmbuf_mtod_offset(m, uint8_t*, kEthernetLen);
  const PortRoute& route = engine_.ports[kOutside].route;
  uint8_t version = 0;
  if (type == RTE_ETHER_TYPE_ARP) {
    snoop_neighbor(kOutside, m);
    to_tap(kOutside, m);
    return;
  }
  if (type == RTE_ETHER_TYPE_IPV4 && (l3[0] >> 4) == 4) {
    version = 4;
    if (!route.is_local(4, l3 + 16)) {
      // Broadcast and multicast are the kernel's; nothing else is forwarded
      // from the outside in the clear.
      if (l3[16] >= 224 || (l3[16] == 255)) {
        to_tap(kOutside, m);
      } else {
        drop(m, WorkerCounter::not_for_us);
      }
      return;
    }
  } else if (type == RTE_ETHER_TYPE_IPV6 && (l3[0] >> 4) == 6 &&
             rte_pktmbuf_data_len(m) >= kEthernetLen + 40) {
    version = 6;
    if (!route.is_local(6, l3 + 24)) {
      if (is_multicast_or_link_local_v6(l3 + 24)) {
        snoop_neighbor(kOutside, m);
        to_tap(kOutside, m);
      } else {
        drop(m, WorkerCounter::not_for_us);
      }
      return;
    }
    snoop_neighbor(kOutside, m);  // a unicast NA to our address
  } else {
    drop(m, WorkerCounter::unsupported_ethertype);
    return;
  }

  esp::PacketBuffer view = l3_view(m);
  esp::OuterView outer;
  const esp::Status status = esp::parse_outer(view, esp::kNatTraversalPort, &outer);
  switch (status) {
    case esp::Status::ok: {
      InboundEntry* entry = engine_.tables.inbound(outer.spi);
      if (entry == nullptr) {
        drop(m, WorkerCounter::no_inbound_sa);
        return;
      }
      if (entry->owner != index_) {
        handoff(entry->owner, m, HandoffKind::decrypt, outer.spi);
        return;
      }
      // The parse trimmed link padding from its view; the mbuf follows, so
      // decrypt's view of it is the same packet.
      rte_pktmbuf_trim(
          m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - kEthernetLen - view.length()));
      decrypt(m, entry, &outer);
      return;
    }
    case esp::Status::nat_keepalive:
      drop(m, WorkerCounter::nat_keepalive);
      return;
    case esp::Status::ike:
      counters_.add(WorkerCounter::ike_to_tap);
      to_tap(kOutside, m);
      return;
    case esp::Status::outer_fragment: {
      rte_mbuf* whole = reassemble(m, version);
      if (whole != nullptr) {
        classify_outside(whole);
      }
      return;
    }
    case esp::Status::not_esp:
      if ((version == 4 && l3[9] == 1) || (version == 6 && l3[6] == 58)) {
        handle_icmp_error(m, kEthernetLen);
      }
      to_tap(kOutside, m);
      return;
    default:
      drop(m, status);
      return;
  }
}

rte_mbuf* Worker::reassemble(rte_mbuf* m, uint8_t version) {
  m->l2_len = kEthernetLen;
  rte_mbuf* whole = nullptr;
  auto* row = static_cast<rte_ip_frag_death_row*>(death_row_);
  if (version == 4) {
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEthernetLen);
    m->l3_len = static_cast<uint16_t>((ip->version_ihl & 0x0f) * 4);
    whole = rte_ipv4_frag_reassemble_packet(frag_table_, row, m, now_, ip);
  } else {
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEthernetLen);
    auto* frag = rte_ipv6_frag_get_ipv6_fragment_header(ip);
    if (frag == nullptr) {
      // A fragment header behind other extension headers: not supported.
      drop(m, WorkerCounter::reassembly_failed);
      return nullptr;
    }
    m->l3_len = sizeof(rte_ipv6_hdr) + sizeof(rte_ipv6_fragment_ext);
    whole = rte_ipv6_frag_reassemble_packet(frag_table_, row, m, now_, ip, frag);
  }
  if (whole == nullptr) {
    // Kept for later (or dropped into the death row by the library).
    counters_.add(WorkerCounter::reassembly_pending);
    return nullptr;
  }
  if (whole->nb_segs > 1 && rte_pktmbuf_linearize(whole) != 0) {
    // The whole packet does not fit one mbuf: larger than our MTU allows.
    drop(whole, WorkerCounter::reassembly_failed);
    return nullptr;
  }
  if (version == 4) {
    // The library rewrites length and offset but leaves the checksum to an
    // offload we do not use.
    auto* ip = rte_pktmbuf_mtod_offset(whole, rte_ipv4_hdr*, kEthernetLen);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
  counters_.add(WorkerCounter::reassembled);
  return whole;
}

void Worker::decrypt(rte_mbuf* m, InboundEntry* entry, const esp::OuterView* parsed) {
  if ((entry->flags & kHardReached) != 0) {
    SaStats::bump(entry->stats.drops);
    drop(m, WorkerCounter::sa_hard_expired);
    return;
  }
  esp::PacketBuffer view = l3_view(m);
  esp::OuterView outer;
  esp::Status status = esp::Status::ok;
  if (parsed != nullptr) {
    outer = *parsed;  // its pointers are into this mbuf's data, still valid
  } else {
    status = esp::parse_outer(view, esp::kNatTraversalPort, &outer);
  }
  esp::DecryptResult result;
  if (status == esp::Status::ok) {
    status = entry->sa->decrypt(crypto_, view, outer, &result);
  }
  if (status != esp::Status::ok) {
    SaStats::bump(entry->stats.drops);
    if (status == esp::Status::replay_duplicate || status == esp::Status::replay_too_old) {
      SaStats::bump(entry->stats.replay_drops);
    } else if (status == esp::Status::bad_icv) {
      SaStats::bump(entry->stats.auth_drops);
    }
    drop(m, status);
    return;
  }
  counters_.add(WorkerCounter::decrypted);
  SaStats::bump(entry->stats.packets);
  SaStats::bump(entry->stats.bytes, view.length());
  entry->stats.last_packet_tsc.store(now_, std::memory_order_relaxed);

  // NAT traversal: authenticated traffic from a new address or port means the
  // peer's NAT mapping moved; the control plane moves the IKE and child SAs.
  if (outer.udp) {
    const esp::IpAddress source = outer.version == 4 ? esp::IpAddress::from_v4(outer.src_addr)
                                                     : esp::IpAddress::from_v6(outer.src_addr);
    if (outer.src_port != entry->peer_port || !(entry->peer == source)) {
      const bool first = entry->peer.version == 0;
      entry->peer = source;
      entry->peer_port = outer.src_port;
      if (!first) {
        WorkerEvent event;
        event.kind = WorkerEvent::Kind::api_event;
        event.event.type = api::EventType::peer_address_changed;
        event.event.direction = api::Direction::inbound;
        event.event.spi = entry->spi;
        event.event.cookie = entry->cookie;
        event.event.port = outer.src_port;
        event.event.address.version = entry->peer.version;
        std::memcpy(event.event.address.bytes, entry->peer.bytes.data(), 16);
        post(event);
      }
    }
  }
  // Lifetimes.
  const uint64_t packets = entry->stats.packets.load(std::memory_order_relaxed);
  const uint64_t bytes = entry->stats.bytes.load(std::memory_order_relaxed);
  const SaLimits& limits = entry->limits;
  if ((entry->flags & kSoftRaised) == 0 &&
      ((limits.soft_bytes != 0 && bytes >= limits.soft_bytes) ||
       (limits.soft_packets != 0 && packets >= limits.soft_packets))) {
    entry->flags |= kSoftRaised;
    post_sa_event(api::EventType::lifetime_soft, api::Direction::inbound, entry->spi, entry->cookie,
                  0);
  }
  if ((limits.hard_bytes != 0 && bytes >= limits.hard_bytes) ||
      (limits.hard_packets != 0 && packets >= limits.hard_packets)) {
    entry->flags |= kHardReached;
    post_sa_event(api::EventType::lifetime_hard, api::Direction::inbound, entry->spi, entry->cookie,
                  0);
  }

  commit_view(m, view);
  uint8_t* inner = rte_pktmbuf_mtod(m, uint8_t*);
  if (!decrement_ttl(inner, result.inner_version)) {
    drop(m, WorkerCounter::ttl_expired);
    return;
  }
  // Clamp SYNs from the remote side to what fits this tunnel's path MTU, so
  // the protected server never sends segments too large for the tunnel.
  if (ops::clamp_tcp_mss(inner, view.length(),
                         ops::max_mss_for_mtu(entry->max_inner, result.inner_version)) ==
      ops::MssClamp::clamped) {
    counters_.add(WorkerCounter::mss_clamped);
  }
  const uint8_t* dst = inner + (result.inner_version == 4 ? 16 : 24);
  if (!set_ethernet(kInside, m, result.inner_version, dst)) {
    hold_for_neighbor(kInside, m, result.inner_version, dst);
    return;
  }
  send(kInside, m);
}

void Worker::handle_icmp_error(rte_mbuf* m, uint32_t l3_offset) {
  ops::PmtuReport report;
  const uint8_t* l3 = rte_pktmbuf_mtod_offset(m, const uint8_t*, l3_offset);
  const ops::PmtuIcmpStatus status =
      ops::parse_icmp_too_big(l3, rte_pktmbuf_data_len(m) - l3_offset, &report);
  if (status == ops::PmtuIcmpStatus::not_icmp || status == ops::PmtuIcmpStatus::wrong_type) {
    return;  // ordinary ICMP: the kernel gets it
  }
  if (status != ops::PmtuIcmpStatus::ok) {
    counters_.add(WorkerCounter::pmtu_icmp_rejected);
    return;
  }
  // The control thread checks the quote against a live outbound SA (SPI,
  // addresses, ports) before anything changes: forged or stale errors are
  // counted there and ignored. Rare enough not to need the fast path.
  WorkerEvent event;
  event.kind = WorkerEvent::Kind::pmtu_report;
  event.event.spi = report.spi;
  event.event.value = report.mtu;
  event.event.port = report.udp ? report.dst_port : 0;
  event.event.address.version = report.quoted_dst.version;
  std::memcpy(event.event.address.bytes, report.quoted_dst.bytes.data(), 16);
  event.address = report.quoted_src;
  event.flag = report.spi_present;
  post(event);
}

}  // namespace traverse::engine
