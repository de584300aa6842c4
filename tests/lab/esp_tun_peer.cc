// esp-tun-peer: a userspace ESP-in-UDP (RFC 3948) tunnel endpoint built on the
// ESP core, the "road warrior" of the namespace lab. Packets read from a TUN
// device are encrypted with one outbound SA and sent over a UDP socket;
// datagrams received are classified (keepalive, IKE marker, ESP), decrypted
// with one inbound SA and written to the TUN. Sends a NAT keepalive every few
// seconds. Single-threaded poll loop; a test peer, not a production client.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/hex.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/outer_parse.hh"
#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/sa_config.hh"
#include "dataplane/esp/status.hh"
#include "dataplane/esp/udp_encap.hh"
#include "drivers/crypto/thread_context.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::lab {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kHeadroom = 128;  // > IPv6 + UDP + ESP header + IV
constexpr uint32_t kMaxPacket = 65535;
constexpr uint32_t kTailroom = 128;  // > padding + trailer + ICV
constexpr int kBatch = 64;           // packets handled per readiness event and fd
constexpr int kLoggedFailures = 20;  // per-packet failures printed before going quiet

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_dump = 0;

void on_stop(int) {
  g_stop = 1;
}
void on_dump(int) {
  g_dump = 1;
}

struct SaKeys {
  uint32_t spi = 0;
  std::string key;
  std::string salt;
  std::string auth_key;
};

struct Options {
  std::string tun_name = "tv0";
  std::string address;  // inner address with prefix, e.g. 10.8.0.5/32
  std::vector<std::string> routes;
  uint32_t mtu = 1400;
  std::string bind = "0.0.0.0";
  uint16_t local_port = esp::kNatTraversalPort;
  std::string remote;  // empty: learn from the first authenticated ESP packet
  uint16_t remote_port = esp::kNatTraversalPort;
  std::string transform = "aes128gcm16";
  std::string backend = "ipsec-mb";
  SaKeys out;
  SaKeys in;
  double keepalive_s = 5;
  double run_seconds = 0;
  std::string stats_json;
  bool verbose = false;
};

// Counters, printed as JSON at exit (and on SIGUSR1 to --stats-json).
struct Stats {
  uint64_t tun_rx = 0;
  uint64_t tun_tx = 0;
  uint64_t tun_write_errors = 0;
  uint64_t esp_tx = 0;
  uint64_t esp_rx = 0;
  uint64_t send_errors = 0;
  uint64_t keepalive_tx = 0;
  uint64_t keepalive_rx = 0;
  uint64_t ike_rx = 0;
  uint64_t invalid_rx = 0;
  uint64_t peer_moved = 0;
  std::array<uint64_t, esp::kStatusCount> encrypt{};
  std::array<uint64_t, esp::kStatusCount> decrypt{};

  std::string json() const {
    std::string out = "{\n";
    auto field = [&out](const std::string& name, uint64_t value) {
      out += "  \"" + name + "\": " + std::to_string(value) + ",\n";
    };
    field("tun_rx", tun_rx);
    field("tun_tx", tun_tx);
    field("tun_write_errors", tun_write_errors);
    field("esp_tx", esp_tx);
    field("esp_rx", esp_rx);
    field("send_errors", send_errors);
    field("keepalive_tx", keepalive_tx);
    field("keepalive_rx", keepalive_rx);
    field("ike_rx", ike_rx);
    field("invalid_rx", invalid_rx);
    field("peer_moved", peer_moved);
    for (std::size_t i = 0; i < esp::kStatusCount; ++i) {
      field("encrypt_" + std::string(esp::kStatusNames[i]), encrypt[i]);
      field("decrypt_" + std::string(esp::kStatusNames[i]), decrypt[i]);
    }
    out.resize(out.size() - 2);  // the last ",\n"
    out += "\n}\n";
    return out;
  }
};

[[noreturn]] void die(const std::string& message) {
  throw std::runtime_error(message);
}

std::vector<uint8_t> parse_key(const std::string& flag, const std::string& text) {
  std::vector<uint8_t> out;
  if (!esp::parse_hex(text, &out)) {
    die(flag + ": '" + text + "' is not an even number of hex digits");
  }
  return out;
}

esp::IpAddress parse_ip(const std::string& flag, const std::string& text) {
  const std::optional<esp::IpAddress> ip = esp::IpAddress::parse(text);
  if (!ip) {
    die(flag + ": '" + text + "' is not an IPv4 or IPv6 address");
  }
  return *ip;
}

