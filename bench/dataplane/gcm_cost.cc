// dataplane-gcm-cost: the raw intel-ipsec-mb AES-128-GCM cost per packet, one
// core, through the direct API (IMB_AES128_GCM_ENC / _DEC) with the manager
// the dataplane's workers use (crypto::ThreadContext). The cipher half of the
// dataplane benchmark's ceiling. Arguments: ESP payload lengths (inner packet
// + padding + 2-byte trailer); each is timed on an ESP-like layout (8-byte
// AAD, 12-byte nonce, 16-byte tag, in place) in blocks of 64 packets, and the
// median block is reported as JSON on stdout. Single-threaded.
#include <intel-ipsec-mb.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/crypto/thread_context.hh"

namespace {

constexpr int kBlock = 64;

struct Cost {
  double enc_ns;
  double dec_ns;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Cost time_length(IMB_MGR* mgr, uint32_t len, double seconds) {
  alignas(64) gcm_key_data key{};
  gcm_context_data ctx{};
  const uint8_t raw_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  IMB_AES128_GCM_PRE(mgr, raw_key, &key);
  // kBlock buffers, as a burst of packets would be: ESP header (AAD) + IV + payload + tag.
  const uint32_t stride = (len + 64 + 63) & ~63u;
  std::vector<uint8_t> mem(static_cast<size_t>(stride) * kBlock + 64, 0x5a);
  uint8_t iv[12] = {0xa, 0xb, 0xc, 0xd};
  Cost cost{};
  // Warm-up: caches, branch predictors and the core's clock settle first.
  const auto warm_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(0.05);
  while (std::chrono::steady_clock::now() < warm_end) {
    IMB_AES128_GCM_ENC(mgr, &key, &ctx, mem.data() + 16, mem.data() + 16, len, iv, mem.data(), 8,
                       mem.data() + 16 + len, 16);
  }
  for (int dec = 0; dec < 2; ++dec) {
    std::vector<double> samples;
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    uint64_t seq = 1;
    while (std::chrono::steady_clock::now() < end || samples.size() < 16) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kBlock; ++i) {
        uint8_t* esp = mem.data() + static_cast<size_t>(i) * stride;
        uint8_t* payload = esp + 16;
        std::memcpy(iv + 4, &seq, 8);
        ++seq;
        if (dec == 0) {
          IMB_AES128_GCM_ENC(mgr, &key, &ctx, payload, payload, len, iv, esp, 8, payload + len, 16);
        } else {
          IMB_AES128_GCM_DEC(mgr, &key, &ctx, payload, payload, len, iv, esp, 8, payload + len, 16);
        }
      }
      const auto t1 = std::chrono::steady_clock::now();
      samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBlock);
    }
    (dec == 0 ? cost.enc_ns : cost.dec_ns) = median(samples);
  }
  return cost;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.2;
  std::vector<uint32_t> lengths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!arg.empty() && arg[0] != '-') {
      lengths.push_back(static_cast<uint32_t>(std::strtoul(arg.c_str(), nullptr, 10)));
    } else {
      std::fprintf(stderr, "usage: dataplane-gcm-cost [--seconds S] PAYLOAD_LEN...\n");
      return 2;
    }
  }
  traverse::crypto::ThreadContext thread;
  IMB_MGR* mgr = thread.ipsec_mb();
  const char* arch = mgr->used_arch == IMB_ARCH_AVX512 ? "avx512"
                     : mgr->used_arch == IMB_ARCH_AVX2 ? "avx2"
                     : mgr->used_arch == IMB_ARCH_AVX  ? "avx"
                                                       : "sse";
  std::printf("{\"library\": \"intel-ipsec-mb %s\", \"arch\": \"%s\", \"lengths\": {",
              imb_get_version_str(), arch);
  for (size_t i = 0; i < lengths.size(); ++i) {
    const Cost c = time_length(mgr, lengths[i], seconds);
    std::printf("%s\"%u\": {\"enc_ns\": %.2f, \"dec_ns\": %.2f}", i == 0 ? "" : ", ", lengths[i],
                c.enc_ns, c.dec_ns);
  }
  std::printf("}}\n");
  return 0;
}
