#include "bench/raw_ipsec_mb.hh"

#include <openssl/crypto.h>

#include <cstring>

namespace traverse::bench {
namespace {

constexpr uint32_t kEspHeaderLen = 8;
constexpr uint32_t kCbcIvLen = 16;
constexpr uint32_t kAeadIvLen = 8;
constexpr uint32_t kIcvLen = 16;
alignas(16) constexpr uint8_t kZeroIv[16] = {};

// Runs the job just filled in and waits for it: the manager is empty before
// and after, so the job that comes back is ours.
bool run(IMB_MGR* mgr) {
  // Unchecked, as the driver submits: every field was set just before.
  IMB_JOB* done = IMB_SUBMIT_JOB_NOCHECK(mgr);
  if (done == nullptr) {
    done = IMB_FLUSH_JOB(mgr);
  }
  return done != nullptr && done->status == IMB_STATUS_COMPLETED;
}

}  // namespace

IMB_MGR* make_hash_manager(IMB_MGR* main) {
  if (main->used_arch != IMB_ARCH_AVX512 || (main->features & IMB_FEATURE_SHANI) == 0) {
    return nullptr;
  }
  IMB_MGR* avx2 = alloc_mb_mgr(0);
  if (avx2 == nullptr) {
    return nullptr;
  }
  init_mb_mgr_avx2(avx2);
  if (imb_get_errno(avx2) != 0) {
    free_mb_mgr(avx2);
    return nullptr;
  }
  return avx2;
}

std::unique_ptr<RawIpsecMb> RawIpsecMb::create(IMB_MGR* mgr, IMB_MGR* hash_mgr,
                                               crypto::Transform transform, const RawKeys& keys,
                                               CbcMode cbc_mode) {
  std::unique_ptr<RawIpsecMb> raw(new RawIpsecMb(mgr, hash_mgr, transform, cbc_mode));
  const crypto::TransformInfo info = crypto::transform_info(transform);
  raw->key_size_ = info.cipher_key_len == 16 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
  if (info.aead) {
    std::memcpy(&raw->salt_, keys.salt, 4);
  }
  switch (transform) {
    case crypto::Transform::aes_gcm_128:
      IMB_AES128_GCM_PRE(mgr, keys.cipher_key, &raw->gcm_key_);
      break;
    case crypto::Transform::aes_gcm_256:
      IMB_AES256_GCM_PRE(mgr, keys.cipher_key, &raw->gcm_key_);
      break;
    case crypto::Transform::aes_cbc_128_hmac_sha256_128:
    case crypto::Transform::aes_cbc_256_hmac_sha256_128: {
      if (info.cipher_key_len == 16) {
        IMB_AES_KEYEXP_128(mgr, keys.cipher_key, raw->enc_keys_, raw->dec_keys_);
      } else {
        IMB_AES_KEYEXP_256(mgr, keys.cipher_key, raw->enc_keys_, raw->dec_keys_);
      }
      // HMAC precomputation: the SHA-256 state after one block of key ^ pad.
      alignas(16) uint8_t block[64];
      for (const auto& [pad, out] :
           {std::pair{uint8_t{0x36}, raw->ipad_}, std::pair{uint8_t{0x5c}, raw->opad_}}) {
        std::memset(block, pad, sizeof block);
        for (uint32_t i = 0; i < info.auth_key_len; ++i) {
          block[i] = static_cast<uint8_t>(keys.auth_key[i] ^ pad);
        }
        IMB_SHA256_ONE_BLOCK(mgr, block, out);
      }
      // Value-initialised jobs: every field the unchecked bursts read is set.
      raw->cbc_job_ = IMB_JOB{};
      raw->cbc_job_.enc_keys = raw->enc_keys_;
      raw->cbc_job_.dec_keys = raw->dec_keys_;
      raw->cbc_job_.key_len_in_bytes = raw->key_size_;
      raw->cbc_job_.iv_len_in_bytes = kCbcIvLen;
      raw->hmac_job_ = IMB_JOB{};
      raw->hmac_job_.u.HMAC._hashed_auth_key_xor_ipad = raw->ipad_;
      raw->hmac_job_.u.HMAC._hashed_auth_key_xor_opad = raw->opad_;
      raw->hmac_job_.auth_tag_output_len_in_bytes = kIcvLen;
      break;
    }
    case crypto::Transform::chacha20_poly1305:
      std::memcpy(raw->chacha_key_, keys.cipher_key, 32);
      break;
  }
  return raw;
}

void RawIpsecMb::cbc(uint8_t* data, uint32_t len, const uint8_t* iv,
                     IMB_CIPHER_DIRECTION direction) {
  cbc_job_.src = data;
  cbc_job_.dst = data;
  cbc_job_.msg_len_to_cipher_in_bytes = len;
  cbc_job_.iv = iv;
  IMB_SUBMIT_CIPHER_BURST_NOCHECK(mgr_, &cbc_job_, 1, IMB_CIPHER_CBC, direction, key_size_);
}

void RawIpsecMb::hmac(const uint8_t* data, uint32_t len, uint8_t* tag) {
  hmac_job_.src = data;
  hmac_job_.msg_len_to_hash_in_bytes = len;
  hmac_job_.auth_tag_output = tag;
  IMB_SUBMIT_HASH_BURST_NOCHECK(hash_mgr_, &hmac_job_, 1, IMB_AUTH_HMAC_SHA_256);
}

bool RawIpsecMb::chained_job(uint8_t* esp, uint32_t payload_len, bool encrypt, uint8_t* tag) {
  IMB_JOB* job = IMB_GET_NEXT_JOB(hash_mgr_);
  job->cipher_mode = IMB_CIPHER_CBC;
  job->hash_alg = IMB_AUTH_HMAC_SHA_256;
  job->key_len_in_bytes = key_size_;
  job->enc_keys = enc_keys_;
  job->dec_keys = dec_keys_;
  job->src = esp;
  job->iv_len_in_bytes = kCbcIvLen;
  if (encrypt) {
    // The IV field is encrypted too (zero IV), then the MAC covers the result.
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->dst = esp + kEspHeaderLen;
    job->cipher_start_src_offset_in_bytes = kEspHeaderLen;
    job->msg_len_to_cipher_in_bytes = kCbcIvLen + payload_len;
    job->iv = kZeroIv;
  } else {
    job->cipher_direction = IMB_DIR_DECRYPT;
    job->chain_order = IMB_ORDER_HASH_CIPHER;
    job->dst = esp + kEspHeaderLen + kCbcIvLen;
    job->cipher_start_src_offset_in_bytes = kEspHeaderLen + kCbcIvLen;
    job->msg_len_to_cipher_in_bytes = payload_len;
    job->iv = esp + kEspHeaderLen;
  }
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = kEspHeaderLen + kCbcIvLen + payload_len;
  job->auth_tag_output = tag;
  job->auth_tag_output_len_in_bytes = kIcvLen;
  job->u.HMAC._hashed_auth_key_xor_ipad = ipad_;
  job->u.HMAC._hashed_auth_key_xor_opad = opad_;
  return run(hash_mgr_);
}

bool RawIpsecMb::chacha_job(uint8_t* esp, uint32_t payload_len, bool encrypt, uint8_t* tag) {
  uint8_t* payload = esp + kEspHeaderLen + kAeadIvLen;
  IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
  job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
  job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
  job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  job->enc_keys = chacha_key_;
  job->key_len_in_bytes = 32;
  job->src = payload;
  job->dst = payload;
  job->cipher_start_src_offset_in_bytes = 0;
  job->msg_len_to_cipher_in_bytes = payload_len;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = payload_len;
  job->iv = nonce_;
  job->iv_len_in_bytes = 12;
  job->u.CHACHA20_POLY1305.aad = esp;
  job->u.CHACHA20_POLY1305.aad_len_in_bytes = kEspHeaderLen;
  job->auth_tag_output = tag;
  job->auth_tag_output_len_in_bytes = kIcvLen;
  return run(mgr_);
}

bool RawIpsecMb::seal(uint8_t* esp, uint32_t payload_len) {
  uint8_t* iv = esp + kEspHeaderLen;
  switch (transform_) {
    case crypto::Transform::aes_gcm_128: {
      uint8_t* payload = iv + kAeadIvLen;
      nonce(iv);
      IMB_AES128_GCM_ENC(mgr_, &gcm_key_, &gcm_ctx_, payload, payload, payload_len, nonce_, esp,
                         kEspHeaderLen, payload + payload_len, kIcvLen);
      return true;
    }
    case crypto::Transform::aes_gcm_256: {
      uint8_t* payload = iv + kAeadIvLen;
      nonce(iv);
      IMB_AES256_GCM_ENC(mgr_, &gcm_key_, &gcm_ctx_, payload, payload, payload_len, nonce_, esp,
                         kEspHeaderLen, payload + payload_len, kIcvLen);
      return true;
    }
    case crypto::Transform::aes_cbc_128_hmac_sha256_128:
    case crypto::Transform::aes_cbc_256_hmac_sha256_128:
      if (cbc_mode_ == CbcMode::chained) {
        return chained_job(esp, payload_len, true, iv + kCbcIvLen + payload_len);
      }
      cbc(iv, kCbcIvLen + payload_len, kZeroIv, IMB_DIR_ENCRYPT);
      hmac(esp, kEspHeaderLen + kCbcIvLen + payload_len, iv + kCbcIvLen + payload_len);
      return true;
    case crypto::Transform::chacha20_poly1305:
      nonce(iv);
      return chacha_job(esp, payload_len, true, iv + kAeadIvLen + payload_len);
  }
  return false;
}

bool RawIpsecMb::open(uint8_t* esp, uint32_t payload_len) {
  uint8_t* iv = esp + kEspHeaderLen;
  alignas(16) uint8_t tag[kIcvLen];
  switch (transform_) {
    case crypto::Transform::aes_gcm_128: {
      uint8_t* payload = iv + kAeadIvLen;
      nonce(iv);
      IMB_AES128_GCM_DEC(mgr_, &gcm_key_, &gcm_ctx_, payload, payload, payload_len, nonce_, esp,
                         kEspHeaderLen, tag, kIcvLen);
      return CRYPTO_memcmp(tag, payload + payload_len, kIcvLen) == 0;
    }
    case crypto::Transform::aes_gcm_256: {
      uint8_t* payload = iv + kAeadIvLen;
      nonce(iv);
      IMB_AES256_GCM_DEC(mgr_, &gcm_key_, &gcm_ctx_, payload, payload, payload_len, nonce_, esp,
                         kEspHeaderLen, tag, kIcvLen);
      return CRYPTO_memcmp(tag, payload + payload_len, kIcvLen) == 0;
    }
    case crypto::Transform::aes_cbc_128_hmac_sha256_128:
    case crypto::Transform::aes_cbc_256_hmac_sha256_128:
      if (cbc_mode_ == CbcMode::chained) {
        return chained_job(esp, payload_len, false, tag) &&
               CRYPTO_memcmp(tag, iv + kCbcIvLen + payload_len, kIcvLen) == 0;
      }
      // Verify, then decrypt (encrypt-then-MAC).
      hmac(esp, kEspHeaderLen + kCbcIvLen + payload_len, tag);
      if (CRYPTO_memcmp(tag, iv + kCbcIvLen + payload_len, kIcvLen) != 0) {
        return false;
      }
      cbc(iv + kCbcIvLen, payload_len, iv, IMB_DIR_DECRYPT);
      return true;
    case crypto::Transform::chacha20_poly1305:
      nonce(iv);
      return chacha_job(esp, payload_len, false, tag) &&
             CRYPTO_memcmp(tag, iv + kAeadIvLen + payload_len, kIcvLen) == 0;
  }
  return false;
}

}  // namespace traverse::bench
