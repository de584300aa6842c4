// traverse-control's gateway: reads gateway.toml, binds IKE on UDP 500 and
// the NAT-T port, runs the IKE SA manager, installs child SAs in
// traverse-dataplane through its API, leases Office Mode addresses and serves
// the control socket. Everything runs on one Asio io_context thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/ctl/control_server.hh"
#include "control/gateway/address_pool.hh"
#include "control/gateway/dataplane_ipsec.hh"
#include "control/gateway/gateway_config.hh"
#include "control/ike/sa/ike_host.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/transport/udp_transport.hh"

namespace traverse::gateway {

class GatewayDaemon final : public ike::IkeHost {
 public:
  GatewayDaemon(asio::io_context& io, std::string config_path);
  ~GatewayDaemon() override;

  // Loads the configuration and starts everything; the error says what failed.
  Expected<void, std::string> start();
  // Deletes every IKE SA (best effort), removes their SAs from the dataplane
  // and stops the io_context's work.
  void stop();

  // IkeHost
  void send(const ike::Endpoint& local, const ike::Endpoint& remote,
            ike::ByteView datagram) override;
  ike::IpsecBackend& ipsec() override { return *dataplane_; }
  std::vector<std::shared_ptr<const ike::PeerConfig>> configs_for(
      const ike::Endpoint& local, const ike::Endpoint& remote) override;
  Expected<ike::AssignedConfig, std::string> assign_config(const ike::PeerConfig& config,
                                                           const std::string& peer, bool want_v4,
                                                           bool want_v6) override;
  void release_config(const ike::PeerConfig& config, const std::string& peer) override;
  void log(ike::LogLevel level, std::string_view message) override;

 private:
  struct PoolRuntime {
    PoolSettings settings;
    std::unique_ptr<AddressPool> pool;
  };

  Expected<void, std::string> apply(GatewayConfig config, bool initial);
  void schedule_tick();
  void wait_signal();
  void tick();
  void service_dataplane();
  void on_dataplane_event(const api::Event& event);
  void send_keepalives(ike::TimePoint now);
  void register_commands();
  Expected<nlohmann::json, std::string> reload();
  nlohmann::json status_json() const;
  nlohmann::json list_sas_json();
  nlohmann::json pools_json() const;
  nlohmann::json leases_json() const;
  nlohmann::json counters_json() const;

  asio::io_context& io_;
  std::string config_path_;
  GatewayConfig config_;
  std::vector<std::shared_ptr<const ike::PeerConfig>> peers_;
  std::map<std::string, PoolRuntime> pools_;
  std::unique_ptr<DataplaneIpsec> dataplane_;
  std::unique_ptr<ike::IkeSaManager> manager_;
  std::unique_ptr<transport::UdpTransport> udp_;
  std::unique_ptr<ctl::ControlServer> ctl_;
  asio::steady_timer timer_;
  asio::signal_set signals_;
  ike::LogLevel level_ = ike::LogLevel::info;
  ike::TimePoint started_;
  ike::TimePoint next_dataplane_check_{};
  ike::TimePoint next_counter_refresh_{};
  ike::TimePoint next_keepalive_{};
  bool dataplane_seen_ = false;
  bool stopping_ = false;
  uint64_t dataplane_restarts_ = 0;
};

}  // namespace traverse::gateway
