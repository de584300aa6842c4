// Turns gateway.toml's connections into the IKE state machine's PeerConfigs:
// identities parsed, credentials and trust anchors loaded, proposals and
// selectors converted. Runs at start-up and on reload; errors name the
// connection and what failed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "control/gateway/gateway_config.hh"
#include "control/ike/result.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::gateway {

struct BuiltPeers {
  std::vector<std::shared_ptr<const ike::PeerConfig>> peers;  // config order
  std::vector<std::shared_ptr<const ike::PeerConfig>> to_initiate;
};

Expected<BuiltPeers, std::string> build_peer_configs(const GatewayConfig& config);

ike::IkeSettings build_ike_settings(const ControlSettings& control);

asio::ip::address to_asio(const Address& address);
ike::TsRange to_range(const Cidr& cidr);

}  // namespace traverse::gateway
