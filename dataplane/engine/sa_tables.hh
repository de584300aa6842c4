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

  // ---- control thread ----
  api::ReplyStatus add_inbound(std::unique_ptr<InboundEntry> entry, std::string* detail);
  api::ReplyStatus add_outbound(std::unique_ptr<OutboundEntry> entry, uint32_t* slot,
                                std::string* detail);
  api::ReplyStatus remove(uint32_t spi, api::Direction direction, std::string* detail);
  api::ReplyStatus add_policy(const Prefix& selector, uint32_t spi, std::string* detail);
  // With `spi` != 0 the policy is removed only while it still points to that
  // SA: a rekey's new SA takes the selector over before the old one goes.
  api::ReplyStatus remove_policy(const Prefix& selector, uint32_t spi, std::string* detail);
  // Frees what was retired and whose grace period is over.
  void reclaim();
  // Outbound slot of an SPI (control-side index), or -1.
  int32_t outbound_slot(uint32_t spi) const;
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

  // Control-thread bookkeeping.
  std::unordered_map<uint32_t, uint32_t> outbound_by_spi_;  // spi -> slot
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
