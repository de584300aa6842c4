// traversectl: the command-line client of traverse-control's control socket.
// Exit codes: 0 ok, 1 the gateway answered with an error, 2 cannot connect
// (or the conversation broke); CLI11's own codes for usage errors.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <optional>

#include "control/ctl/control_client.hh"
#include "control/ctl/ctl_format.hh"

namespace {

using json = nlohmann::json;

constexpr int kExitGatewayError = 1;
constexpr int kExitCannotConnect = 2;

// Exactly one of the selector options must be set.
struct SaSelector {
  std::optional<uint64_t> ike;
  std::optional<uint64_t> child;
  std::optional<std::string> peer;
};

void add_selector(CLI::App* command, SaSelector* selector, bool with_peer) {
  auto* ike = command->add_option("--ike", selector->ike, "IKE SA id");
  auto* child = command->add_option("--child", selector->child, "child SA id");
  ike->excludes(child);
  if (with_peer) {
    auto* peer = command->add_option("--peer", selector->peer, "every SA of this identity");
    peer->excludes(ike)->excludes(child);
  }
  command->require_option(1);
}

json selector_args(const SaSelector& selector) {
  if (selector.ike) {
    return {{"ike", *selector.ike}};
  }
  if (selector.child) {
    return {{"child", *selector.child}};
  }
  return {{"peer", selector.peer.value_or("")}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"traversectl: query and control the Traverse IKEv2 gateway (traverse-control)"};
  std::string socket_path = "/run/traverse/control.sock";
  bool as_json = false;
  unsigned timeout_s = 30;
  app.add_option("--socket", socket_path, "control socket of traverse-control")
      ->capture_default_str();
  app.add_flag("--json", as_json, "print the result as JSON (for scripts)");
  app.add_option("--timeout", timeout_s, "seconds to wait for the gateway")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command too

  std::string command;
  json args = json::object();
  auto simple = [&](const char* name, const char* description) {
    app.add_subcommand(name, description)->callback([&command, name] { command = name; });
  };
  simple("status", "gateway summary: version, uptime, SA counts, dataplane");
  simple("list-sas", "IKE SAs and their child SAs");
  simple("pools", "Office Mode pools and their use");
  simple("leases", "Office Mode leases");
  simple("counters", "every named counter");
  simple("reload", "re-read the configuration file and apply it");

  std::string connection;
  auto* initiate = app.add_subcommand("initiate", "start a configured connection");
  initiate->add_option("NAME", connection, "connection name")->required();
  initiate->callback([&] {
    command = "initiate";
    args = {{"name", connection}};
  });

  SaSelector terminate_selector;
  auto* terminate = app.add_subcommand("terminate", "delete SAs");
  add_selector(terminate, &terminate_selector, true);
  terminate->callback([&] {
    command = "terminate";
    args = selector_args(terminate_selector);
  });

  SaSelector rekey_selector;
  auto* rekey = app.add_subcommand("rekey", "rekey an IKE SA or a child SA");
  add_selector(rekey, &rekey_selector, false);
  rekey->callback([&] {
    command = "rekey";
    args = selector_args(rekey_selector);
  });

  std::string level;
  auto* log_level = app.add_subcommand("log-level", "change the log level");
  log_level->add_option("LEVEL", level, "error | warning | info | debug")
      ->required()
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}));
  log_level->callback([&] {
    command = "log-level";
    args = {{"level", level}};
  });

  std::string raw_command;
  std::string raw_args;
  auto* call = app.add_subcommand("call", "send any command, with a JSON object of arguments");
  call->add_option("CMD", raw_command, "command name (\"help\" lists them)")->required();
  call->add_option("JSON-ARGS", raw_args, "arguments, e.g. '{\"name\": \"rw\"}'");
  call->callback([&] { command = raw_command; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!raw_args.empty()) {
    args = json::parse(raw_args, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
      std::cerr << "traversectl: JSON-ARGS must be a JSON object, e.g. '{\"name\": \"rw\"}'\n";
      return static_cast<int>(CLI::ExitCodes::ValidationError);
    }
  }

  auto result =
      traverse::ctl::call_control(socket_path, command, args, std::chrono::seconds(timeout_s));
  if (!result) {
    const auto& error = result.error();
    std::cerr << "traversectl: " << error.message << "\n";
    return error.kind == traverse::ctl::CallError::Kind::gateway ? kExitGatewayError
                                                                 : kExitCannotConnect;
  }
  if (as_json) {
    std::cout << result->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << traverse::ctl::format_result(command, *result);
  }
  return 0;
}
