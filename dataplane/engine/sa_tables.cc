// rte_lpm_rcu_qsbr_add is still marked experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "dataplane/engine/sa_tables.hh"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>

namespace traverse::engine {
namespace {

bool is_host_prefix(const Prefix& p) {
  return p.length == (p.address.version == 4 ? 32 : 128);
}

}  // namespace

SaTables::~SaTables() {
  // Shutdown: workers have stopped, so everything can go without waiting.
  for (uint32_t i = 0; i < capacity_; ++i) {
    delete inbound_[i].load();
    delete outbound_[i].load();
  }
  for (Retired& r : retired_) {
    rte_lpm_free(r.lpm4);
    rte_lpm6_free(r.lpm6);
  }
  rte_lpm_free(lpm4_.load());
  rte_lpm6_free(lpm6_.load());
  rte_hash_free(exact_);
}

bool SaTables::init(uint32_t max_sas, rte_rcu_qsbr* rcu, std::string* error) {
  capacity_ = max_sas;
  mask_ = max_sas - 1;
  rcu_ = rcu;
  inbound_ = std::make_unique<std::atomic<InboundEntry*>[]>(capacity_);
  outbound_ = std::make_unique<std::atomic<OutboundEntry*>[]>(capacity_);
  slot_refs_.assign(capacity_, 0);
  free_slots_.reserve(capacity_);
  for (uint32_t slot = capacity_; slot > 0; --slot) {
    free_slots_.push_back(slot - 1);
  }
  rte_hash_parameters params{};
  params.name = "traverse_policy_exact";
  params.entries = capacity_;
  params.key_len = sizeof(PolicyKey);
  // CRC32 instructions: a third of jhash's cost on a 20-byte key.
  params.hash_func = rte_hash_crc;
  params.socket_id = 0;
  // One writer (the control thread), lock-free readers (the workers).
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
  exact_ = rte_hash_create(&params);
  if (exact_ == nullptr) {
    *error = "cannot create the policy hash for " + std::to_string(capacity_) +
             " entries: " + rte_strerror(rte_errno);
    return false;
  }
  if (rcu_ != nullptr) {
    rte_hash_rcu_config rcu_config{};
    rcu_config.v = rcu_;
    rcu_config.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(exact_, &rcu_config) != 0) {
      *error = "cannot attach RCU to the policy hash";
      return false;
    }
  }
  // IPv4 prefixes live in one LPM updated in place: rte_lpm supports one
  // writer with lock-free readers, and RCU reclaims its tbl8 groups. Building
  // a fresh table per change (as for IPv6) would allocate and later free its
  // 64 MiB tbl24 each time, stalling the control thread for seconds without
  // hugepages.
  rte_lpm_config c4{};
  c4.max_rules = std::max<uint32_t>(1024, capacity_);
  c4.number_tbl8s = 4096;
  rte_lpm* lpm4 = rte_lpm_create("traverse_lpm4", 0, &c4);
  if (lpm4 == nullptr) {
    *error = std::string("cannot create the IPv4 prefix policy table: ") + rte_strerror(rte_errno);
    return false;
  }
  if (rcu_ != nullptr) {
    rte_lpm_rcu_config lpm_rcu{};
    lpm_rcu.v = rcu_;
    lpm_rcu.mode = RTE_LPM_QSBR_MODE_DQ;
    if (rte_lpm_rcu_qsbr_add(lpm4, &lpm_rcu) != 0) {
      rte_lpm_free(lpm4);
      *error = "cannot attach RCU to the IPv4 prefix policy table";
      return false;
    }
  }
  lpm4_.store(lpm4, std::memory_order_release);
  std::string detail;
  if (!rebuild_v6_table(&detail)) {
    *error = detail;
    return false;
  }
  return true;
}

