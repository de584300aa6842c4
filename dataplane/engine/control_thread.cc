#include "dataplane/engine/control_thread.hh"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstring>

#include "dataplane/engine/neighbor/neighbor_cache.hh"

namespace traverse::engine {
namespace {

esp::IpAddress from_api(const api::Address& a) {
  esp::IpAddress out;
  out.version = a.version;
  std::memcpy(out.bytes.data(), a.bytes, 16);
  return out;
}

api::Address to_api(const esp::IpAddress& a, uint8_t prefix = 0) {
  api::Address out{};
  out.version = a.version;
  out.prefix_len = prefix;
  std::memcpy(out.bytes, a.bytes.data(), 16);
  return out;
}

esp::SaConfig sa_config_from(const api::SaRecord& r) {
  esp::SaConfig c;
  c.spi = r.spi;
  c.transform = static_cast<crypto::Transform>(r.transform);
  c.backend = static_cast<crypto::Backend>(r.backend);
  c.cipher_key.assign(r.cipher_key, r.cipher_key + std::min<size_t>(r.cipher_key_len, 32));
  c.salt.assign(r.salt, r.salt + std::min<size_t>(r.salt_len, 4));
  c.auth_key.assign(r.auth_key, r.auth_key + std::min<size_t>(r.auth_key_len, 32));
  c.esn = (r.flags & api::kSaFlagEsn) != 0;
  c.replay_window = r.replay_window;
  c.local = from_api(r.local);
  c.remote = from_api(r.remote);
  c.udp_encap = (r.flags & api::kSaFlagUdpEncap) != 0;
  c.local_port = r.local_port == 0 ? esp::kNatTraversalPort : r.local_port;
  c.remote_port = r.remote_port == 0 ? esp::kNatTraversalPort : r.remote_port;
  c.df = static_cast<esp::DfMode>(r.df_mode);
  c.ttl = r.ttl == 0 ? 64 : r.ttl;
  c.first_sequence = r.first_sequence == 0 ? 1 : r.first_sequence;
  return c;
}

}  // namespace

api::SaRecord record_from_static(const StaticSa& sa, uint16_t default_mtu) {
  api::SaRecord r{};
  const esp::SaConfig& c = sa.sa;
  r.spi = c.spi;
  r.direction =
      sa.direction == SaDirection::inbound ? api::Direction::inbound : api::Direction::outbound;
  r.transform = static_cast<uint8_t>(c.transform);
  r.backend = static_cast<uint8_t>(c.backend);
  r.flags = static_cast<uint8_t>((c.esn ? api::kSaFlagEsn : 0) |
                                 (c.udp_encap ? api::kSaFlagUdpEncap : 0));
  std::memcpy(r.cipher_key, c.cipher_key.data(), std::min<size_t>(c.cipher_key.size(), 32));
  r.cipher_key_len = static_cast<uint8_t>(c.cipher_key.size());
  std::memcpy(r.salt, c.salt.data(), std::min<size_t>(c.salt.size(), 4));
  r.salt_len = static_cast<uint8_t>(c.salt.size());
  std::memcpy(r.auth_key, c.auth_key.data(), std::min<size_t>(c.auth_key.size(), 32));
  r.auth_key_len = static_cast<uint8_t>(c.auth_key.size());
  r.df_mode = static_cast<uint8_t>(c.df);
  r.local = to_api(c.local);
  r.remote = to_api(c.remote);
  r.local_port = c.local_port;
  r.remote_port = c.remote_port;
  r.replay_window = c.replay_window;
  r.first_sequence = c.first_sequence;
  r.lifetime = {sa.soft_bytes, sa.hard_bytes, sa.soft_packets, sa.hard_packets};
  r.path_mtu = default_mtu;
  r.ttl = c.ttl;
  return r;
}

api::ReplyStatus ControlThread::add_sa(const api::SaRecord& record, std::string* detail) {
  esp::SaConfig config = sa_config_from(record);
  if (engine_.config->replay_window_disabled) {
    config.replay_window = 0;
  }
  if (std::string why = config.validate(); !why.empty()) {
    *detail = why;
    return api::ReplyStatus::bad_field;
  }
  const uint16_t mtu = record.path_mtu != 0 ? record.path_mtu : engine_.ports[kOutside].mtu;
  const SaLimits limits{record.lifetime.soft_bytes, record.lifetime.hard_bytes,
                        record.lifetime.soft_packets, record.lifetime.hard_packets};
  if (record.direction == api::Direction::inbound) {
    // Inbound SAs receive from the remote end: swap so parse/decrypt see the
    // gateway's own UDP port as `local`.
    auto sa = esp::InboundSa::create(config, detail);
    if (!sa) {
      return api::ReplyStatus::crypto_error;
    }
    auto entry = std::make_unique<InboundEntry>();
    entry->spi = record.spi;
    entry->owner = engine_.owner_of(record.spi);
    entry->udp_encap = config.udp_encap;
    entry->path_mtu = mtu;
    // The reverse direction's overhead matches this SA's transform: use an
    // outbound twin of the config to size the largest inner packet.
    std::string ignored;
    if (auto twin = esp::OutboundSa::create(config, &ignored)) {
      entry->max_inner = static_cast<uint16_t>(twin->max_inner_length(mtu));
    }
    entry->sa = std::move(sa);
    entry->hot.record(*entry->sa);
    entry->cookie = record.cookie;
    entry->limits = limits;
    return engine_.tables.add_inbound(std::move(entry), detail);
  }
  auto sa = esp::OutboundSa::create(config, detail);
  if (!sa) {
    return api::ReplyStatus::crypto_error;
  }
  auto entry = std::make_unique<OutboundEntry>();
  entry->spi = record.spi;
  entry->owner = engine_.owner_of(record.spi);
  entry->sa = std::move(sa);
  entry->hot.record(*entry->sa);
  entry->path_mtu.store(mtu);
  entry->local = config.local;
  entry->remote = config.remote;
  entry->remote_port = config.remote_port;
  entry->cookie = record.cookie;
  entry->limits = limits;
  uint32_t slot = 0;
  return engine_.tables.add_outbound(std::move(entry), &slot, detail);
}

api::ReplyStatus ControlThread::update_sa(const api::SaRecord& record, std::string* detail) {
  if (record.direction == api::Direction::inbound) {
    InboundEntry* entry = engine_.tables.inbound(record.spi);
    if (entry == nullptr) {
      *detail = "no inbound SA with this SPI";
      return api::ReplyStatus::unknown_sa;
    }
    if (record.path_mtu != 0) {
      send_command(entry->owner, {WorkerCommand::Kind::set_path_mtu,
                                  api::Direction::inbound,
                                  0,
                                  record.spi,
                                  0,
                                  record.path_mtu,
                                  {}});
    }
    return api::ReplyStatus::ok;
  }
  const int32_t slot = engine_.tables.outbound_slot(record.spi, record.cookie);
  OutboundEntry* entry =
      slot < 0 ? nullptr : engine_.tables.outbound_at(static_cast<uint32_t>(slot));
  if (entry == nullptr) {
    *detail = "no outbound SA with this SPI and cookie";
    return api::ReplyStatus::unknown_sa;
  }
  const esp::IpAddress remote = from_api(record.remote);
  if (remote.version != 0 && remote.version != entry->local.version) {
    *detail = "remote: IP version differs from the SA's local address";
    return api::ReplyStatus::bad_field;
  }
  if (remote.version != 0) {
    send_command(entry->owner, {WorkerCommand::Kind::move_peer, api::Direction::outbound,
                                record.remote_port == 0 ? entry->remote_port : record.remote_port,
                                record.spi, static_cast<uint32_t>(slot), 0, remote});
  }
  if (record.path_mtu != 0) {
    entry->path_mtu.store(record.path_mtu, std::memory_order_relaxed);
  }
  return api::ReplyStatus::ok;
}

void ControlThread::send_command(uint16_t worker, const WorkerCommand& command) {
  // The ring holds thousands of commands; a full one means a stuck worker.
  WorkerCommand copy = command;  // the ring API takes a non-const pointer
  rte_ring_enqueue_elem(engine_.commands[worker], &copy, sizeof copy);
}

bool ControlThread::install_static(std::string* error) {
  // Before the workers start, so the first packets already find their next hop.
  pin_static_neighbors();
  for (const StaticSa& sa : engine_.config->sas) {
    std::string detail;
    const api::SaRecord record = record_from_static(sa, engine_.ports[kOutside].mtu);
    if (add_sa(record, &detail) != api::ReplyStatus::ok) {
      *error = "static SA spi " + std::to_string(sa.sa.spi) + ": " + detail;
      return false;
    }
  }
  for (const StaticPolicy& policy : engine_.config->policies) {
    std::string detail;
    // Static SAs have cookie 0.
    if (engine_.tables.add_policy(policy.selector, policy.spi, 0, &detail) !=
        api::ReplyStatus::ok) {
      *error = "static policy " + policy.selector.address.to_string() + "/" +
               std::to_string(policy.selector.length) + ": " + detail;
      return false;
    }
  }
  return true;
}

void ControlThread::handle(const api::Message& request, api::ReplySink& out) {
  std::string detail;
  api::ReplyStatus status = api::ReplyStatus::ok;
  uint32_t value = 0;
  switch (request.header.type) {
    case api::MessageType::hello:
      value = engine_.tables.capacity();
      detail = "traverse-dataplane api " + std::to_string(api::kApiVersion);
      break;
    case api::MessageType::sa_add:
      status = add_sa(request.body.sa, &detail);
      break;
    case api::MessageType::sa_update:
      status = update_sa(request.body.sa, &detail);
      break;
    case api::MessageType::sa_delete:
      status = engine_.tables.remove(request.body.sa_ref, &detail);
      break;
    case api::MessageType::policy_add:
    case api::MessageType::policy_delete: {
      const api::PolicyRecord& p = request.body.policy;
      Prefix selector{from_api(p.selector), p.selector.prefix_len};
      status = request.header.type == api::MessageType::policy_add
                   ? engine_.tables.add_policy(selector, p.spi, p.cookie, &detail)
                   : engine_.tables.remove_policy(selector, p.spi, p.cookie, &detail);
      break;
    }
    case api::MessageType::counters_get:
      counters(request, out);
      return;
    case api::MessageType::sa_list:
      list(request, out);
      return;
    default:
      status = api::ReplyStatus::unknown_type;
      detail = "unknown request type";
      break;
  }
  out.reply(status, value, detail);
}

void ControlThread::counters(const api::Message& request, api::ReplySink& out) {
  if (request.body.counters_query.scope == 1) {
    const api::SaRef& ref = request.body.counters_query.sa;
    const SaStats* stats = nullptr;
    api::SaCounters c{};
    if (ref.direction == api::Direction::inbound) {
      if (InboundEntry* e = engine_.tables.inbound(ref.spi)) {
        stats = &e->stats;
        c.cookie = e->cookie;
        c.path_mtu = e->path_mtu;
      }
    } else {
      const int32_t slot = engine_.tables.outbound_slot(ref.spi, ref.cookie);
      if (OutboundEntry* e = slot < 0 ? nullptr : engine_.tables.outbound_at(slot)) {
        stats = &e->stats;
        c.cookie = e->cookie;
        c.path_mtu = e->path_mtu.load();
      }
    }
    if (stats == nullptr) {
      out.reply(api::ReplyStatus::unknown_sa, 0, "no such SA");
      return;
    }
    c.sa = ref;
    c.packets = stats->packets.load();
    c.bytes = stats->bytes.load();
    c.drops = stats->drops.load();
    c.replay_drops = stats->replay_drops.load();
    c.auth_drops = stats->auth_drops.load();
    out.sa_counters(c);
    return;
  }
  // Ports and drop reasons: sums over workers, then the NICs' own statistics.
  std::vector<std::pair<std::string, uint64_t>> all = counter_snapshot();
  for (size_t i = 0; i < all.size(); i += api::kCountersPerPage) {
    api::CountersPage page{};
    for (size_t j = 0; j < api::kCountersPerPage && i + j < all.size(); ++j) {
      std::snprintf(page.counters[j].name, sizeof page.counters[j].name, "%s",
                    all[i + j].first.c_str());
      page.counters[j].value = all[i + j].second;
      ++page.count;
    }
    page.more = i + api::kCountersPerPage < all.size() ? 1 : 0;
    out.counters_page(page);
  }
}

std::vector<std::pair<std::string, uint64_t>> ControlThread::counter_snapshot() const {
  std::vector<std::pair<std::string, uint64_t>> all;
  for (size_t i = 0; i < kWorkerCounterCount; ++i) {
    uint64_t sum = 0;
    for (uint16_t w = 0; w < engine_.workers; ++w) {
      sum += engine_.counters[w].engine[i].load(std::memory_order_relaxed);
    }
    all.emplace_back(std::string(kWorkerCounterNames[i]), sum);
  }
  for (size_t i = 0; i < esp::kStatusCount; ++i) {
    uint64_t sum = 0;
    for (uint16_t w = 0; w < engine_.workers; ++w) {
      sum += engine_.counters[w].esp[i].load(std::memory_order_relaxed);
    }
    all.emplace_back("esp_" + std::string(esp::kStatusNames[i]), sum);
  }
  const char* names[kPortCount] = {"outside", "inside"};
  for (int p = 0; p < kPortCount; ++p) {
    rte_eth_stats stats{};
    rte_eth_stats_get(engine_.ports[p].port_id, &stats);
    all.emplace_back(std::string(names[p]) + "_ipackets", stats.ipackets);
    all.emplace_back(std::string(names[p]) + "_opackets", stats.opackets);
    all.emplace_back(std::string(names[p]) + "_imissed", stats.imissed);
    all.emplace_back(std::string(names[p]) + "_ierrors", stats.ierrors);
  }
  for (int p = 0; p < kPortCount; ++p) {
    // Next-hop resolution, so an operator can see why packets wait or drop.
    const NeighborCounters& n = engine_.ports[p].neighbors->counters();
    const std::string prefix = std::string(names[p]) + "_neighbor_";
    all.emplace_back(prefix + "added", n.added);
    all.emplace_back(prefix + "changed", n.changed);
    all.emplace_back(prefix + "not_requested", n.not_requested);
    all.emplace_back(prefix + "invalid", n.invalid);
    all.emplace_back(prefix + "table_full", n.table_full);
    all.emplace_back(prefix + "solicited", n.solicited);
    all.emplace_back(prefix + "expired", n.expired);
  }
  all.emplace_back("pmtu_icmp_rejected_by_control", pmtu_rejected_);
  all.emplace_back("inbound_sas", engine_.tables.inbound_count());
  all.emplace_back("outbound_sas", engine_.tables.outbound_count());
  return all;
}

void ControlThread::list(const api::Message& request, api::ReplySink& out) {
  std::vector<api::SaRef> refs;
  engine_.tables.for_each([&](const InboundEntry* in, const OutboundEntry* o) {
    if (in != nullptr) {
      refs.push_back({in->spi, api::Direction::inbound, {}, in->cookie});
    } else {
      refs.push_back({o->spi, api::Direction::outbound, {}, o->cookie});
    }
  });
  api::SaListPage page{};
  const size_t per_page = std::size(page.sas);
  size_t i = std::min<size_t>(request.body.list_query.start_index, refs.size());
  // One page per request; the caller resumes at next_index while more is set.
  for (; i < refs.size() && page.count < per_page; ++i) {
    page.sas[page.count++] = refs[i];
  }
  page.next_index = static_cast<uint32_t>(i);
  page.more = i < refs.size() ? 1 : 0;
  out.sa_list_page(page);
}

void ControlThread::service(const std::function<void(const api::Event&)>& post) {
  const uint64_t now = rte_rdtsc();
  for (uint16_t w = 0; w < engine_.workers; ++w) {
    WorkerEvent event;
    for (int budget = 0;
         budget < 256 && rte_ring_dequeue_elem(engine_.to_control[w], &event, sizeof event) == 0;
         ++budget) {
      switch (event.kind) {
        case WorkerEvent::Kind::api_event:
          if (event.event.type == api::EventType::lifetime_hard) {
            // The owner already stopped using it; now it leaves the table and
            // its keys are wiped after the grace period.
            std::string detail;
            engine_.tables.remove({event.event.spi, event.event.direction, {}, event.event.cookie},
                                  &detail);
          }
          post(event.event);
          break;
        case WorkerEvent::Kind::neighbor_learned:
          engine_.ports[event.port].neighbors->learn(event.learned, now);
          break;
        case WorkerEvent::Kind::neighbor_miss:
          solicit(event.port, event.address);
          break;
        case WorkerEvent::Kind::pmtu_report:
          handle_pmtu_report(event, post);
          break;
      }
    }
  }
  for (uint8_t p = 0; p < kPortCount; ++p) {
    std::vector<esp::IpAddress> refresh;
    engine_.ports[p].neighbors->expire(now, &refresh);
    for (const esp::IpAddress& address : refresh) {
      solicit(p, address);
    }
  }

  engine_.tables.reclaim();
  // Idle SAs: scan at most once a second.
  const uint32_t idle_s = engine_.config->idle_timeout_s;
  if (idle_s != 0 && now >= next_idle_scan_) {
    next_idle_scan_ = now + engine_.tsc_hz;
    const uint64_t idle_cycles = idle_s * engine_.tsc_hz;
    engine_.tables.for_each([&](InboundEntry* in, OutboundEntry*) {
      if (in == nullptr || (in->flags & kHardReached) != 0) {
        return;
      }
      const uint64_t last = in->stats.last_packet_tsc.load(std::memory_order_relaxed);
      const uint64_t since = last == 0 ? 0 : now - last;
      if (last != 0 && since >= idle_cycles && since < idle_cycles + engine_.tsc_hz) {
        api::Event e{};
        e.type = api::EventType::idle;
        e.direction = api::Direction::inbound;
        e.spi = in->spi;
        e.cookie = in->cookie;
        e.value = static_cast<uint32_t>(since / engine_.tsc_hz);
        post(e);
      }
    });
  }
}

void ControlThread::handle_pmtu_report(const WorkerEvent& report,
                                       const std::function<void(const api::Event&)>& post) {
  const bool has_spi = report.flag;
  const esp::IpAddress quoted_dst = from_api(report.event.address);
  const esp::IpAddress& quoted_src = report.address;
  OutboundEntry* match = nullptr;
  if (has_spi) {
    // Two peers may use the same outbound SPI: the quoted addresses (and the
    // UDP port when encapsulated) pick the SA.
    engine_.tables.for_each_outbound_with_spi(report.event.spi, [&](uint32_t, OutboundEntry* out) {
      if (out != nullptr && out->local == quoted_src && out->remote == quoted_dst &&
          (report.event.port == 0 || out->remote_port == report.event.port)) {
        match = out;
      }
    });
  } else {
    // Without a quoted SPI (an IPv4 error quoting only 8 bytes of UDP) only a
    // single SA to that peer and port can be identified.
    engine_.tables.for_each([&](InboundEntry*, OutboundEntry* out) {
      if (out != nullptr && out->remote == quoted_dst && out->remote_port == report.event.port) {
        match = match == nullptr ? out : nullptr;
      }
    });
  }
  if (match == nullptr || !(match->local == quoted_src) || !(match->remote == quoted_dst)) {
    ++pmtu_rejected_;
    return;
  }
  const uint32_t reported = report.event.value;
  const uint16_t current = match->path_mtu.load(std::memory_order_relaxed);
  if (reported >= current || reported < 576) {
    // Never raise from an ICMP error, and never below the IPv4 minimum
    // reassembly size: a forged tiny MTU must not cripple the tunnel.
    ++pmtu_rejected_;
    return;
  }
  match->path_mtu.store(static_cast<uint16_t>(reported), std::memory_order_relaxed);
  api::Event e{};
  e.type = api::EventType::path_mtu_changed;
  e.direction = api::Direction::outbound;
  e.spi = match->spi;
  e.cookie = match->cookie;
  e.value = reported;
  post(e);
}

void ControlThread::pin_static_neighbors() {
  // Configured next hops (pcap benchmarks, golden tests): permanent entries.
  for (const StaticNeighbor& n : engine_.config->neighbors) {
    engine_.ports[n.port == "outside" ? kOutside : kInside].neighbors->pin(n.address, n.mac.data());
  }
}

void ControlThread::solicit(uint8_t port, const esp::IpAddress& address) {
  PortRuntime& p = engine_.ports[port];
  const uint64_t now = rte_rdtsc();
  if (!p.neighbors->should_solicit(address, now)) {
    return;
  }
  const esp::IpAddress* source = p.route.address(address.version);
  if (source == nullptr) {
    return;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(engine_.pool);
  if (m == nullptr) {
    return;
  }
  uint8_t* out = rte_pktmbuf_mtod(m, uint8_t*);
  const uint32_t length =
      build_solicitation(out, rte_pktmbuf_tailroom(m), p.mac.addr_bytes, *source, address);
  if (length == 0) {
    rte_pktmbuf_free(m);
    return;
  }
  rte_pktmbuf_append(m, static_cast<uint16_t>(length));
  // Worker 0 transmits for the control thread: TX queues belong to workers.
  m->hash.fdir.lo = static_cast<uint32_t>(port == kOutside ? HandoffKind::transmit_outside
                                                           : HandoffKind::transmit_inside);
  if (rte_ring_enqueue(engine_.handoff[0], m) != 0) {
    rte_pktmbuf_free(m);
  }
}

}  // namespace traverse::engine
