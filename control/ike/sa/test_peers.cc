#include "control/ike/sa/test_peers.hh"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace traverse::ike::testing {

// The clock starts well away from the epoch: the state machine uses
// TimePoint{} to mean "not set".
FakeNetwork::FakeNetwork() : now_(TimePoint{} + std::chrono::hours(24)) {}

void FakeNetwork::attach(const asio::ip::address& address, IkeSaManager* manager) {
  managers_[address] = manager;
}

void FakeNetwork::blackhole(const asio::ip::address& to, bool lost) {
  blackholed_[to] = lost;
}

void FakeNetwork::nat(const asio::ip::address& inside, const asio::ip::address& outside) {
  nat_inside_ = inside;
  nat_outside_ = outside;
}

void FakeNetwork::send(const Endpoint& from, const Endpoint& to, ByteView data) {
  Datagram d{from, to, Bytes(data.begin(), data.end())};
  if (nat_inside_ && from.address() == *nat_inside_) {
    auto [it, fresh] = nat_out_.try_emplace(from, nat_next_port_);
    if (fresh) {
      nat_in_[nat_next_port_] = from;
      ++nat_next_port_;
    }
    d.from = Endpoint(*nat_outside_, it->second);
  }
  history_.push_back(d);
  auto hole = blackholed_.find(to.address());
  if (drop_next_ > 0 || (hole != blackholed_.end() && hole->second)) {
    if (drop_next_ > 0)
      --drop_next_;
    ++dropped_;
    return;
  }
  if (duplicate_next_ > 0) {
    --duplicate_next_;
    in_flight_.push_back(d);
  }
  in_flight_.push_back(std::move(d));
}

bool FakeNetwork::deliver_one() {
  if (in_flight_.empty())
    return false;
  Datagram d = std::move(in_flight_.front());
  in_flight_.pop_front();
  if (nat_outside_ && d.to.address() == *nat_outside_) {
    auto mapping = nat_in_.find(d.to.port());
    if (mapping == nat_in_.end())
      return true;  // no mapping: the NAT drops it
    d.to = mapping->second;
  }
  auto it = managers_.find(d.to.address());
  if (it != managers_.end() && it->second != nullptr)
    it->second->on_datagram(d.to, d.from, d.data);
  if (after_delivery)
    after_delivery();
  return true;
}

std::size_t FakeNetwork::deliver_all(std::size_t limit) {
  std::size_t n = 0;
  while (n < limit && deliver_one())
    ++n;
  return n;
}

void FakeNetwork::swap_first_two() {
  if (in_flight_.size() >= 2)
    std::swap(in_flight_[0], in_flight_[1]);
}

Expected<void, std::string> FakeBackend::add_sa(const ChildSaInstall& sa) {
  if (refuse_adds)
    return unexpected(std::string("refused by the test"));
  ++adds;
  const SaKey key = stored(sa.key());
  if (sas_.count(key) != 0)
    ++bad_calls;
  InstalledSa& entry = sas_[key];
  entry.spi = sa.spi;
  entry.inbound = sa.inbound;
  entry.encr_id = sa.encr_id;
  entry.key_bits = sa.key_bits;
  entry.integ_id = sa.integ_id;
  entry.esn = sa.esn;
  entry.udp_encap = sa.udp_encap;
  entry.encr_key.assign(sa.encr_key.view().begin(), sa.encr_key.view().end());
  entry.integ_key.assign(sa.integ_key.view().begin(), sa.integ_key.view().end());
  entry.local = sa.local;
  entry.remote = sa.remote;
  entry.cookie = sa.cookie;
  entry.first_sequence = sa.first_sequence;
  return {};
}

Expected<void, std::string> FakeBackend::update_sa(const SaKey& sa, const Endpoint& local,
                                                   const Endpoint& remote, bool udp_encap) {
  auto it = sas_.find(stored(sa));
  if (it == sas_.end()) {
    ++bad_calls;
    return unexpected(std::string("no such SA"));
  }
  it->second.local = local;
  it->second.remote = remote;
  it->second.udp_encap = udp_encap;
  return {};
}

Expected<void, std::string> FakeBackend::delete_sa(const SaKey& sa) {
  ++deletes;
  if (sas_.erase(stored(sa)) == 0) {
    ++bad_calls;
    return unexpected(std::string("no such SA"));
  }
  return {};
}

Expected<void, std::string> FakeBackend::add_policy(const TsRange& selector, const SaKey& sa) {
  if (sa.inbound || sas_.count(stored(sa)) == 0)
    ++bad_calls;
  policies_.push_back({selector, sa});
  return {};
}

Expected<void, std::string> FakeBackend::delete_policy(const TsRange& selector, const SaKey& sa) {
  auto it = std::find(policies_.begin(), policies_.end(), InstalledPolicy{selector, sa});
  if (it == policies_.end()) {
    ++bad_calls;
    return unexpected(std::string("no such policy"));
  }
  policies_.erase(it);
  return {};
}

std::optional<ChildSaCounters> FakeBackend::counters(const SaKey& sa) {
  if (sas_.count(stored(sa)) == 0)
    return std::nullopt;
  return ChildSaCounters{};
}

const InstalledSa* FakeBackend::find(uint32_t spi, bool inbound) const {
  for (const auto& [key, sa] : sas_) {
    if (key.spi == spi && key.inbound == inbound)
      return &sa;
  }
  return nullptr;
}

FakeHost::FakeHost(FakeNetwork& network, std::string name)
    : network_(network), name_(std::move(name)) {}

void FakeHost::send(const Endpoint& local, const Endpoint& remote, ByteView datagram) {
  network_.send(local, remote, datagram);
}

std::vector<std::shared_ptr<const PeerConfig>> FakeHost::configs_for(const Endpoint& local,
                                                                     const Endpoint& remote) {
  (void)local;
  (void)remote;
  return configs;
}

Expected<AssignedConfig, std::string> FakeHost::assign_config(const PeerConfig& config,
                                                              const std::string& peer, bool want_v4,
                                                              bool want_v6) {
  (void)config;
  (void)want_v6;
  if (!want_v4 || office_mode.addresses.empty())
    return unexpected(std::string("pool exhausted"));
  if (leases.count(peer) != 0)
    return unexpected(std::string("peer already holds a lease"));
  leases[peer] = office_mode.addresses.front();
  return office_mode;
}

void FakeHost::release_config(const PeerConfig& config, const std::string& peer) {
  (void)config;
  ++releases;
  leases.erase(peer);
}

void FakeHost::log(LogLevel level, std::string_view message) {
  log_lines.emplace_back(message);
  if (std::getenv("IKE_SA_TEST_LOG") != nullptr) {
    std::fprintf(stderr, "[%s %d] %.*s\n", name_.c_str(), static_cast<int>(level),
                 static_cast<int>(message.size()), message.data());
  }
}

Bytes FakeHost::make_nonce(std::size_t size) {
  if (nonces.empty())
    return IkeHost::make_nonce(size);
  Bytes next = std::move(nonces.front());
  nonces.pop_front();
  return next;
}

uint32_t FakeHost::make_child_spi() {
  if (child_spis.empty())
    return IkeHost::make_child_spi();
  const uint32_t next = child_spis.front();
  child_spis.pop_front();
  return next;
}

bool FakeHost::logged(std::string_view text) const {
  return std::any_of(log_lines.begin(), log_lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

}  // namespace traverse::ike::testing
