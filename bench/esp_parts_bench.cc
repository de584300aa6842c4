#include "bench/esp_parts_bench.hh"

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "bench/bench_fixture.hh"
#include "bench/block_timer.hh"
#include "dataplane/esp/byte_order.hh"
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

// OuterHeader::write as OutboundSa::encrypt runs it: template copy, lengths,
// DF, ID and the IPv4 header checksum.
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

// For comparison, not used by Traverse: the same IPv4 header with its checksum
// summed in registers from the template's constant words (taken once) and the
// three per-packet fields (DF comes from the template: DfMode::set, the
// default; DfMode::copy would add one more). OuterHeader::write instead reads back the 20 bytes it
// has just written with 1-, 2- and 4-byte stores, so the 8-byte loads of the
// checksum cannot be forwarded from the store buffer and wait for the stores
// to retire.
class RegisterSumIpv4Header {
 public:
  explicit RegisterSumIpv4Header(const esp::OuterHeader& outer) {
    outer.write(bytes_, 0, 0, false, 0);
    bytes_[10] = bytes_[11] = 0;
    for (uint32_t i = 0; i < sizeof bytes_; i += 2) {
      constant_sum_ += esp::load_be16(bytes_ + i);
    }
    constant_sum_ -= esp::load_be16(bytes_ + 2);  // the length written above (20)
  }
  void write(uint8_t* dst, uint32_t esp_len, uint8_t tos, uint16_t ip_id) const {
    std::memcpy(dst, bytes_, sizeof bytes_);
    const uint16_t total = static_cast<uint16_t>(sizeof bytes_ + esp_len);
    dst[1] = tos;
    esp::store_be16(dst + 2, total);
    esp::store_be16(dst + 4, ip_id);
    uint32_t sum = constant_sum_ + tos + total + ip_id;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    esp::store_be16(dst + 10, static_cast<uint16_t>(~sum));
  }

 private:
  uint8_t bytes_[20] = {};
  uint32_t constant_sum_ = 0;
};

void bm_outer_write_register_sum(benchmark::State& state) {
  esp::OuterHeader outer;
  outer.build(outbound_config(kTransform, kBackend, false));
  const RegisterSumIpv4Header fast(outer);
  AlignedBuffer buffer(256);
  // Both must write the same bytes, checksum included.
  for (uint16_t id : {0, 1, 0xfffe}) {
    outer.write(buffer.data(), 1460, 0xb8, true, id);
    fast.write(buffer.data() + 64, 1460, 0xb8, id);
    if (std::memcmp(buffer.data(), buffer.data() + 64, 20) != 0) {
      state.SkipWithError("register-sum header differs from OuterHeader::write");
      return;
    }
  }
  uint16_t id = 0;
  BlockTimer timer(state, kCallsPerBlock);
  timer.start();
  for (auto _ : state) {
    fast.write(buffer.data() + 64, 1460, 0, id++);
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
  benchmark::RegisterBenchmark("part/outer_write_register_sum/ipv4", bm_outer_write_register_sum);
}

}  // namespace traverse::bench