bool SaTables::update_prefix(const PrefixKey& key, uint32_t slot, bool add, std::string* detail) {
  if (key.version == 6) {
    return rebuild_v6_table(detail);
  }
  uint32_t address;
  std::memcpy(&address, key.bytes.data(), 4);
  rte_lpm* lpm4 = lpm4_.load(std::memory_order_relaxed);
  const int rc = add ? rte_lpm_add(lpm4, rte_be_to_cpu_32(address), key.length, slot)
                     : rte_lpm_delete(lpm4, rte_be_to_cpu_32(address), key.length);
  if (rc != 0) {
    *detail = add ? "IPv4 prefix policy table is full" : "IPv4 prefix not in the LPM table";
    return false;
  }
  return true;
}

int32_t SaTables::lookup_v4(const uint8_t* dst) const {
  const PolicyKey key = PolicyKey::of(4, dst);
  void* data = nullptr;
  if (rte_hash_lookup_data(exact_, &key, &data) >= 0) {
    return static_cast<int32_t>(reinterpret_cast<uintptr_t>(data));
  }
  return lookup_prefix_v4(dst);
}

int32_t SaTables::lookup_v6(const uint8_t* dst) const {
  const PolicyKey key = PolicyKey::of(6, dst);
  void* data = nullptr;
  if (rte_hash_lookup_data(exact_, &key, &data) >= 0) {
    return static_cast<int32_t>(reinterpret_cast<uintptr_t>(data));
  }
  return lookup_prefix_v6(dst);
}

int32_t SaTables::lookup_prefix_v4(const uint8_t* dst) const {
  uint32_t address;
  std::memcpy(&address, dst, 4);
  uint32_t slot = 0;
  if (rte_lpm_lookup(lpm4_.load(std::memory_order_acquire), rte_be_to_cpu_32(address), &slot) ==
      0) {
    return static_cast<int32_t>(slot);
  }
  return kNoPolicy;
}

int32_t SaTables::lookup_prefix_v6(const uint8_t* dst) const {
  uint32_t slot = 0;
  if (rte_lpm6_lookup(lpm6_.load(std::memory_order_acquire), dst, &slot) == 0) {
    return static_cast<int32_t>(slot);
  }
  return kNoPolicy;
}

void SaTables::lookup_exact_bulk(const PolicyKey** keys, uint32_t n, int32_t* slots) const {
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  for (uint32_t done = 0; done < n;) {
    const uint32_t count = std::min<uint32_t>(n - done, RTE_HASH_LOOKUP_BULK_MAX);
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(exact_, reinterpret_cast<const void**>(keys + done), count, &hits,
                              data);
    for (uint32_t i = 0; i < count; ++i) {
      slots[done + i] = (hits >> i) & 1u
                            ? static_cast<int32_t>(reinterpret_cast<uintptr_t>(data[i]))
                            : kExactMiss;
    }
    done += count;
  }
}

api::ReplyStatus SaTables::add_inbound(std::unique_ptr<InboundEntry> entry, std::string* detail) {
  const uint32_t index = entry->spi & mask_;
  InboundEntry* current = inbound_[index].load(std::memory_order_relaxed);
  if (current != nullptr) {
    *detail = current->spi == entry->spi
                  ? "inbound SPI already installed"
                  : "inbound SPI shares its table index with SPI " + std::to_string(current->spi) +
                        " (the low bits select the slot: allocate SPIs by index)";
    return api::ReplyStatus::exists;
  }
  inbound_[index].store(entry.release(), std::memory_order_release);
  ++inbound_count_;
  return api::ReplyStatus::ok;
}

api::ReplyStatus SaTables::add_outbound(std::unique_ptr<OutboundEntry> entry, uint32_t* slot,
                                        std::string* detail) {
  if (outbound_slot(entry->spi, entry->cookie) >= 0) {
    *detail = "outbound SA with this SPI and cookie already installed";
    return api::ReplyStatus::exists;
  }
  if (free_slots_.empty()) {
    *detail = "all " + std::to_string(capacity_) + " outbound slots are in use";
    return api::ReplyStatus::table_full;
  }
  *slot = free_slots_.back();
  free_slots_.pop_back();
  slot_refs_[*slot] = 1;
  outbound_by_spi_.emplace(entry->spi, *slot);
  outbound_[*slot].store(entry.release(), std::memory_order_release);
  return api::ReplyStatus::ok;
}

