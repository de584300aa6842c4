#include "control/gateway/address_pool.hh"

#include <algorithm>

namespace traverse::gateway {

AddressPool::AddressPool(std::string name, const Cidr& network, std::chrono::seconds lease_time)
    : name_(std::move(name)), network_(network), lease_time_(lease_time) {
  const unsigned host_bits = std::min<unsigned>(network.max_prefix() - network.prefix, 64);
  const uint64_t last = host_bits == 64 ? UINT64_MAX : (uint64_t{1} << host_bits) - 1;
  if (network.address.version == 4) {
    // RFC 3021: a /31 has no network or broadcast address; a /32 is one host.
    first_offset_ = host_bits >= 2 ? 1 : 0;
    last_offset_ = host_bits >= 2 ? last - 1 : last;
  } else {
    first_offset_ = host_bits >= 1 ? 1 : 0;
    last_offset_ = last;
  }
  next_unused_ = first_offset_;
}

Address AddressPool::address_at(uint64_t offset) const {
  Address out = network_.address;
  // Add the offset to the low 64 bits (the host bits are zero in network_).
  for (size_t i = 0; i < 8 && i < out.length() && offset != 0; ++i) {
    const size_t index = out.length() - 1 - i;
    out.bytes[index] = static_cast<uint8_t>(out.bytes[index] | (offset & 0xff));
    offset >>= 8;
  }
  return out;
}

void AddressPool::forget(std::unordered_map<std::string, Lease>::iterator lease) {
  if (lease->second.online) {
    --online_;
  }
  free_.insert(lease->second.offset);
  by_identity_.erase(lease);
}

void AddressPool::expire(TimePoint now) {
  while (!offline_by_expiry_.empty() && offline_by_expiry_.begin()->first <= now) {
    auto lease = by_identity_.find(offline_by_expiry_.begin()->second);
    if (lease != by_identity_.end() && !lease->second.online) {
      forget(lease);
    }
    offline_by_expiry_.erase(offline_by_expiry_.begin());
  }
}

Expected<Address, std::string> AddressPool::acquire(std::string_view identity, TimePoint now) {
  expire(now);
  const std::string key(identity);
  if (auto found = by_identity_.find(key); found != by_identity_.end()) {
    Lease& lease = found->second;
    if (!lease.online) {
      // Drop the pending expiry; release() will schedule a new one.
      auto [first, last] = offline_by_expiry_.equal_range(lease.expires_at);
      for (auto it = first; it != last; ++it) {
        if (it->second == key) {
          offline_by_expiry_.erase(it);
          break;
        }
      }
      lease.online = true;
      lease.expires_at = TimePoint::max();
      ++online_;
    }
    return address_at(lease.offset);
  }
  uint64_t offset = 0;
  if (!free_.empty()) {
    offset = *free_.begin();
    free_.erase(free_.begin());
  } else if (next_unused_ <= last_offset_ && next_unused_ >= first_offset_) {
    // next_unused_ wraps to 0 after UINT64_MAX, which the second test catches.
    offset = next_unused_++;
  } else {
    return unexpected("pool '" + name_ + "' (" + network_.to_string() + ") is exhausted: all " +
                      std::to_string(size()) + " addresses are leased (" + std::to_string(online_) +
                      " online, " + std::to_string(by_identity_.size() - online_) +
                      " reserved for returning clients)");
  }
  by_identity_.emplace(key, Lease{offset, true, TimePoint::max()});
  ++online_;
  return address_at(offset);
}

void AddressPool::release(std::string_view identity, TimePoint now) {
  auto found = by_identity_.find(std::string(identity));
  if (found == by_identity_.end() || !found->second.online) {
    return;
  }
  Lease& lease = found->second;
  lease.online = false;
  --online_;
  lease.expires_at = now + lease_time_;
  offline_by_expiry_.emplace(lease.expires_at, found->first);
}

std::vector<LeaseInfo> AddressPool::leases() const {
  std::vector<LeaseInfo> out;
  out.reserve(by_identity_.size());
  for (const auto& [identity, lease] : by_identity_) {
    out.push_back({address_at(lease.offset), identity, lease.online, lease.expires_at});
  }
  std::sort(out.begin(), out.end(),
            [](const LeaseInfo& a, const LeaseInfo& b) { return a.address < b.address; });
  return out;
}

}  // namespace traverse::gateway
