// The dataplane's control thread (the main lcore): serves the dataplane API
// (SA and policy changes, counters, listing), installs the static SAs of the
// config, turns worker reports into API events, resolves next hops, checks
// ICMP "too big" reports against live SAs, and frees retired entries after
// their RCU grace period. It is the only writer of the tables.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/api/messages.hh"
#include "dataplane/api/reply_sink.hh"
#include "dataplane/engine/engine_context.hh"

namespace traverse::engine {

class ControlThread {
 public:
  explicit ControlThread(Engine& engine) : engine_(engine) {}

  // Installs the config's static SAs and policies; false with a reason.
  bool install_static(std::string* error);

  // One validated request -> its answer in `out` (paged for counters).
  void handle(const api::Message& request, api::ReplySink& out);

  // One pass over worker reports, neighbor upkeep and reclamation. `post`
  // forwards an API event to the control plane.
  void service(const std::function<void(const api::Event&)>& post);

  // SaRecord (API) or a static SA (config) -> an installed entry.
  api::ReplyStatus add_sa(const api::SaRecord& record, std::string* detail);
  api::ReplyStatus update_sa(const api::SaRecord& record, std::string* detail);

  uint64_t pmtu_rejected() const { return pmtu_rejected_; }
  // Every engine counter by name: worker sums, ESP outcomes, port statistics.
  std::vector<std::pair<std::string, uint64_t>> counter_snapshot() const;

 private:
  void handle_pmtu_report(const WorkerEvent& report,
                          const std::function<void(const api::Event&)>& post);
  void solicit(uint8_t port, const esp::IpAddress& address);
  void pin_static_neighbors();
  void counters(const api::Message& request, api::ReplySink& out);
  void list(const api::Message& request, api::ReplySink& out);
  void send_command(uint16_t worker, const WorkerCommand& command);

  Engine& engine_;
  uint64_t pmtu_rejected_ = 0;
  uint64_t next_idle_scan_ = 0;
};

// The SaRecord of a static SA (config), so both go through one install path.
api::SaRecord record_from_static(const StaticSa& sa, uint16_t default_mtu);

}  // namespace traverse::engine
