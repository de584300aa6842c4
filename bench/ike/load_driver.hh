// Drives IKE setups against one responder: fills up to a number of held
// tunnels with a bounded number of setups in flight, then measures the rate
// of new setups while those are held (each new tunnel is deleted once up, so
// the held count stays put). Runs the io_context itself; one thread.
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/ike/load_host.hh"
#include "bench/ike/load_report.hh"
#include "control/ike/sa/ike_sa_manager.hh"

namespace traverse::bench {

struct DriverOptions {
  unsigned hold = 1000;         // tunnels established and kept before measuring
  unsigned window = 32;         // setups in flight at once
  unsigned measure_setups = 0;  // setups to time while holding (0: no measure phase)
  double measure_seconds = 30;  // upper bound on the measure phase
  bool churn_delete = true;     // delete each measured tunnel once it is up
  double stall_seconds = 45;    // a phase gives up when nothing completed for this long
  unsigned max_failures = 1000;
  bool sync = false;  // "HELD n" / "DONE" on stdout, then wait for a line on stdin
  bool progress = true;
};

class LoadDriver {
 public:
  // Makes the connection for the n-th client (identity and credentials), and
  // the local endpoint it leaves from.
  using ConfigFor = std::function<std::shared_ptr<const ike::PeerConfig>(uint64_t n)>;
  using LocalFor = std::function<ike::Endpoint(uint64_t n)>;

  LoadDriver(asio::io_context& io, ike::IkeSaManager& manager, DriverOptions options,
             ConfigFor config_for, LocalFor local_for);

  // Runs the phases; fills `report.phases`.
  void run(LoadReport& report);

 private:
  enum class Outcome { pending, established, failed };

  PhaseResult fill();
  PhaseResult measure();
  void start_one();
  // Settles in-flight setups; calls on_done for each one finished.
  void settle(PhaseResult& phase, const std::function<void(uint64_t id)>& on_done);
  Outcome outcome(uint64_t id);
  void pump();  // runs ready handlers, waits briefly for more, ticks the manager
  uint64_t held_alive();
  void report_progress(const PhaseResult& phase, uint64_t target);
  void wait_for_go(const std::string& line);
  double since(ike::TimePoint t) const;

  asio::io_context& io_;
  ike::IkeSaManager& manager_;
  DriverOptions options_;
  ConfigFor config_for_;
  LocalFor local_for_;
  uint64_t next_client_ = 0;
  std::unordered_map<uint64_t, ike::TimePoint> in_flight_;  // IKE SA id -> initiated at
  std::vector<uint64_t> held_;
  ike::TimePoint next_tick_{};
  ike::TimePoint next_progress_{};
};

}  // namespace traverse::bench
