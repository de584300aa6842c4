// SA churn through the dataplane API while traffic runs: each iteration
// installs a new outbound SA with fresh keys, points the policy at it and
// deletes the previous one (the make-before-break order of a rekey). Prints
// one JSON line per SA with its keys and the wall-clock times its add and
// delete were acknowledged, so the test can decrypt the capture and check
// that no packet used an SA after its delete was acknowledged.
#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "dataplane/api/client.hh"

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

traverse::api::Address v4(const char* text, uint8_t prefix) {
  traverse::api::Address a{};
  a.version = 4;
  a.prefix_len = prefix;
  inet_pton(AF_INET, text, a.bytes);
  return a;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string out;
  char b[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", p[i]);
    out += b;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace traverse::api;
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s SOCKET ITERATIONS INTERVAL_MS LOCAL REMOTE INNER FIRST_SPI\n",
                 argv[0]);
    return 2;
  }
  const std::string socket = argv[1];
  const int iterations = std::atoi(argv[2]);
  const int interval_ms = std::atoi(argv[3]);
  const uint32_t first_spi = static_cast<uint32_t>(std::strtoul(argv[7], nullptr, 0));
  ApiClient client;
  if (std::string why = client.connect(socket, std::chrono::seconds(10)); !why.empty()) {
    std::fprintf(stderr, "connect: %s\n", why.c_str());
    return 1;
  }
  std::mt19937 rng(4242);
  uint32_t previous = 0;
  int failures = 0;
  for (int i = 0; i < iterations; ++i) {
    SaRecord sa{};
    sa.spi = first_spi + static_cast<uint32_t>(i);
    sa.direction = Direction::outbound;
    sa.transform = 0;  // aes128gcm16
    sa.backend = 0;    // ipsec-mb
    sa.flags = kSaFlagUdpEncap;
    sa.cipher_key_len = 16;
    sa.salt_len = 4;
    for (uint8_t& b : sa.cipher_key) {
      b = static_cast<uint8_t>(rng());
    }
    for (uint8_t& b : sa.salt) {
      b = static_cast<uint8_t>(rng());
    }
    sa.local = v4(argv[4], 32);
    sa.remote = v4(argv[5], 32);
    sa.local_port = 4500;
    sa.remote_port = 4500;
    sa.ttl = 64;
    sa.first_sequence = 1;
    CallResult added = client.add_sa(sa);
    PolicyRecord policy{};
    policy.selector = v4(argv[6], 32);
    policy.spi = sa.spi;
    CallResult pointed = client.add_policy(policy);
    const double added_at = wall_now();
    double deleted_at = 0;
    if (previous != 0) {
      CallResult deleted = client.delete_sa({previous, Direction::outbound, {}, 0});
      deleted_at = wall_now();
      failures += deleted.ok() ? 0 : 1;
    }
    failures += added.ok() && pointed.ok() ? 0 : 1;
    std::printf(
        "{\"spi\": %u, \"key\": \"%s\", \"salt\": \"%s\", \"added\": %.6f, "
        "\"previous_deleted\": %.6f}\n",
        sa.spi, hex(sa.cipher_key, 16).c_str(), hex(sa.salt, 4).c_str(), added_at, deleted_at);
    std::fflush(stdout);
    previous = sa.spi;
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  std::fprintf(stderr, "churn: %d iterations, %d failed calls\n", iterations, failures);
  return failures == 0 ? 0 : 1;
}
