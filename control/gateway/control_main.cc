// traverse-control: the IKEv2 control plane of the gateway.
//   traverse-control --config FILE [--check]
// Exits non-zero with the reason if the configuration or a socket fails.
#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <cstdio>

#include "control/gateway/gateway_config.hh"
#include "control/gateway/gateway_daemon.hh"
#include "control/gateway/peer_config_builder.hh"

int main(int argc, char** argv) {
  CLI::App app{"traverse-control: the Traverse IKEv2 gateway daemon"};
  std::string config_path;
  bool check_only = false;
  app.add_option("--config", config_path, "gateway.toml")->required();
  app.add_flag("--check", check_only, "validate the configuration and exit");
  CLI11_PARSE(app, argc, argv);

  if (check_only) {
    auto config = traverse::gateway::load_gateway_config(config_path);
    if (!config) {
      std::fprintf(stderr, "%s\n", config.error().c_str());
      return 1;
    }
    auto peers = traverse::gateway::build_peer_configs(*config);
    if (!peers) {
      std::fprintf(stderr, "%s: %s\n", config_path.c_str(), peers.error().c_str());
      return 1;
    }
    std::printf("%s: ok (%zu connection(s))\n", config_path.c_str(), peers->peers.size());
    return 0;
  }

  asio::io_context io;
  traverse::gateway::GatewayDaemon daemon(io, config_path);
  if (auto started = daemon.start(); !started) {
    std::fprintf(stderr, "traverse-control: %s\n", started.error().c_str());
    return 1;
  }
  io.run();
  return 0;
}
