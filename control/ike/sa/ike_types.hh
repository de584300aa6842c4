// Vocabulary of the IKE state machine: endpoints, roles, states, clocks and
// the traffic-selector range type. Plain data; no thread-safety concerns.
#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace traverse::ike {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Endpoint = asio::ip::udp::endpoint;

// Which side started the IKE SA (RFC 7296 "original initiator"): fixes the
// meaning of SPIi/SPIr and of the key directions.
enum class Role : uint8_t { initiator, responder };

enum class IkeState : uint8_t {
  init_sent,    // initiator: IKE_SA_INIT request out
  init_done,    // responder: IKE_SA_INIT answered, waiting for IKE_AUTH
  auth_sent,    // initiator: IKE_AUTH request out
  established,  // authenticated; exchanges may run
  rekeyed,      // superseded by a rekeyed IKE SA; waits for its delete
  deleting,     // delete request out
  dead,         // to be destroyed by the manager
};
const char* to_string(IkeState s);

enum class ChildState : uint8_t {
  installed,  // both directions in the dataplane
  rekeying,   // a rekey exchange is running for it
  rekeyed,    // replaced; inbound kept briefly for packets in flight
  deleting,
};
const char* to_string(ChildState s);

// An address range with ports and protocol (RFC 7296 3.13.1). Prefixes are
// ranges whose start/end align; "dynamic" is resolved before one is built.
struct TsRange {
  asio::ip::address start;
  asio::ip::address end;
  uint8_t ip_protocol = 0;  // 0 = any
  uint16_t start_port = 0;
  uint16_t end_port = 65535;

  static TsRange from_prefix(const asio::ip::address& network, unsigned prefix_len);
  static TsRange host(const asio::ip::address& a) { return {a, a, 0, 0, 65535}; }
  bool is_v4() const { return start.is_v4(); }
  bool empty() const;
  // The largest prefix covering exactly this range, or -1 if it is no prefix.
  int prefix_length() const;
  std::string to_string() const;
  bool operator==(const TsRange&) const = default;
};

// Intersection of two ranges (RFC 7296 2.9 narrowing); empty() if disjoint.
TsRange intersect(const TsRange& a, const TsRange& b);

}  // namespace traverse::ike
