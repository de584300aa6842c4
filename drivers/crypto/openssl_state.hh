// Internal: the OpenSSL half of a CipherSession, the reference backend. Cipher
// contexts are keyed once, at create(); a packet only resets the IV. One
// thread at a time.
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdint>
#include <memory>
#include <string>

#include "drivers/crypto/cipher_session.hh"

namespace traverse::crypto::internal {

struct OpensslState {
  static std::unique_ptr<OpensslState> create(Transform transform, const SessionKeys& keys,
                                              std::string* error);
  OpensslState() = default;
  ~OpensslState();  // frees the contexts (OpenSSL wipes their keys) and wipes the rest
  OpensslState(const OpensslState&) = delete;
  OpensslState& operator=(const OpensslState&) = delete;

  void aead_seal(const uint8_t* iv, const uint8_t* aad, uint32_t aad_len, uint8_t* data,
                 uint32_t len, uint8_t* tag);
  bool aead_open(const uint8_t* iv, const uint8_t* aad, uint32_t aad_len, uint8_t* data,
                 uint32_t len, const uint8_t* tag);
  void cbc_encrypt(const uint8_t* iv, uint8_t* data, uint32_t len);
  void cbc_decrypt(const uint8_t* iv, uint8_t* data, uint32_t len);
  void hmac(const uint8_t* data, uint32_t len, uint8_t* out, uint32_t out_len);

  // One context per direction: CBC's decryption key schedule differs from its
  // encryption one, and a context keyed once cannot switch direction.
  EVP_CIPHER_CTX* encrypt_ctx = nullptr;
  EVP_CIPHER_CTX* decrypt_ctx = nullptr;
  // SHA-256 after absorbing key ^ ipad and key ^ opad. OpenSSL 3.0's EVP_MAC
  // and EVP_MD re-initialisation allocate on every message; copying these
  // plain structs does not.
  SHA256_CTX hmac_inner{};
  SHA256_CTX hmac_outer{};
  uint8_t salt[4] = {};
};

}  // namespace traverse::crypto::internal
