// A child SA as the control plane keeps it: negotiated algorithms, SPIs,
// selectors and timers. Its keys live only in the dataplane (and, while a
// restart reconciles, in `keys`). Owned by its IKE SA; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/sa/ike_types.hh"
#include "control/ike/sa/ipsec_backend.hh"
#include "control/ike/sa/peer_config.hh"

namespace traverse::ike {

struct ChildKeysHeld {
  Secret encr_in, integ_in, encr_out, integ_out;
};

struct ChildSa {
  uint64_t id = 0;
  std::string name;
  ChildState state = ChildState::installed;
  uint32_t spi_in = 0;    // ours: the peer sends with it
  uint32_t spi_out = 0;   // the peer's
  ProposalSpec proposal;  // the chosen transforms (one of each type)
  std::vector<TsRange> local_ts;
  std::vector<TsRange> remote_ts;
  bool encap = false;
  bool initiated_by_us = false;
  TimePoint installed_at{};
  TimePoint rekey_at{};           // we start a rekey then
  TimePoint expire_at{};          // hard end if no rekey happened
  TimePoint delete_at{};          // rekeyed: inbound kept until then for packets in flight
  ChildKeysHeld keys;             // kept to re-install after a dataplane restart
  uint64_t out_packets_seen = 0;  // last outbound packet count read from the dataplane
  ChildSaCounters in_counters;    // refreshed from the dataplane for status output
  ChildSaCounters out_counters;
  // RFC 7296 2.8.1 rekey collisions: the replacements made by each side and
  // the lowest nonce of each exchange; the lower exchange's SA is redundant.
  uint64_t replaced_by_ours = 0;
  uint64_t replaced_by_peer = 0;
  Bytes our_rekey_nonce;
  Bytes peer_rekey_nonce;

  uint16_t encr_id() const;
  uint16_t key_bits() const;
  uint16_t integ_id() const;
  uint16_t dh_group() const;
  bool esn() const;
  // How the dataplane names this child's SA in one direction.
  SaKey key(bool inbound) const { return {inbound ? spi_in : spi_out, inbound, id}; }
};

}  // namespace traverse::ike
