#include "bench/ike/load_report.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace traverse::bench {

double PhaseResult::percentile(double p) const {
  if (latencies_ms.empty())
    return 0;
  std::vector<double> sorted = latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

nlohmann::json LoadReport::to_json() const {
  nlohmann::json out;
  out["settings"] = settings;
  out["phases"] = nlohmann::json::array();
  for (const PhaseResult& p : phases) {
    out["phases"].push_back({
        {"name", p.name},
        {"held_at_start", p.held_at_start},
        {"held_at_end", p.held_at_end},
        {"completed", p.completed},
        {"failed", p.failed},
        {"seconds", p.seconds},
        {"setups_per_second", p.rate()},
        {"latency_ms",
         {{"p50", p.percentile(50)},
          {"p90", p.percentile(90)},
          {"p99", p.percentile(99)},
          {"max", p.percentile(100)}}},
        {"retransmits", p.retransmits},
        {"stalled", p.stalled},
        {"generator_cpu_s", p.generator_cpu_s},
    });
  }
  out["ike_counters"] = ike_counters;
  out["child_sas_installed"] = child_sas_installed;
  out["problems"] = problems;
  return out;
}

std::string LoadReport::table() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %8s %8s %7s %8s %9s %8s %8s %8s %8s %7s\n", "phase",
                "held", "setups", "failed", "seconds", "setups/s", "p50 ms", "p90 ms", "p99 ms",
                "max ms", "retx");
  out += line;
  for (const PhaseResult& p : phases) {
    std::snprintf(line, sizeof line,
                  "%-8s %8llu %8llu %7llu %8.2f %9.1f %8.1f %8.1f %8.1f %8.1f %7llu%s\n",
                  p.name.c_str(), static_cast<unsigned long long>(p.held_at_start),
                  static_cast<unsigned long long>(p.completed),
                  static_cast<unsigned long long>(p.failed), p.seconds, p.rate(), p.percentile(50),
                  p.percentile(90), p.percentile(99), p.percentile(100),
                  static_cast<unsigned long long>(p.retransmits), p.stalled ? "  (stalled)" : "");
    out += line;
  }
  return out;
}

}  // namespace traverse::bench
