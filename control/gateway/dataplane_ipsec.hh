// The IPsec backend of the gateway: child SAs and policies go to
// traverse-dataplane through the API rings (dataplane/api). Reconnects when
// the dataplane restarts and reports it, so the IKE side can re-install
// everything. Blocking calls with a short timeout; the event loop's thread only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "control/ike/sa/ipsec_backend.hh"
#include "dataplane/api/client.hh"

namespace traverse::gateway {

class DataplaneIpsec final : public ike::IpsecBackend {
 public:
  explicit DataplaneIpsec(std::string socket_path);

  // Connects if not connected; true when a (new) dataplane answered hello.
  // `restarted` tells whether this is a different dataplane than before.
  bool ensure_connected(std::chrono::milliseconds timeout, bool* restarted);

  Expected<void, std::string> add_sa(const ike::ChildSaInstall& sa) override;
  Expected<void, std::string> update_sa(const ike::SaKey& sa, const ike::Endpoint& local,
                                        const ike::Endpoint& remote, bool udp_encap) override;
  Expected<void, std::string> delete_sa(const ike::SaKey& sa) override;
  Expected<void, std::string> add_policy(const ike::TsRange& selector,
                                         const ike::SaKey& sa) override;
  Expected<void, std::string> delete_policy(const ike::TsRange& selector,
                                            const ike::SaKey& sa) override;
  std::optional<ike::ChildSaCounters> counters(const ike::SaKey& sa) override;
  bool connected() const override { return client_.connected(); }
  uint32_t spi_slot_mask() const override { return slot_mask_; }

  // Removes every SA a control plane installed (cookie != 0): after our own
  // restart their keys and IKE SAs are gone, so the peers reconnect. Static
  // SAs from the dataplane's own configuration (cookie 0) stay.
  std::size_t remove_orphans();
  api::CountersResult global_counters() { return client_.counters(); }
  pid_t dataplane_pid() const { return client_.dataplane_pid(); }
  // Drains dataplane events into `on_event`.
  void poll_events(const std::function<void(const api::Event&)>& on_event);

 private:
  Expected<void, std::string> check(const api::CallResult& r, const char* what);
  std::string path_;
  api::ApiClient client_;
  pid_t last_pid_ = 0;
  uint32_t slot_mask_ = 0;  // the dataplane's inbound table size - 1 (a power of two)
  // Last SaRecord sent per SA, so update_sa can resend it with a new peer.
  std::map<ike::SaKey, api::SaRecord> installed_;
};

}  // namespace traverse::gateway
