#include "control/gateway/gateway_daemon.hh"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>

#include "control/gateway/peer_config_builder.hh"

namespace traverse::gateway {
namespace {

constexpr auto kTick = std::chrono::milliseconds(200);
constexpr auto kDataplaneRetry = std::chrono::seconds(1);
constexpr auto kCounterRefresh = std::chrono::seconds(10);

ike::LogLevel to_ike(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return ike::LogLevel::error;
    case LogLevel::warning:
      return ike::LogLevel::warning;
    case LogLevel::info:
      return ike::LogLevel::info;
    case LogLevel::debug:
      return ike::LogLevel::debug;
  }
  return ike::LogLevel::info;
}

bool in_ranges(const std::vector<ike::TsRange>& ranges, const asio::ip::address& a) {
  for (const auto& r : ranges) {
    if (!ike::intersect(r, ike::TsRange::host(a)).empty())
      return true;
  }
  return false;
}

}  // namespace

GatewayDaemon::GatewayDaemon(asio::io_context& io, std::string config_path)
    : io_(io), config_path_(std::move(config_path)), timer_(io), signals_(io) {}

GatewayDaemon::~GatewayDaemon() = default;

void GatewayDaemon::log(ike::LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(level_))
    return;
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::fprintf(stderr, "%s traverse-control %s: %.*s\n", stamp, ike::to_string(level),
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

Expected<void, std::string> GatewayDaemon::start() {
  started_ = now();
  auto config = load_gateway_config(config_path_);
  if (!config)
    return unexpected(config.error());
  if (config->dataplane_api_socket.empty()) {
    return unexpected(config_path_ + ": dataplane.api_socket is required (the dataplane API)");
  }
  dataplane_ = std::make_unique<DataplaneIpsec>(config->dataplane_api_socket);
  manager_ = std::make_unique<ike::IkeSaManager>(*this, build_ike_settings(config->control));
  auto applied = apply(std::move(*config), true);
  if (!applied)
    return applied;

  udp_ = std::make_unique<transport::UdpTransport>(
      io_, [this](const ike::Endpoint& local, const ike::Endpoint& remote, ike::ByteView data) {
        manager_->on_datagram(local, remote, data);
      });
  std::vector<asio::ip::address> addresses;
  for (const Address& a : config_.control.listen)
    addresses.push_back(to_asio(a));
  if (addresses.empty()) {
    addresses.push_back(asio::ip::address_v4::any());
    addresses.push_back(asio::ip::address_v6::any());
  }
  for (const auto& a : addresses) {
    for (bool natt : {false, true}) {
      const uint16_t port = natt ? config_.control.natt_port : config_.control.ike_port;
      auto r = udp_->listen(a, port, natt);
      if (!r) {
        // An unconfigured IPv6 stack is no reason to refuse IPv4 service.
        if (config_.control.listen.empty() && a.is_v6()) {
          log(ike::LogLevel::warning, r.error());
          continue;
        }
        return r;
      }
    }
  }

  ctl_ = std::make_unique<ctl::ControlServer>(io_, config_.control.control_socket);
  register_commands();
  if (auto r = ctl_->start(); !r)
    return unexpected("control socket: " + r.error());

  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.add(SIGHUP);
  wait_signal();

  log(ike::LogLevel::info, "started: " + std::to_string(peers_.size()) + " connection(s), " +
                               std::to_string(pools_.size()) + " pool(s), control socket " +
                               config_.control.control_socket);
  service_dataplane();
  schedule_tick();
  return {};
}

Expected<void, std::string> GatewayDaemon::apply(GatewayConfig config, bool initial) {
  auto built = build_peer_configs(config);
  if (!built)
    return unexpected(config.origin + ": " + built.error());
  // Pools: keep the ones whose range did not change, so leases survive a reload.
  std::map<std::string, PoolRuntime> pools;
  for (const PoolSettings& p : config.pools) {
    auto old = pools_.find(p.name);
    if (old != pools_.end() && old->second.settings.addresses == p.addresses) {
      PoolRuntime kept{p, std::move(old->second.pool)};
      pools.emplace(p.name, std::move(kept));
    } else {
      pools.emplace(p.name,
                    PoolRuntime{p, std::make_unique<AddressPool>(
                                       p.name, p.addresses, std::chrono::seconds(p.lease_time_s))});
    }
  }
  pools_ = std::move(pools);
  peers_ = std::move(built->peers);
  level_ = to_ike(config.control.log_level);
  config_ = std::move(config);
  if (!initial)
    return {};
  for (const auto& peer : built->to_initiate) {
    // Leave from the first listen address, or let the kernel choose.
    asio::ip::address local = config_.control.listen.empty()
                                  ? asio::ip::address(asio::ip::address_v4::any())
                                  : to_asio(config_.control.listen.front());
    asio::post(io_, [this, peer, local] {
      manager_->initiate(peer, ike::Endpoint(local, config_.control.ike_port));
    });
  }
  return {};
}

void GatewayDaemon::send(const ike::Endpoint& local, const ike::Endpoint& remote,
                         ike::ByteView datagram) {
  if (udp_)
    udp_->send(local, remote, datagram);
}

std::vector<std::shared_ptr<const ike::PeerConfig>> GatewayDaemon::configs_for(
    const ike::Endpoint& local, const ike::Endpoint& remote) {
  (void)local;
  std::vector<std::shared_ptr<const ike::PeerConfig>> out;
  for (const auto& p : peers_) {
    if (p->remote_addresses.empty() || in_ranges(p->remote_addresses, remote.address())) {
      out.push_back(p);
    }
  }
  return out;
}

Expected<ike::AssignedConfig, std::string> GatewayDaemon::assign_config(
    const ike::PeerConfig& config, const std::string& peer, bool want_v4, bool want_v6) {
  // One address from each pool of a family the peer asked for (a dual-stack
  // client gets both); the attributes are those of the pools that leased.
  ike::AssignedConfig out;
  std::string why;
  for (const std::string& name : config.pools) {
    auto it = pools_.find(name);
    if (it == pools_.end()) {
      why += (why.empty() ? "" : "; ") + ("pool '" + name + "' does not exist");
      continue;
    }
    PoolRuntime& pool = it->second;
    const bool v4 = pool.settings.addresses.address.version == 4;
    if ((v4 && !want_v4) || (!v4 && !want_v6))
      continue;
    auto address = pool.pool->acquire(peer, now());
    if (!address) {
      why += (why.empty() ? "" : "; ") + address.error();
      continue;
    }
    out.addresses.push_back(to_asio(*address));
    for (const Address& d : pool.settings.dns)
      out.dns.push_back(to_asio(d));
    for (const std::string& domain : pool.settings.split_dns) {
      if (std::find(out.split_dns.begin(), out.split_dns.end(), domain) == out.split_dns.end())
        out.split_dns.push_back(domain);
    }
    for (const Cidr& c : pool.settings.split_include)
      out.split_include.push_back(to_range(c));
    log(ike::LogLevel::info,
        "leased " + address->to_string() + " from pool '" + name + "' to " + peer);
  }
  if (out.addresses.empty()) {
    return unexpected(why.empty() ? "no pool of the address family asked for" : why);
  }
  if (!why.empty())
    log(ike::LogLevel::warning, "partial lease for " + peer + ": " + why);
  return out;
}

void GatewayDaemon::release_config(const ike::PeerConfig& config, const std::string& peer) {
  for (const std::string& name : config.pools) {
    auto it = pools_.find(name);
    if (it != pools_.end())
      it->second.pool->release(peer, now());
  }
}

void GatewayDaemon::schedule_tick() {
  if (stopping_)
    return;
  timer_.expires_after(kTick);
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_)
      return;
    tick();
    schedule_tick();
  });
}

