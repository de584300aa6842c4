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

// ICVs are compared with OpenSSL's CRYPTO_memcmp, as the driver does. (A
// 16-byte vector compare was ~7 ns slower here: it loads the received ICV
// right after the benchmark's restore memcpy stored it, and the wider load
// misses store-to-load forwarding.)

}  // namespace traverse::bench
