// AUTH payload data for signature authentication: RSA (method 1, RFC 7296),
// ECDSA with fixed curves and hashes (methods 9/10/11, RFC 4754) and Digital
// Signature (method 14, RFC 7427). The caller builds the signed octets
// (RFC 7296 2.15) and the payload around the data. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/ike/auth/certificate.hh"
#include "control/ike/auth/signature_algorithm.hh"
#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// IANA "IKEv2 Authentication Method".
namespace auth_method {
inline constexpr uint8_t rsa_sig = 1;
inline constexpr uint8_t psk = 2;
inline constexpr uint8_t ecdsa_256 = 9;
inline constexpr uint8_t ecdsa_384 = 10;
inline constexpr uint8_t ecdsa_521 = 11;
inline constexpr uint8_t digital_signature = 14;
}  // namespace auth_method

struct SignatureAuth {
  uint8_t method = 0;
  Bytes data;  // the AUTH payload's Authentication Data
};

struct SignOptions {
  // RSA keys under method 14 sign PKCS#1 v1.5 by default, as strongSwan
  // 5.9.8 does (charon.rsa_pss = no) and as every peer verifies; true signs
  // RSASSA-PSS (MGF1 with the same hash, salt as long as the hash).
  bool rsa_pss = false;
};

struct VerifyOptions {
  // SHA-1 under method 14 is refused unless set (RFC 8247 2.4: SHA-1 MUST NOT
  // be used with digital signatures). Method 1 is SHA-1 by definition and
  // stays accepted for peers without RFC 7427.
  bool allow_sha1_digital_signature = false;
};

// Signs `signed_octets`. peer_hash_algorithms: the values of the peer's
// SIGNATURE_HASH_ALGORITHMS notify, empty when it sent none. With a common
// SHA-2 hash the result is method 14 with the strongest one; otherwise
// method 1 (RSA, SHA-1) or 9/10/11 (ECDSA P-256/P-384/P-521).
Expected<SignatureAuth, std::string> sign_auth(const PrivateKey& key, ByteView signed_octets,
                                               const std::vector<uint16_t>& peer_hash_algorithms,
                                               const SignOptions& options = {});

// Checks the peer's AUTH data against the public key of its (already
// verified) certificate. Methods 1, 9, 10, 11 and 14; anything else, or an
// algorithm that does not fit the key, is refused with a reason.
Expected<void, std::string> verify_auth(const Certificate& signer, uint8_t method,
                                        ByteView auth_data, ByteView signed_octets,
                                        const VerifyOptions& options = {});

// What we announce in SIGNATURE_HASH_ALGORITHMS: SHA2-256, SHA2-384, SHA2-512,
// each as a 2-octet value.
Bytes signature_hash_algorithms_notify_data();

// The peer's SIGNATURE_HASH_ALGORITHMS notify data as a list of values;
// an odd length is malformed.
Expected<std::vector<uint16_t>, std::string> parse_signature_hash_algorithms(ByteView data);

}  // namespace traverse::ike