void GatewayDaemon::tick() {
  const ike::TimePoint t = now();
  service_dataplane();
  manager_->tick(t);
  for (auto& [name, pool] : pools_)
    pool.pool->expire(t);
  if (t >= next_counter_refresh_) {
    next_counter_refresh_ = t + kCounterRefresh;
    if (dataplane_->connected()) {
      // Also remembers how far each outbound sequence number got, for a
      // re-install after a dataplane restart.
      std::vector<uint64_t> ids;
      manager_->for_each([&](const ike::IkeSa& sa) { ids.push_back(sa.id()); });
      for (uint64_t id : ids) {
        if (ike::IkeSa* sa = manager_->find(id))
          sa->refresh_counters();
      }
    }
  }
  send_keepalives(t);
}

void GatewayDaemon::send_keepalives(ike::TimePoint t) {
  // RFC 3948 2.3: only the side behind a NAT keeps the mapping open.
  if (t < next_keepalive_ || config_.control.nat_keepalive_s == 0)
    return;
  next_keepalive_ = t + std::chrono::seconds(config_.control.nat_keepalive_s);
  manager_->for_each([&](const ike::IkeSa& sa) {
    if (sa.state() == ike::IkeState::established && sa.local_behind_nat()) {
      udp_->send_keepalive(sa.local(), sa.remote());
    }
  });
}

