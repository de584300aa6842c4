// IANA IKEv2 transform IDs this folder implements, shared by its headers so
// callers can name them without the message codec. Constants only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace traverse::ike {

// Transform Type 1 - Encryption Algorithm Transform IDs.
inline constexpr uint16_t kEncrAesCbc = 12;
inline constexpr uint16_t kEncrAesGcm16 = 20;
inline constexpr uint16_t kEncrChacha20Poly1305 = 28;

// Transform Type 3 - Integrity Algorithm Transform IDs (RFC 4868).
inline constexpr uint16_t kIntegNone = 0;
inline constexpr uint16_t kAuthHmacSha2_256_128 = 12;
inline constexpr uint16_t kAuthHmacSha2_384_192 = 13;
inline constexpr uint16_t kAuthHmacSha2_512_256 = 14;

// Transform Type 4 - Key Exchange Method (Diffie-Hellman group) IDs.
inline constexpr uint16_t kGroupModp2048 = 14;
inline constexpr uint16_t kGroupModp3072 = 15;
inline constexpr uint16_t kGroupEcp256 = 19;
inline constexpr uint16_t kGroupEcp384 = 20;
inline constexpr uint16_t kGroupEcp521 = 21;
inline constexpr uint16_t kGroupCurve25519 = 31;

// The implicit salt that AEAD ciphers take from the key material (RFC 5282 7.1,
// RFC 7634 2): 4 octets after the cipher key.
inline constexpr std::size_t kAeadSaltSize = 4;

}  // namespace traverse::ike
