// The control socket: a unix stream socket speaking JSON lines, one request
// {"id": N, "cmd": "name", "args": {...}} per line, one response per request.
// Owner-only (0600), peers checked with SO_PEERCRED; bad input gets an error
// reply or a closed connection, never a crash. Runs on the caller's
// io_context and is not thread-safe: use it from that context's thread only.
#pragma once

#include <sys/types.h>

// Standard headers come before Asio on purpose: Asio picks aligned_alloc or
// operator new by libstdc++'s macros, and every translation unit must agree
// (ASan reports the mismatch otherwise).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

// Asio's scheduler trips GCC 12's -Wnull-dereference (a false positive in
// its thread-info lookup); silence it for Asio's code only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <asio.hpp>
#pragma GCC diagnostic pop

#include <nlohmann/json.hpp>

#include "control/ike/result.hh"

namespace traverse::ctl {

using CommandHandler = std::function<Expected<nlohmann::json, std::string>(const nlohmann::json&)>;

struct ControlServerLimits {
  std::size_t max_line_bytes = 64 * 1024;
  std::size_t max_clients = 16;
  std::size_t max_json_depth = 64;  // nesting beyond this is refused before parsing
};

struct ControlServerCounters {
  uint64_t connections = 0;      // accepted and served
  uint64_t refused_clients = 0;  // over max_clients
  uint64_t refused_peers = 0;    // SO_PEERCRED uid not allowed
  uint64_t requests = 0;         // lines received
  uint64_t errors = 0;           // error responses of any kind
  uint64_t bad_requests = 0;     // not JSON, or not a request object
  uint64_t unknown_commands = 0;
  uint64_t oversized_lines = 0;
  uint64_t handler_failures = 0;  // a handler returned an error or threw
};

class ControlServer {
 public:
  ControlServer(asio::io_context& io, std::string socket_path, ControlServerLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Registers (or replaces) a command; help is one line for the built-in "help".
  void register_command(std::string name, CommandHandler handler, std::string help = "");

  // Creates the socket and starts accepting. Refuses a path that exists and is
  // not a stale socket, and a directory writable by group or others.
  Expected<void, std::string> start();
  // Closes the socket and every connection, and removes the socket file.
  void stop();

  const ControlServerCounters& counters() const { return counters_; }
  nlohmann::json counters_json() const;
  std::size_t client_count() const { return sessions_.size(); }
  const std::string& socket_path() const { return path_; }
  // Peers with this uid (and root) may connect; defaults to our effective uid.
  void set_allowed_uid(uid_t uid) { allowed_uid_ = uid; }

  // One request line in, one response line out (without the newline). Public
  // so the protocol can be tested without a socket.
  std::string handle_line(std::string_view line);

 private:
  class Session;
  friend class Session;

  void accept_next();
  void on_accepted(asio::local::stream_protocol::socket socket);
  void session_closed(const std::shared_ptr<Session>& session);
  nlohmann::json error_reply(const nlohmann::json& id, const std::string& message);

  struct Command {
    CommandHandler handler;
    std::string help;
  };

  asio::io_context& io_;
  std::string path_;
  ControlServerLimits limits_;
  uid_t allowed_uid_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::map<std::string, Command> commands_;
  std::set<std::shared_ptr<Session>> sessions_;
  ControlServerCounters counters_;
  std::shared_ptr<int> alive_;  // pending accept handlers check it after we are gone
  bool running_ = false;
  dev_t socket_device_ = 0;  // to remove only the file we created
  ino_t socket_inode_ = 0;
};

// Serializes for the wire: invalid UTF-8 is replaced, never thrown about.
std::string to_wire(const nlohmann::json& value);

}  // namespace traverse::ctl
