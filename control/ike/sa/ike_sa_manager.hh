// All IKE SAs of a process: dispatches datagrams to them by SPI, answers what
// no SA owns (INVALID_IKE_SPI is not sent: RFC 7296 2.21 lets us stay
// silent), enforces the half-open and per-source limits and COOKIE challenges
// (RFC 7296 2.6), drives timers, and routes dataplane events to their SA.
// Per-datagram and per-event lookups go through hash indexes (our IKE SPI,
// child SA id and SPIs, peer identity); tick() visits only the SAs whose next
// deadline has come, from a min-heap. Single-threaded: the event loop calls
// everything.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/sa/ike_host.hh"
#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

// Named event counters for operators (traversectl counters).
class IkeCounters {
 public:
  void add(const std::string& name, uint64_t n = 1) { values_[name] += n; }
  uint64_t get(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second;
  }
  const std::map<std::string, uint64_t>& all() const { return values_; }

 private:
  std::map<std::string, uint64_t> values_;
};

class IkeSaManager {
 public:
  IkeSaManager(IkeHost& host, IkeSettings settings);
  ~IkeSaManager();

  // Every IKE datagram the transports receive (non-ESP marker removed).
  void on_datagram(const Endpoint& local, const Endpoint& remote, ByteView datagram);
  void tick(TimePoint now);

  // Starts an IKE SA to config.remote; returns its id.
  uint64_t initiate(std::shared_ptr<const PeerConfig> config, const Endpoint& local);

  // Dataplane events, identified as the dataplane names the SA: inbound by
  // SPI, outbound by SPI and cookie (the child id; 0 when unknown).
  void on_child_soft_lifetime(const SaKey& sa);
  void on_child_hard_lifetime(const SaKey& sa);
  void on_peer_address_changed(uint32_t inbound_spi, const Endpoint& remote);
  void on_dataplane_restarted();
  // A peer authenticated with INITIAL_CONTACT: drop its other IKE SAs.
  void on_initial_contact(const IkeSa& fresh);

  // Operator actions; false when no such SA.
  bool terminate_ike(uint64_t id);
  bool terminate_child(uint64_t child_id);
  std::size_t terminate_peer(const std::string& remote_id);
  bool rekey_ike(uint64_t id);
  bool rekey_child(uint64_t child_id);
  void shutdown();  // deletes every SA (sends deletes, removes from the dataplane)

