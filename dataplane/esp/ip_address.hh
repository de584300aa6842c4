// An IPv4 or IPv6 address as 16 bytes and a version: the tunnel endpoints of
// an SA. Parsing and printing are for configuration and logs, not per packet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace traverse::esp {

struct IpAddress {
  uint8_t version = 0;              // 4 or 6; 0 when unset
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress from_v4(const uint8_t* four);
  static IpAddress from_v6(const uint8_t* sixteen);
  uint32_t length() const { return version == 4 ? 4 : version == 6 ? 16 : 0; }
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

}  // namespace traverse::esp
