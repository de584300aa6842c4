// An IPv4 or IPv6 address as 16 bytes and a version: the tunnel endpoints of
// an SA. Parsing and printing are for configuration and logs, not per packet.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace traverse::esp {

struct IpAddress {
  uint8_t version = 0;              // 4 or 6; 0 when unset
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress from_v4(const uint8_t* four) {
    IpAddress a;
    a.version = 4;
    std::memcpy(a.bytes.data(), four, 4);
    return a;
  }
  static IpAddress from_v6(const uint8_t* sixteen) {
    IpAddress a;
    a.version = 6;
    std::memcpy(a.bytes.data(), sixteen, 16);
    return a;
  }
  uint32_t length() const { return version == 4 ? 4 : version == 6 ? 16 : 0; }
  std::string to_string() const;
  // Two word compares: the defaulted operator calls memcmp, and the
  // dataplane compares addresses per packet.
  bool operator==(const IpAddress& other) const {
    uint64_t a[2];
    uint64_t b[2];
    std::memcpy(a, bytes.data(), sizeof a);
    std::memcpy(b, other.bytes.data(), sizeof b);
    return version == other.version && a[0] == b[0] && a[1] == b[1];
  }
};

}  // namespace traverse::esp