crypto::Transform parse_transform(const std::string& text) {
  crypto::Transform t{};
  if (!crypto::transform_by_name(text, &t)) {
    die("--transform: unknown '" + text + "'");
  }
  return t;
}

crypto::Backend parse_backend(const std::string& text) {
  crypto::Backend b{};
  if (!crypto::backend_by_name(text, &b)) {
    die("--backend: unknown '" + text + "'; one of ipsec-mb openssl");
  }
  return b;
}

// Both SAs share the transform, backend and endpoints (this end local, the
// peer remote); they differ in SPI and keys.
esp::SaConfig make_sa(const Options& opts, const SaKeys& keys, const char* dir,
                      const esp::IpAddress& self, const esp::IpAddress& peer) {
  esp::SaConfig sa;
  sa.spi = keys.spi;
  sa.transform = parse_transform(opts.transform);
  sa.backend = parse_backend(opts.backend);
  sa.cipher_key = parse_key(std::string("--") + dir + "-key", keys.key);
  sa.salt = parse_key(std::string("--") + dir + "-salt", keys.salt);
  sa.auth_key = parse_key(std::string("--") + dir + "-auth-key", keys.auth_key);
  sa.udp_encap = true;
  sa.local = self;
  sa.remote = peer;
  sa.local_port = opts.local_port;
  sa.remote_port = opts.remote_port;
  return sa;
}

// Runs `ip ARGS...` and fails with its exit status: start-up only.
void run_ip(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string ip = "ip";
  argv.push_back(ip.data());
  std::string line = "ip";
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
    line += " " + a;
  }
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    die("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    execvp("ip", argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    die("'" + line + "' failed");
  }
}

int open_tun(const Options& opts) {
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    die("/dev/net/tun: " + std::string(std::strerror(errno)));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (opts.tun_name.size() >= IFNAMSIZ) {
    die("--tun: '" + opts.tun_name + "' is longer than " + std::to_string(IFNAMSIZ - 1));
  }
  std::memcpy(ifr.ifr_name, opts.tun_name.c_str(), opts.tun_name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    die("TUNSETIFF " + opts.tun_name + ": " + std::strerror(errno));
  }
  run_ip({"link", "set", "dev", opts.tun_name, "mtu", std::to_string(opts.mtu), "up"});
  if (!opts.address.empty()) {
    run_ip({"address", "add", opts.address, "dev", opts.tun_name});
  }
  for (const std::string& route : opts.routes) {
    run_ip({route.find(':') == std::string::npos ? "-4" : "-6", "route", "add", route, "dev",
            opts.tun_name});
  }
  return fd;
}

sockaddr_storage to_sockaddr(const esp::IpAddress& ip, uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  if (ip.version == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
    *len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
    *len = sizeof(sockaddr_in6);
  }
  return ss;
}

bool from_sockaddr(const sockaddr_storage& ss, esp::IpAddress* ip, uint16_t* port) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    *ip = esp::IpAddress::from_v4(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    *port = ntohs(sin->sin_port);
    return true;
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    *ip = esp::IpAddress::from_v6(reinterpret_cast<const uint8_t*>(&sin6->sin6_addr));
    *port = ntohs(sin6->sin6_port);
    return true;
  }
  return false;
}

int open_udp(const esp::IpAddress& bind_ip, uint16_t port) {
  const int fd = socket(bind_ip.version == 4 ? AF_INET : AF_INET6,
                        SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    die("socket: " + std::string(std::strerror(errno)));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Big socket buffers: a TCP transfer through the tunnel bursts.
  const int buffer = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  socklen_t len = 0;
  const sockaddr_storage ss = to_sockaddr(bind_ip, port, &len);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0) {
    die("bind " + bind_ip.to_string() + " port " + std::to_string(port) + ": " +
        std::strerror(errno));
  }
  return fd;
}

