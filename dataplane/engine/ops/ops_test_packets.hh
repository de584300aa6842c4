// Test helpers for the packet operations: builders for IPv4/IPv6 packets,
// TCP SYNs, ESP packets and ICMP errors, and a reference checksum written
// apart from the one under test. Tests and the wire tool only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace traverse::engine::ops::testing {

using Bytes = std::vector<uint8_t>;
using V4Addr = std::array<uint8_t, 4>;
using V6Addr = std::array<uint8_t, 16>;

inline constexpr V4Addr kHostA4 = {10, 1, 0, 7};
inline constexpr V4Addr kHostB4 = {10, 2, 0, 9};
inline constexpr V4Addr kGateway4 = {192, 0, 2, 1};
inline constexpr V4Addr kPeer4 = {198, 51, 100, 2};
inline constexpr V4Addr kRouter4 = {203, 0, 113, 5};
inline constexpr V6Addr kHostA6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
inline constexpr V6Addr kHostB6 = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
inline constexpr V6Addr kGateway6 = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline constexpr V6Addr kPeer6 = {0x20, 0x01, 0x0d, 0xb8, 0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
inline constexpr V6Addr kRouter6 = {0x20, 0x01, 0x0d, 0xb8, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

// Folded (not complemented) one's-complement sum of big-endian 16-bit words,
// byte by byte: the reference the tests check the optimised code against.
uint16_t ref_sum(const uint8_t* data, size_t len, uint32_t initial = 0);
// True when the bytes (checksum field included) sum to 0xffff.
bool ref_sum_ok(const uint8_t* data, size_t len, uint32_t initial = 0);
// The pseudo-header sum (RFC 768 / RFC 8200 8.1) of an IP packet's L4 part.
uint32_t ref_pseudo_sum(const Bytes& pkt, uint8_t protocol, uint32_t l4_len);

struct V4Fields {
  V4Addr src = kHostA4;
  V4Addr dst = kHostB4;
  uint8_t protocol = 17;
  uint8_t tos = 0;
  uint8_t ttl = 63;
  uint16_t id = 0x1234;
  uint16_t flags_offset = 0;  // DF 0x4000, MF 0x2000, offset in 8-byte units
  Bytes options;              // must be a multiple of 4 bytes
};

// IPv4 header (length and checksum set) + payload.
Bytes make_ipv4(const V4Fields& fields, const Bytes& payload);
// IPv6 header + payload; `next` names the first header of the payload.
Bytes make_ipv6(uint8_t next, const V6Addr& src, const V6Addr& dst, const Bytes& payload);

// A TCP header with `options` (padded to 4 bytes with EOL) and `payload_len`
// bytes of data; checksum left zero (set_l4_checksum fills it).
Bytes make_tcp(uint8_t flags, const Bytes& options, size_t payload_len);
// UDP header + payload, checksum zero.
Bytes make_udp(uint16_t src_port, uint16_t dst_port, const Bytes& payload);
// Computes the TCP / UDP / ICMPv6 checksum of the packet's L4 part at `l4`.
void set_l4_checksum(Bytes& pkt, size_t l4, uint8_t protocol);

// Full TCP packets with a correct checksum.
Bytes tcp_v4(uint8_t flags, const Bytes& options, size_t payload_len);
Bytes tcp_v6(uint8_t flags, const Bytes& options, size_t payload_len);
// A UDP packet of exactly `total_len` bytes, patterned payload.
Bytes udp_v4(size_t total_len, uint16_t flags_offset = 0, const Bytes& options = {});
Bytes udp_v6(size_t total_len);

// One of our outbound packets of `total_len` bytes: ESP (or ESP in UDP from
// port 4500 to `peer_port`) from the gateway to the peer.
Bytes esp_v4(size_t total_len, uint32_t spi, bool udp, uint16_t peer_port = 4500);
Bytes esp_v6(size_t total_len, uint32_t spi, bool udp, uint16_t peer_port = 4500);

// An ICMP error from the router to the gateway quoting the first
// `quote_len` bytes of `quoted` (checksums right); `rest` is bytes 4-7.
Bytes icmp4_error(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quoted, size_t quote_len);
Bytes icmp6_error(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quoted, size_t quote_len);

// Reassembles IPv4 fragments (any order) the way a receiver would: the
// header of the offset-zero fragment, MF cleared, length and checksum fixed.
// Empty when they overlap, leave a hole or disagree on the ID.
Bytes ref_reassemble_v4(const std::vector<Bytes>& fragments);

std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const Bytes& b) {
  return to_hex(b.data(), b.size());
}

}  // namespace traverse::engine::ops::testing
