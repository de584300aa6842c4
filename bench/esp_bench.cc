// ESP microbenchmarks: per packet, OutboundSa::encrypt and InboundSa::decrypt
// (IPv4 outer; ESP-in-UDP for AES-GCM-128) for every transform, backend and
// size, each next to the same cipher work done through the crypto driver
// alone ("session") and through the library alone ("raw"), on the same buffer
// and lengths. Names: KIND/DIRECTION/TRANSFORM/BACKEND/SIZE, KIND one of esp,
// esp_udp, session, raw, raw_chained (CBC+HMAC as one ipsec-mb job), memcpy
// (the decrypt benchmarks' restore copy alone).
// scripts/bench.sh runs it and bench/esp_report.py turns the JSON into a table.
#include <benchmark/benchmark.h>

#include <cstring>
#include <iterator>
#include <memory>
#include <string>

#include "bench/bench_fixture.hh"
#include "bench/block_timer.hh"
#include "bench/esp_parts_bench.hh"
#include "bench/raw_ipsec_mb.hh"
#include "bench/raw_openssl.hh"
#include "bench/session_cipher.hh"
#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"

namespace traverse::bench {
namespace {

using crypto::Backend;
using crypto::Transform;

enum class Direction : uint8_t { encrypt, decrypt };

constexpr const char* direction_name(Direction d) {
  return d == Direction::encrypt ? "encrypt" : "decrypt";
}

// The variant that carries ESP in UDP as well (RFC 3948).
constexpr Transform kUdpTransform = Transform::aes_gcm_128;

void bm_esp_encrypt(benchmark::State& state, Transform transform, Backend backend, bool udp,
                    const SizeSpec* size) {
  std::string error;
  auto sa = esp::OutboundSa::create(outbound_config(transform, backend, udp), &error);
  if (!sa) {
    state.SkipWithError(error.c_str());
    return;
  }
  PacketSet set(*size, transform, udp);
  crypto::ThreadContext& thread = bench_thread();
  BlockTimer timer(state, set.iterations_per_block());
  timer.start();
  for (auto _ : state) {
    for (const PacketSlot& p : set.slots) {
      // A fresh view and inner header: ESP encrypted the last ones in place.
      esp::PacketBuffer pkt = p.inner_view();
      std::memcpy(pkt.data(), p.inner.data(), kInnerHeaderLen);
      if (sa->encrypt(thread, pkt) != esp::Status::ok) {
        state.SkipWithError("OutboundSa::encrypt failed");
        break;
      }
      benchmark::DoNotOptimize(pkt);
    }
    timer.tick();
  }
  set_counters(state, set, timer.finish());
}

void bm_esp_decrypt(benchmark::State& state, Transform transform, Backend backend, bool udp,
                    const SizeSpec* size) {
  const esp::SaConfig config = outbound_config(transform, backend, udp);
  PacketSet set(*size, transform, udp);
  std::string error = set.seal_all(config);
  auto sa = error.empty() ? esp::InboundSa::create(inbound_config(config), &error) : nullptr;
  if (!sa) {
    state.SkipWithError(error.c_str());
    return;
  }
  crypto::ThreadContext& thread = bench_thread();
  esp::DecryptResult result;
  BlockTimer timer(state, set.iterations_per_block());
  timer.start();
  for (auto _ : state) {
    for (const PacketSlot& p : set.slots) {
      esp::PacketBuffer pkt = p.restore_outer();
      if (sa->decrypt(thread, pkt, &result) != esp::Status::ok) {
        state.SkipWithError("InboundSa::decrypt failed");
        break;
      }
      benchmark::DoNotOptimize(pkt);
    }
    timer.tick();
  }
  set_counters(state, set, timer.finish());
}

// Opening each pristine packet and sealing the plaintext again must give the
// ESP packet back byte for byte: the baseline does the same work as ESP.
template <class Cipher>
std::string check_same_work(Cipher& cipher, PacketSet& set, const esp::SaConfig& config) {
  const bool aead = crypto::transform_info(config.transform).aead;
  uint64_t seq = config.first_sequence;
  for (const PacketSlot& p : set.slots) {
    p.restore_outer();
    uint8_t* esp = p.esp_start();
    if (!cipher.open(esp, p.layout.payload_len)) {
      return "the baseline does not verify the ESP packet";
    }
    if (!aead) {
      // CBC: the IV field held the encrypted nonce block; put the nonce back.
      esp::store_be64(esp + 8, seq);
      esp::store_be32(esp + 16, config.spi);
      esp::store_be32(esp + 20, 0);
    }
    ++seq;
    if (!cipher.seal(esp, p.layout.payload_len) ||
        std::memcmp(esp - p.layout.outer_len, p.outer.data(), p.outer.size()) != 0) {
      return "the baseline does not reproduce the ESP packet";
    }
  }
  return {};
}

template <class Cipher>
using CipherFactory = std::unique_ptr<Cipher> (*)(Transform, const esp::SaConfig&, std::string*);

IMB_MGR* hash_manager() {
  static IMB_MGR* const mgr = make_hash_manager(bench_thread().ipsec_mb());
  return mgr != nullptr ? mgr : bench_thread().ipsec_mb();
}

template <CbcMode mode>
std::unique_ptr<RawIpsecMb> make_raw_ipsec_mb(Transform transform, const esp::SaConfig& c,
                                              std::string* error) {
  auto raw = RawIpsecMb::create(bench_thread().ipsec_mb(), hash_manager(), transform,
                                {c.cipher_key.data(), c.salt.data(), c.auth_key.data()}, mode);
  if (!raw) {
    *error = "ipsec-mb refused the transform";
  }
  return raw;
}

std::unique_ptr<RawOpenssl> make_raw_openssl(Transform transform, const esp::SaConfig& c,
                                             std::string* error) {
  auto raw = RawOpenssl::create(transform, {c.cipher_key.data(), c.salt.data(), c.auth_key.data()});
  if (!raw) {
    *error = "OpenSSL refused the transform";
  }
  return raw;
}

std::unique_ptr<SessionCipher> make_session(Transform transform, const esp::SaConfig& c,
                                            std::string* error) {
  auto session = crypto::CipherSession::create(c.backend, transform,
                                               {c.cipher_key, c.salt, c.auth_key}, error);
  if (!session) {
    return nullptr;
  }
  return std::make_unique<SessionCipher>(std::move(session), bench_thread());
}

// The cipher work alone, on the same buffers, offsets and lengths as ESP, with
// the same per-iteration restore (the inner header before encrypt, the whole
// packet before decrypt).
template <class Cipher>
void bm_cipher(benchmark::State& state, CipherFactory<Cipher> make_cipher, Transform transform,
               Backend backend, Direction dir, const SizeSpec* size) {
  const esp::SaConfig config = outbound_config(transform, backend, false);
  PacketSet set(*size, transform, false);
  std::string error = set.seal_all(config);
  std::unique_ptr<Cipher> cipher;
  if (error.empty()) {
    cipher = make_cipher(transform, config, &error);
  }
  if (cipher) {
    error = check_same_work(*cipher, set, config);
  }
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  BlockTimer timer(state, set.iterations_per_block());
  timer.start();
  if (dir == Direction::encrypt) {
    for (auto _ : state) {
      for (const PacketSlot& p : set.slots) {
        std::memcpy(p.inner_start(), p.inner.data(), kInnerHeaderLen);
        if (!cipher->seal(p.esp_start(), p.layout.payload_len)) {
          state.SkipWithError("seal failed");
          break;
        }
        benchmark::ClobberMemory();
      }
      timer.tick();
    }
  } else {
    for (auto _ : state) {
      for (const PacketSlot& p : set.slots) {
        p.restore_outer();
        if (!cipher->open(p.esp_start(), p.layout.payload_len)) {
          state.SkipWithError("open failed");
          break;
        }
        benchmark::ClobberMemory();
      }
      timer.tick();
    }
  }
  set_counters(state, set, timer.finish());
}

// The restore copy of the decrypt benchmarks alone.
void bm_memcpy(benchmark::State& state, Transform transform, const SizeSpec* size) {
  PacketSet set(*size, transform, false);
  const std::string error = set.seal_all(outbound_config(transform, Backend::ipsec_mb, false));
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  BlockTimer timer(state, set.iterations_per_block());
  timer.start();
  for (auto _ : state) {
    for (const PacketSlot& p : set.slots) {
      esp::PacketBuffer pkt = p.restore_outer();
      benchmark::DoNotOptimize(pkt);
      benchmark::ClobberMemory();
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
          auto esp = d == Direction::encrypt ? bm_esp_encrypt : bm_esp_decrypt;
          benchmark::RegisterBenchmark(case_name("esp", dn, t, bn, size.name).c_str(), esp, t, b,
                                       false, &size);
          if (t == kUdpTransform) {
            benchmark::RegisterBenchmark(case_name("esp_udp", dn, t, bn, size.name).c_str(), esp, t,
                                         b, true, &size);
          }
          benchmark::RegisterBenchmark(case_name("session", dn, t, bn, size.name).c_str(),
                                       bm_cipher<SessionCipher>, make_session, t, b, d, &size);
          if (b == Backend::openssl) {
            benchmark::RegisterBenchmark(case_name("raw", dn, t, bn, size.name).c_str(),
                                         bm_cipher<RawOpenssl>, make_raw_openssl, t, b, d, &size);
            continue;
          }
          benchmark::RegisterBenchmark(case_name("raw", dn, t, bn, size.name).c_str(),
                                       bm_cipher<RawIpsecMb>, make_raw_ipsec_mb<CbcMode::split>, t,
                                       b, d, &size);
          if (!crypto::transform_info(t).aead) {
            // What one chained cipher+HMAC job would cost instead of two.
            benchmark::RegisterBenchmark(case_name("raw_chained", dn, t, bn, size.name).c_str(),
                                         bm_cipher<RawIpsecMb>, make_raw_ipsec_mb<CbcMode::chained>,
                                         t, b, d, &size);
          }
        }
      }
      benchmark::RegisterBenchmark(case_name("memcpy", "decrypt", t, "any", size.name).c_str(),
                                   bm_memcpy, t, &size);
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
  traverse::bench::register_part_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
