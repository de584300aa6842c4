#include "bench/ike/load_driver.hh"

#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace traverse::bench {
namespace {

constexpr auto kTick = std::chrono::milliseconds(50);
constexpr auto kProgress = std::chrono::seconds(2);
constexpr auto kWait = std::chrono::milliseconds(2);

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace

LoadDriver::LoadDriver(asio::io_context& io, ike::IkeSaManager& manager, DriverOptions options,
                       ConfigFor config_for, LocalFor local_for)
    : io_(io),
      manager_(manager),
      options_(options),
      config_for_(std::move(config_for)),
      local_for_(std::move(local_for)) {}

double LoadDriver::since(ike::TimePoint t) const {
  return std::chrono::duration<double>(ike::Clock::now() - t).count();
}

void LoadDriver::start_one() {
  const uint64_t n = next_client_++;
  const uint64_t id = manager_.initiate(config_for_(n), local_for_(n));
  in_flight_.emplace(id, ike::Clock::now());
}

LoadDriver::Outcome LoadDriver::outcome(uint64_t id) {
  const ike::IkeSa* sa = manager_.find(id);
  if (sa == nullptr || sa->dead())
    return Outcome::failed;
  if (sa->state() == ike::IkeState::established && !sa->children().empty())
    return Outcome::established;
  if (sa->state() == ike::IkeState::established)
    return Outcome::failed;  // IKE SA without its first child: the child was refused
  return Outcome::pending;
}

void LoadDriver::pump() {
  // One blocking wait for a datagram (or the timer), then whatever else is ready.
  io_.run_one_for(kWait);
  io_.poll();
  const ike::TimePoint now = ike::Clock::now();
  if (now >= next_tick_) {
    next_tick_ = now + kTick;
    manager_.tick(now);
  }
}

void LoadDriver::settle(PhaseResult& phase, const std::function<void(uint64_t id)>& on_done) {
  const ike::TimePoint now = ike::Clock::now();
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    const Outcome o = outcome(it->first);
    if (o == Outcome::pending) {
      ++it;
      continue;
    }
    if (o == Outcome::established) {
      ++phase.completed;
      phase.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - it->second).count());
      on_done(it->first);
    } else {
      ++phase.failed;
      // A half-dead SA (no child) still holds state on both sides.
      manager_.terminate_ike(it->first);
    }
    it = in_flight_.erase(it);
  }
}

uint64_t LoadDriver::held_alive() {
  uint64_t n = 0;
  for (uint64_t id : held_) {
    const ike::IkeSa* sa = manager_.find(id);
    if (sa != nullptr && sa->state() == ike::IkeState::established)
      ++n;
  }
  return n;
}

void LoadDriver::report_progress(const PhaseResult& phase, uint64_t target) {
  if (!options_.progress)
    return;
  const ike::TimePoint now = ike::Clock::now();
  if (now < next_progress_)
    return;
  next_progress_ = now + kProgress;
  std::fprintf(stderr, "ike-load %s: %llu/%llu done, %llu failed, %zu in flight, held %zu\n",
               phase.name.c_str(), static_cast<unsigned long long>(phase.completed),
               static_cast<unsigned long long>(target),
               static_cast<unsigned long long>(phase.failed), in_flight_.size(), held_.size());
}

PhaseResult LoadDriver::fill() {
  PhaseResult phase;
  phase.name = "fill";
  const double cpu0 = cpu_seconds();
  phase.held_at_start = held_.size();
  const uint64_t retx0 = manager_.counters().get("ike_retransmits");
  const ike::TimePoint start = ike::Clock::now();
  ike::TimePoint last_done = start;
  while (held_.size() < options_.hold) {
    while (in_flight_.size() < options_.window &&
           held_.size() + in_flight_.size() < options_.hold) {
      start_one();
    }
    pump();
    const uint64_t before = phase.completed;
    settle(phase, [&](uint64_t id) { held_.push_back(id); });
    if (phase.completed != before)
      last_done = ike::Clock::now();
    report_progress(phase, options_.hold);
    if (phase.failed >= options_.max_failures || since(last_done) > options_.stall_seconds) {
      phase.stalled = true;
      break;
    }
  }
  phase.seconds = std::chrono::duration<double>(last_done - start).count();
  phase.retransmits = manager_.counters().get("ike_retransmits") - retx0;
  phase.generator_cpu_s = cpu_seconds() - cpu0;
  phase.held_at_end = held_alive();
  return phase;
}

PhaseResult LoadDriver::measure() {
  PhaseResult phase;
  phase.name = "measure";
  const double cpu0 = cpu_seconds();
  phase.held_at_start = held_alive();
  const uint64_t retx0 = manager_.counters().get("ike_retransmits");
  const ike::TimePoint start = ike::Clock::now();
  ike::TimePoint last_done = start;
  uint64_t started = 0;
  auto on_done = [&](uint64_t id) {
    if (options_.churn_delete) {
      manager_.terminate_ike(id);
    } else {
      held_.push_back(id);
    }
  };
  while (phase.completed < options_.measure_setups && since(start) < options_.measure_seconds) {
    // Failed setups are replaced so the phase still times measure_setups.
    while (in_flight_.size() < options_.window &&
           started < options_.measure_setups + phase.failed) {
      start_one();
      ++started;
    }
    pump();
    const uint64_t before = phase.completed;
    settle(phase, on_done);
    if (phase.completed != before)
      last_done = ike::Clock::now();
    report_progress(phase, options_.measure_setups);
    if (phase.failed >= options_.max_failures || since(last_done) > options_.stall_seconds) {
      phase.stalled = true;
      break;
    }
  }
  phase.seconds = std::chrono::duration<double>(last_done - start).count();
  // Let the setups still in flight finish (uncounted) so the held state is quiet.
  const ike::TimePoint drain_start = ike::Clock::now();
  PhaseResult ignored;
  while (!in_flight_.empty() && since(drain_start) < 10) {
    pump();
    settle(ignored, on_done);
  }
  phase.retransmits = manager_.counters().get("ike_retransmits") - retx0;
  phase.generator_cpu_s = cpu_seconds() - cpu0;
  phase.held_at_end = held_alive();
  return phase;
}

void LoadDriver::wait_for_go(const std::string& line) {
  if (!options_.sync)
    return;
  std::cout << line << std::endl;
  // Keep serving the held tunnels while the caller samples memory.
  for (;;) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      std::string reply;
      std::getline(std::cin, reply);
      return;  // a line, or end of input: either means go on
    }
    pump();
  }
}

void LoadDriver::run(LoadReport& report) {
  asio::executor_work_guard<asio::io_context::executor_type> keep(io_.get_executor());
  report.phases.push_back(fill());
  const PhaseResult& filled = report.phases.back();
  wait_for_go("HELD " + std::to_string(filled.held_at_end));
  if (options_.measure_setups > 0 && !filled.stalled)
    report.phases.push_back(measure());
  wait_for_go("DONE " + std::to_string(held_alive()));
}

}  // namespace traverse::bench