class Peer {
 public:
  explicit Peer(const Options& opts) : opts_(opts), storage_(kHeadroom + kMaxPacket + kTailroom) {
    const esp::IpAddress self = parse_ip("--bind", opts.bind);
    if (!opts.remote.empty()) {
      remote_ = parse_ip("--remote", opts.remote);
      remote_port_ = opts.remote_port;
      have_remote_ = true;
      if (remote_.version != self.version) {
        die("--bind " + opts.bind + " and --remote " + opts.remote + " differ in IP version");
      }
    } else {
      // Learned later; a placeholder of the right version for the SA config.
      remote_ = self;
    }
    std::string error;
    out_ = esp::OutboundSa::create(make_sa(opts, opts.out, "out", self, remote_), &error);
    if (!out_) {
      die("outbound SA: " + error);
    }
    in_ = esp::InboundSa::create(make_sa(opts, opts.in, "in", self, remote_), &error);
    if (!in_) {
      die("inbound SA: " + error);
    }
    udp_ = open_udp(self, opts.local_port);
    tun_ = open_tun(opts);
    std::fprintf(stderr,
                 "esp-tun-peer: tun %s %s mtu %u, udp %s:%u -> %s, %s out spi 0x%x in spi 0x%x\n",
                 opts.tun_name.c_str(), opts.address.c_str(), opts.mtu, opts.bind.c_str(),
                 opts.local_port, have_remote_ ? remote_text().c_str() : "(learned)",
                 opts.transform.c_str(), opts.out.spi, opts.in.spi);
  }
  ~Peer() {
    close(tun_);
    close(udp_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  void run() {
    const auto start = Clock::now();
    const auto keepalive_every = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(opts_.keepalive_s));
    auto next_keepalive = start;  // one at once: opens the NAT mapping
    while (g_stop == 0) {
      const auto now = Clock::now();
      if (opts_.run_seconds > 0 &&
          now - start >= std::chrono::duration<double>(opts_.run_seconds)) {
        break;
      }
      if (opts_.keepalive_s > 0 && now >= next_keepalive) {
        send_keepalive();
        next_keepalive = now + keepalive_every;
      }
      if (g_dump != 0) {
        g_dump = 0;
        write_stats();
      }
      pollfd fds[2] = {{tun_, POLLIN, 0}, {udp_, POLLIN, 0}};
      const int ready = poll(fds, 2, 100);
      if (ready < 0 && errno != EINTR) {
        die("poll: " + std::string(std::strerror(errno)));
      }
      if (ready <= 0) {
        continue;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        from_tun();
      }
      if ((fds[1].revents & POLLIN) != 0) {
        from_udp();
      }
    }
  }

  void write_stats() const {
    const std::string text = stats_.json();
    if (!opts_.stats_json.empty()) {
      const std::string tmp = opts_.stats_json + ".tmp";
      if (FILE* f = std::fopen(tmp.c_str(), "w")) {
        std::fputs(text.c_str(), f);
        std::fclose(f);
        std::rename(tmp.c_str(), opts_.stats_json.c_str());
      }
    }
  }
  const Stats& stats() const { return stats_; }

 private:
  std::string remote_text() const {
    return remote_.to_string() + ":" + std::to_string(remote_port_);
  }

  void send_to_peer(const uint8_t* data, std::size_t len) {
    socklen_t sl = 0;
    const sockaddr_storage ss = to_sockaddr(remote_, remote_port_, &sl);
    if (sendto(udp_, data, len, 0, reinterpret_cast<const sockaddr*>(&ss), sl) < 0) {
      if (stats_.send_errors++ < kLoggedFailures) {
        std::fprintf(stderr, "esp-tun-peer: sendto %s (%zu bytes): %s\n", remote_text().c_str(),
                     len, std::strerror(errno));
      }
      return;
    }
    ++stats_.esp_tx;
  }

  void send_keepalive() {
    if (!have_remote_) {
      return;
    }
    const uint8_t byte = esp::kNatKeepaliveByte;
    socklen_t sl = 0;
    const sockaddr_storage ss = to_sockaddr(remote_, remote_port_, &sl);
    if (sendto(udp_, &byte, 1, 0, reinterpret_cast<const sockaddr*>(&ss), sl) == 1) {
      ++stats_.keepalive_tx;
    }
  }

  void from_tun() {
    for (int i = 0; i < kBatch; ++i) {
      const ssize_t n = read(tun_, storage_.data() + kHeadroom, kMaxPacket);
      if (n <= 0) {
        return;
      }
      ++stats_.tun_rx;
      if (!have_remote_) {
        ++stats_.encrypt[static_cast<std::size_t>(esp::Status::not_esp)];
        continue;
      }
      esp::PacketBuffer pkt(storage_.data(), static_cast<uint32_t>(storage_.size()), kHeadroom,
                            static_cast<uint32_t>(n));
      const esp::Status status = out_->encrypt(thread_, pkt);
      ++stats_.encrypt[static_cast<std::size_t>(status)];
      if (status != esp::Status::ok) {
        log_failure("encrypt", status);
        continue;
      }
      // The core built outer IP + UDP headers; the socket adds its own.
      pkt.trim_front(out_->outer_header().length());
      send_to_peer(pkt.data(), pkt.length());
    }
  }

  void from_udp() {
    for (int i = 0; i < kBatch; ++i) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = recvfrom(udp_, storage_.data() + kHeadroom, kMaxPacket, 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        return;
      }
      const uint8_t* payload = storage_.data() + kHeadroom;
      switch (esp::classify_udp_payload(payload, static_cast<uint32_t>(n))) {
        case esp::UdpPayloadKind::keepalive:
          ++stats_.keepalive_rx;
          continue;
        case esp::UdpPayloadKind::ike:
          ++stats_.ike_rx;
          continue;
        case esp::UdpPayloadKind::invalid:
          ++stats_.invalid_rx;
          continue;
        case esp::UdpPayloadKind::esp:
          break;
      }
      ++stats_.esp_rx;
      esp::PacketBuffer pkt(storage_.data(), static_cast<uint32_t>(storage_.size()), kHeadroom,
                            static_cast<uint32_t>(n));
      // The socket removed IP and UDP: describe the outer packet by hand.
      esp::OuterView outer;
      outer.version = from.ss_family == AF_INET ? 4 : 6;
      outer.udp = true;
      outer.src_port = 0;
      outer.dst_port = opts_.local_port;
      outer.esp_offset = 0;
      outer.spi = esp::load_be32(payload);
      esp::DecryptResult result;
      const esp::Status status = in_->decrypt(thread_, pkt, outer, &result);
      ++stats_.decrypt[static_cast<std::size_t>(status)];
      if (status != esp::Status::ok) {
        if (status != esp::Status::dummy) {
          log_failure("decrypt", status);
        }
        continue;
      }
      follow_peer(from);
      if (write(tun_, pkt.data(), pkt.length()) < 0) {
        if (stats_.tun_write_errors++ < kLoggedFailures) {
          std::fprintf(stderr, "esp-tun-peer: write to %s: %s\n", opts_.tun_name.c_str(),
                       std::strerror(errno));
        }
        continue;
      }
      ++stats_.tun_tx;
    }
  }

