// Where a port's packets go next: the destination itself when it is on a
// connected prefix of the port, otherwise the port's gateway of that IP
// version. Built once at start; read-only afterwards, so any thread may use it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/engine/dataplane_config.hh"
#include "dataplane/esp/byte_order.hh"

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
        *hop = version == 4 ? esp::IpAddress::from_v4(dst) : esp::IpAddress::from_v6(dst);
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
      if (p.address.version != version) {
        continue;
      }
      // Constant sizes: compiled to word compares, not a memcmp call.
      if (version == 4 ? std::memcmp(p.address.bytes.data(), dst, 4) == 0
                       : std::memcmp(p.address.bytes.data(), dst, 16) == 0) {
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

  // Masked word compares: this runs per packet (next hop, local address),
  // where a variable-length memcmp would be a library call.
  static bool in_prefix(const Prefix& p, const uint8_t* address) {
    const uint8_t* net = p.address.bytes.data();
    if (p.address.version == 4) {
      const uint32_t mask = p.length == 0 ? 0 : ~uint32_t{0} << (32 - p.length);
      return ((esp::load_be32(net) ^ esp::load_be32(address)) & mask) == 0;
    }
    for (uint32_t half = 0; half < 2; ++half) {
      const uint32_t bits = p.length > half * 64 ? std::min<uint32_t>(p.length - half * 64, 64) : 0;
      const uint64_t mask = bits == 0 ? 0 : ~uint64_t{0} << (64 - bits);
      if (((esp::load_be64(net + half * 8) ^ esp::load_be64(address + half * 8)) & mask) != 0) {
        return false;
      }
    }
    return true;
  }

 private:
  std::vector<Prefix> prefixes_;
  std::vector<esp::IpAddress> gateways_;
};

}  // namespace traverse::engine
