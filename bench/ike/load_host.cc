#include "bench/ike/load_host.hh"

#include <cstdio>

namespace traverse::bench {
namespace {

constexpr std::size_t kRecentProblems = 20;

}  // namespace

Expected<void, std::string> CountingIpsec::add_sa(const ike::ChildSaInstall& sa) {
  (void)sa;
  ++installed_;
  return {};
}

Expected<void, std::string> CountingIpsec::update_sa(const ike::SaKey& sa,
                                                     const ike::Endpoint& local,
                                                     const ike::Endpoint& remote, bool udp_encap) {
  (void)sa, (void)local, (void)remote, (void)udp_encap;
  return {};
}

Expected<void, std::string> CountingIpsec::delete_sa(const ike::SaKey& sa) {
  (void)sa;
  ++removed_;
  return {};
}

Expected<void, std::string> CountingIpsec::add_policy(const ike::TsRange& selector,
                                                      const ike::SaKey& sa) {
  (void)selector, (void)sa;
  return {};
}

Expected<void, std::string> CountingIpsec::delete_policy(const ike::TsRange& selector,
                                                         const ike::SaKey& sa) {
  (void)selector, (void)sa;
  return {};
}

std::optional<ike::ChildSaCounters> CountingIpsec::counters(const ike::SaKey& sa) {
  (void)sa;
  return ike::ChildSaCounters{};
}

std::vector<std::shared_ptr<const ike::PeerConfig>> LoadHost::configs_for(
    const ike::Endpoint& local, const ike::Endpoint& remote) {
  (void)local, (void)remote;
  return {};
}

Expected<ike::AssignedConfig, std::string> LoadHost::assign_config(const ike::PeerConfig& config,
                                                                   const std::string& peer,
                                                                   bool want_v4, bool want_v6) {
  (void)config, (void)peer, (void)want_v4, (void)want_v6;
  return unexpected(std::string("the load generator assigns no addresses"));
}

void LoadHost::release_config(const ike::PeerConfig& config, const std::string& peer) {
  (void)config, (void)peer;
}

void LoadHost::log(ike::LogLevel level, std::string_view message) {
  if (level <= ike::LogLevel::warning) {
    if (recent_.size() == kRecentProblems)
      recent_.erase(recent_.begin());
    recent_.emplace_back(message);
  }
  if (static_cast<int>(level) > static_cast<int>(threshold_))
    return;
  std::fprintf(stderr, "ike-load %s: %.*s\n", ike::to_string(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace traverse::bench