  // Sends to where authenticated ESP came from (RFC 3948 section 3.5 for the
  // responder), when no remote was given or the NAT mapping changed.
  void follow_peer(const sockaddr_storage& from) {
    esp::IpAddress ip;
    uint16_t port = 0;
    if (!from_sockaddr(from, &ip, &port) ||
        (have_remote_ && ip == remote_ && port == remote_port_)) {
      return;
    }
    const bool first = !have_remote_;
    remote_ = ip;
    remote_port_ = port;
    have_remote_ = true;
    out_->set_remote(ip, port);
    if (!first) {
      ++stats_.peer_moved;
    }
    std::fprintf(stderr, "esp-tun-peer: peer %s %s\n", first ? "is" : "moved to",
                 remote_text().c_str());
  }

  void log_failure(const char* what, esp::Status status) {
    if (failures_logged_ < kLoggedFailures || opts_.verbose) {
      ++failures_logged_;
      std::fprintf(stderr, "esp-tun-peer: %s: %s\n", what,
                   std::string(esp::status_description(status)).c_str());
    }
  }

  const Options& opts_;
  crypto::ThreadContext thread_;
  std::unique_ptr<esp::OutboundSa> out_;
  std::unique_ptr<esp::InboundSa> in_;
  std::vector<uint8_t> storage_;
  esp::IpAddress remote_;
  uint16_t remote_port_ = 0;
  bool have_remote_ = false;
  int tun_ = -1;
  int udp_ = -1;
  int failures_logged_ = 0;
  Stats stats_;
};

