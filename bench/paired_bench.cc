#include "bench/paired_bench.hh"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/block_timer.hh"
#include "bench/runners.hh"

namespace traverse::bench {
namespace {

// Runs `per_block` iterations over the packet set; the TSC ticks it took, or
// 0 when a packet failed.
template <class Runner>
uint64_t timed_block(Runner& runner, uint32_t per_block) {
  const PacketSet& set = runner.packets();
  const uint64_t start = __rdtsc();
  for (uint32_t i = 0; i < per_block; ++i) {
    for (const PacketSlot& p : set.slots) {
      if (!runner.run(p)) {
        return 0;
      }
    }
  }
  return __rdtsc() - start;
}

// Counters (ns per packet): esp_ns, session_ns, raw_ns (each one's median
// block), ovh_ns (median of ESP - raw over the rotations) and core_ns (median
// of ESP - session: the ESP core without the driver).
void bm_paired(benchmark::State& state, CaseSpec spec) {
  EspRunner esp;
  CipherRunner<SessionCipher> session;
  CipherRunner<RawIpsecMb> raw;
  std::string error = esp.setup(spec);
  if (error.empty()) {
    error = session.setup(spec, make_session);
  }
  if (error.empty()) {
    error = raw.setup(spec, make_raw_ipsec_mb<CbcMode::split>);
  }
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const uint32_t per_block = esp.packets().iterations_per_block();
  const auto reserve = static_cast<std::size_t>(state.max_iterations);
  std::vector<int64_t> t_esp, t_session, t_raw, d_raw, d_session;
  for (auto* v : {&t_esp, &t_session, &t_raw, &d_raw, &d_session}) {
    v->reserve(reserve);
  }
  TscClock clock;
  clock.start();
  bool odd = false;
  for (auto _ : state) {
    // Alternate the order so that none of the three always follows another.
    uint64_t e = 0, s = 0, r = 0;
    if (odd) {
      r = timed_block(raw, per_block);
      s = timed_block(session, per_block);
      e = timed_block(esp, per_block);
    } else {
      e = timed_block(esp, per_block);
      s = timed_block(session, per_block);
      r = timed_block(raw, per_block);
    }
    odd = !odd;
    if (e == 0 || s == 0 || r == 0) {
      state.SkipWithError("a packet failed");
      break;
    }
    t_esp.push_back(static_cast<int64_t>(e));
    t_session.push_back(static_cast<int64_t>(s));
    t_raw.push_back(static_cast<int64_t>(r));
    d_raw.push_back(static_cast<int64_t>(e) - static_cast<int64_t>(r));
    d_session.push_back(static_cast<int64_t>(e) - static_cast<int64_t>(s));
  }
  const double scale = clock.ns_per_tick() / (per_block * esp.packets().slots.size());
  state.counters["esp_ns"] = median(t_esp) * scale;
  state.counters["session_ns"] = median(t_session) * scale;
  state.counters["raw_ns"] = median(t_raw) * scale;
  state.counters["ovh_ns"] = median(d_raw) * scale;
  state.counters["core_ns"] = median(d_session) * scale;
  state.SetItemsProcessed(state.iterations() * 3 * per_block *
                          static_cast<int64_t>(esp.packets().slots.size()));
}

}  // namespace

void register_paired_benchmarks() {
  const crypto::Backend backend = crypto::Backend::ipsec_mb;
  for (crypto::Transform t : crypto::kAllTransforms) {
    for (const SizeSpec& size : size_specs()) {
      if (size.name != "64" && size.name != "1420") {
        continue;
      }
      for (Direction d : {Direction::encrypt, Direction::decrypt}) {
        for (bool udp : {false, true}) {
          if (udp && t != crypto::Transform::aes_gcm_128) {
            continue;
          }
          std::string name = std::string(udp ? "pair_udp/" : "pair/") + direction_name(d) + "/" +
                             std::string(crypto::transform_info(t).name) + "/" +
                             std::string(crypto::backend_name(backend)) + "/" +
                             std::string(size.name);
          benchmark::RegisterBenchmark(name.c_str(), bm_paired,
                                       CaseSpec{t, backend, d, udp, &size});
        }
      }
    }
  }
}

}  // namespace traverse::bench