void SaTables::unref_slot(uint32_t slot) {
  if (--slot_refs_[slot] == 0) {
    free_slots_.push_back(slot);
  }
}

api::ReplyStatus SaTables::remove(const api::SaRef& sa, std::string* detail) {
  Retired item{};
  const uint32_t spi = sa.spi;
  if (sa.direction == api::Direction::inbound) {
    const uint32_t index = spi & mask_;
    InboundEntry* e = inbound_[index].load(std::memory_order_relaxed);
    if (e == nullptr || e->spi != spi) {
      *detail = "no inbound SA with this SPI";
      return api::ReplyStatus::unknown_sa;
    }
    inbound_[index].store(nullptr, std::memory_order_release);
    --inbound_count_;
    item.inbound.reset(e);
  } else {
    auto it = find_outbound(spi, sa.cookie);
    if (it == outbound_by_spi_.end()) {
      *detail = "no outbound SA with this SPI and cookie";
      return api::ReplyStatus::unknown_sa;
    }
    const uint32_t slot = it->second;
    outbound_by_spi_.erase(it);
    item.outbound.reset(outbound_[slot].exchange(nullptr, std::memory_order_acq_rel));
    // Policies that still name the slot now find nothing there and drop.
    unref_slot(slot);
  }
  retire(std::move(item));
  return api::ReplyStatus::ok;
}

SaTables::OutboundIndex::const_iterator SaTables::find_outbound(uint32_t spi,
                                                                uint64_t cookie) const {
  auto [first, last] = outbound_by_spi_.equal_range(spi);
  for (auto it = first; it != last; ++it) {
    if (outbound_[it->second].load(std::memory_order_relaxed)->cookie == cookie) {
      return it;
    }
  }
  return outbound_by_spi_.end();
}

int32_t SaTables::outbound_slot(uint32_t spi, uint64_t cookie) const {
  auto it = find_outbound(spi, cookie);
  return it == outbound_by_spi_.end() ? -1 : static_cast<int32_t>(it->second);
}

api::ReplyStatus SaTables::add_policy(const Prefix& selector, uint32_t spi, uint64_t cookie,
                                      std::string* detail) {
  const int32_t slot = outbound_slot(spi, cookie);
  if (slot < 0) {
    *detail = "no outbound SA with SPI " + std::to_string(spi) + " and cookie " +
              std::to_string(cookie) + " for this policy";
    return api::ReplyStatus::unknown_sa;
  }
  if (is_host_prefix(selector) && selector.address.version == 6 &&
      PolicyKey::is_v4_mapped(selector.address.bytes.data())) {
    *detail = "IPv4-mapped IPv6 selector: give the IPv4 address instead";
    return api::ReplyStatus::bad_field;
  }
  PrefixKey key{selector.address.version, selector.length, selector.address.bytes};
  auto existing = policies_.find(key);
  const bool replacing = existing != policies_.end();
  const uint32_t old_slot = replacing ? existing->second : 0;
  ++slot_refs_[static_cast<uint32_t>(slot)];
  policies_[key] = static_cast<uint32_t>(slot);
  if (is_host_prefix(selector)) {
    const PolicyKey exact = PolicyKey::of(selector.address.version, selector.address.bytes.data());
    // Replacing the data of an existing key is atomic for lock-free readers.
    if (rte_hash_add_key_data(exact_, &exact,
                              reinterpret_cast<void*>(static_cast<uintptr_t>(slot))) != 0) {
      policies_.erase(key);
      unref_slot(static_cast<uint32_t>(slot));
      *detail = "policy hash is full";
      return api::ReplyStatus::table_full;
    }
  } else if (!update_prefix(key, static_cast<uint32_t>(slot), true, detail)) {
    policies_.erase(key);
    unref_slot(static_cast<uint32_t>(slot));
    return api::ReplyStatus::table_full;
  }
  if (replacing) {
    unref_slot(old_slot);
  }
  return api::ReplyStatus::ok;
}

