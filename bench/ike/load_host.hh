// The load generator's IkeHost: datagrams go out through a UdpTransport bound
// to many source ports, child SAs go to a backend that only counts them (the
// generator measures the responder, not ESP), logs below a threshold are
// dropped. Single-threaded: everything runs on the generator's io_context.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/ike/sa/ike_host.hh"
#include "control/transport/udp_transport.hh"

namespace traverse::bench {

// Accepts every install and removal; keeps counts only.
class CountingIpsec final : public ike::IpsecBackend {
 public:
  Expected<void, std::string> add_sa(const ike::ChildSaInstall& sa) override;
  Expected<void, std::string> update_sa(const ike::SaKey& sa, const ike::Endpoint& local,
                                        const ike::Endpoint& remote, bool udp_encap) override;
  Expected<void, std::string> delete_sa(const ike::SaKey& sa) override;
  Expected<void, std::string> add_policy(const ike::TsRange& selector,
                                         const ike::SaKey& sa) override;
  Expected<void, std::string> delete_policy(const ike::TsRange& selector,
                                            const ike::SaKey& sa) override;
  std::optional<ike::ChildSaCounters> counters(const ike::SaKey& sa) override;
  bool connected() const override { return true; }

  uint64_t installed() const { return installed_; }
  uint64_t removed() const { return removed_; }

 private:
  uint64_t installed_ = 0;
  uint64_t removed_ = 0;
};

class LoadHost final : public ike::IkeHost {
 public:
  LoadHost(transport::UdpTransport& udp, ike::LogLevel threshold)
      : udp_(udp), threshold_(threshold) {}

  void send(const ike::Endpoint& local, const ike::Endpoint& remote,
            ike::ByteView datagram) override {
    udp_.send(local, remote, datagram);
  }
  ike::IpsecBackend& ipsec() override { return ipsec_; }
  // The generator only initiates: nothing may connect to it.
  std::vector<std::shared_ptr<const ike::PeerConfig>> configs_for(
      const ike::Endpoint& local, const ike::Endpoint& remote) override;
  Expected<ike::AssignedConfig, std::string> assign_config(const ike::PeerConfig& config,
                                                           const std::string& peer, bool want_v4,
                                                           bool want_v6) override;
  void release_config(const ike::PeerConfig& config, const std::string& peer) override;
  void log(ike::LogLevel level, std::string_view message) override;

  const CountingIpsec& counting_ipsec() const { return ipsec_; }
  // The last few error/warning lines, to explain failures in the report.
  const std::vector<std::string>& recent_problems() const { return recent_; }

 private:
  transport::UdpTransport& udp_;
  ike::LogLevel threshold_;
  CountingIpsec ipsec_;
  std::vector<std::string> recent_;
};

}  // namespace traverse::bench
