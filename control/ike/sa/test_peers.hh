// Test support for ike_sa_unit_tests: two real IkeSaManagers joined by an
// in-memory network whose delivery the test controls (drop, duplicate,
// reorder), a clock the test advances, and fakes of the IPsec backend and the
// Office Mode pool that record what the state machine asked of them.
// Single-threaded, like the state machine.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/ike/sa/ike_host.hh"
#include "control/ike/sa/ike_sa_manager.hh"

namespace traverse::ike::testing {

struct Datagram {
  Endpoint from;
  Endpoint to;
  Bytes data;
};

class FakeNetwork {
 public:
  FakeNetwork();
  void attach(const asio::ip::address& address, IkeSaManager* manager);

  // Called by the hosts: queues a datagram, unless told to lose it.
  void send(const Endpoint& from, const Endpoint& to, ByteView data);

  // Delivery controls, applied to the next datagrams sent.
  void drop_next(std::size_t n) { drop_next_ += n; }
  void duplicate_next(std::size_t n) { duplicate_next_ += n; }
  // Datagrams to an address are lost until allowed again (a dead peer).
  void blackhole(const asio::ip::address& to, bool lost);

  // A NAT in front of `inside`: what it sends leaves from `outside` with a
  // port the NAT picks per inside endpoint; what comes back to `outside` is
  // translated back (or lost without a mapping).
  void nat(const asio::ip::address& inside, const asio::ip::address& outside);
  // The NAT forgets its mappings (a reboot, a timeout): new outside ports.
  void rebind_nat() { nat_out_.clear(); }

  // Delivers the first queued datagram; false if none was queued.
  bool deliver_one();
  // Delivers until nothing is in flight (what deliveries send is delivered
  // too); returns how many were delivered. Stops after `limit`.
  std::size_t deliver_all(std::size_t limit = 1000);
  void drop_front() { in_flight_.pop_front(); }
  void swap_first_two();

  std::deque<Datagram>& in_flight() { return in_flight_; }
  // Everything ever sent, lost ones included, in order.
  const std::vector<Datagram>& history() const { return history_; }
  std::size_t dropped() const { return dropped_; }

  TimePoint now() const { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

  // Called after each datagram delivered (the fixture checks invariants).
  std::function<void()> after_delivery;

 private:
  std::map<asio::ip::address, IkeSaManager*> managers_;
  std::map<asio::ip::address, bool> blackholed_;
  std::optional<asio::ip::address> nat_inside_, nat_outside_;
  std::map<Endpoint, uint16_t> nat_out_;  // inside endpoint -> outside port
  std::map<uint16_t, Endpoint> nat_in_;   // outside port -> inside endpoint
  uint16_t nat_next_port_ = 40000;
  std::deque<Datagram> in_flight_;
  std::vector<Datagram> history_;
  std::size_t drop_next_ = 0;
  std::size_t duplicate_next_ = 0;
  std::size_t dropped_ = 0;
  TimePoint now_;
};

// One direction of a child SA as the fake dataplane holds it.
struct InstalledSa {
  uint32_t spi = 0;
  bool inbound = false;
  uint16_t encr_id = 0;
  uint16_t key_bits = 0;
  uint16_t integ_id = 0;
  bool esn = false;
  bool udp_encap = false;
  Bytes encr_key;
  Bytes integ_key;
  Endpoint local;
  Endpoint remote;
  uint64_t cookie = 0;
  uint64_t first_sequence = 0;
};

struct InstalledPolicy {
  TsRange selector;
  SaKey sa;
  bool operator==(const InstalledPolicy&) const = default;
};

class FakeBackend : public IpsecBackend {
 public:
  Expected<void, std::string> add_sa(const ChildSaInstall& sa) override;
  Expected<void, std::string> update_sa(const SaKey& sa, const Endpoint& local,
                                        const Endpoint& remote, bool udp_encap) override;
  Expected<void, std::string> delete_sa(const SaKey& sa) override;
  Expected<void, std::string> add_policy(const TsRange& selector, const SaKey& sa) override;
  Expected<void, std::string> delete_policy(const TsRange& selector, const SaKey& sa) override;
  std::optional<ChildSaCounters> counters(const SaKey& sa) override;
  bool connected() const override { return true; }

  // The dataplane restarted: it lost every SA and policy.
  void restart() {
    sas_.clear();
    policies_.clear();
  }
  // The SA with this SPI in this direction (tests never make two peers
  // choose the same outbound SPI), or null.
  const InstalledSa* find(uint32_t spi, bool inbound) const;
  const std::map<SaKey, InstalledSa>& sas() const { return sas_; }
  const std::vector<InstalledPolicy>& policies() const { return policies_; }

  std::size_t adds = 0;
  std::size_t deletes = 0;
  // Calls that made no sense (a duplicate SA, deleting what is not there):
  // the state machine's bookkeeping went wrong.
  std::size_t bad_calls = 0;
  bool refuse_adds = false;

 private:
  // Keyed as the DPDK dataplane keys them: inbound by SPI alone (cookie 0
  // here), outbound by SPI and cookie; a call naming the wrong cookie is a
  // bad call.
  static SaKey stored(const SaKey& sa) { return {sa.spi, sa.inbound, sa.inbound ? 0 : sa.cookie}; }
  std::map<SaKey, InstalledSa> sas_;
  std::vector<InstalledPolicy> policies_;
};

class FakeHost : public IkeHost {
 public:
  FakeHost(FakeNetwork& network, std::string name);

  void send(const Endpoint& local, const Endpoint& remote, ByteView datagram) override;
  IpsecBackend& ipsec() override { return backend; }
  std::vector<std::shared_ptr<const PeerConfig>> configs_for(const Endpoint& local,
                                                             const Endpoint& remote) override;
  Expected<AssignedConfig, std::string> assign_config(const PeerConfig& config,
                                                      const std::string& peer, bool want_v4,
                                                      bool want_v6) override;
  void release_config(const PeerConfig& config, const std::string& peer) override;
  void log(LogLevel level, std::string_view message) override;
  TimePoint now() const override { return network_.now(); }
  // The next entry of `nonces` while there is one, else random bytes.
  Bytes make_nonce(std::size_t size) override;
  // The next entry of `child_spis` while there is one, else a random SPI.
  uint32_t make_child_spi() override;

  // True if any log line contains `text`.
  bool logged(std::string_view text) const;

  FakeBackend backend;
  std::vector<std::shared_ptr<const PeerConfig>> configs;  // offered to every peer
  // Office Mode pool: what assign_config hands out.
  AssignedConfig office_mode;
  std::map<std::string, asio::ip::address> leases;  // peer identity -> address
  std::size_t releases = 0;
  std::vector<std::string> log_lines;
  // Nonces this host hands out next, in order (tests order colliding rekeys).
  std::deque<Bytes> nonces;
  // Child SPIs this host proposes next, in order (tests make SPIs collide).
  std::deque<uint32_t> child_spis;

 private:
  FakeNetwork& network_;
  std::string name_;
};

}  // namespace traverse::ike::testing
