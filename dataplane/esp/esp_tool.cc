// traverse-esp-tool: one ESP SA configured from flags, driven by stdin. Each
// input line is a packet in hex (encrypt: the inner IP packet; decrypt: the
// whole outer IP packet); each output line is "ok HEX" or "error STATUS". The
// bridge the cross-implementation tests (scapy) use to push many packets
// through one SA in one process. Single-threaded; a test tool, not a dataplane.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/esp/hex.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/sa_config.hh"
#include "dataplane/esp/status.hh"
#include "drivers/crypto/thread_context.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::esp {
namespace {

constexpr uint32_t kHeadroom = 256;
constexpr uint32_t kTailroom = 256;
constexpr uint32_t kMaxPacket = 65535;
constexpr int kUsageExit = 2;

constexpr const char* kUsage =
    "usage: traverse-esp-tool --direction encrypt|decrypt --transform NAME\n"
    "         [--backend ipsec-mb|openssl] --spi N --key HEX [--salt HEX]\n"
    "         [--auth-key HEX] [--esn] [--replay-window N] --local IP --remote IP\n"
    "         [--udp] [--local-port N] [--remote-port N] [--first-seq N]\n"
    "  transforms: aes128gcm16 aes256gcm16 aes128-sha256 aes256-sha256 chacha20poly1305\n"
    "  Numbers are decimal or 0x hex. Encrypt: --first-seq is the first sequence\n"
    "  number sent. Decrypt: the replay window starts as if --first-seq minus one\n"
    "  had been the last packet accepted (ESN tests far from zero).\n"
    "  stdin: one packet in hex per line (encrypt: inner IP packet; decrypt: outer\n"
    "  IP packet). stdout: one line each, \"ok HEX\" or \"error STATUS\".\n";

// Thrown only while parsing the command line; main() turns it into exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<uint8_t> parse_key(std::string_view flag, std::string_view text) {
  std::vector<uint8_t> bytes(text.size() / 2 + 1);
  std::size_t len = 0;
  if (!decode_hex(text, bytes.data(), bytes.size(), &len)) {
    throw UsageError(std::string(flag) + ": '" + std::string(text) +
                     "' is not an even number of hex digits");
  }
  bytes.resize(len);
  return bytes;
}

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

IpAddress parse_ip(std::string_view flag, std::string_view text) {
  const std::optional<IpAddress> ip = IpAddress::parse(text);
  if (!ip) {
    throw UsageError(std::string(flag) + ": '" + std::string(text) +
                     "' is not an IPv4 or IPv6 address");
  }
  return *ip;
}

crypto::Transform parse_transform(std::string_view text) {
  crypto::Transform found{};
  if (crypto::transform_by_name(text, &found)) {
    return found;
  }
  std::string accepted;
  for (crypto::Transform t : crypto::kAllTransforms) {
    accepted += " ";
    accepted += crypto::transform_info(t).name;
  }
  throw UsageError("--transform: unknown '" + std::string(text) + "'; one of" + accepted);
}

crypto::Backend parse_backend(std::string_view text) {
  crypto::Backend found{};
  if (crypto::backend_by_name(text, &found)) {
    return found;
  }
  throw UsageError("--backend: unknown '" + std::string(text) + "'; one of ipsec-mb openssl");
}

struct Options {
  bool encrypt = true;
  SaConfig sa;
};

