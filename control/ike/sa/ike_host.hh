// The IKE state machine's view of the process around it: sending datagrams,
// the IPsec backend, connection lookup and Office Mode leases, and logging.
// The gateway daemon, the client and in-process tests each implement it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/result.hh"
#include "control/ike/sa/ike_types.hh"
#include "control/ike/sa/ipsec_backend.hh"
#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

enum class LogLevel : uint8_t { error, warning, info, debug };
constexpr const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "info";
}

class IkeHost {
 public:
  virtual ~IkeHost() = default;
  // Sends one IKE datagram from `local` to `remote`. On the NAT-T port the
  // transport prepends the four-byte non-ESP marker (RFC 3948).
  virtual void send(const Endpoint& local, const Endpoint& remote, ByteView datagram) = 0;
  virtual IpsecBackend& ipsec() = 0;
  // Responder: the connections a peer at `remote` may use, in preference order.
  virtual std::vector<std::shared_ptr<const PeerConfig>> configs_for(const Endpoint& local,
                                                                     const Endpoint& remote) = 0;
  // Office Mode: leases addresses of the requested families from the
  // connection's pool for `peer` and returns them with DNS and split settings.
  virtual Expected<AssignedConfig, std::string> assign_config(const PeerConfig& config,
                                                              const std::string& peer, bool want_v4,
                                                              bool want_v6) = 0;
  virtual void release_config(const PeerConfig& config, const std::string& peer) = 0;
  virtual void log(LogLevel level, std::string_view message) = 0;
  virtual TimePoint now() const { return Clock::now(); }
  // A fresh nonce for an exchange (RFC 7296 2.10). In-process tests override
  // it to order the nonces of colliding rekeys (2.8.1, 2.8.2).
  virtual Bytes make_nonce(std::size_t size) { return random_bytes(size); }
  // A candidate for one of our inbound child SPIs (the manager skips used and
  // reserved ones). Tests override it to make two peers choose the same SPI.
  virtual uint32_t make_child_spi() { return static_cast<uint32_t>(random_u64()); }
};

}  // namespace traverse::ike