constexpr const char* kUsage =
    "usage: esp-tun-peer [--tun NAME] [--address IP/LEN] [--route PREFIX]... [--mtu N]\n"
    "         [--bind IP] [--local-port N] [--remote IP] [--remote-port N]\n"
    "         [--transform NAME] [--backend ipsec-mb|openssl]\n"
    "         --out-spi N --out-key HEX [--out-salt HEX] [--out-auth-key HEX]\n"
    "         --in-spi N --in-key HEX [--in-salt HEX] [--in-auth-key HEX]\n"
    "         [--keepalive S] [--run-seconds S] [--stats-json PATH] [--verbose]\n"
    "  transforms: aes128gcm16 aes256gcm16 aes128-sha256 aes256-sha256 chacha20poly1305\n"
    "  --remote omitted: the peer is learned from its first authenticated ESP packet.\n"
    "  Numbers are decimal or 0x hex. Counters go to stdout at exit and to\n"
    "  --stats-json at exit and on SIGUSR1.\n";

// Thrown only while parsing the command line; main() turns it into exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

uint64_t parse_number(std::string_view flag, std::string_view text, uint64_t max) {
  int base = 10;
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value > max) {
    throw UsageError(std::string(flag) + ": '" + std::string(text) +
                     "' is not a number from 0 to " + std::to_string(max));
  }
  return value;
}

double parse_seconds(std::string_view flag, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || value < 0) {
    throw UsageError(std::string(flag) + ": '" + text + "' is not a number of seconds");
  }
  return value;
}

Options parse_args(int argc, char** argv) {
  Options opts;
  bool have_out_spi = false;
  bool have_in_spi = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::optional<std::string> inline_value;
    if (const std::size_t eq = flag.find('='); eq != std::string_view::npos) {
      inline_value = std::string(flag.substr(eq + 1));
      flag = flag.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 >= argc) {
        throw UsageError(std::string(flag) + " needs a value");
      }
      return argv[++i];
    };
    auto port = [&]() { return static_cast<uint16_t>(parse_number(flag, value(), UINT16_MAX)); };
    auto spi = [&]() { return static_cast<uint32_t>(parse_number(flag, value(), UINT32_MAX)); };
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (flag == "--tun") {
      opts.tun_name = value();
    } else if (flag == "--address") {
      opts.address = value();
    } else if (flag == "--route") {
      opts.routes.push_back(value());
    } else if (flag == "--mtu") {
      opts.mtu = static_cast<uint32_t>(parse_number(flag, value(), 65535));
    } else if (flag == "--bind") {
      opts.bind = value();
    } else if (flag == "--local-port") {
      opts.local_port = port();
    } else if (flag == "--remote") {
      opts.remote = value();
    } else if (flag == "--remote-port") {
      opts.remote_port = port();
    } else if (flag == "--transform") {
      opts.transform = value();
    } else if (flag == "--backend") {
      opts.backend = value();
    } else if (flag == "--out-spi") {
      opts.out.spi = spi();
      have_out_spi = true;
    } else if (flag == "--out-key") {
      opts.out.key = value();
    } else if (flag == "--out-salt") {
      opts.out.salt = value();
    } else if (flag == "--out-auth-key") {
      opts.out.auth_key = value();
    } else if (flag == "--in-spi") {
      opts.in.spi = spi();
      have_in_spi = true;
    } else if (flag == "--in-key") {
      opts.in.key = value();
    } else if (flag == "--in-salt") {
      opts.in.salt = value();
    } else if (flag == "--in-auth-key") {
      opts.in.auth_key = value();
    } else if (flag == "--keepalive") {
      opts.keepalive_s = parse_seconds(flag, value());
    } else if (flag == "--run-seconds") {
      opts.run_seconds = parse_seconds(flag, value());
    } else if (flag == "--stats-json") {
      opts.stats_json = value();
    } else if (flag == "--verbose") {
      opts.verbose = true;
    } else {
      throw UsageError("unknown argument '" + std::string(argv[i]) + "'");
    }
  }
  if (!have_out_spi || !have_in_spi || opts.out.key.empty() || opts.in.key.empty()) {
    throw UsageError("--out-spi, --out-key, --in-spi and --in-key are required");
  }
  return opts;
}

}  // namespace
}  // namespace traverse::lab

int main(int argc, char** argv) {
  using namespace traverse::lab;
  struct sigaction sa {};
  sa.sa_handler = on_stop;  // no SA_RESTART: poll() returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_dump;
  sigaction(SIGUSR1, &sa, nullptr);
  try {
    const Options opts = parse_args(argc, argv);
    Peer peer(opts);
    peer.run();
    peer.write_stats();
    std::fputs(peer.stats().json().c_str(), stdout);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "esp-tun-peer: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esp-tun-peer: %s\n", e.what());
    return 1;
  }
}
