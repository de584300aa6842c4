#include "dataplane/engine/neighbor/neighbor_table.hh"

#include <rte_errno.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>

namespace traverse::engine {
namespace {

static_assert(sizeof(void*) >= 8, "the MAC is packed into the hash's 64-bit data pointer");

constexpr size_t kMaxNameLen = 16;  // "HASH_RCU_" + name must fit a ring name

bool valid_mac(const uint8_t* mac) {
  static constexpr uint8_t kZero[6] = {};
  return (mac[0] & 0x01) == 0 && std::memcmp(mac, kZero, 6) != 0;
}

}  // namespace

NeighborCache::~NeighborCache() {
  // With RCU attached this also frees the defer queue; the caller stops the
  // readers (or takes them offline) first.
  rte_hash_free(hash_);
}

uint64_t NeighborCache::ticks(uint32_t ms) const {
  // Split so that a TSC rate times a long timeout cannot overflow.
  const uint64_t per_second = config_.ticks_per_second;
  return per_second / 1000 * ms + per_second % 1000 * ms / 1000;
}

bool NeighborCache::init(const NeighborConfig& config, rte_rcu_qsbr* rcu, std::string* error) {
  if (hash_ != nullptr) {
    *error = "neighbor cache '" + config.name + "' is already initialised";
    return false;
  }
  if (config.name.empty() || config.name.size() > kMaxNameLen) {
    *error = "neighbor cache name '" + config.name + "' must have 1 to 16 characters";
    return false;
  }
  if (config.capacity < 8 || config.max_pending == 0 || config.ticks_per_second == 0 ||
      config.lifetime_ms < config.reachable_ms) {
    *error = "neighbor cache '" + config.name +
             "': capacity must be at least 8, max_pending and ticks_per_second non-zero, and "
             "lifetime_ms at least reachable_ms";
    return false;
  }
  if (rcu == nullptr) {
    // Without RCU a lock-free hash never frees deleted key slots.
    *error = "neighbor cache '" + config.name + "' needs an RCU variable";
    return false;
  }
  config_ = config;
  rte_hash_parameters params{};
  params.name = config_.name.c_str();
  params.entries = config_.capacity;
  params.key_len = sizeof(Key::bytes);
  params.socket_id = config_.socket_id;
  // The extendable table lets the hash hold `capacity` keys whatever their
  // hashes, so only the entry count limits learning.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&params);
  if (hash_ == nullptr) {
    *error = "cannot create the neighbor hash '" + config_.name + "' for " +
             std::to_string(config_.capacity) + " entries: " + rte_strerror(rte_errno);
    return false;
  }
  rte_hash_rcu_config rcu_config{};
  rcu_config.v = rcu;
  rcu_config.mode = RTE_HASH_QSBR_MODE_DQ;
  if (rte_hash_rcu_qsbr_add(hash_, &rcu_config) != 0) {
    *error =
        "cannot attach RCU to the neighbor hash '" + config_.name + "': " + rte_strerror(rte_errno);
    rte_hash_free(hash_);
    hash_ = nullptr;
    return false;
  }
  used_size_ = static_cast<uint32_t>(rte_hash_max_key_id(hash_));
  used_ = std::make_unique<std::atomic<uint8_t>[]>(used_size_);
  entries_.reserve(config_.capacity);
  pending_.reserve(config_.max_pending);
  return true;
}

NeighborCache::Pending* NeighborCache::find_pending(const esp::IpAddress& ip) {
  for (Pending& p : pending_) {
    if (p.ip == ip) {
      return &p;
    }
  }
  return nullptr;
}

void NeighborCache::drop_pending(const esp::IpAddress& ip) {
  std::erase_if(pending_, [&](const Pending& p) { return p.ip == ip; });
}

void NeighborCache::drop_timed_out_pending(uint64_t now) {
  const uint64_t timeout = ticks(config_.pending_timeout_ms);
  // Callers pass the time their loop started; a solicitation sent later in
  // that loop has a newer stamp and must not look billions of ticks old.
  std::erase_if(pending_, [&](const Pending& p) {
    return now > p.last_sent && now - p.last_sent >= timeout;
  });
}

LearnResult NeighborCache::learn(const esp::IpAddress& ip, const uint8_t mac[6], uint64_t now) {
  NeighborLearn learned;
  learned.ip = ip;
  std::memcpy(learned.mac.data(), mac, 6);
  return learn(learned, now);
}

bool NeighborCache::prepare(const esp::IpAddress& in, const uint8_t* mac, esp::IpAddress* ip,
                            Key* key) {
  if (hash_ == nullptr || mac == nullptr || !is_neighbor_address(in) || !valid_mac(mac) ||
      !make_key(in.version, in.bytes.data(), key)) {
    ++counters_.invalid;
    return false;
  }
  // IPv4 addresses carry 12 unused bytes that must not matter.
  *ip = esp::IpAddress{};
  ip->version = in.version;
  std::memcpy(ip->bytes.data(), in.bytes.data(), in.length());
  return true;
}

LearnResult NeighborCache::insert(const Key& key, const esp::IpAddress& ip, uint64_t mac,
                                  uint64_t now, bool in_use, bool permanent) {
  void* data = reinterpret_cast<void*>(static_cast<uintptr_t>(mac));
  // Fails with -ENOSPC also while deleted slots wait for their grace period.
  if (entries_.size() >= config_.capacity || rte_hash_add_key_data(hash_, key.bytes, data) != 0) {
    ++counters_.table_full;
    return LearnResult::table_full;
  }
  const int32_t position = rte_hash_lookup(hash_, key.bytes);
  if (position >= 0 && static_cast<uint32_t>(position) < used_size_) {
    used_[position].store(in_use ? 1 : 0, std::memory_order_relaxed);
  }
  entries_.emplace(key, Entry{ip, mac, now, position, permanent});
  drop_pending(ip);
  ++counters_.added;
  return LearnResult::added;
}

LearnResult NeighborCache::learn(const NeighborLearn& learned, uint64_t now) {
  Key key;
  esp::IpAddress ip;
  if (!prepare(learned.ip, learned.mac.data(), &ip, &key)) {
    return LearnResult::invalid;
  }
  const uint64_t mac = pack_mac(learned.mac.data());
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Entry& entry = it->second;
    if (entry.mac == mac) {
      entry.confirmed = now;
      drop_pending(ip);  // the answer to a refresh solicitation
      ++counters_.confirmed;
      return LearnResult::confirmed;
    }
    // Configuration outranks the wire; so does a known MAC against an
    // advertisement without the override flag.
    if (entry.permanent || !learned.may_override) {
      ++counters_.kept;
      return LearnResult::kept;
    }
    // An existing key: rte_hash replaces its data pointer with one atomic
    // release store, so readers see the old MAC or the new one.
    if (rte_hash_add_key_data(hash_, key.bytes,
                              reinterpret_cast<void*>(static_cast<uintptr_t>(mac))) != 0) {
      ++counters_.table_full;
      return LearnResult::table_full;
    }
    entry.mac = mac;
    entry.confirmed = now;
    drop_pending(ip);
    ++counters_.changed;
    return LearnResult::changed;
  }
  const bool requested = find_pending(ip) != nullptr;
  if (!requested && !config_.learn_unsolicited) {
    ++counters_.not_requested;
    return LearnResult::not_requested;
  }
  // An address we solicited was wanted by traffic: count it as in use.
  return insert(key, ip, mac, now, requested, false);
}