Options parse_args(int argc, char** argv) {
  Options opts;
  bool have_direction = false;
  bool have_transform = false;
  bool have_spi = false;
  bool have_first_seq = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::optional<std::string_view> inline_value;
    if (const std::size_t eq = flag.find('='); eq != std::string_view::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    // The flag's argument: after '=' or the next word.
    auto value = [&]() -> std::string_view {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 >= argc) {
        throw UsageError(std::string(flag) + " needs a value");
      }
      return argv[++i];
    };
    auto no_value = [&]() {
      if (inline_value) {
        throw UsageError(std::string(flag) + " takes no value");
      }
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (flag == "--direction") {
      const std::string_view dir = value();
      if (dir != "encrypt" && dir != "decrypt") {
        throw UsageError("--direction: '" + std::string(dir) + "'; one of encrypt decrypt");
      }
      opts.encrypt = dir == "encrypt";
      have_direction = true;
    } else if (flag == "--transform") {
      opts.sa.transform = parse_transform(value());
      have_transform = true;
    } else if (flag == "--backend") {
      opts.sa.backend = parse_backend(value());
    } else if (flag == "--spi") {
      opts.sa.spi = static_cast<uint32_t>(parse_number(flag, value(), UINT32_MAX));
      have_spi = true;
    } else if (flag == "--key") {
      opts.sa.cipher_key = parse_key(flag, value());
    } else if (flag == "--salt") {
      opts.sa.salt = parse_key(flag, value());
    } else if (flag == "--auth-key") {
      opts.sa.auth_key = parse_key(flag, value());
    } else if (flag == "--esn") {
      no_value();
      opts.sa.esn = true;
    } else if (flag == "--replay-window") {
      opts.sa.replay_window = static_cast<uint32_t>(parse_number(flag, value(), UINT32_MAX));
    } else if (flag == "--local") {
      opts.sa.local = parse_ip(flag, value());
    } else if (flag == "--remote") {
      opts.sa.remote = parse_ip(flag, value());
    } else if (flag == "--udp") {
      no_value();
      opts.sa.udp_encap = true;
    } else if (flag == "--local-port") {
      opts.sa.local_port = static_cast<uint16_t>(parse_number(flag, value(), UINT16_MAX));
    } else if (flag == "--remote-port") {
      opts.sa.remote_port = static_cast<uint16_t>(parse_number(flag, value(), UINT16_MAX));
    } else if (flag == "--first-seq") {
      opts.sa.first_sequence = parse_number(flag, value(), UINT64_MAX);
      have_first_seq = true;
    } else {
      throw UsageError("unknown argument '" + std::string(argv[i]) + "'");
    }
  }
  if (!have_direction || !have_transform || !have_spi) {
    throw UsageError("--direction, --transform and --spi are required");
  }
  if (have_first_seq && opts.sa.first_sequence == 0) {
    throw UsageError("--first-seq: sequence numbers start at 1");
  }
  return opts;
}

// Reads lines from stdin and answers each; returns the exit code.
int run(const Options& opts) {
  std::string error;
  std::unique_ptr<OutboundSa> outbound;
  std::unique_ptr<InboundSa> inbound;
  if (opts.encrypt) {
    outbound = OutboundSa::create(opts.sa, &error);
  } else {
    inbound = InboundSa::create(opts.sa, &error);
    if (inbound && opts.sa.first_sequence > 1) {
      inbound->replay_window().reset(opts.sa.first_sequence - 1);
    }
  }
  if (!outbound && !inbound) {
    std::fprintf(stderr, "traverse-esp-tool: SA refused: %s\n", error.c_str());
    return kUsageExit;
  }

  crypto::ThreadContext thread;
  std::vector<uint8_t> storage(kHeadroom + kMaxPacket + kTailroom);
  std::string line;
  std::string out;
  while (std::getline(std::cin, line)) {
    std::string_view text = line;
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
    }
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
      text.remove_prefix(1);
    }
    out.clear();
    std::size_t len = 0;
    if (text.size() / 2 > kMaxPacket) {
      out = "error ";
      out += status_name(Status::too_big);
    } else if (!decode_hex(text, storage.data() + kHeadroom, kMaxPacket, &len)) {
      out = "error bad_hex";
    } else {
      PacketBuffer pkt(storage.data(), static_cast<uint32_t>(storage.size()), kHeadroom,
                       static_cast<uint32_t>(len));
      Status status = Status::ok;
      if (outbound) {
        status = outbound->encrypt(thread, pkt);
      } else {
        DecryptResult result;
        status = inbound->decrypt(thread, pkt, &result);
      }
      if (status == Status::ok) {
        out = "ok ";
        append_hex(out, pkt.data(), pkt.length());
      } else {
        out = "error ";
        out += status_name(status);
      }
    }
    out.push_back('\n');
    // One flush per line, so a test may also talk to the tool interactively.
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "traverse-esp-tool: cannot write to stdout\n");
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace traverse::esp

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  try {
    return traverse::esp::run(traverse::esp::parse_args(argc, argv));
  } catch (const traverse::esp::UsageError& e) {
    std::fprintf(stderr, "traverse-esp-tool: %s\n%s", e.what(), traverse::esp::kUsage);
    return traverse::esp::kUsageExit;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "traverse-esp-tool: %s\n", e.what());
    return 1;
  }
}
