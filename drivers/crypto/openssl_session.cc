// The OpenSSL backend: EVP ciphers keyed once per session, HMAC-SHA-256 from
// precomputed SHA-256 states. Tags are checked by EVP_CipherFinal_ex, which
// compares them with CRYPTO_memcmp.
//
// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but are its only
// SHA-256 entry points that neither allocate nor rehash the key per message.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <climits>
#include <cstring>

#include "drivers/crypto/openssl_state.hh"

namespace traverse::crypto::internal {
namespace {

using State = OpensslState;

constexpr int kTagLen = 16;
constexpr int kSha256BlockLen = 64;

const EVP_CIPHER* evp_cipher(Transform transform) {
  switch (transform) {
    case Transform::aes_gcm_128:
      return EVP_aes_128_gcm();
    case Transform::aes_gcm_256:
      return EVP_aes_256_gcm();
    case Transform::aes_cbc_128_hmac_sha256_128:
      return EVP_aes_128_cbc();
    case Transform::aes_cbc_256_hmac_sha256_128:
      return EVP_aes_256_cbc();
    case Transform::chacha20_poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

std::string openssl_error(const char* what, Transform transform) {
  char reason[256] = "no OpenSSL error queued";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    ERR_error_string_n(code, reason, sizeof reason);
  }
  ERR_clear_error();
  return std::string("openssl: ") + what + " for " + std::string(transform_info(transform).name) +
         " failed: " + reason;
}

// Keys the context once; padding off because ESP pads for itself (RFC 4303
// section 2.4) and lengths are whole blocks.
EVP_CIPHER_CTX* keyed_context(const EVP_CIPHER* cipher, const uint8_t* key, int encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr || EVP_CipherInit_ex(ctx, cipher, nullptr, key, nullptr, encrypt) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// HMAC (RFC 2104): keys longer than a block are hashed first.
bool setup_hmac(std::span<const uint8_t> key, State* s) {
  uint8_t block[kSha256BlockLen] = {};
  if (key.size() > kSha256BlockLen) {
    SHA256(key.data(), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[kSha256BlockLen];
  for (int i = 0; i < kSha256BlockLen; ++i) {
    pad[i] = block[i] ^ 0x36;
  }
  bool ok = SHA256_Init(&s->hmac_inner) == 1 && SHA256_Update(&s->hmac_inner, pad, sizeof pad) == 1;
  for (int i = 0; i < kSha256BlockLen; ++i) {
    pad[i] = block[i] ^ 0x5c;
  }
  ok =
      ok && SHA256_Init(&s->hmac_outer) == 1 && SHA256_Update(&s->hmac_outer, pad, sizeof pad) == 1;
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  return ok;
}

void make_nonce(const uint8_t* salt, const uint8_t* iv, uint8_t* nonce) {
  std::memcpy(nonce, salt, 4);
  std::memcpy(nonce + 4, iv, 8);
}

// Runs salt||iv, AAD and data through an AEAD context; the caller finishes.
bool aead_update(EVP_CIPHER_CTX* ctx, const uint8_t* salt, const uint8_t* iv, const uint8_t* aad,
                 uint32_t aad_len, uint8_t* data, uint32_t len) {
  if (aad_len > INT_MAX || len > INT_MAX) {
    return false;
  }
  uint8_t nonce[12];
  make_nonce(salt, iv, nonce);
  int out_len = 0;
  return EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce, -1) == 1 &&
         (aad_len == 0 ||
          EVP_CipherUpdate(ctx, nullptr, &out_len, aad, static_cast<int>(aad_len)) == 1) &&
         (len == 0 || EVP_CipherUpdate(ctx, data, &out_len, data, static_cast<int>(len)) == 1);
}

bool cbc(EVP_CIPHER_CTX* ctx, const uint8_t* iv, uint8_t* data, uint32_t len) {
  int out_len = 0;
  return len <= INT_MAX && EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, -1) == 1 &&
         EVP_CipherUpdate(ctx, data, &out_len, data, static_cast<int>(len)) == 1 &&
         out_len == static_cast<int>(len);
}

}  // namespace

std::unique_ptr<State> State::create(Transform transform, const SessionKeys& keys,
                                     std::string* error) {
  auto s = std::make_unique<State>();
  const EVP_CIPHER* cipher = evp_cipher(transform);
  s->encrypt_ctx = keyed_context(cipher, keys.cipher_key.data(), 1);
  s->decrypt_ctx = keyed_context(cipher, keys.cipher_key.data(), 0);
  if (s->encrypt_ctx == nullptr || s->decrypt_ctx == nullptr) {
    *error = openssl_error("EVP_CipherInit_ex", transform);
    return nullptr;
  }
  if (!keys.salt.empty()) {
    std::memcpy(s->salt, keys.salt.data(), sizeof s->salt);
  }
  if (!keys.auth_key.empty() && !setup_hmac(keys.auth_key, s.get())) {
    *error = openssl_error("HMAC-SHA-256 key setup", transform);
    return nullptr;
  }
  return s;
}

State::~OpensslState() {
  EVP_CIPHER_CTX_free(encrypt_ctx);
  EVP_CIPHER_CTX_free(decrypt_ctx);
  OPENSSL_cleanse(&hmac_inner, sizeof hmac_inner);
  OPENSSL_cleanse(&hmac_outer, sizeof hmac_outer);
  OPENSSL_cleanse(salt, sizeof salt);
}

void State::aead_seal(const uint8_t* iv, const uint8_t* aad, uint32_t aad_len, uint8_t* data,
                      uint32_t len, uint8_t* tag) {
  uint8_t unused[16];
  int out_len = 0;
  if (!aead_update(encrypt_ctx, salt, iv, aad, aad_len, data, len) ||
      EVP_CipherFinal_ex(encrypt_ctx, unused, &out_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(encrypt_ctx, EVP_CTRL_AEAD_GET_TAG, kTagLen, tag) != 1) {
    // Never seen with a keyed context; fail closed rather than send plaintext.
    ERR_clear_error();
    if (len != 0) {
      std::memset(data, 0, len);
    }
    std::memset(tag, 0, kTagLen);
  }
}

bool State::aead_open(const uint8_t* iv, const uint8_t* aad, uint32_t aad_len, uint8_t* data,
                      uint32_t len, const uint8_t* tag) {
  uint8_t unused[16];
  int out_len = 0;
  // OpenSSL copies the expected tag; the cast only satisfies the ctrl signature.
  const bool ok = aead_update(decrypt_ctx, salt, iv, aad, aad_len, data, len) &&
                  EVP_CIPHER_CTX_ctrl(decrypt_ctx, EVP_CTRL_AEAD_SET_TAG, kTagLen,
                                      const_cast<uint8_t*>(tag)) == 1 &&
                  EVP_CipherFinal_ex(decrypt_ctx, unused, &out_len) == 1;
  if (!ok) {
    ERR_clear_error();  // a forged packet is not an error to keep queued
  }
  return ok;
}

void State::cbc_encrypt(const uint8_t* iv, uint8_t* data, uint32_t len) {
  if (!cbc(encrypt_ctx, iv, data, len)) {
    ERR_clear_error();
    std::memset(data, 0, len);  // never seen; fail closed
  }
}

void State::cbc_decrypt(const uint8_t* iv, uint8_t* data, uint32_t len) {
  if (!cbc(decrypt_ctx, iv, data, len)) {
    ERR_clear_error();
    std::memset(data, 0, len);
  }
}

void State::hmac(const uint8_t* data, uint32_t len, uint8_t* out, uint32_t out_len) {
  uint8_t inner[SHA256_DIGEST_LENGTH];
  uint8_t mac[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = hmac_inner;
  SHA256_Update(&ctx, data, len);
  SHA256_Final(inner, &ctx);
  ctx = hmac_outer;
  SHA256_Update(&ctx, inner, sizeof inner);
  SHA256_Final(mac, &ctx);
  std::memcpy(out, mac, out_len);
}

}  // namespace traverse::crypto::internal
