#include "bench/esp_parts_bench.hh"

#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_fixture.hh"
#include "bench/block_timer.hh"
#include "dataplane/esp/outer_header.hh"
#include "dataplane/esp/outer_parse.hh"

namespace traverse::bench {
namespace {

constexpr crypto::Transform kTransform = crypto::Transform::aes_gcm_128;
constexpr crypto::Backend kBackend = crypto::Backend::ipsec_mb;

constexpr uint32_t kCallsPerBlock = 256;

void finish(benchmark::State& state, BlockTimer& timer) {
  state.SetItemsProcessed(state.iterations());
  state.counters["p50_ns_per_pkt"] = timer.finish();
}

const SizeSpec& size_1420() {
  return size_specs()[2];
}

// parse_outer on an ESP packet as InboundSa::decrypt(thread, pkt, result) runs
// it: the IPv4 header checksum check, lengths, the UDP port and marker.
void bm_parse_outer(benchmark::State& state, bool udp) {
  const esp::SaConfig config = outbound_config(kTransform, kBackend, udp);
  PacketSet set(size_1420(), kTransform, udp);
  const std::string error = set.seal_all(config);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const PacketSlot& p = set.slots[0];
  const esp::PacketBuffer pristine = p.restore_outer();
  esp::OuterView view;
  BlockTimer timer(state, kCallsPerBlock);
  timer.start();
  for (auto _ : state) {
    esp::PacketBuffer pkt = pristine;
    benchmark::DoNotOptimize(pkt);
    if (esp::parse_outer(pkt, config.local_port, &view) != esp::Status::ok) {
      state.SkipWithError("parse_outer failed");
      break;
    }
    benchmark::DoNotOptimize(view);
    timer.tick();
  }
  finish(state, timer);
}

// OuterHeader::write as OutboundSa::encrypt runs it: the header words built in
// registers (lengths, DF, ID, the IPv4 header checksum) and stored.
void bm_outer_write(benchmark::State& state, bool udp) {
  esp::OuterHeader outer;
  outer.build(outbound_config(kTransform, kBackend, udp));
  AlignedBuffer buffer(256);
  uint16_t id = 0;
  BlockTimer timer(state, kCallsPerBlock);
  timer.start();
  for (auto _ : state) {
    outer.write(buffer.data() + 64, 1460, 0, true, id++);
    benchmark::ClobberMemory();
    timer.tick();
  }
  finish(state, timer);
}

}  // namespace

void register_part_benchmarks() {
  benchmark::RegisterBenchmark("part/parse_outer/ipv4", bm_parse_outer, false);
  benchmark::RegisterBenchmark("part/parse_outer/udp", bm_parse_outer, true);
  benchmark::RegisterBenchmark("part/outer_write/ipv4", bm_outer_write, false);
  benchmark::RegisterBenchmark("part/outer_write/udp", bm_outer_write, true);
}

}  // namespace traverse::bench
