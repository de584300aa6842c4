// The ESP transforms Traverse supports and their fixed sizes (RFC 4106, 3602,
// 4868, 7634). Pure data, usable from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace traverse::crypto {

enum class Transform : uint8_t {
  aes_gcm_128,                  // RFC 4106, 16-byte ICV
  aes_gcm_256,                  // RFC 4106, 16-byte ICV
  aes_cbc_128_hmac_sha256_128,  // RFC 3602 + RFC 4868
  aes_cbc_256_hmac_sha256_128,  // RFC 3602 + RFC 4868
  chacha20_poly1305,            // RFC 7634
};

inline constexpr Transform kAllTransforms[] = {
    Transform::aes_gcm_128,
    Transform::aes_gcm_256,
    Transform::aes_cbc_128_hmac_sha256_128,
    Transform::aes_cbc_256_hmac_sha256_128,
    Transform::chacha20_poly1305,
};

// Which implementation runs the cipher: chosen per SA.
enum class Backend : uint8_t {
  ipsec_mb,  // intel-ipsec-mb direct/job API: the fast one
  openssl,   // OpenSSL 3 EVP: the reference
};

inline constexpr Backend kAllBackends[] = {Backend::ipsec_mb, Backend::openssl};

struct TransformInfo {
  std::string_view name;
  uint8_t cipher_key_len;  // bytes
  uint8_t salt_len;        // implicit nonce part carried in the key material (AEAD)
  uint8_t auth_key_len;    // HMAC key length (RFC 4868: the hash output size)
  uint8_t iv_len;          // explicit IV carried in every ESP packet
  uint8_t icv_len;         // integrity check value appended to every ESP packet
  uint8_t block_size;      // the ciphertext length must be a multiple of this
  bool aead;
};

constexpr TransformInfo transform_info(Transform t) {
  switch (t) {
    case Transform::aes_gcm_128:
      return {"aes128gcm16", 16, 4, 0, 8, 16, 4, true};
    case Transform::aes_gcm_256:
      return {"aes256gcm16", 32, 4, 0, 8, 16, 4, true};
    case Transform::aes_cbc_128_hmac_sha256_128:
      return {"aes128-sha256", 16, 0, 32, 16, 16, 16, false};
    case Transform::aes_cbc_256_hmac_sha256_128:
      return {"aes256-sha256", 32, 0, 32, 16, 16, 16, false};
    case Transform::chacha20_poly1305:
      return {"chacha20poly1305", 32, 4, 0, 8, 16, 4, true};
  }
  return {"invalid", 0, 0, 0, 0, 0, 1, false};
}

// The transform whose transform_info().name is `name` (config files, tools).
constexpr bool transform_by_name(std::string_view name, Transform* out) {
  for (Transform t : kAllTransforms) {
    if (transform_info(t).name == name) {
      *out = t;
      return true;
    }
  }
  return false;
}

constexpr bool backend_by_name(std::string_view name, Backend* out) {
  for (Backend b : kAllBackends) {
    if ((b == Backend::ipsec_mb ? "ipsec-mb" : "openssl") == name) {
      *out = b;
      return true;
    }
  }
  return false;
}

constexpr std::string_view backend_name(Backend b) {
  return b == Backend::ipsec_mb ? "ipsec-mb" : "openssl";
}

}  // namespace traverse::crypto
