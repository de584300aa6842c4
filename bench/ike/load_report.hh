// Results of one load run: per phase, the setups completed and failed, the
// time they took, the rate and latency percentiles; printed as a table and
// written as JSON. Plain data; one thread.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace traverse::bench {

struct PhaseResult {
  std::string name;            // "fill" or "measure"
  uint64_t held_at_start = 0;  // established tunnels when the phase began
  uint64_t held_at_end = 0;
  uint64_t completed = 0;  // IKE SA + first child established
  uint64_t failed = 0;
  double seconds = 0;                // first initiate to last completion
  std::vector<double> latencies_ms;  // initiate -> established, per completed setup
  uint64_t retransmits = 0;          // our requests sent again during the phase
  bool stalled = false;              // ended because nothing completed for too long
  double generator_cpu_s = 0;        // our own CPU time: is the generator the limit?

  double rate() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
  // Nearest-rank percentile (p in 0..100) of latencies_ms; 0 when empty.
  double percentile(double p) const;
};

struct LoadReport {
  nlohmann::json settings;  // what was asked for (echoed into the JSON)
  std::vector<PhaseResult> phases;
  std::map<std::string, uint64_t> ike_counters;  // the generator's IkeSaManager counters
  std::vector<std::string> problems;             // recent warnings/errors from the IKE SAs
  uint64_t child_sas_installed = 0;

  nlohmann::json to_json() const;
  std::string table() const;
};

}  // namespace traverse::bench
