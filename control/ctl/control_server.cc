#include "control/ctl/control_server.hh"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace traverse::ctl {
namespace {

using json = nlohmann::json;
using Socket = asio::local::stream_protocol::socket;

// The deepest [ / { nesting outside strings: refused before nlohmann parses
// (and later recursively prints or destroys) a hostile document.
std::size_t nesting_depth(std::string_view line) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Best effort, never blocking: a refused peer gets one line of explanation.
void send_and_close(Socket& socket, const std::string& line) {
  const std::string framed = line + "\n";
  [[maybe_unused]] ssize_t sent =
      ::send(socket.native_handle(), framed.data(), framed.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  asio::error_code ignored;
  socket.shutdown(Socket::shutdown_both, ignored);
  socket.close(ignored);
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

std::string to_wire(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One client connection: reads lines, answers one request at a time (the
// next line is read only after the reply is written, which bounds memory).
class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ControlServer& server, Socket socket) : server_(&server), socket_(std::move(socket)) {}

  void start() { read_more(); }
  // The server is going away: forget it and close.
  void detach() {
    server_ = nullptr;
    close();
  }

 private:
  void read_more() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](asio::error_code ec, std::size_t n) {
                              if (self->server_ == nullptr) {
                                return;
                              }
                              if (ec) {
                                self->close();  // EOF, possibly mid-line: nothing to answer
                                return;
                              }
                              self->pending_.append(self->chunk_.data(), n);
                              self->process();
                            });
  }

  void process() {
    const std::size_t limit = server_->limits_.max_line_bytes;
    const auto newline = pending_.find('\n');
    if (newline == std::string::npos || newline > limit) {
      if (pending_.size() > limit) {
        ++server_->counters_.oversized_lines;
        write(to_wire(server_->error_reply(
                  nullptr, "request line longer than " + std::to_string(limit) + " bytes")),
              true);
        return;
      }
      read_more();
      return;
    }
    std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      process();  // blank lines are keep-alives: no reply
      return;
    }
    write(server_->handle_line(line), false);
  }

  void write(std::string line, bool close_after) {
    auto buffer = std::make_shared<std::string>(std::move(line) + "\n");
    asio::async_write(
        socket_, asio::buffer(*buffer),
        [self = shared_from_this(), buffer, close_after](asio::error_code ec, std::size_t) {
          if (self->server_ == nullptr) {
            return;
          }
          if (ec || close_after) {
            self->close();
            return;
          }
          self->process();
        });
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    asio::error_code ignored;
    socket_.close(ignored);
    if (server_ != nullptr) {
      server_->session_closed(shared_from_this());
    }
  }

  ControlServer* server_;
  Socket socket_;
  std::array<char, 4096> chunk_{};
  std::string pending_;
  bool closed_ = false;
};

ControlServer::ControlServer(asio::io_context& io, std::string socket_path,
                             ControlServerLimits limits)
    : io_(io),
      path_(std::move(socket_path)),
      limits_(limits),
      allowed_uid_(geteuid()),
      acceptor_(io),
      alive_(std::make_shared<int>(0)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::register_command(std::string name, CommandHandler handler, std::string help) {
  commands_[std::move(name)] = Command{std::move(handler), std::move(help)};
}

Expected<void, std::string> ControlServer::start() {
  if (running_) {
    return unexpected(std::string("control socket already started"));
  }
  if (path_.empty() || path_.size() >= sizeof(sockaddr_un::sun_path)) {
    return unexpected("control socket path '" + path_ + "' must be 1.." +
                      std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " characters");
  }
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) {
    dir = ".";
  }
  struct stat dir_stat {};
  if (::stat(dir.c_str(), &dir_stat) != 0 || !S_ISDIR(dir_stat.st_mode)) {
    return unexpected("control socket directory '" + dir + "' does not exist");
  }
  if ((dir_stat.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    // Anyone who can write there could replace our socket with theirs.
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(dir_stat.st_mode & 07777));
    return unexpected("control socket directory '" + dir +
                      "' is writable by group or others (mode " + mode + "): refusing to create " +
                      path_ + " there");
  }
  struct stat existing {};
  if (::lstat(path_.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return unexpected(path_ + " exists and is not a socket: refusing to replace it");
    }
    // A socket nobody listens on is left over from a crash: replace it.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    const int connected =
        probe < 0 ? -1 : ::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    const int connect_errno = errno;
    if (probe >= 0) {
      ::close(probe);
    }
    if (connected == 0) {
      return unexpected(path_ + " is in use: another process is listening on it");
    }
    if (connect_errno != ECONNREFUSED) {
      return unexpected("cannot check the existing socket " + path_ + ": " +
                        std::strerror(connect_errno));
    }
    if (::unlink(path_.c_str()) != 0) {
      return unexpected("cannot remove the stale socket " + path_ + ": " + errno_text());
    }
  }
  asio::error_code ec;
  acceptor_.open(asio::local::stream_protocol(), ec);
  if (!ec) {
    // The umask makes bind create the file owner-only, with no window in
    // which others could connect; chmod below makes the mode explicit.
    const mode_t old_mask = ::umask(0177);
    acceptor_.bind(asio::local::stream_protocol::endpoint(path_), ec);
    ::umask(old_mask);
  }
  if (!ec && ::chmod(path_.c_str(), 0600) != 0) {
    ec = asio::error_code(errno, asio::system_category());
  }
  if (!ec) {
    acceptor_.listen(static_cast<int>(limits_.max_clients), ec);
  }
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return unexpected("cannot create the control socket " + path_ + ": " + ec.message());
  }
  struct stat created {};
  if (::lstat(path_.c_str(), &created) == 0) {
    socket_device_ = created.st_dev;
    socket_inode_ = created.st_ino;
  }
  running_ = true;
  accept_next();
  return {};
}

