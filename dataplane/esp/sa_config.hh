// What the control plane says about one unidirectional ESP SA in tunnel mode:
// SPI, transform and keys, sequence number mode, replay window and the outer
// tunnel header. The cold half of an SA; OutboundSa and InboundSa build their
// hot runtime state from it. Key bytes are wiped when a config is destroyed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/esp/ip_address.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::esp {

inline constexpr uint16_t kNatTraversalPort = 4500;  // RFC 3948

// The outer IPv4 header's Don't Fragment bit.
enum class DfMode : uint8_t {
  set,    // always: ESP is never fragmented on the path; PMTU discovery works
  clear,  // never
  copy,   // from the inner IPv4 header (set for IPv6 inner)
};

struct SaConfig {
  uint32_t spi = 0;
  crypto::Transform transform = crypto::Transform::aes_gcm_128;
  crypto::Backend backend = crypto::Backend::ipsec_mb;
  std::vector<uint8_t> cipher_key;
  std::vector<uint8_t> salt;      // AEAD: 4 bytes (RFC 4106 section 8.1, RFC 7634)
  std::vector<uint8_t> auth_key;  // CBC + HMAC-SHA2-256-128: 32 bytes (RFC 4868)
  bool esn = false;               // RFC 4304 extended sequence numbers
  uint32_t replay_window = 1024;  // inbound: packets; 0 disables the check

  // Tunnel endpoints as seen by this gateway. Outbound packets go from local
  // to remote; inbound packets arrive from remote (which may move: NAT).
  IpAddress local;
  IpAddress remote;
  bool udp_encap = false;  // RFC 3948 ESP in UDP
  uint16_t local_port = kNatTraversalPort;
  uint16_t remote_port = kNatTraversalPort;
  DfMode df = DfMode::set;
  uint8_t ttl = 64;
  uint64_t first_sequence = 1;  // outbound: the next sequence number to send

  SaConfig() = default;
  SaConfig(const SaConfig&) = default;
  SaConfig(SaConfig&&) = default;
  SaConfig& operator=(const SaConfig&) = default;
  SaConfig& operator=(SaConfig&&) = default;
  ~SaConfig();

  // Empty when the config is usable; otherwise what is wrong, in words an
  // operator can act on.
  std::string validate() const;
};

}  // namespace traverse::esp
