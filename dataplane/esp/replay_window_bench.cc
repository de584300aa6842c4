// Cost of the per-packet anti-replay step (check, then update as after a good
// ICV), with ESN inference, for in-order and reordered traffic.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "dataplane/esp/replay_window.hh"

namespace traverse::esp {
namespace {

void BM_ReplayInOrder(benchmark::State& state) {
  ReplayWindow w(static_cast<uint32_t>(state.range(0)));
  // Start below 2^32 so the run crosses an ESN rollover.
  uint64_t next = (uint64_t{1} << 32) - 1'000'000;
  w.reset(next - 1);
  for (auto _ : state) {
    uint64_t seq = 0;
    const ReplayVerdict v = w.check(static_cast<uint32_t>(next), true, &seq);
    if (v == ReplayVerdict::accept) {
      w.update(seq);
    }
    benchmark::DoNotOptimize(v);
    ++next;
  }
  state.SetItemsProcessed(state.iterations());
}

// Numbers arrive shuffled within blocks of half the window, so every packet is
// new and inside the window but the top moves in jumps and bits land anywhere.
void BM_ReplayReordered(benchmark::State& state) {
  const auto size = static_cast<uint32_t>(state.range(0));
  ReplayWindow w(size);
  constexpr std::ptrdiff_t kPattern = 1 << 16;  // a multiple of every block
  std::vector<uint32_t> offsets(kPattern);
  std::iota(offsets.begin(), offsets.end(), 0);
  std::mt19937 rng(1);
  const std::ptrdiff_t block = std::max<std::ptrdiff_t>(w.size() / 2, 1);
  for (std::ptrdiff_t b = 0; b < kPattern; b += block) {
    std::shuffle(offsets.begin() + b, offsets.begin() + b + block, rng);
  }
  uint64_t base = (uint64_t{1} << 32) - 1'000'000;
  w.reset(base - 1);
  std::ptrdiff_t i = 0;
  uint64_t accepted = 0;
  for (auto _ : state) {
    uint64_t seq = 0;
    const ReplayVerdict v =
        w.check(static_cast<uint32_t>(base + offsets[static_cast<std::size_t>(i)]), true, &seq);
    if (v == ReplayVerdict::accept) {
      w.update(seq);
      ++accepted;
    }
    if (++i == kPattern) {
      i = 0;
      base += kPattern;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["accepted"] =
      benchmark::Counter(static_cast<double>(accepted) /
                         static_cast<double>(std::max<int64_t>(state.iterations(), 1)));
}

BENCHMARK(BM_ReplayInOrder)->Arg(64)->Arg(4096);
BENCHMARK(BM_ReplayReordered)->Arg(64)->Arg(4096);

}  // namespace
}  // namespace traverse::esp
