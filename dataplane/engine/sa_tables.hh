// SA and policy tables. Workers read them lock-free: inbound SAs in an array
// indexed by the low bits of the SPI (O(1), full SPI checked), outbound SAs in
// an array of slots, policies by exact Office Mode address (rte_hash) and by
// traffic-selector prefix (rte_lpm updated in place under RCU; rte_lpm6 rebuilt
// and swapped on change).
// Only the control thread writes; removed entries are freed after an RCU
// grace period (workers report quiescent states once per poll loop).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/api/messages.hh"
#include "dataplane/engine/dataplane_config.hh"
#include "dataplane/engine/sa_entry.hh"

struct rte_hash;
struct rte_lpm;
struct rte_lpm6;
struct rte_rcu_qsbr;

namespace traverse::engine {

inline constexpr int32_t kNoPolicy = -1;
// A bulk exact lookup's miss: only the prefix tables can still match.
inline constexpr int32_t kExactMiss = -2;

// Exact-match policy key: an IPv6 address, IPv4 as IPv4-mapped IPv6
// (::ffff:a.b.c.d). 16 bytes, so rte_hash compares keys with one vector
// instruction instead of calling memcmp. add_policy() refuses IPv4-mapped
// IPv6 selectors, which would share an IPv4 address's key.
struct PolicyKey {
  alignas(8) uint8_t bytes[16];

  static PolicyKey of(uint8_t version, const uint8_t* address) {
    // Whole-word stores: the hash reads the key 8 bytes at a time right
    // after it is built, and a load assembled from narrower stores cannot
    // be forwarded from the store buffer (a stall of a dozen cycles).
    PolicyKey key;
    uint64_t words[2];
    if (version == 4) {
      uint32_t v4;
      std::memcpy(&v4, address, 4);
      words[0] = 0;
      words[1] = (uint64_t{0xffff} << 16) | (static_cast<uint64_t>(v4) << 32);
    } else {
      std::memcpy(words, address, 16);
    }
    std::memcpy(key.bytes, words, 16);
    return key;
  }
  static bool is_v4_mapped(const uint8_t* v6) {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6, kPrefix, sizeof kPrefix) == 0;
  }
};
static_assert(sizeof(PolicyKey) == 16);

class SaTables {
 public:
  SaTables() = default;
  ~SaTables();
  SaTables(const SaTables&) = delete;
  SaTables& operator=(const SaTables&) = delete;

  bool init(uint32_t max_sas, rte_rcu_qsbr* rcu, std::string* error);

  // ---- workers (lock-free readers) ----
  InboundEntry* inbound(uint32_t spi) const {
    InboundEntry* e = inbound_[spi & mask_].load(std::memory_order_acquire);
    return e != nullptr && e->spi == spi ? e : nullptr;
  }
  OutboundEntry* outbound_at(uint32_t slot) const {
    return slot < capacity_ ? outbound_[slot].load(std::memory_order_acquire) : nullptr;
  }
  // The outbound slot for an inside destination, or kNoPolicy.
  int32_t lookup_v4(const uint8_t* dst) const;
  int32_t lookup_v6(const uint8_t* dst) const;
  // The prefix tables alone (after an exact miss).
  int32_t lookup_prefix_v4(const uint8_t* dst) const;
  int32_t lookup_prefix_v6(const uint8_t* dst) const;
  // Exact lookups of a burst at once (the hash prefetches its buckets for
  // all keys before comparing any): a slot or kExactMiss per key.
  void lookup_exact_bulk(const PolicyKey** keys, uint32_t n, int32_t* slots) const;
  // Where a worker's inbound lookup of `spi` will read (prefetch target).
  const std::atomic<InboundEntry*>* inbound_cell(uint32_t spi) const {
    return &inbound_[spi & mask_];
  }
  const std::atomic<OutboundEntry*>* outbound_cell(uint32_t slot) const {
    return slot < capacity_ ? &outbound_[slot] : nullptr;
  }

