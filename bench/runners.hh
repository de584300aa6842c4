// One benchmark case's per-packet work, set up outside the timed loop so that
// single and paired benchmarks run exactly the same code: the ESP paths
// (OutboundSa::encrypt, InboundSa::decrypt), the same cipher work through a
// baseline (the library alone, or the crypto driver's session), and the
// decrypt restore copy alone. run() does one packet: encrypt cases first
// rewrite the inner IPv4 header (ESP encrypts in place), decrypt cases first
// copy the pristine ESP packet back. Single-threaded; benchmarks only.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "bench/bench_fixture.hh"
#include "bench/raw_ipsec_mb.hh"
#include "bench/raw_openssl.hh"
#include "bench/session_cipher.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"

namespace traverse::bench {

enum class Direction : uint8_t { encrypt, decrypt };

constexpr const char* direction_name(Direction d) {
  return d == Direction::encrypt ? "encrypt" : "decrypt";
}

struct CaseSpec {
  crypto::Transform transform;
  crypto::Backend backend;
  Direction direction;
  bool udp;  // ESP in UDP (RFC 3948); baselines ignore it
  const SizeSpec* size;
};

template <class Cipher>
using CipherFactory = std::unique_ptr<Cipher> (*)(crypto::Transform, const esp::SaConfig&,
                                                  std::string*);

// ipsec-mb with `mode` for CBC + HMAC; OpenSSL EVP; the crypto driver.
template <CbcMode mode>
std::unique_ptr<RawIpsecMb> make_raw_ipsec_mb(crypto::Transform transform,
                                              const esp::SaConfig& config, std::string* error);
std::unique_ptr<RawOpenssl> make_raw_openssl(crypto::Transform transform,
                                             const esp::SaConfig& config, std::string* error);
std::unique_ptr<SessionCipher> make_session(crypto::Transform transform,
                                            const esp::SaConfig& config, std::string* error);

class EspRunner {
 public:
  // Empty on success, else why the case cannot run.
  std::string setup(const CaseSpec& spec);
  const PacketSet& packets() const { return *set_; }

  bool run(const PacketSlot& p) {
    crypto::ThreadContext& thread = *thread_;
    if (outbound_) {
      esp::PacketBuffer pkt = p.inner_view();
      std::memcpy(pkt.data(), p.inner.data(), kInnerHeaderLen);
      const bool ok = outbound_->encrypt(thread, pkt) == esp::Status::ok;
      benchmark::DoNotOptimize(pkt);
      return ok;
    }
    esp::PacketBuffer pkt = p.restore_outer();
    const bool ok = inbound_->decrypt(thread, pkt, &result_) == esp::Status::ok;
    benchmark::DoNotOptimize(pkt);
    return ok;
  }

 private:
  std::optional<PacketSet> set_;
  // Taken once, as SessionCipher does: bench_thread() is a call (and a guard
  // check) that a worker does not make per packet.
  crypto::ThreadContext* thread_ = &bench_thread();
  std::unique_ptr<esp::OutboundSa> outbound_;
  std::unique_ptr<esp::InboundSa> inbound_;
  esp::DecryptResult result_;
};

// Opening each pristine packet and sealing the plaintext again must give the
// ESP packet back byte for byte: the baseline does the same work as ESP.
template <class Cipher>
std::string check_same_work(Cipher& cipher, const PacketSet& set, const esp::SaConfig& config);

template <class Cipher>
class CipherRunner {
 public:
  std::string setup(const CaseSpec& spec, CipherFactory<Cipher> make) {
    const esp::SaConfig config = outbound_config(spec.transform, spec.backend, false);
    set_.emplace(*spec.size, spec.transform, false);
    encrypt_ = spec.direction == Direction::encrypt;
    std::string error = set_->seal_all(config);
    if (error.empty()) {
      cipher_ = make(spec.transform, config, &error);
    }
    if (cipher_) {
      error = check_same_work(*cipher_, *set_, config);
    }
    return error;
  }
  const PacketSet& packets() const { return *set_; }

  bool run(const PacketSlot& p) {
    bool ok = false;
    if (encrypt_) {
      std::memcpy(p.inner_start(), p.inner.data(), kInnerHeaderLen);
      ok = cipher_->seal(p.esp_start(), p.layout.payload_len);
    } else {
      p.restore_outer();
      ok = cipher_->open(p.esp_start(), p.layout.payload_len);
    }
    benchmark::ClobberMemory();
    return ok;
  }

 private:
  std::optional<PacketSet> set_;
  std::unique_ptr<Cipher> cipher_;
  bool encrypt_ = true;
};

// The restore copy of the decrypt cases alone.
class MemcpyRunner {
 public:
  std::string setup(const CaseSpec& spec);
  const PacketSet& packets() const { return *set_; }

  bool run(const PacketSlot& p) {
    esp::PacketBuffer pkt = p.restore_outer();
    benchmark::DoNotOptimize(pkt);
    benchmark::ClobberMemory();
    return true;
  }

 private:
  std::optional<PacketSet> set_;
};

}  // namespace traverse::bench
