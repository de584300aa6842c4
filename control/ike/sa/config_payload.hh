// Office Mode over the configuration payload (RFC 7296 3.15, RFC 8598):
// what a client asks for, the responder's reply built from its lease, and
// the client reading that reply. Pure functions.
#pragma once

#include "control/ike/message/message.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

inline constexpr uint16_t kAttrIp4Address = 1;
inline constexpr uint16_t kAttrIp4Netmask = 2;
inline constexpr uint16_t kAttrIp4Dns = 3;
inline constexpr uint16_t kAttrIp6Address = 8;
inline constexpr uint16_t kAttrIp6Dns = 10;
inline constexpr uint16_t kAttrIp4Subnet = 13;
inline constexpr uint16_t kAttrIp6Subnet = 15;
inline constexpr uint16_t kAttrDnsDomain = 25;  // RFC 8598

struct ConfigRequest {
  bool want_v4 = false;
  bool want_v6 = false;
};

ConfigRequest read_request(const CpPayload& cp);
CpPayload build_request(bool v4, bool v6);
CpPayload build_reply(const AssignedConfig& assigned);
AssignedConfig read_reply(const CpPayload& cp);

}  // namespace traverse::ike