api::ReplyStatus SaTables::remove_policy(const Prefix& selector, uint32_t spi, uint64_t cookie,
                                         std::string* detail) {
  PrefixKey key{selector.address.version, selector.length, selector.address.bytes};
  auto it = policies_.find(key);
  if (it == policies_.end()) {
    *detail = "no such policy";
    return api::ReplyStatus::unknown_sa;
  }
  const uint32_t slot = it->second;
  if (spi != 0 && outbound_slot(spi, cookie) != static_cast<int32_t>(slot)) {
    *detail = "the policy now belongs to another SA";
    return api::ReplyStatus::unknown_sa;
  }
  policies_.erase(it);
  if (is_host_prefix(selector)) {
    const PolicyKey exact = PolicyKey::of(selector.address.version, selector.address.bytes.data());
    rte_hash_del_key(exact_, &exact);  // RCU-deferred free of the key slot
  } else {
    update_prefix(key, 0, false, detail);
  }
  unref_slot(slot);
  return api::ReplyStatus::ok;
}

bool SaTables::rebuild_v6_table(std::string* detail) {
  // rte_lpm6 has no RCU support for concurrent readers, so IPv6 prefix
  // policies (rare: per site-to-site tunnel) get a fresh table swapped in.
  ++generation_;
  uint32_t v6_rules = 16;
  for (const auto& [key, slot] : policies_) {
    if (key.version == 6 && key.length != 128) {
      ++v6_rules;
    }
  }
  rte_lpm6_config c6{};
  c6.max_rules = v6_rules;
  c6.number_tbl8s = 1024;
  rte_lpm6* lpm6 =
      rte_lpm6_create(("traverse_lpm6_" + std::to_string(generation_)).c_str(), 0, &c6);
  if (lpm6 == nullptr) {
    *detail = std::string("cannot build the IPv6 prefix policy table: ") + rte_strerror(rte_errno);
    return false;
  }
  for (const auto& [key, slot] : policies_) {
    if (key.version != 6 || key.length == 128) {
      continue;  // IPv4, or in the exact-match hash
    }
    if (rte_lpm6_add(lpm6, key.bytes.data(), key.length, slot) != 0) {
      rte_lpm6_free(lpm6);
      *detail = "IPv6 prefix policy table is full";
      return false;
    }
  }
  Retired old{};
  old.lpm6 = lpm6_.exchange(lpm6, std::memory_order_acq_rel);
  retire(std::move(old));
  return true;
}

void SaTables::retire(Retired item) {
  if (rcu_ == nullptr) {
    // No workers (unit tests, start-up): nobody can hold a reference.
    rte_lpm_free(item.lpm4);
    rte_lpm6_free(item.lpm6);
    return;
  }
  item.token = rte_rcu_qsbr_start(rcu_);
  retired_.push_back(std::move(item));
}

void SaTables::reclaim() {
  // Deleted policy-hash keys are reclaimed by rte_hash itself (DQ mode, on
  // its next add or delete).
  size_t kept = 0;
  for (size_t i = 0; i < retired_.size(); ++i) {
    Retired& r = retired_[i];
    if (rte_rcu_qsbr_check(rcu_, r.token, false) == 1) {
      // Destroying the entries wipes their keys (CipherSession's destructor).
      rte_lpm_free(r.lpm4);
      rte_lpm6_free(r.lpm6);
      r.inbound.reset();
      r.outbound.reset();
    } else {
      retired_[kept++] = std::move(r);
    }
  }
  retired_.resize(kept);
}

}  // namespace traverse::engine
