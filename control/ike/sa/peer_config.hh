// The role-neutral description of one connection as the IKE state machine
// sees it: identities, credentials, proposals, selectors, timers. The gateway
// builds these from gateway.toml, the client from its profile. Immutable once
// built and shared (a reload swaps in new ones; running SAs keep theirs).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/ike/auth/certificate.hh"
#include "control/ike/auth/identity.hh"
#include "control/ike/auth/identity_pattern.hh"
#include "control/ike/auth/trust_store.hh"
#include "control/ike/bytes.hh"
#include "control/ike/sa/ike_types.hh"

namespace traverse::ike {

// One proposal: every transform offered in it, IANA numbers.
struct ProposalTransform {
  uint8_t type = 0;  // 1 encr, 2 prf, 3 integ, 4 dh, 5 esn
  uint16_t id = 0;
  uint16_t key_bits = 0;  // 0 = no key length attribute
  bool operator==(const ProposalTransform&) const = default;
};
struct ProposalSpec {
  std::vector<ProposalTransform> transforms;
};

enum class AuthKind : uint8_t { psk, pubkey };

// Our certificate chain and key, and the anchors that check the peer's.
struct Credentials {
  std::vector<Certificate> chain;  // leaf first
  std::optional<PrivateKey> key;
  std::shared_ptr<const TrustStore> trust;
};

struct PeerConfig {
  std::string name;
  Identity local_id;
  IdentityPattern remote_id = IdentityPattern::parse("%any").value();
  AuthKind local_auth = AuthKind::psk;
  AuthKind remote_auth = AuthKind::psk;
  std::shared_ptr<const Secret> psk;
  std::shared_ptr<const Credentials> credentials;
  std::vector<ProposalSpec> ike_proposals;
  std::vector<ProposalSpec> esp_proposals;
  std::vector<TsRange> local_ts;
  std::vector<TsRange> remote_ts;  // empty with remote_ts_dynamic: the peer's (virtual) address
  bool remote_ts_dynamic = true;
  std::vector<std::string> pools;         // responder: Office Mode pools; empty = none
  bool request_virtual_ip = false;        // initiator: ask for an address (CP request)
  std::optional<Endpoint> remote;         // initiator: where to send
  std::vector<TsRange> remote_addresses;  // responder: who may connect (empty = anyone)
  bool fragmentation = true;
  bool force_encap = false;
  std::chrono::seconds dpd_interval{30};
  std::chrono::seconds ike_lifetime{14400};
  std::chrono::seconds child_lifetime{3600};
  uint64_t child_lifetime_bytes = 0;
  uint32_t replay_window = 1024;
};

// Daemon-wide settings the state machine obeys.
struct IkeSettings {
  uint16_t ike_port = 500;
  uint16_t natt_port = 4500;
  std::size_t fragment_size = 1280;  // largest IP datagram for a fragmented message
  std::size_t half_open_limit = 1000;
  std::size_t cookie_threshold = 100;
  std::size_t per_source_half_open = 10;
  std::chrono::milliseconds retransmit_timeout{1000};
  unsigned retransmit_tries = 5;
  std::chrono::seconds half_open_timeout{30};
  std::chrono::seconds nat_keepalive{20};
  std::size_t max_ike_sas = 100000;
};

// What a responder hands out in a configuration payload (Office Mode).
struct AssignedConfig {
  std::vector<asio::ip::address> addresses;  // leased virtual IPs
  std::vector<asio::ip::address> dns;
  std::vector<std::string> split_dns;  // INTERNAL_DNS_DOMAIN
  std::vector<TsRange> split_include;  // INTERNAL_IP4/6_SUBNET; empty = full tunnel
};

}  // namespace traverse::ike
