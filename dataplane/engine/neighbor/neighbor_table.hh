// The neighbor cache of one port: next-hop address -> MAC, learned from ARP
// and ND, solicited on misses (rate-limited, bounded), expired when no longer
// confirmed. Workers call lookup() lock-free and allocation-free; everything
// else belongs to one control thread (the single writer).
//
// Readers and the writer share an rte_hash with lock-free reader/writer
// concurrency. The MAC is packed into the hash's data pointer, so a reader
// needs one lookup and never sees a torn MAC (one 64-bit atomic store per
// change). Deleted key slots are reused only after an RCU grace period: the
// caller's rte_rcu_qsbr is attached to the hash in defer-queue mode
// (rte_hash_rcu_qsbr_add), so every thread that calls lookup() must be
// registered with it and report quiescent states (workers do once per poll
// loop; an idle worker goes offline). Until readers move on, deleted slots
// stay unavailable, which at worst makes a full table refuse a new entry.
#pragma once

#include <rte_ether.h>
#include <rte_hash.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/engine/neighbor/arp_nd.hh"
#include "dataplane/esp/ip_address.hh"

struct rte_rcu_qsbr;

namespace traverse::engine {

struct NeighborConfig {
  // Names the rte_hash and its rings: unique in the process, at most 16 chars.
  std::string name = "neighbors";
  uint32_t capacity = 1024;  // entries (rte_hash minimum: 8)
  int socket_id = -1;        // SOCKET_ID_ANY
  // The unit of every `now` passed in: rte_get_tsc_hz() when `now` is the TSC.
  uint64_t ticks_per_second = 1000;
  // An entry in use and not confirmed for this long is listed for a refresh
  // solicitation by expire(); unused entries are just left to expire.
  uint32_t reachable_ms = 30'000;
  // An entry not confirmed for this long is removed.
  uint32_t lifetime_ms = 60'000;
  // At most one solicitation per address per interval.
  uint32_t solicit_interval_ms = 1'000;
  // An address asked for and not answered leaves the pending set this long
  // after its last solicitation; replies arriving later are not taken.
  uint32_t pending_timeout_ms = 3'000;
  // Addresses being solicited at once: bounds the solicitation rate to
  // max_pending per solicit_interval, whatever the traffic does.
  uint32_t max_pending = 256;
  // expire() scans the table at most this often (it is called every loop).
  uint32_t scan_interval_ms = 1'000;
  // False (the default, like Linux's arp_accept=0): a frame creates an entry
  // only for an address we solicited, and otherwise only updates or confirms
  // an existing one, so unrelated ARP/ND traffic (or a flood of it) cannot
  // fill the table.
  bool learn_unsolicited = false;
};

enum class LearnResult : uint8_t {
  added,          // new entry (it was pending, or learn_unsolicited)
  changed,        // known address, new MAC
  confirmed,      // known address, same MAC: its timer restarts
  kept,           // known address, different MAC, but no override flag
  not_requested,  // unknown address that nobody asked for
  invalid,        // not a neighbor address or not a unicast MAC
  table_full,
};

// Control-side counters, for the control socket.
struct NeighborCounters {
  uint64_t added = 0;
  uint64_t changed = 0;
  uint64_t confirmed = 0;
  uint64_t kept = 0;
  uint64_t not_requested = 0;
  uint64_t invalid = 0;
  uint64_t table_full = 0;
  uint64_t expired = 0;
  uint64_t solicited = 0;        // should_solicit() said yes
  uint64_t solicit_limited = 0;  // asked again within the interval
  uint64_t pending_full = 0;     // refused: too many addresses pending
};

class NeighborCache {
 public:
  NeighborCache() = default;
  ~NeighborCache();
  NeighborCache(const NeighborCache&) = delete;
  NeighborCache& operator=(const NeighborCache&) = delete;

  // Needs the EAL. `rcu` is required (see the top of this file); false with
  // a reason on a bad config or when DPDK cannot allocate.
  bool init(const NeighborConfig& config, rte_rcu_qsbr* rcu, std::string* error);

  // ---- workers: lock-free, any number of threads ----
  // The MAC of a next hop given as 4 (IPv4) or 16 (IPv6) bytes at `addr`.
  bool lookup(uint8_t version, const uint8_t* addr, uint8_t mac_out[6]) const;
  bool lookup(const esp::IpAddress& addr, rte_ether_addr* mac) const {
    return lookup(addr.version, addr.bytes.data(), mac->addr_bytes);
  }

