// One IKE SA (RFC 7296): its state, keys, message IDs, retransmission and the
// queue of exchanges it will start. Exchanges are split by kind into their own
// files (ike_init.cc, ike_auth.cc, child_create.cc, ike_rekey.cc,
// informational.cc); this class owns what they share. Single-threaded: the
// manager calls it from the event loop.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/crypto/key_exchange.hh"
#include "control/ike/crypto/prf.hh"
#include "control/ike/crypto/sk_cipher.hh"
#include "control/ike/message/builder.hh"
#include "control/ike/message/fragments.hh"
#include "control/ike/message/message.hh"
#include "control/ike/message/parser.hh"
#include "control/ike/sa/child_sa.hh"
#include "control/ike/sa/ike_host.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

class IkeSaManager;

// The exchanges an IKE SA initiates; the pending request remembers which.
enum class ExchangeKind : uint8_t {
  ike_sa_init,
  ike_auth,
  create_child,
  rekey_child,
  rekey_ike,
  delete_child,
  delete_ike,
  liveness,
};
const char* to_string(ExchangeKind k);

// State of an exchange we started, until its response arrives.
struct PendingRequest {
  ExchangeKind kind = ExchangeKind::liveness;
  uint32_t message_id = 0;
  std::vector<Bytes> packets;  // as sent (fragments when fragmented)
  TimePoint next_send{};
  unsigned tries = 0;
  // Exchange context.
  uint64_t child_id = 0;              // rekey_child / delete_child
  std::optional<KeyExchange> ke;      // create/rekey with PFS, rekey_ike
  Bytes nonce;                        // our nonce for the new SA
  uint32_t new_spi_in = 0;            // create/rekey child: our new inbound SPI
  uint64_t new_ike_spi = 0;           // rekey_ike: our SPI of the new IKE SA
  std::vector<ProposalSpec> offered;  // what we proposed
};

// An exchange queued until the one in flight completes (window size 1).
struct QueuedExchange {
  ExchangeKind kind;
  uint64_t child_id = 0;
};

// The keys of one IKE SA (RFC 7296 2.14).
struct IkeCrypto {
  std::optional<Prf> prf;
  Secret sk_d, sk_pi, sk_pr;
  std::optional<SkCipher> out;  // protects what we send
  std::optional<SkCipher> in;   // opens what we receive
};

class IkeSa {
 public:
  IkeSa(IkeSaManager& manager, uint64_t id, Role role, Endpoint local, Endpoint remote);
  IkeSa(const IkeSa&) = delete;
  IkeSa& operator=(const IkeSa&) = delete;
  ~IkeSa();

  // --- entry points (manager) ---
  void start_initiator(std::shared_ptr<const PeerConfig> config);
  // Responder: a new IKE_SA_INIT request; `candidates` are the connections
  // the peer may use.
  void on_init_request(const Message& request, ByteView datagram,
                       std::vector<std::shared_ptr<const PeerConfig>> candidates);
  // Every later message addressed to this SA (and the initiator's
  // IKE_SA_INIT response).
  void on_message(const Message& message, ByteView datagram, const Endpoint& local,
                  const Endpoint& remote);
  void tick(TimePoint now);

  // --- operator and dataplane triggers ---
  void request_create_child();  // one more child with the config's selectors
  void request_rekey_child(uint64_t child_id);
  void request_rekey_ike();
  void request_delete_child(uint64_t child_id);
  void request_delete();
  void on_child_expired(uint64_t child_id);  // dataplane hard lifetime: already gone there
  void on_peer_moved(const Endpoint& remote);
  void reinstall_children();  // after a dataplane restart
  void refresh_counters();    // reads each child's counters from the backend
  // Drops everything without an exchange (shutdown, or superseded).
  void destroy_children();

  // --- state for status and the manager ---
  uint64_t id() const { return id_; }
  Role role() const { return role_; }
  IkeState state() const { return state_; }
  uint64_t spi_i() const { return spi_i_; }
  uint64_t spi_r() const { return spi_r_; }
  uint64_t local_spi() const { return role_ == Role::initiator ? spi_i_ : spi_r_; }
  const Endpoint& local() const { return local_; }
  const Endpoint& remote() const { return remote_; }
  bool local_behind_nat() const { return local_nat_; }
  bool remote_behind_nat() const { return remote_nat_; }
  bool encap() const;
  const std::string& remote_id_text() const { return remote_id_text_; }
  const std::string& local_id_text() const { return local_id_text_; }
  const PeerConfig* config() const { return config_.get(); }
  const ProposalSpec& proposal() const { return proposal_; }
  const std::map<uint64_t, ChildSa>& children() const { return children_; }
  const std::vector<asio::ip::address>& virtual_ips() const { return virtual_ips_; }
  // Initiator: the Office Mode settings the responder sent (addresses, DNS, split).
  const AssignedConfig& received_config() const { return received_config_; }
  TimePoint established_at() const { return established_at_; }
  TimePoint rekey_at() const { return rekey_at_; }
  bool dead() const { return state_ == IkeState::dead; }
  bool half_open() const { return state_ == IkeState::init_sent || state_ == IkeState::init_done; }
  TimePoint created_at() const { return created_at_; }

