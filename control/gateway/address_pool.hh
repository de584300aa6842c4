// An Office Mode address pool: hands out the addresses of one IPv4 or IPv6
// CIDR to authenticated identities and remembers each lease for a while after
// the client leaves, so a returning client gets its address back.
// Memory grows with the number of leases, never with the pool's size (an IPv6
// /64 is fine). Not thread-safe: called from the event loop only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "control/gateway/ip_prefix.hh"
#include "control/ike/result.hh"

namespace traverse::gateway {

using PoolClock = std::chrono::steady_clock;
using TimePoint = PoolClock::time_point;

struct LeaseInfo {
  Address address;
  std::string identity;
  bool online = false;
  TimePoint expires_at = TimePoint::max();  // when an offline lease ends; max() while online
};

class AddressPool {
 public:
  // IPv4 pools exclude the network and broadcast addresses (a /31 or /32 has
  // none); IPv6 pools exclude the subnet-router anycast address (RFC 4291
  // 2.6.1) and use at most the low 64 bits.
  AddressPool(std::string name, const Cidr& network, std::chrono::seconds lease_time);

  // The identity's address: its current or remembered lease if it has one,
  // else a free address. Fails when every address is leased.
  Expected<Address, std::string> acquire(std::string_view identity, TimePoint now);
  // The identity went offline: its address stays reserved for lease_time.
  void release(std::string_view identity, TimePoint now);
  // Frees offline leases whose time is up (acquire does this too).
  void expire(TimePoint now);

  std::vector<LeaseInfo> leases() const;
  // Usable addresses (saturates at UINT64_MAX for very large IPv6 pools).
  uint64_t size() const { return last_offset_ - first_offset_ + 1; }
  uint64_t online_count() const { return online_; }
  uint64_t lease_count() const { return by_identity_.size(); }
  const std::string& name() const { return name_; }
  const Cidr& network() const { return network_; }

 private:
  struct Lease {
    uint64_t offset = 0;
    bool online = false;
    TimePoint expires_at = TimePoint::max();
  };
  Address address_at(uint64_t offset) const;
  void forget(std::unordered_map<std::string, Lease>::iterator lease);

  std::string name_;
  Cidr network_;
  std::chrono::seconds lease_time_;
  uint64_t first_offset_ = 0;
  uint64_t last_offset_ = 0;
  uint64_t next_unused_ = 0;  // every offset below it has been handed out once
  std::set<uint64_t> free_;   // handed out once, since freed; lowest reused first
  std::unordered_map<std::string, Lease> by_identity_;
  std::multimap<TimePoint, std::string> offline_by_expiry_;
  uint64_t online_ = 0;
};

}  // namespace traverse::gateway