  // ---- control thread ----
  // Outbound SAs are named by (spi, cookie): peers choose outbound SPIs, so
  // two peers may pick the same one (api::SaRef).
  api::ReplyStatus add_inbound(std::unique_ptr<InboundEntry> entry, std::string* detail);
  api::ReplyStatus add_outbound(std::unique_ptr<OutboundEntry> entry, uint32_t* slot,
                                std::string* detail);
  api::ReplyStatus remove(const api::SaRef& sa, std::string* detail);
  api::ReplyStatus add_policy(const Prefix& selector, uint32_t spi, uint64_t cookie,
                              std::string* detail);
  // With `spi` != 0 the policy is removed only while it still points to the
  // SA (spi, cookie): a rekey's new SA takes the selector over before the old
  // one goes.
  api::ReplyStatus remove_policy(const Prefix& selector, uint32_t spi, uint64_t cookie,
                                 std::string* detail);
  // Frees what was retired and whose grace period is over.
  void reclaim();
  // Outbound slot of the SA (spi, cookie) (control-side index), or -1.
  int32_t outbound_slot(uint32_t spi, uint64_t cookie) const;
  // Every outbound SA using `spi`, whatever its cookie (an ICMP error quotes
  // only the SPI; the caller tells them apart by address).
  template <typename Fn>
  void for_each_outbound_with_spi(uint32_t spi, Fn&& fn) const {
    auto [first, last] = outbound_by_spi_.equal_range(spi);
    for (auto it = first; it != last; ++it) {
      fn(it->second, outbound_[it->second].load(std::memory_order_relaxed));
    }
  }
  uint32_t capacity() const { return capacity_; }
  uint32_t inbound_count() const { return inbound_count_; }
  uint32_t outbound_count() const { return static_cast<uint32_t>(outbound_by_spi_.size()); }
  // Every installed SA, for counters and reconciliation (control thread).
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t i = 0; i < capacity_; ++i) {
      if (InboundEntry* e = inbound_[i].load(std::memory_order_relaxed)) {
        fn(e, static_cast<OutboundEntry*>(nullptr));
      }
      if (OutboundEntry* e = outbound_[i].load(std::memory_order_relaxed)) {
        fn(static_cast<InboundEntry*>(nullptr), e);
      }
    }
  }

 private:
  struct Retired {
    uint64_t token;
    std::unique_ptr<InboundEntry> inbound;
    std::unique_ptr<OutboundEntry> outbound;
    rte_lpm* lpm4 = nullptr;
    rte_lpm6* lpm6 = nullptr;
  };
  void retire(Retired item);
  bool rebuild_v6_table(std::string* detail);
  void unref_slot(uint32_t slot);

  uint32_t capacity_ = 0;
  uint32_t mask_ = 0;
  uint32_t inbound_count_ = 0;
  std::unique_ptr<std::atomic<InboundEntry*>[]> inbound_;
  std::unique_ptr<std::atomic<OutboundEntry*>[]> outbound_;
  rte_hash* exact_ = nullptr;  // /32 and /128 selectors -> slot
  std::atomic<rte_lpm*> lpm4_{nullptr};
  std::atomic<rte_lpm6*> lpm6_{nullptr};
  rte_rcu_qsbr* rcu_ = nullptr;
  uint32_t generation_ = 0;  // unique names for rebuilt LPM tables

  // Control-thread bookkeeping. Outbound SPIs rarely collide, so a lookup by
  // (spi, cookie) scans a tiny equal range and reads each entry's cookie.
  using OutboundIndex = std::unordered_multimap<uint32_t, uint32_t>;  // spi -> slot
  OutboundIndex::const_iterator find_outbound(uint32_t spi, uint64_t cookie) const;
  OutboundIndex outbound_by_spi_;
  std::vector<uint32_t> slot_refs_;  // the SA itself + policies using the slot
  std::vector<uint32_t> free_slots_;
  struct PrefixKey {
    uint8_t version;
    uint8_t length;
    std::array<uint8_t, 16> bytes;
    auto operator<=>(const PrefixKey&) const = default;
  };
  // IPv4: in place in the RCU-protected LPM; IPv6: rebuild and swap.
  bool update_prefix(const PrefixKey& key, uint32_t slot, bool add, std::string* detail);
  std::map<PrefixKey, uint32_t> policies_;  // selector -> slot
  std::vector<Retired> retired_;
};

}  // namespace traverse::engine
