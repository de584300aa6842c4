// Raw intel-ipsec-mb baseline (see raw_cipher.hh), each transform through
// its fastest single-packet path in ipsec-mb 1.3 on this kind of CPU: AES-GCM
// through the direct API (IMB_AES*_GCM_ENC/DEC); ChaCha20-Poly1305 as one job
// (the AVX-512 job is ~1.3x faster than the direct API); AES-CBC through the
// cipher burst API on the main manager and HMAC-SHA-256 through the hash burst
// API on the hash manager (an AVX2 manager on AVX-512 CPUs with SHA-NI, whose
// HMAC is ~5x faster): no job queue, no flush. With CbcMode::chained, cipher
// and HMAC instead go as one chained job on the hash manager.
#pragma once

#ifndef NO_COMPAT_IMB_API_053
#define NO_COMPAT_IMB_API_053  // ipsec-mb's old macro names clash with OpenSSL's
#endif
#include <emmintrin.h>
#include <intel-ipsec-mb.h>

#include <cstdint>
#include <memory>

#include "bench/raw_cipher.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::bench {

enum class CbcMode : uint8_t {
  split,    // CBC burst on the main manager, HMAC burst on the hash manager
  chained,  // one CIPHER_HASH / HASH_CIPHER job on the hash manager
};

// The manager that hashes fastest: an AVX2 manager (SHA-NI) when the CPU has
// AVX-512 and SHA-NI, else nullptr (use the main manager). Owned by the caller.
IMB_MGR* make_hash_manager(IMB_MGR* main);

class RawIpsecMb {
 public:
  // `hash_mgr` may equal `mgr`.
  static std::unique_ptr<RawIpsecMb> create(IMB_MGR* mgr, IMB_MGR* hash_mgr,
                                            crypto::Transform transform, const RawKeys& keys,
                                            CbcMode cbc_mode = CbcMode::split);

  // false when the library reports a failed job.
  bool seal(uint8_t* esp, uint32_t payload_len);
  // false when the ICV does not verify.
  bool open(uint8_t* esp, uint32_t payload_len);

 private:
  RawIpsecMb(IMB_MGR* mgr, IMB_MGR* hash_mgr, crypto::Transform transform, CbcMode cbc_mode)
      : mgr_(mgr), hash_mgr_(hash_mgr), transform_(transform), cbc_mode_(cbc_mode) {}
  void cbc(uint8_t* data, uint32_t len, const uint8_t* iv, IMB_CIPHER_DIRECTION direction);
  void hmac(const uint8_t* data, uint32_t len, uint8_t* tag);
  bool chained_job(uint8_t* esp, uint32_t payload_len, bool encrypt, uint8_t* tag);
  bool chacha_job(uint8_t* esp, uint32_t payload_len, bool encrypt, uint8_t* tag);
  // salt || IV || 0x00000001 with one 16-byte store, as the driver's compiled
  // make_nonce does: the library reads the nonce with a 16-byte load, which a
  // narrower store at another offset could not forward (a ~15-cycle stall).
  void nonce(const uint8_t* iv) {
    uint64_t iv64;
    __builtin_memcpy(&iv64, iv, sizeof iv64);
    const uint64_t lo = salt_ | (iv64 << 32);
    const uint64_t hi = (iv64 >> 32) | (uint64_t{0x01000000} << 32);
    _mm_store_si128(reinterpret_cast<__m128i*>(nonce_),
                    _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo)));
  }

  IMB_MGR* mgr_;
  IMB_MGR* hash_mgr_;
  crypto::Transform transform_;
  CbcMode cbc_mode_;
  alignas(64) gcm_key_data gcm_key_;
  alignas(64) gcm_context_data gcm_ctx_;
  alignas(16) uint32_t enc_keys_[60];
  alignas(16) uint32_t dec_keys_[60];
  alignas(16) uint8_t ipad_[32];
  alignas(16) uint8_t opad_[32];
  IMB_JOB cbc_job_;  // burst jobs: the keys set once, per packet the buffer
  IMB_JOB hmac_job_;
  alignas(16) uint8_t chacha_key_[32];
  alignas(16) uint8_t nonce_[16];
  uint32_t salt_ = 0;  // memory order
  IMB_KEY_SIZE_BYTES key_size_ = IMB_KEY_128_BYTES;
};

}  // namespace traverse::bench
