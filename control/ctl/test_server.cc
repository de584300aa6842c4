#include "control/ctl/test_server.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace traverse::ctl::testing {
namespace {

using json = nlohmann::json;

std::string make_temp_dir() {
  char pattern[] = "/tmp/traverse-ctl-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  return pattern;
}

json canned_sas() {
  json child = {{"id", 7},
                {"name", "rw"},
                {"state", "installed"},
                {"spi_in", "c1a2b3c4"},
                {"spi_out", "0badcafe"},
                {"algorithms", "aes128gcm16"},
                {"encap", "udp"},
                {"local_ts", {"10.1.0.0/24"}},
                {"remote_ts", {"10.99.0.1/32"}},
                {"bytes_in", 1000},
                {"bytes_out", 2000},
                {"packets_in", 10},
                {"packets_out", 20},
                {"path_mtu", 1400},
                {"rekey_in_s", 3000}};
  json sa = {{"id", 3},
             {"name", "roadwarriors"},
             {"state", "established"},
             {"initiator", false},
             {"local", "192.0.2.1:4500"},
             {"remote", "198.51.100.9:61000"},
             {"local_id", "gw.traverse.lab"},
             {"remote_id", "alice@traverse.lab"},
             {"nat_local", false},
             {"nat_remote", true},
             {"encap", "udp"},
             {"spi_i", "1122334455667788"},
             {"spi_r", "99aabbccddeeff00"},
             {"algorithms", "aes256gcm16-prfsha384-ecp384"},
             {"established_s", 120},
             {"rekey_in_s", 14000},
             {"virtual_ips", {"10.99.0.1"}},
             {"children", {child}}};
  // The second SA lacks most fields: output must tolerate that.
  return {{"ike_sas", {sa, {{"id", 4}, {"state", "connecting"}}}}};
}

}  // namespace

TestServer::TestServer(ControlServerLimits limits)
    : dir_(make_temp_dir()),
      path_(dir_ + "/control.sock"),
      work_(asio::make_work_guard(io_)),
      server_(io_, path_, limits) {
  register_canned_commands();
}

TestServer::~TestServer() {
  if (thread_.joinable()) {
    on_io([this] {
      server_.stop();
      return 0;
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestServer::start() {
  auto started = server_.start();
  if (!started) {
    return started.error();
  }
  thread_ = std::thread([this] { io_.run(); });
  return "";
}

void TestServer::register_canned_commands() {
  server_.register_command(
      "status",
      [](const json&) -> Expected<json, std::string> {
        return json{{"version", "0.1.0"}, {"uptime_s", 42},
                    {"ike_sas", 2},       {"child_sas", 1},
                    {"half_open", 0},     {"dataplane", {{"connected", true}, {"pid", 1234}}}};
      },
      "gateway summary");
  server_.register_command("list-sas",
                           [](const json&) -> Expected<json, std::string> { return canned_sas(); });
  server_.register_command("pools", [](const json&) -> Expected<json, std::string> {
    return json{{"pools",
                 {{{"name", "office"},
                   {"addresses", "10.99.0.0/24"},
                   {"size", 254},
                   {"online", 1},
                   {"offline", 2}}}}};
  });
  server_.register_command("leases", [](const json&) -> Expected<json, std::string> {
    return json{{"leases",
                 {{{"pool", "office"},
                   {"address", "10.99.0.1"},
                   {"identity", "alice@traverse.lab"},
                   {"online", true}},
                  {{"pool", "office"},
                   {"address", "10.99.0.2"},
                   {"identity", "bob@traverse.lab"},
                   {"online", false},
                   {"expires_in_s", 86000}}}}};
  });
  server_.register_command("counters", [](const json&) -> Expected<json, std::string> {
    return json{{"counters", {{"ike.sa_init_received", 12}, {"ike.auth_failed", 1}}}};
  });
  server_.register_command("initiate", [](const json& args) -> Expected<json, std::string> {
    const std::string name = args.value("name", "");
    if (name != "branch") {
      return unexpected("no connection named '" + name + "'");
    }
    return json{{"message", "initiating branch"}};
  });
  for (const char* name : {"terminate", "rekey", "reload", "log-level", "echo"}) {
    server_.register_command(
        name, [name = std::string(name)](const json& args) -> Expected<json, std::string> {
          return json{{"message", name + " " + args.dump()}, {"args", args}};
        });
  }
  server_.register_command("throws", [](const json& args) -> Expected<json, std::string> {
    return json{{"value", args.at("missing").get<int>()}};  // throws json::out_of_range
  });
}

RawClient::RawClient(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof(address.sun_path) - 1));
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close();
  }
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool RawClient::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

std::optional<std::string> RawClient::read_line(int timeout_ms) {
  while (fd_ >= 0) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    pollfd entry{fd_, POLLIN, 0};
    if (::poll(&entry, 1, timeout_ms) <= 0) {
      return std::nullopt;
    }
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  return std::nullopt;
}

bool RawClient::closed_by_peer(int timeout_ms) {
  while (fd_ >= 0) {
    pollfd entry{fd_, POLLIN, 0};
    if (::poll(&entry, 1, timeout_ms) <= 0) {
      return false;
    }
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      return true;
    }
    if (n < 0) {
      return false;
    }
  }
  return false;
}

}  // namespace traverse::ctl::testing
