// Per-packet cost of every transform on both backends, next to intel-ipsec-mb's
// raw AES-GCM direct API: the session's overhead over the library should be
// within noise. Run: crypto_bench --benchmark_filter=Gcm
#include <benchmark/benchmark.h>

#include <vector>

#include "drivers/crypto/cipher_session.hh"
#include "drivers/crypto/imb.hh"

namespace traverse::crypto {
namespace {

constexpr int64_t kSizes[] = {64, 1400, 9000};

std::unique_ptr<CipherSession> bench_session(Backend backend, Transform transform) {
  const TransformInfo info = transform_info(transform);
  const std::vector<uint8_t> key(info.cipher_key_len, 0x42);
  const std::vector<uint8_t> salt(info.salt_len, 0x43);
  const std::vector<uint8_t> auth(info.auth_key_len, 0x44);
  std::string error;
  return CipherSession::create(backend, transform, {key, salt, auth}, &error);
}

// The floor: one IMB_AES128_GCM_ENC call with its key data ready.
void BM_RawImbGcm128Seal(benchmark::State& state) {
  ThreadContext thread;
  IMB_MGR* mgr = thread.ipsec_mb();
  alignas(64) static gcm_key_data key;
  const uint8_t raw_key[16] = {0x42};
  IMB_AES128_GCM_PRE(mgr, raw_key, &key);
  std::vector<uint8_t> data(state.range(0));
  alignas(16) uint8_t iv[16] = {0x43, 0x43, 0x43, 0x43, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
  const uint8_t aad[8] = {};
  uint8_t tag[16];
  for (auto _ : state) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): the library fills it
    struct gcm_context_data ctx;
    IMB_AES128_GCM_ENC(mgr, &key, &ctx, data.data(), data.data(), data.size(), iv, aad, sizeof aad,
                       tag, sizeof tag);
    benchmark::DoNotOptimize(tag);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_AeadSeal(benchmark::State& state, Backend backend, Transform transform) {
  ThreadContext thread;
  auto s = bench_session(backend, transform);
  std::vector<uint8_t> data(state.range(0));
  const uint8_t iv[8] = {0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t aad[8] = {};
  uint8_t tag[16];
  for (auto _ : state) {
    s->aead_seal(thread, iv, aad, sizeof aad, data.data(), data.size(), tag);
    benchmark::DoNotOptimize(tag);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// What ESP does per outbound CBC packet: encrypt, then MAC the result.
void BM_CbcEncryptHmac(benchmark::State& state, Backend backend, Transform transform) {
  ThreadContext thread;
  auto s = bench_session(backend, transform);
  std::vector<uint8_t> data(state.range(0) / 16 * 16);
  const uint8_t iv[16] = {};
  uint8_t icv[16];
  for (auto _ : state) {
    s->cbc_encrypt(thread, iv, data.data(), data.size());
    s->hmac(thread, data.data(), data.size(), icv, sizeof icv);
    benchmark::DoNotOptimize(icv);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void register_benchmarks() {
  for (int64_t size : kSizes) {
    benchmark::RegisterBenchmark("RawImbGcm128Seal", BM_RawImbGcm128Seal)->Arg(size);
  }
  for (Transform t : kAllTransforms) {
    for (Backend b : kAllBackends) {
      const std::string name =
          std::string(transform_info(t).name) + "/" + std::string(backend_name(b));
      for (int64_t size : kSizes) {
        if (transform_info(t).aead) {
          benchmark::RegisterBenchmark(("Seal/" + name).c_str(), BM_AeadSeal, b, t)->Arg(size);
        } else {
          benchmark::RegisterBenchmark(("CbcEncryptHmac/" + name).c_str(), BM_CbcEncryptHmac, b, t)
              ->Arg(size);
        }
      }
    }
  }
}

}  // namespace
}  // namespace traverse::crypto

int main(int argc, char** argv) {
  traverse::crypto::register_benchmarks();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