  // ---- control thread only ----
  LearnResult learn(const NeighborLearn& learned, uint64_t now);
  // A report that carries only the address and MAC (override allowed).
  LearnResult learn(const esp::IpAddress& ip, const uint8_t mac[6], uint64_t now);
  // Whether to send a solicitation for `addr` now; when true it is recorded
  // as sent (pending). False within solicit_interval of the last one, when
  // max_pending other addresses are pending, or for a non-neighbor address.
  bool should_solicit(const esp::IpAddress& addr, uint64_t now);
  // Removes entries not confirmed within lifetime_ms and drops timed-out
  // pending addresses; returns how many entries it removed. When `refresh`
  // is given, appends entries older than reachable_ms that workers looked up
  // since the previous scan: solicit them (through should_solicit) so that a
  // next hop in use is re-confirmed before it expires. Scans at most once
  // per scan_interval_ms.
  uint32_t expire(uint64_t now, std::vector<esp::IpAddress>* refresh = nullptr);
  // A permanent entry from configuration (like `ip neigh ... permanent`):
  // never expires or needs refreshing, and snooped frames do not replace its
  // MAC. Pinning again changes the MAC. Call once, not periodically.
  LearnResult pin(const esp::IpAddress& ip, const uint8_t mac[6]);
  // Forgets one entry, pinned or learned (an operator's flush); false when
  // it was not there.
  bool remove(const esp::IpAddress& addr);

  uint32_t size() const { return static_cast<uint32_t>(entries_.size()); }
  uint32_t pending() const { return static_cast<uint32_t>(pending_.size()); }
  const NeighborCounters& counters() const { return counters_; }
  // Calls f(ip, mac, last_confirmed, permanent) for each entry (listing).
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [key, entry] : entries_) {
      std::array<uint8_t, 6> mac;
      unpack_mac(entry.mac, mac.data());
      f(entry.ip, mac, entry.confirmed, entry.permanent);
    }
  }

 private:
  // IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d): one 16-byte key for both
  // versions (rte_hash compares 16-byte keys with one vector instruction).
  // Real IPv6 neighbors are never IPv4-mapped, so the mapping is one-to-one.
  struct Key {
    alignas(8) uint8_t bytes[16];
    bool operator==(const Key& o) const { return std::memcmp(bytes, o.bytes, 16) == 0; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t a;
      uint64_t b;
      std::memcpy(&a, k.bytes, 8);
      std::memcpy(&b, k.bytes + 8, 8);
      return static_cast<size_t>(a * 0x9e3779b97f4a7c15ull ^ b);
    }
  };
  struct Entry {
    esp::IpAddress ip;
    uint64_t mac = 0;  // packed, as in the hash
    uint64_t confirmed = 0;
    int32_t position = -1;  // the hash's key position: index into used_
    bool permanent = false;
  };
  struct Pending {
    esp::IpAddress ip;
    uint64_t last_sent = 0;
  };

  static bool make_key(uint8_t version, const uint8_t* addr, Key* key);
  // Validates, normalises (IPv4 uses 4 of the 16 bytes) and builds the key.
  bool prepare(const esp::IpAddress& in, const uint8_t* mac, esp::IpAddress* ip, Key* key);
  LearnResult insert(const Key& key, const esp::IpAddress& ip, uint64_t mac, uint64_t now,
                     bool in_use, bool permanent);
  static uint64_t pack_mac(const uint8_t* mac);
  static void unpack_mac(uint64_t packed, uint8_t* mac);
  uint64_t ticks(uint32_t ms) const;
  Pending* find_pending(const esp::IpAddress& ip);
  void drop_pending(const esp::IpAddress& ip);
  void drop_timed_out_pending(uint64_t now);

  NeighborConfig config_;
  rte_hash* hash_ = nullptr;
  // One "looked up since the last scan" flag per key position: workers set
  // it (only when clear, so the line stays shared), the scan clears it.
  std::unique_ptr<std::atomic<uint8_t>[]> used_;
  uint32_t used_size_ = 0;
  std::unordered_map<Key, Entry, KeyHash> entries_;  // control-side mirror
  std::vector<Pending> pending_;
  uint64_t next_scan_ = 0;
  NeighborCounters counters_;
};

inline bool NeighborCache::make_key(uint8_t version, const uint8_t* addr, Key* key) {
  if (version == 4) {
    std::memset(key->bytes, 0, 10);
    key->bytes[10] = 0xff;
    key->bytes[11] = 0xff;
    std::memcpy(key->bytes + 12, addr, 4);
    return true;
  }
  if (version == 6) {
    std::memcpy(key->bytes, addr, 16);
    static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(key->bytes, kMappedPrefix, 12) != 0;
  }
  return false;
}

inline uint64_t NeighborCache::pack_mac(const uint8_t* mac) {
  uint64_t packed = 0;
  for (int i = 0; i < 6; ++i) {
    packed = packed << 8 | mac[i];
  }
  return packed;
}

inline void NeighborCache::unpack_mac(uint64_t packed, uint8_t* mac) {
  for (int i = 5; i >= 0; --i) {
    mac[i] = static_cast<uint8_t>(packed);
    packed >>= 8;
  }
}

inline bool NeighborCache::lookup(uint8_t version, const uint8_t* addr, uint8_t mac_out[6]) const {
  Key key;
  if (!make_key(version, addr, &key)) {
    return false;
  }
  void* data = nullptr;
  const int32_t position = rte_hash_lookup_data(hash_, key.bytes, &data);
  if (position < 0) {
    return false;
  }
  unpack_mac(reinterpret_cast<uintptr_t>(data), mac_out);
  if (static_cast<uint32_t>(position) < used_size_ &&
      used_[position].load(std::memory_order_relaxed) == 0) {
    used_[position].store(1, std::memory_order_relaxed);
  }
  return true;
}

}  // namespace traverse::engine
