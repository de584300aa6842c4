// ESP microbenchmarks: per packet, OutboundSa::encrypt and InboundSa::decrypt
// (IPv4 outer; ESP-in-UDP for AES-GCM-128) for every transform, backend and
// size, each next to the same cipher work done through the crypto driver
// alone ("session") and through the library alone ("raw"), on the same buffer
// and lengths. Names: KIND/DIRECTION/TRANSFORM/BACKEND/SIZE, KIND one of esp,
// esp_udp, session, raw, raw_chained (CBC+HMAC as one ipsec-mb job), memcpy
// (the decrypt benchmarks' restore copy alone), and pair/pair_udp (ESP,
// session and raw in rotation, paired_bench.cc).
// scripts/bench.sh runs it and bench/esp_report.py turns the JSON into a table.
#include <benchmark/benchmark.h>

#include <cstring>
#include <iterator>
#include <memory>
#include <string>

#include "bench/bench_fixture.hh"
#include "bench/block_timer.hh"
#include "bench/esp_parts_bench.hh"
#include "bench/paired_bench.hh"
#include "bench/runners.hh"

namespace traverse::bench {
namespace {

using crypto::Backend;
using crypto::Transform;

// The variant that carries ESP in UDP as well (RFC 3948).
constexpr Transform kUdpTransform = Transform::aes_gcm_128;

// One case on its own: Google Benchmark's timing plus the median block.
template <class Runner, class... SetupArgs>
void bm_single(benchmark::State& state, CaseSpec spec, SetupArgs... setup_args) {
  Runner runner;
  const std::string error = runner.setup(spec, setup_args...);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const PacketSet& set = runner.packets();
  BlockTimer timer(state, set.iterations_per_block());
  timer.start();
  for (auto _ : state) {
    for (const PacketSlot& p : set.slots) {
      if (!runner.run(p)) {
        state.SkipWithError("a packet failed");
        break;
      }
    }
    timer.tick();
  }
  set_counters(state, set, timer.finish());
}

std::string case_name(std::string_view kind, std::string_view dir, Transform t,
                      std::string_view backend, std::string_view size) {
  std::string name(kind);
  for (std::string_view part : {dir, crypto::transform_info(t).name, backend, size}) {
    name += '/';
    name += part;
  }
  return name;
}

void register_esp_benchmarks() {
  for (Transform t : crypto::kAllTransforms) {
    for (const SizeSpec& size : size_specs()) {
      for (Backend b : crypto::kAllBackends) {
        const std::string_view bn = crypto::backend_name(b);
        for (Direction d : {Direction::encrypt, Direction::decrypt}) {
          const char* dn = direction_name(d);
          const CaseSpec spec{t, b, d, false, &size};
          benchmark::RegisterBenchmark(case_name("esp", dn, t, bn, size.name).c_str(),
                                       bm_single<EspRunner>, spec);
          if (t == kUdpTransform) {
            benchmark::RegisterBenchmark(case_name("esp_udp", dn, t, bn, size.name).c_str(),
                                         bm_single<EspRunner>, CaseSpec{t, b, d, true, &size});
          }
          benchmark::RegisterBenchmark(
              case_name("session", dn, t, bn, size.name).c_str(),
              bm_single<CipherRunner<SessionCipher>, CipherFactory<SessionCipher>>, spec,
              make_session);
          if (b == Backend::openssl) {
            benchmark::RegisterBenchmark(
                case_name("raw", dn, t, bn, size.name).c_str(),
                bm_single<CipherRunner<RawOpenssl>, CipherFactory<RawOpenssl>>, spec,
                make_raw_openssl);
            continue;
          }
          benchmark::RegisterBenchmark(
              case_name("raw", dn, t, bn, size.name).c_str(),
              bm_single<CipherRunner<RawIpsecMb>, CipherFactory<RawIpsecMb>>, spec,
              make_raw_ipsec_mb<CbcMode::split>);
          if (!crypto::transform_info(t).aead) {
            // What one chained cipher+HMAC job would cost instead of two.
            benchmark::RegisterBenchmark(
                case_name("raw_chained", dn, t, bn, size.name).c_str(),
                bm_single<CipherRunner<RawIpsecMb>, CipherFactory<RawIpsecMb>>, spec,
                make_raw_ipsec_mb<CbcMode::chained>);
          }
        }
      }
      benchmark::RegisterBenchmark(
          case_name("memcpy", "decrypt", t, "any", size.name).c_str(), bm_single<MemcpyRunner>,
          CaseSpec{t, Backend::ipsec_mb, Direction::decrypt, false, &size});
    }
  }
}

}  // namespace
}  // namespace traverse::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::AddCustomContext("ipsec_mb_version", imb_get_version_str());
  static constexpr const char* kArchNames[] = {"none", "no-aesni", "sse", "avx", "avx2", "avx512"};
  const uint32_t arch = traverse::bench::bench_thread().ipsec_mb()->used_arch;
  benchmark::AddCustomContext("ipsec_mb_arch", arch < std::size(kArchNames)
                                                   ? std::string(kArchNames[arch])
                                                   : std::to_string(arch));
  benchmark::AddCustomContext("imix", "7:4:1 of 64/576/1500-byte inner IPv4 packets");
  traverse::bench::register_esp_benchmarks();
  traverse::bench::register_paired_benchmarks();
  traverse::bench::register_part_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
