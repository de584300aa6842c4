// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but are the only
// SHA-256 calls that start from a stored state without allocating.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "bench/raw_openssl.hh"

#include <openssl/crypto.h>

#include <cstring>

namespace traverse::bench {
namespace {

constexpr uint32_t kEspHeaderLen = 8;
constexpr uint32_t kCbcIvLen = 16;
constexpr uint32_t kAeadIvLen = 8;
constexpr int kIcvLen = 16;
constexpr uint8_t kZeroIv[16] = {};

const EVP_CIPHER* cipher_for(crypto::Transform t) {
  switch (t) {
    case crypto::Transform::aes_gcm_128:
      return EVP_aes_128_gcm();
    case crypto::Transform::aes_gcm_256:
      return EVP_aes_256_gcm();
    case crypto::Transform::aes_cbc_128_hmac_sha256_128:
      return EVP_aes_128_cbc();
    case crypto::Transform::aes_cbc_256_hmac_sha256_128:
      return EVP_aes_256_cbc();
    case crypto::Transform::chacha20_poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

}  // namespace

RawOpenssl::~RawOpenssl() {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
  OPENSSL_cleanse(&inner_, sizeof inner_);
  OPENSSL_cleanse(&outer_, sizeof outer_);
}

std::unique_ptr<RawOpenssl> RawOpenssl::create(crypto::Transform transform, const RawKeys& keys) {
  std::unique_ptr<RawOpenssl> raw(new RawOpenssl(transform));
  const crypto::TransformInfo info = crypto::transform_info(transform);
  raw->aead_ = info.aead;
  raw->enc_ = EVP_CIPHER_CTX_new();
  raw->dec_ = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher = cipher_for(transform);
  if (raw->enc_ == nullptr || raw->dec_ == nullptr ||
      EVP_EncryptInit_ex(raw->enc_, cipher, nullptr, keys.cipher_key, nullptr) != 1 ||
      EVP_DecryptInit_ex(raw->dec_, cipher, nullptr, keys.cipher_key, nullptr) != 1) {
    return nullptr;
  }
  if (info.aead) {
    std::memcpy(raw->nonce_, keys.salt, 4);
    return raw;
  }
  EVP_CIPHER_CTX_set_padding(raw->enc_, 0);
  EVP_CIPHER_CTX_set_padding(raw->dec_, 0);
  // The 32-byte key fits one 64-byte block.
  uint8_t pad[64];
  std::memset(pad, 0x36, sizeof pad);
  for (uint32_t i = 0; i < info.auth_key_len; ++i) {
    pad[i] ^= keys.auth_key[i];
  }
  bool ok = SHA256_Init(&raw->inner_) == 1 && SHA256_Update(&raw->inner_, pad, sizeof pad) == 1;
  std::memset(pad, 0x5c, sizeof pad);
  for (uint32_t i = 0; i < info.auth_key_len; ++i) {
    pad[i] ^= keys.auth_key[i];
  }
  ok = ok && SHA256_Init(&raw->outer_) == 1 && SHA256_Update(&raw->outer_, pad, sizeof pad) == 1;
  OPENSSL_cleanse(pad, sizeof pad);
  if (!ok) {
    return nullptr;
  }
  return raw;
}

void RawOpenssl::hmac(const uint8_t* data, uint32_t len, uint8_t* tag) const {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = inner_;
  SHA256_Update(&ctx, data, len);
  SHA256_Final(digest, &ctx);
  ctx = outer_;
  SHA256_Update(&ctx, digest, sizeof digest);
  SHA256_Final(digest, &ctx);
  std::memcpy(tag, digest, kIcvLen);
}

bool RawOpenssl::seal(uint8_t* esp, uint32_t payload_len) {
  uint8_t* iv = esp + kEspHeaderLen;
  int n = 0;
  if (aead_) {
    uint8_t* payload = iv + kAeadIvLen;
    std::memcpy(nonce_ + 4, iv, kAeadIvLen);
    return EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, nonce_) == 1 &&
           EVP_EncryptUpdate(enc_, nullptr, &n, esp, kEspHeaderLen) == 1 &&
           EVP_EncryptUpdate(enc_, payload, &n, payload, static_cast<int>(payload_len)) == 1 &&
           EVP_EncryptFinal_ex(enc_, payload + n, &n) == 1 &&
           EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_AEAD_GET_TAG, kIcvLen, payload + payload_len) == 1;
  }
  const uint32_t len = kCbcIvLen + payload_len;
  if (EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, kZeroIv) != 1 ||
      EVP_EncryptUpdate(enc_, iv, &n, iv, static_cast<int>(len)) != 1) {
    return false;
  }
  hmac(esp, kEspHeaderLen + len, iv + len);
  return true;
}

bool RawOpenssl::open(uint8_t* esp, uint32_t payload_len) {
  uint8_t* iv = esp + kEspHeaderLen;
  int n = 0;
  if (aead_) {
    uint8_t* payload = iv + kAeadIvLen;
    std::memcpy(nonce_ + 4, iv, kAeadIvLen);
    return EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, nonce_) == 1 &&
           EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_AEAD_SET_TAG, kIcvLen, payload + payload_len) == 1 &&
           EVP_DecryptUpdate(dec_, nullptr, &n, esp, kEspHeaderLen) == 1 &&
           EVP_DecryptUpdate(dec_, payload, &n, payload, static_cast<int>(payload_len)) == 1 &&
           EVP_DecryptFinal_ex(dec_, payload + n, &n) == 1;
  }
  uint8_t* payload = iv + kCbcIvLen;
  uint8_t tag[kIcvLen];
  hmac(esp, kEspHeaderLen + kCbcIvLen + payload_len, tag);
  return CRYPTO_memcmp(tag, payload + payload_len, kIcvLen) == 0 &&
         EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, iv) == 1 &&
         EVP_DecryptUpdate(dec_, payload, &n, payload, static_cast<int>(payload_len)) == 1;
}

}  // namespace traverse::bench
