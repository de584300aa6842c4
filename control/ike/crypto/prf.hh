// IKEv2 pseudo-random functions (RFC 7296 2.13): PRF_HMAC_SHA2_256/384/512
// (RFC 4868) and prf+, on OpenSSL 3 EVP_MAC. A Prf is immutable after create():
// its const members may be called from several threads at once.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "control/ike/bytes.hh"

namespace traverse::ike {

// IANA "Transform Type 2 - Pseudorandom Function Transform IDs".
inline constexpr uint16_t kPrfHmacSha2_256 = 5;
inline constexpr uint16_t kPrfHmacSha2_384 = 6;
inline constexpr uint16_t kPrfHmacSha2_512 = 7;

class Prf {
 public:
  // nullopt for a PRF we do not implement (or if OpenSSL lacks HMAC).
  static std::optional<Prf> create(uint16_t prf_id);

  Prf(const Prf& other);
  Prf& operator=(const Prf& other);
  Prf(Prf&& other) noexcept;
  Prf& operator=(Prf&& other) noexcept;
  ~Prf();

  uint16_t id() const { return id_; }
  // The preferred key length too (RFC 7296 2.14: SK_d, SK_pi, SK_pr).
  std::size_t output_size() const { return output_size_; }

  // prf(key, data). Empty only if OpenSSL fails internally.
  Secret compute(ByteView key, ByteView data) const;
  // prf+(key, seed) truncated to length (RFC 7296 2.13). Empty when length is
  // zero or beyond 255 blocks (the counter is one octet), or on internal failure.
  Secret plus(ByteView key, ByteView seed, std::size_t length) const;

 private:
  Prf(uint16_t id, const char* digest, std::size_t output_size, EVP_MAC* mac);

  uint16_t id_ = 0;
  const char* digest_ = nullptr;  // a string literal: OpenSSL digest name
  std::size_t output_size_ = 0;
  EVP_MAC* mac_ = nullptr;  // fetched once; each call makes its own context
};

}  // namespace traverse::ike
