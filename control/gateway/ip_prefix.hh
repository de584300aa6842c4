// IPv4/IPv6 addresses and CIDR prefixes as the gateway configuration and the
// Office Mode pools use them: plain values, parsed strictly. Thread-safe (no
// shared state).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/ike/result.hh"

namespace traverse::gateway {

struct Address {
  uint8_t version = 4;              // 4 or 6
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes

  static Expected<Address, std::string> parse(std::string_view text);
  std::string to_string() const;
  std::size_t length() const { return version == 4 ? 4 : 16; }
  bool operator==(const Address&) const = default;
  auto operator<=>(const Address&) const = default;
};

// An address with a prefix length; the host bits are always zero.
struct Cidr {
  Address address;
  uint8_t prefix = 32;

  // "10.0.0.0/24", "2001:db8::/64", or a bare address (a full-length prefix).
  // Host bits set ("10.0.0.5/24") are an error naming the network meant.
  static Expected<Cidr, std::string> parse(std::string_view text);
  std::string to_string() const;
  uint8_t max_prefix() const { return address.version == 4 ? 32 : 128; }
  bool is_host() const { return prefix == max_prefix(); }
  bool contains(const Address& candidate) const;
  bool overlaps(const Cidr& other) const;
  bool operator==(const Cidr&) const = default;
};

}  // namespace traverse::gateway
