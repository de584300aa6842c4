// A blocking client for the control socket: one request, one response. Used
// by traversectl and by tests. Thread-safe (no shared state; one socket per
// call).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "control/ike/result.hh"

namespace traverse::ctl {

struct CallError {
  enum class Kind {
    cannot_connect,  // no socket, refused, or the server turned us away
    protocol,        // the connection broke or the reply was not a response
    gateway,         // the gateway answered {"ok": false, "error": ...}
  };
  Kind kind;
  std::string message;
};

Expected<nlohmann::json, CallError> call_control(
    const std::string& socket_path, const std::string& command, const nlohmann::json& args,
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace traverse::ctl
