// Raw OpenSSL 3 baseline (see raw_cipher.hh): EVP with the key schedule set up
// once, per packet only the IV and the data (GCM and ChaCha20-Poly1305 through
// the AEAD interface, AES-CBC through EVP), and HMAC-SHA-256 from the SHA-256
// states after key ^ ipad and key ^ opad, computed once (EVP_MAC would rehash
// the key every packet).
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdint>
#include <memory>

#include "bench/raw_cipher.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::bench {

class RawOpenssl {
 public:
  // nullptr when OpenSSL refuses the keys or the algorithm.
  static std::unique_ptr<RawOpenssl> create(crypto::Transform transform, const RawKeys& keys);
  ~RawOpenssl();
  RawOpenssl(const RawOpenssl&) = delete;
  RawOpenssl& operator=(const RawOpenssl&) = delete;

  // false when OpenSSL reports an error.
  bool seal(uint8_t* esp, uint32_t payload_len);
  // false when the ICV does not verify.
  bool open(uint8_t* esp, uint32_t payload_len);

 private:
  explicit RawOpenssl(crypto::Transform transform) : transform_(transform) {}
  void hmac(const uint8_t* data, uint32_t len, uint8_t* tag) const;

  crypto::Transform transform_;
  bool aead_ = true;
  EVP_CIPHER_CTX* enc_ = nullptr;
  EVP_CIPHER_CTX* dec_ = nullptr;
  SHA256_CTX inner_{};
  SHA256_CTX outer_{};
  uint8_t nonce_[12] = {};
};

}  // namespace traverse::bench
