// Where a port's packets go next: the destination itself when it is on a
// connected prefix of the port, otherwise the port's gateway of that IP
// version. Built once at start; read-only afterwards, so any thread may use it.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/engine/dataplane_config.hh"

namespace traverse::engine {

class PortRoute {
 public:
  void build(const PortConfig& config) {
    prefixes_ = config.addresses;
    gateways_ = config.gateways;
  }

  // The next hop toward `dst` (4 or 16 bytes of `version`), or false when
  // there is none (off-link and no gateway).
  bool next_hop(uint8_t version, const uint8_t* dst, esp::IpAddress* hop) const {
    for (const Prefix& p : prefixes_) {
      if (p.address.version == version && in_prefix(p, dst)) {
        hop->version = version;
        std::memcpy(hop->bytes.data(), dst, version == 4 ? 4 : 16);
        return true;
      }
    }
    for (const esp::IpAddress& g : gateways_) {
      if (g.version == version) {
        *hop = g;
        return true;
      }
    }
    return false;
  }

  // Whether `dst` is one of the port's own addresses.
  bool is_local(uint8_t version, const uint8_t* dst) const {
    for (const Prefix& p : prefixes_) {
      if (p.address.version == version &&
          std::memcmp(p.address.bytes.data(), dst, version == 4 ? 4 : 16) == 0) {
        return true;
      }
    }
    return false;
  }

  // The port's first address of `version` (source of ICMP errors), or null.
  const esp::IpAddress* address(uint8_t version) const {
    for (const Prefix& p : prefixes_) {
      if (p.address.version == version) {
        return &p.address;
      }
    }
    return nullptr;
  }

  static bool in_prefix(const Prefix& p, const uint8_t* address) {
    const uint32_t full = p.length / 8;
    if (std::memcmp(p.address.bytes.data(), address, full) != 0) {
      return false;
    }
    const uint32_t rest = p.length % 8;
    if (rest == 0) {
      return true;
    }
    const auto mask = static_cast<uint8_t>(0xffu << (8 - rest));
    return (p.address.bytes[full] & mask) == (address[full] & mask);
  }

 private:
  std::vector<Prefix> prefixes_;
  std::vector<esp::IpAddress> gateways_;
};

}  // namespace traverse::engine
