// Robust per-packet timing for a shared, noisy machine. Inside a benchmark
// loop, times blocks of iterations with the TSC and reports the median block:
// blocks in which the benchmark was descheduled or resumed on cold caches land
// in the upper tail instead of inflating a mean, which on a busy 2-core VM
// moves Google Benchmark's own mean of CPU time by +-30%. TscClock converts
// the TSC to nanoseconds against steady_clock over the same run.
// Single-threaded; nothing allocates between start() and finish().
#pragma once

#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace traverse::bench {

class TscClock {
 public:
  void start() {
    wall_start_ = std::chrono::steady_clock::now();
    tsc_start_ = __rdtsc();
  }
  // Nanoseconds per TSC tick since start(); 0 if no tick passed.
  double ns_per_tick() const {
    const uint64_t ticks = __rdtsc() - tsc_start_;
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - wall_start_)
            .count();
    return ticks == 0 ? 0.0 : ns / static_cast<double>(ticks);
  }

 private:
  std::chrono::steady_clock::time_point wall_start_;
  uint64_t tsc_start_ = 0;
};

// The median of `samples` (reordered), 0 for none.
template <class T>
double median(std::vector<T>& samples) {
  if (samples.empty()) {
    return 0;
  }
  auto mid = samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2);
  std::nth_element(samples.begin(), mid, samples.end());
  return static_cast<double>(*mid);
}

class BlockTimer {
 public:
  // `per_block` iterations per timed block (a few microseconds each is right:
  // long enough that reading the TSC costs nothing, short enough that most
  // blocks run uninterrupted).
  BlockTimer(const benchmark::State& state, uint32_t per_block)
      : per_block_(per_block), left_(per_block) {
    laps_.reserve(static_cast<std::size_t>(state.max_iterations / per_block + 2));
  }

  // Call right before the benchmark loop.
  void start() {
    clock_.start();
    last_ = __rdtsc();
  }
  // Call once at the end of every iteration.
  void tick() {
    if (--left_ == 0) {
      const uint64_t now = __rdtsc();
      laps_.push_back(now - last_);
      last_ = now;
      left_ = per_block_;
    }
  }
  // Call right after the loop: the median nanoseconds per iteration, 0 when
  // the run was too short for a single block.
  double finish() { return median(laps_) * clock_.ns_per_tick() / per_block_; }

 private:
  uint32_t per_block_;
  uint32_t left_;
  uint64_t last_ = 0;
  TscClock clock_;
  std::vector<uint64_t> laps_;
};

}  // namespace traverse::bench
