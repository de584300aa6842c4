// Test helpers for the ESP core: inner packets of any size, SA configs with
// random keys, and buffers with head- and tailroom. Tests only.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/sa_config.hh"

namespace traverse::esp::testing {

inline constexpr uint32_t kTestHeadroom = 128;
inline constexpr uint32_t kTestTailroom = 128;

// A packet with room around it; `view` points into `storage`.
struct TestPacket {
  std::vector<uint8_t> storage;
  PacketBuffer view;

  explicit TestPacket(const std::vector<uint8_t>& bytes, uint32_t headroom = kTestHeadroom,
                      uint32_t tailroom = kTestTailroom);
  std::vector<uint8_t> bytes() const { return {view.data(), view.end()}; }
};

// An inner IPv4 (UDP) or IPv6 (UDP) packet of exactly `total_len` bytes
// (at least 28 / 48) with random payload and a valid IPv4 header checksum.
std::vector<uint8_t> make_inner_packet(uint8_t version, uint32_t total_len, std::mt19937& rng);

// An SA with random keys for `transform`, endpoints of `outer_version`.
SaConfig make_sa_config(crypto::Transform transform, crypto::Backend backend, uint8_t outer_version,
                        bool udp_encap, std::mt19937& rng);

std::vector<uint8_t> random_bytes(std::size_t n, std::mt19937& rng);

}  // namespace traverse::esp::testing

namespace traverse::esp::testing {

// The transform's name as a test-name identifier ("aes128_sha256").
std::string identifier(crypto::Transform transform);

// The receiving side's view of an SA: same SPI and keys, endpoints and ports
// swapped, so an InboundSa made from it accepts what the OutboundSa sends.
SaConfig mirror(const SaConfig& outbound);

// After a test rewrites an outer packet, make its IP (and UDP) lengths and
// IPv4 header checksum describe the bytes again, so the parse gets past them.
void fix_outer_lengths(std::vector<uint8_t>& packet);

}  // namespace traverse::esp::testing