 private:
  friend class IkeSaManager;

  // --- message layer (ike_sa.cc) ---
  Header header_for(ExchangeKind kind, bool response, uint32_t message_id) const;
  std::vector<Bytes> protect(ExchangeType exchange, bool response, uint32_t message_id,
                             const std::vector<Payload>& inner);
  // Decrypts an SK message, or collects an SKF fragment. nullopt: dropped
  // (logged and counted) or still incomplete.
  std::optional<std::vector<Payload>> unprotect(const Message& message, ByteView datagram);
  void send_request(ExchangeKind kind, ExchangeType exchange, std::vector<Payload> inner,
                    PendingRequest pending);
  void send_plain_request(PendingRequest pending, Bytes datagram);
  void send_response(ExchangeType exchange, uint32_t message_id, std::vector<Payload> inner);
  // The earliest time tick() may act; TimePoint::min() when it should run at
  // the next tick. The manager sleeps the SA until then.
  TimePoint next_deadline() const;
  void transmit(const std::vector<Bytes>& packets);
  void start_next_exchange();
  // A copy of the last request answered: true only if it decrypts.
  bool retransmission_authentic(const Message& message, ByteView datagram);
  void on_request(const Message& message, std::vector<Payload> inner);
  void on_response(const Message& message, std::vector<Payload> inner);
  void fail(const std::string& why);  // fatal for the IKE SA
  void die();                         // to be reaped: every path to `dead` goes through here
  void set_remote_id(std::string text);
  void log(LogLevel level, const std::string& text) const;

  // --- IKE_SA_INIT (ike_init.cc) ---
  void build_init_request(uint16_t group, const Bytes& cookie);
  void process_init_response(const Message& response, ByteView datagram);
  bool derive_keys(ByteView shared_secret);
  void detect_nat(const Message& message, bool as_responder);

  // --- IKE_AUTH (ike_auth.cc) ---
  void send_auth_request();
  void process_auth_request(uint32_t message_id, const std::vector<Payload>& inner);
  void process_auth_response(PendingRequest& pending, const std::vector<Payload>& inner);
  Bytes auth_octets(bool ours, ByteView id_body) const;
  std::optional<Payload> build_auth(ByteView id_body, const std::vector<uint16_t>& peer_hashes);
  bool verify_auth(const std::vector<Payload>& inner, const PeerConfig& config, ByteView id_body,
                   std::string* why);
  void established();

  // --- child negotiation shared by IKE_AUTH and CREATE_CHILD_SA (child_negotiation.cc) ---
  // Responder: selects the proposal and narrows the selectors of `request`;
  // fills `child` (SPIs, proposal, selectors) and appends SA, TSi, TSr to
  // `response`. Returns the error notify to send instead, if any.
  std::optional<NotifyType> accept_child(const std::vector<Payload>& request, uint16_t pfs_group,
                                         ChildSa* child, std::vector<Payload>* response);
  // Initiator: appends SA, TSi, TSr offering a child; remembers the offer.
  void offer_child(std::vector<Payload>* out, PendingRequest* pending, bool with_pfs);
  // Initiator: checks the responder's SA, TSi, TSr against the offer.
  std::optional<std::string> complete_child(const std::vector<Payload>& response,
                                            const PendingRequest& pending, ChildSa* child);
  std::vector<TsRange> peer_allowed_ts() const;
  std::vector<TsRange> local_allowed_ts() const;