void ControlServer::stop() {
  if (!running_) {
    return;
  }
  running_ = false;
  asio::error_code ignored;
  acceptor_.close(ignored);
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (const auto& session : sessions) {
    session->detach();
  }
  struct stat current {};
  if (::lstat(path_.c_str(), &current) == 0 && current.st_dev == socket_device_ &&
      current.st_ino == socket_inode_) {
    ::unlink(path_.c_str());
  }
}

void ControlServer::accept_next() {
  acceptor_.async_accept(
      [this, alive = std::weak_ptr<int>(alive_)](asio::error_code ec, Socket socket) {
        if (alive.expired() || !running_) {
          return;
        }
        if (!ec) {
          on_accepted(std::move(socket));
        }
        accept_next();
      });
}

void ControlServer::on_accepted(Socket socket) {
  ucred peer{};
  socklen_t length = sizeof(peer);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
      (peer.uid != allowed_uid_ && peer.uid != 0)) {
    ++counters_.refused_peers;
    send_and_close(socket, to_wire(error_reply(nullptr, "permission denied")));
    return;
  }
  if (sessions_.size() >= limits_.max_clients) {
    ++counters_.refused_clients;
    send_and_close(socket,
                   to_wire(error_reply(nullptr, "too many clients (limit " +
                                                    std::to_string(limits_.max_clients) + ")")));
    return;
  }
  ++counters_.connections;
  auto session = std::make_shared<Session>(*this, std::move(socket));
  sessions_.insert(session);
  session->start();
}

void ControlServer::session_closed(const std::shared_ptr<Session>& session) {
  sessions_.erase(session);
}

json ControlServer::error_reply(const json& id, const std::string& message) {
  ++counters_.errors;
  return json{{"id", id}, {"ok", false}, {"error", message}};
}

std::string ControlServer::handle_line(std::string_view line) {
  ++counters_.requests;
  if (line.size() > limits_.max_line_bytes) {
    ++counters_.oversized_lines;
    return to_wire(error_reply(
        nullptr, "request line longer than " + std::to_string(limits_.max_line_bytes) + " bytes"));
  }
  if (nesting_depth(line) > limits_.max_json_depth) {
    ++counters_.bad_requests;
    return to_wire(error_reply(
        nullptr, "request nested more than " + std::to_string(limits_.max_json_depth) + " levels"));
  }
  json request = json::parse(line, nullptr, false);
  if (request.is_discarded()) {
    ++counters_.bad_requests;
    return to_wire(error_reply(nullptr, "not valid JSON"));
  }
  if (!request.is_object()) {
    ++counters_.bad_requests;
    return to_wire(
        error_reply(nullptr, R"(expected an object {"id": N, "cmd": "name", "args": {}})"));
  }
  const json id = request.contains("id") ? request["id"] : json(nullptr);
  const auto cmd = request.find("cmd");
  if (cmd == request.end() || !cmd->is_string()) {
    ++counters_.bad_requests;
    return to_wire(error_reply(id, "\"cmd\" must be a string naming a command (try help)"));
  }
  json args = request.contains("args") ? request["args"] : json::object();
  if (args.is_null()) {
    args = json::object();
  }
  if (!args.is_object()) {
    ++counters_.bad_requests;
    return to_wire(error_reply(id, "\"args\" must be an object"));
  }
  const std::string name = cmd->get<std::string>();
  if (name == "help") {
    json list = json::array();
    list.push_back({{"name", "help"}, {"help", "list the commands"}});
    for (const auto& [command, entry] : commands_) {
      list.push_back({{"name", command}, {"help", entry.help}});
    }
    return to_wire(json{{"id", id}, {"ok", true}, {"result", {{"commands", list}}}});
  }
  const auto found = commands_.find(name);
  if (found == commands_.end()) {
    ++counters_.unknown_commands;
    return to_wire(error_reply(id, "unknown command '" + name + "' (try help)"));
  }
  try {
    auto result = found->second.handler(args);
    if (!result) {
      ++counters_.handler_failures;
      return to_wire(error_reply(id, result.error()));
    }
    return to_wire(json{{"id", id}, {"ok", true}, {"result", std::move(*result)}});
  } catch (const std::exception& e) {
    // A handler tripping over unexpected args (a JSON type error) must not
    // take the daemon down.
    ++counters_.handler_failures;
    return to_wire(error_reply(id, name + ": " + e.what()));
  }
}

json ControlServer::counters_json() const {
  return json{{"control.connections", counters_.connections},
              {"control.refused_clients", counters_.refused_clients},
              {"control.refused_peers", counters_.refused_peers},
              {"control.requests", counters_.requests},
              {"control.errors", counters_.errors},
              {"control.bad_requests", counters_.bad_requests},
              {"control.unknown_commands", counters_.unknown_commands},
              {"control.oversized_lines", counters_.oversized_lines},
              {"control.handler_failures", counters_.handler_failures}};
}

}  // namespace traverse::ctl