  IkeSa* find(uint64_t id);
  IkeSa* find_by_child(uint64_t child_id);
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [id, sa] : by_id_)
      f(*sa);
  }
  std::size_t ike_sa_count() const { return by_id_.size(); }
  std::size_t child_sa_count() const { return child_ike_.size(); }
  std::size_t half_open_count() const { return half_open_ids_.size(); }

  IkeHost& host() { return host_; }
  const IkeSettings& settings() const { return settings_; }
  IkeCounters& counters() { return counters_; }

  // --- for IkeSa ---
  uint64_t allocate_ike_spi();
  uint32_t allocate_child_spi();
  uint64_t next_child_id() { return ++last_child_id_; }
  void register_child(uint32_t spi_in, uint64_t ike_id) { child_owner_[spi_in] = ike_id; }
  void unregister_child(uint32_t spi_in) {
    child_owner_.erase(spi_in);
    const uint32_t mask = host_.ipsec().spi_slot_mask();
    if (mask != 0)
      used_slots_.erase(spi_in & mask);
  }
  // A rekeyed IKE SA: the successor, registered under its own SPI.
  IkeSa& create_successor(Role role, const Endpoint& local, const Endpoint& remote, uint64_t spi_i,
                          uint64_t spi_r);
  void half_open_done(const IkeSa& sa);  // left the half-open state
  // When an initiator learns the responder's SPI, nothing changes (indexed by ours).

  // The child SA index: which IKE SA holds a child, by child id and by SPI.
  // IkeSa reports each child it adds, moves or removes and each SPI it clears.
  void child_added(const ChildSa& child, uint64_t ike_id);
  void child_moved(const ChildSa& child, uint64_t ike_id);
  void child_removed(const ChildSa& child);
  void child_spi_cleared(const ChildSa& child, bool inbound);
  void remote_id_changed(const IkeSa& sa, const std::string& old_id);
  void sa_died(const IkeSa& sa);  // reaped at the next tick
  // Queues the SA's next deadline if it is earlier than the one queued; call
  // after anything that may have brought a timer of the SA forward.
  void schedule(IkeSa& sa);

  // Test support: walks every SA (O(all)) and describes the first place where
  // an index or the timer heap disagrees with them; empty when consistent.
  std::string audit() const;

 private:
  void on_init_request(const Endpoint& local, const Endpoint& remote, const Message& request,
                       ByteView datagram);
  bool cookie_required(const Endpoint& remote) const;
  Bytes make_cookie(ByteView nonce, const Endpoint& remote, uint64_t spi_i) const;
  bool cookie_valid(ByteView cookie, ByteView nonce, const Endpoint& remote, uint64_t spi_i) const;
  void send_plain_notify(const Endpoint& local, const Endpoint& remote, const Header& request,
                         uint16_t notify, ByteView data);
  void reap(TimePoint now);
  IkeSa* by_local_spi(uint64_t spi);
  IkeSa* add(std::unique_ptr<IkeSa> sa);
  // The child with this SPI. Outbound SPIs are the peers' choice, so several
  // children may share one: the cookie (child id) picks, and without one the
  // first in IKE SA id, then child id order.
  std::pair<IkeSa*, uint64_t> child_by_spi(uint32_t spi, bool inbound, uint64_t cookie = 0);
  std::vector<uint64_t> ids_of_peer(const std::string& remote_id) const;  // ascending

  using InitKey = std::pair<std::string, uint64_t>;  // initiator's address#port, SPIi
  struct InitKeyHash {
    std::size_t operator()(const InitKey& k) const {
      return std::hash<std::string>()(k.first) ^ (std::hash<uint64_t>()(k.second) * 31);
    }
  };
  using Deadline = std::pair<TimePoint, uint64_t>;  // when, IKE SA id

  IkeHost& host_;
  IkeSettings settings_;
  IkeCounters counters_;
  // Owns the SAs; ordered, so for_each and bulk actions go in creation order.
  std::map<uint64_t, std::unique_ptr<IkeSa>> by_id_;
  std::unordered_map<uint64_t, IkeSa*> sa_index_;  // IKE SA id -> SA
  std::unordered_map<uint64_t, IkeSa*> by_spi_;    // our SPI -> SA
  // Responder: IKE_SA_INIT retransmissions find their half-open SA by the
  // initiator's SPI and address.
  std::unordered_map<InitKey, uint64_t, InitKeyHash> init_index_;
  std::unordered_map<uint64_t, InitKey> init_key_of_;  // IKE SA id -> its init_index_ key
  std::unordered_map<std::string, std::size_t> half_open_per_source_;
  std::unordered_map<uint64_t, std::string> half_open_ids_;           // IKE SA id -> source key
  std::unordered_map<uint32_t, uint64_t> child_owner_;                // inbound SPI -> IKE SA id
  std::unordered_set<uint32_t> used_slots_;                           // spi & backend slot mask
  std::unordered_map<uint64_t, uint64_t> child_ike_;                  // child id -> IKE SA id
  std::unordered_multimap<uint32_t, uint64_t> child_in_;              // inbound SPI -> child id
  std::unordered_multimap<uint32_t, uint64_t> child_out_;             // outbound SPI -> child id
  std::unordered_map<std::string, std::set<uint64_t>> by_remote_id_;  // peer identity -> SAs
  std::vector<uint64_t> dead_ids_;                                    // to reap
  // Next deadline of each SA, earliest first. An SA's entry is live while
  // it equals IkeSa::due_; later-superseded entries are skipped when popped.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  uint64_t last_id_ = 0;
  uint64_t last_child_id_ = 0;
  std::array<uint8_t, 32> cookie_secret_{};
  std::array<uint8_t, 32> previous_cookie_secret_{};
  uint8_t cookie_secret_version_ = 0;
  TimePoint cookie_secret_changed_{};
};

}  // namespace traverse::ike
