// ARP (RFC 826) and IPv6 neighbor discovery (RFC 4861) on Ethernet: learns a
// neighbor's address and MAC from a received frame, and builds the ARP request
// or neighbor solicitation that asks for one. Pure functions without DPDK or
// state: any thread may call them, workers per packet (no allocation).
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/esp/ip_address.hh"

namespace traverse::engine {

inline constexpr uint32_t kEthernetHeaderLen = 14;
inline constexpr uint32_t kVlanTagLen = 4;
inline constexpr uint32_t kMinFrameLen = 60;  // Ethernet minimum without the FCS
inline constexpr uint32_t kArpFrameLen = kMinFrameLen;
inline constexpr uint32_t kNeighborSolicitationFrameLen = 86;  // 14 + 40 + 24 + 8 (SLLA option)

enum class NeighborSource : uint8_t {
  arp_request,
  arp_reply,
  neighbor_solicitation,   // the sender's source link-layer address option
  neighbor_advertisement,  // the target link-layer address option
  router_advertisement,    // the router's source link-layer address option
};

// What one frame says about one neighbor. Trivially copyable, so a worker can
// put it on a ring as it is.
struct NeighborLearn {
  esp::IpAddress ip;             // the neighbor's address (4 or 6)
  std::array<uint8_t, 6> mac{};  // unicast, never zero
  uint16_t vlan = 0;             // VLAN id of the frame's 802.1Q tag; 0 when untagged
  NeighborSource source = NeighborSource::arp_request;
  // False only for a neighbor advertisement without the override flag: it
  // may confirm a known MAC or fill in a pending one, but must not replace a
  // different known MAC (RFC 4861 7.2.5; proxies and anycast answer so).
  bool may_override = true;
  bool gratuitous = false;  // ARP whose sender and target address are the same
};

// Learns from an Ethernet frame (untagged or with one 802.1Q tag) of `len`
// bytes: the sender of an ARP request or reply (not an ARP probe from
// 0.0.0.0), the source of a neighbor solicitation with a source link-layer
// option, the target of a neighbor advertisement with a target link-layer
// option, the source of a router advertisement with a source link-layer
// option. ND messages must pass RFC 4861's validity checks (hop limit 255,
// code 0, lengths, ICMPv6 checksum, option lengths). Reads nothing past
// `len`; false and `out` unspecified when there is nothing to learn.
bool learn_from_frame(const uint8_t* frame, uint32_t len, NeighborLearn* out);

// The frame builders return the frame's length, or 0 when `cap` is too small
// or an argument is invalid (wrong address version, multicast or unspecified
// addresses). `unicast_mac` null sends to the broadcast (ARP) or to the
// solicited-node multicast address (ND); a MAC sends a unicast probe to a
// known neighbor instead, to confirm it (RFC 1122 2.3.2.1, RFC 4861 7.3.3).
// `vlan` non-zero adds an 802.1Q tag with that VLAN id (priority 0).

// A broadcast ARP request "who has `target`, tell `src_ip`" from `src_mac`,
// padded to 60 bytes (64 when tagged, so it still has 60 once untagged).
uint32_t build_arp_request(uint8_t* out, uint32_t cap, const uint8_t src_mac[6],
                           const esp::IpAddress& src_ip, const esp::IpAddress& target,
                           const uint8_t* unicast_mac = nullptr, uint16_t vlan = 0);

// A neighbor solicitation for `target` from `src_ip` (not ::) to the target's
// solicited-node multicast address ff02::1:ffXX:XXXX and MAC
// 33:33:ff:XX:XX:XX, with a source link-layer address option, hop limit 255
// and the ICMPv6 checksum.
uint32_t build_neighbor_solicitation(uint8_t* out, uint32_t cap, const uint8_t src_mac[6],
                                     const esp::IpAddress& src_ip, const esp::IpAddress& target,
                                     const uint8_t* unicast_mac = nullptr, uint16_t vlan = 0);

// One of the two above, by `target`'s version; `src_ip` must be of the same.
uint32_t build_solicitation(uint8_t* out, uint32_t cap, const uint8_t src_mac[6],
                            const esp::IpAddress& src_ip, const esp::IpAddress& target,
                            const uint8_t* unicast_mac = nullptr, uint16_t vlan = 0);

// Whether `ip` can be a neighbor at all: a unicast IPv4 or IPv6 address that
// is not unspecified, loopback, multicast, broadcast or IPv4-mapped IPv6.
bool is_neighbor_address(const esp::IpAddress& ip);

}  // namespace traverse::engine
