// Test support for the control socket: a ControlServer with canned commands
// running on its own thread in a fresh 0700 temp directory, and a raw client
// for hostile input. The server is only touched from its io thread (via
// on_io); the raw client is for the test's thread.
#pragma once

#include <future>
#include <optional>
#include <string>
#include <thread>

#include "control/ctl/control_server.hh"

namespace traverse::ctl::testing {

class TestServer {
 public:
  explicit TestServer(ControlServerLimits limits = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Starts the server and its thread; returns start()'s error text, if any.
  std::string start();
  const std::string& dir() const { return dir_; }
  const std::string& path() const { return path_; }
  ControlServer& server() { return server_; }

  // Runs f on the io thread and waits for its result.
  template <typename F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  void register_canned_commands();

  std::string dir_;
  std::string path_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  ControlServer server_;
  std::thread thread_;
};

// A blocking unix socket client that sends raw bytes and reads lines.
class RawClient {
 public:
  explicit RawClient(const std::string& path);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // The next line without its newline; nullopt on EOF or after timeout_ms.
  std::optional<std::string> read_line(int timeout_ms = 5000);
  // True when the server closed the connection (EOF) within timeout_ms.
  bool closed_by_peer(int timeout_ms = 5000);
  void close();

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace traverse::ctl::testing
