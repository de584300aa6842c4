// Office Mode over the configuration payload (RFC 7296 3.15, RFC 8598):
// what a client asks for, the responder's reply built from its lease, and
// the client reading that reply. Pure functions.
#pragma once

#include "control/ike/message/message.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

// The codec's attribute numbers as plain values, for switch statements.
inline constexpr auto kAttrIp4Address =
    static_cast<uint16_t>(ConfigAttributeType::internal_ip4_address);
inline constexpr auto kAttrIp4Dns = static_cast<uint16_t>(ConfigAttributeType::internal_ip4_dns);
inline constexpr auto kAttrIp6Address =
    static_cast<uint16_t>(ConfigAttributeType::internal_ip6_address);
inline constexpr auto kAttrIp6Dns = static_cast<uint16_t>(ConfigAttributeType::internal_ip6_dns);
inline constexpr auto kAttrIp4Subnet =
    static_cast<uint16_t>(ConfigAttributeType::internal_ip4_subnet);
inline constexpr auto kAttrIp6Subnet =
    static_cast<uint16_t>(ConfigAttributeType::internal_ip6_subnet);
inline constexpr auto kAttrDnsDomain =
    static_cast<uint16_t>(ConfigAttributeType::internal_dns_domain);  // RFC 8598

struct ConfigRequest {
  bool want_v4 = false;
  bool want_v6 = false;
};

ConfigRequest read_request(const CpPayload& cp);
CpPayload build_request(bool v4, bool v6);
CpPayload build_reply(const AssignedConfig& assigned);
AssignedConfig read_reply(const CpPayload& cp);

}  // namespace traverse::ike
