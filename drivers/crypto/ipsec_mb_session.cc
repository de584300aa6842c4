// The intel-ipsec-mb backend: AES-GCM through the direct API, AES-CBC and
// HMAC-SHA-256 through the synchronous burst API (no job queue, no flush),
// ChaCha20-Poly1305 through the job API, whose single-buffer path beats the
// direct init/update/finalize calls on ESP-sized packets.
#include <emmintrin.h>
#include <openssl/crypto.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "drivers/crypto/ipsec_mb_state.hh"

namespace traverse::crypto::internal {
namespace {

using State = IpsecMbState;

static_assert(std::is_standard_layout_v<State>, "wiped with one OPENSSL_cleanse");

constexpr uint32_t kTagLen = 16;
constexpr uint32_t kSha256BlockLen = 64;
constexpr uint32_t kSha256Len = 32;

// Key expansion calls only stateless direct-API functions, so one manager
// serves every thread. It is never freed: sessions may be created until exit.
IMB_MGR* setup_manager() {
  static IMB_MGR* const mgr = [] {
    IMB_MGR* m = alloc_mb_mgr(0);
    if (m != nullptr) {
      IMB_ARCH arch = IMB_ARCH_NONE;
      init_mb_mgr_auto(m, &arch);
    }
    return m;
  }();
  return mgr;
}

// RFC 4106 / RFC 7634 nonce: salt || explicit IV. GCM's pre-counter block
// also carries the 32-bit counter 1; ChaCha20 reads only the first 12 bytes.
// Written with one 16-byte store: the library loads the block whole, and a
// load spanning several fresh smaller stores cannot be forwarded, which cost
// ~25 ns per 64-byte packet (as much as the encryption).
// `v`: the IV's 8 bytes in memory order.
void make_nonce(const uint8_t* salt, uint64_t v, uint8_t* nonce) {
  uint32_t s = 0;
  std::memcpy(&s, salt, sizeof s);
  const uint64_t low = s | v << 32;                   // salt, IV bytes 0-3
  const uint64_t high = v >> 32 | uint64_t{1} << 56;  // IV bytes 4-7, 00 00 00 01
  _mm_store_si128(reinterpret_cast<__m128i*>(nonce),
                  _mm_set_epi64x(static_cast<long long>(high), static_cast<long long>(low)));
}

// HMAC (RFC 2104): keys longer than a block are hashed first; the two padded
// keys are hashed once here so that a packet costs only its own blocks.
void setup_hmac(IMB_MGR* mgr, std::span<const uint8_t> key, State* s) {
  alignas(16) uint8_t block[kSha256BlockLen] = {};
  if (key.size() > kSha256BlockLen) {
    IMB_SHA256(mgr, key.data(), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  alignas(16) uint8_t pad[kSha256BlockLen];
  for (uint32_t i = 0; i < kSha256BlockLen; ++i) {
    pad[i] = block[i] ^ 0x36;
  }
  IMB_SHA256_ONE_BLOCK(mgr, pad, s->ipad_state);
  for (uint32_t i = 0; i < kSha256BlockLen; ++i) {
    pad[i] = block[i] ^ 0x5c;
  }
  IMB_SHA256_ONE_BLOCK(mgr, pad, s->opad_state);
  // ipsec-mb refuses HMAC jobs over zero bytes ("invalid authentication
  // message length"; unchecked, it returns garbage). That MAC is a constant of
  // the key, so it is computed here, in full.
  uint8_t outer[kSha256BlockLen + kSha256Len];
  std::memcpy(outer, pad, kSha256BlockLen);
  for (uint32_t i = 0; i < kSha256BlockLen; ++i) {
    pad[i] = block[i] ^ 0x36;
  }
  IMB_SHA256(mgr, pad, kSha256BlockLen, outer + kSha256BlockLen);
  IMB_SHA256(mgr, outer, sizeof outer, s->empty_mac);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(outer, sizeof outer);

  IMB_JOB& job = s->hmac_job;
  job.hash_start_src_offset_in_bytes = 0;
  job.u.HMAC._hashed_auth_key_xor_ipad = s->ipad_state;
  job.u.HMAC._hashed_auth_key_xor_opad = s->opad_state;
}

void setup_cbc(IMB_MGR* mgr, const uint8_t* key, State* s) {
  if (s->aes_key_size == IMB_KEY_128_BYTES) {
    IMB_AES_KEYEXP_128(mgr, key, s->enc_keys, s->dec_keys);
  } else {
    IMB_AES_KEYEXP_256(mgr, key, s->enc_keys, s->dec_keys);
  }
  IMB_JOB& job = s->cbc_job;
  job.enc_keys = s->enc_keys;
  job.dec_keys = s->dec_keys;
  job.key_len_in_bytes = s->aes_key_size;
  job.cipher_start_src_offset_in_bytes = 0;
  job.iv_len_in_bytes = 16;
}

// One ChaCha20-Poly1305 job; the job API runs it at once, so it is back before
// submit returns. The manager's queue is empty between calls: no session
// leaves a job behind.
bool chacha_job(IMB_MGR* mgr, const State& s, IMB_CIPHER_DIRECTION direction, const uint8_t* nonce,
                const uint8_t* aad, uint32_t aad_len, uint8_t* data, uint32_t len,
                uint8_t* tag_out) {
  IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
  job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
  job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
  job->cipher_direction = direction;
  job->chain_order = direction == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  job->enc_keys = s.chacha_key;
  job->dec_keys = s.chacha_key;
  job->key_len_in_bytes = sizeof s.chacha_key;
  job->src = data;
  job->dst = data;
  job->cipher_start_src_offset_in_bytes = 0;
  job->msg_len_to_cipher_in_bytes = len;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = len;
  job->iv = nonce;
  job->iv_len_in_bytes = 12;
  job->u.CHACHA20_POLY1305.aad = aad;
  job->u.CHACHA20_POLY1305.aad_len_in_bytes = aad_len;
  job->auth_tag_output = tag_out;
  job->auth_tag_output_len_in_bytes = kTagLen;
  IMB_JOB* done = IMB_SUBMIT_JOB_NOCHECK(mgr);
  if (done == nullptr) {
    done = IMB_FLUSH_JOB(mgr);
  }
  return done == job && done->status == IMB_STATUS_COMPLETED;
}

}  // namespace

std::unique_ptr<State> State::create(Transform transform, const SessionKeys& keys,
                                     std::string* error) {
  IMB_MGR* mgr = setup_manager();
  if (mgr == nullptr) {
    *error = "intel-ipsec-mb: cannot allocate a manager for key expansion";
    return nullptr;
  }
  // Value-initialised: every job field the burst calls read starts at zero.
  auto s = std::make_unique<State>();
  s->transform = transform;
  if (!keys.salt.empty()) {
    std::memcpy(s->salt, keys.salt.data(), sizeof s->salt);
  }
  const uint8_t* key = keys.cipher_key.data();
  switch (transform) {
    case Transform::aes_gcm_128:
      IMB_AES128_GCM_PRE(mgr, key, &s->gcm_key);
      break;
    case Transform::aes_gcm_256:
      IMB_AES256_GCM_PRE(mgr, key, &s->gcm_key);
      break;
    case Transform::aes_cbc_128_hmac_sha256_128:
    case Transform::aes_cbc_256_hmac_sha256_128:
      s->aes_key_size = keys.cipher_key.size() == 16 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
      setup_cbc(mgr, key, s.get());
      setup_hmac(mgr, keys.auth_key, s.get());
      break;
    case Transform::chacha20_poly1305:
      std::memcpy(s->chacha_key, key, sizeof s->chacha_key);
      break;
  }
  return s;
}

uint32_t State::hot_regions(MemoryRegion* out) const {
  switch (transform) {
    case Transform::aes_gcm_128:
    case Transform::aes_gcm_256: {
      // Not all of the 1 KB GHASH key table: a short packet reads the round
      // keys and the lowest powers of H, which the AVX2/AVX-512 layouts keep
      // right after the round keys and the VAES layout at the table's end
      // (H^16 .. H^1). Longer packets fetch the rest as they go. A wrong
      // guess about a library's layout costs speed here, never correctness.
      constexpr uint32_t kRoundKeys = sizeof gcm_key.expanded_keys;
      constexpr uint32_t kLowPowers = 16 * 8;
      constexpr uint32_t kTopPowers = 16 * 16;
      const auto* key = reinterpret_cast<const uint8_t*>(&gcm_key);
      out[0] = {this, static_cast<uint32_t>(offsetof(State, gcm_key)) + kRoundKeys + kLowPowers};
      out[1] = {key + sizeof gcm_key - kTopPowers, kTopPowers};
      return 2;
    }
    case Transform::chacha20_poly1305:
      out[0] = {this, static_cast<uint32_t>(offsetof(State, gcm_key))};
      return 1;
    default:
      out[0] = {this, static_cast<uint32_t>(sizeof *this)};
      return 1;
  }
}

State::~IpsecMbState() {
  OPENSSL_cleanse(static_cast<void*>(this), sizeof *this);
}

void State::aead_seal(IMB_MGR* mgr, uint64_t iv, const uint8_t* aad, uint32_t aad_len,
                      uint8_t* data, uint32_t len, uint8_t* tag) {
  alignas(16) uint8_t nonce[16];
  make_nonce(salt, iv, nonce);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): the library fills it
  struct gcm_context_data ctx;
  switch (transform) {
    case Transform::aes_gcm_128:
      IMB_AES128_GCM_ENC(mgr, &gcm_key, &ctx, data, data, len, nonce, aad, aad_len, tag, kTagLen);
      return;
    case Transform::aes_gcm_256:
      IMB_AES256_GCM_ENC(mgr, &gcm_key, &ctx, data, data, len, nonce, aad, aad_len, tag, kTagLen);
      return;
    case Transform::chacha20_poly1305:
      if (!chacha_job(mgr, *this, IMB_DIR_ENCRYPT, nonce, aad, aad_len, data, len, tag)) {
        // Never seen; fail closed rather than let plaintext out.
        if (len != 0) {
          std::memset(data, 0, len);
        }
        std::memset(tag, 0, kTagLen);
      }
      return;
    default:
      return;  // CipherSession calls this for AEAD transforms only
  }
}

bool State::aead_open(IMB_MGR* mgr, const uint8_t* iv, const uint8_t* aad, uint32_t aad_len,
                      uint8_t* data, uint32_t len, const uint8_t* tag) {
  alignas(16) uint8_t nonce[16];
  uint64_t iv_bytes = 0;
  std::memcpy(&iv_bytes, iv, sizeof iv_bytes);
  make_nonce(salt, iv_bytes, nonce);
  uint8_t computed[kTagLen];
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): the library fills it
  struct gcm_context_data ctx;
  switch (transform) {
    case Transform::aes_gcm_128:
      IMB_AES128_GCM_DEC(mgr, &gcm_key, &ctx, data, data, len, nonce, aad, aad_len, computed,
                         kTagLen);
      break;
    case Transform::aes_gcm_256:
      IMB_AES256_GCM_DEC(mgr, &gcm_key, &ctx, data, data, len, nonce, aad, aad_len, computed,
                         kTagLen);
      break;
    case Transform::chacha20_poly1305:
      if (!chacha_job(mgr, *this, IMB_DIR_DECRYPT, nonce, aad, aad_len, data, len, computed)) {
        return false;
      }
      break;
    default:
      return false;
  }
  return CRYPTO_memcmp(computed, tag, kTagLen) == 0;
}

void State::cbc(IMB_MGR* mgr, IMB_CIPHER_DIRECTION direction, const uint8_t* iv, uint8_t* data,
                uint32_t len) {
  cbc_job.src = data;
  cbc_job.dst = data;
  cbc_job.msg_len_to_cipher_in_bytes = len;
  cbc_job.iv = iv;
  // The unchecked burst runs every job it is given; the fields it would have
  // validated were set at create() and by CipherSession.
  IMB_SUBMIT_CIPHER_BURST_NOCHECK(mgr, &cbc_job, 1, IMB_CIPHER_CBC, direction, aes_key_size);
}

void State::hmac(IMB_MGR* mgr, const uint8_t* data, uint32_t len, uint8_t* out, uint32_t out_len) {
  if (len == 0) {
    std::memcpy(out, empty_mac, out_len);
    return;
  }
  // The library writes 16 (RFC 4868's truncation) or 32 bytes; any other
  // length goes through a full-length scratch copy.
  uint8_t full[kSha256Len];
  const bool direct = out_len == 16 || out_len == kSha256Len;
  hmac_job.src = data;
  hmac_job.msg_len_to_hash_in_bytes = len;
  hmac_job.auth_tag_output = direct ? out : full;
  hmac_job.auth_tag_output_len_in_bytes = direct ? out_len : kSha256Len;
  IMB_SUBMIT_HASH_BURST_NOCHECK(mgr, &hmac_job, 1, IMB_AUTH_HMAC_SHA_256);
  if (!direct) {
    std::memcpy(out, full, out_len);
  }
}

}  // namespace traverse::crypto::internal