LearnResult NeighborCache::pin(const esp::IpAddress& addr, const uint8_t mac[6]) {
  Key key;
  esp::IpAddress ip;
  if (!prepare(addr, mac, &ip, &key)) {
    return LearnResult::invalid;
  }
  const uint64_t packed = pack_mac(mac);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return insert(key, ip, packed, 0, false, true);
  }
  Entry& entry = it->second;
  entry.permanent = true;
  if (entry.mac == packed) {
    ++counters_.confirmed;
    return LearnResult::confirmed;
  }
  if (rte_hash_add_key_data(hash_, key.bytes,
                            reinterpret_cast<void*>(static_cast<uintptr_t>(packed))) != 0) {
    ++counters_.table_full;
    return LearnResult::table_full;
  }
  entry.mac = packed;
  ++counters_.changed;
  return LearnResult::changed;
}

bool NeighborCache::should_solicit(const esp::IpAddress& addr, uint64_t now) {
  if (!is_neighbor_address(addr)) {
    return false;
  }
  esp::IpAddress ip;
  ip.version = addr.version;
  std::memcpy(ip.bytes.data(), addr.bytes.data(), addr.length());
  if (Pending* p = find_pending(ip)) {
    if (now - p->last_sent < ticks(config_.solicit_interval_ms)) {
      ++counters_.solicit_limited;
      return false;
    }
    p->last_sent = now;
    ++counters_.solicited;
    return true;
  }
  if (pending_.size() >= config_.max_pending) {
    drop_timed_out_pending(now);
    if (pending_.size() >= config_.max_pending) {
      ++counters_.pending_full;
      return false;
    }
  }
  pending_.push_back(Pending{ip, now});
  ++counters_.solicited;
  return true;
}

uint32_t NeighborCache::expire(uint64_t now, std::vector<esp::IpAddress>* refresh) {
  if (hash_ == nullptr || now < next_scan_) {
    return 0;
  }
  next_scan_ = now + ticks(config_.scan_interval_ms);
  drop_timed_out_pending(now);
  const uint64_t lifetime = ticks(config_.lifetime_ms);
  const uint64_t reachable = ticks(config_.reachable_ms);
  uint32_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& entry = it->second;
    const uint64_t age = now > entry.confirmed ? now - entry.confirmed : 0;
    bool used = false;
    if (entry.position >= 0 && static_cast<uint32_t>(entry.position) < used_size_) {
      used = used_[entry.position].exchange(0, std::memory_order_relaxed) != 0;
    }
    if (entry.permanent) {
      ++it;
      continue;
    }
    if (age >= lifetime) {
      // With RCU attached the key slot goes to the defer queue and is reused
      // only after every reader has passed a quiescent state.
      rte_hash_del_key(hash_, it->first.bytes);
      it = entries_.erase(it);
      ++removed;
      continue;
    }
    if (refresh != nullptr && used && age >= reachable) {
      refresh->push_back(entry.ip);
    }
    ++it;
  }
  counters_.expired += removed;
  return removed;
}

bool NeighborCache::remove(const esp::IpAddress& addr) {
  Key key;
  if (hash_ == nullptr || !make_key(addr.version, addr.bytes.data(), &key)) {
    return false;
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return false;
  }
  rte_hash_del_key(hash_, key.bytes);
  entries_.erase(it);
  return true;
}

}  // namespace traverse::engine
