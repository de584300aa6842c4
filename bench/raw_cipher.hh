// The cipher work of one ESP packet done straight through a crypto library,
// with no ESP framing and no Traverse driver in between: the floor the ESP
// benchmarks are compared with. `esp` points at the ESP header (SPI, sequence
// number), then the IV, `payload_len` bytes of payload (inner + padding +
// trailer) and the 16-byte ICV. What is encrypted and authenticated is exactly
// what esp_encrypt.cc and esp_decrypt.cc do (32-bit sequence numbers):
//   AEAD: nonce = salt || IV field, AAD = the 8-byte ESP header, payload.
//   CBC:  encrypt IV field + payload with a zero IV; HMAC over header..payload.
// Single-threaded; benchmarks only.
#pragma once

#include <cstdint>

namespace traverse::bench {

// Built from the SA's key material.
struct RawKeys {
  const uint8_t* cipher_key;
  const uint8_t* salt;      // AEAD: 4 bytes
  const uint8_t* auth_key;  // CBC: 32 bytes
};

// Constant-time comparison of two ICVs.
inline bool icv_equal(const uint8_t* a, const uint8_t* b, uint32_t len) {
  uint8_t diff = 0;
  for (uint32_t i = 0; i < len; ++i) {
    diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace traverse::bench