void GatewayDaemon::service_dataplane() {
  const ike::TimePoint t = now();
  if (!dataplane_->connected() && t >= next_dataplane_check_) {
    next_dataplane_check_ = t + kDataplaneRetry;
    bool restarted = false;
    if (dataplane_->ensure_connected(std::chrono::milliseconds(200), &restarted)) {
      if (!dataplane_seen_) {
        dataplane_seen_ = true;
        // Our own restart: SAs a previous traverse-control installed have no
        // IKE SA any more; their peers will reconnect.
        const std::size_t removed = dataplane_->remove_orphans();
        log(ike::LogLevel::info,
            "connected to the dataplane (pid " + std::to_string(dataplane_->dataplane_pid()) + ")" +
                (removed ? ", removed " + std::to_string(removed) + " orphaned SA(s)" : ""));
      } else {
        ++dataplane_restarts_;
        log(ike::LogLevel::warning, "dataplane restarted (pid " +
                                        std::to_string(dataplane_->dataplane_pid()) +
                                        "): re-installing every child SA");
        manager_->on_dataplane_restarted();
      }
    }
  }
  dataplane_->poll_events([this](const api::Event& e) { on_dataplane_event(e); });
}

void GatewayDaemon::on_dataplane_event(const api::Event& e) {
  const ike::SaKey sa{e.spi, e.direction == api::Direction::inbound, e.cookie};
  switch (e.type) {
    case api::EventType::lifetime_soft:
    case api::EventType::sequence_near_exhaustion:
      manager_->on_child_soft_lifetime(sa);
      break;
    case api::EventType::lifetime_hard:
      manager_->on_child_hard_lifetime(sa);
      break;
    case api::EventType::peer_address_changed: {
      asio::ip::address a;
      if (e.address.version == 4) {
        a = asio::ip::address_v4(asio::ip::address_v4::bytes_type{
            e.address.bytes[0], e.address.bytes[1], e.address.bytes[2], e.address.bytes[3]});
      } else {
        asio::ip::address_v6::bytes_type b{};
        std::copy(e.address.bytes, e.address.bytes + 16, b.begin());
        a = asio::ip::address_v6(b);
      }
      manager_->on_peer_address_changed(e.spi, ike::Endpoint(a, e.port));
      break;
    }
    case api::EventType::dataplane_restarted:
      manager_->on_dataplane_restarted();
      break;
    case api::EventType::path_mtu_changed:
      log(ike::LogLevel::info,
          "path MTU of SA " + std::to_string(e.spi) + " is now " + std::to_string(e.value));
      break;
    case api::EventType::idle:
      break;
  }
}

void GatewayDaemon::wait_signal() {
  signals_.async_wait([this](const asio::error_code& ec, int signal) {
    if (ec)
      return;
    if (signal == SIGHUP) {
      auto r = reload();
      log(r ? ike::LogLevel::info : ike::LogLevel::error,
          r ? "configuration reloaded" : "reload failed: " + r.error());
      wait_signal();
      return;
    }
    log(ike::LogLevel::info, "stopping on signal " + std::to_string(signal));
    stop();
  });
}

void GatewayDaemon::stop() {
  if (stopping_)
    return;
  stopping_ = true;
  if (manager_) {
    manager_->shutdown();
  }
  asio::error_code ignored;
  timer_.cancel();
  signals_.cancel(ignored);
  if (ctl_)
    ctl_->stop();
  // Let the delete requests leave, then end the loop.
  auto final_timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
  final_timer->async_wait([this, final_timer](const asio::error_code&) {
    udp_.reset();
    io_.stop();
  });
}

}  // namespace traverse::gateway
