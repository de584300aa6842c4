// Robust per-packet timing for a shared, noisy machine. Inside a benchmark
// loop, times blocks of iterations with the TSC and reports the median block:
// blocks in which the benchmark was descheduled or resumed on cold caches land
// in the upper tail instead of inflating a mean, which on a busy 2-core VM
// moves Google Benchmark's own mean-of-CPU-time by +-30%. The TSC is converted
// to nanoseconds against steady_clock over the same run. Single-threaded;
// nothing allocates between start() and finish().
#pragma once

#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace traverse::bench {

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
    wall_start_ = std::chrono::steady_clock::now();
    tsc_start_ = tsc_last_ = __rdtsc();
  }
  // Call once at the end of every iteration.
  void tick() {
    if (--left_ == 0) {
      const uint64_t now = __rdtsc();
      laps_.push_back(now - tsc_last_);
      tsc_last_ = now;
      left_ = per_block_;
    }
  }
  // Call right after the loop: the median nanoseconds per iteration, 0 when
  // the run was too short for a single block.
  double finish() {
    const uint64_t tsc_end = __rdtsc();
    const double wall_ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - wall_start_)
            .count();
    if (laps_.empty() || tsc_end == tsc_start_) {
      return 0;
    }
    const double ns_per_tick = wall_ns / static_cast<double>(tsc_end - tsc_start_);
    auto mid = laps_.begin() + static_cast<std::ptrdiff_t>(laps_.size() / 2);
    std::nth_element(laps_.begin(), mid, laps_.end());
    return static_cast<double>(*mid) * ns_per_tick / per_block_;
  }

 private:
  uint32_t per_block_;
  uint32_t left_;
  uint64_t tsc_start_ = 0;
  uint64_t tsc_last_ = 0;
  std::chrono::steady_clock::time_point wall_start_;
  std::vector<uint64_t> laps_;
};

}  // namespace traverse::bench
