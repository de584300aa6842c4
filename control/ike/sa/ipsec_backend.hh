// What the IKE state machine needs from an IPsec data plane: install and
// remove child SAs and their outbound policies, follow a peer that moved, read
// counters. Backends: the DPDK dataplane's API rings (control/gateway), an
// in-memory fake for tests, later the client's TUN. Called from one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "control/ike/bytes.hh"
#include "control/ike/result.hh"
#include "control/ike/sa/ike_types.hh"

namespace traverse::ike {

// Names one installed SA the way the dataplane does. An inbound SPI is ours
// and unique by itself; an outbound SPI is the peer's choice, and two peers
// may choose the same one, so outbound SAs are named by SPI and cookie (the
// child SA id, unique in this process).
struct SaKey {
  uint32_t spi = 0;
  bool inbound = false;
  uint64_t cookie = 0;
  auto operator<=>(const SaKey&) const = default;
};

// One direction of a child SA, keys included (wiped when this goes away).
struct ChildSaInstall {
  uint32_t spi = 0;
  bool inbound = false;
  uint16_t encr_id = 0;  // IANA ENCR_* of the ESP proposal
  uint16_t key_bits = 0;
  uint16_t integ_id = 0;  // IANA AUTH_*, 0 for AEAD
  bool esn = false;
  bool udp_encap = false;
  Secret encr_key;  // including the 4-byte salt of AEAD transforms
  Secret integ_key;
  Endpoint local;  // outer addresses; ports matter with udp_encap
  Endpoint remote;
  uint32_t replay_window = 1024;
  // Outbound: the first sequence number. A re-install after a dataplane
  // restart starts past every number used before, so no (key, IV) pair repeats.
  uint64_t first_sequence = 1;
  uint64_t soft_bytes = 0, hard_bytes = 0;  // 0 = no byte lifetime
  uint64_t cookie = 0;                      // the control plane's child SA id

  SaKey key() const { return {spi, inbound, cookie}; }
};

struct ChildSaCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t drops = 0;
  uint32_t path_mtu = 0;
};

class IpsecBackend {
 public:
  virtual ~IpsecBackend() = default;
  virtual Expected<void, std::string> add_sa(const ChildSaInstall& sa) = 0;
  // The peer moved (NAT mapping changed): new remote endpoint for one SA.
  virtual Expected<void, std::string> update_sa(const SaKey& sa, const Endpoint& local,
                                                const Endpoint& remote, bool udp_encap) = 0;
  virtual Expected<void, std::string> delete_sa(const SaKey& sa) = 0;
  // Outbound: inner destinations in `selector` go out with outbound SA `sa`.
  virtual Expected<void, std::string> add_policy(const TsRange& selector, const SaKey& sa) = 0;
  virtual Expected<void, std::string> delete_policy(const TsRange& selector, const SaKey& sa) = 0;
  virtual std::optional<ChildSaCounters> counters(const SaKey& sa) = 0;
  // Inbound SPIs equal under this mask share a table slot in the backend
  // (the DPDK dataplane indexes by the SPI's low bits); 0 = no constraint.
  virtual uint32_t spi_slot_mask() const { return 0; }
  virtual bool connected() const = 0;
};

}  // namespace traverse::ike
