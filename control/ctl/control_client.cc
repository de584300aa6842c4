#include "control/ctl/control_client.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace traverse::ctl {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxResponseBytes = 64 * 1024 * 1024;

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

CallError error(CallError::Kind kind, std::string message) {
  return {kind, std::move(message)};
}

// Waits until fd is ready for events or the deadline passes.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left));
    if (ready > 0) {
      return true;
    }
    if (ready < 0 && errno != EINTR) {
      return false;
    }
  }
}

}  // namespace

Expected<json, CallError> call_control(const std::string& socket_path, const std::string& command,
                                       const json& args, std::chrono::milliseconds timeout) {
  using Kind = CallError::Kind;
  const auto deadline = Clock::now() + timeout;
  sockaddr_un address{};
  if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path)) {
    return unexpected(error(Kind::cannot_connect, "bad socket path '" + socket_path + "'"));
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return unexpected(error(Kind::cannot_connect,
                            "cannot connect to " + socket_path + ": " + std::strerror(errno)));
  }
  const json request = {{"id", 1}, {"cmd", command}, {"args", args}};
  const std::string line = request.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  // A server turning us away answers and closes before reading our request:
  // a failed send still leaves its answer to read.
  std::string send_failure;
  for (std::size_t sent = 0; sent < line.size() && send_failure.empty();) {
    if (!wait_for(fd.get(), POLLOUT, deadline)) {
      return unexpected(error(Kind::protocol, "timed out sending to " + socket_path));
    }
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      send_failure = "cannot send to " + socket_path + ": " + std::strerror(errno);
    }
    sent += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  std::string reply;
  std::size_t newline = std::string::npos;
  while ((newline = reply.find('\n')) == std::string::npos) {
    if (reply.size() > kMaxResponseBytes) {
      return unexpected(error(Kind::protocol, "response larger than 64 MiB"));
    }
    if (!wait_for(fd.get(), POLLIN, deadline)) {
      return unexpected(error(Kind::protocol, "timed out waiting for " + socket_path));
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd.get(), chunk, sizeof(chunk), 0);
    if (n == 0) {
      return unexpected(error(Kind::protocol, send_failure.empty()
                                                  ? "the gateway closed the connection"
                                                  : send_failure));
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      if (!send_failure.empty()) {
        return unexpected(error(Kind::protocol, send_failure));
      }
      return unexpected(
          error(Kind::protocol, std::string("receive failed: ") + std::strerror(errno)));
    }
    reply.append(chunk, static_cast<std::size_t>(n));
  }
  const json response = json::parse(reply.substr(0, newline), nullptr, false);
  if (response.is_discarded() || !response.is_object() || !response.contains("ok") ||
      !response["ok"].is_boolean()) {
    return unexpected(error(Kind::protocol, "the reply is not a control response"));
  }
  std::string message = "unknown error";
  if (response.contains("error") && response["error"].is_string()) {
    message = response["error"].get<std::string>();
  }
  if (!response.contains("id") || response["id"] != 1) {
    // The server answers requests it could not attribute with id null, for
    // example when it turns a connection away.
    return unexpected(error(response["ok"].get<bool>() ? Kind::protocol : Kind::cannot_connect,
                            "the gateway refused the connection: " + message));
  }
  if (!response["ok"].get<bool>()) {
    return unexpected(error(Kind::gateway, message));
  }
  return response.contains("result") ? response["result"] : json(nullptr);
}

}  // namespace traverse::ctl
