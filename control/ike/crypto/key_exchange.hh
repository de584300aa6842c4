// IKEv2 Diffie-Hellman key exchange (the KE payload's data and g^ir): MODP
// groups 14/15 (RFC 3526), ECP groups 19/20/21 (RFC 5903), Curve25519 (RFC
// 8031). A KeyExchange is immutable once made; its const members are safe to
// call from several threads. The private key lives in OpenSSL, wiped on free.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "control/ike/bytes.hh"
#include "control/ike/crypto/transform_ids.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

class KeyExchange {
 public:
  static bool supported(uint16_t group);
  // A fresh key pair; nullopt for an unsupported group or an OpenSSL failure.
  static std::optional<KeyExchange> generate(uint16_t group);
  // A key pair from a known private value (big-endian integer for MODP and ECP,
  // at most the prime's/field's length; 32 raw octets for Curve25519), for
  // known-answer tests. nullopt if the value is out of range.
  static std::optional<KeyExchange> from_private(uint16_t group, ByteView private_key);

  KeyExchange(const KeyExchange&) = delete;
  KeyExchange& operator=(const KeyExchange&) = delete;
  KeyExchange(KeyExchange&& other) noexcept;
  KeyExchange& operator=(KeyExchange&& other) noexcept;
  ~KeyExchange();

  uint16_t group() const { return group_; }
  // The octets a peer receives in KE: MODP y left-padded to the prime's length;
  // ECP x || y each padded to the field size; Curve25519 the 32-octet u.
  Bytes public_value() const;
  // The KE octets a public value of this group must have.
  std::size_t public_value_size() const;
  // g^ir from the peer's KE data, after validating it: exact length, MODP
  // 1 < y < p-1, ECP point on the curve, X25519 result not all zero. MODP
  // results are padded to the prime's length; ECP results are x only.
  Expected<Secret, std::string> shared_secret(ByteView peer_public) const;

 private:
  KeyExchange(uint16_t group, EVP_PKEY* key) : group_(group), key_(key) {}

  uint16_t group_ = 0;
  EVP_PKEY* key_ = nullptr;
};

}  // namespace traverse::ike