  // --- CREATE_CHILD_SA (child_create.cc) ---
  void send_create_child(ExchangeKind kind, uint64_t rekeyed_child);
  void process_create_child_request(uint32_t message_id, const std::vector<Payload>& inner);
  void process_create_child_response(PendingRequest& pending, const std::vector<Payload>& inner);
  // Installs a child from negotiated state; false (and logs) if the backend refused.
  bool install_child(ChildSa& child, ByteView ni, ByteView nr, ByteView shared_secret,
                     bool we_initiated);
  void uninstall_child(ChildSa& child, bool inbound, bool outbound);
  // One direction of `child` as the backend installs it (keys copied).
  ChildSaInstall install_record(const ChildSa& child, bool inbound) const;
  uint32_t allocate_child_spi();
  uint64_t next_child_id();
  // children_ changes through these, so the manager's child index follows.
  void add_child(ChildSa child);
  std::map<uint64_t, ChildSa>::iterator erase_child(std::map<uint64_t, ChildSa>::iterator it);

  // --- IKE SA rekey (ike_rekey.cc) ---
  void send_rekey_ike();
  void process_rekey_ike_request(uint32_t message_id, const std::vector<Payload>& inner);
  void process_rekey_ike_response(PendingRequest& pending, const std::vector<Payload>& inner);
  // Gives `successor` our config and peer state, moves the children to it
  // (unless a rekey collision holds them back) and establishes it.
  void hand_over(IkeSa& successor, bool with_children);
  void inherit(IkeSa& successor) const;  // config and peer state, not the children
  void move_children(IkeSa& to);         // children, their SPIs and the lease
  // RFC 7296 2.8.2, once our own rekey of this SA ended without a new SA
  // (refused, unanswered, or this SA deleted): the peer's successor takes the
  // children it was waiting for.
  void settle_collision();
  // This SA is gone: so is the peer's redundant successor, if the peer never
  // deleted it (it never saw our answer creating it).
  void drop_redundant_successor();
  IkeSa* live_peer_successor() const;

  // --- INFORMATIONAL (informational.cc) ---
  void send_delete_child(uint64_t child_id);
  void send_delete_ike();
  void send_liveness();
  void process_informational_request(uint32_t message_id, const std::vector<Payload>& inner);
  void process_informational_response(PendingRequest& pending, const std::vector<Payload>& inner);

  IkeSaManager& manager_;
  IkeHost& host_;
  uint64_t id_;
  Role role_;
  IkeState state_;
  uint64_t spi_i_ = 0;
  uint64_t spi_r_ = 0;
  Endpoint local_;
  Endpoint remote_;
  bool local_nat_ = false;
  bool remote_nat_ = false;
  bool peer_fragmentation_ = false;
  std::vector<uint16_t> peer_hash_algorithms_;
  std::vector<Bytes> peer_certreqs_;
  std::shared_ptr<const PeerConfig> config_;
  std::vector<std::shared_ptr<const PeerConfig>> candidates_;
  ProposalSpec proposal_;
  uint16_t dh_group_ = 0;
  uint16_t child_pfs_group_ = 0;  // the PFS group the peer asked for (INVALID_KE_PAYLOAD)
  std::optional<KeyExchange> ke_;
  Bytes nonce_i_, nonce_r_;
  Bytes init_request_, init_response_;  // kept for AUTH (RFC 7296 2.15)
  Bytes cookie_;
  IkeCrypto crypto_;
  std::string remote_id_text_;
  std::string local_id_text_;
  std::vector<asio::ip::address> virtual_ips_;
  AssignedConfig received_config_;
  bool config_assigned_ = false;

  // Message IDs (window size 1 in each direction, RFC 7296 2.3).
  uint32_t next_request_id_ = 0;
  uint32_t expected_request_id_ = 0;
  std::optional<PendingRequest> pending_;
  std::deque<QueuedExchange> queue_;
  std::vector<Bytes> last_response_;
  uint32_t last_response_id_ = UINT32_MAX;
  FragmentReassembler reassembler_;

  std::map<uint64_t, ChildSa> children_;
  TimePoint created_at_;
  TimePoint established_at_{};
  TimePoint rekey_at_{};
  TimePoint last_heard_{};
  TimePoint delete_at_{};  // rekeyed: destroy if the peer never deletes
  // Simultaneous IKE rekey (RFC 7296 2.8.2). We answered the peer's rekey
  // while ours was in flight: its successor, and the nonces of its exchange.
  // The children stay here until our response decides which new SA survives.
  uint64_t peer_successor_ = 0;
  std::pair<Bytes, Bytes> peer_rekey_nonces_;  // lowest first
  // The collision left the peer's successor redundant: the peer deletes it;
  // if the peer never completed that exchange, we drop it once this SA goes.
  uint64_t redundant_successor_ = 0;
  TimePoint due_ = TimePoint::max();  // the manager's earliest queued tick for this SA
  std::chrono::seconds dpd_interval_{30};
};

}  // namespace traverse::ike
